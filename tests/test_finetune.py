"""Transfer learning (issue #16): weight sources seed any builder, two-phase fine-tuning, errors.

References are independent of the code under test: keras.applications' own models and the
weight files they write, the builders' own initialisation under the same seed, the source run's
saved model, and a from-scratch run on the same images.
"""

from __future__ import annotations

import glob
import json
import os

import h5py
import keras
import numpy as np
import pytest
from conftest import CrashAt
from keras.src.legacy.saving import legacy_h5_format
from PIL import Image

import kerascv_course
from kerascv_course.cli import main
from kerascv_course.training import Recipe, train
from kerascv_course.training.checks import check_recipe

RUN = dict(image_size=16, tensorboard=False, overwrite=True, validation_split=None, batch_size=32)


def _save_legacy_h5(model: keras.Model, path) -> None:
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def _equal(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b)) and len(a) == len(b)


def test_resnet50_legacy_h5_seeds_a_10_class_model(tmp_path):
    reference = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3))  # 1000 classes
    rng = np.random.default_rng(0)
    reference.set_weights([w + rng.normal(0, 0.02, w.shape).astype(w.dtype) for w in reference.get_weights()])
    path = tmp_path / "resnet50_1000.h5"
    _save_legacy_h5(reference, path)
    keras.utils.set_random_seed(3)
    scratch = kerascv_course.build_resnet50(classes=10, input_shape=(32, 32, 3))
    keras.utils.set_random_seed(3)
    model = kerascv_course.build_resnet50(weights=str(path), classes=10, input_shape=(32, 32, 3))
    compared = 0
    for layer in model.layers:
        if layer.weights and layer.name != "predictions":
            assert _equal(layer.get_weights(), reference.get_layer(layer.name).get_weights()), layer.name
            compared += 1
    assert compared == 106  # every weighted layer of ResNet-50 but the classifier
    head = model.get_layer("predictions")
    assert head.kernel.shape == (2048, 10)
    assert _equal(head.get_weights(), scratch.get_layer("predictions").get_weights())  # the builder's own init


def test_imagenet_source_is_keras_applications_own_model_without_top(monkeypatch):
    real = keras.applications.MobileNet
    calls = []

    def offline_mobilenet(**kwargs):  # keras.applications' model, random instead of downloaded
        calls.append(kwargs)
        keras.utils.set_random_seed(11)
        return real(**{**kwargs, "weights": None})

    monkeypatch.setattr(keras.applications, "MobileNet", offline_mobilenet)
    model = kerascv_course.build_mobilenet(weights="imagenet", classes=5, alpha=0.25, input_shape=(32, 32, 3))
    assert calls == [{"weights": "imagenet", "include_top": False, "input_shape": (32, 32, 3), "alpha": 0.25}]
    keras.utils.set_random_seed(11)
    reference = real(weights=None, include_top=False, alpha=0.25, input_shape=(32, 32, 3))
    for layer in reference.layers:
        if layer.weights:
            assert _equal(model.get_layer(layer.name).get_weights(), layer.get_weights()), layer.name
    assert model.output_shape == (None, 5)


def test_a_source_of_another_depth_names_the_layer(tmp_path):
    small = kerascv_course.build_resnet20(input_shape=(16, 16, 1), classes=10)
    path = str(tmp_path / "resnet20.keras")
    small.save(path)
    with pytest.raises(ValueError, match="backbone layer 'conv2_block4_1_conv' is not in"):
        kerascv_course.build_resnet32(weights=path, input_shape=(16, 16, 1), classes=3)
    deeper = kerascv_course.build_resnet32(input_shape=(16, 16, 1), classes=10)
    deeper.save(str(tmp_path / "resnet32.keras"))
    with pytest.raises(ValueError, match="has layer 'conv2_block4_1_conv' in block 'conv2' that this model lacks"):
        kerascv_course.build_resnet20(weights=str(tmp_path / "resnet32.keras"), input_shape=(16, 16, 1))
    path = str(tmp_path / "resnet32.weights.h5")  # layers matched by place: the first misfit is named
    deeper.save_weights(path)
    with pytest.raises(ValueError, match="backbone layer 'conv3_block1_1_conv' has weights of shapes"):
        kerascv_course.build_resnet20(weights=path, input_shape=(16, 16, 1), classes=3)
    with pytest.raises(ValueError, match="conv1_conv.*shapes"):  # RGB weights, grey input
        kerascv_course.build_resnet20(weights=str(tmp_path / "resnet20.keras"), input_shape=(16, 16, 3))


def test_headless_and_class_mismatch_are_refused_before_training(tmp_path):
    with pytest.raises(ValueError, match="include_top=False.*feature extractor"):
        check_recipe(Recipe(model="resnet20", dataset="digits", model_kwargs={"include_top": False}))
    with pytest.raises(ValueError, match="need a pretrained backbone: set `weights`"):
        check_recipe(Recipe(model="resnet20", dataset="digits", freeze_epochs=2))
    with pytest.raises(ValueError, match="`fine_tune_learning_rate` is the rate after the frozen epochs"):
        check_recipe(Recipe(model="resnet50", dataset="digits", weights="imagenet", fine_tune_learning_rate=1e-5))
    with pytest.raises(ValueError, match="`freeze_epochs` must be at most `epochs` \\(3\\)"):
        check_recipe(Recipe(model="resnet50", dataset="digits", weights="imagenet", freeze_epochs=4, epochs=3))
    with pytest.raises(ValueError, match="no ImageNet weights for lenet5"):
        check_recipe(Recipe(model="lenet5", dataset="digits", weights="imagenet"))
    with pytest.raises(FileNotFoundError, match="Received: weights="):
        check_recipe(Recipe(model="resnet20", dataset="digits", weights=str(tmp_path)))  # no model.keras
    with pytest.raises(ValueError, match="outputs 3 classes but 'digits' has 10"):
        train(Recipe(model="resnet20", dataset="digits", model_kwargs={"classes": 3}, epochs=1,
                     output=str(tmp_path / "x"), **RUN), verbose=0)


@pytest.fixture(scope="module")
def source_run(tmp_path_factory):
    """ResNet-20 trained briefly on the digits: the pretrained run the other tests start from."""
    out = str(tmp_path_factory.mktemp("runs") / "source")
    train(Recipe(model="resnet20", dataset="digits", epochs=2, output=out, **RUN), verbose=0)
    return out


class Snapshot(keras.callbacks.Callback):
    """The model's weights at the end of each epoch."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append({layer.name: [np.array(v) for v in layer.get_weights()]
                            for layer in self.model.layers if layer.weights})


def test_few_images_per_class_fine_tuned_beats_scratch(source_run, tmp_path):
    """Frozen epoch: backbone and batch-norm statistics bitwise the source's, head trained; then
    fine-tuning; on 3 digits per class it beats training from scratch on the held-out test split."""
    few = dict(model="resnet20", dataset="digits", dataset_kwargs={"per_class": 3}, epochs=3,
               **{**RUN, "batch_size": 16})
    scratch = train(Recipe(output=str(tmp_path / "scratch"), **few), verbose=0)
    snapshot = Snapshot()
    out = str(tmp_path / "tuned")
    tuned = train(Recipe(output=out, weights=source_run, freeze_epochs=1, **few), verbose=0,
                  callbacks=[snapshot])
    # 30 training images; the test split (359 held-out digits) decides.
    assert tuned.metrics["accuracy"] > scratch.metrics["accuracy"] + 0.2, (tuned.metrics, scratch.metrics)
    source = keras.saving.load_model(os.path.join(source_run, "model.keras"), safe_mode=True)
    frozen, last = snapshot.epochs[0], snapshot.epochs[-1]
    batch_norms = 0
    for layer in source.layers:
        if layer.weights and layer.name != "predictions":  # moving statistics included
            assert _equal(frozen[layer.name], layer.get_weights()), layer.name
            batch_norms += isinstance(layer, keras.layers.BatchNormalization)
            if isinstance(layer, keras.layers.BatchNormalization):  # inference mode in phase 2 too
                assert _equal(last[layer.name], layer.get_weights()), layer.name
    assert batch_norms == 19
    assert not _equal(frozen["predictions"], source.get_layer("predictions").get_weights())
    assert not _equal(last["conv4_block3_2_conv"], frozen["conv4_block3_2_conv"])  # unfrozen after
    assert [(p["phase"], p["epochs"], p["learning_rate"]) for p in tuned.metrics["phases"]] == [
        ("frozen", [0, 1], 1e-3), ("fine-tune", [1, 3], 1e-4)]
    with open(os.path.join(out, "recipe.json"), encoding="utf-8") as fh:
        recorded = json.load(fh)
    assert recorded["weights"] == source_run and recorded["freeze_epochs"] == 1
    assert recorded["_phases"] == tuned.metrics["phases"]
    # The fine-tuned run is a run like any other: evaluate, export, predict.
    assert main(["evaluate", out]) == 0
    assert main(["export", out, "--output", str(tmp_path / "export")]) == 0
    tflite = sorted(glob.glob(str(tmp_path / "export" / "**" / "*.tflite"), recursive=True))
    Image.fromarray(np.full((16, 16), 200, np.uint8)).save(tmp_path / "digit.png")
    assert tflite and main(["predict", tflite[0], str(tmp_path / "digit.png")]) == 0


def test_unfreeze_trains_the_top_blocks_named_in_the_models_terms():
    from kerascv_course.training.finetune import Phase, Stages, backbone_layer_names

    kwargs = dict(input_shape=(16, 16, 1), classes=4)
    model = kerascv_course.build_resnet20(**kwargs)
    recipe = Recipe(model="resnet20", dataset="digits", weights="x", freeze_epochs=1, unfreeze="conv4")
    stages = Stages(recipe, model, backbone_layer_names(recipe, kwargs))
    assert stages.blocks == ["conv1", "conv2", "conv3", "conv4"]
    stages.apply(Phase("frozen", 0, 1, 1e-3))
    assert [w.path for w in model.trainable_weights] == ["predictions/kernel", "predictions/bias"]
    stages.apply(Phase("fine-tune", 1, 2, 1e-4))
    trained = {w.path.split("/")[0] for w in model.trainable_weights}
    assert trained == {"predictions"} | {layer.name for layer in model.layers
                                         if layer.name.startswith("conv4") and layer.name.endswith("_conv")}
    assert len(Stages(recipe.replace(unfreeze="2"), model, backbone_layer_names(recipe, kwargs)).unfrozen) == len(
        Stages(recipe.replace(unfreeze="conv3"), model, backbone_layer_names(recipe, kwargs)).unfrozen)
    from_layer = Stages(recipe.replace(unfreeze="conv4_block3_1_conv"), model, backbone_layer_names(recipe, kwargs))
    assert from_layer.unfrozen == {"conv4_block3_1_conv", "conv4_block3_1_bn", "conv4_block3_1_relu",
                                   "conv4_block3_2_conv", "conv4_block3_2_bn", "conv4_block3_add", "conv4_block3_out"}
    with pytest.raises(ValueError, match=r"block name of resnet20 \(conv1, conv2, conv3, conv4\) or one of its "
                                         r"layer names. Received: unfreeze='conv9'"):
        Stages(recipe.replace(unfreeze="conv9"), model, backbone_layer_names(recipe, kwargs))


def test_command_line_flags_come_from_the_schema(tmp_path, capsys):
    code = main(["train", "resnet20", "--dataset", "digits", "--weights", str(tmp_path / "none"),
                 "--freeze-epochs", "1", "--unfreeze", "2", "--fine-tune-learning-rate", "1e-5"])
    assert code == 2 and "Received: weights=" in capsys.readouterr().err


def test_a_classification_run_seeds_a_unet_encoder_for_another_task(source_run):
    source = keras.saving.load_model(os.path.join(source_run, "model.keras"), safe_mode=True)
    unet = kerascv_course.build_unet((32, 32, 1), classes=2, backbone="resnet20", encoder_weights=source_run)
    for name in ("conv1_conv", "conv1_bn", "conv3_block1_1_conv", "conv4_block3_2_bn"):
        assert _equal(unet.get_layer(name).get_weights(), source.get_layer(name).get_weights()), name


@pytest.mark.slow
def test_a_run_killed_at_and_after_the_phase_boundary_resumes_to_the_same_weights(source_run, tmp_path):
    recipe = Recipe(model="resnet20", dataset="digits", dataset_kwargs={"per_class": 2}, weights=source_run,
                    freeze_epochs=1, epochs=3, deterministic=True, **{**RUN, "batch_size": 8, "overwrite": False})
    straight = train(recipe.replace(output=str(tmp_path / "straight")), verbose=0)
    run = str(tmp_path / "run")
    for crash in (1, 2):  # at the boundary (the checkpoint holds the frozen phase's optimizer), then inside
        with pytest.raises(KeyboardInterrupt):
            train(recipe.replace(output=run), verbose=0, callbacks=[CrashAt(crash)])
    resumed = train(recipe.replace(output=run), verbose=0)
    assert resumed.metrics["resumed_from_epoch"] == 2
    for a, b in zip(straight.model.weights, resumed.model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
