"""SqueezeNet 1.0 and 1.1 (Iandola, Han, Moskewicz, Ashraf, Dally & Keutzer, 2016).

AlexNet-level accuracy with 50x fewer parameters: fire modules (a 1x1 "squeeze" layer feeding
parallel 1x1 and 3x3 "expand" layers whose outputs are concatenated), late downsampling, no fully
connected layers (a 1x1 convolution to the classes, then global average pooling). Version 1.1
(from the authors' repository) starts with a 3x3 stem and pools earlier: 2.4x less computation,
the same accuracy. Layer names follow the authors' Caffe model (``conv1``, ``fire2_squeeze1x1``,
``fire2_expand1x1``, ``fire2_expand3x3`` … ``conv10``, ``pool10``). keras.applications has no
SqueezeNet; the parameter counts are torchvision's. The default input is 227x227, the authors'
Caffe input, where the maps are Table 1's 111 -> 55 -> 27 -> 13 (pooling rounds up, as in Caffe).
"""

from __future__ import annotations

from typing import Any

import keras

from kerascv_course.models.common import (
    check_args,
    finish_model,
    model_input,
    pool_features,
    public_builder,
)
from kerascv_course.models.registry import register_model
from kerascv_course.utils.checks import check_probability

POOL = "pool"  # a 3x3/2 max-pooling in a layer sequence
# Each variant: the stem (filters, kernel), then a sequence of POOL and fire modules given as
# (squeeze 1x1, expand 1x1, expand 3x3) filters (paper Table 1; v1.1 from the authors' repository).
_VARIANTS: dict[str, dict[str, Any]] = {
    "squeezenet1_0": dict(
        stem=(96, 7),
        layers=(
            POOL, (16, 64, 64), (16, 64, 64), (32, 128, 128),
            POOL, (32, 128, 128), (48, 192, 192), (48, 192, 192), (64, 256, 256),
            POOL, (64, 256, 256),
        ),
    ),
    "squeezenet1_1": dict(
        stem=(64, 3),
        layers=(
            POOL, (16, 64, 64), (16, 64, 64),
            POOL, (32, 128, 128), (32, 128, 128),
            POOL, (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256),
        ),
    ),
}
_PARAMS = {"squeezenet1_0": 1_248_424, "squeezenet1_1": 1_235_496}
_MIN_SIZE = {"squeezenet1_0": 29, "squeezenet1_1": 25}  # final map 1x1
# The last map at each total stride (SqueezeNet stops at 16: fire9 works at 1/16).
_TAPS = {
    "squeezenet1_0": {2: "conv1_relu", 4: "fire4_concat", 8: "fire8_concat", 16: "fire9_concat"},
    "squeezenet1_1": {2: "conv1_relu", 4: "fire3_concat", 8: "fire5_concat", 16: "fire9_concat"},
}


def fire_module(x: Any, squeeze: int, expand1x1: int, expand3x3: int, *, name: str) -> Any:
    """SqueezeNet's fire module: 1x1 squeeze + ReLU, then 1x1 and 3x3 expands (+ ReLU), concatenated.

    Args:
        x: input map.
        squeeze: filters of the 1x1 squeeze layer (s1x1).
        expand1x1: filters of the 1x1 expand layer (e1x1).
        expand3x3: filters of the 3x3 expand layer (e3x3, 'same' padding).
        name: prefix (``fire2``): layers ``{name}_squeeze1x1``, ``{name}_expand1x1``,
            ``{name}_expand3x3`` (each with ``_relu``) and ``{name}_concat``.

    Returns:
        The map with ``expand1x1 + expand3x3`` channels at the input's resolution.
    """
    x = keras.layers.Conv2D(squeeze, 1, activation=None, name=f"{name}_squeeze1x1")(x)
    x = keras.layers.ReLU(name=f"{name}_squeeze1x1_relu")(x)
    left = keras.layers.Conv2D(expand1x1, 1, name=f"{name}_expand1x1")(x)
    left = keras.layers.ReLU(name=f"{name}_expand1x1_relu")(left)
    right = keras.layers.Conv2D(expand3x3, 3, padding="same", name=f"{name}_expand3x3")(x)
    right = keras.layers.ReLU(name=f"{name}_expand3x3_relu")(right)
    return keras.layers.Concatenate(name=f"{name}_concat")([left, right])


def _max_pool_ceil(x: Any, name: str) -> Any:
    """3x3/2 max-pooling with Caffe's (and torchvision's ``ceil_mode=True``) output size.

    The inputs are ReLU outputs (>= 0), so a zero row/column added where the last window would
    overhang changes no maximum; on unknown (``None``) sides the pooling rounds down instead.
    """
    pads = tuple((0, (side - 3) % 2) if side is not None else (0, 0) for side in x.shape[1:3])
    if any(p[1] for p in pads):
        x = keras.layers.ZeroPadding2D(pads, name=f"{name}_pad")(x)
    return keras.layers.MaxPooling2D(3, strides=2, name=name)(x)


def _squeezenet(model: str, *, dropout: float = 0.5, **common: Any) -> keras.Model:
    check_probability("dropout", dropout, where=model)
    args = check_args(model, **common)
    config = _VARIANTS[model]
    filters, kernel = config["stem"]
    inputs = model_input(args)
    x = keras.layers.Conv2D(filters, kernel, strides=2, name="conv1")(inputs)
    x = keras.layers.ReLU(name="conv1_relu")(x)
    index = 1  # Caffe numbers the layers: conv1, pool1, fire2 … fire9, conv10
    for layer in config["layers"]:
        if layer == POOL:
            x = _max_pool_ceil(x, f"pool{index}")
        else:
            index += 1
            x = fire_module(x, *layer, name=f"fire{index}")
    if not args.include_top:
        return finish_model(inputs, pool_features(x, args.pooling), args, model)
    if dropout:
        x = keras.layers.Dropout(dropout, name="drop9")(x)
    x = keras.layers.Conv2D(args.classes, 1, name="conv10")(x)
    x = keras.layers.ReLU(name="conv10_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool10")(x)
    x = keras.layers.Activation(args.classifier_activation, name="predictions")(x)
    return finish_model(inputs, x, args, model)


def _public(variant: str) -> Any:
    version = variant.removeprefix("squeezenet").replace("_", ".")
    stem_filters, stem_kernel = _VARIANTS[variant]["stem"]
    doc = (
        f"SqueezeNet {version} (Iandola et al., 2016, arXiv:1602.07360): {stem_filters} "
        f"{stem_kernel}x{stem_kernel}/2 stem, eight fire modules, a 1x1-convolution classifier "
        f"with global average pooling; {_PARAMS[variant]:,} parameters at 1000 classes (no fully "
        f"connected layer: the count does not depend on the input size). Default input 227x227 (the "
        f"authors' Caffe model).\n\n    Args:\n"
        f"        dropout: dropout rate before the classifier convolution (0.5 in the paper).\n"
    )
    return register_model(
        variant, family="squeezenet",
        paper="Iandola, Han, Moskewicz, Ashraf, Dally & Keutzer, 2016", year=2016,
        arxiv="1602.07360", default_input_shape=(227, 227, 3), min_input_size=_MIN_SIZE[variant],
        params=_PARAMS[variant], feature_taps=_TAPS[variant], test_input_shape=(64, 64, 3),
    )(public_builder(_squeezenet, variant, doc=doc))


build_squeezenet1_0 = _public("squeezenet1_0")
build_squeezenet1_1 = _public("squeezenet1_1")
