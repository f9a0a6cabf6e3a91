"""One hyper-parameter range, parsed: :class:`HParam` and the range syntax of :mod:`.spaces`.

A range is ``{"min", "max"[, "step", "sampling"]}``, ``{"values": [...]}`` or ``{"value": v}``,
with optional ``"default"``, ``"when"`` and (in family tables) ``"models"``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SAMPLINGS = ("linear", "log", "reverse_log")
RANGE_KEYS = ("min", "max", "step", "sampling", "values", "value", "default", "when", "models")
#: Conditions every space gets unless its range says otherwise: momentum only acts on SGD and
#: RMSprop, Nesterov only on SGD (the trainer's ``make_optimizer``).
IMPLIED_WHEN: dict[str, dict[str, list[str]]] = {
    "momentum": {"optimizer": ["sgd", "rmsprop"]},
    "nesterov": {"optimizer": ["sgd"]},
}


@dataclass(frozen=True)
class HParam:
    """One hyperparameter of a resolved search space.

    Attributes:
        name: its name (in keras-tuner, ``trials.csv`` and the space file).
        target: ``"recipe"`` (a :class:`Recipe` field), ``"model"`` (a builder argument),
            ``"augment"`` (an option of the augmentation policy) or ``"variant"`` (picks the
            registered model).
        kind: ``"float"``, ``"int"``, ``"choice"`` or ``"fixed"``.
        min, max, step, sampling: the interval of ``"float"`` and ``"int"``.
        values: the choices (a list choice is kept as a tuple).
        default: the value of the first build (the recipe's own value where it is in range).
        when: ``(parent name, allowed parent values)`` or ``None``.
        models: for a variant, ``{value: registered model name}``.
    """

    name: str
    target: str
    kind: str
    min: float | None = None
    max: float | None = None
    step: float | None = None
    sampling: str = "linear"
    values: tuple[Any, ...] | None = None
    default: Any = None
    when: tuple[str, tuple[Any, ...]] | None = None
    models: tuple[tuple[Any, str], ...] | None = None

    @property
    def log_scale(self) -> bool:
        """Whether plots should show this hyperparameter on a log axis."""
        return self.kind in ("float", "int") and self.sampling != "linear"

    def declare(self, hp: Any) -> Any:
        """Register this hyperparameter in a ``keras_tuner.HyperParameters`` and return its value.

        Returns ``None`` while a ``when`` condition is not met (the caller keeps the recipe's value).
        """
        cond: dict[str, Any] = {}
        if self.when is not None:
            cond = {"parent_name": self.when[0], "parent_values": list(self.when[1])}
        if self.kind == "float":
            return hp.Float(self.name, self.min, self.max, step=self.step, sampling=self.sampling,
                            default=self.default, **cond)
        if self.kind == "int":
            return hp.Int(self.name, int(self.min), int(self.max),
                          step=None if self.step is None else int(self.step),
                          sampling=self.sampling, default=self.default, **cond)
        if self.kind == "choice":
            labels = [encode_choice(v) for v in self.values]
            default = None if self.default is None else encode_choice(self.default)
            value = hp.Choice(self.name, labels, default=default, **cond)
            return None if value is None else decode_choice(value, self.values)
        return hp.Fixed(self.name, encode_choice(self.default), **cond)

    def to_config(self) -> dict[str, Any]:
        """A JSON-serialisable description (the ``search.json`` record and equality checks)."""
        config = dataclasses.asdict(self)
        config["values"] = None if self.values is None else [jsonable(v) for v in self.values]
        config["default"] = jsonable(self.default)
        if self.when is not None:
            config["when"] = [self.when[0], [jsonable(v) for v in self.when[1]]]
        if self.models is not None:
            config["models"] = [[jsonable(k), m] for k, m in self.models]
        return config


def encode_choice(value: Any) -> Any:
    """A keras-tuner Choice holds scalars: a list choice ``[300, 100]`` becomes ``"300-100"``."""
    if isinstance(value, (list, tuple)):
        return "-".join(str(v) for v in value)
    return value


def decode_choice(label: Any, values: tuple[Any, ...]) -> Any:
    """The choice of ``values`` whose label is ``label``."""
    for value in values:
        if encode_choice(value) == label:
            return list(value) if isinstance(value, tuple) else value
    return label


def jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [jsonable(v) for v in value]
    return value



def type_of(value: Any) -> type | None:
    if isinstance(value, bool):
        return bool
    if isinstance(value, int):
        return int
    if isinstance(value, float):
        return float
    if isinstance(value, str):
        return str
    return None


def _number(name: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"`space[{name!r}][{key!r}]` must be a finite number. Received: {key}={value!r}")
    return value


def parse_range(name: str, rng: Mapping[str, Any], target: str, typ: type | None,
                 current: Any) -> HParam:
    if "when" not in rng and target == "recipe" and name in IMPLIED_WHEN:
        rng = {**rng, "when": IMPLIED_WHEN[name]}
    unknown = sorted(set(rng) - set(RANGE_KEYS))
    if unknown:
        raise ValueError(
            f"`space[{name!r}]` has unknown key(s) {unknown}; a range takes "
            f"{', '.join(RANGE_KEYS)}. Received: {name}={dict(rng)!r}"
        )
    when = parse_when(name, rng.get("when"))
    if "value" in rng:
        value = rng["value"]
        return HParam(name, target, "fixed", default=_tuple(value), when=when)
    if "values" in rng:
        values = rng["values"]
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(
                f"`space[{name!r}]['values']` must be a non-empty list of choices (the range is "
                f"empty). Received: {name}={dict(rng)!r}"
            )
        values = tuple(_tuple(v) for v in values)
        kinds = {type(encode_choice(v)) for v in values}
        if len(kinds) > 1 and not kinds <= {int, float}:
            raise ValueError(
                f"`space[{name!r}]['values']` must all have one type. Received: {name}={list(values)!r}"
            )
        if kinds == {int, float} or (typ is float and kinds == {int}):
            values = tuple(float(v) for v in values)
        if len({encode_choice(v) for v in values}) != len(values):
            raise ValueError(f"`space[{name!r}]['values']` repeats a choice. Received: {list(values)!r}")
        default = rng.get("default", _tuple(current))
        if default not in values:
            default = None
        return HParam(name, target, "choice", values=values, default=default, when=when)
    if "min" not in rng or "max" not in rng:
        raise ValueError(
            f"`space[{name!r}]` needs both 'min' and 'max' (or 'values', or 'value'). "
            f"Received: {name}={dict(rng)!r}"
        )
    low, high = _number(name, "min", rng["min"]), _number(name, "max", rng["max"])
    if low > high:
        raise ValueError(
            f"`space[{name!r}]` is inverted: 'min' must be below 'max'. Received: {name}={dict(rng)!r}"
        )
    if low == high:
        raise ValueError(
            f"`space[{name!r}]` is empty: 'min' equals 'max' (use {{'value': {low}}} to fix a value). "
            f"Received: {name}={dict(rng)!r}"
        )
    sampling = rng.get("sampling", "linear")
    if sampling not in SAMPLINGS:
        raise ValueError(
            f"`space[{name!r}]['sampling']` must be one of {', '.join(SAMPLINGS)}. "
            f"Received: sampling={sampling!r}"
        )
    if sampling != "linear" and low <= 0:
        raise ValueError(
            f"`space[{name!r}]` with {sampling} sampling needs 'min' > 0. Received: {name}={dict(rng)!r}"
        )
    step = rng.get("step")
    if step is not None and (_number(name, "step", step) <= 0 or step > high - low):
        raise ValueError(
            f"`space[{name!r}]['step']` must be > 0 and at most max - min. Received: step={step!r}"
        )
    if typ is bool or typ is str:
        raise ValueError(
            f"`space[{name!r}]` is a {typ.__name__}: give its choices as 'values'. "
            f"Received: {name}={dict(rng)!r}"
        )
    integral = all(isinstance(v, int) for v in (rng["min"], rng["max"], step or 1))
    kind = "int" if (typ is int or (typ is None and integral)) else "float"
    if kind == "int" and not integral:
        raise ValueError(
            f"`space[{name!r}]` is an integer hyperparameter: 'min', 'max' and 'step' must be "
            f"integers. Received: {name}={dict(rng)!r}"
        )
    default = rng.get("default", current)
    if isinstance(default, bool) or not isinstance(default, (int, float)) or not low <= default <= high:
        default = None
    elif kind == "float":
        default = float(default)
    return HParam(name, target, kind, min=float(low) if kind == "float" else int(low),
                  max=float(high) if kind == "float" else int(high), step=step, sampling=sampling,
                  default=default, when=when)


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def parse_when(name: str, when: Any) -> tuple[str, tuple[Any, ...]] | None:
    if when is None:
        return None
    if (not isinstance(when, Mapping) or len(when) != 1
            or not isinstance(next(iter(when.values())), (list, tuple))):
        raise ValueError(
            f"`space[{name!r}]['when']` must be one {{parent: [values]}} condition. "
            f"Received: when={when!r}"
        )
    parent, values = next(iter(when.items()))
    return parent, tuple(values)


def choice_key(value: Any) -> Any:
    return str(value)
