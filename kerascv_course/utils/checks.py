"""Argument checks shared by the whole package: one argument order, one message shape.

Every check takes ``(argument, value, ...)`` and an optional ``where`` (the model, policy or command
the argument belongs to, put in front of the message). A failed check raises ``ValueError`` in
Keras's shape, saying what is allowed and what arrived::

    vgg16: `dropout` must be a number >= 0.0 and <= 1.0. Received: dropout=1.5

Nothing here imports TensorFlow, so recipes and command lines are checked before it loads.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any


def fail(argument: str, value: Any, allowed: str, *, where: str | None = None) -> ValueError:
    """The ``ValueError`` of a check: ``[where: ]`argument` must be ALLOWED. Received: argument=value``."""
    prefix = f"{where}: " if where else ""
    return ValueError(f"{prefix}`{argument}` must be {allowed}. Received: {argument}={value!r}")


def is_number(value: Any, *, integer: bool = False) -> bool:
    """Whether ``value`` is a finite int (or float, unless ``integer``), never a bool."""
    if isinstance(value, bool):
        return False
    if integer:
        return isinstance(value, numbers.Integral)
    return isinstance(value, numbers.Real) and math.isfinite(value)


def check_choice(argument: str, value: Any, allowed: Iterable[Any], *, where: str | None = None) -> Any:
    """``value`` if it is one of ``allowed``; otherwise ``ValueError`` listing them."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise fail(argument, value, "one of " + ", ".join(repr(a) for a in allowed), where=where)
    return value


def check_number(
    argument: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    optional: bool = False,
    where: str | None = None,
) -> Any:
    """``value`` if it is a finite number (an int with ``integer``) within the bounds.

    Args:
        argument: the argument's name, in the message.
        value: what arrived.
        low, high: inclusive bounds (``None``: unbounded); ``low_open``/``high_open`` exclude them.
        integer: require an ``int`` (``bool`` is never accepted).
        optional: accept ``None`` (returned as is).
        where: the owner of the argument, put in front of the message.
    """
    if optional and value is None:
        return None
    ok = is_number(value, integer=integer)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        bounds = []
        if low is not None:
            bounds.append(f"{'>' if low_open else '>='} {low}")
        if high is not None:
            bounds.append(f"{'<' if high_open else '<='} {high}")
        what = "an integer" if integer else "a number"
        allowed = what + (" " + " and ".join(bounds) if bounds else "") + (" or None" if optional else "")
        raise fail(argument, value, allowed, where=where)
    return value


def check_positive_int(argument: str, value: Any, *, optional: bool = False, where: str | None = None) -> Any:
    """``value`` if it is an integer >= 1 (or ``None`` with ``optional``)."""
    return check_number(argument, value, low=1, integer=True, optional=optional, where=where)


def check_probability(argument: str, value: Any, *, where: str | None = None) -> float:
    """``value`` as a float if it is in [0, 1]."""
    return float(check_number(argument, value, low=0.0, high=1.0, where=where))


def check_bool(argument: str, value: Any, *, where: str | None = None) -> bool:
    """``value`` if it is ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise fail(argument, value, "True or False", where=where)
    return value


def check_range_pair(
    argument: str, value: Any, *, low: float | None = None, positive: bool = False, where: str | None = None
) -> tuple[float, float]:
    """A ``(min, max)`` pair of numbers with ``min <= max`` (and ``min >= low`` / ``> 0``)."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError) as err:
        raise fail(argument, value, "a (min, max) pair of numbers", where=where) from err
    if lo > hi or (low is not None and lo < low) or (positive and lo <= 0):
        bound = "> 0" if positive else (f">= {low}" if low is not None else "finite")
        raise fail(argument, value, f"(min, max) with min <= max and min {bound}", where=where)
    return lo, hi
