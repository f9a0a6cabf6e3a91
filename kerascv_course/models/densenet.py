"""DenseNet-BC (Huang, Liu, van der Maaten & Weinberger, 2017): every layer sees all earlier maps.

A dense block concatenates each layer's ``growth_rate`` new maps onto its input; the "B"
(bottleneck: BN-ReLU-1x1 conv to ``4 * growth_rate`` maps before the 3x3) and "C" (compression:
transitions keep ``compression`` of the channels) variants are the ImageNet models. Layer names
and order are keras.applications' (``conv1_conv``, ``conv2_block1_0_bn`` … ``pool2_conv`` … ``bn``,
``relu``, ``predictions``), so its published weight files load unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from kerascv_course.models.blocks import BN_EPSILON
from kerascv_course.models.common import (
    check_args,
    finish_model,
    model_input,
    pool_or_classify,
    public_builder,
)
from kerascv_course.models.registry import register_model
from kerascv_course.utils.checks import check_number, check_positive_int, fail

# Dense layers per dense block (Huang et al., Table 1); the stem and three transitions between.
_VARIANTS: dict[str, tuple[int, ...]] = {
    "densenet121": (6, 12, 24, 16),
    "densenet169": (6, 12, 32, 32),
    "densenet201": (6, 12, 48, 32),
}
_PARAMS = {"densenet121": 8_062_504, "densenet169": 14_307_880, "densenet201": 20_242_984}
_KERAS_APP = {"densenet121": "DenseNet121", "densenet169": "DenseNet169", "densenet201": "DenseNet201"}
# The transitions' BN-ReLU (``poolN_relu``) is the last full-resolution map of each stage.
_TAPS = {2: "conv1_relu", 4: "pool2_relu", 8: "pool3_relu", 16: "pool4_relu", 32: "relu"}


def _bn_relu(x: Any, name: str) -> Any:
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x)


def dense_layer(x: Any, growth_rate: int, *, name: str) -> Any:
    """One bottleneck layer of a dense block: BN-ReLU-1x1 conv, BN-ReLU-3x3 conv, concatenate.

    Args:
        x: the block's running feature map.
        growth_rate: maps the layer adds (k in the paper); the bottleneck has ``4 * k``.
        name: prefix (``conv2_block1``); layers ``{name}_0_bn`` … ``{name}_2_conv``, ``{name}_concat``.

    Returns:
        ``x`` with ``growth_rate`` more channels.
    """
    y = _bn_relu(x, f"{name}_0")
    y = keras.layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(y)
    y = _bn_relu(y, f"{name}_1")
    y = keras.layers.Conv2D(
        growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv"
    )(y)
    return keras.layers.Concatenate(name=f"{name}_concat")([x, y])


def transition(x: Any, compression: float, *, name: str) -> Any:
    """Transition between dense blocks: BN-ReLU, 1x1 conv keeping ``compression`` of the channels,
    2x2 average pooling (layers ``{name}_bn``, ``{name}_relu``, ``{name}_conv``, ``{name}_pool``)."""
    x = _bn_relu(x, name)
    filters = max(1, int(x.shape[-1] * compression))
    x = keras.layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_conv")(x)
    return keras.layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def _check_blocks(model: str, blocks: Any) -> tuple[int, ...]:
    ok = (
        isinstance(blocks, Sequence)
        and not isinstance(blocks, str)
        and len(blocks) >= 1
        and all(isinstance(b, int) and not isinstance(b, bool) and b >= 1 for b in blocks)
    )
    if not ok:
        raise fail(
            "blocks", blocks,
            "a non-empty sequence of positive integers (dense layers per dense block, e.g. "
            "(6, 12, 24, 16))",
            where=model,
        )
    return tuple(blocks)


def _densenet(
    model: str,
    *,
    growth_rate: int = 32,
    compression: float = 0.5,
    blocks: Sequence[int] | None = None,
    **common: Any,
) -> keras.Model:
    blocks = _check_blocks(model, _VARIANTS[model] if blocks is None else blocks)
    check_positive_int("growth_rate", growth_rate, where=model)
    check_number("compression", compression, low=0.0, high=1.0, low_open=True, where=model)
    custom = (blocks, growth_rate, compression) != (_VARIANTS[model], 32, 0.5)
    if common.get("weights") == "imagenet" and custom:
        raise ValueError(
            f"{model}: ImageNet weights exist only for the paper's configuration "
            f"(blocks={_VARIANTS[model]}, growth_rate=32, compression=0.5). "
            f"Received: blocks={blocks}, growth_rate={growth_rate}, compression={compression}"
        )
    # The stem divides by 4 and each transition by 2: the last map is 1x1 at 2**(len+1) pixels.
    args = check_args(model, **common, min_input_size=2 ** (len(blocks) + 1))
    inputs = model_input(args)
    x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = keras.layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = _bn_relu(x, "conv1")
    x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, layers in enumerate(blocks, start=2):
        for i in range(1, layers + 1):
            x = dense_layer(x, growth_rate, name=f"conv{stage}_block{i}")
        if stage < len(blocks) + 1:
            x = transition(x, compression, name=f"pool{stage}")
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name="bn")(x)
    x = keras.layers.Activation("relu", name="relu")(x)
    return finish_model(inputs, pool_or_classify(x, args), args, model)


def _public(variant: str) -> Any:
    depth = int(variant.removeprefix("densenet"))
    doc = (
        f"DenseNet-BC-{depth} (Huang et al., 2017, arXiv:1608.06993): dense blocks of "
        f"{_VARIANTS[variant]} bottleneck layers, growth rate 32, compression 0.5; "
        f"{_PARAMS[variant]:,} parameters at 224x224 and 1000 classes (keras.applications."
        f"{_KERAS_APP[variant]}'s layers).\n\n    Args:\n"
        f"        growth_rate: maps each dense layer adds (k; 32 in the paper).\n"
        f"        compression: fraction of the channels a transition keeps (theta; 0.5).\n"
        f"        blocks: dense layers per dense block; ``None`` for {_VARIANTS[variant]}. Any\n"
        f"            number of blocks (a transition halves the map between two).\n"
    )
    return register_model(
        variant, family="densenet", paper="Huang, Liu, van der Maaten & Weinberger, 2017",
        year=2017, arxiv="1608.06993", default_input_shape=(224, 224, 3), min_input_size=32,
        params=_PARAMS[variant], keras_app=_KERAS_APP[variant], feature_taps=_TAPS,
        test_input_shape=(32, 32, 3),
    )(public_builder(_densenet, variant, doc=doc))


build_densenet121 = _public("densenet121")
build_densenet169 = _public("densenet169")
build_densenet201 = _public("densenet201")
