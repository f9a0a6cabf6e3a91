"""Datasets: one loader, :func:`load_dataset`, over tensorflow-datasets, folders and embedded data.

Every loader returns ``(tf.data.Dataset, DatasetInfo)``. The dataset yields ``(image, label)``
pairs (``(image, mask)`` for segmentation) with images as ``uint8`` ``(H, W, C)`` tensors — the
pipeline (:mod:`kerascv_course.data.pipeline`) converts, resizes, augments and normalises them.

Loaders register themselves with :func:`register_dataset` (exact names such as ``"digits"``) or
:func:`register_prefix` (``"folder:PATH"``-style names).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import tensorflow as tf

log = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")


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


Loader = Callable[..., "tuple[tf.data.Dataset, DatasetInfo]"]
_DATASETS: dict[str, dict[str, Any]] = {}
_PREFIXES: dict[str, dict[str, Any]] = {}


def register_dataset(
    name: str, *, task: str = "classification", splits: tuple[str, ...] = SPLITS, summary: str = ""
) -> Callable[[Loader], Loader]:
    """Register a loader ``fn(split, *, data_dir, image_size, seed) -> (ds, info)`` under ``name``."""

    def decorator(fn: Loader) -> Loader:
        if name in _DATASETS:
            raise ValueError(f"A dataset named {name!r} is already registered.")
        _DATASETS[name] = dict(loader=fn, task=task, splits=tuple(splits), summary=summary)
        return fn

    return decorator


def register_prefix(
    prefix: str, *, task: str = "classification", summary: str = ""
) -> Callable[[Loader], Loader]:
    """Register a loader for names ``"<prefix>:<argument>"``; it gets the argument first."""

    def decorator(fn: Loader) -> Loader:
        if prefix in _PREFIXES:
            raise ValueError(f"A dataset prefix {prefix!r} is already registered.")
        _PREFIXES[prefix] = dict(loader=fn, task=task, summary=summary)
        return fn

    return decorator


def list_datasets(task: str | None = None) -> list[str]:
    """Names accepted by :func:`load_dataset` (prefixes shown as ``"folder:PATH"``)."""
    names = [n for n, d in _DATASETS.items() if task is None or d["task"] == task]
    names += [f"{p}:PATH" for p, d in _PREFIXES.items() if task is None or d["task"] == task]
    return sorted(names)


def dataset_task(name: str) -> str:
    """The task (``"classification"``/``"segmentation"``) of a dataset name, without loading it."""
    return _lookup(name)[0]["task"]


def _lookup(name: str) -> tuple[dict[str, Any], str | None]:
    if not isinstance(name, str) or not name:
        raise ValueError(f"`name` must be a dataset name string. Received: name={name!r}")
    if ":" in name:
        prefix, _, argument = name.partition(":")
        if prefix in _PREFIXES:
            if not argument:
                raise ValueError(
                    f"Dataset {name!r} needs a path after '{prefix}:', e.g. "
                    f"'{prefix}:/data/my_images'. Received: name={name!r}"
                )
            return _PREFIXES[prefix], argument
    if name in _DATASETS:
        return _DATASETS[name], None
    close = difflib.get_close_matches(name, list(_DATASETS), n=3, cutoff=0.6)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise ValueError(
        f"Unknown dataset {name!r}.{hint} Known datasets: {', '.join(list_datasets())}. "
        f"Received: name={name!r}"
    )


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
        name: a name from :func:`list_datasets`: tfds names (``"cifar10"``, …), ``"folder:PATH"``,
            ``"segfolder:PATH"``, or the embedded ``"digits"``, ``"shapes"``, ``"cracks"``.
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
    entry, argument = _lookup(name)
    if argument is None:
        splits = entry["splits"]
        if split not in splits:
            raise ValueError(
                f"Dataset {name!r} has no split {split!r}; valid splits: {', '.join(splits)}. "
                f"Received: split={split!r}"
            )
        return entry["loader"](split, data_dir=data_dir, image_size=image_size, seed=seed, **kwargs)
    return entry["loader"](
        argument, split, data_dir=data_dir, image_size=image_size, seed=seed, **kwargs
    )


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


# The digits split is fixed (seed 0) so that every run, recipe and test sees the same test set.
_DIGITS_SPLIT_SEED = 0
_DIGITS_FRACTIONS = (0.7, 0.1, 0.2)


@register_dataset("digits", summary="scikit-learn's 1,797 real 8x8 handwritten digits, at 32x32")
def load_digits(
    split: str, *, data_dir: str | None = None, image_size: Any = None, seed: int = 0
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """scikit-learn's 1,797 handwritten digits (UCI, 8x8, 16 grey levels), made LeNet-sized.

    Each 8x8 image is scaled to 0..255, resized bilinearly to 28x28 and padded by 2 pixels to
    32x32x1 (MNIST's framing). The train/validation/test split (70/10/20 %) is fixed, whatever
    ``seed`` is, so test figures are comparable between runs. Works offline: the data ship with
    scikit-learn.
    """
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    images = bunch.images.astype(np.float32)[..., None] * (255.0 / 16.0)
    big = tf.image.resize(images, (28, 28), method="bilinear")
    big = tf.pad(big, [[0, 0], [2, 2], [2, 2], [0, 0]])
    big = tf.cast(tf.clip_by_value(tf.round(big), 0, 255), tf.uint8).numpy()
    labels = bunch.target.astype(np.int64)
    parts = split_indices(len(labels), _DIGITS_FRACTIONS, _DIGITS_SPLIT_SEED)
    idx = parts[split]
    train = big[parts["train"]].astype(np.float32) / 255.0
    mean, std = float(train.mean()), float(train.std())
    info = DatasetInfo(
        name="digits",
        task="classification",
        num_classes=10,
        class_names=[str(i) for i in range(10)],
        image_shape=(32, 32, 1),
        num_examples=len(idx),
        mean=(mean,),
        std=(std,),
        description="scikit-learn's handwritten digits (UCI ML repository), 8x8 shown at 32x32",
        extra=dict(storage="memory"),
    )
    ds = tf.data.Dataset.from_tensor_slices((big[idx], labels[idx]))
    return ds, info
