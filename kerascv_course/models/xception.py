"""Xception (Chollet, 2017): Inception taken to the extreme, with depthwise-separable convolutions.

Entry flow (a two-convolution stem and three downsampling blocks), middle flow (eight residual
blocks of three separable convolutions at 728 channels) and exit flow (a downsampling block and
two widening separable convolutions). Every separable convolution is followed by batch norm; the
downsampling blocks add a 1x1/2 projection shortcut. Layer names and order are keras.applications'
``Xception`` (``block1_conv1`` … ``block14_sepconv2_act``, ``predictions``), so its published
weight files load unchanged; the shortcut layers, unnamed there, are ``block{N}_shortcut_conv``,
``block{N}_shortcut_bn`` and ``block{N}_add`` here.
"""

from __future__ import annotations

from typing import Any

import keras

from kerascv_course.models.common import (
    check_args,
    common_args,
    finish_model,
    model_input,
    pool_or_classify,
)
from kerascv_course.models.registry import register_model
from kerascv_course.utils.checks import check_probability

# The flows as data (Chollet, Fig. 5). Downsampling blocks: (block number, (sepconv1 filters,
# sepconv2 filters), whether a ReLU precedes the first separable convolution).
ENTRY_BLOCKS: tuple[tuple[int, tuple[int, int], bool], ...] = (
    (2, (128, 128), False),  # follows the stem's ReLU directly
    (3, (256, 256), True),
    (4, (728, 728), True),
)
MIDDLE_BLOCKS = range(5, 13)  # eight residual blocks
MIDDLE_FILTERS = 728
EXIT_BLOCK: tuple[int, tuple[int, int], bool] = (13, (728, 1024), True)
TOP_FILTERS = (1536, 2048)  # block 14: two separable convolutions, BN then ReLU

# The ReLU of each stage's output (the input of the next downsampling block's separable path).
_TAPS = {
    2: "block1_conv2_act", 4: "block3_sepconv1_act", 8: "block4_sepconv1_act",
    16: "block13_sepconv1_act", 32: "block14_sepconv2_act",
}


def _sepconv_bn(x: Any, filters: int, *, name: str, relu_first: bool = True) -> Any:
    """``[ReLU ({name}_act)] -> SeparableConv2D 3x3 ({name}) -> BN ({name}_bn)``."""
    if relu_first:
        x = keras.layers.Activation("relu", name=f"{name}_act")(x)
    x = keras.layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
    return keras.layers.BatchNormalization(name=f"{name}_bn")(x)


def downsampling_block(
    x: Any, filters: tuple[int, int], *, block: int, relu_first: bool = True
) -> Any:
    """Two separable convolutions, 3x3/2 max-pooling, plus a 1x1/2 convolution shortcut.

    Args:
        x: input map.
        filters: the two separable convolutions' filters; the shortcut has the second.
        block: block number (``block{block}_sepconv1`` …).
        relu_first: whether a ReLU precedes the first separable convolution (all but block 2,
            which follows the stem's ReLU).

    Returns:
        The map at half the resolution.
    """
    prefix = f"block{block}"
    shortcut = keras.layers.Conv2D(
        filters[1], 1, strides=2, padding="same", use_bias=False, name=f"{prefix}_shortcut_conv"
    )(x)
    shortcut = keras.layers.BatchNormalization(name=f"{prefix}_shortcut_bn")(shortcut)
    x = _sepconv_bn(x, filters[0], name=f"{prefix}_sepconv1", relu_first=relu_first)
    if not relu_first:
        # keras.applications names this ReLU after the convolution it feeds.
        x = keras.layers.Activation("relu", name=f"{prefix}_sepconv2_act")(x)
    x = _sepconv_bn(x, filters[1], name=f"{prefix}_sepconv2", relu_first=relu_first)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name=f"{prefix}_pool")(x)
    return keras.layers.Add(name=f"{prefix}_add")([x, shortcut])


def middle_block(x: Any, filters: int, *, block: int) -> Any:
    """Three ReLU-separable-conv-BN units with an identity shortcut (the middle flow)."""
    shortcut = x
    for i in (1, 2, 3):
        x = _sepconv_bn(x, filters, name=f"block{block}_sepconv{i}")
    return keras.layers.Add(name=f"block{block}_add")([x, shortcut])


@register_model(
    "xception", family="xception", paper="Chollet, 2017", year=2017, arxiv="1610.02357",
    default_input_shape=(299, 299, 3), min_input_size=71, params=22_910_480,
    keras_app="Xception", feature_taps=_TAPS, test_input_shape=(71, 71, 3),
)
@common_args
def build_xception(*, dropout: float = 0.0, **common: Any) -> keras.Model:
    """Xception (Chollet, 2017, arXiv:1610.02357): 36 convolutions, all separable after the stem.

    22,910,480 parameters at 299x299 and 1000 classes (20,861,480 without the top); inputs from
    71x71 up (the stem's two 'valid' 3x3 convolutions and four 3x3/2 poolings).

    Args:
        dropout: dropout rate before the classifier. The paper trained its ImageNet model with
            0.5; the default 0 gives keras.applications' graph exactly (a ``top_dropout`` layer
            holds no weights, so weight files load either way).
    """
    model = "xception"
    check_probability("dropout", dropout, where=model)
    args = check_args(model, **common)
    inputs = model_input(args)
    x = keras.layers.Conv2D(32, 3, strides=2, use_bias=False, name="block1_conv1")(inputs)
    x = keras.layers.BatchNormalization(name="block1_conv1_bn")(x)
    x = keras.layers.Activation("relu", name="block1_conv1_act")(x)
    x = keras.layers.Conv2D(64, 3, use_bias=False, name="block1_conv2")(x)
    x = keras.layers.BatchNormalization(name="block1_conv2_bn")(x)
    x = keras.layers.Activation("relu", name="block1_conv2_act")(x)
    for block, filters, relu_first in ENTRY_BLOCKS:
        x = downsampling_block(x, filters, block=block, relu_first=relu_first)
    for block in MIDDLE_BLOCKS:
        x = middle_block(x, MIDDLE_FILTERS, block=block)
    block, filters, relu_first = EXIT_BLOCK
    x = downsampling_block(x, filters, block=block, relu_first=relu_first)
    for i, top_filters in enumerate(TOP_FILTERS, start=1):
        x = _sepconv_bn(x, top_filters, name=f"block14_sepconv{i}", relu_first=False)
        x = keras.layers.Activation("relu", name=f"block14_sepconv{i}_act")(x)
    return finish_model(inputs, pool_or_classify(x, args, dropout=dropout), args, model)
