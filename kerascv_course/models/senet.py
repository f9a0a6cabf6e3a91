"""Squeeze-and-excitation networks (Hu et al., 2018).

SE-ResNet-50 is ResNet-50 whose every bottleneck gates its residual branch with a
squeeze-and-excitation block before the addition (the paper's Fig. 3). It is built by the ResNet
family's generic builder from one row of data; the gated bottleneck is
:func:`~kerascv_course.models.blocks.residual_bottleneck` with ``se_ratio``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras

from kerascv_course.models.common import add_common_doc
from kerascv_course.models.registry import register_model
from kerascv_course.models.resnet import ResNetConfig, feature_taps, resnet_from_config
from kerascv_course.utils.checks import check_positive_int

# The original SE-ResNet (Caffe, and its PyTorch ports): bias-free convolutions, stride on the
# first 1x1 convolution of a bottleneck, SE fully connected layers with biases.
VARIANTS: dict[str, ResNetConfig] = {
    "se_resnet50": ResNetConfig("bottleneck", (3, 4, 6, 3), use_bias=False, se_ratio=16),
}
PARAMS = {"se_resnet50": 28_141_144}


@register_model(
    "se_resnet50", family="senet", paper="Hu, Shen & Sun, 2018", year=2018, arxiv="1709.01507",
    default_input_shape=(224, 224, 3), min_input_size=32, params=PARAMS["se_resnet50"],
    feature_taps=feature_taps(VARIANTS["se_resnet50"]), test_input_shape=(32, 32, 3),
)
@add_common_doc
def build_se_resnet50(
    *,
    reduction: int = 16,
    include_top: bool = True,
    weights: Any = None,
    input_shape: Any = None,
    pooling: Any = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str | None = None,
) -> keras.Model:
    """SE-ResNet-50 ("Squeeze-and-Excitation Networks", Hu, Shen & Sun, 2018, arXiv:1709.01507).

    ResNet-50's bottlenecks [3, 4, 6, 3] (keras.applications' layer names), each residual branch
    re-weighted channel by channel by a squeeze-and-excitation gate (global average pool, FC to
    C/r with ReLU, FC to C with sigmoid, multiply) before the addition. Convolutions have no
    biases (batch norm follows each), as in the original model.

    Parameters at 224x224, 1000 classes, ``reduction=16``: 28,141,144 in Keras's count, of which
    28,088,024 are trainable -- the published figure (the other 53,120 are batch norm's moving
    means and variances, which PyTorch counts as buffers). The SE blocks add 2,530,992 parameters
    to the bias-free ResNet-50.

    Args:
        reduction: the SE reduction ratio r (16 in the paper); each gate's hidden layer has
            ``channels // r`` units.
    """
    check_positive_int("reduction", reduction, where="se_resnet50")
    config = dataclasses.replace(VARIANTS["se_resnet50"], se_ratio=reduction)
    return resnet_from_config(
        "se_resnet50", config, include_top=include_top, weights=weights,
        input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, name=name,
    )
