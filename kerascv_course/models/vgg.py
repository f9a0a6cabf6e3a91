"""VGG (Simonyan & Zisserman, 2014): very deep networks of 3x3 convolutions.

Layer names and order are keras.applications' (``block1_conv1`` … ``fc1``, ``fc2``,
``predictions``), so its published ``vgg16``/``vgg19`` weight files load unchanged.
"""

from __future__ import annotations

from typing import Any

import keras

from kerascv_course.models.blocks import dense_dropout
from kerascv_course.models.common import (
    add_common_doc,
    check_args,
    check_choice,
    check_range,
    finish_model,
    model_input,
    pool_features,
)
from kerascv_course.models.registry import register_model

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


def _vgg(
    model: str,
    *,
    batch_norm: bool,
    dropout: float,
    include_top: bool,
    weights: Any,
    input_shape: Any,
    pooling: Any,
    classes: int,
    classifier_activation: Any,
    name: str | None,
) -> keras.Model:
    args = check_args(
        model, input_shape=input_shape, include_top=include_top, classes=classes,
        pooling=pooling, classifier_activation=classifier_activation, weights=weights, name=name,
        imagenet_shape=(224, 224, 3),
    )
    check_choice(model, "batch_norm", batch_norm, (True, False))
    if batch_norm and args.weights == "imagenet":
        raise ValueError(
            f"{model}: keras.applications publishes no ImageNet weights for VGG with batch norm; "
            f"use batch_norm=False or weights=None. Received: batch_norm=True, weights='imagenet'"
        )
    check_range(model, "dropout", dropout, low=0.0, high=1.0)
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
    if not args.include_top:
        return finish_model(inputs, pool_features(x, args.pooling), args, model)
    x = keras.layers.Flatten(name="flatten")(x)
    x = dense_dropout(x, 4096, dropout=dropout, name="fc1")
    x = dense_dropout(x, 4096, dropout=dropout, name="fc2")
    x = keras.layers.Dense(args.classes, activation=args.classifier_activation, name="predictions")(x)
    return finish_model(inputs, x, args, model)


def _public(variant: str) -> Any:
    layers = {"vgg11": 11, "vgg13": 13, "vgg16": 16, "vgg19": 19}[variant]

    @register_model(
        variant, family="vgg", paper="Simonyan & Zisserman, 2014", year=2014, arxiv="1409.1556",
        default_input_shape=(224, 224, 3), min_input_size=32, params=_PARAMS[variant],
        keras_app=_KERAS_APP.get(variant), feature_taps=_taps(_VARIANTS[variant]),
    )
    @add_common_doc
    def builder(
        *,
        batch_norm: bool = False,
        dropout: float = 0.5,
        include_top: bool = True,
        weights: Any = None,
        input_shape: Any = None,
        pooling: Any = None,
        classes: int = 1000,
        classifier_activation: Any = "softmax",
        name: str | None = None,
    ) -> keras.Model:
        return _vgg(
            variant, batch_norm=batch_norm, dropout=dropout, include_top=include_top,
            weights=weights, input_shape=input_shape, pooling=pooling, classes=classes,
            classifier_activation=classifier_activation, name=name,
        )

    builder.__name__ = builder.__qualname__ = f"build_{variant}"
    builder.__doc__ = (
        f"VGG-{layers} (Simonyan & Zisserman, 2014, arXiv:1409.1556), configuration "
        f"{'ABDE'[list(_VARIANTS).index(variant)]}: {_PARAMS[variant]:,} parameters at 224x224 "
        f"and 1000 classes.\n\n    Args:\n        batch_norm: batch normalisation after every "
        f"convolution (the later VGG-BN variant).\n        dropout: dropout rate of fc1 and fc2 "
        f"(0.5 in the paper).\n" + (builder.__doc__ or "")
    )
    return builder


build_vgg11 = _public("vgg11")
build_vgg13 = _public("vgg13")
build_vgg16 = _public("vgg16")
build_vgg19 = _public("vgg19")
