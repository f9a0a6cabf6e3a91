"""Segmentation data: the embedded cracks, folder pairs (segfolder:PATH), Oxford pets trimaps, joint augmentation.

Every loader returns ``(tf.data.Dataset, DatasetInfo)`` with ``info.task == "segmentation"``; the
dataset yields ``(uint8 image (H, W, C), uint8 mask (H, W, 1))`` pairs whose mask values are class
indices ``0 .. num_classes - 1``.

* ``cracks``: procedural surfaces (concrete-like multi-scale texture, grain, pores) with thin,
  branching cracks of varying width and contrast and their pixel masks; any size, seeded, made in
  NumPy in about 2 ms per 96x96 image (default size 64). Classes: background, crack.
* ``oxford_iiit_pet_seg``: the Oxford-IIIT Pet trimaps through tensorflow-datasets
  (``oxford_iiit_pet``), mapped 1/2/3 -> 0 pet, 1 background, 2 border.
* ``segfolder:PATH``: ``PATH/images/*`` and ``PATH/masks/*`` matched by file name (without the
  extension), or ``PATH/{train,validation,test}/{images,masks}``.

:func:`joint_policy` returns the augmentations that move a mask with its image (same geometric
transform, nearest-neighbour for the mask; colour changes on the image only).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tensorflow as tf

from kerascv_course.data.datasets import (
    DatasetInfo,
    register_dataset,
    register_prefix,
    split_indices,
)

log = logging.getLogger(__name__)

# ============================================================================= cracks

CRACKS_DEFAULT_SIZE = 64
CRACKS_DEFAULT_EXAMPLES = {"train": 1000, "validation": 200, "test": 200}
CRACKS_CLASSES = ["background", "crack"]
# Validation and test are fixed (the same images whatever ``seed``), so scores compare across runs;
# the training images follow ``seed``.
_CRACKS_SPLIT_STREAM = {"train": 0, "validation": 1, "test": 2}
_CRACKS_FIXED_SEED = 20150518
# Per-channel statistics of generated cracks (1,000 images at 96x96, measured once).
CRACKS_MEAN = (0.539, 0.539, 0.539)
CRACKS_STD = (0.116, 0.116, 0.116)


def _value_noise(rng: np.random.Generator, n: int, size: int, cells: int) -> np.ndarray:
    """Smooth noise ``(n, size, size)``: a ``cells`` x ``cells`` random grid, bilinear-resized."""
    grid = rng.standard_normal((n, cells + 1, cells + 1, 1)).astype(np.float32)
    return tf.image.resize(grid, (size, size), method="bilinear").numpy()[..., 0]


def _textures(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Concrete-like surfaces ``(n, size, size)`` in [0, 1]: base grey, 4 octaves, no grain."""
    base = rng.uniform(0.4, 0.7, (n, 1, 1)).astype(np.float32)
    rough = rng.uniform(0.03, 0.09, (n, 1, 1)).astype(np.float32)
    surface = np.broadcast_to(base, (n, size, size)).copy()
    cells = 3
    amplitude = 1.0
    while cells <= max(3, size // 3):
        surface += rough * amplitude * _value_noise(rng, n, size, cells)
        cells *= 2
        amplitude *= 0.6
    return surface


def _walk(
    rng: np.random.Generator, start: np.ndarray, angle: float, steps: int, curl: float
) -> tuple[np.ndarray, np.ndarray]:
    """A jagged path of ``steps`` 0.7-pixel steps: points ``(steps, 2)`` and headings.

    The heading wanders slowly (``curl``) around ``angle`` and jitters from step to step, so the
    path runs on roughly straight with a zig-zag edge, as cracks do.
    """
    drift = np.cumsum(rng.normal(0.0, curl, steps))
    jitter = np.repeat(rng.normal(0.0, 0.45, steps // 3 + 1), 3)[:steps]
    heading = angle + drift + jitter
    step = 0.7 * np.stack([np.cos(heading), np.sin(heading)], axis=1)
    return start + np.cumsum(step, axis=0), angle + drift


def _taper(n: int, width: float, rng: np.random.Generator, *, both_ends: bool) -> np.ndarray:
    """Radius along a path: ``width`` modulated smoothly, thinning towards its end(s)."""
    t = np.linspace(0.0, 1.0, n)
    phase = rng.uniform(0, 2 * math.pi, 2)
    wobble = 1.0 + 0.25 * np.sin(2 * math.pi * (t * rng.uniform(1, 3) + phase[0])) + 0.1 * np.sin(
        2 * math.pi * (t * rng.uniform(4, 9) + phase[1])
    )
    end = np.minimum(t, 1 - t) * 2 if both_ends else 1 - t
    return np.maximum(width * wobble * np.clip(0.35 + end * 1.6, 0.35, 1.0), 0.5)


def _crack_points(rng: np.random.Generator, size: int) -> np.ndarray:
    """Points ``(P, 4)`` = x, y, radius, darkness of an image's 1-3 branching cracks."""
    parts = []
    for _ in range(int(rng.integers(1, 4))):
        start = rng.uniform(0.15 * size, 0.85 * size, 2)
        angle = rng.uniform(0, 2 * math.pi)
        steps = int(rng.uniform(0.4, 0.9) * size / 0.7)
        curl = rng.uniform(0.01, 0.05)
        forward, head_f = _walk(rng, start, angle, steps, curl)
        backward, head_b = _walk(rng, start, angle + math.pi, steps, curl)
        path = np.concatenate([backward[::-1], start[None], forward])
        heading = np.concatenate([head_b[::-1] + math.pi, [angle], head_f])
        width = rng.uniform(0.6, 1.9)
        darkness = rng.uniform(0.22, 0.6)
        radius = _taper(len(path), width, rng, both_ends=True)
        parts.append(np.column_stack([path, radius, np.full(len(path), darkness)]))
        for _ in range(int(rng.poisson(1.5))):
            at = int(rng.integers(0, len(path)))
            side = rng.choice([-1.0, 1.0])
            b_angle = heading[at] + side * rng.uniform(0.4, 1.2)
            b_steps = int(rng.uniform(0.15, 0.45) * steps) + 2
            b_path, _ = _walk(rng, path[at], b_angle, b_steps, curl * 1.5)
            b_radius = _taper(b_steps, radius[at] * rng.uniform(0.45, 0.8), rng, both_ends=False)
            b_dark = darkness * rng.uniform(0.7, 1.0)
            parts.append(np.column_stack([b_path, b_radius, np.full(b_steps, b_dark)]))
    return np.concatenate(parts)


def _pore_points(rng: np.random.Generator, size: int) -> np.ndarray:
    """Round pores and stains (distractors, not cracks): points ``(P, 4)``."""
    count = int(rng.poisson(size * size / 700))
    xy = rng.uniform(0, size, (count, 2))
    radius = rng.uniform(0.6, 1.8, count)
    darkness = rng.uniform(0.1, 0.35, count) * rng.choice([-0.6, 1.0], count)
    return np.column_stack([xy, radius, darkness])


def _rasterize(points: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Discs at ``points``: coverage-weighted darkness ``(size, size)`` and the mask of their
    pixels (``distance <= radius``)."""
    dark = np.zeros((size, size), np.float32)
    mask = np.zeros((size, size), bool)
    if not len(points):
        return dark, mask
    points = points.astype(np.float32)
    reach = int(math.ceil(points[:, 2].max() + 0.5))
    offsets = np.arange(-reach, reach + 1, dtype=np.int32)
    ox, oy = (o.reshape(1, -1) for o in np.meshgrid(offsets, offsets))
    x0 = np.floor(points[:, :1]).astype(np.int32)
    y0 = np.floor(points[:, 1:2]).astype(np.int32)
    px, py = x0 + ox, y0 + oy
    dist = np.hypot((x0 - points[:, :1] + 0.5) + ox, (y0 - points[:, 1:2] + 0.5) + oy)
    coverage = points[:, 2:3] + 0.5 - dist
    keep = (coverage > 0) & (px >= 0) & (px < size) & (py >= 0) & (py < size)
    flat = (py * size + px)[keep]
    value = (np.minimum(coverage, 1.0) * points[:, 3:4])[keep]
    order = np.argsort(np.abs(value))
    dark.reshape(-1)[flat[order]] = value[order]  # the strongest value wins per pixel
    mask.reshape(-1)[flat[coverage[keep] >= 0.5]] = True  # distance <= radius
    return dark, mask


def generate_cracks(
    num_examples: int, size: int = CRACKS_DEFAULT_SIZE, *, seed: int = 0, channels: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Procedural crack images and their pixel masks.

    Each image is a concrete-like surface (a random base grey, four octaves of smooth noise, a
    slight colour tint, pores and stains, fine grain) crossed by 1-3 cracks: jagged random walks
    that branch, 1-4 pixels wide (thinning along the way and at the ends), darker than the
    surface by 22-60 %. The mask marks the crack pixels (1) on the background (0).

    Args:
        num_examples: number of images.
        size: side of the square images (at least 16).
        seed: the generator's seed; the same seed gives the same images.
        channels: 3 (RGB) or 1 (grey).

    Returns:
        ``(images, masks)``: uint8 arrays ``(N, size, size, channels)`` and ``(N, size, size, 1)``.

    Raises:
        ValueError: for a size below 16, a non-positive count or a channel count other than 1/3.

    Example:
        >>> images, masks = generate_cracks(8, 64, seed=1)
        >>> images.shape, masks.max()
        ((8, 64, 64, 3), 1)
    """
    for argument, value, low in (("num_examples", num_examples, 1), ("size", size, 16)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(
                f"`{argument}` must be an integer >= {low}. Received: {argument}={value!r}"
            )
    if channels not in (1, 3):
        raise ValueError(f"`channels` must be 1 or 3. Received: channels={channels!r}")
    rng = np.random.default_rng(seed)
    surface = _textures(rng, num_examples, size)
    tint = 1.0 + rng.normal(0.0, 0.03, (num_examples, 1, 1, channels)).astype(np.float32)
    grain = rng.uniform(0.01, 0.04, (num_examples, 1, 1, 1)).astype(np.float32)
    masks = np.zeros((num_examples, size, size, 1), np.uint8)
    shade = np.zeros((num_examples, size, size), np.float32)
    for i in range(num_examples):
        pores, _ = _rasterize(_pore_points(rng, size), size)
        cracks, crack_mask = _rasterize(_crack_points(rng, size), size)
        shade[i] = np.maximum(cracks, pores) + np.minimum(pores, 0)
        masks[i, ..., 0] = crack_mask
    images = (surface * (1.0 - shade))[..., None] * tint
    images += grain * rng.standard_normal(images.shape, dtype=np.float32)
    images = np.clip(np.round(images * 255.0), 0, 255).astype(np.uint8)
    return images, masks


@register_dataset(
    "cracks", task="segmentation",
    summary="procedural surface cracks with pixel masks (2 classes), any size, seeded",
)
def load_cracks(
    split: str,
    *,
    data_dir: str | None = None,
    image_size: int | None = None,
    seed: int = 0,
    num_examples: int | None = None,
    channels: int = 3,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """The embedded ``cracks`` segmentation dataset (see :func:`generate_cracks`).

    Args:
        split: ``"train"`` (1,000 images by default, from ``seed``), ``"validation"`` (200) or
            ``"test"`` (200); validation and test are the same images whatever ``seed``.
        data_dir: unused (the data are generated).
        image_size: side of the generated images (default 64).
        seed: seed of the training images.
        num_examples: images in the split (default as above).
        channels: 3 (RGB) or 1 (grey).

    Returns:
        ``(dataset of (uint8 image, uint8 mask), DatasetInfo)``, 2 classes: background, crack.
    """
    size = CRACKS_DEFAULT_SIZE if image_size is None else image_size
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
        if isinstance(size, (tuple, list)) and len(size) == 2 and size[0] == size[1]:
            size = size[0]
        else:
            raise ValueError(
                f"cracks: `image_size` must be one integer side (the images are square). "
                f"Received: image_size={image_size!r}"
            )
    count = CRACKS_DEFAULT_EXAMPLES[split] if num_examples is None else num_examples
    stream = _CRACKS_SPLIT_STREAM[split]
    base = seed if split == "train" else _CRACKS_FIXED_SEED
    images, masks = generate_cracks(
        count, int(size), seed=np.random.SeedSequence([base, stream, int(size)]).generate_state(1)[0],
        channels=channels,
    )
    info = DatasetInfo(
        name="cracks",
        task="segmentation",
        num_classes=2,
        class_names=list(CRACKS_CLASSES),
        image_shape=(int(size), int(size), channels),
        num_examples=count,
        mean=CRACKS_MEAN[:channels] if channels == 3 else (float(np.mean(CRACKS_MEAN)),),
        std=CRACKS_STD[:channels] if channels == 3 else (float(np.mean(CRACKS_STD)),),
        description="procedural concrete-like surfaces with thin branching cracks and pixel masks",
        extra={"storage": "memory", "crack_fraction": float(masks.mean())},
    )
    return tf.data.Dataset.from_tensor_slices((images, masks)), info


# ============================================================================= Oxford-IIIT Pet

PET_CLASSES = ["pet", "background", "border"]
PET_DEFAULT_SIZE = 128
_PET_SPLITS = {"train": "train[:90%]", "validation": "train[90%:]", "test": "test"}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def trimap_to_classes(trimap: tf.Tensor) -> tf.Tensor:
    """Oxford-IIIT Pet trimap values 1 (pet), 2 (background), 3 (border) to classes 0, 1, 2.

    Any other value (none in the real data) becomes 2, the "not classified" border class.
    """
    trimap = tf.cast(trimap, tf.int32)
    classes = tf.where((trimap >= 1) & (trimap <= 3), trimap - 1, 2)
    return tf.cast(classes, tf.uint8)


def _resize_pair(
    image: tf.Tensor, mask: tf.Tensor, size: tuple[int, int]
) -> tuple[tf.Tensor, tf.Tensor]:
    """uint8 image (bilinear) and mask (nearest neighbour) resized to ``size``."""
    image = tf.image.resize(tf.cast(image, tf.float32), size, method="bilinear")
    image = tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)
    mask = tf.image.resize(mask, size, method="nearest")
    return image, tf.cast(mask, tf.uint8)


def _square(image_size: Any, default: int | None, name: str) -> tuple[int, int] | None:
    if image_size is None:
        return None if default is None else (default, default)
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        if image_size < 1:
            raise ValueError(f"{name}: `image_size` must be positive. Received: image_size={image_size!r}")
        return (int(image_size), int(image_size))
    if (
        isinstance(image_size, (tuple, list))
        and len(image_size) == 2
        and all(isinstance(v, (int, np.integer)) and v > 0 for v in image_size)
    ):
        return (int(image_size[0]), int(image_size[1]))
    raise ValueError(
        f"{name}: `image_size` must be a positive int or a (height, width) pair. "
        f"Received: image_size={image_size!r}"
    )


@register_dataset(
    "oxford_iiit_pet_seg", task="segmentation",
    summary="Oxford-IIIT Pet trimaps (tfds oxford_iiit_pet): pet / background / border",
)
def load_oxford_pet_seg(
    split: str,
    *,
    data_dir: str | None = None,
    image_size: Any = None,
    seed: int = 0,
    download: bool = False,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """Oxford-IIIT Pet (Parkhi et al., 2012) segmentation through tensorflow-datasets.

    The trimaps become 3 classes: 0 pet, 1 background, 2 border (``trimap - 1``). Images and
    masks are resized together to ``image_size`` (default 128; masks by nearest neighbour), since
    the photos vary in size. Splits: train = the first 90 % of tfds ``train`` (trainval),
    validation = the last 10 %, test = tfds ``test``.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        data_dir: tensorflow-datasets' data folder.
        image_size: the size to resize to (int or ``(h, w)``; default 128).
        seed: unused (the splits are fixed).
        download: let tensorflow-datasets download and prepare the data (needs network access).

    Returns:
        ``(dataset of (uint8 image, uint8 mask), DatasetInfo)``.
    """
    import tensorflow_datasets as tfds

    size = _square(image_size, PET_DEFAULT_SIZE, "oxford_iiit_pet_seg")
    try:
        ds, tfds_info = tfds.load(
            "oxford_iiit_pet", split=_PET_SPLITS[split], data_dir=data_dir, with_info=True,
            download=download,
        )
    except (AssertionError, FileNotFoundError, tfds.core.registered.DatasetNotFoundError) as err:
        raise FileNotFoundError(
            f"oxford_iiit_pet_seg: tensorflow-datasets has no prepared 'oxford_iiit_pet' in "
            f"data_dir={data_dir!r} ({err}). Prepare it once where the network is reachable "
            f"(tfds.load('oxford_iiit_pet', data_dir=...)) and pass that data_dir."
        ) from err

    def to_pair(example: dict[str, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor]:
        image = example["image"][..., :3]
        mask = trimap_to_classes(example["segmentation_mask"])
        return _resize_pair(image, mask, size)

    ds = ds.map(to_pair, num_parallel_calls=tf.data.AUTOTUNE)
    num = None
    try:
        num = int(tfds_info.splits[_PET_SPLITS[split]].num_examples)
    except (KeyError, ValueError, TypeError, AttributeError):
        num = None
    info = DatasetInfo(
        name="oxford_iiit_pet_seg",
        task="segmentation",
        num_classes=3,
        class_names=list(PET_CLASSES),
        image_shape=(size[0], size[1], 3),
        num_examples=num,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        description="Oxford-IIIT Pet photos with trimaps (Parkhi et al., 2012), via tfds",
        extra={"storage": "records", "tfds_name": "oxford_iiit_pet"},
    )
    return ds, info


# ============================================================================= segfolder:PATH

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
MASK_EXTENSIONS = (".png", ".bmp", ".gif")
SEGFOLDER_FRACTIONS = (0.8, 0.1, 0.1)
_SPLIT_FOLDERS = {"train": ("train",), "validation": ("validation", "val"), "test": ("test",)}


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


@register_prefix(
    "segfolder", task="segmentation",
    summary="PATH/images + PATH/masks (same file names), or PATH/{train,validation,test}/...",
)
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
    ``PATH/train/``, ``PATH/validation/`` (or ``val/``), ``PATH/test/``, each with ``images/``
    and ``masks/``. ``images/a.jpg`` goes with ``masks/a.png``. Masks are single-channel images
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
    if split not in _SPLIT_FOLDERS:
        raise ValueError(
            f"segfolder: no split {split!r}; valid splits: {', '.join(_SPLIT_FOLDERS)}. "
            f"Received: split={split!r}"
        )
    root = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(root):
        raise FileNotFoundError(f"segfolder: no folder at {path!r}. Received: path={path!r}")
    split_root = next(
        (os.path.join(root, d) for d in _SPLIT_FOLDERS[split] if os.path.isdir(os.path.join(root, d))),
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
    size = _square(image_size, None, "segfolder")
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
            image, mask = _resize_pair(image, mask, size)
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


# ============================================================================= joint augmentation

FILL_MODES = ("reflect", "constant", "nearest", "wrap")


def _uniform(seed: tf.Tensor, batch: tf.Tensor, low: float, high: float) -> tf.Tensor:
    return tf.random.stateless_uniform([batch], seed=seed, minval=low, maxval=high)


def _coin(seed: tf.Tensor, batch: tf.Tensor, p: float) -> tf.Tensor:
    return tf.cast(tf.random.stateless_uniform([batch], seed=seed) < p, tf.float32)


@dataclass(frozen=True)
class JointPolicy:
    """An augmentation that moves a mask with its image: ``(image, mask, seed) -> (image, mask)``.

    One random geometric transform per image (flips, quarter turns, rotation, scale, translation,
    composed into a single projective warp) is applied to the image (bilinear) and its mask
    (nearest neighbour), with the same fill mode; brightness and contrast change the image only.
    Works on one image ``(H, W, C)`` or a batch ``(B, H, W, C)`` (each image draws its own
    values), in graph mode, deterministic for a given ``seed`` (shape ``(2,)``).

    Attributes:
        name: the policy's name.
        horizontal_flip, vertical_flip: probability of each flip.
        rot90: draw a random quarter turn (square images; others are not turned).
        rotation: maximum rotation, degrees (uniform in ``[-rotation, rotation]``).
        scale: ``(min, max)`` zoom (>1 zooms in: a scale-crop).
        translate: maximum shift, as a fraction of the side.
        brightness: maximum brightness shift (image in [0, 1]).
        contrast: maximum relative contrast change (factor in ``[1 - c, 1 + c]``).
        fill_mode: how the warp fills pixels from outside the image.
        output_size: ``None``: the policy keeps each image's size (the pipeline resizes first).
        batched: it also takes a batch, so the pipeline may augment per batch.
    """

    name: str
    horizontal_flip: float = 0.5
    vertical_flip: float = 0.0
    rot90: bool = False
    rotation: float = 10.0
    scale: tuple[float, float] = (0.9, 1.15)
    translate: float = 0.05
    brightness: float = 0.1
    contrast: float = 0.15
    fill_mode: str = "reflect"
    output_size: tuple[int, int] | None = field(default=None)
    batched: bool = True

    def __post_init__(self) -> None:
        for option in ("horizontal_flip", "vertical_flip"):
            value = getattr(self, option)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(
                    f"`{option}` must be a probability in [0, 1]. Received: {option}={value!r}"
                )
        for option in ("rotation", "translate", "brightness", "contrast"):
            value = getattr(self, option)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"`{option}` must be a number >= 0. Received: {option}={value!r}")
        try:
            lo, hi = (float(v) for v in self.scale)
        except (TypeError, ValueError) as err:
            raise ValueError(f"`scale` must be a (min, max) pair. Received: scale={self.scale!r}") from err
        if not 0 < lo <= hi:
            raise ValueError(f"`scale` must be (min, max) with 0 < min <= max. Received: scale={self.scale!r}")
        if self.fill_mode not in FILL_MODES:
            raise ValueError(
                f"`fill_mode` must be one of {', '.join(FILL_MODES)}. Received: fill_mode={self.fill_mode!r}"
            )
        if self.contrast >= 1:
            raise ValueError(f"`contrast` must be < 1. Received: contrast={self.contrast!r}")

    @property
    def geometric(self) -> bool:
        return bool(
            self.horizontal_flip or self.vertical_flip or self.rot90 or self.rotation
            or tuple(self.scale) != (1.0, 1.0) or self.translate
        )

    def _transforms(self, seed: tf.Tensor, batch: tf.Tensor, h: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        """Per-image ``(B, 8)`` projective transforms mapping output to input pixel coordinates."""
        seeds = tf.random.experimental.stateless_split(seed, 7)
        hf = 1.0 - 2.0 * _coin(seeds[0], batch, self.horizontal_flip)  # -1 flips
        vf = 1.0 - 2.0 * _coin(seeds[1], batch, self.vertical_flip)
        angle = _uniform(seeds[2], batch, -1.0, 1.0) * (self.rotation * math.pi / 180.0)
        hf_ = tf.cast(h, tf.float32)
        wf_ = tf.cast(w, tf.float32)
        if self.rot90:  # quarter turns keep the frame only for square images
            quarter = tf.floor(_uniform(seeds[3], batch, 0.0, 4.0))
            angle = angle + quarter * (math.pi / 2) * tf.cast(tf.equal(h, w), tf.float32)
        lo, hi = (float(v) for v in self.scale)
        zoom = tf.exp(_uniform(seeds[4], batch, math.log(lo), math.log(hi)))
        tx = _uniform(seeds[5], batch, -1.0, 1.0) * self.translate * wf_
        ty = _uniform(seeds[6], batch, -1.0, 1.0) * self.translate * hf_
        cx, cy = (wf_ - 1.0) / 2.0, (hf_ - 1.0) / 2.0
        cos, sin = tf.cos(angle) / zoom, tf.sin(angle) / zoom
        # input = F . R . (output - c) / zoom + c + t, F = diag(hf, vf) the flips.
        a0, a1 = hf * cos, -hf * sin
        b0, b1 = vf * sin, vf * cos
        a2 = cx + tx - a0 * cx - a1 * cy
        b2 = cy + ty - b0 * cx - b1 * cy
        zeros = tf.zeros_like(a0)
        return tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)

    def __call__(
        self, image: tf.Tensor, mask: tf.Tensor, seed: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        single = image.shape.rank == 3
        if single:
            image, mask = image[None], mask[None]
        mask_rank2 = mask.shape.rank == 3  # (B, H, W) masks
        if mask_rank2:
            mask = mask[..., None]
        seed = tf.cast(seed, tf.int64)
        geo_seed, colour_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        shape = tf.shape(image)
        batch, h, w = shape[0], shape[1], shape[2]
        image = tf.cast(image, tf.float32)
        if self.geometric:
            transforms = self._transforms(geo_seed, batch, h, w)
            out_shape = tf.stack([h, w])
            fill = self.fill_mode.upper()
            image = tf.raw_ops.ImageProjectiveTransformV3(
                images=image, transforms=transforms, output_shape=out_shape,
                fill_value=0.0, interpolation="BILINEAR", fill_mode=fill,
            )
            mask_dtype = mask.dtype
            warped = tf.raw_ops.ImageProjectiveTransformV3(
                images=tf.cast(mask, tf.float32), transforms=transforms, output_shape=out_shape,
                fill_value=0.0, interpolation="NEAREST", fill_mode=fill,
            )
            mask = tf.cast(tf.round(warped), mask_dtype)
        if self.brightness or self.contrast:
            seeds = tf.random.experimental.stateless_split(colour_seed, 2)
            delta = _uniform(seeds[0], batch, -self.brightness, self.brightness)
            factor = _uniform(seeds[1], batch, 1.0 - self.contrast, 1.0 + self.contrast)
            mean = tf.reduce_mean(image, axis=[1, 2], keepdims=True)
            image = (image - mean) * factor[:, None, None, None] + mean
            image = tf.clip_by_value(image + delta[:, None, None, None], 0.0, 1.0)
        if mask_rank2:
            mask = mask[..., 0]
        if single:
            image, mask = image[0], mask[0]
        return image, mask


_JOINT_POLICIES: dict[str, dict[str, Any]] = {
    # Flips, a small rotation, scale-crop and shift, brightness/contrast: safe for most scenes.
    "segmentation": {},
    # Orientation-free textures (cracks, aerial, microscopy): all flips and quarter turns too.
    "segmentation_rot": dict(vertical_flip=0.5, rot90=True, rotation=15.0),
    # Geometry only, no colour change.
    "segmentation_geometric": dict(brightness=0.0, contrast=0.0),
    # The U-Net paper's spirit (shifts, rotations, grey-value variations) without elastic warps.
    "unet": dict(vertical_flip=0.5, rotation=20.0, scale=(0.9, 1.1), translate=0.1),
}


def list_joint_policies() -> list[str]:
    """Names accepted by :func:`joint_policy` (``"none"`` included)."""
    return sorted(["none", *_JOINT_POLICIES])


def joint_policy(
    name: str, *, image_size: Any = None, **options: Any
) -> Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]] | None:
    """The named image + mask augmentation (a :class:`JointPolicy`), or ``None`` for ``"none"``.

    Args:
        name: ``"none"``, ``"segmentation"`` (horizontal flip, rotation up to 10 degrees,
            scale-crop 0.9-1.15, 5 % shift, brightness 0.1, contrast 0.15),
            ``"segmentation_rot"`` (also vertical flips, quarter turns, 15 degrees),
            ``"segmentation_geometric"`` (no colour change) or ``"unet"``.
        image_size: accepted for :func:`kerascv_course.data.augment.get_policy`'s signature;
            the policies keep each image's size (the pipeline resizes before augmenting).
        **options: override any :class:`JointPolicy` field (``vertical_flip=0.5``, …).

    Returns:
        The policy, callable as ``(float image in [0, 1], mask, seed) -> (image, mask)``, or None.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones) or option.

    Example:
        >>> augment = joint_policy("segmentation", vertical_flip=0.5)
        >>> image, mask = augment(image, mask, tf.constant([1, 2]))
    """
    valid = list_joint_policies()
    if name not in valid:
        raise ValueError(
            f"Unknown segmentation augmentation policy {name!r}; valid policies: "
            f"{', '.join(valid)}. Received: name={name!r}"
        )
    if image_size is not None:
        _square(image_size, None, "joint_policy")
    if name == "none":
        if options:
            raise ValueError(f"Policy 'none' takes no options. Received: {options}")
        return None
    fields = [f for f in JointPolicy.__dataclass_fields__ if f not in ("name", "output_size", "batched")]
    unknown = sorted(set(options) - set(fields))
    if unknown:
        raise ValueError(
            f"Unknown option(s) {', '.join(unknown)} for policy {name!r}; its options: "
            f"{', '.join(fields)}. Received: {', '.join(f'{k}={options[k]!r}' for k in unknown)}"
        )
    settings = {**_JOINT_POLICIES[name], **options}
    if "scale" in settings:
        settings["scale"] = tuple(settings["scale"])
    return JointPolicy(name=name, **settings)
