"""per_class: a few training images per class (issue #16), for embedded, folder and tfds datasets."""

from __future__ import annotations

import collections
import os

import numpy as np
import pytest
from PIL import Image

from kerascv_course.data import load_dataset


def _pairs(name, split, **kwargs):
    ds, info = load_dataset(name, split, **kwargs)
    images, labels = zip(*ds.as_numpy_iterator())
    assert info.num_examples in (len(labels), None)  # None: a mocked tfds split of unknown size
    assert int(ds.cardinality()) in (len(labels), -2)  # -2: unknown (files skipped if unreadable)
    return [i.tobytes() for i in images], list(labels), info


def _check_reduction(name, n, other_seed=7, **kwargs):
    """Exactly min(n, available) per class, a subset of the full split, fixed by the seed."""
    full_images, full_labels, _ = _pairs(name, "train", seed=1, **kwargs)
    images, labels, info = _pairs(name, "train", seed=1, per_class=n, **kwargs)
    available = collections.Counter(full_labels)
    kept = collections.Counter(labels)
    assert kept == {c: min(n, k) for c, k in available.items()}
    assert info.num_examples == len(labels) and info.extra["per_class"] == n
    assert info.extra["class_counts"] == [kept.get(c, 0) for c in range(info.num_classes)]
    full = collections.Counter(zip(full_images, full_labels))
    assert not collections.Counter(zip(images, labels)) - full  # only images of the split, with their labels
    again, _, _ = _pairs(name, "train", seed=1, per_class=n, **kwargs)
    other, _, _ = _pairs(name, "train", seed=other_seed, per_class=n, **kwargs)
    assert again == images  # the same seed: the same images
    assert other != images  # another seed: another choice
    return images, labels


def _check_validation_untouched(name, **kwargs):
    plain, plain_labels, _ = _pairs(name, "validation", seed=1, **kwargs)
    few, few_labels, info = _pairs(name, "validation", seed=1, per_class=1, **kwargs)
    assert (few, few_labels) == (plain, plain_labels) and "per_class" not in info.extra


def test_digits():
    images, _ = _check_reduction("digits", 5)
    assert len(images) == 50  # every digit has more than 5 training images
    _check_validation_untouched("digits")
    small, _, _ = _pairs("digits", "train", seed=1, per_class=3)
    assert set(small) <= set(images)  # a larger per_class keeps a superset
    everything, _, info = _pairs("digits", "train", seed=1, per_class=10_000)
    assert len(everything) == 1258 and info.num_examples == 1258


def test_shapes():
    options = dict(num_examples={"train": 120, "validation": 30}, num_classes=4, image_size=16)
    _check_reduction("shapes", 7, **options)
    _check_validation_untouched("shapes", **options)


def test_folder(tmp_path):
    root = tmp_path / "fruit"
    counts = {"apple": 9, "grape": 6, "lime": 2}
    rng = np.random.default_rng(0)
    for cls, n in counts.items():
        os.makedirs(root / cls)
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (6, 5, 3), dtype=np.uint8)).save(root / cls / f"{i}.png")
    name = f"folder:{root}"
    images, labels = _check_reduction(name, 3, other_seed=8, validation_fraction=0.0, test_fraction=0.0)
    assert collections.Counter(labels) == {0: 3, 1: 3, 2: 2}  # lime has only 2
    _check_validation_untouched(name, validation_fraction=0.3, test_fraction=0.0)
    _, info = load_dataset(name, "train", seed=1, per_class=3, validation_fraction=0.0, test_fraction=0.0)
    assert len(info.extra["paths"]) == 8


def test_mocked_tfds():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=60):
        _check_reduction("cifar10", 2)
        _check_validation_untouched("cifar10")
        _, labels, info = _pairs("svhn_cropped", "train", per_class=1, extra=True)
    assert sorted(labels) == sorted(set(labels)) and info.extra["tfds_split"] == "train[:90%]+extra"


def test_per_class_is_checked_before_loading():
    with pytest.raises(ValueError, match=r"dataset 'digits': `per_class` must be an integer >= 1 or None\. Received: per_class=0"):
        load_dataset("digits", "train", per_class=0)
    with pytest.raises(ValueError, match=r"Unknown option\(s\) per_class for dataset 'cracks'"):
        load_dataset("cracks", "train", per_class=2)
