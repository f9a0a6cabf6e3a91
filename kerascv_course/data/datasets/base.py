"""One loader, :func:`load_dataset`, over tensorflow-datasets, folders and embedded data.

Every loader returns ``(tf.data.Dataset, DatasetInfo)``. The dataset yields ``(image, label)``
pairs (``(image, mask)`` for segmentation) with images as ``uint8`` ``(H, W, C)`` tensors — the
pipeline (:mod:`kerascv_course.data.pipeline`) converts, resizes, augments and normalises them.
Which names exist, their task and splits, is the catalog's (:mod:`kerascv_course.data.catalog`);
this module imports TensorFlow only through the loader it calls.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from kerascv_course.data.catalog import check_dataset_options, resolve_dataset
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
        seed: seed of generated data, of seeded splits and of the ``per_class`` choice.
        **kwargs: the dataset's own options, checked by
            :func:`~kerascv_course.data.catalog.check_dataset_options`: ``per_class=N`` (every
            classification dataset: the training split keeps at most N images of each class, a
            seeded choice fixed for the run; validation and test are not reduced), ``extra=True``
            (``svhn_cropped``: train on train + extra), ``label="coarse"`` (``cifar100``: the 20
            superclasses), ``num_examples`` (generated data), ``validation_fold``, …, and
            ``normalization={"mean": [...], "std": [...]}`` (every dataset: the per-channel
            statistics the pipeline normalises with, instead of the dataset's own).

    Returns:
        The dataset of ``(uint8 image, label)`` pairs and its :class:`DatasetInfo`.

    Raises:
        ValueError: for an unknown name, split or option, or a bad option value (the message
            lists the valid ones).

    Example:
        >>> ds, info = load_dataset("digits", "train")
        >>> info.num_classes
        10
    """
    entry, argument = resolve_dataset(name)
    check_choice("split", split, entry.splits, where=f"dataset {name!r}")
    normalization = check_dataset_options(name, kwargs).get("normalization")
    kwargs.pop("normalization", None)  # applied here, not by the loaders
    head = () if argument is None else (argument,)
    ds, info = entry.load_function()(*head, split, data_dir=data_dir, image_size=image_size, seed=seed, **kwargs)
    if normalization is not None:
        info = replace(info, mean=tuple(normalization["mean"]), std=tuple(normalization["std"]))
    return ds, info


def split_counts(n: int, fractions: tuple[float, float, float]) -> dict[str, int]:
    """How many of ``n`` examples :func:`split_indices` puts in train, validation and test."""
    n_val = int(round(fractions[1] * n))
    n_test = int(round(fractions[2] * n))
    return {"train": n - n_val - n_test, "validation": n_val, "test": n_test}


def split_indices(n: int, fractions: tuple[float, float, float], seed: int) -> dict[str, np.ndarray]:
    """Seeded, fixed partition of ``range(n)`` into train/validation/test by ``fractions``."""
    order = np.random.default_rng(seed).permutation(n)
    counts = split_counts(n, fractions)
    n_val, n_test = counts["validation"], counts["test"]
    return {
        "train": np.sort(order[n_val + n_test :]),
        "validation": np.sort(order[:n_val]),
        "test": np.sort(order[n_val : n_val + n_test]),
    }


# Mixed into the seed of the per-class choice, so that it draws apart from the seed's other uses.
_PER_CLASS_STREAM = 0x9E3779B9


def per_class_indices(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Sorted indices of at most ``per_class`` examples of each label: ``dataset_kwargs["per_class"]``.

    Each class draws its own seeded permutation (from ``seed`` and the label) and keeps its first
    ``per_class`` members, so the choice is the same for the same seed, changes with the seed, and
    a larger ``per_class`` keeps a superset of a smaller one. A class with fewer examples keeps all.

    Example:
        >>> per_class_indices(np.array([0, 0, 0, 1, 1, 2]), 2, seed=0).size
        5
    """
    labels = np.asarray(labels).reshape(-1)
    keep = [np.zeros(0, np.int64)]
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, _PER_CLASS_STREAM, int(label) & 0xFFFFFFFF])
        keep.append(members[rng.permutation(len(members))[:per_class]])
    return np.sort(np.concatenate(keep))


def per_class_info(info: DatasetInfo, labels: np.ndarray, per_class: int) -> DatasetInfo:
    """``info`` of a training split reduced to ``labels`` by ``per_class``: the count, per class too."""
    counts = np.bincount(np.asarray(labels, np.int64), minlength=info.num_classes).tolist()
    info.num_examples = int(len(labels))
    info.description += f"; training split reduced to at most {per_class} images per class"
    info.extra = {**info.extra, "per_class": per_class, "class_counts": counts}
    return info
