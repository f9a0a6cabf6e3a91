"""Training: the :class:`Recipe` schema and its checks, the run kit and :func:`train`.

Importing this package is light: TensorFlow loads on first use of a name that needs it
(``train``, ``get_strategy``, …), so the command line answers ``--help`` and argument errors
without it.

Example:
    >>> from kerascv_course.training import Recipe, train
    >>> result = train(Recipe(model="lenet5", dataset="digits", epochs=30))
"""

from __future__ import annotations

from kerascv_course.utils.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
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
})
