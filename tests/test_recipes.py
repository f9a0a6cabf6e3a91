"""Every recipe script runs: ``python recipes/<name>.py --smoke`` (in this process, to share TF's import).

The ImageNet-scale recipes in :data:`SETTINGS_ONLY` train through exactly the code the other smoke
runs walk (same trainer, same kinds of schedule, optimizer and policy) and differ only in their
settings and model. By default they are checked here (``check_recipe``, and their smoke command
line parsed and resolved with ``--print-recipe``) while tests/test_explain.py builds each one's
model and optimizer and checks its settings against the paper; ``KERASCV_ALL_RECIPE_SMOKES=1``
trains their smoke runs too (about 6 CPU-minutes more).
"""

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
SETTINGS_ONLY = {
    "bn_inception_imagenet", "densenet121_imagenet", "fractalnet_svhn", "inception_v3_imagenet",
    "inception_v4_imagenet", "mobilenet_v2_imagenet", "resnet50_imagenet", "resnet_cifar100",
    "resnext_imagenet", "se_resnet50_imagenet", "senet_imagenet", "squeezenet_imagenet",
    "vgg16_imagenet", "xception_imagenet", "zfnet_imagenet",
}


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
    name = os.path.basename(path)[:-3]
    if name in SETTINGS_ONLY and not os.environ.get("KERASCV_ALL_RECIPE_SMOKES"):
        assert _run_main(path, ["--smoke", "--print-recipe"]) == 0
        return
    assert _run_main(path, ["--smoke"]) == 0
    text = open(path).read()
    if re.search(r"main\(RECIPES?[,)]", text) and "search=" not in text:  # a trainer recipe: a run folder
        runs = glob.glob(os.path.join("runs", "smoke", "*", "metrics.json"))
        assert len(runs) == 1, runs
        folder = os.path.dirname(runs[0])
        resolved = Recipe.from_json(os.path.join(folder, "recipe.json"))
        # One epoch, or one per phase when the recipe fine-tunes (frozen, then unfrozen).
        epochs = 1 + (resolved.freeze_epochs > 0)
        assert resolved.model == recipes[0].model and resolved.epochs == epochs
        metrics = json.loads(open(runs[0]).read())
        assert metrics["epochs_completed"] == epochs and os.path.isfile(os.path.join(folder, "model.keras"))
