"""Data: datasets, transforms, augmentation policies and the input pipeline.

Modules, by concept:

* :mod:`.catalog` — dataset names, tasks, splits and options; augmentation policies and their
  options (plain data, no TensorFlow: checking a name or an option is instant); :mod:`.options`
  — the option checks both share.
* :mod:`.facts` — :func:`dataset_facts`: classes, image shape, split sizes and source of each
  dataset, known without loading it (no TensorFlow).
* :mod:`.datasets` — the loaders: :func:`load_dataset` and :class:`DatasetInfo` (``base``), the
  embedded ``digits``/``shapes``/``cracks`` (``embedded``, ``procedural``), tensorflow-datasets
  (``tfds``), your own folders (``folders``, ``segfolders``) and how their files are read
  (``images``).
* :mod:`.transforms` — TensorFlow transforms: ``checks``, ``sampling``, ``affine``, ``geometric``,
  ``photometric``, ``pca``, ``joint`` (image + mask).
* :mod:`.policies` — :func:`get_policy`: the papers' augmentations by name.
* :mod:`.pipeline` — :func:`make_pipeline`: resize (or pad), cache, shuffle, augment, normalise, batch.
* :mod:`.constants` — ImageNet statistics and PCA, fill modes, resize modes, splits, tasks, the
  embedded sets' defaults.

Importing this package is instant: each public name below loads its module on first use, and
only the loaders, transforms, policies and pipeline import TensorFlow.
"""

from __future__ import annotations

from kerascv_course.utils.lazy import lazy_exports

_CATALOG_NAMES = ("check_dataset_options", "check_policy", "dataset_options", "dataset_splits", "dataset_task",
                  "list_datasets", "list_policies", "policy_options", "register_dataset", "register_prefix")

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "DatasetInfo": "datasets.base",
    "load_dataset": "datasets.base",
    "make_pipeline": "pipeline",
    "DatasetFacts": "facts",
    "dataset_facts": "facts",
    "get_policy": "policies",
    **dict.fromkeys(_CATALOG_NAMES, "catalog"),
})
