"""Procedural embedded datasets for classification: shapes.

``shapes`` draws one coloured geometric shape per image — circle, square, triangle, star, cross,
ring, crescent, semicircle, heart, L — at a random position, scale and rotation on a textured
background (smooth colour noise, faint stripes and grain). It is generated with vectorised NumPy
in chunks, each from its own seed, so any split of any size and image size is deterministic,
quick (a few thousand 32x32 images take well under a second) and needs no download. The classes
differ in outline only — colour, texture, pose and size are nuisances — so a small CNN learns it
to high accuracy, while an MLP on pixels does not.

Example:
    >>> ds, info = load_dataset("shapes", "train", image_size=64, num_examples=2000)
    >>> info.class_names[:3]
    ['circle', 'square', 'triangle']
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import tensorflow as tf

from kerascv_course.data.datasets import DatasetInfo, register_dataset

SHAPE_NAMES = ("circle", "square", "triangle", "star", "cross", "ring", "crescent", "semicircle", "heart", "ell")
DEFAULT_EXAMPLES = {"train": 5000, "validation": 1000, "test": 1000}
_SPLIT_IDS = {"train": 0, "validation": 1, "test": 2}
_CHUNK = 512


def _polygon(r: np.ndarray, theta: np.ndarray, sides: int, radius: float) -> np.ndarray:
    sector = 2 * math.pi / sides
    local = np.mod(theta, sector) - sector / 2
    return r * np.cos(local) <= radius * math.cos(sector / 2)


def _mask(kind: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Inside test of shape ``kind`` in its own frame (the shape spans about [-1, 1])."""
    r2 = u * u + v * v
    name = SHAPE_NAMES[kind]
    if name == "circle":
        return r2 <= 0.85**2
    if name == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 0.72
    if name == "triangle":
        return _polygon(np.sqrt(r2), np.arctan2(v, u), 3, 0.92)
    if name == "star":
        r, theta = np.sqrt(r2), np.arctan2(v, u)
        sector = 2 * math.pi / 5
        wave = np.abs(np.mod(theta, sector) - sector / 2) / (sector / 2)  # 1 at tips, 0 between
        return r <= 0.42 + 0.58 * wave**1.6
    if name == "cross":
        au, av = np.abs(u), np.abs(v)
        return ((au <= 0.28) & (av <= 0.95)) | ((av <= 0.28) & (au <= 0.95))
    if name == "ring":
        return (r2 <= 0.92**2) & (r2 >= 0.55**2)
    if name == "crescent":
        return (r2 <= 0.9**2) & ((u - 0.45) ** 2 + v * v > 0.72**2)
    if name == "semicircle":
        return (u * u + (v + 0.4) ** 2 <= 1.0) & (v >= -0.4)
    if name == "heart":
        x, y = u * 1.25, -v * 1.25 + 0.25
        return (x * x + y * y - 1) ** 3 - x * x * y**3 <= 0
    # "ell"
    return ((u >= -0.75) & (u <= -0.25) & (np.abs(v) <= 0.85)) | (
        (u >= -0.75) & (u <= 0.75) & (v >= 0.35) & (v <= 0.85)
    )


@functools.lru_cache(maxsize=32)
def _canonical_masks(resolution: int, num_classes: int) -> np.ndarray:
    """``(num_classes, M, M, 1)`` anti-aliased masks of the shapes spanning [-1, 1] (4x4
    supersampled, so edges are soft)."""
    ss = 4
    coords = -1 + (np.arange(resolution * ss) + 0.5) * 2 / (resolution * ss)
    v, u = np.meshgrid(coords, coords, indexing="ij")
    masks = np.stack([_mask(k, u, v) for k in range(num_classes)]).astype(np.float32)
    masks = masks.reshape(num_classes, resolution, ss, resolution, ss).mean(axis=(2, 4))
    return masks[..., None]


@tf.function(reduce_retracing=True)
def _warp(masks, labels, transforms, size):
    """Each image's class mask, rotated, scaled and moved into place (bilinear)."""
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.gather(masks, labels),
        transforms=transforms,
        output_shape=tf.stack([size, size]),
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )


@tf.function(reduce_retracing=True)
def _composite(alpha, low, stripes, colour, shade, grain_seed):
    """Shapes over textured backgrounds (float32, then uint8), with few full-size ops."""
    shape = tf.shape(alpha)
    size = shape[1]
    grid = tf.cast(tf.range(size), tf.float32) + 0.5
    # stripes: (n, 4) = amplitude, frequency, angle, phase; shade: (n, 3) = strength, angle, radius
    amp, freq, angle, phase = (stripes[:, i, None, None] for i in range(4))
    proj = grid[None, None, :] * tf.cos(angle) + grid[None, :, None] * tf.sin(angle)
    texture = amp * tf.sin(6.283185307 * freq * proj + phase)
    texture += tf.random.stateless_uniform(shape[:3], grain_seed, -0.04, 0.04)
    strength, direction, radius = (shade[:, i, None, None] for i in range(3))
    light = grid[None, None, :] * tf.cos(direction) + grid[None, :, None] * tf.sin(direction)
    light -= tf.reduce_mean(light, axis=[1, 2], keepdims=True)
    light = tf.clip_by_value(1.0 + strength * light / radius, 0.7, 1.3)
    bg = tf.image.resize(low, tf.stack([size, size]), method="bilinear") + texture[..., None]
    fg = colour[:, None, None, :] * light[..., None]
    image = bg + (fg - bg) * alpha
    return tf.image.convert_image_dtype(tf.clip_by_value(image, 0.0, 1.0), tf.uint8, saturate=True)


def _chunk(n: int, size: int, num_classes: int, seed: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    labels = rng.integers(0, num_classes, n)
    f32 = np.float32
    # Background: a base colour with 4x4 colour noise, upsampled; faint stripes; grain.
    low = rng.uniform(0.0, 1.0, (n, 4, 4, 3)) * rng.uniform(0.1, 0.35, (n, 1, 1, 1))
    low += rng.uniform(0.0, 0.7, (n, 1, 1, 3))
    stripes = np.stack(
        [rng.uniform(0.0, 0.08, n), rng.uniform(2.0, 6.0, n) / size, rng.uniform(0, math.pi, n),
         rng.uniform(0, 2 * math.pi, n)], axis=1,
    )
    # Pose: centre, radius, rotation.
    radius = rng.uniform(0.22, 0.38, n) * size
    margin = radius * 0.9
    cy = rng.uniform(margin, size - margin) - 0.5  # pixel-index coordinates
    cx = rng.uniform(margin, size - margin) - 0.5
    rot = rng.uniform(0, 2 * math.pi, n)
    # Colour: any hue, but dark on a light background and light on a dark one.
    colour = rng.uniform(0.0, 1.0, (n, 3))
    luma = np.array([0.299, 0.587, 0.114])
    light_bg = (low.mean(axis=(1, 2)) @ luma) > 0.45
    colour = np.where(light_bg[:, None], colour * 0.4, 0.6 + 0.4 * colour)
    shade = np.stack([rng.uniform(0.0, 0.2, n), rng.uniform(0, 2 * math.pi, n), radius], axis=1)
    # Output pixel -> canonical mask pixel: q = c_M + k R(-rot) (p - c), k = (M/2) / radius.
    resolution = max(8, int(round(0.6 * size)))
    k = resolution / 2 / radius
    cos, sin = np.cos(rot) * k, np.sin(rot) * k
    cm = (resolution - 1) / 2
    transforms = np.stack(
        [cos, sin, cm - (cos * cx + sin * cy), -sin, cos, cm - (-sin * cx + cos * cy), 0 * k, 0 * k], axis=1
    )
    alpha = _warp(
        tf.constant(_canonical_masks(resolution, num_classes)), tf.constant(labels, tf.int32),
        tf.constant(transforms, f32), tf.constant(size, tf.int32),
    )
    images = _composite(
        alpha, tf.constant(low, f32), tf.constant(stripes, f32), tf.constant(colour, f32),
        tf.constant(shade, f32), tf.constant(rng.integers(0, 2**31 - 1, 2), tf.int64),
    )
    return images.numpy(), labels.astype(np.int64)


@functools.lru_cache(maxsize=16)
def _generate(split_id: int, n: int, size: int, num_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    parts = [
        _chunk(min(_CHUNK, n - start), size, num_classes, (seed, split_id, start // _CHUNK))
        for start in range(0, n, _CHUNK)
    ]
    if not parts:
        return np.zeros((0, size, size, 3), np.uint8), np.zeros((0,), np.int64)
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def make_shapes(
    num_examples: int, *, image_size: int = 32, num_classes: int = 10, seed: int = 0, split: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """``num_examples`` shapes images as NumPy arrays: ``uint8 (N, S, S, 3)`` and ``int64 (N,)``.

    Deterministic in ``(seed, split, image_size, num_classes)``; the first ``k`` examples do not
    depend on ``num_examples`` beyond chunk boundaries of 512.

    Raises:
        ValueError: for a bad count, size, class count or split.
    """
    _check_int(num_examples, "num_examples", 1)
    _check_int(image_size, "image_size", 8)
    _check_int(num_classes, "num_classes", 2)
    if num_classes > len(SHAPE_NAMES):
        raise ValueError(
            f"`num_classes` must be between 2 and {len(SHAPE_NAMES)} ({', '.join(SHAPE_NAMES)}). "
            f"Received: num_classes={num_classes}"
        )
    if split not in _SPLIT_IDS:
        raise ValueError(f"`split` must be one of {', '.join(_SPLIT_IDS)}. Received: split={split!r}")
    return _generate(_SPLIT_IDS[split], int(num_examples), int(image_size), int(num_classes), int(seed))


def _check_int(value: Any, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}")


@register_dataset("shapes", summary="procedural coloured shapes on textured backgrounds, any size")
def load_shapes(
    split: str,
    *,
    data_dir: str | None = None,
    image_size: int | tuple[int, int] | None = None,
    seed: int = 0,
    num_classes: int = 10,
    num_examples: int | dict[str, int] | None = None,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """Coloured geometric shapes, one class per outline, generated on the fly.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"`` (independent random streams).
        data_dir: unused (nothing is stored).
        image_size: side of the square images (default 32); ``(s, s)`` is accepted.
        seed: seed of the generated data.
        num_classes: number of shape classes, 2..10 (the first ``num_classes`` of
            :data:`SHAPE_NAMES`).
        num_examples: examples in this split, or a dict per split (default 5000/1000/1000).

    Returns:
        ``(dataset of (uint8 (S, S, 3), int64 label), DatasetInfo)``; mean and std are measured
        on the first 512 training images.
    """
    del data_dir
    if image_size is None:
        size = 32
    elif isinstance(image_size, (tuple, list)):
        if len(image_size) != 2 or image_size[0] != image_size[1]:
            raise ValueError(f"`image_size` of shapes must be square. Received: image_size={image_size!r}")
        size = image_size[0]
    else:
        size = image_size
    counts = dict(DEFAULT_EXAMPLES)
    if isinstance(num_examples, dict):
        unknown = sorted(set(num_examples) - set(counts))
        if unknown:
            raise ValueError(f"`num_examples` keys must be splits {', '.join(counts)}. Received: {unknown}")
        counts.update(num_examples)
    elif num_examples is not None:
        counts[split] = num_examples
    images, labels = make_shapes(counts[split], image_size=size, num_classes=num_classes, seed=seed, split=split)
    sample, _ = make_shapes(min(_CHUNK, counts["train"]), image_size=size, num_classes=num_classes, seed=seed)
    mean = [sample[..., c].mean(dtype=np.float64) / 255.0 for c in range(3)]
    std = [sample[..., c].std(dtype=np.float64) / 255.0 for c in range(3)]
    info = DatasetInfo(
        name="shapes",
        task="classification",
        num_classes=num_classes,
        class_names=list(SHAPE_NAMES[:num_classes]),
        image_shape=(size, size, 3),
        num_examples=len(labels),
        mean=tuple(float(v) for v in mean),
        std=tuple(float(v) for v in std),
        description="procedural coloured shapes at random pose on textured backgrounds (embedded)",
        extra=dict(
            storage="memory",
            load_args=dict(image_size=size, seed=seed, num_classes=num_classes, num_examples=num_examples),
        ),
    )
    return tf.data.Dataset.from_tensor_slices((images, labels)), info
