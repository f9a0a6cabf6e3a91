"""Family-specific checks of DenseNet, MobileNet v1/v2, Xception and SqueezeNet.

The generic checks (published parameter counts, weight files, pooling, save/load) live in
test_models.py and test_weights.py; here: the architecture options against keras.applications
built in the test, argument errors, and map sizes against the papers' arithmetic.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from conftest import random_batch

from kerascv_course import (
    build_densenet121,
    build_densenet169,
    build_mobilenet,
    build_mobilenet_v2,
    build_squeezenet1_0,
    build_squeezenet1_1,
    build_xception,
)
from kerascv_course.models import get_spec
from kerascv_course.models.squeezenet import fire_module


def _weight_layers(model):
    return [(layer.name, [tuple(w.shape) for w in layer.weights]) for layer in model.layers
            if layer.weights]


def _perturbed_weights(model, seed=0):
    """The model's weights with BN statistics moved off 0/1, so batch norm matters."""
    rng = np.random.default_rng(seed)
    return [w + rng.uniform(0.0, 0.1, w.shape).astype(w.dtype) if w.ndim == 1 else w
            for w in model.get_weights()]


# --- MobileNet v1 -------------------------------------------------------------------------------

@pytest.mark.parametrize("alpha", [0.25, 0.5, 0.75])
def test_mobilenet_width_multiplier_matches_keras_applications_at_128(alpha):
    ours = build_mobilenet(alpha=alpha, input_shape=(128, 128, 3))
    ref = keras.applications.MobileNet(alpha=alpha, input_shape=(128, 128, 3), weights=None)
    assert ours.count_params() == ref.count_params()
    assert _weight_layers(ours) == _weight_layers(ref)
    assert ours.get_layer("conv_pw_13_relu").output.shape[1:] == (4, 4, int(1024 * alpha))


def test_mobilenet_depth_multiplier_computes_keras_applications_function():
    kwargs = dict(alpha=0.25, depth_multiplier=2, input_shape=(64, 80, 3), classes=10,
                  classifier_activation=None)
    ours = build_mobilenet(**kwargs)
    ref = keras.applications.MobileNet(weights=None, **kwargs)
    # depthwise kernels carry the multiplier: 3x3 x C x 2
    assert ours.get_layer("conv_dw_1").kernel.shape == (3, 3, 8, 2)
    ref.set_weights(_perturbed_weights(ref))
    ours.set_weights(ref.get_weights())
    x = random_batch((64, 80, 3))
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(ref(x)), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs,argument",
    [
        (dict(alpha=0), "alpha"),
        (dict(alpha=-0.5), "alpha"),
        (dict(alpha="1.0"), "alpha"),
        (dict(alpha=0.02), "alpha"),  # the 32-filter stem would have no filter
        (dict(depth_multiplier=0), "depth_multiplier"),
        (dict(depth_multiplier=1.5), "depth_multiplier"),
        (dict(depth_multiplier=True), "depth_multiplier"),
        (dict(dropout=1.5), "dropout"),
        (dict(alpha=0.6, weights="imagenet"), "alpha"),
        (dict(depth_multiplier=2, weights="imagenet"), "depth_multiplier"),
    ],
)
def test_mobilenet_bad_width_arguments_raise_a_clear_error(kwargs, argument):
    with pytest.raises(ValueError, match=f"`?{argument}`?.*Received: {argument}="):
        build_mobilenet(**kwargs)


def test_mobilenet_any_positive_alpha_builds_like_keras():
    ours = build_mobilenet(alpha=1.3, include_top=False, input_shape=(32, 32, 3))
    ref = keras.applications.MobileNet(alpha=1.3, include_top=False, input_shape=(32, 32, 3),
                                       weights=None)
    assert ours.count_params() == ref.count_params()


# --- MobileNet v2 -------------------------------------------------------------------------------

@pytest.mark.parametrize("alpha,shape", [(0.35, (96, 96, 3)), (1.4, (33, 47, 3))])
def test_mobilenet_v2_width_and_odd_sizes_compute_keras_applications_function(alpha, shape):
    kwargs = dict(alpha=alpha, input_shape=shape, classes=10)
    ours = build_mobilenet_v2(**kwargs)
    ref = keras.applications.MobileNetV2(weights=None, **kwargs)
    assert _weight_layers(ours) == _weight_layers(ref)
    ref.set_weights(_perturbed_weights(ref))
    ours.set_weights(ref.get_weights())
    x = random_batch(shape)
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(ref(x)), rtol=1e-4, atol=1e-5)


def test_mobilenet_v2_residuals_follow_table_2():
    model = build_mobilenet_v2(include_top=False, input_shape=(32, 32, 3))
    adds = sorted(int(layer.name.split("_")[1]) for layer in model.layers
                  if layer.name.endswith("_add"))
    # Table 2 (t, c, n, s): every repeat after the first of a sequence keeps its shape.
    assert adds == [2, 4, 5, 7, 8, 9, 11, 12, 14, 15]
    with pytest.raises(ValueError, match="alpha.*Received: alpha=0"):
        build_mobilenet_v2(alpha=0)


# --- DenseNet -----------------------------------------------------------------------------------

def _densenet_channels(blocks, growth, compression, stem=64):
    channels = stem
    for i, layers in enumerate(blocks):
        channels += layers * growth
        if i < len(blocks) - 1:
            channels = int(channels * compression)
    return channels


def test_densenet_options_change_the_architecture_as_the_paper_says():
    blocks, growth, compression = (2, 3, 4), 12, 0.75
    model = build_densenet121(blocks=blocks, growth_rate=growth, compression=compression,
                              include_top=False, input_shape=(32, 48, 3))
    concats = [layer.name for layer in model.layers if layer.name.endswith("_concat")]
    assert len(concats) == sum(blocks)
    assert model.output_shape == (None, 2, 3, _densenet_channels(blocks, growth, compression))
    # bottleneck: 1x1 conv to 4k maps, then k new maps per layer
    assert model.get_layer("conv2_block1_1_conv").filters == 4 * growth
    assert model.get_layer("conv3_block1_concat").input[0].shape[-1] == int((64 + 2 * 12) * 0.75)


def test_densenet_blocks_option_reproduces_the_other_depths():
    as_169 = build_densenet121(blocks=(6, 12, 32, 32))
    assert as_169.count_params() == get_spec("densenet169").params
    assert build_densenet169(include_top=False, input_shape=(32, 32, 3)).output_shape[-1] == (
        _densenet_channels((6, 12, 32, 32), 32, 0.5)
    )


@pytest.mark.parametrize(
    "kwargs,argument",
    [
        (dict(growth_rate=0), "growth_rate"),
        (dict(growth_rate=12.5), "growth_rate"),
        (dict(compression=0), "compression"),
        (dict(compression=1.5), "compression"),
        (dict(blocks=()), "blocks"),
        (dict(blocks=(6, 0)), "blocks"),
        (dict(blocks="6,12"), "blocks"),
    ],
)
def test_densenet_bad_options_raise_a_clear_error(kwargs, argument):
    with pytest.raises(ValueError, match=f"{argument}.*Received: {argument}="):
        build_densenet121(**kwargs)


def test_densenet_imagenet_weights_need_the_papers_configuration():
    with pytest.raises(ValueError, match="growth_rate=12"):
        build_densenet121(growth_rate=12, weights="imagenet")


# --- Xception -----------------------------------------------------------------------------------

def test_xception_dropout_option_adds_no_weights_and_keeps_the_function_at_inference():
    plain = build_xception(input_shape=(71, 71, 3), classes=5)
    dropped = build_xception(input_shape=(71, 71, 3), classes=5, dropout=0.5)
    assert dropped.get_layer("top_dropout").rate == 0.5
    dropped.set_weights(plain.get_weights())
    x = random_batch((71, 71, 3))
    np.testing.assert_allclose(np.asarray(dropped(x, training=False)),
                               np.asarray(plain(x, training=False)), rtol=1e-5, atol=1e-6)


def test_xception_non_square_maps_follow_the_strides():
    model = build_xception(include_top=False, input_shape=(71, 135, 3))
    # stem: 3x3/2 valid then 3x3 valid; four 3x3/2 'same' poolings (ceil)
    h, w = (71 - 3) // 2 + 1 - 2, (135 - 3) // 2 + 1 - 2
    for _ in range(4):
        h, w = math.ceil(h / 2), math.ceil(w / 2)
    assert model.output_shape == (None, h, w, 2048)


# --- SqueezeNet ---------------------------------------------------------------------------------

def test_fire_module_outputs_expand1x1_plus_expand3x3_channels():
    inputs = keras.Input((9, 11, 20))
    out = fire_module(inputs, 6, 16, 24, name="fire")
    model = keras.Model(inputs, out)
    assert model.output_shape == (None, 9, 11, 16 + 24)
    assert model.count_params() == (20 + 1) * 6 + (6 + 1) * 16 + (9 * 6 + 1) * 24
    # both expands read the squeeze's 6 maps
    assert model.get_layer("fire_expand1x1").input.shape[-1] == 6
    assert model.get_layer("fire_expand3x3").input.shape[-1] == 6
    x = np.abs(random_batch((9, 11, 20)))
    y = np.asarray(model(x))
    squeezed = keras.Model(inputs, model.get_layer("fire_squeeze1x1_relu").output)(x)
    left = keras.Model(inputs, model.get_layer("fire_expand1x1_relu").output)(x)
    np.testing.assert_allclose(y[..., :16], np.asarray(left), rtol=1e-6)
    assert (np.asarray(squeezed) >= 0).all() and (y >= 0).all()


def _ceil_pool_size(n):
    return math.ceil((n - 3) / 2) + 1  # Caffe / torchvision ceil_mode=True


@pytest.mark.parametrize("builder,kernel,taps", [
    (build_squeezenet1_0, 7, ("conv1_relu", "pool1", "pool4", "pool8")),
    (build_squeezenet1_1, 3, ("conv1_relu", "pool1", "pool3", "pool5")),
])
def test_squeezenet_maps_follow_caffe_arithmetic(builder, kernel, taps):
    model = builder(include_top=False)
    sizes = [model.get_layer(name).output.shape[1] for name in taps]
    n = (227 - kernel) // 2 + 1
    expected = [n]
    for _ in range(3):
        expected.append(_ceil_pool_size(expected[-1]))
    assert sizes == expected
    if builder is build_squeezenet1_0:
        assert sizes == [111, 55, 27, 13]  # the paper's Table 1
    for layer in model.layers:
        if layer.name.endswith("_concat"):
            fire = layer.name.removesuffix("_concat")
            assert layer.output.shape[-1] == (model.get_layer(f"{fire}_expand1x1").filters
                                              + model.get_layer(f"{fire}_expand3x3").filters)


def test_squeezenet_ceil_mode_pooling_matches_a_numpy_reference():
    # 66x66 input: conv1 (3x3/2) gives 32x32, where a ceil-mode 3x3/2 pooling overhangs by one.
    model = build_squeezenet1_1(include_top=False, input_shape=(66, 66, 3))
    probe = keras.Model(model.input, [model.get_layer("conv1_relu").output,
                                      model.get_layer("pool1").output])
    relu, pooled = (np.asarray(t) for t in probe(random_batch((66, 66, 3))))
    size = _ceil_pool_size(32)
    assert pooled.shape[1:3] == (size, size) == (16, 16)
    expected = np.empty_like(pooled)
    for i in range(size):
        for j in range(size):
            expected[:, i, j] = relu[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3].max(axis=(1, 2))
    np.testing.assert_array_equal(pooled, expected)


def test_squeezenet_classifier_is_a_convolution_then_global_pooling():
    model = build_squeezenet1_1(input_shape=(64, 96, 3), classes=7)
    assert model.get_layer("conv10").kernel.shape == (1, 1, 512, 7)
    assert model.get_layer("drop9").rate == 0.5
    assert [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)] == []
    assert model.output_shape == (None, 7)
    assert build_squeezenet1_1(dropout=0.0).count_params() == get_spec("squeezenet1_1").params
    with pytest.raises(ValueError, match="dropout.*Received: dropout=2"):
        build_squeezenet1_0(dropout=2)


# --- Feature taps -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["densenet121", "mobilenet", "mobilenet_v2"])
def test_same_padded_feature_taps_have_exactly_their_stride_on_non_square_inputs(name):
    spec = get_spec(name)
    model = spec.builder(include_top=False, input_shape=(96, 64, 3))
    assert sorted(spec.feature_taps) == [2, 4, 8, 16, 32]
    for stride, layer_name in spec.feature_taps.items():
        assert model.get_layer(layer_name).output.shape[1:3] == (96 // stride, 64 // stride)


@pytest.mark.parametrize("name", ["xception", "squeezenet1_0", "squeezenet1_1"])
def test_valid_padded_feature_taps_shrink_by_their_stride(name):
    spec = get_spec(name)
    model = spec.builder(include_top=False, input_shape=(96, 96, 3))
    sizes = [model.get_layer(spec.feature_taps[s]).output.shape[1] for s in sorted(spec.feature_taps)]
    for stride, size in zip(sorted(spec.feature_taps), sizes):
        # 'valid' stems lose at most a few border pixels: within 3 pixels of 96/stride
        assert 96 // stride - 3 <= size <= math.ceil(96 / stride), (stride, size)
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == len(sizes)
