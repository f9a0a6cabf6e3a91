"""The course's practical network: TensorFlow's CIFAR-10 tutorial CNN, sized for any input.

This small network is *not* part of the model zoo (it is not in ``list_models()``): it exists so
that the course's practical — the CIFAR-10 tutorial network adapted to STL-10 at 96×96
(``recipes/stl10_cifar_tutorial.py``) — trains through the same trainer as the zoo. The trainer
resolves a recipe's ``model`` name through :func:`resolve_spec`, which looks in
:data:`COURSE_MODELS` first and then in the registry.

The architecture is the classic TensorFlow tutorial ``cifar10.py`` (after Krizhevsky's
cuda-convnet ``layers-18pct``): conv 5×5×64 – max-pool 3×3/2 – LRN – conv 5×5×64 – LRN –
max-pool 3×3/2 – fully connected 384 – fully connected 192 – softmax. At 24×24 (the tutorial's
crops) it has 1,068,298 parameters with 10 classes; at STL-10's 96×96 the first fully connected
layer sees a 24×24×64 map (14.3 M parameters in all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from kerascv_course.models.layers import LocalResponseNormalization
from kerascv_course.models.registry import ModelSpec, get_spec


def build_cifar_tutorial(
    *,
    input_shape: Any = (96, 96, 3),
    classes: int = 10,
    filters: int = 64,
    units: tuple[int, int] = (384, 192),
    lrn: bool = True,
    dropout: float = 0.0,
    classifier_activation: Any = "softmax",
    name: str = "cifar_tutorial",
) -> keras.Model:
    """TensorFlow's CIFAR-10 tutorial CNN (two 5×5 convolutions, LRN, two dense layers).

    Args:
        input_shape: ``(H, W, C)``; any side ≥ 8.
        classes: number of classes.
        filters: filters of both convolutions (64 in the tutorial).
        units: sizes of the two hidden dense layers ((384, 192) in the tutorial).
        lrn: local response normalisation after each convolution block, with the tutorial's
            ``depth_radius=4, bias=1, alpha=0.001/9, beta=0.75``.
        dropout: dropout before each hidden dense layer (0 in the tutorial).
        classifier_activation: activation of the output layer.
        name: the model's name.

    Returns:
        The ``keras.Model``: 1,068,298 parameters at 24×24×3 with 10 classes.

    Raises:
        ValueError: for an input smaller than 8×8 or a bad dropout rate.
    """
    shape = tuple(input_shape)
    if len(shape) != 3 or any(s is None or s < 8 for s in shape[:2]):
        raise ValueError(
            f"`input_shape` must be (H, W, C) with sides >= 8. Received: input_shape={input_shape!r}"
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout!r}")
    inputs = keras.Input(shape=shape, name="input_layer")
    x = keras.layers.Conv2D(filters, 5, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    if lrn:
        x = LocalResponseNormalization(size=9, k=1.0, alpha=0.001 / 9.0, beta=0.75, name="norm1")(x)
    x = keras.layers.Conv2D(filters, 5, padding="same", activation="relu", name="conv2")(x)
    if lrn:
        x = LocalResponseNormalization(size=9, k=1.0, alpha=0.001 / 9.0, beta=0.75, name="norm2")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    for i, n in enumerate(units, start=3):
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout{i}")(x)
        x = keras.layers.Dense(n, activation="relu", name=f"local{i}")(x)
    outputs = keras.layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


COURSE_MODELS: dict[str, ModelSpec] = {
    "cifar_tutorial": ModelSpec(
        name="cifar_tutorial",
        builder=build_cifar_tutorial,
        task="classification",
        family="course",
        paper="TensorFlow CIFAR-10 tutorial (after Krizhevsky's cuda-convnet)",
        year=2015,
        arxiv=None,
        default_input_shape=(96, 96, 3),
        min_input_size=8,
        params=None,
    ),
}


def resolve_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of a course model or of a registered model.

    Raises:
        ValueError: for a name that is neither (the message lists close matches).
    """
    if isinstance(name, str) and name in COURSE_MODELS:
        return COURSE_MODELS[name]
    return get_spec(name)


def resolve_builder(name: str) -> Callable[..., keras.Model]:
    """The builder function of a course model or of a registered model."""
    return resolve_spec(name).builder
