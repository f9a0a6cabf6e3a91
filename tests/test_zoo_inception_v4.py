"""BN-Inception, Inception-v4 and Inception-ResNet v1/v2 against their papers, a published count
and keras.applications.

The generic registry tests (tests/test_models.py, tests/test_weights.py) cover forward passes,
poolings, safe-mode round trips and keras.applications' legacy weight files; these check the
parameter counts against references computed here from the papers' figures (or a published count),
keras.applications' names and weight files, and the feature taps' strides.
"""

from __future__ import annotations

import h5py
import keras
import numpy as np
import pytest
from conftest import random_batch, trainable_count
from keras.src.applications.inception_resnet_v2 import CustomScaleLayer
from keras.src.legacy.saving import legacy_h5_format

from kerascv_course import (
    build_bn_inception,
    build_inception_resnet_v1,
    build_inception_resnet_v2,
    build_inception_v4,
    get_spec,
)
from kerascv_course.models.layers import ScaledResidual


def _bn_channels(model: keras.Model) -> int:
    return sum(layer.weights[0].shape[0] for layer in model.layers
               if isinstance(layer, keras.layers.BatchNormalization))


# --- BN-Inception -----------------------------------------------------------------------------

# Ioffe & Szegedy (2015), Appendix, Fig. 5, typed from the table (the widths as TF-Slim's
# inception_v2 has them): input channels, #1x1, #3x3 reduce, #3x3, double #3x3 reduce,
# double #3x3, pool projection (0: pass through), output channels, output side at 224.
FIG_5 = {
    "3a": (192, 64, 64, 64, 64, 96, 32, 256, 28),
    "3b": (256, 64, 64, 96, 64, 96, 64, 320, 28),
    "3c": (320, 0, 128, 160, 64, 96, 0, 576, 14),
    "4a": (576, 224, 64, 96, 96, 128, 128, 576, 14),
    "4b": (576, 192, 96, 128, 96, 128, 128, 576, 14),
    "4c": (576, 160, 128, 160, 128, 160, 96, 576, 14),
    "4d": (576, 96, 128, 192, 160, 192, 96, 576, 14),
    "4e": (576, 0, 128, 192, 192, 256, 0, 1024, 7),
    "5a": (1024, 352, 192, 320, 160, 224, 128, 1024, 7),
    "5b": (1024, 352, 192, 320, 192, 224, 128, 1024, 7),
}


def _conv_bn(cin, cout, kh, kw=None, *, bn_weights=4):
    """A bias-free convolution and its batch norm (Keras count: 4 or 3 numbers per channel)."""
    return kh * (kw or kh) * cin * cout + bn_weights * cout


def _bn_inception_params(classes):
    total = _conv_bn(3, 64, 7) + _conv_bn(64, 64, 1) + _conv_bn(64, 192, 3)
    for cin, n1, r3, n3, rd, nd, proj, cout, _ in FIG_5.values():
        assert n1 + n3 + nd + (proj or cin) == cout
        total += (_conv_bn(cin, n1, 1) if n1 else 0) + _conv_bn(cin, r3, 1) + _conv_bn(r3, n3, 3)
        total += _conv_bn(cin, rd, 1) + _conv_bn(rd, nd, 3) + _conv_bn(nd, nd, 3)
        total += _conv_bn(cin, proj, 1) if proj else 0
    return total + 1024 * classes + classes


def test_bn_inception_matches_figure_5():
    model = build_bn_inception()
    assert model.count_params() == _bn_inception_params(1000) == get_spec("bn_inception").params
    for module, (*_, cout, side) in FIG_5.items():
        assert model.get_layer(f"inception_{module}_output").output.shape[1:] == (side, side, cout)
    # 5x5 convolutions replaced by two 3x3, batch norm before every ReLU, no LRN, no dropout.
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert {layer.kernel_size for layer in convs} == {(7, 7), (3, 3), (1, 1)}
    relus = [layer for layer in model.layers if layer.name.endswith("_relu")]
    assert len(relus) == len(convs)
    assert all(layer.name.replace("_relu", "_bn") in {x.name for x in model.layers}
               for layer in relus)
    assert "top_dropout" not in {layer.name for layer in model.layers}
    small = build_bn_inception(input_shape=(32, 32, 3), classes=10, dropout=0.2)
    assert small.count_params() == _bn_inception_params(10)
    assert small.get_layer("top_dropout").rate == 0.2


# --- Inception-v4 -----------------------------------------------------------------------------


@pytest.mark.slow
def test_inception_v4_matches_cadene_count():
    """Cadene's pretrainedmodels port (PyTorch, trainable parameters) lists 42,679,816; its batch
    norm has a scale that TF-Slim's (and ours) does not."""
    model = build_inception_v4()
    bn = _bn_channels(model)
    assert trainable_count(model) + bn == 42_679_816
    assert model.count_params() == get_spec("inception_v4").params
    widths = {"stem_mixed1": (73, 160), "stem_mixed2": (71, 192), "stem_mixed3": (35, 384),
              "inception_a4": (35, 384), "reduction_a": (17, 1024), "inception_b7": (17, 1024),
              "reduction_b": (8, 1536), "inception_c3": (8, 1536)}
    for layer, (side, channels) in widths.items():  # Fig. 9's sizes
        assert model.get_layer(layer).output.shape[1:] == (side, side, channels)
    assert model.get_layer("top_dropout").rate == 0.2  # "Dropout (keep 0.8)"


# --- Inception-ResNet-v1 ----------------------------------------------------------------------


def _ir_v1_params(classes):
    """Figs. 7 and 10-15 of Szegedy et al. (2016), batch norm without scale (3 numbers per
    channel) after every convolution but the residual up-projections, which have biases."""

    def c(cin, cout, kh, kw=None):
        return _conv_bn(cin, cout, kh, kw, bn_weights=3)

    def up(cin, cout):
        return cin * cout + cout

    stem = c(3, 32, 3) + c(32, 32, 3) + c(32, 64, 3) + c(64, 80, 1) + c(80, 192, 3) + c(192, 256, 3)
    block_a = (c(256, 32, 1) + c(256, 32, 1) + c(32, 32, 3) + c(256, 32, 1) + c(32, 32, 3)
               + c(32, 32, 3) + up(96, 256))
    reduction_a = c(256, 384, 3) + c(256, 192, 1) + c(192, 192, 3) + c(192, 256, 3)  # -> 896
    block_b = c(896, 128, 1) + c(896, 128, 1) + c(128, 128, 1, 7) + c(128, 128, 7, 1) + up(256, 896)
    reduction_b = (c(896, 256, 1) + c(256, 384, 3) + c(896, 256, 1) + c(256, 256, 3)
                   + c(896, 256, 1) + c(256, 256, 3) + c(256, 256, 3))  # -> 1792
    block_c = c(1792, 192, 1) + c(1792, 192, 1) + c(192, 192, 1, 3) + c(192, 192, 3, 1)
    block_c += up(384, 1792)
    return (stem + 5 * block_a + reduction_a + 10 * block_b + reduction_b + 5 * block_c
            + 1792 * classes + classes)


@pytest.mark.slow
def test_inception_resnet_v1_matches_the_paper_figures():
    """No published count of v1 exists that we trust; this re-counts the paper's figures."""
    model = build_inception_resnet_v1()
    assert model.count_params() == _ir_v1_params(1000) == get_spec("inception_resnet_v1").params
    assert model.get_layer("stem_conv6_relu").output.shape[1:] == (35, 35, 256)  # Fig. 14
    assert model.get_layer("reduction_a").output.shape[1:] == (17, 17, 896)
    assert model.get_layer("reduction_b").output.shape[1:] == (8, 8, 1792)
    scales = {layer.name: layer.scale for layer in model.layers
              if isinstance(layer, ScaledResidual)}
    assert len(scales) == 5 + 10 + 5
    assert {scales["block35_1_scale"], scales["block17_1_scale"], scales["block8_5_scale"]} == {
        0.17, 0.1, 0.2}


# --- Inception-ResNet-v2 ----------------------------------------------------------------------


@pytest.mark.slow
def test_inception_resnet_v2_is_keras_applications_model():
    reference = keras.applications.InceptionResNetV2(weights=None)
    ours = build_inception_resnet_v2()
    assert reference.count_params() == ours.count_params() == 55_873_736
    assert [layer.name for layer in ours.layers] == [layer.name for layer in reference.layers]
    assert [w.shape for w in ours.weights] == [w.shape for w in reference.weights]
    assert not any(isinstance(layer, keras.layers.Lambda) for layer in ours.layers)


def test_scaled_residual_computes_keras_custom_scale_layer():
    rng = np.random.default_rng(0)
    a, b = (rng.normal(size=(2, 3, 3, 4)).astype("float32") for _ in range(2))
    np.testing.assert_array_equal(
        np.asarray(ScaledResidual(0.17)([a, b])), np.asarray(CustomScaleLayer(0.17)([a, b]))
    )
    assert ScaledResidual.from_config(ScaledResidual(0.2).get_config()).scale == 0.2


def _perturbed(reference: keras.Model) -> None:
    """Random batch-norm statistics and biases, so every weight matters to the output."""
    rng = np.random.default_rng(0)
    reference.set_weights([w + rng.uniform(0.0, 0.05, w.shape).astype(w.dtype) if w.ndim == 1
                           else w for w in reference.get_weights()])


@pytest.mark.slow
@pytest.mark.parametrize("include_top", [True, False])
def test_inception_resnet_v2_loads_keras_applications_weight_files(include_top, tmp_path):
    """keras.applications' model saved as a Keras 3 ``.weights.h5`` and in the legacy ``.h5``
    layout of its published files: both load into ours and give identical outputs."""
    kwargs = dict(include_top=include_top, input_shape=(75, 75, 3))
    if include_top:
        kwargs["classes"] = 10
    reference = keras.applications.InceptionResNetV2(weights=None, **kwargs)
    _perturbed(reference)
    new_format = str(tmp_path / "irv2.weights.h5")
    reference.save_weights(new_format)
    legacy = str(tmp_path / "irv2.h5")
    with h5py.File(legacy, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, reference)
    x = random_batch((75, 75, 3))
    expected = np.asarray(reference(x, training=False))
    for path in (new_format, legacy):
        ours = build_inception_resnet_v2(weights=path, **kwargs)
        np.testing.assert_array_equal(np.asarray(ours(x, training=False)), expected)


@pytest.mark.filterwarnings("ignore:Skipping nested container")
def test_inception_resnet_v2_refuses_a_file_of_another_architecture(tmp_path):
    path = str(tmp_path / "v1.weights.h5")
    build_inception_resnet_v1(input_shape=(75, 75, 3), classes=10).save_weights(path)
    with pytest.raises(ValueError, match=r"backbone layer .* has weights of shapes .*another width"):
        build_inception_resnet_v2(weights=path, input_shape=(75, 75, 3), classes=10)


def test_new_inception_arguments_are_checked():
    with pytest.raises(ValueError, match="Received: dropout=1.5"):
        build_inception_v4(dropout=1.5)
    with pytest.raises(ValueError, match="kernel_initializer.*Received: kernel_initializer='nope'"):
        build_bn_inception(kernel_initializer="nope")
    with pytest.raises(ValueError, match="at least 75x75"):
        build_inception_resnet_v1(input_shape=(74, 74, 3))


def test_kernel_initializer_reaches_every_kernel():
    model = build_inception_resnet_v1(
        input_shape=(75, 75, 3), classes=10, kernel_initializer="zeros"
    )
    kernels = [layer.kernel for layer in model.layers if hasattr(layer, "kernel")]
    assert len(kernels) > 100 and all(not np.any(np.asarray(k)) for k in kernels)
