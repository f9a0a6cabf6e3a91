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
    kernel_initializer: Any = "glorot_uniform",
    name: str,
) -> Any:
    """Convolution, optional batch normalisation, optional activation.

    Layers are named ``{name}_conv``, ``{name}_bn`` and ``{name}_{activation}``. ``groups > 1`` is
    a grouped convolution (Keras's ``Conv2D(groups=...)``, one op): the input and output channels
    split into ``groups`` equal slices convolved separately (ResNeXt's aggregated transform).
    """
    x = keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding=padding,
        groups=groups,
        use_bias=use_bias or not batch_norm,
        kernel_initializer=kernel_initializer,
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


def squeeze_excite(
    x: Any, *, ratio: int = 16, kernel_initializer: Any = "glorot_uniform", name: str
) -> Any:
    """Squeeze-and-excitation (Hu et al., 2018, arXiv:1709.01507, Fig. 3).

    Global average pooling squeezes each channel to one number; two 1x1 convolutions (the paper's
    fully connected layers, with biases) with ReLU then sigmoid turn it into a gate in (0, 1) per
    channel; the input is multiplied by its gate. ``C`` channels cost
    ``2 * C * (C // ratio) + C // ratio + C`` parameters.

    Layers are named ``{name}_se_squeeze``, ``{name}_se_reduce``, ``{name}_se_expand`` and
    ``{name}_se_excite`` (keras.applications' EfficientNet names).

    Args:
        x: a 4D feature map ``(batch, height, width, channels)``.
        ratio: the reduction ratio ``r`` (16 in the paper); the bottleneck has
            ``max(1, channels // ratio)`` units.
        kernel_initializer: initializer of the two fully connected kernels.
        name: prefix of the layer names.

    Returns:
        The re-weighted feature map, the shape of ``x``.
    """
    channels = x.shape[-1]
    gate = keras.layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_squeeze")(x)
    gate = keras.layers.Conv2D(
        max(1, channels // ratio), 1, activation="relu", kernel_initializer=kernel_initializer,
        name=f"{name}_se_reduce",
    )(gate)
    gate = keras.layers.Conv2D(
        channels, 1, activation="sigmoid", kernel_initializer=kernel_initializer,
        name=f"{name}_se_expand",
    )(gate)
    return keras.layers.Multiply(name=f"{name}_se_excite")([x, gate])


def residual_bottleneck(
    x: Any,
    filters: int,
    *,
    stride: int = 1,
    conv_shortcut: bool = True,
    use_bias: bool = True,
    se_ratio: int | None = None,
    name: str,
) -> Any:
    """The ResNet v1 bottleneck (He et al., 2015, arXiv:1512.03385, Fig. 5 right).

    1x1 (``filters``, carrying the stride, as in Caffe and keras.applications) -> 3x3 -> 1x1
    (``4 * filters``), batch norm after each, added to the shortcut, then ReLU. With ``se_ratio``
    a squeeze-and-excitation gate re-weights the residual branch before the addition (SE-ResNet,
    Hu et al., 2018, Fig. 3). Layer names are keras.applications' (``{name}_0_conv`` … ``_out``),
    so its ResNet50/101/152 weight files load unchanged.

    Args:
        x: the input feature map.
        filters: channels of the 1x1 and 3x3 convolutions; the block outputs ``4 * filters``.
        stride: stride of the block (on the first 1x1 convolution and on the shortcut).
        conv_shortcut: projection shortcut (1x1 convolution + batch norm, option B) if True,
            identity otherwise.
        use_bias: biases on the convolutions (keras.applications' ResNets have them; SE-ResNet
            and torchvision do not, the batch norm's offset making them redundant).
        se_ratio: reduction ratio of a squeeze-and-excitation gate, or ``None`` for none.
        name: prefix of the layer names, e.g. ``"conv2_block1"``.

    Returns:
        The block's output, ``4 * filters`` channels.
    """
    if conv_shortcut:
        shortcut = conv_bn_act(
            x, 4 * filters, 1, strides=stride, use_bias=use_bias, activation=None,
            name=f"{name}_0",
        )
    else:
        shortcut = x
    x = conv_bn_act(x, filters, 1, strides=stride, use_bias=use_bias, name=f"{name}_1")
    x = conv_bn_act(x, filters, 3, use_bias=use_bias, name=f"{name}_2")
    x = conv_bn_act(x, 4 * filters, 1, use_bias=use_bias, activation=None, name=f"{name}_3")
    if se_ratio:
        x = squeeze_excite(x, ratio=se_ratio, name=name)
    x = keras.layers.Add(name=f"{name}_add")([shortcut, x])
    return keras.layers.Activation("relu", name=f"{name}_out")(x)
