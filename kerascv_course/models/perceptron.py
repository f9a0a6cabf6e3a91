"""The perceptron (Rosenblatt, 1958) and the multilayer perceptron (Rumelhart et al., 1986)."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from kerascv_course.models.common import (
    add_common_doc,
    check_args,
    check_choice,
    check_range,
    finish_model,
    model_input,
)
from kerascv_course.models.layers import PACKAGE
from kerascv_course.models.registry import register_model


@keras.saving.register_keras_serializable(package=PACKAGE)
class Sign(keras.layers.Layer):
    """The perceptron's threshold unit: +1 where the input is >= 0, else -1 (not differentiable)."""

    def call(self, inputs: Any) -> Any:
        return tf.where(inputs >= 0, tf.ones_like(inputs), -tf.ones_like(inputs))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


def _flat_net(
    model: str,
    hidden_units: tuple[int, ...],
    *,
    activation: str,
    dropout: float,
    threshold: bool,
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
    )
    if args.input_shape[0] is None or args.input_shape[1] is None:
        raise ValueError(
            f"{model}: `input_shape` must be fully specified (a flat network needs a fixed input "
            f"size). Received: input_shape={args.input_shape}"
        )
    check_range(model, "dropout", dropout, low=0.0, high=1.0)
    if not isinstance(hidden_units, (tuple, list)) or not all(
        isinstance(u, int) and u > 0 for u in hidden_units
    ):
        raise ValueError(
            f"{model}: `hidden_units` must be a tuple of positive integers. "
            f"Received: hidden_units={hidden_units!r}"
        )
    inputs = model_input(args)
    x = keras.layers.Flatten(name="flatten")(inputs)
    for i, units in enumerate(hidden_units, start=1):
        x = keras.layers.Dense(units, activation=activation, name=f"hidden{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"hidden{i}_dropout")(x)
    if include_top:
        out_activation = None if threshold else args.classifier_activation
        x = keras.layers.Dense(args.classes, activation=out_activation, name="predictions")(x)
        if threshold:
            x = Sign(name="threshold")(x)
    return finish_model(inputs, x, args, model)


@register_model(
    "perceptron", family="perceptron", paper="Rosenblatt, 1958", year=1958,
    default_input_shape=(32, 32, 1), min_input_size=1, params=10_250,
    test_input_shape=(8, 8, 1),
)
@add_common_doc
def build_perceptron(
    *,
    threshold: bool = False,
    include_top: bool = True,
    weights: Any = None,
    input_shape: Any = None,
    pooling: Any = None,
    classes: int = 10,
    classifier_activation: Any = "softmax",
    name: str | None = None,
) -> keras.Model:
    """The perceptron: one layer of linear units on the flattened image (Rosenblatt, 1958).

    One unit per class (one-vs-rest), i.e. a linear classifier; with the default softmax it is
    multinomial logistic regression. ``threshold=True`` adds Rosenblatt's sign unit (+1/-1) on the
    outputs (inference only: it has no gradient). 10,250 parameters at 32x32x1 and 10 classes.

    Args:
        threshold: end with the non-differentiable sign unit instead of ``classifier_activation``.
    """
    check_choice("perceptron", "threshold", threshold, (True, False))
    return _flat_net(
        "perceptron", (), activation="linear", dropout=0.0, threshold=threshold,
        include_top=include_top, weights=weights, input_shape=input_shape, pooling=pooling,
        classes=classes, classifier_activation=classifier_activation, name=name,
    )


@register_model(
    "mlp", family="perceptron", paper="Rumelhart, Hinton & Williams, 1986", year=1986,
    default_input_shape=(32, 32, 1), min_input_size=1, params=338_610,
    test_input_shape=(8, 8, 1),
)
@add_common_doc
def build_mlp(
    *,
    hidden_units: tuple[int, ...] = (300, 100),
    activation: str = "relu",
    dropout: float = 0.0,
    include_top: bool = True,
    weights: Any = None,
    input_shape: Any = None,
    pooling: Any = None,
    classes: int = 10,
    classifier_activation: Any = "softmax",
    name: str | None = None,
) -> keras.Model:
    """A multilayer perceptron trained by back-propagation (Rumelhart, Hinton & Williams, 1986).

    The default 300-100 hidden layers are LeCun et al. (1998)'s MLP baseline on 32x32 inputs:
    338,610 parameters at 10 classes.

    Args:
        hidden_units: sizes of the hidden layers, in order.
        activation: activation of the hidden layers (``"sigmoid"`` is the 1986 choice).
        dropout: dropout rate after each hidden layer.
    """
    return _flat_net(
        "mlp", tuple(hidden_units), activation=activation, dropout=dropout, threshold=False,
        include_top=include_top, weights=weights, input_shape=input_shape, pooling=pooling,
        classes=classes, classifier_activation=classifier_activation, name=name,
    )
