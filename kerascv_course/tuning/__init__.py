"""Tune: keras-tuner hyperparameter search over every model of the zoo.

- :mod:`~kerascv_course.tuning.spaces`: the search spaces as data (one table per family) and the
  parser of user spaces (a dict, or a JSON/YAML file, of ranges);
- :mod:`~kerascv_course.tuning.hypermodel`: :class:`CourseHyperModel`, the one generic
  ``keras_tuner.HyperModel`` reading a space;
- :mod:`~kerascv_course.tuning.search`: :func:`tune` (RandomSearch, Hyperband,
  BayesianOptimization; resumable; distributed chief/worker mode), the trials table;
- the ``best_hparams.json`` format and :func:`apply_hparams` are the recipe schema's
  (:mod:`kerascv_course.training.recipe`), which ``kerascv-course train --hparams`` uses.

Importing this package is light: keras-tuner and TensorFlow load when a search starts.
"""

from __future__ import annotations

import importlib
from typing import Any

from kerascv_course.training.recipe import apply_hparams, check_hparams, load_hparams
from kerascv_course.tuning.spaces import (
    DEFAULT_SPACE,
    SPACES,
    HParam,
    SearchSpace,
    family_table,
    load_space,
    resolve_space,
)

_LAZY = {
    "CourseHyperModel": "kerascv_course.tuning.hypermodel",
    "TUNERS": "kerascv_course.tuning.search",
    "TuneResult": "kerascv_course.tuning.search",
    "make_tuner": "kerascv_course.tuning.search",
    "read_trials_csv": "kerascv_course.tuning.search",
    "tune": "kerascv_course.tuning.search",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_SPACE",
    "SPACES",
    "TUNERS",
    "CourseHyperModel",
    "HParam",
    "SearchSpace",
    "TuneResult",
    "apply_hparams",
    "check_hparams",
    "family_table",
    "load_hparams",
    "load_space",
    "make_tuner",
    "read_trials_csv",
    "resolve_space",
    "tune",
]
