"""Procedural data: the generators behind the embedded ``shapes`` and ``cracks`` datasets.

``shapes`` draws one coloured geometric shape per image — circle, square, triangle, star, cross,
ring, crescent, semicircle, heart, L — at a random position, scale and rotation on a textured
background (smooth colour noise, faint stripes and grain). It is generated with vectorised NumPy
in chunks, each from its own seed, so any split of any size and image size is deterministic,
quick (a few thousand 32x32 images take well under a second) and needs no download. The classes
differ in outline only — colour, texture, pose and size are nuisances — so a small CNN learns it
to high accuracy, while an MLP on pixels does not.

``cracks`` draws procedural surfaces (concrete-like multi-scale texture, grain, pores) with thin,
branching cracks of varying width and contrast, and their pixel masks; any size, seeded, made in
NumPy in about 2 ms per 96x96 image.

The loaders that serve them as datasets are in :mod:`kerascv_course.data.datasets.embedded`.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import tensorflow as tf

from kerascv_course.data.constants import CRACKS_DEFAULT_SIZE, SHAPE_NAMES
from kerascv_course.utils.checks import check_choice, check_number

SPLIT_STREAMS = {"train": 0, "validation": 1, "test": 2}
SHAPE_CHUNK = 512

# ============================================================================= shapes


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
        _chunk(min(SHAPE_CHUNK, n - start), size, num_classes, (seed, split_id, start // SHAPE_CHUNK))
        for start in range(0, n, SHAPE_CHUNK)
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
    check_number("num_examples", num_examples, low=1, integer=True)
    check_number("image_size", image_size, low=8, integer=True)
    check_number("num_classes", num_classes, low=2, integer=True)
    if num_classes > len(SHAPE_NAMES):
        raise ValueError(
            f"`num_classes` must be between 2 and {len(SHAPE_NAMES)} ({', '.join(SHAPE_NAMES)}). "
            f"Received: num_classes={num_classes}"
        )
    check_choice("split", split, tuple(SPLIT_STREAMS))
    return _generate(SPLIT_STREAMS[split], int(num_examples), int(image_size), int(num_classes), int(seed))



# ============================================================================= cracks


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
    check_number("num_examples", num_examples, low=1, integer=True)
    check_number("size", size, low=16, integer=True)
    check_choice("channels", channels, (1, 3))
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
