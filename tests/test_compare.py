"""``kerascv-course compare``: published accuracies in the registry, the table's costs equal
``summary``'s, the files written, the user's runs added."""

from __future__ import annotations

import csv
import json
import os

from PIL import Image

from kerascv_course.cli import main
from kerascv_course.models import get_model, list_models, model_info
from kerascv_course.models.published import PUBLISHED_IMAGENET
from kerascv_course.training.recipe import Recipe
from kerascv_course.viz.layers import layer_table


def test_published_accuracies_name_registered_models_and_cite_a_source():
    names = set(list_models("classification"))
    assert set(PUBLISHED_IMAGENET) <= names
    for name, entry in PUBLISHED_IMAGENET.items():
        top1, top5 = entry["top1"], entry["top5"]
        assert entry["source"] and (top1 is not None or top5 is not None), name
        assert all(v is None or 50 < v < 100 for v in (top1, top5)), name
        assert top1 is None or top5 is None or top5 > top1, name
    # As keras.io/api/applications lists them, and as Krizhevsky et al. (2012, Table 2) give
    # AlexNet's one-CNN error (40.7 % top-1, 18.2 % top-5).
    assert (model_info("vgg16").imagenet["top1"], model_info("vgg16").imagenet["top5"]) == (71.3, 90.1)
    assert (model_info("alexnet").imagenet["top1"], model_info("alexnet").imagenet["top5"]) == (59.3, 81.8)
    assert model_info("lenet5").imagenet is None


def test_compare_table_costs_equal_summary_and_runs_are_added(tmp_path):
    run = str(tmp_path / "mine")  # a finished run folder, as train leaves it
    os.makedirs(run)
    get_model("mlp", input_shape=(16, 16, 1), hidden_units=(8,)).save(os.path.join(run, "model.keras"))
    with open(os.path.join(run, "recipe.json"), "w") as fh:
        fh.write(Recipe(model="mlp", dataset="digits").to_json())
    with open(os.path.join(run, "metrics.json"), "w") as fh:
        json.dump({"accuracy": 0.625, "top5_accuracy": 0.875}, fh)
    out = tmp_path / "cmp"
    assert main(["compare", "--models", "squeezenet1_0", "--image-size", "32", "--repeats", "1",
                 "--batch-size", "2", "--runs", run, "--output", str(out)]) == 0
    with open(out / "compare.csv") as fh:
        rows = {r["name"]: r for r in csv.DictReader(fh)}
    assert list(rows) == ["squeezenet1_0", "mine"]
    model = get_model("squeezenet1_0", input_shape=(32, 32, 3))
    table = layer_table(model)  # what `kerascv-course summary` totals
    for name in rows:
        assert float(rows[name]["latency_ms"]) > 0 and float(rows[name]["throughput"]) > 0
    assert int(rows["squeezenet1_0"]["params"]) == sum(r.params for r in table) == model.count_params()
    assert int(rows["squeezenet1_0"]["macs"]) == sum(r.macs for r in table) > 0
    assert float(rows["squeezenet1_0"]["top1"]) == 57.5
    assert rows["mine"]["kind"] == "run" and rows["mine"]["dataset"] == "digits"
    assert (float(rows["mine"]["top1"]), float(rows["mine"]["top5"])) == (62.5, 87.5)
    assert int(rows["mine"]["macs"]) == 256 * 8 + 8 * 10
    assert "| `squeezenet1_0` |" in (out / "compare.md").read_text()
    assert Image.open(out / "compare.png").size[0] > 800


def test_compare_refuses_bad_arguments_before_building(tmp_path, capsys):
    assert main(["compare", "--models", "no_such_net*", "--output", str(tmp_path)]) == 2
    assert main(["compare", "--models", "unet"]) == 2
    assert "segmentation" in capsys.readouterr().err
    assert main(["compare", "--models", "alexnet", "--image-size", "32"]) == 2
    assert "--image-size 67" in capsys.readouterr().err
    assert main(["compare", "--models", "lenet5", "--runs", str(tmp_path / "nothing")]) == 2
