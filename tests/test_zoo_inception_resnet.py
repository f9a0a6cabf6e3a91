"""Family checks of GoogLeNet, Inception v3, the ResNets and SE-ResNet-50.

The generic registry tests (tests/test_models.py, tests/test_weights.py) cover parameter counts,
forward passes, poolings, saving and keras.applications' weight files; these tests check what is
particular to the families, against references computed here from the papers' tables.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import random_batch, trainable_count

from kerascv_course import (
    build_googlenet,
    build_resnet18,
    build_resnet20,
    build_resnet34,
    build_resnet50,
    build_se_resnet50,
    get_model,
    get_spec,
)
from kerascv_course.models.blocks import squeeze_excite

# --- GoogLeNet --------------------------------------------------------------------------------

# Szegedy et al. (2014), Table 1, typed from the paper: input channels, #1x1, #3x3 reduce, #3x3,
# #5x5 reduce, #5x5, pool proj, output channels.
TABLE_1 = [
    (192, 64, 96, 128, 16, 32, 32, 256),
    (256, 128, 128, 192, 32, 96, 64, 480),
    (480, 192, 96, 208, 16, 48, 64, 512),
    (512, 160, 112, 224, 24, 64, 64, 512),
    (512, 128, 128, 256, 24, 64, 64, 512),
    (512, 112, 144, 288, 32, 64, 64, 528),
    (528, 256, 160, 320, 32, 128, 128, 832),
    (832, 256, 160, 320, 32, 128, 128, 832),
    (832, 384, 192, 384, 48, 128, 128, 1024),
]


def _conv(cin, cout, k):
    return k * k * cin * cout + cout


def _googlenet_params(classes):
    stem = _conv(3, 64, 7) + _conv(64, 64, 1) + _conv(64, 192, 3)
    modules = 0
    for cin, n1, r3, n3, r5, n5, proj, cout in TABLE_1:
        assert n1 + n3 + n5 + proj == cout
        modules += (_conv(cin, n1, 1) + _conv(cin, r3, 1) + _conv(r3, n3, 3) + _conv(cin, r5, 1)
                    + _conv(r5, n5, 5) + _conv(cin, proj, 1))
    return stem + modules + 1024 * classes + classes


def _googlenet_aux_params(channels, side, classes):
    pooled = (side - 5) // 3 + 1
    return _conv(channels, 128, 1) + (pooled * pooled * 128 + 1) * 1024 + 1024 * classes + classes


def test_googlenet_matches_table_1():
    model = build_googlenet(input_shape=(32, 32, 3), classes=10)
    assert model.count_params() == _googlenet_params(10)
    assert _googlenet_params(1000) == get_spec("googlenet").params == 6_998_552
    for name, (*_, cout) in zip(["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"], TABLE_1):
        assert model.get_layer(f"inception_{name}_output").output.shape[-1] == cout
    assert [layer.name for layer in model.layers if "norm" in layer.name] == [
        "pool1_norm1", "conv2_norm2"
    ]
    assert model.get_layer("top_dropout").rate == 0.4


def test_googlenet_aux_logits_train_model_and_single_output_inference_model():
    shape = (80, 80, 3)
    train = build_googlenet(aux_logits=True, input_shape=shape, classes=10)
    infer = build_googlenet(input_shape=shape, classes=10)
    assert len(infer.outputs) == 1
    assert train.output_names == ["predictions", "aux1_predictions", "aux2_predictions"]
    side_4a = 5  # 80 / 16
    assert train.count_params() - infer.count_params() == (
        _googlenet_aux_params(512, side_4a, 10) + _googlenet_aux_params(528, side_4a, 10)
    )
    assert train.get_layer("aux1_dropout").rate == 0.7
    # The inference model is the training model without its auxiliary heads.
    for layer in infer.layers:
        if layer.weights:
            layer.set_weights(train.get_layer(layer.name).get_weights())
    x = random_batch(shape)
    main, aux1, aux2 = (np.asarray(o) for o in train(x, training=False))
    np.testing.assert_allclose(main, np.asarray(infer(x, training=False)), rtol=1e-5, atol=1e-6)
    for out in (aux1, aux2):
        assert out.shape == (2, 10)
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
        assert not np.allclose(out, main)


def test_googlenet_aux_logits_bad_combinations():
    with pytest.raises(ValueError, match="include_top.*Received: aux_logits=True"):
        build_googlenet(aux_logits=True, include_top=False)
    with pytest.raises(ValueError, match="at least 65x65"):
        build_googlenet(aux_logits=True, input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="Received: aux_logits='yes'"):
        build_googlenet(aux_logits="yes")
    with pytest.raises(ValueError, match="Received: dropout=1.5"):
        build_googlenet(dropout=1.5)


def test_googlenet_without_lrn_and_non_square_aux():
    model = build_googlenet(aux_logits=True, lrn=False, input_shape=(65, 97, 3), classes=4)
    assert not [layer for layer in model.layers if "norm" in layer.name]
    outputs = model(random_batch((65, 97, 3)), training=False)
    assert [tuple(o.shape) for o in outputs] == [(2, 4)] * 3


# --- CIFAR ResNets ----------------------------------------------------------------------------

CIFAR_DEPTHS = [20, 32, 44, 56, 110]
# Trainable parameters (PyTorch's count, batch norm's moving statistics excluded): option A as in
# the paper (0.27M ... 1.7M), option B (projections at the two downsampling blocks) as commonly
# tabulated.
PUBLISHED_A = {20: 269_722, 32: 464_154, 44: 658_586, 56: 853_018, 110: 1_727_962}
PUBLISHED_B = {20: 272_474, 32: 466_906, 44: 661_338, 56: 855_770, 110: 1_730_714}


def _cifar_reference(depth, shortcut, classes=10):
    """(Keras count, trainable count) from §4.2: 6n+2 layers of 3x3 convolutions + batch norm."""
    n = (depth - 2) // 6
    convs = 9 * 3 * 16
    bn_channels = 16
    cin = 16
    for width in (16, 32, 64):
        for _ in range(n):
            convs += 9 * cin * width + 9 * width * width
            bn_channels += 2 * width
            if shortcut == "B" and cin != width:
                convs += cin * width
                bn_channels += width
            cin = width
    fc = 64 * classes + classes
    return convs + fc + 4 * bn_channels, convs + fc + 2 * bn_channels


@pytest.mark.parametrize("depth", CIFAR_DEPTHS)
def test_cifar_resnet_parameters_for_both_shortcuts(depth):
    name = f"resnet{depth}"
    a = get_model(name)
    b = get_model(name, shortcut="B")
    assert a.input_shape == (None, 32, 32, 3) and a.output_shape == (None, 10)
    assert (a.count_params(), trainable_count(a)) == _cifar_reference(depth, "A")
    assert (b.count_params(), trainable_count(b)) == _cifar_reference(depth, "B")
    assert trainable_count(a) == PUBLISHED_A[depth] and trainable_count(b) == PUBLISHED_B[depth]
    assert a.count_params() == get_spec(name).params
    # Option A's shortcuts carry no parameters; B's are the two 1x1 projections.
    assert [layer.name for layer in a.layers if layer.name.endswith("_0_conv")] == []
    projections = [layer for layer in b.layers if layer.name.endswith("_0_conv")]
    assert [layer.name for layer in projections] == ["conv3_block1_0_conv", "conv4_block1_0_conv"]
    assert [layer.count_params() for layer in projections] == [16 * 32, 32 * 64]
    conv_layers = [layer for layer in a.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(conv_layers) + 1 == depth  # 6n+2 weighted layers: convolutions + the classifier


def test_shortcut_a_is_the_subsampled_input_with_zero_channels():
    model = build_resnet20(input_shape=(9, 11, 3), include_top=False)
    probe = keras.Model(
        model.input,
        [model.get_layer("conv2_block3_out").output,
         model.get_layer("conv3_block1_0_to_channels_last").output,
         model.get_layer("conv3_block1_add").output],
    )
    block_in, shortcut, added = (np.asarray(t) for t in probe(random_batch((9, 11, 3)), training=False))
    expected = np.concatenate(
        [block_in[:, ::2, ::2, :], np.zeros((2, 5, 6, 16), np.float32)], axis=-1
    )
    np.testing.assert_array_equal(shortcut, expected)
    assert added.shape == (2, 5, 6, 32)


def test_unknown_shortcut_is_refused():
    with pytest.raises(ValueError, match="shortcut.*'A', 'B'.*Received: shortcut='C'"):
        build_resnet20(shortcut="C")
    with pytest.raises(ValueError, match="shortcut.*'B'.*Received: shortcut='A'"):
        build_resnet50(shortcut="A")


def test_cifar_resnet_non_square_and_too_small_inputs():
    model = build_resnet20(input_shape=(16, 24, 3), include_top=False, shortcut="B")
    assert model(random_batch((16, 24, 3)), training=False).shape == (2, 4, 6, 64)
    with pytest.raises(ValueError, match="at least 4x4.*Received: input_shape=\\(3, 8, 3\\)"):
        build_resnet20(input_shape=(3, 8, 3))


def test_resnet18_34_match_torchvision_parameter_counts():
    # torchvision's published num_params (trainable; moving statistics are buffers there).
    assert trainable_count(build_resnet18()) == 11_689_512
    assert trainable_count(build_resnet34()) == 21_797_672


# --- Feature taps -----------------------------------------------------------------------------


# (model, input side): "valid"-padded families (Inception v3/v4, Inception-ResNet) shrink at the
# borders, the others give exactly ceil(side / stride).
VALID_PADDING = {"inception_v3", "inception_v4", "inception_resnet_v1", "inception_resnet_v2"}


@pytest.mark.parametrize(
    "name,side", [("googlenet", 64), ("inception_v3", 75), ("resnet18", 64), ("resnet50_v2", 64),
                  ("resnet20", 64), ("bn_inception", 64), ("inception_v4", 75),
                  ("inception_resnet_v1", 75), ("inception_resnet_v2", 75), ("resnext50_32x4d", 64),
                  ("se_resnet18", 65), ("se_resnext50_32x4d", 64)],
)
def test_feature_taps_have_exactly_their_stride(name, side):
    """Growing the input by 32 pixels grows a stride-s map by exactly 32/s (valid padding too)."""
    spec = get_spec(name)
    model = spec.builder(include_top=False, input_shape=(None, None, 3))
    strides = sorted(spec.feature_taps)
    probe = keras.Model(model.input, [model.get_layer(spec.feature_taps[s]).output for s in strides])
    small = probe(random_batch((side, side, 3), n=1), training=False)
    large = probe(random_batch((side + 32, side + 64, 3), n=1), training=False)
    for stride, a, b in zip(strides, small, large):
        assert (b.shape[1] - a.shape[1], b.shape[2] - a.shape[2]) == (32 // stride, 64 // stride)
        if name not in VALID_PADDING:  # "same" padding: exactly ceil(side / stride)
            assert a.shape[1] == -(-side // stride), (stride, a.shape)


# --- Squeeze-and-excitation -------------------------------------------------------------------


def test_squeeze_excite_matches_numpy_reference():
    inputs = keras.Input((3, 4, 8))
    model = keras.Model(inputs, squeeze_excite(inputs, ratio=4, name="se"))
    rng = np.random.default_rng(1)
    w1, b1 = rng.normal(size=(8, 2)), rng.normal(size=2)
    w2, b2 = rng.normal(size=(2, 8)), rng.normal(size=8)
    model.get_layer("se_se_reduce").set_weights([w1.reshape(1, 1, 8, 2), b1])
    model.get_layer("se_se_expand").set_weights([w2.reshape(1, 1, 2, 8), b2])
    x = rng.normal(size=(2, 3, 4, 8)).astype("float32")
    squeezed = x.mean(axis=(1, 2))
    gate = 1 / (1 + np.exp(-(np.maximum(squeezed @ w1 + b1, 0) @ w2 + b2)))
    np.testing.assert_allclose(
        np.asarray(model(x)), x * gate[:, None, None, :], rtol=1e-5, atol=1e-6
    )
    assert model.count_params() == 8 * 2 + 2 + 2 * 8 + 8


def test_se_resnet50_gates_every_bottleneck():
    model = build_se_resnet50(input_shape=(32, 32, 3), classes=10)
    gates = [layer.name for layer in model.layers if layer.name.endswith("_se_excite")]
    assert len(gates) == 3 + 4 + 6 + 3
    assert model.get_layer("conv5_block3_se_reduce").filters == 2048 // 16
    # Added parameters: two FC layers with biases per block, C -> C/16 -> C.
    se = sum(n * (2 * c * (c // 16) + c // 16 + c) for c, n in ((256, 3), (512, 4), (1024, 6),
                                                               (2048, 3)))
    assert se == 2_530_992
    resnet50 = build_resnet50(input_shape=(32, 32, 3), classes=10)
    conv_biases = sum(layer.filters for layer in resnet50.layers
                      if isinstance(layer, keras.layers.Conv2D))
    assert model.count_params() == resnet50.count_params() - conv_biases + se
    assert get_spec("se_resnet50").params - (1000 - 10) * 2049 == model.count_params()
    # The published 28.09M counts trainable parameters only.
    assert get_spec("se_resnet50").params - 2 * sum(
        layer.weights[0].shape[0] for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ) == 28_088_024
    with pytest.raises(ValueError, match="Received: reduction=0"):
        build_se_resnet50(reduction=0)


# --- keras.applications names -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["inception_v3", "resnet50_v2"])
def test_layer_names_are_keras_applications_names(name):
    """Including the automatic names (conv2d_5, max_pooling2d_1) of a fresh Keras session."""
    spec = get_spec(name)
    shape = (75, 75, 3)
    reference = getattr(keras.applications, spec.keras_app)(weights=None, input_shape=shape,
                                                           classes=10)
    ours = spec.builder(input_shape=shape, classes=10)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in reference.layers]
    assert [w.shape for w in ours.weights] == [w.shape for w in reference.weights]
