"""Inception-v4, Inception-ResNet-v1 and Inception-ResNet-v2 (Szegedy, Ioffe, Vanhoucke & Alemi,
2016, arXiv:1602.07261).

The three networks are data: a stem, then modules given as lists of branches, run by one branch
executor (the notation of :mod:`.inception`'s Inception v3: ``(filters, rows, cols)`` a "same"
convolution, ``(filters, rows, cols, stride)`` a "valid" one, ``"avg"`` a 3x3/1 average pool,
``"max"`` a 3x3/2 "valid" max-pool, ``("split", (f, r, c), (f, r, c))`` two parallel convolutions
concatenated). Every convolution is bias-free and followed by batch norm and ReLU, except the
residual blocks' 1x1 up-projection (bias, no batch norm, no activation), whose output is scaled and
added to the block's input by :class:`~kerascv_course.models.layers.ScaledResidual` (§3.3).

Inception-ResNet-v2 has keras.applications.InceptionResNetV2's layers, order and names, including
the automatic names (``conv2d_5``, ``batch_normalization_5``, ``custom_scale_layer_3`` …) as a
fresh Keras session assigns them, so its weight files load unchanged; its scaling layer computes
what keras.applications' ``CustomScaleLayer`` computes, without ``Lambda``, loadable in safe mode.
Inception-v4 and Inception-ResNet-v1 compose readable names: ``inception_a1_b2_1_conv`` is the
first convolution of branch 2 of the first Inception-A module.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras

from kerascv_course.models.common import (
    check_args,
    classifier_head,
    finish_model,
    model_input,
    public_builder,
)
from kerascv_course.models.layers import ScaledResidual
from kerascv_course.models.registry import register_model
from kerascv_course.utils.checks import check_number

PAPER = dict(
    family="inception", paper="Szegedy, Ioffe, Vanhoucke & Alemi, 2016", year=2016,
    arxiv="1602.07261", default_input_shape=(299, 299, 3), min_input_size=75,
    test_input_shape=(75, 75, 3),
)


def _split(*convs: tuple[int, ...]) -> tuple:
    return ("split", *convs)


# --- Inception-v4 (Figs. 3-8) -----------------------------------------------------------------

V4_STEM: tuple = ((32, 3, 3, 2), (32, 3, 3, 1), (64, 3, 3))
V4_STEM_MODULES: tuple[tuple[str, tuple], ...] = (
    ("stem_mixed1", (("max",), ((96, 3, 3, 2),))),  # 147 -> 73: 160 channels
    ("stem_mixed2", (((64, 1, 1), (96, 3, 3, 1)),
                     ((64, 1, 1), (64, 1, 7), (64, 7, 1), (96, 3, 3, 1)))),  # 71: 192
    ("stem_mixed3", (((192, 3, 3, 2),), ("max",))),  # 35: 384
)
V4_A = (((96, 1, 1),), ((64, 1, 1), (96, 3, 3)), ((64, 1, 1), (96, 3, 3), (96, 3, 3)),
        ("avg", (96, 1, 1)))
V4_REDUCTION_A = (((384, 3, 3, 2),), ((192, 1, 1), (224, 3, 3), (256, 3, 3, 2)), ("max",))
V4_B = (((384, 1, 1),), ((192, 1, 1), (224, 1, 7), (256, 7, 1)),
        ((192, 1, 1), (192, 7, 1), (224, 1, 7), (224, 7, 1), (256, 1, 7)), ("avg", (128, 1, 1)))
V4_REDUCTION_B = (((192, 1, 1), (192, 3, 3, 2)),
                  ((256, 1, 1), (256, 1, 7), (320, 7, 1), (320, 3, 3, 2)), ("max",))
V4_C = (((256, 1, 1),), ((384, 1, 1), _split((256, 1, 3), (256, 3, 1))),
        ((384, 1, 1), (448, 3, 1), (512, 1, 3), _split((256, 1, 3), (256, 3, 1))),
        ("avg", (256, 1, 1)))
V4_MODULES: tuple[tuple[str, tuple], ...] = (
    *V4_STEM_MODULES,
    *((f"inception_a{i}", V4_A) for i in range(1, 5)),
    ("reduction_a", V4_REDUCTION_A),
    *((f"inception_b{i}", V4_B) for i in range(1, 8)),
    ("reduction_b", V4_REDUCTION_B),
    *((f"inception_c{i}", V4_C) for i in range(1, 4)),
)

# --- Inception-ResNet (Figs. 7, 9-19) ---------------------------------------------------------


@dataclass(frozen=True)
class ResidualStage:
    """``repeats`` Inception-ResNet blocks named ``{kind}_{i}``, residuals scaled by ``scale``."""

    kind: str
    repeats: int
    scale: float
    branches: tuple


@dataclass(frozen=True)
class InceptionConfig:
    """One network as data: stem steps, then stages (a module ``(name, branches)`` or a
    :class:`ResidualStage`), then an optional final 1x1 convolution (``conv_7b``).

    Attributes:
        stem: the stem's steps.
        stages: modules and residual stages, in order.
        final_conv: channels of ``conv_7b`` (Inception-ResNet-v2), or ``None``.
        linear_last_block: the last residual block adds its branches unscaled, without ReLU.
        keras_names: keras.applications' automatic layer names instead of readable ones.
        taps: the U-Net encoder taps ``{stride: layer}``.
    """

    stem: tuple
    stages: tuple
    final_conv: int | None = None
    linear_last_block: bool = False
    keras_names: bool = False
    taps: dict[int, str] = field(default_factory=dict)


IR_V1 = InceptionConfig(
    stem=((32, 3, 3, 2), (32, 3, 3, 1), (64, 3, 3), "max", (80, 1, 1, 1), (192, 3, 3, 1),
          (256, 3, 3, 2)),  # Fig. 14: 35x35x256
    stages=(
        ResidualStage("block35", 5, 0.17, (((32, 1, 1),), ((32, 1, 1), (32, 3, 3)),
                                            ((32, 1, 1), (32, 3, 3), (32, 3, 3)))),  # Fig. 10
        ("reduction_a", (((384, 3, 3, 2),), ((192, 1, 1), (192, 3, 3), (256, 3, 3, 2)),
                         ("max",))),  # Fig. 7, k=192, l=192, m=256, n=384
        ResidualStage("block17", 10, 0.10, (((128, 1, 1),),
                                             ((128, 1, 1), (128, 1, 7), (128, 7, 1)))),  # Fig. 11
        ("reduction_b", (((256, 1, 1), (384, 3, 3, 2)), ((256, 1, 1), (256, 3, 3, 2)),
                         ((256, 1, 1), (256, 3, 3), (256, 3, 3, 2)), ("max",))),  # Fig. 12
        ResidualStage("block8", 5, 0.20, (((192, 1, 1),),
                                           ((192, 1, 1), (192, 1, 3), (192, 3, 1)))),  # Fig. 13
    ),
    taps={2: "stem_conv3_relu", 4: "stem_conv5_relu", 8: "block35_5_ac", 16: "block17_10_ac",
          32: "block8_5_ac"},
)
# keras.applications' Inception-ResNet-v2 (TF-Slim's; 10/20/10 blocks, Figs. 3, 16-19).
IR_V2 = InceptionConfig(
    stem=((32, 3, 3, 2), (32, 3, 3, 1), (64, 3, 3), "max", (80, 1, 1, 1), (192, 3, 3, 1), "max"),
    stages=(
        ("mixed_5b", (((96, 1, 1),), ((48, 1, 1), (64, 5, 5)),
                      ((64, 1, 1), (96, 3, 3), (96, 3, 3)), ("avg", (64, 1, 1)))),
        ResidualStage("block35", 10, 0.17, (((32, 1, 1),), ((32, 1, 1), (32, 3, 3)),
                                             ((32, 1, 1), (48, 3, 3), (64, 3, 3)))),
        ("mixed_6a", (((384, 3, 3, 2),), ((256, 1, 1), (256, 3, 3), (384, 3, 3, 2)), ("max",))),
        ResidualStage("block17", 20, 0.10, (((192, 1, 1),),
                                             ((128, 1, 1), (160, 1, 7), (192, 7, 1)))),
        ("mixed_7a", (((256, 1, 1), (384, 3, 3, 2)), ((256, 1, 1), (288, 3, 3, 2)),
                      ((256, 1, 1), (288, 3, 3), (320, 3, 3, 2)), ("max",))),
        ResidualStage("block8", 10, 0.20, (((192, 1, 1),),
                                            ((192, 1, 1), (224, 1, 3), (256, 3, 1)))),
    ),
    final_conv=1536,
    linear_last_block=True,
    keras_names=True,
    taps={2: "activation_2", 4: "activation_4", 8: "block35_10_ac", 16: "block17_20_ac",
          32: "conv_7b_ac"},
)
V4 = InceptionConfig(
    stem=V4_STEM, stages=V4_MODULES,
    taps={2: "stem_conv3_relu", 4: "stem_mixed2", 8: "inception_a4", 16: "inception_b7",
          32: "inception_c3"},
)

# Keras count_params() at 299x299 and 1000 classes (batch norm moving statistics included).
PARAMS = {
    "inception_v4": 42_711_400,
    "inception_resnet_v1": 22_769_848,
    "inception_resnet_v2": 55_873_736,
}


class _Names:
    """Layer names: readable ones composed from a prefix, or keras.applications' automatic ones.

    In keras mode a convolution without an explicit name takes the next ``conv2d_N`` (and its
    batch norm and ReLU the next ``batch_normalization_N`` / ``activation_N``), exactly as a fresh
    Keras session numbers layers created in the same order.
    """

    def __init__(self, keras_names: bool) -> None:
        self.keras = keras_names
        self._count: collections.Counter[str] = collections.Counter()

    def auto(self, prefix: str) -> str:
        n = self._count[prefix]
        self._count[prefix] += 1
        return prefix if n == 0 else f"{prefix}_{n}"

    def unit(self, name: str) -> tuple[str, str, str]:
        """Names of a convolution, its batch norm and its ReLU."""
        if self.keras:
            return self.auto("conv2d"), self.auto("batch_normalization"), self.auto("activation")
        return f"{name}_conv", f"{name}_bn", f"{name}_relu"

    def pool(self, kind: str, name: str) -> str:
        return self.auto(f"{kind}_pooling2d") if self.keras else f"{name}_pool"


@dataclass
class _Net:
    """What every step of one network needs: its names, initializer and batch-norm scale."""

    names: _Names
    init: Any

    def conv(self, x: Any, step: tuple, name: str) -> Any:
        """A ``(filters, rows, cols[, stride])`` step: bias-free convolution, batch norm (no
        scale, epsilon 1e-3, TF-Slim's), ReLU."""
        filters, rows, cols, *stride = step
        conv, bn, act = self.names.unit(name)
        x = keras.layers.Conv2D(
            filters, (rows, cols), strides=stride[0] if stride else 1,
            padding="valid" if stride else "same", use_bias=False,
            kernel_initializer=self.init, name=conv,
        )(x)
        x = keras.layers.BatchNormalization(scale=False, name=bn)(x)
        return keras.layers.Activation("relu", name=act)(x)

    def step(self, x: Any, step: Any, name: str) -> Any:
        if step == "avg":
            return keras.layers.AveragePooling2D(
                3, strides=1, padding="same", name=self.names.pool("average", name)
            )(x)
        if step == "max":
            return keras.layers.MaxPooling2D(3, strides=2, name=self.names.pool("max", name))(x)
        if step[0] == "split":
            parts = [self.conv(x, conv, f"{name}{'ab'[i]}") for i, conv in enumerate(step[1:])]
            return keras.layers.Concatenate(name=f"{name}_concat")(parts)
        return self.conv(x, step, name)

    def module(self, x: Any, branches: tuple, name: str) -> Any:
        """Run each branch's steps on ``x`` and concatenate the branches (layer ``name``)."""
        outputs = []
        for b, branch in enumerate(branches):
            y = x
            for s, step in enumerate(branch, start=1):
                y = self.step(y, step, f"{name}_b{b}_{s}")
            outputs.append(y)
        return keras.layers.Concatenate(name=name)(outputs)

    def residual(self, x: Any, stage: ResidualStage, index: int, *, linear: bool) -> Any:
        """One Inception-ResNet block: the branches, their concatenation (``{block}_mixed``), a
        1x1 up-projection with bias (``{block}_conv``), ``x + scale * up``, ReLU (``{block}_ac``).
        ``linear``: scale 1 and no ReLU (the last block of keras.applications' v2)."""
        block = f"{stage.kind}_{index}"
        mixed = self.module(x, stage.branches, f"{block}_mixed")
        up = keras.layers.Conv2D(
            x.shape[-1], 1, use_bias=True, kernel_initializer=self.init, name=f"{block}_conv"
        )(mixed)
        scale_name = self.names.auto("custom_scale_layer") if self.names.keras else f"{block}_scale"
        x = ScaledResidual(1.0 if linear else stage.scale, name=scale_name)([x, up])
        if linear:
            return x
        return keras.layers.Activation("relu", name=f"{block}_ac")(x)


def _stem(net: _Net, x: Any, steps: tuple) -> Any:
    """The stem's steps, named ``stem_conv{k}`` (k-th convolution) and ``stem{k}_pool``."""
    count = {"conv": 0, "pool": 0}
    for step in steps:
        kind = "pool" if step == "max" else "conv"
        count[kind] += 1
        name = f"stem_conv{count['conv']}" if kind == "conv" else f"stem{count['pool']}"
        x = net.step(x, step, name)
    return x


def inception_from_config(
    model: str,
    config: InceptionConfig,
    *,
    dropout: float,
    **common: Any,
) -> keras.Model:
    """Build any network of this module from its :class:`InceptionConfig`.

    Args:
        model: the registered name (argument checks, defaults, error messages).
        config: the network.
        dropout: dropout rate before the classifier.
        **common: the common arguments (:data:`~kerascv_course.models.common.COMMON_ARGS`).

    Returns:
        The ``keras.Model``.
    """
    args = check_args(model, **common)
    check_number("dropout", dropout, where=model, low=0.0, high=1.0)
    init = args.kernel_initializer if args.kernel_initializer is not None else "glorot_uniform"
    net = _Net(_Names(keras_names=config.keras_names), init)
    inputs = model_input(args)
    x = _stem(net, inputs, config.stem)
    last = config.stages[-1]
    for stage in config.stages:
        if isinstance(stage, ResidualStage):
            for i in range(1, stage.repeats + 1):
                linear = config.linear_last_block and stage is last and i == stage.repeats
                x = net.residual(x, stage, i, linear=linear)
        else:
            x = net.module(x, stage[1], stage[0])
    if config.final_conv:
        conv = keras.layers.Conv2D(
            config.final_conv, 1, use_bias=False, kernel_initializer=init, name="conv_7b"
        )(x)
        x = keras.layers.BatchNormalization(scale=False, name="conv_7b_bn")(conv)
        x = keras.layers.Activation("relu", name="conv_7b_ac")(x)
    outputs = classifier_head(x, args, dropout=dropout, kernel_initializer=init)
    return finish_model(inputs, outputs, args, model)


_ARGS_DOC = """
    Args:
        dropout: dropout rate before the classifier{dropout_note}.
"""

DESCRIPTIONS = {
    "inception_v4": """Inception-v4 (Szegedy et al., 2016, arXiv:1602.07261, Figs. 3-9).

    The stem of Fig. 3 (299 -> 35x35x384), four Inception-A modules (Fig. 4), Reduction-A
    (Fig. 7 with k=192, l=224, m=256, n=384), seven Inception-B (Fig. 5), Reduction-B (Fig. 8),
    three Inception-C (Fig. 6), global average pooling, dropout and the classifier. Branch order
    and the order of the factorised 1x7/7x1 convolutions are TF-Slim's, the authors' release.

    42,711,400 parameters at 299x299 and 1000 classes in Keras's count (batch norm's moving
    statistics included; batch norm without scale, as in TF-Slim): 42,648,232 trainable, plus
    the 31,584 batch-norm scales of Cadene's PyTorch port make its 42,679,816.
""",
    "inception_resnet_v1": """Inception-ResNet-v1 (Szegedy et al., 2016, arXiv:1602.07261, Figs. 7, 10-15).

    The stem of Fig. 14 (299 -> 35x35x256), five Inception-ResNet-A blocks (Fig. 10),
    Reduction-A (Fig. 7 with k=192, l=192, m=256, n=384), ten Inception-ResNet-B (Fig. 11),
    Reduction-B (Fig. 12), five Inception-ResNet-C (Fig. 13), global average pooling, dropout and
    the classifier: the paper's schema (Fig. 15), whose cost is about Inception-v3's. Each block
    adds ``scale`` times its 1x1-projected branches to its input, then ReLU; the paper gives no
    per-block scales (§3.3: "between 0.1 and 0.3"), so the released v2's are used: 0.17, 0.10,
    0.20. Batch norm follows every convolution but the up-projections, as in the paper.

    22,769,848 parameters at 299x299 and 1000 classes in Keras's count (batch norm's moving
    statistics included); 22,742,808 trainable.
""",
    "inception_resnet_v2": """Inception-ResNet-v2 (Szegedy et al., 2016, arXiv:1602.07261), keras.applications' model.

    keras.applications.InceptionResNetV2's layers, order and names (TF-Slim's network: the v3-like
    stem and ``mixed_5b``, 10 Inception-ResNet-A blocks scaled by 0.17, ``mixed_6a``, 20 B blocks
    scaled by 0.1, ``mixed_7a``, 9 C blocks scaled by 0.2 and a last linear one, the 1x1
    ``conv_7b`` to 1536 channels), so its weight files load unchanged and give the same outputs.
    55,873,736 parameters at 299x299 and 1000 classes (keras.applications' count).
""",
}
_DROPOUT_NOTES = {
    "inception_v4": " (the paper keeps 0.8: 0.2)",
    "inception_resnet_v1": " (the paper keeps 0.8: 0.2)",
    "inception_resnet_v2": (
        ". The paper trains with 0.2\n            (keep 0.8); the default 0 is "
        "keras.applications' graph exactly (``top_dropout``\n            holds no weights, so "
        "weight files load either way)"
    ),
}


def _public(
    model: str, config: InceptionConfig, *, dropout: float, keras_app: str | None = None
) -> Callable[..., keras.Model]:
    """Register and return the public ``build_<model>`` of one configuration."""

    def generic(model: str, config: InceptionConfig, *, dropout: float = dropout, **common: Any) -> keras.Model:
        return inception_from_config(model, config, dropout=dropout, **common)

    generic.__module__ = __name__
    doc = DESCRIPTIONS[model] + _ARGS_DOC.format(dropout_note=_DROPOUT_NOTES[model])
    return register_model(
        model, params=PARAMS[model], feature_taps=config.taps, keras_app=keras_app, **PAPER
    )(public_builder(generic, model, config, doc=doc))


build_inception_v4 = _public("inception_v4", V4, dropout=0.2)
build_inception_resnet_v1 = _public("inception_resnet_v1", IR_V1, dropout=0.2)
build_inception_resnet_v2 = _public(
    "inception_resnet_v2", IR_V2, dropout=0.0, keras_app="InceptionResNetV2"
)
