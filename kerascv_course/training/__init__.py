"""Training: the :class:`Recipe` schema and its checks, the run kit and :func:`train`.

Importing this package is light: TensorFlow loads on first use of a name that needs it
(``train``, ``get_strategy``, …), so the command line answers ``--help`` and argument errors
without it.

Example:
    >>> from kerascv_course.training import Recipe, train
    >>> result = train(Recipe(model="lenet5", dataset="digits", epochs=30))
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "Recipe": "recipe",
    "apply_hparams": "recipe",
    "load_hparams": "recipe",
    "check_recipe": "checks",
    "RunFolder": "run_folder",
    "resolve_model_source": "run_folder",
    "RunResult": "trainer",
    "train": "trainer",
    "get_strategy": "strategy",
    "make_schedule": "schedules",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(f"kerascv_course.training.{_NAMES[name]}"), name)
    raise AttributeError(f"module 'kerascv_course.training' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_NAMES])
