"""The course's own networks: the 60 Minute Blitz CIFAR-10 classifier and its STL-10 adaptations."""

from __future__ import annotations

import pytest


def _conv(k: int, c_in: int, c_out: int) -> int:
    return k * k * c_in * c_out + c_out


def _dense(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def _blitz_by_hand(side: int, classes: int = 10) -> int:
    """conv5 (valid) -> pool2 -> conv5 (valid) -> pool2 -> flatten -> 120 -> 84 -> classes."""
    after = ((side - 4) // 2 - 4) // 2
    return (_conv(5, 3, 6) + _conv(5, 6, 16) + _dense(16 * after * after, 120) + _dense(120, 84)
            + _dense(84, classes))


def test_blitz_is_the_tutorials_62006_parameters():
    from kerascv_course import build_blitz

    model = build_blitz()
    assert model.input_shape[1:] == (32, 32, 3)
    assert model.count_params() == 62_006 == _blitz_by_hand(32)  # the tutorial's Net, as PyTorch counts it
    assert [layer.name for layer in model.layers if layer.weights] == ["conv1", "conv2", "fc1", "fc2", "predictions"]
    assert model.get_layer("flatten").output.shape[1:] == (16 * 5 * 5,)


def test_blitz_at_stl10_size_flattens_16x21x21():
    from kerascv_course import build_blitz, build_blitz_stl10

    model = build_blitz(input_shape=(96, 96, 3))
    assert model.get_layer("pool2").output.shape[1:] == (21, 21, 16)
    assert model.get_layer("flatten").output.shape[1:] == (16 * 21 * 21,)
    assert model.count_params() == _blitz_by_hand(96) == 860_726
    adapted = build_blitz_stl10()
    assert adapted.input_shape[1:] == (96, 96, 3) and adapted.get_layer("pool4").output.shape[1:] == (6, 6, 128)
    by_hand = (_conv(5, 3, 16) + _conv(5, 16, 32) + _conv(5, 32, 64) + _conv(5, 64, 128)
               + _dense(128, 120) + _dense(120, 84) + _dense(84, 10))
    assert adapted.count_params() == by_hand == 296_734
    # Global pooling: the same weights at any size the four stages accept.
    assert build_blitz_stl10(input_shape=(32, 32, 3)).count_params() == by_hand


def test_blitz_refuses_an_input_its_stages_cannot_take():
    from kerascv_course import build_blitz

    with pytest.raises(ValueError, match="at least 16x16"):
        build_blitz(input_shape=(15, 15, 3))
    with pytest.raises(ValueError, match="`filters` must be"):
        build_blitz(filters=(6, 0))


def test_blitz_recipes_carry_the_tutorials_settings():
    import runpy

    recipe = runpy.run_path("recipes/cifar10_blitz.py", run_name="data")["RECIPE"]
    assert (recipe.model, recipe.dataset, recipe.optimizer, recipe.learning_rate, recipe.momentum,
            recipe.batch_size, recipe.epochs, recipe.schedule) == (
        "blitz", "cifar10", "sgd", 0.001, 0.9, 4, 2, "constant")
    assert recipe.base_batch_size == 4  # no learning-rate rescaling
    stl = runpy.run_path("recipes/stl10_blitz.py", run_name="data")["RECIPES"]
    assert {r.model for r in stl.values()} == {"blitz", "blitz_stl10"}
    assert all(r.dataset == "stl10" and r.image_size == 96 and r.epochs * 5_000 == 2 * 50_000 for r in stl.values())


def _projection_params(model) -> int:
    """Parameters of a ResNet's projection shortcuts: its ``*_0_conv`` / ``*_0_bn`` layers."""
    return sum(layer.count_params() for layer in model.layers
               if layer.name.endswith(("_0_conv", "_0_bn")))


def test_plain_18_and_34_are_resnet_minus_projection_shortcuts():
    from kerascv_course import build_resnet18, build_resnet34

    for builder, published in ((build_resnet18, 11_699_112), (build_resnet34, 21_814_696)):
        resnet = builder(input_shape=(32, 32, 3), classes=10)
        plain = builder(input_shape=(32, 32, 3), classes=10, shortcut=None)
        # By hand: 1x1 projections 64->128, 128->256, 256->512 (no bias) + batch norm (4 per channel).
        by_hand = sum(c * 2 * c + 4 * 2 * c for c in (64, 128, 256))
        assert _projection_params(resnet) == by_hand == 175_616
        assert plain.count_params() == resnet.count_params() - by_hand
        assert builder().count_params() - by_hand == published - 175_616
        assert not [layer for layer in plain.layers if isinstance(layer, __import__("keras").layers.Add)]
        conv = [layer.name for layer in resnet.layers if layer.name.endswith(("_1_conv", "_2_conv"))]
        assert conv == [layer.name for layer in plain.layers if layer.name.endswith(("_1_conv", "_2_conv"))]
    # The CIFAR plain nets (Fig. 6): option A has no parameters, so plain-20 = ResNet-20's count.
    from kerascv_course import build_resnet20

    assert build_resnet20(shortcut=None).count_params() == build_resnet20().count_params() == 271_098


def test_plain_network_is_refused_for_bottlenecks():
    from kerascv_course import build_resnet50

    with pytest.raises(ValueError, match="basic-block ResNets only"):
        build_resnet50(shortcut=None, input_shape=(32, 32, 3))


def test_the_tutorials_normalisation_reaches_the_pipeline():
    import numpy as np

    from kerascv_course.data import load_dataset, make_pipeline
    from kerascv_course.training.checks import check_recipe

    half = {"mean": [0.5], "std": [0.5]}
    ds, info = load_dataset("digits", "test", normalization=half)
    assert (info.mean, info.std) == ((0.5,), (0.5,))
    raw = np.stack([np.asarray(image) for image, _ in ds.take(2)]).astype("float32")
    batch = next(iter(make_pipeline(ds.take(2), info, training=False, batch_size=2, cache=False)))[0]
    np.testing.assert_allclose(np.asarray(batch), (raw / 255.0 - 0.5) / 0.5, atol=1e-6)  # by hand
    with pytest.raises(ValueError, match="`normalization` must be"):
        load_dataset("digits", "test", normalization={"mean": [0.5], "std": [0.0]})
    import runpy

    for path in ("recipes/cifar10_blitz.py", "recipes/stl10_blitz.py"):
        module = runpy.run_path(path, run_name="data")
        for recipe in [module["RECIPE"]] if "RECIPE" in module else module["RECIPES"].values():
            assert recipe.dataset_kwargs["normalization"] == {"mean": [0.5] * 3, "std": [0.5] * 3}
            check_recipe(recipe)
