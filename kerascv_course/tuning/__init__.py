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

from kerascv_course.utils.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "apply_hparams": "kerascv_course.training.recipe",
    "check_hparams": "kerascv_course.training.recipe",
    "load_hparams": "kerascv_course.training.recipe",
    "DEFAULT_SPACE": "tables",
    "SPACES": "tables",
    "HParam": "spaces",
    "SearchSpace": "spaces",
    "family_table": "tables",
    "load_space": "spaces",
    "resolve_space": "spaces",
    "CourseHyperModel": "hypermodel",
    "TUNERS": "search",
    "TuneResult": "search",
    "make_tuner": "search",
    "read_trials_csv": "search",
    "tune": "search",
})
