"""Size checks of the transforms and loaders (no TensorFlow imported here)."""

from __future__ import annotations

import numbers
from typing import Any

from kerascv_course.utils.checks import fail


def _positive_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


def as_size(size: Any, argument: str = "size", *, where: str | None = None) -> tuple[int, int]:
    """``int`` or ``(h, w)`` to a ``(h, w)`` tuple of positive ints; ``ValueError`` otherwise."""
    if _positive_int(size):
        return int(size), int(size)
    try:
        h, w = size
    except (TypeError, ValueError):
        h = w = None
    if _positive_int(h) and _positive_int(w):
        return int(h), int(w)
    raise fail(argument, size, "a positive int or a (height, width) pair", where=where)


def square_side(image_size: Any, default: int, *, where: str) -> int:
    """The side of square images: ``image_size`` as an int or an ``(s, s)`` pair (``None``: ``default``)."""
    if image_size is None:
        return default
    h, w = as_size(image_size, "image_size", where=where)
    if h != w:
        raise fail("image_size", image_size, "one side, or a (side, side) pair: the images are square", where=where)
    return h


def check_fits(size: tuple[int, int], image: Any, what: str = "crop size") -> None:
    """``ValueError`` when ``size`` is larger than ``image`` (checked at trace time when known)."""
    h, w = image.shape[-3], image.shape[-2]
    if (h is not None and size[0] > h) or (w is not None and size[1] > w):
        raise ValueError(
            f"The {what} {size[0]}x{size[1]} is larger than the image {h}x{w}. Received: size={size}"
        )
