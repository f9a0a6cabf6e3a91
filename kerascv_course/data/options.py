"""Declared options and their one reader (no TensorFlow): what a policy or a dataset accepts.

An :class:`Option` is a default and a check. A policy (:data:`~kerascv_course.data.catalog.POLICIES`)
and a dataset (:data:`~kerascv_course.data.catalog.DATASETS`) each declare theirs, and
:func:`check_options` reads what a recipe gives against them: unknown names and bad values are
refused before TensorFlow loads, in one message shape.

Example:
    >>> check_options({"padding": number(4, low=0, integer=True)}, {"padding": 2}, owner="policy 'cifar'")
    {'padding': 2}
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kerascv_course.utils.checks import check_choice, check_number, check_range_pair, fail


@dataclass(frozen=True)
class Option:
    """One option of an augmentation policy or a dataset.

    Attributes:
        default: its value when not given.
        check: ``check(argument, value, *, where=None)`` raising ``ValueError`` for a bad value.
    """

    default: Any
    check: Callable[..., Any]


def _pair_check(
    argument: str, value: Any, *, optional: bool = False, high: float | None = None, where: str | None = None
) -> Any:
    if optional and value is None:
        return None
    _, hi = check_range_pair(argument, value, positive=True, where=where)
    if high is not None and hi > high:
        raise fail(argument, value, f"(min, max) with 0 < min <= max <= {high}", where=where)
    return value


def number(default: Any, **bounds: Any) -> Option:
    """An option checked by :func:`~kerascv_course.utils.checks.check_number` with ``bounds``."""
    return Option(default, functools.partial(check_number, **bounds))


def pair(default: Any, **kwargs: Any) -> Option:
    """A ``(min, max)`` option of positive numbers (``high``: the largest max; ``optional``: ``None`` too)."""
    return Option(default, functools.partial(_pair_check, **kwargs))


def choice(default: Any, allowed: tuple[Any, ...]) -> Option:
    """An option that is one of ``allowed``."""
    return Option(default, functools.partial(check_choice, allowed=allowed))


def check_values(options: Mapping[str, Option], values: Mapping[str, Any], *, where: str) -> None:
    """Check each of ``values`` with its :class:`Option` (keys known to be options)."""
    for key, value in values.items():
        options[key].check(key, value, where=where)


def check_options(declared: Mapping[str, Option], given: Mapping[str, Any] | None, *, owner: str) -> dict[str, Any]:
    """Check ``given`` against the ``declared`` options of ``owner`` (e.g. ``"dataset 'cifar10'"``).

    Returns:
        The given options (a new dict), each checked.

    Raises:
        ValueError: for an unknown option (the message lists the declared ones) or a bad value
            (the message names the option, what it must be and what arrived).
    """
    given = dict(given or {})
    unknown = sorted(set(given) - set(declared), key=str)
    if unknown:
        known = f"its options: {', '.join(declared)}" if declared else "it takes no options"
        raise ValueError(
            f"Unknown option(s) {', '.join(map(str, unknown))} for {owner}; {known}. "
            f"Received: {', '.join(f'{k}={given[k]!r}' for k in unknown)}"
        )
    check_values(declared, given, where=owner)
    return given
