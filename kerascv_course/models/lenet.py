"""LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998): the first convolutional network of the course."""

from __future__ import annotations

from typing import Any

import keras

from kerascv_course.models.common import (
    check_args,
    common_args,
    finish_model,
    model_input,
    pool_features,
)
from kerascv_course.models.layers import (
    ConnectionTableConv2D,
    RBFOutput,
    ScaledTanh,
    TrainableSubsampling,
)
from kerascv_course.models.registry import register_model
from kerascv_course.utils.checks import check_bool, check_choice

VARIANTS = ("classic", "modern")
C3_CONNECTIONS = ("full", "paper")
OUTPUTS = ("dense", "rbf")
SUBSAMPLINGS = ("average", "trainable")


def _activation(x: Any, variant: str, scaled_tanh: bool, name: str) -> Any:
    if variant == "modern":
        return keras.layers.Activation("relu", name=name)(x)
    if scaled_tanh:
        return ScaledTanh(name=name)(x)
    return keras.layers.Activation("tanh", name=name)(x)


def _subsample(x: Any, variant: str, subsampling: str, name: str) -> Any:
    if variant == "modern":
        return keras.layers.MaxPooling2D(2, name=name)(x)
    if subsampling == "trainable":
        return TrainableSubsampling(name=name)(x)
    return keras.layers.AveragePooling2D(2, name=name)(x)


@register_model(
    "lenet5", family="lenet", paper="LeCun, Bottou, Bengio & Haffner, 1998", year=1998,
    default_input_shape=(32, 32, 1), min_input_size=32, params=61_706,
    feature_taps={1: "c1_act", 2: "c3_act"}, non_square=True,
)
@common_args(defaults={"classes": 10})
def build_lenet5(
    *,
    variant: str = "classic",
    c3_connections: str = "full",
    subsampling: str = "average",
    output: str = "dense",
    scaled_tanh: bool = False,
    **common: Any,
) -> keras.Model:
    """LeNet-5 (LeCun et al., 1998, "Gradient-based learning applied to document recognition").

    C1 (6 5x5 convolutions) - S2 (2x2 subsampling) - C3 (16 5x5) - S4 - C5 (120 5x5 convolutions,
    1x1 output at 32x32) - F6 (84 units) - output. The default is the usual faithful rendering:
    tanh, average-pool subsampling, C3 fully connected, a dense output: 61,706 parameters on
    32x32x1 with 10 classes. Options turn on each of the paper's own details.

    Args:
        variant: ``"classic"`` (tanh, subsampling) or ``"modern"`` (ReLU, max-pooling).
        c3_connections: ``"full"`` (every S2 map feeds every C3 map) or ``"paper"`` (Table I's
            sparse connection table: 1,516 instead of 2,416 parameters in C3).
        subsampling: ``"average"`` (no parameters) or ``"trainable"`` (the paper's coefficient and
            bias per map).
        output: ``"dense"`` or ``"rbf"`` (the paper's Euclidean RBF units with fixed ±1
            prototypes; outputs are negative squared distances).
        scaled_tanh: use the paper's ``1.7159 * tanh(2/3 a)`` instead of ``tanh``.
    """
    model = "lenet5"
    check_choice("variant", variant, VARIANTS, where=model)
    check_choice("c3_connections", c3_connections, C3_CONNECTIONS, where=model)
    check_choice("subsampling", subsampling, SUBSAMPLINGS, where=model)
    check_choice("output", output, OUTPUTS, where=model)
    check_bool("scaled_tanh", scaled_tanh, where=model)
    args = check_args(model, **common)
    inputs = model_input(args)
    x = keras.layers.Conv2D(6, 5, name="c1")(inputs)
    x = _activation(x, variant, scaled_tanh, "c1_act")
    x = _subsample(x, variant, subsampling, "s2")
    if variant == "classic" and subsampling == "trainable":
        x = _activation(x, variant, scaled_tanh, "s2_act")
    if c3_connections == "paper":
        x = ConnectionTableConv2D(name="c3")(x)
    else:
        x = keras.layers.Conv2D(16, 5, name="c3")(x)
    x = _activation(x, variant, scaled_tanh, "c3_act")
    x = _subsample(x, variant, subsampling, "s4")
    if variant == "classic" and subsampling == "trainable":
        x = _activation(x, variant, scaled_tanh, "s4_act")
    x = keras.layers.Conv2D(120, 5, name="c5")(x)
    x = _activation(x, variant, scaled_tanh, "c5_act")
    if not args.include_top:
        return finish_model(inputs, pool_features(x, args.pooling), args, model)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(84, name="f6")(x)
    x = _activation(x, variant, scaled_tanh, "f6_act")
    if output == "rbf":
        x = RBFOutput(args.classes, name="rbf")(x)
        if args.classifier_activation is not None:
            x = keras.layers.Activation(args.classifier_activation, name="predictions")(x)
    else:
        x = keras.layers.Dense(
            args.classes, activation=args.classifier_activation, name="predictions"
        )(x)
    return finish_model(inputs, x, args, model)
