"""The course's practical: the CIFAR-10 classifier of PyTorch's "Deep Learning with PyTorch: A 60
Minute Blitz" (``Net`` in its "Training a Classifier" part), and the STL-10 challenge that follows.

``blitz`` is the tutorial's network, layer for layer: conv 5x5 -> 6, ReLU, max-pool 2, conv 5x5 ->
16, ReLU, max-pool 2, flatten, fully connected 120, ReLU, 84, ReLU, 10. The convolutions have no
padding, so a 32x32 image leaves a 16x5x5 map: 62,006 parameters at 32x32x3 and 10 classes.

The challenge ("adapt the tutorial to the STL10 database (larger images)") at 96x96:

- ``blitz`` itself at ``input_shape=(96, 96, 3)`` is the one change 96x96 *forces*: the first
  fully connected layer now reads a 16x21x21 map (96 -> 92 -> 46 -> 42 -> 21), 7,056 inputs
  instead of 400, and holds 846,840 of the network's 860,726 parameters.
- ``blitz_stl10`` is the adaptation a student would reach for: four conv 5x5 ("same") -> ReLU ->
  max-pool 2 stages (16, 32, 64, 128 filters; 96 -> 48 -> 24 -> 12 -> 6), then global average
  pooling before the tutorial's 120-84-10 head: 296,734 parameters at 96x96. Why: with the
  tutorial's two stages each unit of the last map sees only 16x16 pixels of a 96x96 image, and
  98 % of the weights sit in one fully connected layer that 5,000 training images cannot fit
  without memorising them; two more stages give units that see the whole object (a 76-pixel
  receptive field) and global pooling makes the head's size independent of the image size.
"""

from __future__ import annotations

from typing import Any

import keras

from kerascv_course.models.common import (
    check_args,
    finish_model,
    model_input,
    pool_features,
    public_builder,
)
from kerascv_course.models.registry import register_model
from kerascv_course.utils.checks import check_choice, fail

PARAMS = {"blitz": 62_006, "blitz_stl10": 296_734}
PADDINGS = ("valid", "same")


def _positive_ints(argument: str, value: Any, model: str) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)) or not value or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
    ):
        raise fail(argument, value, "a non-empty tuple of positive integers", where=model)
    return tuple(value)


def _blitz(
    model: str,
    *,
    filters: tuple[int, ...],
    units: tuple[int, ...],
    padding: str,
    global_pooling: bool,
    **common: Any,
) -> keras.Model:
    filters = _positive_ints("filters", filters, model)
    units = _positive_ints("units", units, model)
    check_choice("padding", padding, PADDINGS, where=model)
    if not isinstance(global_pooling, bool):
        raise fail("global_pooling", global_pooling, "True or False", where=model)
    # Each stage: conv 5x5 (-4 pixels when "valid"), then max-pool 2 (floor of half).
    side = 1
    for _ in filters:
        side = 2 * side + (4 if padding == "valid" else 0)
    args = check_args(model, min_input_size=side, allow_none=None if not global_pooling else True, **common)
    inputs = model_input(args)
    x = inputs
    for i, n in enumerate(filters, start=1):
        x = keras.layers.Conv2D(n, 5, padding=padding, activation="relu", name=f"conv{i}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    if not args.include_top:
        return finish_model(inputs, pool_features(x, args.pooling), args, model)
    if global_pooling:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    else:
        x = keras.layers.Flatten(name="flatten")(x)
    for i, n in enumerate(units, start=1):
        x = keras.layers.Dense(n, activation="relu", name=f"fc{i}")(x)
    x = keras.layers.Dense(args.classes, activation=args.classifier_activation, name="predictions")(x)
    return finish_model(inputs, x, args, model)


_ARGS = ("filters", "units", "padding", "global_pooling")
_ARGS_DOC = """
    Args:
        filters: filters of each conv 5x5 -> ReLU -> max-pool 2 stage, in order.
        units: sizes of the hidden fully connected layers (ReLU), in order.
        padding: the convolutions' padding, ``"valid"`` (the tutorial's) or ``"same"``.
        global_pooling: global average pooling instead of flattening before the first fully
            connected layer (any input size from the smallest the stages accept)."""


def _builder(variant: str, doc: str, **defaults: Any) -> Any:
    def generic(model: str, *, filters: tuple[int, ...] = defaults["filters"],
                units: tuple[int, ...] = (120, 84), padding: str = defaults["padding"],
                global_pooling: bool = defaults["global_pooling"], **common: Any) -> keras.Model:
        return _blitz(model, filters=filters, units=units, padding=padding,
                      global_pooling=global_pooling, **common)

    generic.__module__ = __name__
    return public_builder(generic, variant, doc=doc + "\n" + _ARGS_DOC, defaults={"classes": 10})


build_blitz = register_model(
    "blitz", family="blitz",
    paper='PyTorch tutorial "Deep Learning with PyTorch: A 60 Minute Blitz" (CIFAR-10 classifier), 2017',
    year=2017, default_input_shape=(32, 32, 3), min_input_size=16, params=PARAMS["blitz"],
)(_builder(
    "blitz",
    "The 60 Minute Blitz's CIFAR-10 network: conv 5x5 -> 6, pool, conv 5x5 -> 16, pool, FC 120, "
    "84, 10.\n\n    62,006 parameters at 32x32x3 and 10 classes; at 96x96 (STL-10) the first "
    "fully connected\n    layer reads a 16x21x21 map: 860,726 parameters. Any side from 16 up.",
    filters=(6, 16), padding="valid", global_pooling=False,
))

build_blitz_stl10 = register_model(
    "blitz_stl10", family="blitz",
    paper="The 60 Minute Blitz network (PyTorch tutorial, 2017) adapted to STL-10: 4 stages, global pooling",
    year=2017, default_input_shape=(96, 96, 3), min_input_size=16, params=PARAMS["blitz_stl10"],
    test_input_shape=(32, 32, 3),
)(_builder(
    "blitz_stl10",
    "The Blitz network adapted to STL-10's 96x96 images: four conv 5x5 (same) -> ReLU -> pool\n"
    "    stages (16, 32, 64, 128), global average pooling, FC 120, 84, 10.\n\n"
    "    296,734 parameters at any input size with 10 classes (global pooling); any side from 16 up.\n"
    "    See :mod:`kerascv_course.models.blitz` for why.",
    filters=(16, 32, 64, 128), padding="same", global_pooling=True,
))
