"""Every recipe script runs: ``python recipes/<name>.py --smoke`` (in this process, to share TF's import)."""

from __future__ import annotations

import glob
import json
import os
import re
import runpy
import sys

import pytest

from kerascv_course.training.checks import check_recipe
from kerascv_course.training.recipe import Recipe

ROOT = os.path.join(os.path.dirname(__file__), "..")
RECIPES = sorted(glob.glob(os.path.join(ROOT, "recipes", "*.py")))


def _run_main(path: str, argv: list[str]) -> int:
    old = sys.argv
    sys.argv = [path, *argv]
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as exit_:
        return int(exit_.code or 0)
    finally:
        sys.argv = old
    return 0


def test_there_are_recipes():
    names = {os.path.basename(p) for p in RECIPES}
    assert {"lenet5_mnist.py", "alexnet_imagenet.py", "resnet_cifar10.py", "stl10_cifar_tutorial.py",
            "fractalnet_svhn.py", "inception_v3_imagenet.py", "mobilenet_v2_imagenet.py",
            "resnet_cifar100.py"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("path", RECIPES, ids=[os.path.basename(p)[:-3] for p in RECIPES])
def test_recipe_smoke_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = runpy.run_path(path, run_name="recipe_under_test")  # data only: nothing runs on import
    recipes = [module["RECIPE"]] if "RECIPE" in module else list(module.get("RECIPES", {}).values())
    for recipe in recipes:
        assert isinstance(recipe, Recipe)
        check_recipe(recipe)
    assert _run_main(path, ["--smoke"]) == 0
    text = open(path).read()
    if re.search(r"main\(RECIPES?[,)]", text) and "search=" not in text:  # a trainer recipe: a run folder
        runs = glob.glob(os.path.join("runs", "smoke", "*", "metrics.json"))
        assert len(runs) == 1, runs
        folder = os.path.dirname(runs[0])
        resolved = Recipe.from_json(os.path.join(folder, "recipe.json"))
        assert resolved.model == recipes[0].model and resolved.epochs == 1
        metrics = json.loads(open(runs[0]).read())
        assert metrics["epochs_completed"] == 1 and os.path.isfile(os.path.join(folder, "model.keras"))
