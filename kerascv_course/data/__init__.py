"""Data: datasets, transforms, augmentation policies and the input pipeline.

Modules, by concept:

* :mod:`.catalog` — dataset names, tasks and splits; augmentation policies and their options
  (plain data, no TensorFlow: checking a name or an option is instant).
* :mod:`.datasets` — the loaders: :func:`load_dataset` and :class:`DatasetInfo` (``base``), the
  embedded ``digits``/``shapes``/``cracks`` (``embedded``, ``procedural``), tensorflow-datasets
  (``tfds``) and your own folders (``folders``).
* :mod:`.transforms` — TensorFlow transforms: ``checks``, ``sampling``, ``affine``, ``geometric``,
  ``photometric``, ``pca``, ``joint`` (image + mask).
* :mod:`.policies` — :func:`get_policy`: the papers' augmentations by name.
* :mod:`.pipeline` — :func:`make_pipeline`: resize, cache, shuffle, augment, normalise, batch.
* :mod:`.constants` — ImageNet statistics and PCA, fill modes, splits, tasks.

Importing this package is instant: each public name below loads its module on first use, and
only the loaders, transforms, policies and pipeline import TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import Any

_CATALOG = "kerascv_course.data.catalog"
_API = {
    "DatasetInfo": "kerascv_course.data.datasets.base",
    "load_dataset": "kerascv_course.data.datasets.base",
    "make_pipeline": "kerascv_course.data.pipeline",
    "get_policy": "kerascv_course.data.policies",
    **{
        name: _CATALOG
        for name in (
            "check_policy", "dataset_splits", "dataset_task", "list_datasets", "list_policies",
            "policy_options", "register_dataset", "register_prefix",
        )
    },
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'kerascv_course.data' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
