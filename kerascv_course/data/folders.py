"""Datasets from folders of the user's own images (one sub-folder per class): ``folder:PATH``.

Two layouts are understood::

    PATH/cat/*.jpg  PATH/dog/*.png                    split by seeded, per-class fractions
    PATH/train/cat/...  PATH/val/cat/...  PATH/test/cat/...   splits as given ("val",
                                                      "valid" or "validation"; a missing split is
                                                      carved out of train by its fraction)

Files ending in .jpg/.jpeg/.png/.bmp/.gif (any case) are images. Every file is checked once, up
front, by decoding it with Pillow (JPEGs at 1/8 scale, which still reads all their data), so an
unreadable or truncated file is skipped — counted and listed in the log and in
``info.extra["skipped"]`` — instead of stopping training mid-epoch. The check also gives each
image's size and colour mode (all grey -> 1 channel, else 3) and the per-channel mean and std of
the training images.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from kerascv_course.data.datasets import DatasetInfo, register_prefix

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
SPLIT_FOLDERS = {
    "train": ("train", "training"),
    "validation": ("val", "valid", "validation"),
    "test": ("test", "testing"),
}
_GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")


@dataclass(frozen=True)
class ImageCheck:
    """What the up-front check learnt about one file."""

    ok: bool
    reason: str = ""
    height: int = 0
    width: int = 0
    grey: bool = False
    mean: tuple[float, ...] = ()
    sq_mean: tuple[float, ...] = ()


_CHECKED: dict[str, tuple[tuple[int, int], ImageCheck]] = {}


def check_image(path: str) -> ImageCheck:
    """Decode ``path`` once with Pillow (cheaply) and report whether it is a usable image.

    The result is cached per file (by modification time and size) for the process.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        stat = os.stat(path)
    except OSError as err:
        return ImageCheck(False, f"cannot stat: {err}")
    key = (stat.st_mtime_ns, stat.st_size)
    hit = _CHECKED.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        with Image.open(path) as img:
            width, height = img.size
            grey = img.mode in _GREY_MODES
            if img.format == "JPEG":
                img.draft("L" if grey else "RGB", (max(1, width // 8), max(1, height // 8)))
            img.load()
            pixels = np.asarray(img.convert("L" if grey else "RGB"), np.float32) / 255.0
        pixels = pixels.reshape(-1, 1 if grey else 3)
        result = ImageCheck(
            True, "", height, width, grey,
            tuple(pixels.mean(axis=0).tolist()), tuple(np.square(pixels).mean(axis=0).tolist()),
        )
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as err:
        result = ImageCheck(False, f"{type(err).__name__}: {err}")
    _CHECKED[path] = (key, result)
    return result


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith(".")


def _subdirs(path: str) -> list[str]:
    return sorted(e.name for e in os.scandir(path) if e.is_dir() and not e.name.startswith("."))


def _class_files(root: str) -> dict[str, list[str]]:
    """``{class: sorted image paths}`` for each sub-folder of ``root`` (recursively)."""
    out: dict[str, list[str]] = {}
    for cls in _subdirs(root):
        files = []
        for folder, dirs, names in os.walk(os.path.join(root, cls)):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files += [os.path.join(folder, n) for n in sorted(names) if _is_image(n)]
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


def _check_fraction(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be a fraction in [0, 1). Received: {name}={value!r}")
    return float(value)


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


def _validate(files: Iterable[str]) -> dict[str, ImageCheck]:
    files = list(files)
    workers = min(8, (os.cpu_count() or 2) * 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(files, pool.map(check_image, files)))


@register_prefix("folder", summary="your images: one sub-folder per class (or train/ val/ test/)")
def load_folder(
    path: str,
    split: str,
    *,
    data_dir: str | None = None,
    image_size: Any = None,
    seed: int = 0,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """Images in class sub-folders of ``path`` as ``(uint8 image, int64 label)`` pairs.

    Args:
        path: the folder (``load_dataset("folder:PATH")`` passes it).
        split: ``"train"``, ``"validation"`` or ``"test"``.
        data_dir: unused.
        image_size: unused (images keep their size; the pipeline resizes).
        seed: seed of the per-class split (when the folder has no split sub-folders).
        validation_fraction: share of each class held out for validation.
        test_fraction: share of each class held out for testing.

    Returns:
        ``(dataset, DatasetInfo)``; ``info.extra["skipped"]`` lists unreadable files and why,
        ``info.extra["paths"]`` the split's files (relative to ``path``).

    Raises:
        FileNotFoundError: when ``path`` is not a folder.
        ValueError: for an unknown split, bad fractions, no images, or fewer than two classes.
    """
    del data_dir, image_size
    name = f"folder:{path}"
    root = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(root):
        raise FileNotFoundError(f"Dataset folder {path!r} does not exist or is not a folder. Received: name={name!r}")
    if split not in SPLIT_FOLDERS:
        raise ValueError(f"Dataset {name!r} has no split {split!r}; valid splits: {', '.join(SPLIT_FOLDERS)}. Received: split={split!r}")
    fractions = {
        "validation": _check_fraction(validation_fraction, "validation_fraction"),
        "test": _check_fraction(test_fraction, "test_fraction"),
    }
    if sum(fractions.values()) >= 1.0:
        raise ValueError(
            f"`validation_fraction` + `test_fraction` must be < 1 (something must be left to train on). "
            f"Received: validation_fraction={validation_fraction!r}, test_fraction={test_fraction!r}"
        )
    split_folders = _split_layout(root)
    layout = split_folders or {"train": root}
    per_split = {s: _class_files(folder) for s, folder in layout.items()}
    checks = _validate(f for classes in per_split.values() for files in classes.values() for f in files)
    skipped = sorted((os.path.relpath(f, root), c.reason) for f, c in checks.items() if not c.ok)
    if skipped:
        shown = "; ".join(f"{f} ({why})" for f, why in skipped[:20])
        more = f" and {len(skipped) - 20} more" if len(skipped) > 20 else ""
        log.warning("Skipping %d unreadable image file(s) in %s: %s%s", len(skipped), root, shown, more)
    good = {
        s: {cls: [f for f in files if checks[f].ok] for cls, files in classes.items()}
        for s, classes in per_split.items()
    }
    all_classes = sorted({cls for classes in per_split.values() for cls in classes})
    class_names = [c for c in all_classes if any(good[s].get(c) for s in good)]
    empty = [c for c in all_classes if c not in class_names]
    if empty:
        log.warning("Ignoring class folder(s) with no readable images in %s: %s", root, ", ".join(empty))
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
    index = {c: i for i, c in enumerate(class_names)}
    pairs = {s: sorted((f, index[c]) for c, files in classes.items() for f in files if c in index) for s, classes in good.items()}
    missing = {s: fractions[s] for s in ("validation", "test") if s not in pairs}
    parts = _carve(pairs["train"], missing, seed)
    parts.update({s: v for s, v in pairs.items() if s != "train"})
    chosen = parts.get(split, [])
    if not chosen:
        raise ValueError(f"Split {split!r} of {path!r} has no images (check the fractions). Received: split={split!r}")
    train_checks = [checks[f] for f, _ in parts["train"]]
    grey = all(checks[f].grey for s in parts.values() for f, _ in s)
    channels = 1 if grey else 3
    sizes = {(checks[f].height, checks[f].width) for f, _ in chosen}
    height, width = sizes.pop() if len(sizes) == 1 else (None, None)
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
            skipped=[f"{f} ({why})" for f, why in skipped],
            paths=[os.path.relpath(f, root) for f, _ in chosen],
            load_args=dict(seed=seed, validation_fraction=validation_fraction, test_fraction=test_fraction),
        ),
    )
    paths = [f for f, _ in chosen]
    labels = np.array([label for _, label in chosen], np.int64)
    shape = (height, width, channels)

    def read(file: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image = tf.io.decode_image(tf.io.read_file(file), channels=3, expand_animations=False)
        if channels == 1:
            image = tf.image.rgb_to_grayscale(image)
        image.set_shape(shape)
        return image, label

    ds = tf.data.Dataset.from_tensor_slices((paths, labels))
    ds = ds.map(read, num_parallel_calls=tf.data.AUTOTUNE)
    # Files were all checked above; a file changed or removed since is dropped, not fatal.
    return ds.ignore_errors(log_warning=True), info


def _rgb(values: tuple[float, ...]) -> tuple[float, ...]:
    return values if len(values) == 3 else tuple(values) * 3
