"""MobileNet v1 (Howard et al., 2017) and MobileNet v2 (Sandler et al., 2018).

v1 factorises each convolution into a 3x3 depthwise and a 1x1 pointwise convolution, each followed
by BN and ReLU6; v2 stacks inverted residuals (1x1 expansion, 3x3 depthwise, linear 1x1
projection, identity shortcut when shapes allow). Both are tables of data below, read by one loop.
Layer names and order are keras.applications' ``MobileNet`` / ``MobileNetV2``, so its published
weight files load unchanged.
"""

from __future__ import annotations

from typing import Any

import keras

from kerascv_course.models.common import (
    check_args,
    common_args,
    finish_model,
    model_input,
    pool_features,
    pool_or_classify,
)
from kerascv_course.models.registry import register_model
from kerascv_course.utils.checks import check_number, check_positive_int, check_probability, fail

# MobileNet v1 (Howard et al., Table 1): (pointwise filters, depthwise stride) of the 13
# depthwise-separable blocks after the 32-filter 3x3/2 stem; widths are multiplied by ``alpha``.
V1_BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1),
    (128, 2), (128, 1),
    (256, 2), (256, 1),
    (512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),
    (1024, 2), (1024, 1),
)
# MobileNet v2 (Sandler et al., Table 2): (expansion t, output channels c, repeats n, stride s of
# the first repeat) of the bottleneck sequences after the 32-filter 3x3/2 stem.
V2_BLOCKS: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
V1_ALPHAS = (0.25, 0.5, 0.75, 1.0)  # widths with published ImageNet weights
V2_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
V2_BN = dict(epsilon=1e-3, momentum=0.999)  # keras.applications' (TF-slim) BN settings for v2

_V1_TAPS = {
    2: "conv_pw_1_relu", 4: "conv_pw_3_relu", 8: "conv_pw_5_relu", 16: "conv_pw_11_relu",
    32: "conv_pw_13_relu",
}
# The expansions' ReLU6 at the start of each downsampling block carry the richest full-resolution
# maps of the previous stage (the choice of TensorFlow's own U-Net-on-MobileNetV2 tutorial).
_V2_TAPS = {
    2: "block_1_expand_relu", 4: "block_3_expand_relu", 8: "block_6_expand_relu",
    16: "block_13_expand_relu", 32: "out_relu",
}


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a channel count to the nearest multiple of ``divisor``, never losing more than 10%.

    The rounding of the reference MobileNet v2 implementation, which its weight files depend on.
    """
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _pad_for_stride2(x: Any, name: str) -> Any:
    """Pad so a 3x3 stride-2 'valid' depthwise conv sees TF-slim's (asymmetric) padding.

    keras.applications pads ((1, 1), (1, 1)) on odd sides and ((0, 1), (0, 1)) on even or unknown
    sides, per axis; v2's weights were trained with exactly this.
    """
    pads = tuple((0, 1) if side is None or side % 2 == 0 else (1, 1) for side in x.shape[1:3])
    return keras.layers.ZeroPadding2D(pads, name=name)(x)


def _check_alpha(model: str, alpha: Any, weights: Any, published: tuple[float, ...]) -> None:
    check_number("alpha", alpha, low=0.0, low_open=True, where=model)
    if model == "mobilenet" and int(32 * alpha) < 1:
        raise fail(
            "alpha", alpha,
            "at least 1/32 = 0.03125 so that the 32-filter stem keeps one filter (the paper uses "
            "0.25, 0.5, 0.75 and 1.0)",
            where=model,
        )
    if weights == "imagenet" and alpha not in published:
        raise fail("alpha", alpha, f"in {published} for ImageNet weights", where=model)


def depthwise_separable(
    x: Any, filters: int, *, stride: int = 1, depth_multiplier: int = 1, block: int
) -> Any:
    """MobileNet v1's unit: 3x3 depthwise conv, BN, ReLU6, 1x1 pointwise conv, BN, ReLU6.

    Args:
        x: input map.
        filters: pointwise (output) channels, already scaled by ``alpha``.
        stride: depthwise stride (1 or 2; stride 2 pads right/bottom then convolves 'valid').
        depth_multiplier: depthwise outputs per input channel (the paper's resolution-free
            width knob for the depthwise half).
        block: block number; layers ``conv_pad_{block}``, ``conv_dw_{block}`` (+ ``_bn``,
            ``_relu``), ``conv_pw_{block}`` (+ ``_bn``, ``_relu``).

    Returns:
        The output map with ``filters`` channels.
    """
    if stride != 1:
        x = keras.layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block}")(x)
    x = keras.layers.DepthwiseConv2D(
        3, strides=stride, padding="same" if stride == 1 else "valid",
        depth_multiplier=depth_multiplier, use_bias=False, name=f"conv_dw_{block}",
    )(x)
    x = keras.layers.BatchNormalization(name=f"conv_dw_{block}_bn")(x)
    x = keras.layers.ReLU(6.0, name=f"conv_dw_{block}_relu")(x)
    x = keras.layers.Conv2D(filters, 1, use_bias=False, name=f"conv_pw_{block}")(x)
    x = keras.layers.BatchNormalization(name=f"conv_pw_{block}_bn")(x)
    return keras.layers.ReLU(6.0, name=f"conv_pw_{block}_relu")(x)


def inverted_residual(x: Any, filters: int, *, expansion: int, stride: int, block: int) -> Any:
    """MobileNet v2's bottleneck: 1x1 expansion + ReLU6, 3x3 depthwise + ReLU6, linear 1x1
    projection, and an identity shortcut when the input and output shapes agree.

    Args:
        x: input map.
        filters: output channels (already scaled by ``alpha`` and rounded to a multiple of 8).
        expansion: t, the expansion factor (the first block, t=1, has no expansion layer).
        stride: depthwise stride.
        block: block index; layers ``block_{block}_expand`` … ``block_{block}_add``, or
            ``expanded_conv_…`` for block 0 (keras.applications' names).

    Returns:
        The output map.
    """
    in_channels = x.shape[-1]
    shortcut = x
    prefix = f"block_{block}_" if block else "expanded_conv_"
    if block:
        x = keras.layers.Conv2D(
            expansion * in_channels, 1, use_bias=False, name=f"{prefix}expand"
        )(x)
        x = keras.layers.BatchNormalization(**V2_BN, name=f"{prefix}expand_BN")(x)
        x = keras.layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    if stride == 2:
        x = _pad_for_stride2(x, f"{prefix}pad")
    x = keras.layers.DepthwiseConv2D(
        3, strides=stride, padding="same" if stride == 1 else "valid", use_bias=False,
        name=f"{prefix}depthwise",
    )(x)
    x = keras.layers.BatchNormalization(**V2_BN, name=f"{prefix}depthwise_BN")(x)
    x = keras.layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = keras.layers.Conv2D(filters, 1, use_bias=False, name=f"{prefix}project")(x)
    x = keras.layers.BatchNormalization(**V2_BN, name=f"{prefix}project_BN")(x)
    if stride == 1 and in_channels == filters:
        x = keras.layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


@register_model(
    "mobilenet", family="mobilenet", paper="Howard et al., 2017", year=2017, arxiv="1704.04861",
    default_input_shape=(224, 224, 3), min_input_size=32, params=4_253_864,
    keras_app="MobileNet", feature_taps=_V1_TAPS, test_input_shape=(32, 32, 3),
)
@common_args
def build_mobilenet(
    *, alpha: float = 1.0, depth_multiplier: int = 1, dropout: float = 1e-3, **common: Any
) -> keras.Model:
    """MobileNet v1 (Howard et al., 2017, arXiv:1704.04861): 13 depthwise-separable blocks.

    A 3x3/2 stem and 13 blocks of 3x3 depthwise + 1x1 pointwise convolutions (each with BN and
    ReLU6), then global pooling and a 1x1-convolution classifier. 4,253,864 parameters at
    ``alpha=1`` and 1000 classes (3,228,864 without the top); any input from 32x32 up.

    Args:
        alpha: width multiplier: every layer's filters are scaled by it (paper: 0.25, 0.5, 0.75,
            1.0; any value >= 1/32 builds, ImageNet weights exist for the paper's four).
        depth_multiplier: depthwise outputs per input channel (integer >= 1; 1 in the paper's
            models). The paper's "resolution multiplier" is simply a smaller ``input_shape``.
        dropout: dropout rate before the classifier (1e-3 in keras.applications).
    """
    model = "mobilenet"
    _check_alpha(model, alpha, common["weights"], V1_ALPHAS)
    check_positive_int("depth_multiplier", depth_multiplier, where=model)
    if common["weights"] == "imagenet" and depth_multiplier != 1:
        raise fail("depth_multiplier", depth_multiplier, "1 for ImageNet weights", where=model)
    check_probability("dropout", dropout, where=model)
    args = check_args(model, **common)
    inputs = model_input(args)
    x = keras.layers.Conv2D(
        int(32 * alpha), 3, strides=2, padding="same", use_bias=False, name="conv1"
    )(inputs)
    x = keras.layers.BatchNormalization(name="conv1_bn")(x)
    x = keras.layers.ReLU(6.0, name="conv1_relu")(x)
    for block, (filters, stride) in enumerate(V1_BLOCKS, start=1):
        x = depthwise_separable(
            x, int(filters * alpha), stride=stride, depth_multiplier=depth_multiplier, block=block
        )
    app = {"alpha": alpha}
    if not args.include_top:
        return finish_model(inputs, pool_features(x, args.pooling), args, model, app)
    # The classifier is a 1x1 convolution on the pooled 1x1 map, as in the reference weights.
    x = keras.layers.GlobalAveragePooling2D(keepdims=True, name="avg_pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    x = keras.layers.Conv2D(args.classes, 1, padding="same", name="conv_preds")(x)
    x = keras.layers.Reshape((args.classes,), name="reshape_2")(x)
    x = keras.layers.Activation(args.classifier_activation, name="predictions")(x)
    return finish_model(inputs, x, args, model, app)


@register_model(
    "mobilenet_v2", family="mobilenet_v2", paper="Sandler, Howard, Zhu, Zhmoginov & Chen, 2018",
    year=2018, arxiv="1801.04381", default_input_shape=(224, 224, 3), min_input_size=32,
    params=3_538_984, keras_app="MobileNetV2", feature_taps=_V2_TAPS,
    test_input_shape=(32, 32, 3),
)
@common_args
def build_mobilenet_v2(*, alpha: float = 1.0, **common: Any) -> keras.Model:
    """MobileNet v2 (Sandler et al., 2018, arXiv:1801.04381): inverted residuals, linear bottlenecks.

    A 3x3/2 stem, 17 inverted-residual blocks (Table 2 of the paper: expansion 6, widths 16 to
    320), a 1280-channel 1x1 layer, global pooling and a dense classifier. 3,538,984 parameters
    at ``alpha=1`` and 1000 classes; any input from 32x32 up.

    Args:
        alpha: width multiplier, channels rounded to multiples of 8 (ImageNet weights for 0.35,
            0.5, 0.75, 1.0, 1.3 and 1.4; any value > 0 builds).
    """
    model = "mobilenet_v2"
    _check_alpha(model, alpha, common["weights"], V2_ALPHAS)
    args = check_args(model, **common)
    inputs = model_input(args)
    x = keras.layers.Conv2D(
        make_divisible(32 * alpha), 3, strides=2, padding="same", use_bias=False, name="Conv1"
    )(inputs)
    x = keras.layers.BatchNormalization(**V2_BN, name="bn_Conv1")(x)
    x = keras.layers.ReLU(6.0, name="Conv1_relu")(x)
    block = 0
    for expansion, channels, repeats, first_stride in V2_BLOCKS:
        # keras.applications truncates before rounding (int(c * alpha)); the weights depend on it.
        filters = make_divisible(int(channels * alpha))
        for i in range(repeats):
            x = inverted_residual(
                x, filters, expansion=expansion, stride=first_stride if i == 0 else 1,
                block=block,
            )
            block += 1
    # The last 1x1 layer widens with alpha > 1 only (the paper keeps 1280 for thinner nets).
    last = make_divisible(1280 * alpha) if alpha > 1.0 else 1280
    x = keras.layers.Conv2D(last, 1, use_bias=False, name="Conv_1")(x)
    x = keras.layers.BatchNormalization(**V2_BN, name="Conv_1_bn")(x)
    x = keras.layers.ReLU(6.0, name="out_relu")(x)
    return finish_model(inputs, pool_or_classify(x, args), args, model, {"alpha": alpha})
