"""Datasets from folders of the user's own images: ``folder:PATH`` and ``segfolder:PATH``.

``folder:PATH`` (classification, one sub-folder per class) understands two layouts::

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

``segfolder:PATH`` (segmentation) pairs ``PATH/images/*`` with ``PATH/masks/*`` by file name
(without the extension), or reads ``PATH/{train,validation,test}/{images,masks}`` (the split
folders may have the names above).
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

from kerascv_course.data.datasets.base import DatasetInfo, split_indices
from kerascv_course.data.transforms.checks import as_size
from kerascv_course.data.transforms.joint import resize_pair
from kerascv_course.utils.checks import check_number

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
        ValueError: for bad fractions, no images, or fewer than two classes.
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


# ============================================================================= segfolder:PATH

MASK_EXTENSIONS = (".png", ".bmp", ".gif")
SEGFOLDER_FRACTIONS = (0.8, 0.1, 0.1)


def _files(folder: str, extensions: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in sorted(os.listdir(folder)):
        stem, ext = os.path.splitext(entry)
        if ext.lower() not in extensions or entry.startswith("."):
            continue
        if stem in found:
            raise ValueError(
                f"segfolder: two files named {stem!r} in {folder!r} ({os.path.basename(found[stem])}"
                f", {entry}); images and masks are matched by name without extension. "
                f"Received: path={folder!r}"
            )
        found[stem] = os.path.join(folder, entry)
    return found


def _pairs(root: str) -> list[tuple[str, str, str]]:
    """``(name, image path, mask path)`` of a folder holding ``images/`` and ``masks/``."""
    images = _files(os.path.join(root, "images"), IMAGE_EXTENSIONS)
    masks = _files(os.path.join(root, "masks"), MASK_EXTENSIONS)
    lonely_images = sorted(set(images) - set(masks))
    lonely_masks = sorted(set(masks) - set(images))
    if lonely_images or lonely_masks:
        raise ValueError(
            f"segfolder: every image needs a mask of the same name in masks/ (and back): "
            f"images without a mask: {lonely_images[:5]}, masks without an image: "
            f"{lonely_masks[:5]}. Received: path={root!r}"
        )
    if not images:
        raise ValueError(
            f"segfolder: no images ({', '.join(IMAGE_EXTENSIONS)}) in {os.path.join(root, 'images')!r}. "
            f"Received: path={root!r}"
        )
    return [(name, images[name], masks[name]) for name in sorted(images)]


def _read_class_names(path: str) -> list[str] | None:
    for file_name in ("classes.txt",):
        full = os.path.join(path, file_name)
        if os.path.exists(full):
            with open(full, encoding="utf-8") as fh:
                names = [line.strip() for line in fh if line.strip()]
            if not names:
                raise ValueError(f"segfolder: {full!r} lists no class. Received: path={path!r}")
            return names
    return None


@dataclass
class _FolderScan:
    channels: int
    sizes: set[tuple[int, int]]
    values: set[int]
    pil_masks: bool


def _scan(pairs: list[tuple[str, str, str]], root: str) -> _FolderScan:
    """Check every pair (sizes equal, single-channel masks) and collect the mask values."""
    from PIL import Image

    channels = 1
    sizes: set[tuple[int, int]] = set()
    values: set[int] = set()
    pil_masks = False
    for name, image_path, mask_path in pairs:
        with Image.open(image_path) as image:
            image_size, mode = image.size, image.mode
        if mode not in ("L", "I", "I;16", "1", "LA"):
            channels = 3
        with Image.open(mask_path) as mask:
            if mask.size != image_size:
                raise ValueError(
                    f"segfolder: the mask of {name!r} is {mask.size[0]}x{mask.size[1]} but its "
                    f"image is {image_size[0]}x{image_size[1]} (width x height); a mask must be "
                    f"the size of its image. Received: path={root!r}"
                )
            if mask.mode not in ("L", "P", "1"):
                raise ValueError(
                    f"segfolder: the mask of {name!r} has mode {mask.mode!r}; masks must be "
                    f"single-channel images of class indices (8-bit grey 'L' or palette 'P'). "
                    f"Received: path={root!r}"
                )
            pil_masks = pil_masks or mask.mode != "L" or not mask_path.lower().endswith(".png")
            values.update(int(v) for v in np.unique(np.asarray(mask, dtype=np.uint8)))
        sizes.add((image_size[1], image_size[0]))
    return _FolderScan(channels=channels, sizes=sizes, values=values, pil_masks=pil_masks)


def _value_table(
    values: set[int], class_names: list[str] | None, root: str
) -> tuple[np.ndarray, list[str]]:
    """Lookup table raw mask value -> class, and the class names."""
    table = np.arange(256, dtype=np.uint8)
    binary_255 = values <= {0, 255} and 255 in values
    if class_names is not None:
        n = len(class_names)
        if binary_255 and n == 2:
            table[255] = 1
            return table, class_names
        bad = sorted(v for v in values if v >= n)
        if bad:
            raise ValueError(
                f"segfolder: masks hold values {bad[:8]} but classes.txt lists {n} classes "
                f"(values 0..{n - 1}). Received: path={root!r}"
            )
        return table, class_names
    if binary_255:
        table[255] = 1
        return table, ["background", "foreground"]
    n = max(values) + 1 if values else 1
    n = max(n, 2)
    return table, [f"class_{i}" for i in range(n)]


def _read_mask_pil(path: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(path.decode()) as mask:
        return np.asarray(mask, dtype=np.uint8)[..., None]


def load_segfolder(
    path: str,
    split: str,
    *,
    data_dir: str | None = None,
    image_size: Any = None,
    seed: int = 0,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """Images and masks from a folder, matched by file name.

    Layouts: ``PATH/images/`` + ``PATH/masks/`` (split 80/10/10 % by ``seed``), or
    ``PATH/train/``, ``PATH/validation/`` (or ``val/``, ``valid/``), ``PATH/test/`` (the names of
    :data:`SPLIT_FOLDERS`), each with ``images/`` and ``masks/``. ``images/a.jpg`` goes with
    ``masks/a.png``. Masks are single-channel images
    (8-bit grey or palette PNGs) whose values are class indices; masks holding only 0 and 255
    are read as binary (255 -> 1). An optional ``PATH/classes.txt`` names the classes, one per
    line; without it the classes are ``0 .. max value``.

    Args:
        path: the folder.
        split: ``"train"``, ``"validation"`` or ``"test"``.
        data_dir: unused.
        image_size: resize images (bilinear) and masks (nearest) to this size; needed when the
            images vary in size.
        seed: seed of the 80/10/10 split of a single folder.

    Returns:
        ``(dataset of (uint8 image, uint8 mask), DatasetInfo)``.

    Raises:
        FileNotFoundError: when ``path`` or its ``images/``/``masks/`` folders do not exist.
        ValueError: for an image without a mask (or back), a mask whose size differs from its
            image's, a mask with more than one channel, or mask values >= the number of classes
            in ``classes.txt``.
    """
    root = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(root):
        raise FileNotFoundError(f"segfolder: no folder at {path!r}. Received: path={path!r}")
    split_root = next(
        (os.path.join(root, d) for d in SPLIT_FOLDERS[split] if os.path.isdir(os.path.join(root, d))),
        None,
    )
    if split_root is not None:
        pairs = _pairs(split_root)
    elif os.path.isdir(os.path.join(root, "images")) and os.path.isdir(os.path.join(root, "masks")):
        pairs = _pairs(root)
        pairs = [pairs[i] for i in split_indices(len(pairs), SEGFOLDER_FRACTIONS, seed)[split]]
        if not pairs:
            raise ValueError(
                f"segfolder: the {split} split of {path!r} is empty (too few images for an "
                f"80/10/10 split). Received: path={path!r}"
            )
    else:
        raise FileNotFoundError(
            f"segfolder: {path!r} must hold images/ and masks/ folders, or train/, validation/ "
            f"and test/ folders that do. Received: path={path!r}"
        )
    scan = _scan(pairs, root)
    table, class_names = _value_table(scan.values, _read_class_names(root), root)
    size = None if image_size is None else as_size(image_size, "image_size", where="segfolder")
    if size is None and len(scan.sizes) == 1:
        shape: tuple[Any, Any, int] = (*next(iter(scan.sizes)), scan.channels)
    elif size is None:
        shape = (None, None, scan.channels)
    else:
        shape = (size[0], size[1], scan.channels)
    lookup = tf.constant(table)
    channels = scan.channels

    def read(image_path: tf.Tensor, mask_path: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image = tf.io.decode_image(
            tf.io.read_file(image_path), channels=channels, expand_animations=False
        )
        if scan.pil_masks:
            mask = tf.numpy_function(_read_mask_pil, [mask_path], tf.uint8)
            mask = tf.ensure_shape(mask, [None, None, 1])
        else:
            mask = tf.io.decode_png(tf.io.read_file(mask_path), channels=1)
        mask = tf.gather(lookup, tf.cast(mask, tf.int32))
        if size is not None:
            image, mask = resize_pair(image, mask, size)
        return image, mask

    ds = tf.data.Dataset.from_tensor_slices(([p[1] for p in pairs], [p[2] for p in pairs]))
    ds = ds.map(read, num_parallel_calls=tf.data.AUTOTUNE)
    info = DatasetInfo(
        name=f"segfolder:{path}",
        task="segmentation",
        num_classes=len(class_names),
        class_names=class_names,
        image_shape=shape,
        num_examples=len(pairs),
        description=f"image/mask pairs from {root}",
        extra={"storage": "files", "root": root},
    )
    return ds, info
