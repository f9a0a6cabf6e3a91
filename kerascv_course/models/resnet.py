"""ResNets: ImageNet v1 (He et al., 2015), v2 pre-activation (He et al., 2016) and the CIFAR ResNets.

Every variant is one row of :data:`VARIANTS` (block type, blocks per stage, stem) and one generic
builder, :func:`resnet_from_config`, builds them all; the public ``build_<name>`` functions are made
by one factory. ResNeXt and the SE networks (:mod:`.resnext`, :mod:`.senet`) have their own builder.

Layer names and order of ``resnet50/101/152`` and ``resnet50_v2/101_v2/152_v2`` are
keras.applications' (``conv1_conv``, ``conv2_block1_1_conv`` … ``avg_pool``, ``predictions``),
including the automatic names of the weightless pooling shortcuts of v2 as a fresh Keras session
assigns them, so its published weight files load unchanged. ``resnet18/34`` and the CIFAR ResNets
use the same naming scheme.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

from kerascv_course.models.blocks import BN_EPSILON, conv_bn_act, residual_bottleneck
from kerascv_course.models.common import (
    check_args,
    finish_model,
    model_input,
    pool_or_classify,
    public_builder,
)
from kerascv_course.models.registry import register_model
from kerascv_course.utils.checks import check_choice, fail

SHORTCUTS = ("A", "B")
AUTO = "auto"  # the paper's shortcut: A on CIFAR, B on ImageNet


@dataclass(frozen=True)
class ResNetConfig:
    """One ResNet variant as data.

    Attributes:
        block: ``"basic"`` (two 3x3), ``"bottleneck"`` (1x1-3x3-1x1, v1) or ``"preact"``
            (the v2 pre-activation bottleneck).
        blocks: residual blocks per stage.
        cifar: the CIFAR layout of He et al. (2015, §4.2): a 3x3 stem of 16 filters, no pooling,
            stages of 16/32/64 filters; otherwise the ImageNet layout (7x7/2 stem, 3x3/2 max-pool,
            stages of 64/128/256/512).
        use_bias: biases on the convolutions (keras.applications' v1/v2 have them; torchvision's
            ResNet-18/34, the CIFAR ResNets and SE-ResNet do not).
        se_ratio: squeeze-and-excitation reduction ratio of every bottleneck, or ``None``.
    """

    block: str
    blocks: tuple[int, ...]
    cifar: bool = False
    use_bias: bool = True
    se_ratio: int | None = None

    @property
    def filters(self) -> tuple[int, ...]:
        """Filters per stage (the bottleneck's inner width)."""
        return (16, 32, 64) if self.cifar else (64, 128, 256, 512)

    @property
    def shortcuts(self) -> tuple[str | None, ...]:
        """The shortcut options the block allows: A (zero-padded identity) and ``None`` (the plain
        network, no shortcuts at all) only for basic blocks."""
        return (*SHORTCUTS, None) if self.block == "basic" else ("B",)

    @property
    def default_shortcut(self) -> str:
        """The paper's choice: option A on CIFAR (§4.2), projections (B) on ImageNet."""
        return "A" if self.cifar else "B"


VARIANTS: dict[str, ResNetConfig] = {
    "resnet18": ResNetConfig("basic", (2, 2, 2, 2), use_bias=False),
    "resnet34": ResNetConfig("basic", (3, 4, 6, 3), use_bias=False),
    "resnet50": ResNetConfig("bottleneck", (3, 4, 6, 3)),
    "resnet101": ResNetConfig("bottleneck", (3, 4, 23, 3)),
    "resnet152": ResNetConfig("bottleneck", (3, 8, 36, 3)),
    "resnet50_v2": ResNetConfig("preact", (3, 4, 6, 3)),
    "resnet101_v2": ResNetConfig("preact", (3, 4, 23, 3)),
    "resnet152_v2": ResNetConfig("preact", (3, 8, 36, 3)),
    # CIFAR ResNets: 6n + 2 layers, n blocks per stage.
    "resnet20": ResNetConfig("basic", (3, 3, 3), cifar=True, use_bias=False),
    "resnet32": ResNetConfig("basic", (5, 5, 5), cifar=True, use_bias=False),
    "resnet44": ResNetConfig("basic", (7, 7, 7), cifar=True, use_bias=False),
    "resnet56": ResNetConfig("basic", (9, 9, 9), cifar=True, use_bias=False),
    "resnet110": ResNetConfig("basic", (18, 18, 18), cifar=True, use_bias=False),
}

# Keras ``count_params()`` at the default configuration (moving mean/variance of batch norm
# included, which PyTorch counts as buffers, not parameters).
PARAMS = {
    "resnet18": 11_699_112,
    "resnet34": 21_814_696,
    "resnet50": 25_636_712,
    "resnet101": 44_707_176,
    "resnet152": 60_419_944,
    "resnet50_v2": 25_613_800,
    "resnet101_v2": 44_675_560,
    "resnet152_v2": 60_380_648,
    "resnet20": 271_098,
    "resnet32": 466_426,
    "resnet44": 661_754,
    "resnet56": 857_082,
    "resnet110": 1_736_058,
}

KERAS_APPS = {
    "resnet50": "ResNet50",
    "resnet101": "ResNet101",
    "resnet152": "ResNet152",
    "resnet50_v2": "ResNet50V2",
    "resnet101_v2": "ResNet101V2",
    "resnet152_v2": "ResNet152V2",
}


def feature_taps(config: ResNetConfig) -> dict[int, str]:
    """U-Net encoder taps ``{stride: layer}`` of a configuration: the end of each stage.

    v1 stages end in ``conv{s}_block{n}_out``. v2 downsamples in the *last* block of a stage, so
    the features at a stride are the pre-activation (batch norm + ReLU) that block applies to its
    input, and ``post_relu`` at stride 32; v2's stride-2 map is the stem convolution.
    """
    n = config.blocks
    if config.cifar:
        return {2: f"conv3_block{n[1]}_out", 4: f"conv4_block{n[2]}_out"}
    if config.block == "preact":
        return {
            2: "conv1_conv",
            4: f"conv2_block{n[0]}_preact_relu",
            8: f"conv3_block{n[1]}_preact_relu",
            16: f"conv4_block{n[2]}_preact_relu",
            32: "post_relu",
        }
    return {
        2: "conv1_relu",
        **{2 ** (s + 2): f"conv{s + 2}_block{blocks}_out" for s, blocks in enumerate(n)},
    }


def _zero_pad_shortcut(x: Any, filters: int, stride: int, *, name: str) -> Any:
    """Option A: identity, subsampled by ``stride``, with zero channels appended (no parameters).

    Built from standard layers (no ``Lambda``): a 1x1 max-pool with the stride subsamples, and a
    zero padding applied between two transposes pads the channel axis.
    """
    if stride > 1:
        x = keras.layers.MaxPooling2D(1, strides=stride, name=f"{name}_0_pool")(x)
    extra = filters - x.shape[-1]
    if extra:
        x = keras.layers.Permute((3, 1, 2), name=f"{name}_0_to_channels_first")(x)
        x = keras.layers.ZeroPadding2D(((0, extra), (0, 0)), name=f"{name}_0_pad")(x)
        x = keras.layers.Permute((2, 3, 1), name=f"{name}_0_to_channels_last")(x)
    return x


def basic_block(
    x: Any, filters: int, *, stride: int = 1, shortcut: str | None = "B", use_bias: bool = False, name: str
) -> Any:
    """The two-3x3 residual block (He et al., 2015, Fig. 5 left), post-activation.

    Where the shape changes, the shortcut is option A (zero-padded identity) or B (1x1 projection
    + batch norm); otherwise identity. ``shortcut=None`` is the plain block of the paper's plain
    networks (§4.1): the same two convolutions, no shortcut, no addition. A strided 3x3 is padded by one pixel on each side first
    (``{name}_1_pad``, as torchvision), so odd and even sides give ``ceil(side / 2)``.

    Args:
        x: the input feature map.
        filters: output channels of both convolutions.
        stride: stride of the first convolution and of the shortcut.
        shortcut: ``"A"``, ``"B"`` or ``None`` (plain).
        use_bias: biases on the convolutions.
        name: prefix of the layer names, e.g. ``"conv2_block1"``.

    Returns:
        The block's output, ``filters`` channels.
    """
    if shortcut is None:
        residual = None
    elif stride != 1 or x.shape[-1] != filters:
        if shortcut == "A":
            residual = _zero_pad_shortcut(x, filters, stride, name=name)
        else:
            residual = conv_bn_act(
                x, filters, 1, strides=stride, use_bias=use_bias, activation=None,
                name=f"{name}_0",
            )
    else:
        residual = x
    padding = "same"
    if stride > 1:
        x = keras.layers.ZeroPadding2D(1, name=f"{name}_1_pad")(x)
        padding = "valid"
    x = conv_bn_act(
        x, filters, 3, strides=stride, padding=padding, use_bias=use_bias, name=f"{name}_1"
    )
    x = conv_bn_act(x, filters, 3, use_bias=use_bias, activation=None, name=f"{name}_2")
    if residual is not None:
        x = keras.layers.Add(name=f"{name}_add")([residual, x])
    return keras.layers.Activation("relu", name=f"{name}_out")(x)


def preact_bottleneck(
    x: Any,
    filters: int,
    *,
    stride: int = 1,
    conv_shortcut: bool = False,
    pool_name: str | None = None,
    name: str,
) -> Any:
    """The pre-activation bottleneck of ResNet v2 (He et al., 2016, arXiv:1603.05027, Fig. 4e).

    Batch norm + ReLU first (``{name}_preact_*``), then 1x1 -> 3x3 (carrying the stride) -> 1x1,
    added to the shortcut with no activation after: a projection of the pre-activation, or the
    input subsampled by a 1x1 max-pool named ``pool_name``. keras.applications' layout and names.

    Args:
        x: the input feature map.
        filters: channels of the inner convolutions; the block outputs ``4 * filters``.
        stride: stride of the 3x3 convolution and of the shortcut.
        conv_shortcut: projection shortcut (1x1 convolution) if True.
        pool_name: name of the shortcut's subsampling pool (when ``stride > 1``).
        name: prefix of the layer names.

    Returns:
        The block's output, ``4 * filters`` channels.
    """
    preact = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_preact_bn")(x)
    preact = keras.layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if conv_shortcut:
        residual = keras.layers.Conv2D(
            4 * filters, 1, strides=stride, name=f"{name}_0_conv"
        )(preact)
    elif stride > 1:
        residual = keras.layers.MaxPooling2D(1, strides=stride, name=pool_name)(x)
    else:
        residual = x
    x = conv_bn_act(preact, filters, 1, name=f"{name}_1")
    x = keras.layers.ZeroPadding2D(1, name=f"{name}_2_pad")(x)
    x = conv_bn_act(x, filters, 3, strides=stride, padding="valid", name=f"{name}_2")
    x = keras.layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return keras.layers.Add(name=f"{name}_out")([residual, x])


def _stem(x: Any, config: ResNetConfig) -> Any:
    if config.cifar:
        return conv_bn_act(x, 16, 3, use_bias=config.use_bias, name="conv1")
    preact = config.block == "preact"
    x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = conv_bn_act(
        x, 64, 7, strides=2, padding="valid", use_bias=config.use_bias, batch_norm=not preact,
        activation=None if preact else "relu", name="conv1",
    )
    x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return keras.layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def _stage(x: Any, config: ResNetConfig, stage: int, shortcut: str | None) -> Any:
    filters, blocks = config.filters[stage], config.blocks[stage]
    prefix = f"conv{stage + 2}"
    if config.block == "preact":
        # v2 downsamples in the last block of every stage but the last (keras.applications).
        stride = 1 if stage == len(config.blocks) - 1 else 2
        pool_name = "max_pooling2d" + (f"_{stage}" if stage else "")
        for b in range(1, blocks + 1):
            x = preact_bottleneck(
                x, filters, stride=stride if b == blocks else 1, conv_shortcut=b == 1,
                pool_name=pool_name, name=f"{prefix}_block{b}",
            )
        return x
    stride = 1 if stage == 0 else 2
    for b in range(1, blocks + 1):
        name, s = f"{prefix}_block{b}", stride if b == 1 else 1
        if config.block == "bottleneck":
            x = residual_bottleneck(
                x, filters, stride=s, conv_shortcut=b == 1, use_bias=config.use_bias,
                se_ratio=config.se_ratio, name=name,
            )
        else:
            x = basic_block(
                x, filters, stride=s, shortcut=shortcut, use_bias=config.use_bias, name=name
            )
    return x


def resnet_from_config(
    model: str, config: ResNetConfig, *, shortcut: str | None = AUTO, **common: Any
) -> keras.Model:
    """Build any ResNet described by a :class:`ResNetConfig` (the zoo's one generic builder).

    Args:
        model: the registered name (for argument checks, defaults and error messages).
        config: the variant.
        shortcut: ``"A"``/``"B"`` for basic blocks, ``"B"`` for bottlenecks; ``"auto"`` for the
            variant's default; ``None`` (basic blocks only) for the plain network.
        **common: the common arguments (``include_top``, ``weights``, ``input_shape``,
            ``pooling``, ``classes``, ``classifier_activation``, ``name``).

    Returns:
        The ``keras.Model``.

    Raises:
        ValueError: for an unknown ``shortcut`` or a bad common argument.
    """
    args = check_args(model, **common)
    if shortcut is None and config.block != "basic":
        raise fail(
            "shortcut", shortcut,
            '"B" (plain networks, shortcut=None, are built for basic-block ResNets only: '
            "resnet18/34 and the CIFAR ResNets, as in He et al. 2015)",
            where=model,
        )
    shortcut = check_choice(
        "shortcut", config.default_shortcut if shortcut == AUTO else shortcut, config.shortcuts,
        where=model,
    )
    inputs = model_input(args)
    x = _stem(inputs, config)
    for stage in range(len(config.blocks)):
        x = _stage(x, config, stage, shortcut)
    if config.block == "preact":
        x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name="post_bn")(x)
        x = keras.layers.Activation("relu", name="post_relu")(x)
    return finish_model(inputs, pool_or_classify(x, args), args, model)


def _describe(variant: str, config: ResNetConfig) -> str:
    depth = variant.removeprefix("resnet").removesuffix("_v2")
    blocks = list(config.blocks)
    if config.cifar:
        n = config.blocks[0]
        return (
            f"ResNet-{depth} for CIFAR-10 (He et al., 2015, arXiv:1512.03385, §4.2): 6n+2 layers "
            f"with n={n}, a 3x3 stem of 16 filters and three stages of {n} basic blocks "
            f"(16/32/64 filters at 32/16/8 pixels), global average pooling, {10} classes.\n\n"
            f"    Default shortcut option A (the paper's: identity, subsampled, zero channels "
            f"appended; no extra parameters): {PARAMS[variant]:,} parameters (Keras count, batch "
            f"norm moving statistics included; {PARAMS[variant] - 2 * _bn_channels(config):,} "
            f"trainable). Option B adds 1x1 projections at the two downsampling blocks."
        )
    if config.block == "preact":
        return (
            f"ResNet-{depth} v2 (He et al., 2016, arXiv:1603.05027): pre-activation bottlenecks "
            f"{blocks}, keras.applications.{KERAS_APPS[variant]}'s layers and order. "
            f"{PARAMS[variant]:,} parameters at 224x224 and 1000 classes."
        )
    kind = "basic blocks" if config.block == "basic" else "bottleneck blocks"
    twin = (
        f"keras.applications.{KERAS_APPS[variant]}'s layers and order"
        if variant in KERAS_APPS
        else "torchvision's layout (bias-free convolutions, projection shortcuts where the shape "
        "changes) with keras.applications-style names"
    )
    return (
        f"ResNet-{depth} (He et al., 2015, arXiv:1512.03385, Table 1): {kind} {blocks}, {twin}. "
        f"{PARAMS[variant]:,} parameters at 224x224 and 1000 classes (Keras count, batch norm "
        f"moving statistics included)."
    )


def _bn_channels(config: ResNetConfig) -> int:
    """Batch-normalised channels of a CIFAR ResNet with option A (stem + two per block)."""
    return config.filters[0] + sum(2 * f * n for f, n in zip(config.filters, config.blocks))


_SHORTCUT_DOC = """
    Args:
        shortcut: where a block changes shape: ``"A"`` identity with stride-2 subsampling and
            zero-padded channels (no parameters), ``"B"`` 1x1 projection + batch norm. Basic-block
            ResNets accept both; bottleneck ResNets only ``"B"``. ``"auto"``: the paper's choice
            (A for the CIFAR ResNets, B otherwise). ``None`` (basic-block ResNets): the *plain*
            network of He et al. (2015, §4.1, Fig. 3 middle; plain-18/34, and plain-20/56 on
            CIFAR, Fig. 6): the same layers with no shortcut at all (the degradation experiment).
"""


def _public(variant: str) -> Any:
    config = VARIANTS[variant]
    v2 = config.block == "preact"
    return register_model(
        variant, family="resnet_cifar" if config.cifar else "resnet",
        paper="He, Zhang, Ren & Sun, 2016" if v2 else "He, Zhang, Ren & Sun, 2015",
        year=2016 if v2 else 2015, arxiv="1603.05027" if v2 else "1512.03385",
        default_input_shape=(32, 32, 3) if config.cifar else (224, 224, 3),
        min_input_size=4 if config.cifar else 32, params=PARAMS[variant],
        keras_app=KERAS_APPS.get(variant), feature_taps=feature_taps(config),
        test_input_shape=(16, 16, 3) if config.cifar else (32, 32, 3),
    )(
        public_builder(
            resnet_from_config, variant, config, doc=_describe(variant, config) + "\n" + _SHORTCUT_DOC,
            defaults={"classes": 10} if config.cifar else None,
        )
    )


build_resnet18 = _public("resnet18")
build_resnet34 = _public("resnet34")
build_resnet50 = _public("resnet50")
build_resnet101 = _public("resnet101")
build_resnet152 = _public("resnet152")
build_resnet50_v2 = _public("resnet50_v2")
build_resnet101_v2 = _public("resnet101_v2")
build_resnet152_v2 = _public("resnet152_v2")
build_resnet20 = _public("resnet20")
build_resnet32 = _public("resnet32")
build_resnet44 = _public("resnet44")
build_resnet56 = _public("resnet56")
build_resnet110 = _public("resnet110")
