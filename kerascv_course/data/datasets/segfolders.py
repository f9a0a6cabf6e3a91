"""Segmentation datasets from folders of the user's images and masks: ``segfolder:PATH``.

``PATH/images/*`` pairs with ``PATH/masks/*`` by file name (without the extension), or
``PATH/{train,validation,test}/{images,masks}`` (the split folders may have the names of
:data:`~kerascv_course.data.datasets.folders.SPLIT_FOLDERS`). Images are read like ``folder:PATH``'s
(:mod:`kerascv_course.data.datasets.images`: 16-bit scaled, palettes as colours, alpha dropped, CMYK
as RGB, EXIF orientation applied — to masks too).

Masks hold class indices in one channel: 8-bit grey (``L``), palette (``P``: the indices, not the
colours) or 1-bit images. Masks holding only 0 and 255 are binary (255 -> 1). ``PATH/classes.txt``
names the classes, one per line; without it the classes are ``0 .. max value``. Every image and mask
of every split is checked up front: an unreadable pair is skipped (one warning line,
``info.extra["skipped"]``); a colour mask, a mask whose size differs from its image's, a value
outside the classes, or an image over the decompression-bomb limit is refused, naming the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from kerascv_course.data.datasets.base import DatasetInfo, split_indices
from kerascv_course.data.datasets.folders import SPLIT_FOLDERS
from kerascv_course.data.datasets.images import (
    IMAGE_EXTENSIONS,
    check_files,
    one_line,
    orientation,
    read_image,
    refuse_too_large,
    report_skipped,
)
from kerascv_course.data.transforms.checks import as_size
from kerascv_course.data.transforms.joint import resize_pair

MASK_EXTENSIONS = (".png", ".bmp", ".gif")
MASK_MODES = ("L", "P", "1")
SEGFOLDER_FRACTIONS = (0.8, 0.1, 0.1)

Pair = tuple[str, str, str]  # (name, image path, mask path)


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


def _pairs(root: str) -> list[Pair]:
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


def _layout(root: str, path: str, seed: int) -> dict[str, list[Pair]]:
    """The pairs of every split: from split folders, or an 80/10/10 split of ``images/``."""
    found = {}
    for split, names in SPLIT_FOLDERS.items():
        folder = next((os.path.join(root, d) for d in names if os.path.isdir(os.path.join(root, d))), None)
        if folder is not None:
            found[split] = folder
    if found:
        return {split: _pairs(folder) for split, folder in found.items()}
    if os.path.isdir(os.path.join(root, "images")) and os.path.isdir(os.path.join(root, "masks")):
        pairs = _pairs(root)
        return {s: [pairs[i] for i in idx] for s, idx in split_indices(len(pairs), SEGFOLDER_FRACTIONS, seed).items()}
    raise FileNotFoundError(
        f"segfolder: {path!r} must hold images/ and masks/ folders, or train/, validation/ "
        f"and test/ folders that do. Received: path={path!r}"
    )


def _read_class_names(path: str) -> list[str] | None:
    full = os.path.join(path, "classes.txt")
    if not os.path.exists(full):
        return None
    with open(full, encoding="utf-8") as fh:
        names = [line.strip() for line in fh if line.strip()]
    if not names:
        raise ValueError(f"segfolder: {full!r} lists no class. Received: path={path!r}")
    return names


@dataclass(frozen=True)
class MaskCheck:
    """What the up-front check learnt about one mask file."""

    ok: bool
    reason: str = ""
    height: int = 0
    width: int = 0
    mode: str = ""
    values: tuple[int, ...] = ()
    pillow: bool = False  # read through Pillow (palette, 1-bit, non-PNG, EXIF-turned)


_MASKS: dict[str, tuple[tuple[int, int], MaskCheck]] = {}


def check_mask(path: str) -> MaskCheck:
    """Open a mask once: its size (as shown), mode and values (cached per file for the process)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        stat = os.stat(path)
        key = (stat.st_mtime_ns, stat.st_size)
        hit = _MASKS.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        with Image.open(path) as mask:
            turned = orientation(mask)
            shown = ImageOps.exif_transpose(mask)
            width, height = shown.size
            values: tuple[int, ...] = ()
            if mask.mode in MASK_MODES:
                values = tuple(int(v) for v in np.unique(np.asarray(shown, dtype=np.uint8)))
            pillow = mask.mode != "L" or mask.format != "PNG" or turned != 1
            result = MaskCheck(True, "", height, width, mask.mode, values, pillow)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, EOFError) as err:
        return MaskCheck(False, one_line(err))
    _MASKS[path] = (key, result)
    return result


def _read_mask_pil(path: bytes) -> np.ndarray:
    from PIL import Image, ImageOps

    with Image.open(path.decode()) as mask:
        return np.asarray(ImageOps.exif_transpose(mask), dtype=np.uint8)[..., None]


def _value_table(values: dict[str, tuple[int, ...]], class_names: list[str] | None, root: str) -> tuple[np.ndarray, list[str]]:
    """Lookup table raw mask value -> class, and the class names (``values``: per mask file)."""
    table = np.arange(256, dtype=np.uint8)
    seen = set().union(*values.values()) if values else set()
    binary_255 = seen <= {0, 255} and 255 in seen
    if binary_255 and (class_names is None or len(class_names) == 2):
        table[255] = 1
        return table, class_names or ["background", "foreground"]
    if class_names is not None:
        n = len(class_names)
        bad = sorted(f for f, v in values.items() if v and max(v) >= n)
        if bad:
            first = os.path.relpath(bad[0], root)
            raise ValueError(
                f"segfolder: {first} holds mask value(s) {[v for v in values[bad[0]] if v >= n][:8]} "
                f"but classes.txt lists {n} classes (values 0..{n - 1}); {len(bad)} mask file(s) do. "
                f"Fix the masks or classes.txt. Received: path={root!r}"
            )
        return table, class_names
    n = max(max(seen, default=0) + 1, 2)
    if n > 2 * len(seen):  # sparse values (0/128, 0/1/200): not class indices
        first = os.path.relpath(max(values, key=lambda f: max(values[f], default=0)), root)
        raise ValueError(
            f"segfolder: the masks hold values {sorted(seen)[:8]} (e.g. {first}): that would be {n} "
            f"classes, most of them empty. Masks must hold class indices 0..K-1 (or 0/255 for binary "
            f"masks): re-encode them, or list the K classes in classes.txt. Received: path={root!r}"
        )
    return table, [f"class_{i}" for i in range(n)]


def _check_pairs(
    layout: dict[str, list[Pair]], root: str, path: str
) -> tuple[set[tuple[str, str, str]], dict[str, Any], dict[str, MaskCheck], list[str]]:
    """Check every image and mask of every split; refuse what cannot be read right.

    Returns:
        The pairs to skip, the image checks, the mask checks and the skipped files as listed.
    """
    every = [p for pairs in layout.values() for p in pairs]
    images = check_files(p[1] for p in every)
    refuse_too_large(images, root, f"segfolder:{path}")
    masks = check_files((p[2] for p in every), check_mask)
    skip = {p for p in every if not images[p[1]].ok or not masks[p[2]].ok}
    listed = report_skipped({**images, **masks}, root, "image or mask")
    for name, image_path, mask_path in sorted(set(every) - skip):
        image, mask = images[image_path], masks[mask_path]
        where = os.path.relpath(mask_path, root)
        if mask.mode not in MASK_MODES:
            raise ValueError(
                f"segfolder: the mask {where} has mode {mask.mode!r}; masks must be single-channel "
                f"images of class indices: 8-bit grey ('L'), palette ('P', read as indices) or 1-bit "
                f"('1'). Convert colour masks to class indices first. Received: path={path!r}"
            )
        if (mask.height, mask.width) != (image.height, image.width):
            raise ValueError(
                f"segfolder: the mask of {name!r} is {mask.width}x{mask.height} but its image is "
                f"{image.width}x{image.height} (width x height); a mask must be the size of its "
                f"image. Received: path={path!r}"
            )
    return skip, images, masks, listed


def load_segfolder(
    path: str,
    split: str,
    *,
    data_dir: str | None = None,
    image_size: Any = None,
    seed: int = 0,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """Images and masks from a folder, matched by file name (the layouts are in the module docstring).

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
            image's, a colour mask, mask values that are not class indices, an image over the
            decompression-bomb limit, or an empty split.
    """
    root = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(root):
        raise FileNotFoundError(f"segfolder: no folder at {path!r}. Received: path={path!r}")
    layout = _layout(root, path, seed)
    if split not in layout:
        raise FileNotFoundError(
            f"segfolder: {path!r} has split folders but none for {split!r} (one of "
            f"{', '.join(SPLIT_FOLDERS[split])}). Received: path={path!r}"
        )
    skip, images, masks, skipped = _check_pairs(layout, root, path)
    kept = {s: [p for p in pairs if p not in skip] for s, pairs in layout.items()}
    pairs = kept[split]
    if not pairs:
        raise ValueError(
            f"segfolder: the {split} split of {path!r} has no readable image/mask pair (too few "
            f"images for an 80/10/10 split, or all skipped). Received: path={path!r}"
        )
    every = [p for ps in kept.values() for p in ps]
    table, class_names = _value_table({p[2]: masks[p[2]].values for p in every}, _read_class_names(root), root)
    channels = 1 if all(images[p[1]].grey for p in every) else 3
    size = None if image_size is None else as_size(image_size, "image_size", where="segfolder")
    sizes = {(images[p[1]].height, images[p[1]].width) for p in pairs}
    if size is not None:
        shape: tuple[Any, Any, int] = (size[0], size[1], channels)
    else:
        shape = (*sizes.pop(), channels) if len(sizes) == 1 else (None, None, channels)
    lookup = tf.constant(table)
    readers = [images[p[1]].reader for p in pairs]
    used, pil_masks = set(readers), any(masks[p[2]].pillow for p in pairs)

    def read(image_path: tf.Tensor, reader: tf.Tensor, mask_path: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image = read_image(image_path, reader, channels, used)
        if pil_masks:
            mask = tf.ensure_shape(tf.numpy_function(_read_mask_pil, [mask_path], tf.uint8), [None, None, 1])
        else:
            mask = tf.io.decode_png(tf.io.read_file(mask_path), channels=1)
        mask = tf.gather(lookup, tf.cast(mask, tf.int32))
        if size is not None:
            image, mask = resize_pair(image, mask, size)
        return image, mask

    ds = tf.data.Dataset.from_tensor_slices(([p[1] for p in pairs], np.array(readers, np.int32), [p[2] for p in pairs]))
    ds = ds.map(read, num_parallel_calls=tf.data.AUTOTUNE)
    info = DatasetInfo(
        name=f"segfolder:{path}",
        task="segmentation",
        num_classes=len(class_names),
        class_names=class_names,
        image_shape=shape,
        num_examples=len(pairs),
        description=f"image/mask pairs from {root}",
        extra={"storage": "files", "root": root, "skipped": skipped},
    )
    return ds, info
