"""Squeeze-and-excitation networks (Hu, Shen, Albanie, Sun & Wu, 2018, arXiv:1709.01507).

Every block of a ResNet, ResNeXt or SENet-154 re-weights its residual branch channel by channel
before the addition: global average pool, FC to C/r with ReLU, FC to C with sigmoid, multiply
(the paper's Fig. 3; :func:`~kerascv_course.models.blocks.squeeze_excite`). The variants are rows
of :data:`VARIANTS` built by ResNeXt's generic builder
(:func:`~kerascv_course.models.resnext.resnext_from_config`):

- SE-ResNet-18/34: basic blocks [2, 2, 2, 2] / [3, 4, 6, 3], the gate on the second 3x3;
- SE-ResNet-50/101/152: bottlenecks, the stride on the first 1x1 as in the authors' Caffe models;
- SE-ResNeXt-50/101 (32x4d): grouped bottlenecks, the stride on the 3x3;
- SENet-154, the ILSVRC 2017 winner's network (Table 8 and §6.1/Appendix): SE-ResNeXt-152 64x4d
  layers [3, 8, 36, 3] whose first 1x1 reduces to half the grouped width, a stem of three 3x3
  convolutions (64, 64, 128) instead of the 7x7, 3x3 stride-2 projection shortcuts and dropout
  0.2 before the classifier.

Convolutions have no biases (batch norm follows each); the SE layers have biases. Layer names
follow the zoo's ResNets (``conv2_block1_1_conv`` … ``conv5_block3_se_excite``, ``_out``).
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from kerascv_course.models.resnext import ResNeXtConfig, make_builder

_SE = dict(se_ratio=16)
VARIANTS: dict[str, ResNeXtConfig] = {
    "se_resnet18": ResNeXtConfig((2, 2, 2, 2), block="basic", **_SE),
    "se_resnet34": ResNeXtConfig((3, 4, 6, 3), block="basic", **_SE),
    "se_resnet50": ResNeXtConfig((3, 4, 6, 3), stride_on="1x1", **_SE),
    "se_resnet101": ResNeXtConfig((3, 4, 23, 3), stride_on="1x1", **_SE),
    "se_resnet152": ResNeXtConfig((3, 8, 36, 3), stride_on="1x1", **_SE),
    "se_resnext50_32x4d": ResNeXtConfig((3, 4, 6, 3), cardinality=32, width=128, **_SE),
    "se_resnext101_32x4d": ResNeXtConfig((3, 4, 23, 3), cardinality=32, width=128, **_SE),
    "senet154": ResNeXtConfig(
        (3, 8, 36, 3), cardinality=64, width=256, reduce_width=128, stem="3x3",
        downsample_kernel=3, dropout=0.2, **_SE,
    ),
}
# Keras count_params() at 224x224 and 1000 classes, batch norm's moving means and variances
# included (PyTorch counts them as buffers: the trainable part is the published figure).
PARAMS = {
    "se_resnet18": 11_788_192,
    "se_resnet34": 21_975_892,
    "se_resnet50": 28_141_144,
    "se_resnet101": 49_432_216,
    "se_resnet152": 66_973_272,
    "se_resnext50_32x4d": 27_628_120,
    "se_resnext101_32x4d": 49_093_272,
    "senet154": 115_336_536,
}
_NAMES = {
    "se_resnet18": "SE-ResNet-18", "se_resnet34": "SE-ResNet-34", "se_resnet50": "SE-ResNet-50",
    "se_resnet101": "SE-ResNet-101", "se_resnet152": "SE-ResNet-152",
    "se_resnext50_32x4d": "SE-ResNeXt-50 (32x4d)", "se_resnext101_32x4d": "SE-ResNeXt-101 (32x4d)",
    "senet154": "SENet-154",
}


def _describe(variant: str) -> str:
    config = VARIANTS[variant]
    kind = {
        "basic": "basic blocks",
        "bottleneck": "bottlenecks" if config.cardinality == 1 else
        f"bottlenecks with {config.cardinality}-group 3x3 convolutions",
    }[config.block]
    return (
        f"{_NAMES[variant]} (Hu et al., 2018, arXiv:1709.01507): {kind} "
        f"{list(config.blocks)}, every residual branch gated by squeeze-and-excitation (r=16)."
        f"\n\n    {PARAMS[variant]:,} parameters at 224x224 and 1000 classes in Keras's count "
        f"(batch norm's moving statistics included; the trainable part is the published "
        f"figure). See :mod:`kerascv_course.models.senet` for the layout."
    )


def _public(variant: str) -> Callable[..., keras.Model]:
    return make_builder(
        variant, VARIANTS[variant], family="senet",
        paper="Hu, Shen, Albanie, Sun & Wu, 2018", year=2018, arxiv="1709.01507",
        params=PARAMS[variant], description=_describe(variant),
    )


build_se_resnet18 = _public("se_resnet18")
build_se_resnet34 = _public("se_resnet34")
build_se_resnet50 = _public("se_resnet50")
build_se_resnet101 = _public("se_resnet101")
build_se_resnet152 = _public("se_resnet152")
build_se_resnext50_32x4d = _public("se_resnext50_32x4d")
build_se_resnext101_32x4d = _public("se_resnext101_32x4d")
build_senet154 = _public("senet154")
