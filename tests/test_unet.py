"""U-Net: the paper's network (shapes, parameter count), its options, and every zoo encoder."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerascv_course.models import get_spec, list_models
from kerascv_course.models.unet import (
    build_unet,
    eligible_backbones,
    valid_input_sizes,
    valid_output_size,
)

BACKBONES = [n for n in list_models("classification") if get_spec(n).feature_taps is not None]
NO_SPATIAL = [n for n in list_models("classification") if get_spec(n).feature_taps is None]


def _paper_params(base: int = 64, depth: int = 4, in_ch: int = 1, classes: int = 2) -> int:
    """The U-Net's parameter count written out level by level (independent of the builder)."""
    def conv(k, cin, cout):
        return k * k * cin * cout + cout

    total, cin = 0, in_ch
    for level in range(depth + 1):  # contracting path and bottom
        f = base * 2**level
        total += conv(3, cin, f) + conv(3, f, f)
        cin = f
    for level in reversed(range(depth)):  # expanding path
        f = base * 2**level
        total += conv(2, cin, f)  # 2x2 up-convolution halving the channels
        total += conv(3, 2 * f, f) + conv(3, f, f)
        cin = f
    return total + conv(1, cin, classes)


def test_original_unet_at_572_gives_388_and_31_030_658_parameters():
    model = build_unet((572, 572, 1), classes=2, padding="valid")
    assert model.output_shape == (None, 388, 388, 2)
    assert model.count_params() == 31_030_658 == _paper_params()
    # Fig. 1's map sizes: 568 at the top level, 32 -> 28 at the bottom, crops before concatenation.
    assert model.get_layer("enc1_2_relu").output.shape[1] == 568
    assert model.get_layer("bottleneck_2_relu").output.shape[1:] == (28, 28, 1024)
    assert model.get_layer("dec4_crop").output.shape[1:3] == (56, 56)
    assert model.get_layer("dec1_crop").output.shape[1:3] == (392, 392)
    assert valid_output_size(572) == 388


def test_valid_size_arithmetic_matches_the_built_network():
    sizes = valid_input_sizes(depth=4, count=3)
    assert sizes == [188, 204, 220]
    for depth, size in ((4, 188), (2, 44), (3, 92)):
        model = build_unet((size, size, 1), padding="valid", depth=depth, base_filters=4)
        out = model(np.zeros((1, size, size, 1), np.float32))
        assert out.shape[1] == valid_output_size(size, depth)
    assert valid_output_size(190) is None


def test_default_model_matches_the_registry():
    spec = get_spec("unet")
    assert spec.task == "segmentation" and spec.arxiv == "1505.04597"
    # Parameters do not depend on the input size: count at a small one.
    model = build_unet(spec.small_input_shape)
    assert model.count_params() == spec.params == _paper_params()
    assert model.output_shape == (None, *spec.small_input_shape[:2], 2)


@pytest.mark.parametrize("block_type", ["transpose", "upsampling"])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_same_padding_options_keep_the_resolution(block_type, batch_norm):
    model = build_unet(
        (32, 48, 3), classes=4, depth=3, base_filters=8, batch_norm=batch_norm,
        decoder_block_type=block_type, dropout=0.3,
    )
    x = np.random.default_rng(0).random((2, 32, 48, 3), dtype=np.float32)
    out = np.asarray(model(x, training=False))
    assert out.shape == (2, 32, 48, 4)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)
    names = [layer.name for layer in model.layers]
    assert any("_bn" in n for n in names) == batch_norm
    assert ("dec1_upsample" in names) == (block_type == "upsampling")
    assert "bottleneck_dropout" in names
    expected = _paper_params(base=8, depth=3, in_ch=3, classes=4)
    if batch_norm:  # convs lose their biases, each gains a batch norm (4 parameters per channel)
        bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
        expected += sum(3 * layer.weights[0].shape[0] for layer in bns)
    assert model.count_params() == expected


def test_one_class_gives_a_sigmoid_map():
    model = build_unet((32, 32, 1), classes=1, depth=2, base_filters=4)
    out = np.asarray(model(np.ones((1, 32, 32, 1), np.float32)))
    assert out.shape == (1, 32, 32, 1)
    assert model.get_layer("predictions").activation.__name__ == "sigmoid"
    assert ((out > 0) & (out < 1)).all()


def _side(name: str) -> int:
    return max(32, 32 * math.ceil(get_spec(name).min_input_size / 32))


def test_eligible_backbones_are_those_with_feature_taps():
    assert eligible_backbones() == BACKBONES
    assert {"vgg16", "resnet34", "alexnet", "lenet5"} <= set(BACKBONES)


@pytest.mark.parametrize("backbone", BACKBONES)
def test_every_eligible_model_works_as_an_encoder(backbone):
    spec = get_spec(backbone)
    side, channels = _side(backbone), spec.default_input_shape[-1]
    model = build_unet((side, side, channels), classes=3, backbone=backbone)
    x = tf.random.stateless_uniform((1, side, side, channels), seed=(1, 2))
    weights = tf.random.stateless_uniform((1, side, side, 3), seed=(3, 4))
    with tf.GradientTape() as tape:
        # In training, FractalNet's global drop-path keeps one column per batch, by design: a step
        # may leave the first layer (in another column) without gradient. Inference keeps all.
        out = model(x, training=backbone != "fractalnet")
        loss = tf.reduce_sum(out * weights)
    assert tuple(out.shape) == (1, side, side, 3)
    np.testing.assert_allclose(np.asarray(out).sum(-1), 1.0, rtol=1e-4)
    # The gradient reaches the first layer of the encoder, the farthest from the output.
    first = next(layer for layer in model.layers if layer.trainable_weights)
    assert not first.name.startswith("decoder") and first.name != "predictions"
    grads = tape.gradient(loss, first.trainable_weights)
    assert all(g is not None for g in grads)
    assert float(tf.reduce_max(tf.abs(grads[0]))) > 0.0
    for stride, layer_name in spec.feature_taps.items():  # the taps are inside the U-Net
        assert model.get_layer(layer_name) is not None, stride


def test_frozen_encoder_gets_no_update():
    model = build_unet((64, 64, 3), classes=2, backbone="vgg11", encoder_freeze=True)
    encoder = [layer for layer in model.layers if layer.name.startswith("block")]
    assert encoder and all(not layer.trainable for layer in encoder)
    trainable = {id(v) for v in model.trainable_weights}
    assert not any(id(v) in trainable for layer in encoder for v in layer.weights)
    x = tf.random.stateless_uniform((1, 64, 64, 3), seed=(1, 2))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x, training=True)[..., 0])
    grads = tape.gradient(loss, model.trainable_weights)
    assert grads and all(g is not None for g in grads)  # the decoder still learns


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5", ".h5"])
def test_encoder_weights_load_from_a_classification_file(tmp_path, suffix):
    classifier = get_spec("resnet18").builder(input_shape=(32, 32, 3), classes=10)
    path = str(tmp_path / f"resnet18{suffix}")
    if suffix in (".keras", ".h5"):  # .h5: the legacy whole-model format, read by layer name
        classifier.save(path)
    else:
        classifier.save_weights(path)
    model = build_unet((64, 64, 3), classes=2, backbone="resnet18", encoder_weights=path)
    for name in ("conv1_conv", "conv1_bn", "conv3_block1_0_conv", "conv5_block2_2_bn"):
        for got, want in zip(model.get_layer(name).get_weights(), classifier.get_layer(name).get_weights()):
            np.testing.assert_array_equal(got, want)


def test_encoder_weights_from_another_architecture_are_refused(tmp_path):
    other = get_spec("lenet5").builder()
    path = str(tmp_path / "lenet5.keras")
    other.save(path)
    with pytest.raises(ValueError, match="backbone layer 'block1_conv1' is not in"):
        build_unet((64, 64, 3), backbone="vgg11", encoder_weights=path)
    grey = get_spec("vgg11").builder(input_shape=(32, 32, 1), include_top=False)
    path = str(tmp_path / "vgg11_grey.keras")
    grey.save(path)
    with pytest.raises(ValueError, match="block1_conv1.*shapes"):
        build_unet((64, 64, 3), backbone="vgg11", encoder_weights=path)


def test_decoder_filters_and_resized_skips_round_trip_in_safe_mode(tmp_path):
    # AlexNet's valid padding gives maps that are not input/stride: the decoder resizes to them.
    model = build_unet(
        (96, 96, 3), classes=2, backbone="alexnet", decoder_filters=(64, 32, 16, 8),
        decoder_block_type="upsampling",
    )
    assert [layer.filters for layer in model.layers if layer.name.endswith("_2_conv")] == [64, 32, 16, 8]
    assert any(isinstance(layer, keras.layers.Resizing) for layer in model.layers)
    path = tmp_path / "unet_alexnet.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = np.random.default_rng(0).random((1, 96, 96, 3), dtype=np.float32)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-5, atol=1e-6)


BAD = [
    (dict(input_shape=(60, 60, 1)), "multiples of 2\\*\\*depth = 16.*48, 64.*Received: input_shape"),
    (dict(input_shape=(570, 570, 1), padding="valid"), "16\\*k \\+ 124.*188, 204.*Received: input_shape"),
    (dict(input_shape=(64, 64, 3), backbone="mlp"), "eligible backbones: .*vgg16.*Received: backbone='mlp'"),
    (dict(input_shape=(64, 64, 3), backbone="resnet18", padding="valid"), "Received: padding='valid'"),
    (dict(backbone="no_such_net"), "eligible backbones.*Received: backbone="),
    (dict(padding="full"), "padding.*Received: padding='full'"),
    (dict(classes=0), "classes.*Received: classes=0"),
    (dict(encoder_weights="x.h5"), "only with a backbone.*Received: encoder_weights"),
    (dict(backbone="vgg11", depth=3), "Received: depth=3"),
    (dict(backbone="vgg11", input_shape=(64, 64, 3), decoder_filters=(8, 8)), "5 positive integers.*Received: decoder_filters"),
    (dict(decoder_block_type="deconv"), "Received: decoder_block_type='deconv'"),
]


@pytest.mark.parametrize("kwargs,message", BAD, ids=[str(b[0]) for b in BAD])
def test_bad_arguments_raise_before_building(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_unet(**kwargs)


@pytest.mark.parametrize("name", NO_SPATIAL)
def test_models_without_spatial_features_are_refused(name):
    with pytest.raises(ValueError, match="no spatial feature maps"):
        build_unet((64, 64, 1), backbone=name)


def test_missing_encoder_weights_file():
    with pytest.raises(FileNotFoundError, match="encoder_weights"):
        build_unet((64, 64, 3), backbone="vgg11", encoder_weights="/no/such/file.keras")
