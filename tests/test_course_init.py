"""Every registered builder honours ``kernel_initializer`` (default unchanged); recipes carry the papers' init."""

from __future__ import annotations

import numpy as np
import pytest

from kerascv_course.models import get_spec, list_models

CONSTANT = {"class_name": "Constant", "config": {"value": 0.25}}  # a config, as a recipe's JSON holds it
KERNELS = ("kernel", "depthwise_kernel", "pointwise_kernel")


def _kernels(model):
    return [w for w in model.weights if w.path.rsplit("/", 1)[-1] in KERNELS]


def _smallest_of_each_family() -> list[str]:
    """One model per family, its smallest: every builder applies ``kernel_initializer`` through the
    one common path (``models.common.finish_model``), so a family's larger variants add layers,
    not code; every builder's signature is checked below."""
    from kerascv_course.models.catalog import model_info

    best: dict[str, tuple[int, str]] = {}
    for name in list_models():
        info = model_info(name)
        if info.family not in best or info.params < best[info.family][0]:
            best[info.family] = (info.params, name)
    return sorted(name for _, name in best.values())


def test_every_builder_takes_kernel_initializer():
    from kerascv_course.models.catalog import model_info

    missing = [n for n in list_models() if "kernel_initializer" not in dict(model_info(n).builder_args)]
    assert not missing


@pytest.mark.slow
@pytest.mark.parametrize("name", _smallest_of_each_family())
def test_every_builder_draws_every_kernel_from_kernel_initializer(name):
    spec = get_spec(name)
    model = spec.builder(input_shape=spec.small_input_shape, classes=3, kernel_initializer=CONSTANT)
    kernels = _kernels(model)
    assert kernels, name
    for w in kernels:
        np.testing.assert_array_equal(np.asarray(w), np.full(w.shape, 0.25, "float32"), err_msg=w.path)
    # Biases keep their own initialisation (zeros where the architecture does not say otherwise).
    for w in model.weights:
        if w.path.endswith("/bias") and "predictions" in w.path:
            assert not np.any(np.asarray(w) == 0.25)


def test_default_initialisation_is_unchanged_and_the_config_records_the_initializer():
    import keras

    from kerascv_course import build_blitz

    default = build_blitz()
    assert type(default.get_layer("conv1").kernel_initializer).__name__ == "GlorotUniform"
    keras.utils.set_random_seed(3)
    he = build_blitz(kernel_initializer="he_normal")
    assert type(he.get_layer("fc1").kernel_initializer).__name__ == "HeNormal"
    # He et al. 2015: std sqrt(2 / fan_in), fan_in 400 (Keras rescales its truncated normal to it).
    std = float(np.std(np.asarray(he.get_layer("fc1").kernel)))
    assert std == pytest.approx(np.sqrt(2 / 400), rel=0.05)
    assert he.get_layer("fc1").get_config()["kernel_initializer"]["class_name"] == "HeNormal"


def test_kernel_initializer_with_weights_is_refused_and_a_bad_one_named(tmp_path):
    from kerascv_course import build_blitz

    path = str(tmp_path / "blitz.weights.h5")
    build_blitz().save_weights(path)
    with pytest.raises(ValueError, match="pass one of them"):
        build_blitz(weights=path, kernel_initializer="he_normal")
    with pytest.raises(ValueError, match="Received: kernel_initializer='nope'"):
        build_blitz(kernel_initializer="nope")


def test_backbone_unet_keeps_a_pretrained_encoder(tmp_path):
    from kerascv_course import build_resnet20, build_unet

    encoder = build_resnet20(input_shape=(32, 32, 3), include_top=False)
    path = str(tmp_path / "encoder.weights.h5")
    encoder.save_weights(path)
    unet = build_unet((32, 32, 3), classes=2, backbone="resnet20", encoder_weights=path,
                      kernel_initializer=CONSTANT)
    loaded = np.asarray(encoder.get_layer("conv1_conv").kernel)
    np.testing.assert_array_equal(np.asarray(unet.get_layer("conv1_conv").kernel), loaded)
    assert np.all(np.asarray(unet.get_layer("predictions").kernel) == 0.25)


def test_alexnet_recipe_draws_the_papers_weights_and_biases():
    import runpy

    from kerascv_course import build_alexnet, build_zfnet

    recipe = runpy.run_path("recipes/alexnet_imagenet.py", run_name="data")["RECIPE"]
    kwargs = {k: v for k, v in recipe.model_kwargs.items() if k != "dropout"}
    model = build_alexnet(input_shape=(67, 67, 3), classes=10, **kwargs)
    # Krizhevsky et al. §5: N(0, 0.01^2) weights; biases 1 in conv2, conv4, conv5, fc6, fc7, else 0.
    fc6 = np.asarray(model.get_layer("fc6").kernel)
    assert abs(float(fc6.mean())) < 1e-3 and float(fc6.std()) == pytest.approx(0.01, rel=0.02)
    for name in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "predictions"):
        expected = 1.0 if name in ("conv2", "conv4", "conv5", "fc6", "fc7") else 0.0
        assert np.all(np.asarray(model.get_layer(name).bias) == expected), name
    with pytest.raises(ValueError, match="Zeiler & Fergus set every bias to 0"):
        build_zfnet(paper_biases=True)


def test_recipes_name_their_papers_initialisation():
    import runpy

    he = runpy.run_path("recipes/resnet_cifar10.py", run_name="data")["RECIPES"]
    assert all(r.model_kwargs["kernel_initializer"] == "he_normal" for r in he.values())
    assert he["plain56"].model_kwargs["shortcut"] is None
    r50 = runpy.run_path("recipes/resnet50_imagenet.py", run_name="data")["RECIPE"]
    assert r50.model_kwargs["kernel_initializer"] == "he_normal"
