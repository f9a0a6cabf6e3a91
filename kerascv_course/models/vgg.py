"""VGG (Simonyan & Zisserman, 2014): very deep networks of 3x3 convolutions.

Layer names and order are keras.applications' (``block1_conv1`` … ``fc1``, ``fc2``,
``predictions``), so its published ``vgg16``/``vgg19`` weight files load unchanged.
"""

from __future__ import annotations

from typing import Any

import keras

from kerascv_course.models.common import (
    check_args,
    finish_model,
    flatten_classify,
    model_input,
    public_builder,
)
from kerascv_course.models.registry import register_model
from kerascv_course.utils.checks import check_bool, check_probability

_FILTERS = (64, 128, 256, 512, 512)
# Convolutions per block of the paper's configurations A (11 layers), B (13), D (16) and E (19).
_VARIANTS: dict[str, tuple[int, ...]] = {
    "vgg11": (1, 1, 2, 2, 2),
    "vgg13": (2, 2, 2, 2, 2),
    "vgg16": (2, 2, 3, 3, 3),
    "vgg19": (2, 2, 4, 4, 4),
}
_PARAMS = {"vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg19": 143_667_240}
_KERAS_APP = {"vgg16": "VGG16", "vgg19": "VGG19"}


def _taps(convs: tuple[int, ...]) -> dict[int, str]:
    """Feature taps: the last convolution of each block (stride 1, 2, 4, 8, 16) and the last pool."""
    taps = {2**i: f"block{i + 1}_conv{n}" for i, n in enumerate(convs)}
    taps[32] = "block5_pool"
    return taps


def _vgg(model: str, *, batch_norm: bool = False, dropout: float = 0.5, **common: Any) -> keras.Model:
    args = check_args(model, **common, imagenet_shape=(224, 224, 3))
    check_bool("batch_norm", batch_norm, where=model)
    if batch_norm and args.weights == "imagenet":
        raise ValueError(
            f"{model}: keras.applications publishes no ImageNet weights for VGG with batch norm; "
            f"use batch_norm=False or weights=None. Received: batch_norm=True, weights='imagenet'"
        )
    check_probability("dropout", dropout, where=model)
    inputs = model_input(args)
    x = inputs
    for block, (filters, convs) in enumerate(zip(_FILTERS, _VARIANTS[model]), start=1):
        for i in range(1, convs + 1):
            layer = f"block{block}_conv{i}"
            if batch_norm:
                # The activation carries the keras.applications name so feature taps stay valid.
                x = keras.layers.Conv2D(filters, 3, padding="same", name=f"{layer}_conv")(x)
                x = keras.layers.BatchNormalization(name=f"{layer}_bn")(x)
                x = keras.layers.Activation("relu", name=layer)(x)
            else:
                x = keras.layers.Conv2D(
                    filters, 3, padding="same", activation="relu", name=layer
                )(x)
        x = keras.layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    top = flatten_classify(x, args, hidden=(("fc1", 4096), ("fc2", 4096)), dropout=dropout)
    return finish_model(inputs, top, args, model)


def _public(variant: str) -> Any:
    layers = {"vgg11": 11, "vgg13": 13, "vgg16": 16, "vgg19": 19}[variant]
    doc = (
        f"VGG-{layers} (Simonyan & Zisserman, 2014, arXiv:1409.1556), configuration "
        f"{'ABDE'[list(_VARIANTS).index(variant)]}: {_PARAMS[variant]:,} parameters at 224x224 "
        f"and 1000 classes.\n\n    Args:\n        batch_norm: batch normalisation after every "
        f"convolution (the later VGG-BN variant).\n        dropout: dropout rate of fc1 and fc2 "
        f"(0.5 in the paper).\n"
    )
    return register_model(
        variant, family="vgg", paper="Simonyan & Zisserman, 2014", year=2014, arxiv="1409.1556",
        default_input_shape=(224, 224, 3), min_input_size=32, params=_PARAMS[variant],
        keras_app=_KERAS_APP.get(variant), feature_taps=_taps(_VARIANTS[variant]),
    )(public_builder(_vgg, variant, doc=doc))


build_vgg11 = _public("vgg11")
build_vgg13 = _public("vgg13")
build_vgg16 = _public("vgg16")
build_vgg19 = _public("vgg19")
