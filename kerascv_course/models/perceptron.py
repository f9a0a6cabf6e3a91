"""The perceptron (Rosenblatt, 1958) and the multilayer perceptron (Rumelhart et al., 1986)."""

from __future__ import annotations

from typing import Any

import keras

from kerascv_course.models.common import check_args, common_args, finish_model, model_input
from kerascv_course.models.layers import Sign
from kerascv_course.models.registry import register_model
from kerascv_course.utils.checks import check_bool, check_probability, fail

__all__ = ["Sign", "build_mlp", "build_perceptron"]


def _flat_net(
    model: str,
    hidden_units: Any,
    *,
    activation: str = "linear",
    dropout: float = 0.0,
    threshold: bool = False,
    **common: Any,
) -> keras.Model:
    args = check_args(model, **common)
    if args.input_shape[0] is None or args.input_shape[1] is None:
        raise fail(
            "input_shape", args.input_shape, "fully specified (a flat network needs a fixed input size)",
            where=model,
        )
    check_probability("dropout", dropout, where=model)
    check_bool("threshold", threshold, where=model)
    if not isinstance(hidden_units, (tuple, list)) or not all(
        isinstance(u, int) and not isinstance(u, bool) and u > 0 for u in hidden_units
    ):
        raise fail("hidden_units", hidden_units, "a tuple of positive integers", where=model)
    inputs = model_input(args)
    x = keras.layers.Flatten(name="flatten")(inputs)
    for i, units in enumerate(hidden_units, start=1):
        x = keras.layers.Dense(units, activation=activation, name=f"hidden{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"hidden{i}_dropout")(x)
    if args.include_top:
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
@common_args(defaults={"classes": 10})
def build_perceptron(*, threshold: bool = False, **common: Any) -> keras.Model:
    """The perceptron: one layer of linear units on the flattened image (Rosenblatt, 1958).

    One unit per class (one-vs-rest), i.e. a linear classifier; with the default softmax it is
    multinomial logistic regression, trained by gradient descent like any Keras model.
    ``threshold=True`` adds Rosenblatt's sign unit (+1/-1) on the outputs: inference only, since
    the sign has no gradient (training such a model stops with a message saying so). Rosenblatt's
    perceptron with its own training rule (labels ±1, the perceptron criterion, ``w <- w + gamma d
    x`` on misclassified samples) is :class:`kerascv_course.lessons.perceptron.Perceptron`.
    10,250 parameters at 32x32x1 and 10 classes.

    Args:
        threshold: end with the non-differentiable sign unit instead of ``classifier_activation``
            (inference only).
    """
    return _flat_net("perceptron", (), threshold=threshold, **common)


@register_model(
    "mlp", family="perceptron", paper="Rumelhart, Hinton & Williams, 1986", year=1986,
    default_input_shape=(32, 32, 1), min_input_size=1, params=338_610,
    test_input_shape=(8, 8, 1),
)
@common_args(defaults={"classes": 10})
def build_mlp(
    *,
    hidden_units: tuple[int, ...] = (300, 100),
    activation: str = "relu",
    dropout: float = 0.0,
    **common: Any,
) -> keras.Model:
    """A multilayer perceptron trained by back-propagation (Rumelhart, Hinton & Williams, 1986).

    The default 300-100 hidden layers are LeCun et al. (1998)'s MLP baseline on 32x32 inputs:
    338,610 parameters at 10 classes.

    Args:
        hidden_units: sizes of the hidden layers, in order.
        activation: activation of the hidden layers (``"sigmoid"`` is the 1986 choice).
        dropout: dropout rate after each hidden layer.
    """
    return _flat_net("mlp", hidden_units, activation=activation, dropout=dropout, **common)
