"""TensorFlow 1's CIFAR-10 tutorial CNN (``cifar10.py``), sized for any input: ``tf_cifar10_tutorial``.

Not the course's practical (that is PyTorch's 60 Minute Blitz network, ``blitz``,
:mod:`kerascv_course.models.blitz`): a larger tutorial network of the same era, kept as a
stronger baseline for the STL-10 challenge (``recipes/stl10_cifar_tutorial.py`` trains it at
96x96). It is a registered model like the others (family ``"course"``), so it is trained, tuned,
summarised and exported alike.

The architecture is the classic TensorFlow tutorial ``cifar10.py`` (after Krizhevsky's
cuda-convnet ``layers-18pct``): conv 5x5x64 - max-pool 3x3/2 - LRN - conv 5x5x64 - LRN -
max-pool 3x3/2 - fully connected 384 - fully connected 192 - softmax. Every padding is "same", so
the two poolings divide the sides by 4 (rounding up).
"""

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
from kerascv_course.models.layers import LocalResponseNormalization
from kerascv_course.models.registry import register_model
from kerascv_course.utils.checks import check_bool, check_number, check_positive_int, fail

# The tutorial's LRN: tf.nn.lrn(depth_radius=4, bias=1.0, alpha=0.001 / 9.0, beta=0.75).
TUTORIAL_LRN = dict(size=9, k=1.0, alpha=0.001 / 9.0, beta=0.75)
# At 96x96 the first dense layer sees a 24x24x64 map: 14,339,338 parameters with 10 classes.
PARAMS = 14_339_338


@register_model(
    "tf_cifar10_tutorial", family="course",
    paper="TensorFlow CIFAR-10 tutorial (after Krizhevsky's cuda-convnet), 2015", year=2015,
    default_input_shape=(96, 96, 3), min_input_size=8, params=PARAMS, test_input_shape=(24, 24, 3),
)
@common_args(defaults={"classes": 10})
def build_tf_cifar10_tutorial(
    *,
    filters: int = 64,
    units: tuple[int, int] = (384, 192),
    lrn: bool = True,
    dropout: float = 0.0,
    **common: Any,
) -> keras.Model:
    """TensorFlow's CIFAR-10 tutorial CNN (two 5x5 convolutions, LRN, two dense layers).

    Parameters with 10 classes: 1,068,298 at the tutorial's 24x24 crops, 14,339,338 at STL-10's
    96x96 (the default input; the first dense layer sees a 24x24x64 map). Any side from 8 up.

    Args:
        filters: filters of both convolutions (64 in the tutorial).
        units: sizes of the hidden dense layers, ``local3``, ``local4``, … ((384, 192) in the
            tutorial).
        lrn: local response normalisation after each convolution block, with the tutorial's
            ``depth_radius=4, bias=1, alpha=0.001/9, beta=0.75``.
        dropout: dropout before each hidden dense layer (0 in the tutorial); below 1.
    """
    model = "tf_cifar10_tutorial"
    check_positive_int("filters", filters, where=model)
    if not isinstance(units, (tuple, list)) or not all(
        isinstance(u, int) and not isinstance(u, bool) and u > 0 for u in units
    ):
        raise fail("units", units, "a tuple of positive integers", where=model)
    check_bool("lrn", lrn, where=model)
    check_number("dropout", dropout, low=0.0, high=1.0, high_open=True, where=model)
    args = check_args(model, **common)
    inputs = model_input(args)
    x = keras.layers.Conv2D(filters, 5, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    if lrn:
        x = LocalResponseNormalization(**TUTORIAL_LRN, name="norm1")(x)
    x = keras.layers.Conv2D(filters, 5, padding="same", activation="relu", name="conv2")(x)
    if lrn:
        x = LocalResponseNormalization(**TUTORIAL_LRN, name="norm2")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
    if not args.include_top:
        return finish_model(inputs, pool_features(x, args.pooling), args, model)
    x = keras.layers.Flatten(name="flatten")(x)
    for i, n in enumerate(units, start=3):
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout{i}")(x)
        x = keras.layers.Dense(n, activation="relu", name=f"local{i}")(x)
    x = keras.layers.Dense(args.classes, activation=args.classifier_activation, name="predictions")(x)
    return finish_model(inputs, x, args, model)
