"""ResNeXt (Xie et al., 2017) and the generic builder of the ResNet-shaped networks that followed.

ResNeXt keeps ResNet's bottleneck stack and splits the bottleneck's 3x3 convolution into
``cardinality`` groups ("aggregated residual transformations", Fig. 3c): one ``Conv2D(groups=C)``,
not a Python loop over channel slices. A variant is one row of :data:`VARIANTS`
(:class:`ResNeXtConfig`: blocks per stage, cardinality, width) and :func:`resnext_from_config`
builds every row. The squeeze-and-excitation family (:mod:`.senet`: SE-ResNet-18 to 152,
SE-ResNeXt, SENet-154) is built by the same function from its own rows: basic or bottleneck
blocks, the stride on the first 1x1 (Caffe's ResNets) or on the 3x3 (ResNeXt), an SE gate, a
three-convolution stem and 3x3 downsampling shortcuts.

Layer names follow the zoo's ResNets (keras.applications' scheme): ``conv1_conv``,
``conv2_block1_1_conv`` (first 1x1), ``_2_conv`` (the 3x3, grouped), ``_3_conv``, ``_0_conv``
(projection shortcut), ``_se_*``, ``_add``, ``_out``; ``pool1_pool``, ``avg_pool``, ``predictions``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras

from kerascv_course.models.blocks import conv_bn_act, squeeze_excite
from kerascv_course.models.common import (
    check_args,
    classifier_head,
    finish_model,
    model_input,
    public_builder,
)
from kerascv_course.models.registry import register_model
from kerascv_course.utils.checks import check_number


@dataclass(frozen=True)
class ResNeXtConfig:
    """One ResNet-shaped variant as data.

    Attributes:
        blocks: residual blocks per stage (four stages at strides 4, 8, 16, 32).
        block: ``"bottleneck"`` (1x1 -> 3x3 -> 1x1, 256/512/1024/2048 output channels) or
            ``"basic"`` (two 3x3, 64/128/256/512).
        cardinality: groups of the bottleneck's 3x3 convolution (C in the paper; 1: ResNet).
        width: output channels of the bottleneck's 3x3 convolution in the first stage, doubled
            at each stage (C x d: 32 x 4 = 128 for ResNeXt 32x4d; 64 for ResNet).
        reduce_width: output channels of the first 1x1 in the first stage (doubled per stage);
            ``None``: ``width``. SENet-154 reduces to half the grouped width.
        stride_on: ``"3x3"`` (ResNeXt, torchvision) or ``"1x1"`` (the original Caffe ResNets and
            SE-ResNets: the stride sits on the first 1x1 convolution).
        se_ratio: squeeze-and-excitation reduction ratio on every block, or ``None``.
        stem: ``"7x7"`` (one 7x7/2 convolution) or ``"3x3"`` (SENet-154: 3x3/2 64, 3x3 64,
            3x3 128), then a 3x3/2 max-pool.
        downsample_kernel: kernel of the strided projection shortcuts (1; SENet-154: 3).
        dropout: dropout rate before the classifier (SENet-154: 0.2).
    """

    blocks: tuple[int, ...]
    block: str = "bottleneck"
    cardinality: int = 1
    width: int = 64
    reduce_width: int | None = None
    stride_on: str = "3x3"
    se_ratio: int | None = None
    stem: str = "7x7"
    downsample_kernel: int = 1
    dropout: float = 0.0

    def out_channels(self, stage: int) -> int:
        """Output channels of a stage's blocks."""
        return (256 if self.block == "bottleneck" else 64) * 2**stage

    @property
    def stem_channels(self) -> int:
        """Channels of the stem's output."""
        return 128 if self.stem == "3x3" else 64


VARIANTS: dict[str, ResNeXtConfig] = {
    "resnext50_32x4d": ResNeXtConfig((3, 4, 6, 3), cardinality=32, width=128),
    "resnext101_32x4d": ResNeXtConfig((3, 4, 23, 3), cardinality=32, width=128),
    "resnext101_64x4d": ResNeXtConfig((3, 4, 23, 3), cardinality=64, width=256),
}
# Keras count_params() at 224x224 and 1000 classes (batch norm's moving statistics included;
# the trainable parts are the published figures, checked in tests/test_zoo_resnext_senet.py).
PARAMS = {
    "resnext50_32x4d": 25_097_128,
    "resnext101_32x4d": 44_315_560,
    "resnext101_64x4d": 83_658_152,
}


def feature_taps(config: ResNeXtConfig) -> dict[int, str]:
    """U-Net encoder taps ``{stride: layer}``: the stem's ReLU, then the end of every stage."""
    stem = "conv1_3_relu" if config.stem == "3x3" else "conv1_relu"
    return {
        2: stem,
        **{2 ** (s + 2): f"conv{s + 2}_block{n}_out" for s, n in enumerate(config.blocks)},
    }


def _strided_conv(
    x: Any, filters: int, kernel: int, stride: int, *, groups: int = 1, activation: Any = "relu",
    init: Any, name: str,
) -> Any:
    """A convolution + batch norm; a strided 3x3 is padded by one pixel first (``{name}_pad``,
    as PyTorch's ``padding=1``), so odd and even sides give ``ceil(side / stride)``."""
    padding = "same"
    if stride > 1 and kernel > 1:
        x = keras.layers.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x)
        padding = "valid"
    return conv_bn_act(
        x, filters, kernel, strides=stride, padding=padding, groups=groups,
        activation=activation, kernel_initializer=init, name=name,
    )


def residual_block(
    x: Any, config: ResNeXtConfig, stage: int, *, stride: int, init: Any, name: str
) -> Any:
    """One block of ``config`` at ``stage``: basic or (grouped) bottleneck, optional SE gate.

    Where the shape changes the shortcut is a projection (``{name}_0``: a ``downsample_kernel``
    convolution carrying the stride, + batch norm), otherwise the identity. The residual branch
    is re-weighted by the SE gate before the addition (Hu et al., Fig. 3); ReLU after the sum.

    Args:
        x: the input feature map.
        config: the variant.
        stage: 0-based stage index (sets the widths).
        stride: the block's stride.
        init: the convolutions' kernel initializer.
        name: prefix of the layer names, e.g. ``"conv3_block1"``.

    Returns:
        The block's output, ``config.out_channels(stage)`` channels.
    """
    out = config.out_channels(stage)
    shortcut = x
    if stride != 1 or x.shape[-1] != out:
        kernel = config.downsample_kernel if stride > 1 else 1
        shortcut = _strided_conv(
            x, out, kernel, stride, activation=None, init=init, name=f"{name}_0"
        )
    if config.block == "basic":
        y = _strided_conv(x, out, 3, stride, init=init, name=f"{name}_1")
        y = conv_bn_act(y, out, 3, activation=None, kernel_initializer=init, name=f"{name}_2")
    else:
        width = config.width * 2**stage
        reduce = (config.reduce_width or config.width) * 2**stage
        first = stride if config.stride_on == "1x1" else 1
        y = conv_bn_act(x, reduce, 1, strides=first, kernel_initializer=init, name=f"{name}_1")
        y = _strided_conv(
            y, width, 3, stride // first, groups=config.cardinality, init=init, name=f"{name}_2"
        )
        y = conv_bn_act(y, out, 1, activation=None, kernel_initializer=init, name=f"{name}_3")
    if config.se_ratio:
        y = squeeze_excite(y, ratio=config.se_ratio, kernel_initializer=init, name=name)
    y = keras.layers.Add(name=f"{name}_add")([shortcut, y])
    return keras.layers.Activation("relu", name=f"{name}_out")(y)


def _stem(x: Any, config: ResNeXtConfig, init: Any) -> Any:
    if config.stem == "3x3":
        x = _strided_conv(x, 64, 3, 2, init=init, name="conv1_1")
        x = conv_bn_act(x, 64, 3, kernel_initializer=init, name="conv1_2")
        x = conv_bn_act(x, 128, 3, kernel_initializer=init, name="conv1_3")
    else:
        x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(x)
        x = conv_bn_act(
            x, 64, 7, strides=2, padding="valid", kernel_initializer=init, name="conv1"
        )
    x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return keras.layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def resnext_from_config(
    model: str,
    config: ResNeXtConfig,
    **common: Any,
) -> keras.Model:
    """Build any network described by a :class:`ResNeXtConfig`.

    Args:
        model: the registered name (argument checks, defaults, error messages).
        config: the variant.
        **common: the common arguments (:data:`~kerascv_course.models.common.COMMON_ARGS`).

    Returns:
        The ``keras.Model``.
    """
    args = check_args(model, **common)
    init = args.kernel_initializer if args.kernel_initializer is not None else "glorot_uniform"
    inputs = model_input(args)
    x = _stem(inputs, config, init)
    for stage, blocks in enumerate(config.blocks):
        for b in range(1, blocks + 1):
            stride = 2 if stage > 0 and b == 1 else 1
            x = residual_block(
                x, config, stage, stride=stride, init=init, name=f"conv{stage + 2}_block{b}"
            )
    outputs = classifier_head(x, args, dropout=config.dropout, kernel_initializer=init)
    return finish_model(inputs, outputs, args, model)


_INIT_DOC = """
    Args:
        kernel_initializer: a common argument (below); ``None``, the default, is Keras's
            ``"glorot_uniform"``; ``"he_normal"`` is the MSRA initialisation of the original
            Caffe/Torch models.
"""

_SE_DOC = """
        reduction: the squeeze-and-excitation reduction ratio r (16 in the paper); each gate's
            hidden layer has ``channels // r`` units.
"""


def make_builder(
    variant: str,
    config: ResNeXtConfig,
    *,
    family: str,
    paper: str,
    year: int,
    arxiv: str,
    params: int,
    description: str,
) -> Callable[..., keras.Model]:
    """Register and return the public ``build_<variant>`` of one row of a variants table.

    Variants with an SE gate (``config.se_ratio``) take a ``reduction`` argument (the gate's
    ratio r); the others only the common arguments and ``kernel_initializer``.
    """
    registered = register_model(
        variant, family=family, paper=paper, year=year, arxiv=arxiv,
        default_input_shape=(224, 224, 3), min_input_size=32, params=params,
        feature_taps=feature_taps(config), test_input_shape=(32, 32, 3),
    )
    if config.se_ratio:

        def generic(
            model: str, config: ResNeXtConfig, *, reduction: int = config.se_ratio, **common: Any
        ) -> keras.Model:
            check_number("reduction", reduction, where=model, low=1, integer=True)
            return resnext_from_config(model, dataclasses.replace(config, se_ratio=reduction), **common)

        generic.__module__ = __name__
        return registered(public_builder(generic, variant, config, doc=description + "\n" + _INIT_DOC + _SE_DOC.lstrip("\n")))
    return registered(public_builder(resnext_from_config, variant, config, doc=description + "\n" + _INIT_DOC))


def _describe(variant: str, config: ResNeXtConfig) -> str:
    depth = variant.removeprefix("resnext").split("_")[0]
    d = config.width // config.cardinality
    return (
        f"ResNeXt-{depth} ({config.cardinality}x{d}d) (Xie et al., 2017, arXiv:1611.05431, "
        f"Table 1): bottlenecks {list(config.blocks)} whose 3x3 convolution has "
        f"{config.cardinality} groups of {d} channels (Keras ``Conv2D(groups=...)``), the stride "
        f"on the 3x3, bias-free convolutions with batch norm, projection shortcuts where the "
        f"shape changes (torchvision's layout).\n\n"
        f"    {PARAMS[variant]:,} parameters at 224x224 and 1000 classes (Keras count, batch norm "
        f"moving statistics included; the trainable part is torchvision's / timm's figure)."
    )


def _public(variant: str) -> Callable[..., keras.Model]:
    return make_builder(
        variant, VARIANTS[variant], family="resnext", paper="Xie, Girshick, Dollar, Tu & He, 2017",
        year=2017, arxiv="1611.05431", params=PARAMS[variant],
        description=_describe(variant, VARIANTS[variant]),
    )


build_resnext50_32x4d = _public("resnext50_32x4d")
build_resnext101_32x4d = _public("resnext101_32x4d")
build_resnext101_64x4d = _public("resnext101_64x4d")
