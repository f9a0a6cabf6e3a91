"""Building blocks shared by two or more families: plain functions ``block(x, …, name) -> x``.

A block used by one family only lives in that family's module; move it here when a second family
needs it. Layer names are composed from the block's ``name`` so that a layer's name says where it
sits (``f"{name}_conv"``, ``f"{name}_bn"``, ``f"{name}_relu"``).
"""

from __future__ import annotations

from typing import Any

import keras

from kerascv_course.models.layers import LocalResponseNormalization

BN_EPSILON = 1.001e-5  # keras.applications' value for ResNet/DenseNet


def conv_bn_act(
    x: Any,
    filters: int,
    kernel_size: int | tuple[int, int],
    *,
    strides: int = 1,
    padding: str = "same",
    groups: int = 1,
    use_bias: bool = False,
    batch_norm: bool = True,
    activation: str | None = "relu",
    bn_epsilon: float = BN_EPSILON,
    bn_momentum: float = 0.99,
    name: str,
) -> Any:
    """Convolution, optional batch normalisation, optional activation.

    Layers are named ``{name}_conv``, ``{name}_bn`` and ``{name}_{activation}``.
    """
    x = keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding=padding,
        groups=groups,
        use_bias=use_bias or not batch_norm,
        name=f"{name}_conv",
    )(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(
            epsilon=bn_epsilon, momentum=bn_momentum, name=f"{name}_bn"
        )(x)
    if activation:
        x = keras.layers.Activation(activation, name=f"{name}_{activation}")(x)
    return x


def conv_act_lrn(
    x: Any,
    filters: int,
    kernel_size: int,
    *,
    strides: int = 1,
    padding: str = "same",
    groups: int = 1,
    lrn: bool = True,
    name: str,
) -> Any:
    """AlexNet/ZFNet-era block: convolution with bias, ReLU, optional local response norm.

    Layers are named ``{name}`` (the convolution, with its ReLU) and ``{name}_lrn``.
    """
    x = keras.layers.Conv2D(
        filters, kernel_size, strides=strides, padding=padding, groups=groups,
        activation="relu", name=name,
    )(x)
    if lrn:
        x = LocalResponseNormalization(name=f"{name}_lrn")(x)
    return x


def dense_dropout(x: Any, units: int, *, dropout: float, name: str, activation: str = "relu") -> Any:
    """A fully connected layer followed by dropout (the classic classifier head's unit)."""
    x = keras.layers.Dense(units, activation=activation, name=name)(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return x
