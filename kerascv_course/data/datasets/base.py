"""One loader, :func:`load_dataset`, over tensorflow-datasets, folders and embedded data.

Every loader returns ``(tf.data.Dataset, DatasetInfo)``. The dataset yields ``(image, label)``
pairs (``(image, mask)`` for segmentation) with images as ``uint8`` ``(H, W, C)`` tensors — the
pipeline (:mod:`kerascv_course.data.pipeline`) converts, resizes, augments and normalises them.
Which names exist, their task and splits, is the catalog's (:mod:`kerascv_course.data.catalog`);
this module imports TensorFlow only through the loader it calls.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from kerascv_course.data.catalog import resolve_dataset
from kerascv_course.data.constants import SPLITS
from kerascv_course.utils.checks import check_choice

if TYPE_CHECKING:
    import tensorflow as tf


@dataclass
class DatasetInfo:
    """What a model and a pipeline need to know about a dataset.

    Attributes:
        name: the name given to :func:`load_dataset`.
        task: ``"classification"`` or ``"segmentation"``.
        num_classes: number of classes (mask values for segmentation).
        class_names: one name per class.
        image_shape: ``(H, W, C)`` of the stored images; ``None`` sides vary per image.
        num_examples: number of examples of the split loaded (``None`` if unknown).
        mean, std: per-channel statistics in [0, 1] units for normalisation.
        splits: the split names this dataset offers.
        description: one line about the data and its source.
    """

    name: str
    task: str
    num_classes: int
    class_names: list[str]
    image_shape: tuple[int | None, int | None, int]
    num_examples: int | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    splits: tuple[str, ...] = SPLITS
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return asdict(self)


def load_dataset(
    name: str,
    split: str = "train",
    *,
    data_dir: str | None = None,
    image_size: int | tuple[int, int] | None = None,
    seed: int = 0,
    **kwargs: Any,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """Load one split of a dataset as ``(tf.data.Dataset, DatasetInfo)``.

    Args:
        name: a name from :func:`~kerascv_course.data.catalog.list_datasets` (any case):
            tfds names (``"cifar10"``, …), ``"folder:PATH"``, ``"segfolder:PATH"``, or the
            embedded ``"digits"``, ``"shapes"``, ``"cracks"``.
        split: ``"train"``, ``"validation"`` or ``"test"`` (and any extra split the dataset
            offers, e.g. STL-10's ``"unlabelled"``).
        data_dir: where tensorflow-datasets keeps (or finds) its data.
        image_size: for generated data, the size to generate; ignored by stored datasets
            (the pipeline resizes).
        seed: seed of generated data and of seeded splits.
        **kwargs: dataset-specific options (e.g. ``num_examples`` for generated data).

    Returns:
        The dataset of ``(uint8 image, label)`` pairs and its :class:`DatasetInfo`.

    Raises:
        ValueError: for an unknown name or split (the message lists the valid ones).

    Example:
        >>> ds, info = load_dataset("digits", "train")
        >>> info.num_classes
        10
    """
    entry, argument = resolve_dataset(name)
    check_choice("split", split, entry.splits, where=f"dataset {name!r}")
    head = () if argument is None else (argument,)
    return entry.load_function()(*head, split, data_dir=data_dir, image_size=image_size, seed=seed, **kwargs)


def split_indices(n: int, fractions: tuple[float, float, float], seed: int) -> dict[str, np.ndarray]:
    """Seeded, fixed partition of ``range(n)`` into train/validation/test by ``fractions``."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(fractions[1] * n))
    n_test = int(round(fractions[2] * n))
    return {
        "train": np.sort(order[n_val + n_test :]),
        "validation": np.sort(order[:n_val]),
        "test": np.sort(order[n_val : n_val + n_test]),
    }
