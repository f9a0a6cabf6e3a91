"""``--explain --json`` of the recipes against the papers' settings, written here from the papers.

Nothing below is read back from the recipe files: batch sizes, lengths, learning rates at chosen
epochs, auxiliary weights and the number of weighted layers (the decayed kernels) are the papers'
own figures, with the section they come from. The explanation is produced by the recipe scripts'
``main`` (in this process, sharing TensorFlow's import); recipes whose model is large are
explained without building it (``explain(build=False)``: the same report less the model facts).
"""

from __future__ import annotations

import contextlib
import glob
import io
import json
import math
import os
import runpy
import sys

import pytest

from kerascv_course.training.explain import explain, format_explanation
from kerascv_course.training.recipe import Recipe

ROOT = os.path.join(os.path.dirname(__file__), "..")


def _path(script: str) -> str:
    return os.path.join(ROOT, "recipes", script)


def recipe_of(script: str, variant: str | None = None) -> Recipe:
    module = runpy.run_path(_path(script), run_name="recipe_data")
    return module["RECIPES"][variant] if variant else module["RECIPE"]


def run_script(script: str, *argv: str) -> tuple[int, str]:
    old, out = sys.argv, io.StringIO()
    sys.argv = [_path(script), *argv]
    code = 0
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(_path(script), run_name="__main__")
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    finally:
        sys.argv = old
    return code, out.getvalue()


def explain_json(script: str, variant: str | None = None) -> dict:
    code, out = run_script(script, "--explain", "--json", *(["--variant", variant] if variant else []))
    assert code == 0, out
    return json.loads(out)


def lr_at(report: dict, epoch: int) -> float:
    return report["schedule"]["lr_at_epoch"][epoch]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-5)


# --------------------------------------------------------------------------------------------
# Built models: the decayed set against the papers' counts of weighted layers.


def test_lenet5_is_the_papers_network_padded_mnist_and_rates_by_epoch():
    r = explain_json("lenet5_mnist.py")
    # LeCun et al. 1998, Sec. III-C: 0.0005 for 2 passes, 0.0002 for 3, 0.0001 for 3, 0.00005 for 4,
    # then 0.00001; 20 passes; one pattern per update; 32x32 inputs framed from 28x28.
    expected = [5e-4] * 2 + [2e-4] * 3 + [1e-4] * 3 + [5e-5] * 4 + [1e-5] * 8
    assert len(r["schedule"]["lr_at_epoch"]) == 20
    assert all(close(a, b) for a, b in zip(r["schedule"]["lr_at_epoch"], expected))
    assert r["recipe"]["batch_size"] == 1 and r["input"]["shape"] == [32, 32, 1]
    assert r["input"]["resize_mode"] == "pad"
    args = r["model"]["arguments"]
    assert args["c3_connections"] == "paper" and args["output"] == "rbf"
    # Sec. II-B: C1 156, S2 12, C3 1,516, S4 32, C5 48,120, F6 10,164 trainable parameters; the
    # RBF prototypes are fixed (not trained).
    assert r["model"]["trainable_params"] == 156 + 12 + 1516 + 32 + 48120 + 10164
    assert r["weight_decay"]["decayed"]["count"] == 0


def test_googlenet_trains_two_auxiliary_heads_with_weight_0_3_and_anneals():
    r = explain_json("googlenet_imagenet.py")
    # Szegedy et al. 2014, Sec. 5: two auxiliary classifiers, losses weighted by 0.3.
    assert r["regularisation"]["aux_loss_weights"] == [0.3, 0.3]
    # Sec. 6: learning rate decreased by 4 % every 8 epochs; Polyak averaging; momentum 0.9.
    base = lr_at(r, 0)
    for epoch in (7, 8, 16, 80):
        assert close(lr_at(r, epoch), base * 0.96 ** (epoch // 8))
    assert r["schedule"]["lr_last_step"] < 0.5 * base  # the run is long enough to anneal
    assert r["regularisation"]["ema"]["use_ema"] is True
    assert r["optimizer"]["arguments"]["momentum"] == 0.9
    # Table 1 / Fig. 3: 3 stem convolutions + 9 modules x 6 convolutions + the classifier = 58
    # weighted layers; each auxiliary head adds a 1x1 convolution and two fully connected layers.
    assert r["weight_decay"]["decayed"]["count"] == 58 + 2 * 3
    assert set(r["weight_decay"]["decayed"]["by_name"]) == {"kernel"}
    # Dropout 40 % before the classifier, 70 % in the auxiliary heads.
    rates = sorted(d["rate"] for d in r["regularisation"]["dropout"])
    assert rates == pytest.approx([0.4, 0.7, 0.7])
    # The auxiliary heads are dropped from the model that is saved: Table 1's ~6.8M parameters.
    assert 6.5e6 < r["model"]["inference_params"] < 7.1e6 < r["model"]["params"]


@pytest.mark.parametrize("depth", [20, 110])
def test_cifar_resnets_step_at_32k_and_48k_iterations(depth):
    r = explain_json("resnet_cifar10.py", f"resnet{depth}")
    # He et al. 2015, Sec. 4.2: batch 128, 45k/5k split, 0.1 divided by 10 at 32k and 48k
    # iterations, 64k iterations; ResNet-110 starts at 0.01 for ~400 iterations.
    steps = math.ceil(45_000 / 128)
    assert r["schedule"]["steps_per_epoch"] == steps and r["dataset"]["splits"]["train"]["size"] == 45_000
    for epoch in (0, 1, 2, 50, 90, 91, 136, 137, 181):
        it = epoch * steps
        expected = 0.1 if it < 32_000 else 0.01 if it < 48_000 else 0.001
        if depth == 110 and it < 400:
            expected = 0.01
        assert close(lr_at(r, epoch), expected), epoch
    assert r["recipe"]["epochs"] * steps >= 64_000
    # 6n+2 weighted layers with option-A (parameter-free) shortcuts: every kernel decayed at 1e-4.
    assert r["weight_decay"]["decayed"]["count"] == depth
    assert r["weight_decay"]["coefficient"] == 1e-4 and r["weight_decay"]["mode"] == "l2"


def test_mobilenet_decays_no_depthwise_filter():
    r = explain_json("mobilenet_imagenet.py")
    # Howard et al. 2017, Table 1: 1 full convolution, 13 depthwise, 13 pointwise, 1 FC = 28
    # layers; "very little or no weight decay on the depthwise filters".
    decayed = r["weight_decay"]["decayed"]["paths"]
    assert not any("conv_dw_" in p for p in decayed) and len(decayed) == 1 + 13 + 1
    kept = r["weight_decay"]["not_decayed"]["paths"]
    assert sum("conv_dw_" in p and p.endswith("/kernel") for p in kept) == 13


def test_alexnet_trains_the_two_tower_network():
    r = explain_json("alexnet_imagenet.py")
    # Krizhevsky et al. 2012: "60 million parameters", 5 convolutional + 3 fully connected layers,
    # batch 128, momentum 0.9, weight decay 0.0005, 0.01 divided by 10 on plateaus, dropout 0.5.
    assert r["model"]["arguments"]["groups"] == 2
    assert 60e6 < r["model"]["params"] < 61.5e6
    assert r["weight_decay"]["decayed"]["count"] == 8 and r["weight_decay"]["coefficient"] == 5e-4
    assert r["recipe"]["batch_size"] == 128 and r["schedule"]["lr_at_epoch"] is None
    assert r["schedule"]["learning_rate"] == 0.01 and "0.1" in r["schedule"]["rule"]
    assert sorted(d["rate"] for d in r["regularisation"]["dropout"]) == [0.5, 0.5]
    text = format_explanation(r)
    assert "Weight decay: 0.0005 (l2)" in text and "decayed: 8 variables" in text


# --------------------------------------------------------------------------------------------
# Schedules and settings, without building the models.

PAPERS = {
    # (script, variant): batch, epochs, {epoch: learning rate}, other fields — each from the paper.
    ("vgg16_imagenet.py", None): dict(batch=256, epochs=74, lr0=0.01, wd=5e-4),  # Sec. 3.1
    ("zfnet_imagenet.py", None): dict(batch=128, epochs=70, lr0=0.01),  # Zeiler & Fergus Sec. 3
    ("resnet50_imagenet.py", None): dict(batch=256, lr0=0.1, wd=1e-4),  # He et al. Sec. 3.4
    ("densenet121_imagenet.py", None): dict(batch=256, epochs=90, wd=1e-4,  # Huang et al. Sec. 4.2
                                            lr={0: 0.1, 29: 0.1, 30: 0.01, 59: 0.01, 60: 0.001, 89: 0.001}),
    ("squeezenet_imagenet.py", None): dict(batch=512, lr0=0.04),  # linear decay to 0 (poly)
    ("se_resnet50_imagenet.py", None): dict(batch=1024, epochs=100,  # Hu et al. Sec. 6
                                            lr={0: 0.6, 29: 0.6, 30: 0.06, 60: 0.006, 90: 0.0006}),
    ("xception_imagenet.py", None): dict(lr={0: 0.045, 1: 0.045, 2: 0.045 * 0.94, 10: 0.045 * 0.94 ** 5},
                                         wd=1e-5, ema=True),  # Chollet Sec. 4.3
    ("inception_v3_imagenet.py", None): dict(batch=32, epochs=100, ema=True, smoothing=0.1, clipnorm=2.0,
                                             lr={0: 0.045, 2: 0.045 * 0.94, 9: 0.045 * 0.94 ** 4}),  # Sec. 7-8
    ("mobilenet_v2_imagenet.py", None): dict(batch=96, wd=4e-5,  # Sandler et al. Sec. 6.1
                                             lr={0: 0.045, 1: 0.045 * 0.98, 10: 0.045 * 0.98 ** 10}),
    ("inception_v4_imagenet.py", "inception_v4"): dict(lr={0: 0.045, 2: 0.045 * 0.94}, ema=True),  # Sec. 4
    ("inception_v4_imagenet.py", "inception_resnet_v2"): dict(lr={0: 0.045, 3: 0.045 * 0.94}, ema=True),
    # Ioffe & Szegedy 2015, Sec. 4.2.1: GoogLeNet's rate decayed 6 times faster (0.96 every 8/6 epochs).
    ("bn_inception_imagenet.py", None): dict(batch=32, lr={0: 0.045, 1: 0.045, 2: 0.045 * 0.96, 5: 0.045 * 0.96 ** 3}),
    ("resnext_imagenet.py", "resnext50_32x4d"): dict(batch=256, lr0=0.1, wd=1e-4),  # Xie et al. Sec. 4
    ("senet_imagenet.py", "se_resnext50_32x4d"): dict(batch=1024, lr={0: 0.6, 29: 0.6, 30: 0.06}),
    ("fractalnet_cifar10.py", None): dict(batch=100, epochs=400,  # Larsson et al. Sec. 4
                                          lr={0: 0.02, 199: 0.02, 200: 0.002, 300: 0.0002, 350: 2e-5, 375: 2e-6}),
    ("fractalnet_svhn.py", None): dict(batch=100, epochs=20, lr={0: 0.02, 9: 0.02, 10: 0.002, 15: 0.0002}),
}


@pytest.mark.parametrize("key", list(PAPERS), ids=lambda k: k[0][:-3] + (f"-{k[1]}" if k[1] else ""))
def test_recipe_schedule_and_settings_are_the_papers(key):
    script, variant = key
    paper = PAPERS[key]
    r = explain(recipe_of(script, variant), build=False)
    assert r["model"]["params"] is None  # not built
    if "batch" in paper:
        assert r["recipe"]["batch_size"] == paper["batch"]
    if "epochs" in paper:
        assert r["recipe"]["epochs"] == paper["epochs"]
    if "lr0" in paper:
        assert close(r["schedule"]["learning_rate"], paper["lr0"])
    for epoch, value in paper.get("lr", {}).items():
        assert close(lr_at(r, epoch), value), epoch
    if "wd" in paper:
        assert r["weight_decay"]["coefficient"] == paper["wd"]
    if "ema" in paper:
        assert r["regularisation"]["ema"]["use_ema"] is paper["ema"]
    if "smoothing" in paper:
        assert r["regularisation"]["label_smoothing"] == paper["smoothing"]
    if "clipnorm" in paper:
        assert r["regularisation"]["clipnorm"] == paper["clipnorm"]
    assert r["published"] and r["paper"]


def test_svhn_recipe_trains_on_train_plus_extra():
    r = explain(recipe_of("fractalnet_svhn.py"), build=False)
    # Netzer et al. 2011: 73,257 train + 531,131 extra digits; tfds holds 10 % of train out.
    assert r["dataset"]["splits"]["train"]["size"] == 73_257 - 7_326 + 531_131
    assert r["schedule"]["steps_per_epoch"] == math.ceil((73_257 - 7_326 + 531_131) / 100)


@pytest.mark.parametrize("depth", [20, 32, 44, 56, 110])
def test_cifar_resnets_all_depths_and_the_50k_protocol(depth):
    published = {20: 0.0875, 32: 0.0751, 44: 0.0717, 56: 0.0697, 110: 0.0643}  # He et al. Table 6
    split = explain(recipe_of("resnet_cifar10.py", f"resnet{depth}"), build=False)
    full = explain(recipe_of("resnet_cifar10.py", f"resnet{depth}_50k"), build=False)
    assert split["published"]["top1_error"] == full["published"]["top1_error"] == published[depth]
    assert split["dataset"]["splits"]["train"]["size"] == 45_000
    assert full["dataset"]["splits"]["train"]["size"] == 50_000 and full["dataset"]["validation_split"] is None
    steps = math.ceil(50_000 / 128)
    assert full["schedule"]["steps_per_epoch"] == steps
    assert 64_000 <= full["recipe"]["epochs"] * steps < 64_000 + steps


def test_cifar100_coarse_recipe_has_20_classes():
    r = explain(recipe_of("resnet_cifar100.py", "coarse"), build=False)
    assert r["dataset"]["classes"] == 20 and r["dataset"]["options"]["label"] == "coarse"


SCRIPTS = sorted(glob.glob(os.path.join(ROOT, "recipes", "*.py")))


@pytest.mark.parametrize("path", SCRIPTS, ids=[os.path.basename(p)[:-3] for p in SCRIPTS])
def test_every_recipe_explains_without_building(path):
    module = runpy.run_path(path, run_name="recipe_data")
    recipes = [module["RECIPE"]] if "RECIPE" in module else list(module.get("RECIPES", {}).values())
    for recipe in recipes:
        report = explain(recipe, build=False)
        json.dumps(report)  # JSON-serialisable
        assert report["recipe"]["model"] == recipe.model and format_explanation(report)
        lrs = report["schedule"]["lr_at_epoch"]
        assert lrs is None or len(lrs) == recipe.epochs


def test_explain_flags_on_train_and_a_wrong_json_flag():
    from kerascv_course.cli import main as cli_main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli_main(["train", "lenet5", "--dataset", "digits", "--epochs", "3", "--optimizer", "sgd",
                         "--lr", "0.1", "--schedule", "step", "--schedule-kwargs", '{"milestones": [2]}',
                         "--explain", "--json"])
    assert code == 0
    r = json.loads(out.getvalue())
    # 1,258 training digits in batches of 64: 20 steps; 0.1 for epochs 0-1, 0.01 from epoch 2.
    assert r["schedule"]["steps_per_epoch"] == 20
    assert [round(v, 6) for v in r["schedule"]["lr_at_epoch"]] == [0.1, 0.1, 0.01]
    assert r["model"]["params"] == 61_706  # LeNet-5 with a dense output: LeCun's 60k, full C3
    code, text = run_script("lenet5_mnist.py", "--json")
    assert code == 2


# --------------------------------------------------------------------------------------------
# Auxiliary classifiers: the loss, the gradient, the saved model, the smoke run.


def test_auxiliary_loss_is_main_plus_0_3_times_each_head():
    import keras
    import numpy as np
    import tensorflow as tf

    from kerascv_course.models import get_model
    from kerascv_course.training.model import AuxiliaryLossModel, inference_model

    net = get_model("googlenet", aux_logits=True, input_shape=(65, 65, 3), classes=4, lrn=False)
    model = AuxiliaryLossModel(net, [0.3, 0.3])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy())
    x = np.random.default_rng(0).uniform(size=(2, 65, 65, 3)).astype("float32")
    y = np.array([1, 3])
    with tf.GradientTape() as tape:
        outputs = model(x, training=False)  # no dropout: the same outputs twice
        loss = model.compute_loss(x, y, outputs, training=True)
    ce = keras.losses.sparse_categorical_crossentropy
    by_hand = sum(w * float(np.mean(ce(y, o))) for w, o in zip([1.0, 0.3, 0.3], outputs))
    assert float(loss) == pytest.approx(by_hand, rel=1e-5)
    grads = tape.gradient(loss, [v for v in model.trainable_variables if "aux1_fc" in v.path])
    assert grads and all(float(tf.reduce_sum(tf.abs(g))) > 0 for g in grads)
    assert float(model.compute_loss(x, y, outputs, training=False)) == pytest.approx(float(np.mean(ce(y, outputs[0]))), rel=1e-5)
    saved = inference_model(model)
    assert len(saved.outputs) == 1 and saved.count_params() < model.count_params()


def test_aux_logits_without_weights_is_one_clear_line():
    from kerascv_course.training.checks import check_recipe

    with pytest.raises(ValueError, match=r"set aux_loss_weights \(GoogLeNet's paper: 0.3,0.3\)"):
        check_recipe(Recipe("googlenet", "digits", model_kwargs={"aux_logits": True}))
    with pytest.raises(ValueError, match=r"resnet20 has no auxiliary classifiers"):
        check_recipe(Recipe("resnet20", "digits", aux_loss_weights=[0.3]))


@pytest.mark.slow  # GoogLeNet's train and test steps traced: ~20 s on one free core
def test_googlenet_smoke_trains_with_its_auxiliary_heads(tmp_path, monkeypatch):
    import keras

    monkeypatch.chdir(tmp_path)
    code, out = run_script("googlenet_imagenet.py", "--smoke", "--progress", "off")
    assert code == 0, out
    folder = os.path.join("runs", "smoke", "googlenet-imagenet2012")
    recipe = Recipe.from_json(os.path.join(folder, "recipe.json"))
    assert recipe.aux_loss_weights == [0.3, 0.3] and recipe.model_kwargs["aux_logits"] is True
    assert recipe.use_ema is True
    saved = keras.saving.load_model(os.path.join(folder, "model.keras"), safe_mode=True)
    assert len(saved.outputs) == 1 and not any(layer.name.startswith("aux") for layer in saved.layers)


def test_full_train_loads_all_of_tfds_train_and_refuses_validation():
    import tensorflow_datasets as tfds

    from kerascv_course.data import dataset_facts, load_dataset
    from kerascv_course.training.checks import check_recipe

    assert dataset_facts("cifar10", full_train=True).split_sizes["train"] == 50_000
    with tfds.testing.mock_data(num_examples=4):
        _, info = load_dataset("cifar10", "train", full_train=True)
        assert info.extra["tfds_split"] == "train"
        with pytest.raises(ValueError, match="no validation split"):
            load_dataset("cifar10", "validation", full_train=True)
    with pytest.raises(ValueError, match="set validation_split=None"):
        check_recipe(Recipe("resnet20", "cifar10", dataset_kwargs={"full_train": True}))
