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

from kerascv_course.utils.lazy import lazy_exports

_CATALOG_NAMES = ("check_policy", "dataset_splits", "dataset_task", "list_datasets", "list_policies",
                  "policy_options", "register_dataset", "register_prefix")

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "DatasetInfo": "datasets.base",
    "load_dataset": "datasets.base",
    "make_pipeline": "pipeline",
    "get_policy": "policies",
    **dict.fromkeys(_CATALOG_NAMES, "catalog"),
})
