"""Data: datasets (tfds, folders, embedded), tf.data augmentation and the input pipeline.

Importing this package imports each dataset module so that its loaders register.
"""

from __future__ import annotations

import importlib

from kerascv_course.data.augment import get_policy  # noqa: F401 (temporary)
from kerascv_course.data.datasets import (
    DatasetInfo,
    dataset_task,
    list_datasets,
    load_dataset,
    register_dataset,
    register_prefix,
)
from kerascv_course.data.pipeline import make_pipeline

# Modules that register datasets on import (datasets.py itself registers the embedded digits).
_DATASET_MODULES = ("synthetic", "tfds_datasets", "folders", "segmentation")
for _module in _DATASET_MODULES:
    importlib.import_module(f"kerascv_course.data.{_module}")

__all__ = [
    "DatasetInfo",
    "dataset_task",
    "list_datasets",
    "load_dataset",
    "make_pipeline",
    "register_dataset",
    "register_prefix",
]
