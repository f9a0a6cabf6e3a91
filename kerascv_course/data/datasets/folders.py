"""Classification datasets from folders of the user's own images: ``folder:PATH``.

``folder:PATH`` (one sub-folder per class) understands two layouts::

    PATH/cat/*.jpg  PATH/dog/*.png                    split by seeded, per-class fractions
    PATH/train/cat/...  PATH/val/cat/...  PATH/test/cat/...   splits as given ("val",
                                                      "valid" or "validation"; a missing split is
                                                      carved out of train by its fraction)

Files ending in .jpg/.jpeg/.png/.bmp/.gif (any case) are images; other files are ignored (counted
in ``info.extra["ignored_files"]``). Every image is checked once, up front
(:func:`~kerascv_course.data.datasets.images.check_image`), which also decides how it is read:
16-bit PNGs are scaled to 8 bits, palettes give their colours, alpha is dropped, CMYK becomes RGB,
EXIF orientations are applied. An unreadable or truncated file is skipped — counted and listed in
one warning line and in ``info.extra["skipped"]`` — instead of stopping training mid-epoch; an
image over the decompression-bomb limit stops the load with a message naming it. The check also
gives each image's size and colour (all grey -> 1 channel, else 3) and the per-channel mean and std
of the training images. A class folder with no readable image is ignored (warned, and listed in
``info.extra["empty_classes"]``); fewer than two classes, or a class with images in validation/test
but none to train on, is refused.

Segmentation folders (``segfolder:PATH``) are :mod:`kerascv_course.data.datasets.segfolders`.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
import tensorflow as tf

from kerascv_course.data.datasets.base import DatasetInfo, per_class_indices, per_class_info
from kerascv_course.data.datasets.images import (
    IMAGE_EXTENSIONS,
    ImageCheck,
    check_files,
    is_image_file,
    read_image,
    refuse_too_large,
    report_skipped,
)
from kerascv_course.utils.checks import check_number

log = logging.getLogger(__name__)

SPLIT_FOLDERS = {
    "train": ("train", "training"),
    "validation": ("val", "valid", "validation"),
    "test": ("test", "testing"),
}


def _subdirs(path: str) -> list[str]:
    return sorted(e.name for e in os.scandir(path) if e.is_dir() and not e.name.startswith("."))


def _class_files(root: str, ignored: list[str]) -> dict[str, list[str]]:
    """``{class: sorted image paths}`` for each sub-folder of ``root`` (recursively); the other
    files are appended to ``ignored``."""
    out: dict[str, list[str]] = {}
    for cls in _subdirs(root):
        files = []
        for folder, dirs, names in os.walk(os.path.join(root, cls)):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for n in sorted(names):
                (files if is_image_file(n) else ignored).append(os.path.join(folder, n))
        out[cls] = files
    return out


def _split_layout(path: str) -> dict[str, str]:
    """``{our split: folder}`` for the split folders present under ``path``."""
    present = {d.lower(): d for d in _subdirs(path)}
    found = {}
    for split, names in SPLIT_FOLDERS.items():
        for n in names:
            if n in present:
                found[split] = os.path.join(path, present[n])
                break
    return found if "train" in found else {}


def _carve(files: list[tuple[str, int]], fractions: dict[str, float], seed: int) -> dict[str, list[tuple[str, int]]]:
    """Seeded, per-class split of ``(path, label)`` pairs into train and the ``fractions`` splits."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[tuple[str, int]]] = {"train": [], **{k: [] for k in fractions}}
    labels = sorted({label for _, label in files})
    for label in labels:
        members = [f for f in files if f[1] == label]
        order = rng.permutation(len(members))
        start = 0
        for split, frac in fractions.items():
            k = int(round(frac * len(members)))
            out[split] += [members[i] for i in order[start : start + k]]
            start += k
        out["train"] += [members[i] for i in order[start:]]
    return {k: sorted(v) for k, v in out.items()}


def _classes(path: str, name: str, good: dict[str, dict[str, list[str]]], all_classes: list[str]) -> list[str]:
    """The class names (folders with readable images); warns of empty ones, refuses fewer than two."""
    class_names = [c for c in all_classes if any(good[s].get(c) for s in good)]
    if not class_names:
        raise ValueError(
            f"No readable images in {path!r}: expected one sub-folder per class holding "
            f"{'/'.join(IMAGE_EXTENSIONS)} files (or train/, val/, test/ folders of class "
            f"sub-folders). Received: name={name!r}"
        )
    if len(class_names) < 2:
        raise ValueError(
            f"Dataset {path!r} has images of one class only ({class_names[0]!r}); a classifier "
            f"needs at least two class sub-folders. Received: name={name!r}"
        )
    empty = [c for c in all_classes if c not in class_names]
    if empty:
        log.warning("Ignoring %d class folder(s) with no readable images in %s: %s", len(empty), path, ", ".join(empty))
    return class_names


def load_folder(
    path: str,
    split: str,
    *,
    data_dir: str | None = None,
    image_size: Any = None,
    seed: int = 0,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    per_class: int | None = None,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """Images in class sub-folders of ``path`` as ``(uint8 image, int64 label)`` pairs.

    Args:
        path: the folder (``load_dataset("folder:PATH")`` passes it).
        split: ``"train"``, ``"validation"`` or ``"test"``.
        data_dir: unused.
        image_size: unused (images keep their size; the pipeline resizes or pads).
        seed: seed of the per-class split (when the folder has no split sub-folders) and of the
            ``per_class`` choice.
        validation_fraction: share of each class held out for validation.
        test_fraction: share of each class held out for testing.
        per_class: the training split keeps at most this many images of each class (a seeded
            choice); validation and test are not reduced.

    Returns:
        ``(dataset, DatasetInfo)``; ``info.extra["skipped"]`` lists unreadable files and why,
        ``info.extra["paths"]`` the split's files (relative to ``path``), ``info.extra["tallest"]``
        and ``["widest"]`` the tallest and the widest image of any split (``[height, width, file]``).

    Raises:
        FileNotFoundError: when ``path`` is not a folder.
        ValueError: for bad fractions, no images, fewer than two classes, a class with no
            training image, or an image over the decompression-bomb limit.
    """
    del data_dir, image_size
    name = f"folder:{path}"
    root = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(root):
        raise FileNotFoundError(f"Dataset folder {path!r} does not exist or is not a folder. Received: name={name!r}")
    fractions = {
        k: float(check_number(f"{k}_fraction", v, low=0.0, high=1.0, high_open=True, where=name))
        for k, v in (("validation", validation_fraction), ("test", test_fraction))
    }
    if sum(fractions.values()) >= 1.0:
        raise ValueError(
            f"`validation_fraction` + `test_fraction` must be < 1 (something must be left to train on). "
            f"Received: validation_fraction={validation_fraction!r}, test_fraction={test_fraction!r}"
        )
    split_folders = _split_layout(root)
    layout = split_folders or {"train": root}
    ignored: list[str] = []
    per_split = {s: _class_files(folder, ignored) for s, folder in layout.items()}
    checks = check_files(f for classes in per_split.values() for files in classes.values() for f in files)
    refuse_too_large(checks, root, name)
    skipped = report_skipped(checks, root)
    good = {
        s: {cls: [f for f in files if checks[f].ok] for cls, files in classes.items()}
        for s, classes in per_split.items()
    }
    all_classes = sorted({cls for classes in per_split.values() for cls in classes})
    class_names = _classes(path, name, good, all_classes)
    index = {c: i for i, c in enumerate(class_names)}
    pairs = {s: sorted((f, index[c]) for c, files in classes.items() for f in files if c in index) for s, classes in good.items()}
    missing = {s: fractions[s] for s in ("validation", "test") if s not in pairs}
    parts = _carve(pairs["train"], missing, seed)
    parts.update({s: v for s, v in pairs.items() if s != "train"})
    untrained = sorted(set(class_names) - {class_names[label] for _, label in parts["train"]})
    if untrained:
        raise ValueError(
            f"Class(es) {', '.join(untrained)} of {path!r} have images to validate or test on but "
            f"none to train on: add training images or remove the class. Received: name={name!r}"
        )
    chosen = parts.get(split, [])
    if not chosen:
        raise ValueError(f"Split {split!r} of {path!r} has no images (check the fractions). Received: split={split!r}")
    if per_class and split == "train":
        chosen = [chosen[i] for i in per_class_indices(np.array([lb for _, lb in chosen]), per_class, seed)]
    train_checks = [checks[f] for f, _ in parts["train"]]
    grey = all(checks[f].grey for s in parts.values() for f, _ in s)
    channels = 1 if grey else 3
    sizes = {(checks[f].height, checks[f].width) for f, _ in chosen}
    height, width = sizes.pop() if len(sizes) == 1 else (None, None)
    every = [f for part in parts.values() for f, _ in part]  # all splits: one check covers them all
    extremes = {key: max(every, key=lambda f, i=i: ((checks[f].height, checks[f].width)[i], f))
                for i, key in enumerate(("tallest", "widest"))}
    mean = np.mean([c.mean if grey else _rgb(c.mean) for c in train_checks], axis=0)
    sq = np.mean([c.sq_mean if grey else _rgb(c.sq_mean) for c in train_checks], axis=0)
    std = np.sqrt(np.maximum(sq - mean**2, 1e-12))
    info = DatasetInfo(
        name=name,
        task="classification",
        num_classes=len(class_names),
        class_names=class_names,
        image_shape=(height, width, channels),
        num_examples=len(chosen),
        mean=tuple(float(v) for v in mean),
        std=tuple(float(v) for v in std),
        description=f"images from the folder {root}",
        extra=dict(
            storage="files",
            root=root,
            layout="split folders" if split_folders else "class folders",
            skipped=skipped,
            empty_classes=[c for c in all_classes if c not in index],
            ignored_files=len(ignored),
            paths=[os.path.relpath(f, root) for f, _ in chosen],
            **{key: [checks[f].height, checks[f].width, os.path.relpath(f, root)] for key, f in extremes.items()},
            load_args=dict(seed=seed, validation_fraction=validation_fraction, test_fraction=test_fraction,
                           per_class=per_class),
        ),
    )
    if per_class and split == "train":
        per_class_info(info, np.array([label for _, label in chosen]), per_class)
    return _read_files(chosen, checks, (height, width, channels)), info


def _read_files(chosen: list[tuple[str, int]], checks: dict[str, ImageCheck], shape: tuple[Any, Any, int]) -> tf.data.Dataset:
    """``(image, label)`` pairs of the chosen files, each read as its check says."""
    readers = [checks[f].reader for f, _ in chosen]
    used = set(readers)

    def read(file: tf.Tensor, reader: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image = read_image(file, reader, shape[-1], used)
        image.set_shape(shape)
        return image, label

    ds = tf.data.Dataset.from_tensor_slices(
        ([f for f, _ in chosen], np.array(readers, np.int32), np.array([label for _, label in chosen], np.int64))
    )
    ds = ds.map(read, num_parallel_calls=tf.data.AUTOTUNE)
    # Files were all checked above; a file changed or removed since is dropped, not fatal.
    return ds.ignore_errors(log_warning=True)


def _rgb(values: tuple[float, ...]) -> tuple[float, ...]:
    return values if len(values) == 3 else tuple(values) * 3
