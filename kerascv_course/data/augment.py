"""Augmentations from the papers, as tf.data ops with stateless seeds, and the named policies.

Every transform is a small pure function ``transform(image, seed, **params) -> image`` built from
``tf.image`` / ``tf.random.stateless_*`` ops, so it runs inside ``tf.data`` in graph mode and gives
the same result for the same seed. ``image`` is float32 in ``[0, 1]``, either one image
``(H, W, C)`` or a batch ``(B, H, W, C)``; for a batch each image draws its own random values from
the one ``seed`` (shape ``(2,)``), which is how :func:`~kerascv_course.data.make_pipeline`
vectorises a policy over a whole batch. Values stay in ``[0, 1]``.

A *policy* is a named list of transforms (:class:`Policy`); :func:`get_policy` returns the one a
paper used, sized for the model's input:

========== ======================================================================================
name       transforms (paper)
========== ======================================================================================
none       no augmentation
lenet      random affine distortions — translation, scaling, squeezing, horizontal shear — and,
           optionally, elastic distortions (LeCun et al. 1998; Simard et al. 2003)
alexnet    shorter side to ``image_size * 256/224``, random ``image_size`` crop, horizontal flip,
           PCA colour augmentation (Krizhevsky et al. 2012)
vgg        scale jittering, shorter side ``S`` in ``image_size * [256, 512]/224``, random crop, flip,
           RGB colour shift (Simonyan & Zisserman 2014, arXiv:1409.1556)
inception  random-resized crop (8–100 % of the area, aspect 3/4–4/3) with a random interpolation
           method, flip, photometric distortions (Szegedy et al. 2014, arXiv:1409.4842; Howard 2013,
           arXiv:1312.5402)
resnet     scale augmentation, shorter side in ``image_size * [256, 480]/224``, random crop, flip,
           standard colour augmentation (He et al. 2015, arXiv:1512.03385, ImageNet)
cifar      pad by 4 pixels and random crop, flip; optional cutout (He et al. 2015, CIFAR-10;
           DeVries & Taylor 2017, arXiv:1708.04552)
========== ======================================================================================

Example:
    >>> policy = get_policy("cifar", image_size=32)
    >>> image, label = policy(tf.zeros([32, 32, 3]), 3, tf.constant([1, 2]))
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

log = logging.getLogger(__name__)

Transform = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
Augment = Callable[[tf.Tensor, tf.Tensor, tf.Tensor], "tuple[tf.Tensor, tf.Tensor]"]

INTERPOLATIONS = ("bilinear", "nearest", "random")
FILL_MODES = ("constant", "reflect", "nearest", "wrap")

# Published ImageNet colour PCA (RGB in [0, 1]; columns of the matrix are the components), as
# released with fb.resnet.torch and used by later ImageNet recipes.
IMAGENET_PCA = dict(
    eigvals=(0.2175, 0.0188, 0.0045),
    eigvecs=((-0.5675, 0.7192, 0.4009), (-0.5808, -0.0045, -0.8140), (-0.5836, -0.6948, 0.4203)),
)


# --------------------------------------------------------------------------------------------
# Argument checks (run once, when a transform is configured or traced).


def check_probability(p: float, name: str = "p") -> float:
    """``p`` as a float, or ``ValueError`` unless ``0 <= p <= 1``."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"`{name}` must be a probability in [0, 1]. Received: {name}={p!r}")
    return float(p)


def _check_range(value: Any, name: str, *, low: float = -math.inf, positive: bool = False) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"`{name}` must be a (min, max) pair of numbers. Received: {name}={value!r}") from err
    if lo > hi or lo < low or (positive and lo <= 0):
        bound = "> 0" if positive else f">= {low}"
        raise ValueError(f"`{name}` must be (min, max) with min <= max and min {bound}. Received: {name}={value!r}")
    return lo, hi


def _check_nonneg(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
    return float(value)


def _check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, choices))}. Received: {name}={value!r}")
    return value


def as_size(size: Any, name: str = "size") -> tuple[int, int]:
    """``int`` or ``(h, w)`` to a ``(h, w)`` tuple of positive ints; ``ValueError`` otherwise."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (int(size), int(size))
    try:
        h, w = size
        ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in (h, w))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"`{name}` must be a positive int or an (height, width) pair. Received: {name}={size!r}")
    return int(h), int(w)


def check_fits(size: tuple[int, int], image: tf.Tensor, what: str = "crop size") -> None:
    """``ValueError`` when ``size`` is larger than ``image`` (checked at trace time when known)."""
    h, w = image.shape[-3], image.shape[-2]
    if (h is not None and size[0] > h) or (w is not None and size[1] > w):
        raise ValueError(
            f"The {what} {size[0]}x{size[1]} is larger than the image {h}x{w}. Received: size={size}"
        )


# --------------------------------------------------------------------------------------------
# Plumbing: one image or a batch, per-image random values from one stateless seed.


def _batched(fn: Callable[..., tf.Tensor]) -> Callable[..., tf.Tensor]:
    """Let ``fn(batch, seed, ...)`` also take one ``(H, W, C)`` image."""

    @functools.wraps(fn)
    def wrapper(image: tf.Tensor, *args: Any, **kwargs: Any) -> tf.Tensor:
        image = tf.convert_to_tensor(image)
        rank = image.shape.rank
        if rank == 3:
            return fn(image[tf.newaxis], *args, **kwargs)[0]
        if rank == 4:
            return fn(image, *args, **kwargs)
        raise ValueError(f"`image` must be (H, W, C) or (B, H, W, C). Received: image.shape={image.shape}")

    return wrapper


def split_seed(seed: tf.Tensor, num: int) -> tf.Tensor:
    """``num`` independent stateless seeds (rows of a ``(num, 2)`` tensor) from one seed."""
    return tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=num)


def _uniform(seed: tf.Tensor, n: tf.Tensor, low: float | tf.Tensor, high: float | tf.Tensor) -> tf.Tensor:
    return tf.random.stateless_uniform([n], seed, minval=low, maxval=high, dtype=tf.float32)


def _bool(seed: tf.Tensor, n: tf.Tensor, p: float) -> tf.Tensor:
    return tf.random.stateless_uniform([n], seed) < p


def _select(mask: tf.Tensor, new: tf.Tensor, old: tf.Tensor) -> tf.Tensor:
    """Whole images of ``new`` where ``mask`` (B,) is true, else of ``old`` (one row copy each)."""
    return tf.raw_ops.Select(condition=mask, x=new, y=old)


def _hw(batch: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    shape = tf.shape(batch)
    return shape[1], shape[2]


def _hw_float(image: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Height and width of one ``(H, W, C)`` image, as float32."""
    shape = tf.shape(image)
    return tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)


def _boxes(y0, x0, h, w, height, width, out_h: int, out_w: int) -> tf.Tensor:
    """``crop_and_resize`` boxes, in the coordinates of the image padded by one pixel (see
    :func:`_crop_and_resize`), that sample region ``[y0, y0+h) x [x0, x0+w)`` (pixel edges) at
    ``out_h x out_w`` pixel centres — the half-pixel convention of ``tf.image.resize``."""
    height = tf.cast(height, tf.float32) + 1.0  # (padded size - 1)
    width = tf.cast(width, tf.float32) + 1.0
    y1 = (y0 + 0.5 * h / out_h + 0.5) / height
    y2 = (y0 + h - 0.5 * h / out_h + 0.5) / height
    x1 = (x0 + 0.5 * w / out_w + 0.5) / width
    x2 = (x0 + w - 0.5 * w / out_w + 0.5) / width
    return tf.stack([y1, x1, y2, x2], axis=-1)


def _mirror_boxes(boxes: tf.Tensor, seed: tf.Tensor, p: float) -> tf.Tensor:
    """Swap x1 and x2 of each box with probability ``p``: ``crop_and_resize`` then samples the box
    right to left, which is the mirrored crop at no extra cost (no reverse, no select)."""
    if not p:
        return boxes
    flip = _bool(seed, tf.shape(boxes)[0], p)[:, None]
    return tf.where(flip, tf.gather(boxes, [0, 3, 2, 1], axis=1), boxes)


def _crop_and_resize(batch: tf.Tensor, boxes: tf.Tensor, size: tuple[int, int], method: str) -> tf.Tensor:
    """Resample boxes from :func:`_boxes`. The image is padded by one edge pixel so that samples
    within half a pixel of the border clamp to it, exactly as ``tf.image.resize`` does."""
    n = tf.shape(batch)[0]
    padded = tf.pad(batch, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
    out = tf.image.crop_and_resize(padded, boxes, tf.range(n), size, method=method)
    return tf.clip_by_value(out, 0.0, 1.0)


def _window_resize(
    image: tf.Tensor,
    seed: tf.Tensor,
    h: tf.Tensor,
    w: tf.Tensor,
    size: tuple[int, int],
    method: str | tf.Tensor,
    flip: float = 0.0,
) -> tf.Tensor:
    """One image ``(H, W, C)``: a window of ``h x w`` pixels (floats, rounded to whole pixels and
    clipped to the image) at a uniformly random integer position, resized to ``size`` with
    ``tf.image.resize`` (half-pixel centres, edges clamped), mirrored with probability ``flip``.
    ``method`` is ``"bilinear"``, ``"nearest"``, or a boolean tensor choosing nearest (true) or
    bilinear.

    This is how torchvision crops (integer box, then resize); on one image it is about twice as
    fast as padding and ``crop_and_resize``, which the batched path needs for per-image boxes."""
    height, width = _hw(image[tf.newaxis])
    hi = tf.clip_by_value(tf.cast(tf.round(h), tf.int32), 1, height)
    wi = tf.clip_by_value(tf.cast(tf.round(w), tf.int32), 1, width)
    s = split_seed(seed, 3)
    y0 = tf.random.stateless_uniform([], s[0], minval=0, maxval=height - hi + 1, dtype=tf.int32)
    x0 = tf.random.stateless_uniform([], s[1], minval=0, maxval=width - wi + 1, dtype=tf.int32)
    window = tf.slice(image, tf.stack([y0, x0, 0]), tf.stack([hi, wi, -1]))
    if flip:
        window = random_flip(window, s[2], p=flip)  # a window is smaller than the output
    if isinstance(method, str):
        out = tf.image.resize(window, size, method=method)
    else:
        out = tf.cond(
            method,
            lambda: tf.image.resize(window, size, method="nearest"),
            lambda: tf.image.resize(window, size, method="bilinear"),
        )
    out.set_shape([size[0], size[1], image.shape[-1]])
    return tf.clip_by_value(out, 0.0, 1.0)


# --------------------------------------------------------------------------------------------
# Geometric transforms.


def random_flip(image: tf.Tensor, seed: tf.Tensor, *, p: float = 0.5) -> tf.Tensor:
    """Mirror left-right with probability ``p`` (Krizhevsky et al. 2012, and every paper since)."""
    p = check_probability(p)
    image = tf.convert_to_tensor(image)
    if image.shape.rank == 3:  # one image: mirror it or not, nothing computed twice
        return tf.cond(_bool(seed, 1, p)[0], lambda: tf.reverse(image, axis=[1]), lambda: tf.identity(image))
    return _flip_batch(image, seed, p)


@_batched
def _flip_batch(image: tf.Tensor, seed: tf.Tensor, p: float) -> tf.Tensor:
    flip = _bool(seed, tf.shape(image)[0], p)
    return _select(flip, tf.reverse(image, axis=[2]), image)


def _integer_crops(image: tf.Tensor, oy: tf.Tensor, ox: tf.Tensor, h: int, w: int) -> tf.Tensor:
    """Per-image ``h x w`` crops at integer offsets (B,), exact pixel copies; pixels outside the
    image are zero (so offsets below 0 or past the edge give zero padding)."""
    height, width = _hw(image)
    dy = tf.cast(tf.maximum(height - 1, 1), tf.float32)
    dx = tf.cast(tf.maximum(width - 1, 1), tf.float32)
    # The box is shrunk by 1/1000 pixel at each end so that float rounding never moves a sample
    # on the image's edge outside it (or one outside it in); nearest-neighbour rounding then
    # lands every sample exactly on its pixel.
    eps = 1e-3
    oy, ox = tf.cast(oy, tf.float32), tf.cast(ox, tf.float32)
    boxes = tf.stack(
        [(oy + eps) / dy, (ox + eps) / dx, (oy + h - 1 - eps) / dy, (ox + w - 1 - eps) / dx], axis=1
    )
    return tf.image.crop_and_resize(
        image, boxes, tf.range(tf.shape(image)[0]), (h, w), method="nearest", extrapolation_value=0.0
    )


@_batched
def random_crop(image: tf.Tensor, seed: tf.Tensor, *, size: int | tuple[int, int]) -> tf.Tensor:
    """A ``size`` crop at a uniformly random position (AlexNet's 224 crops out of 256).

    Raises:
        ValueError: when ``size`` is larger than the image.
    """
    h, w = as_size(size)
    check_fits((h, w), image)
    height, width = _hw(image)
    n = tf.shape(image)[0]
    s = split_seed(seed, 2)
    with tf.control_dependencies(
        [tf.debugging.assert_less_equal([h, w], [height, width], message="crop larger than image")]
    ):
        oy = tf.random.stateless_uniform([n], s[0], minval=0, maxval=height - h + 1, dtype=tf.int32)
    ox = tf.random.stateless_uniform([n], s[1], minval=0, maxval=width - w + 1, dtype=tf.int32)
    return _integer_crops(image, oy, ox, h, w)


@_batched
def pad_and_crop(image: tf.Tensor, seed: tf.Tensor, *, padding: int = 4, mode: str = "constant") -> tf.Tensor:
    """Pad by ``padding`` pixels on each side, then crop back to the original size at random.

    The CIFAR-10 augmentation of He et al. 2015 (arXiv:1512.03385, Sec. 4.2: 4 pixels of zero
    padding, random 32x32 crop). ``mode`` is ``"constant"`` (zeros) or ``"reflect"``. With zeros
    the padding is never materialised: the crop simply reads zeros outside the image.
    """
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"`padding` must be an integer >= 0. Received: padding={padding!r}")
    _check_choice(mode, "mode", ("constant", "reflect"))
    height, width = image.shape[1], image.shape[2]
    if height is None or width is None:
        raise ValueError(f"`pad_and_crop` needs images of known size. Received: image.shape={image.shape}")
    if mode == "reflect":
        padded = tf.pad(image, [[0, 0], [padding, padding], [padding, padding], [0, 0]], mode="REFLECT")
        return random_crop(padded, seed, size=(height, width))
    n = tf.shape(image)[0]
    s = split_seed(seed, 2)
    oy = tf.random.stateless_uniform([n], s[0], minval=-padding, maxval=padding + 1, dtype=tf.int32)
    ox = tf.random.stateless_uniform([n], s[1], minval=-padding, maxval=padding + 1, dtype=tf.int32)
    return _integer_crops(image, oy, ox, height, width)


def random_resized_crop(
    image: tf.Tensor,
    seed: tf.Tensor,
    *,
    size: int | tuple[int, int],
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    interpolation: str = "bilinear",
    flip: float = 0.0,
) -> tf.Tensor:
    """A crop of random area and aspect ratio, resized to ``size`` (GoogLeNet, arXiv:1409.4842).

    Szegedy et al. 2014: "patches of various sizes … distributed evenly between 8% and 100% of the
    image area with aspect ratio constrained to [3/4, 4/3]". The area fraction is uniform in
    ``scale``, the log aspect ratio uniform in ``log(ratio)``; a crop that would not fit is clipped
    to the image. ``interpolation="random"`` picks bilinear or nearest-neighbour per image (the
    paper also drew area and bicubic, which ``tf.image.crop_and_resize`` does not offer).

    ``flip`` is the probability of mirroring the crop left-right, fused into the resampling (the
    same result as :func:`random_flip` afterwards, without its extra passes over the image).

    A batch draws continuous boxes resampled in one ``crop_and_resize``; one image ``(H, W, C)``
    (how the pipeline augments images larger than 64x64) gets its box rounded to whole pixels and
    resized with ``tf.image.resize``, as torchvision does — about twice as fast per image.
    """
    out_h, out_w = as_size(size)
    lo, hi = _check_range(scale, "scale", low=0.0, positive=True)
    if hi > 1.0:
        raise ValueError(f"`scale` must lie in (0, 1]. Received: scale={scale!r}")
    r0, r1 = _check_range(ratio, "ratio", positive=True)
    _check_choice(interpolation, "interpolation", INTERPOLATIONS)
    flip = check_probability(flip, "flip")
    image = tf.convert_to_tensor(image)
    if image.shape.rank == 3:
        hf, wf = _hw_float(image)
        s = split_seed(seed, 4)
        area = _uniform(s[0], 1, lo, hi)[0] * hf * wf
        aspect = tf.exp(_uniform(s[1], 1, math.log(r0), math.log(r1))[0])
        method = _bool(s[3], 1, 0.5)[0] if interpolation == "random" else interpolation
        return _window_resize(
            image, s[2], tf.sqrt(area / aspect), tf.sqrt(area * aspect), (out_h, out_w), method, flip
        )
    return _random_resized_crop_batch(image, seed, out_h, out_w, lo, hi, r0, r1, interpolation, flip)


@_batched
def _random_resized_crop_batch(
    image: tf.Tensor,
    seed: tf.Tensor,
    out_h: int,
    out_w: int,
    lo: float,
    hi: float,
    r0: float,
    r1: float,
    interpolation: str,
    flip: float,
) -> tf.Tensor:
    height, width = _hw(image)
    hf, wf = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    n = tf.shape(image)[0]
    s = split_seed(seed, 6)
    area = _uniform(s[0], n, lo, hi) * hf * wf
    aspect = tf.exp(_uniform(s[1], n, math.log(r0), math.log(r1)))
    w = tf.clip_by_value(tf.sqrt(area * aspect), 1.0, wf)
    h = tf.clip_by_value(tf.sqrt(area / aspect), 1.0, hf)
    y0 = _uniform(s[2], n, 0.0, 1.0) * (hf - h)
    x0 = _uniform(s[3], n, 0.0, 1.0) * (wf - w)
    boxes = _mirror_boxes(_boxes(y0, x0, h, w, height, width, out_h, out_w), s[5], flip)
    if interpolation != "random":
        return _crop_and_resize(image, boxes, (out_h, out_w), interpolation)
    bilinear = _crop_and_resize(image, boxes, (out_h, out_w), "bilinear")
    nearest = _crop_and_resize(image, boxes, (out_h, out_w), "nearest")
    return _select(_bool(s[4], n, 0.5), nearest, bilinear)


def scale_jitter(
    image: tf.Tensor,
    seed: tf.Tensor,
    *,
    size: int | tuple[int, int],
    scale_range: tuple[float, float] = (256, 512),
    flip: float = 0.0,
) -> tf.Tensor:
    """VGG's scale jittering: shorter side rescaled to ``S ~ U[scale_range]``, random ``size`` crop.

    Simonyan & Zisserman 2014 (arXiv:1409.1556, Sec. 3.1) sample ``S`` from [256, 512] for 224
    crops; ResNet uses [256, 480]. For small images pass a range scaled to the crop, e.g.
    ``(36, 73)`` for 32x32 crops. Only the crop is computed: for a batch, resize and crop are fused
    into one ``crop_and_resize`` (bilinear, half-pixel centres), so a batch with a different ``S``
    per image is one op; for one image ``(H, W, C)`` (how the pipeline augments images larger than
    64x64) the source window is rounded to whole pixels and resized with ``tf.image.resize`` —
    about twice as fast per image, with ``S`` rounded to the window's pixel grid.

    A crop larger than the rescaled image is clipped to it (and stretched to ``size``). ``flip``
    is the probability of mirroring the crop, fused into the resampling as in
    :func:`random_resized_crop`.

    Raises:
        ValueError: when ``scale_range`` goes below the crop's shorter side.
    """
    out_h, out_w = as_size(size)
    lo, hi = _check_range(scale_range, "scale_range", positive=True)
    if lo < min(out_h, out_w):
        raise ValueError(
            f"`scale_range` must start at or above the crop's shorter side {min(out_h, out_w)} (the "
            f"rescaled image must hold the crop). Received: scale_range={scale_range!r}"
        )
    flip = check_probability(flip, "flip")
    image = tf.convert_to_tensor(image)
    if image.shape.rank == 3:
        hf, wf = _hw_float(image)
        s = split_seed(seed, 2)
        factor = _uniform(s[0], 1, lo, hi)[0] / tf.minimum(hf, wf)
        return _window_resize(image, s[1], out_h / factor, out_w / factor, (out_h, out_w), "bilinear", flip)
    return _scale_jitter_batch(image, seed, out_h, out_w, lo, hi, flip)


@_batched
def _scale_jitter_batch(
    image: tf.Tensor, seed: tf.Tensor, out_h: int, out_w: int, lo: float, hi: float, flip: float
) -> tf.Tensor:
    height, width = _hw(image)
    hf, wf = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    n = tf.shape(image)[0]
    s = split_seed(seed, 4)
    shorter = _uniform(s[0], n, lo, hi)
    factor = shorter / tf.minimum(hf, wf)  # output pixels per input pixel
    h = tf.minimum(out_h / factor, hf)
    w = tf.minimum(out_w / factor, wf)
    y0 = _uniform(s[1], n, 0.0, 1.0) * (hf - h)
    x0 = _uniform(s[2], n, 0.0, 1.0) * (wf - w)
    boxes = _mirror_boxes(_boxes(y0, x0, h, w, height, width, out_h, out_w), s[3], flip)
    return _crop_and_resize(image, boxes, (out_h, out_w), "bilinear")


def affine_matrices(
    n: tf.Tensor,
    height: tf.Tensor,
    width: tf.Tensor,
    *,
    angle: tf.Tensor | float = 0.0,
    scale_x: tf.Tensor | float = 1.0,
    scale_y: tf.Tensor | float = 1.0,
    shear: tf.Tensor | float = 0.0,
    shift_x: tf.Tensor | float = 0.0,
    shift_y: tf.Tensor | float = 0.0,
) -> tf.Tensor:
    """The ``(n, 8)`` output-to-input transforms of ``ImageProjectiveTransformV3`` for the affine
    map ``p' = c + t + R(angle) Sh(shear) S(scale) (p - c)`` about the image centre ``c``.

    ``angle`` and ``shear`` are radians (shear is horizontal: ``x' = x + tan(shear) y``), shifts
    are pixels, each a scalar or one value per image.
    """
    def vec(v: Any) -> tf.Tensor:
        return tf.broadcast_to(tf.cast(v, tf.float32), [n])

    angle, sx, sy, shear, tx, ty = (vec(v) for v in (angle, scale_x, scale_y, shear, shift_x, shift_y))
    cos, sin, tan = tf.cos(angle), tf.sin(angle), tf.tan(shear)
    # A = R @ Sh @ S
    a00, a01 = cos * sx, (cos * tan - sin) * sy
    a10, a11 = sin * sx, (sin * tan + cos) * sy
    det = a00 * a11 - a01 * a10
    i00, i01, i10, i11 = a11 / det, -a01 / det, -a10 / det, a00 / det
    cx = (tf.cast(width, tf.float32) - 1.0) / 2.0
    cy = (tf.cast(height, tf.float32) - 1.0) / 2.0
    # p = c + A^-1 (p' - c - t)
    ux, uy = cx + tx, cy + ty
    off_x = cx - (i00 * ux + i01 * uy)
    off_y = cy - (i10 * ux + i11 * uy)
    zeros = tf.zeros_like(angle)
    return tf.stack([i00, i01, off_x, i10, i11, off_y, zeros, zeros], axis=1)


@_batched
def affine_transform(
    image: tf.Tensor,
    transforms: tf.Tensor,
    *,
    interpolation: str = "bilinear",
    fill_mode: str = "constant",
    fill_value: float = 0.0,
) -> tf.Tensor:
    """Apply ``(B, 8)`` projective transforms (output pixel -> input pixel), one per image."""
    _check_choice(interpolation, "interpolation", ("bilinear", "nearest"))
    _check_choice(fill_mode, "fill_mode", FILL_MODES)
    if _fast_affine(image, interpolation, fill_mode, fill_value):
        return _affine_sample_xla(image, tf.cast(transforms, tf.float32))
    height, width = _hw(image)
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=image,
        transforms=tf.cast(transforms, tf.float32),
        output_shape=tf.stack([height, width]),
        fill_value=tf.cast(fill_value, tf.float32),
        interpolation=interpolation.upper(),
        fill_mode=fill_mode.upper(),
    )
    out.set_shape(image.shape)
    return out


def _fast_affine(image: tf.Tensor, interpolation: str, fill_mode: str, fill_value: Any) -> bool:
    """Whether :func:`_affine_sample` can stand in for ``ImageProjectiveTransformV3``: bilinear,
    zeros outside, float32 images of a size known when the function is traced (so XLA compiles
    it once per shape, not once per image of a folder of many sizes)."""
    return (
        interpolation == "bilinear" and fill_mode == "constant" and image.dtype == tf.float32
        and isinstance(fill_value, (int, float)) and fill_value == 0 and image.shape[1:3].is_fully_defined()
    )


def _affine_sample(image: tf.Tensor, transforms: tf.Tensor) -> tf.Tensor:
    """``ImageProjectiveTransformV3`` (bilinear, zeros outside) written with gathers, for XLA.

    The same float32 coordinates and sampling, equal to the op within float rounding. Compiled
    by XLA (:data:`_affine_sample_xla`) it takes about a quarter of the op's CPU time: the op costs
    about 17 ns per output pixel on the project's 2-core machine (1.1 ms for 64 images of 32x32,
    a seventh of a LeNet-5 training step), the fused kernel about 5 ns (docs/benchmarks/data.md).
    """
    height, width = _hw(image)
    yy, xx = tf.meshgrid(tf.range(height, dtype=tf.float32), tf.range(width, dtype=tf.float32), indexing="ij")
    a0, a1, a2, b0, b1, b2, c0, c1 = (transforms[:, i, None, None] for i in range(8))
    k = c0 * xx + c1 * yy + 1.0
    at_infinity = tf.equal(k, 0.0)  # the op fills these; -2 is outside, so is filled here too
    k = tf.where(at_infinity, 1.0, k)
    xs = tf.where(at_infinity, -2.0, (a0 * xx + a1 * yy + a2) / k)
    ys = tf.where(at_infinity, -2.0, (b0 * xx + b1 * yy + b2) / k)
    return bilinear_sample(image, ys, xs)


_affine_sample_xla = tf.function(_affine_sample, jit_compile=True)


def _affine_from_draws(u: tf.Tensor, low: tf.Tensor, high: tf.Tensor, height: tf.Tensor, width: tf.Tensor) -> tf.Tensor:
    """:func:`random_affine`'s transforms from uniform draws ``u`` (6, B) in [0, 1) and the ranges
    of rotation (rad), scale, log-squeeze, shear (rad) and the x/y shifts (fractions)."""
    angle, zoom, q, shear, tx, ty = tf.unstack(low[:, None] + (high - low)[:, None] * u)
    q = tf.exp(q)
    return affine_matrices(
        tf.shape(u)[1], height, width, angle=angle, scale_x=zoom * q, scale_y=zoom / q, shear=shear,
        shift_x=tx * tf.cast(width, tf.float32), shift_y=ty * tf.cast(height, tf.float32),
    )


@tf.function(jit_compile=True)
def _random_affine_xla(image: tf.Tensor, u: tf.Tensor, low: tf.Tensor, high: tf.Tensor) -> tf.Tensor:
    """The transforms and the warp of :func:`random_affine` in one XLA kernel (the random draws
    stay outside: XLA's stateless generator gives other numbers than TensorFlow's)."""
    height, width = _hw(image)
    return _affine_sample(image, _affine_from_draws(u, low, high, height, width))


@_batched
def random_affine(
    image: tf.Tensor,
    seed: tf.Tensor,
    *,
    rotation: float = 0.0,
    scale: tuple[float, float] = (1.0, 1.0),
    squeeze: float = 0.0,
    shear: float = 0.0,
    translate: float = 0.0,
    fill_mode: str = "constant",
    interpolation: str = "bilinear",
) -> tf.Tensor:
    """LeNet-5's random distortions, one affine map per image (LeCun et al. 1998, Proc. IEEE).

    "Horizontal and vertical translations, scaling, squeezing (simultaneous horizontal compression
    and vertical elongation, or the reverse) and horizontal shearing", plus rotation.

    Args:
        image: float image(s) in [0, 1].
        seed: stateless seed, shape ``(2,)``.
        rotation: maximum rotation in degrees (uniform in ``±rotation``).
        scale: range of the isotropic scale factor.
        squeeze: maximum log aspect change (x scaled by ``e^q``, y by ``e^-q``).
        shear: maximum horizontal shear angle in degrees.
        translate: maximum shift as a fraction of the width/height.
        fill_mode: how to fill pixels mapped from outside (``"constant"``: zeros).
        interpolation: ``"bilinear"`` or ``"nearest"``.
    """
    rotation, squeeze, shear, translate = (
        _check_nonneg(v, k) for v, k in ((rotation, "rotation"), (squeeze, "squeeze"), (shear, "shear"), (translate, "translate"))
    )
    s0, s1 = _check_range(scale, "scale", positive=True)
    rad = math.pi / 180.0
    low = tf.constant([-rotation * rad, s0, -squeeze, -shear * rad, -translate, -translate], tf.float32)
    high = tf.constant([rotation * rad, s1, squeeze, shear * rad, translate, translate], tf.float32)
    u = tf.random.stateless_uniform(tf.stack([6, tf.shape(image)[0]]), seed, dtype=tf.float32)
    if _fast_affine(image, interpolation, fill_mode, 0.0):
        return _random_affine_xla(image, u, low, high)
    height, width = _hw(image)
    transforms = _affine_from_draws(u, low, high, height, width)
    return affine_transform(image, transforms, interpolation=interpolation, fill_mode=fill_mode)


def _gaussian_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(round(3 * sigma)))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


@_batched
def elastic_distort(image: tf.Tensor, seed: tf.Tensor, *, alpha: float = 34.0, sigma: float = 4.0) -> tf.Tensor:
    """Elastic distortion (Simard, Steinkraus & Platt 2003, ICDAR).

    A random displacement field, uniform in [-1, 1] per pixel and direction, is smoothed by a
    normalised Gaussian of standard deviation ``sigma`` pixels and scaled by ``alpha``; the image
    is resampled bilinearly along it (zeros outside). The defaults are the paper's values for
    28x28 digits (about 1.4 pixels of typical displacement).
    """
    alpha = _check_nonneg(alpha, "alpha")
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not sigma > 0:
        raise ValueError(f"`sigma` must be > 0. Received: sigma={sigma!r}")
    height, width = _hw(image)
    n = tf.shape(image)[0]
    field = tf.random.stateless_uniform(tf.stack([n, height, width, 2]), seed, -1.0, 1.0)
    k = tf.constant(_gaussian_kernel(float(sigma)))
    kx = tf.tile(k[None, :, None, None], [1, 1, 2, 1])
    ky = tf.tile(k[:, None, None, None], [1, 1, 2, 1])
    field = tf.nn.depthwise_conv2d(field, kx, [1, 1, 1, 1], "SAME")
    field = tf.nn.depthwise_conv2d(field, ky, [1, 1, 1, 1], "SAME") * alpha
    yy, xx = tf.meshgrid(tf.range(height), tf.range(width), indexing="ij")
    ys = tf.cast(yy, tf.float32)[None] + field[..., 0]
    xs = tf.cast(xx, tf.float32)[None] + field[..., 1]
    return bilinear_sample(image, ys, xs)


def bilinear_sample(batch: tf.Tensor, ys: tf.Tensor, xs: tf.Tensor) -> tf.Tensor:
    """Sample ``batch`` (B, H, W, C) at float pixel coordinates ``ys``, ``xs`` (B, h, w); zeros
    outside the image.

    The batch is padded by zeros (one pixel before, two after) and the coordinates clipped to
    ``[-1, size]``, so every tap reads inside the padded image and a tap outside the image reads a
    zero: four flat gathers and no masks.
    """
    shape = tf.shape(batch)
    n, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    ys = tf.clip_by_value(ys, -1.0, tf.cast(height, tf.float32))
    xs = tf.clip_by_value(xs, -1.0, tf.cast(width, tf.float32))
    y0, x0 = tf.floor(ys), tf.floor(xs)
    wy, wx = (ys - y0)[..., None], (xs - x0)[..., None]
    padded_w = width + 3
    flat = tf.reshape(tf.pad(batch, [[0, 0], [1, 2], [1, 2], [0, 0]]), tf.stack([-1, channels]))
    first = (
        tf.range(n)[:, None, None] * ((height + 3) * padded_w)
        + (tf.cast(y0, tf.int32) + 1) * padded_w + tf.cast(x0, tf.int32) + 1
    )

    def tap(offset: tf.Tensor | int) -> tf.Tensor:
        return tf.gather(flat, first + offset)

    top = tap(0) * (1 - wx) + tap(1) * wx
    bottom = tap(padded_w) * (1 - wx) + tap(padded_w + 1) * wx
    return top * (1 - wy) + bottom * wy


@_batched
def cutout(
    image: tf.Tensor,
    seed: tf.Tensor,
    *,
    size: int = 16,
    p: float = 1.0,
    fill: float | Sequence[float] = 0.5,
) -> tf.Tensor:
    """Cutout (DeVries & Taylor 2017, arXiv:1708.04552): blank a ``size`` square at a random centre.

    The centre is uniform over the image, so the square may be partly outside it (as in the paper).
    ``fill`` is the value in [0, 1] (one per channel, or one for all) — the dataset mean gives the
    paper's zero after normalisation.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"`size` must be a positive integer. Received: size={size!r}")
    p = check_probability(p)
    height, width = _hw(image)
    n = tf.shape(image)[0]
    s = split_seed(seed, 3)
    cy = tf.random.stateless_uniform([n], s[0], minval=0, maxval=height, dtype=tf.int32)
    cx = tf.random.stateless_uniform([n], s[1], minval=0, maxval=width, dtype=tf.int32)
    apply = _bool(s[2], n, p)
    y0, x0 = cy - size // 2, cx - size // 2
    rows = tf.range(height)[None, :]
    cols = tf.range(width)[None, :]
    in_rows = (rows >= y0[:, None]) & (rows < (y0 + size)[:, None]) & apply[:, None]
    in_cols = (cols >= x0[:, None]) & (cols < (x0 + size)[:, None])
    mask = in_rows[:, :, None, None] & in_cols[:, None, :, None]
    fill = tf.cast(tf.reshape(tf.constant(fill, tf.float32), [-1]), image.dtype)
    return tf.where(mask, tf.broadcast_to(fill, tf.shape(image)[-1:]), image)


# --------------------------------------------------------------------------------------------
# Photometric transforms.


@_batched
def random_brightness(image: tf.Tensor, seed: tf.Tensor, *, max_delta: float = 32 / 255) -> tf.Tensor:
    """Add ``delta ~ U[-max_delta, max_delta]`` to every pixel (Howard 2013, arXiv:1312.5402)."""
    d = _check_nonneg(max_delta, "max_delta")
    delta = _uniform(seed, tf.shape(image)[0], -d, d)
    return tf.clip_by_value(image + delta[:, None, None, None], 0.0, 1.0)


@_batched
def random_contrast(image: tf.Tensor, seed: tf.Tensor, *, lower: float = 0.5, upper: float = 1.5) -> tf.Tensor:
    """Scale each channel's deviation from its mean by ``f ~ U[lower, upper]`` (Howard 2013)."""
    lo, hi = _check_range((lower, upper), "(lower, upper)", low=0.0)
    f = _uniform(seed, tf.shape(image)[0], lo, hi)[:, None, None, None]
    mean = tf.reduce_mean(image, axis=[1, 2], keepdims=True)
    return tf.clip_by_value((image - mean) * f + mean, 0.0, 1.0)


@_batched
def random_saturation(image: tf.Tensor, seed: tf.Tensor, *, lower: float = 0.5, upper: float = 1.5) -> tf.Tensor:
    """Blend RGB with its grey version by ``f ~ U[lower, upper]`` (Howard 2013); grey images are
    returned unchanged."""
    lo, hi = _check_range((lower, upper), "(lower, upper)", low=0.0)
    if image.shape[-1] != 3:
        return image
    f = _uniform(seed, tf.shape(image)[0], lo, hi)[:, None, None, None]
    grey = tf.image.rgb_to_grayscale(image)
    return tf.clip_by_value(grey + (image - grey) * f, 0.0, 1.0)


def color_jitter(
    image: tf.Tensor,
    seed: tf.Tensor,
    *,
    brightness: float = 32 / 255,
    contrast: float = 0.5,
    saturation: float = 0.5,
) -> tf.Tensor:
    """Brightness, contrast and saturation jitter in turn (Howard 2013's photometric distortions,
    as used for GoogLeNet): ``brightness`` is the maximum delta, ``contrast``/``saturation`` the
    maximum relative change (factor in ``[1 - x, 1 + x]``); 0 switches one off."""
    s = split_seed(seed, 3)
    for name, value in (("contrast", contrast), ("saturation", saturation)):
        if not 0 <= value <= 1:
            raise ValueError(f"`{name}` must be in [0, 1]. Received: {name}={value!r}")
    if brightness:
        image = random_brightness(image, s[0], max_delta=brightness)
    if contrast:
        image = random_contrast(image, s[1], lower=1 - contrast, upper=1 + contrast)
    if saturation:
        image = random_saturation(image, s[2], lower=1 - saturation, upper=1 + saturation)
    return image


def pca_shift(image: tf.Tensor, alpha: tf.Tensor, eigvals: tf.Tensor, eigvecs: tf.Tensor) -> tf.Tensor:
    """AlexNet's colour shift for given ``alpha``: ``image + eigvecs @ (alpha * eigvals)``, clipped.

    ``alpha`` is ``(C,)`` for one image or ``(B, C)`` for a batch; ``eigvecs`` has the principal
    components as columns.
    """
    image = tf.convert_to_tensor(image, tf.float32)
    alpha = tf.cast(alpha, tf.float32)
    shift = tf.linalg.matvec(tf.cast(eigvecs, tf.float32), alpha * tf.cast(eigvals, tf.float32))
    if image.shape.rank == 4:
        shift = shift[:, None, None, :]
    return tf.clip_by_value(image + shift, 0.0, 1.0)


@dataclass(eq=False)
class PCALighting:
    """AlexNet's "PCA colour augmentation" (Krizhevsky et al. 2012, Sec. 4.1).

    Adds ``sum_i p_i * alpha_i * lambda_i`` to every pixel, with ``p_i, lambda_i`` the
    eigenvectors/eigenvalues of the 3x3 covariance of the training set's RGB pixels (values in
    [0, 1]) and ``alpha_i ~ N(0, std)`` drawn once per image. This is the one transform with state:
    the components, computed once from data (:meth:`from_images`, :meth:`from_dataset`, cached per
    dataset by :func:`pca_for_dataset`).

    Attributes:
        eigvals: ``(C,)`` eigenvalues, largest first.
        eigvecs: ``(C, C)`` matrix whose columns are the components.
        std: standard deviation of ``alpha`` (0.1 in the paper).
    """

    eigvals: np.ndarray
    eigvecs: np.ndarray
    std: float = 0.1

    def __post_init__(self) -> None:
        self.eigvals = np.asarray(self.eigvals, np.float32).reshape(-1)
        self.eigvecs = np.asarray(self.eigvecs, np.float32)
        c = self.eigvals.shape[0]
        if self.eigvecs.shape != (c, c):
            raise ValueError(
                f"`eigvecs` must be a ({c}, {c}) matrix for {c} eigenvalues. "
                f"Received: eigvecs.shape={self.eigvecs.shape}"
            )
        _check_nonneg(self.std, "std")

    @classmethod
    def from_images(cls, images: Any, *, std: float = 0.1, max_pixels: int = 2_000_000, seed: int = 0) -> PCALighting:
        """Components of the pixel covariance of ``images`` (``(..., C)``, uint8 or float [0, 1])."""
        images = np.asarray(images)
        scale = 1 / 255.0 if images.dtype == np.uint8 else 1.0
        pixels = images.reshape(-1, images.shape[-1]).astype(np.float64) * scale
        if len(pixels) > max_pixels:
            pixels = pixels[np.random.default_rng(seed).choice(len(pixels), max_pixels, replace=False)]
        return cls.from_pixels(pixels, std=std)

    @classmethod
    def from_pixels(cls, pixels: np.ndarray, *, std: float = 0.1) -> PCALighting:
        """Components of ``(N, C)`` pixel values in [0, 1]."""
        if pixels.ndim != 2 or len(pixels) < 2:
            raise ValueError(f"`pixels` must be (N >= 2, C). Received: shape={pixels.shape}")
        cov = np.atleast_2d(np.cov(pixels, rowvar=False))
        vals, vecs = np.linalg.eigh(cov)
        order = np.argsort(vals)[::-1]
        return cls(np.clip(vals[order], 0, None), vecs[:, order], std=std)

    @classmethod
    def from_dataset(
        cls, ds: tf.data.Dataset, *, max_images: int = 2000, pixels_per_image: int = 1024, std: float = 0.1, seed: int = 0
    ) -> PCALighting:
        """Components from up to ``max_images`` ``(image, label)`` pairs (uint8 images), sampling
        ``pixels_per_image`` pixels of each (any image sizes)."""

        def sample(image: tf.Tensor, *_: Any) -> tf.Tensor:
            flat = tf.reshape(tf.image.convert_image_dtype(image, tf.float32), [-1, tf.shape(image)[-1]])
            idx = tf.random.stateless_uniform(
                [pixels_per_image], [seed, 0], minval=0, maxval=tf.shape(flat)[0], dtype=tf.int32
            )
            return tf.gather(flat, idx)

        chunks = [c for c in ds.take(max_images).map(sample, num_parallel_calls=tf.data.AUTOTUNE).batch(256).as_numpy_iterator()]
        if not chunks:
            raise ValueError("Cannot compute colour PCA components from an empty dataset.")
        pixels = np.concatenate([c.reshape(-1, c.shape[-1]) for c in chunks]).astype(np.float64)
        return cls.from_pixels(pixels, std=std)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable components (for caching to a file)."""
        return dict(eigvals=self.eigvals.tolist(), eigvecs=self.eigvecs.tolist(), std=self.std)

    def __call__(self, image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        """Shift the colours of ``image`` (one or a batch) by a random ``alpha`` per image."""
        image = tf.convert_to_tensor(image)
        c = int(self.eigvals.shape[0])
        shape = [c] if image.shape.rank == 3 else tf.stack([tf.shape(image)[0], c])
        alpha = tf.random.stateless_normal(shape, seed, stddev=self.std)
        return pca_shift(image, alpha, self.eigvals, self.eigvecs)


_PCA_CACHE: dict[tuple, PCALighting] = {}


def pca_for_dataset(info: Any | None, *, std: float = 0.1) -> PCALighting:
    """The colour components of a dataset's training split, computed once per process and cached.

    Uses ``info.extra["pca"]`` when the loader provides published components (ImageNet and its
    subsets), otherwise loads the train split again with the loader's own arguments
    (``info.extra["load_args"]``) and samples its pixels. With ``info=None``: ImageNet's.
    """
    if info is None:
        return PCALighting(std=std, **IMAGENET_PCA)
    extra = getattr(info, "extra", {}) or {}
    if "pca" in extra:
        return PCALighting(std=std, **{k: extra["pca"][k] for k in ("eigvals", "eigvecs")})
    load_args = dict(extra.get("load_args", {}))
    key = (info.name, tuple(sorted((k, repr(v)) for k, v in load_args.items())))
    if key not in _PCA_CACHE:
        from kerascv_course.data.datasets import load_dataset

        log.info("Computing colour PCA components of %s (train split), once per process.", info.name)
        ds, _ = load_dataset(info.name, "train", **load_args)
        _PCA_CACHE[key] = PCALighting.from_dataset(ds)
    cached = _PCA_CACHE[key]
    return PCALighting(cached.eigvals, cached.eigvecs, std=std)


# --------------------------------------------------------------------------------------------
# Policies.


@dataclass(frozen=True)
class Policy:
    """A named list of transforms, callable as a pipeline ``augment``: ``(image, label, seed)``.

    Attributes:
        name: the policy's name.
        transforms: the transforms ``(image, seed) -> image``, applied in order, each with its own
            seed split from the one given.
        output_size: ``(h, w)`` when the policy sets the output size itself (crops that resize);
            the pipeline then feeds it the images at their stored size. ``None``: size kept.
        batched: every transform also takes a batch, so the pipeline may apply it per batch.
    """

    name: str
    transforms: tuple[Transform, ...]
    output_size: tuple[int, int] | None = None
    batched: bool = True

    def apply(self, image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        """The transforms applied to ``image`` (one or a batch)."""
        seeds = split_seed(seed, max(1, len(self.transforms)))
        for i, transform in enumerate(self.transforms):
            image = transform(image, seeds[i])
        return image

    def __call__(self, image: tf.Tensor, label: tf.Tensor, seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return self.apply(image, seed), label


PolicyBuilder = Callable[..., Policy]
_POLICIES: dict[str, PolicyBuilder] = {}


def _policy(name: str) -> Callable[[PolicyBuilder], PolicyBuilder]:
    def decorator(fn: PolicyBuilder) -> PolicyBuilder:
        _POLICIES[name] = fn
        return fn

    return decorator


def list_policies(task: str = "classification") -> list[str]:
    """Names accepted by :func:`get_policy` for ``task`` (``"none"`` included)."""
    _check_choice(task, "task", ("classification", "segmentation"))
    if task == "segmentation":
        from kerascv_course.data.segmentation import list_joint_policies

        return list_joint_policies()
    return sorted(["none", *_POLICIES])


def _fill(info: Any | None) -> tuple[float, ...] | float:
    mean = getattr(info, "mean", None)
    return tuple(mean) if mean else 0.5


def _scaled(side: int, low: float, high: float) -> tuple[float, float]:
    return (side * low / 224.0, side * high / 224.0)


@_policy("lenet")
def _lenet(
    size: tuple[int, int] | None,
    info: Any,
    *,
    rotation: float = 0.0,
    scale: tuple[float, float] = (0.9, 1.1),
    squeeze: float = 0.1,
    shear: float = 10.0,
    translate: float = 0.08,
    elastic: bool = False,
    elastic_alpha: float = 34.0,
    elastic_sigma: float = 4.0,
) -> Policy:
    transforms: list[Transform] = [
        functools.partial(
            random_affine, rotation=rotation, scale=scale, squeeze=squeeze, shear=shear, translate=translate
        )
    ]
    if elastic:
        transforms.append(functools.partial(elastic_distort, alpha=elastic_alpha, sigma=elastic_sigma))
    return Policy("lenet", tuple(transforms))


def _crop_policy(
    name: str, size: tuple[int, int] | None, info: Any, scale_range: tuple[float, float], flip: bool, pca_std: float
) -> Policy:
    # the flip is fused into the crop's resampling (see scale_jitter)
    transforms: list[Transform] = [
        functools.partial(scale_jitter, size=size, scale_range=scale_range, flip=0.5 if flip else 0.0)
    ]
    if pca_std:
        transforms.append(pca_for_dataset(info, std=pca_std))
    return Policy(name, tuple(transforms), output_size=size)


@_policy("alexnet")
def _alexnet(
    size: tuple[int, int], info: Any, *, resize: float | None = None, flip: bool = True, pca_std: float = 0.1
) -> Policy:
    side = resize if resize is not None else max(size) * 256 / 224
    return _crop_policy("alexnet", size, info, (side, side), flip, pca_std)


@_policy("vgg")
def _vgg(
    size: tuple[int, int], info: Any, *, scale_range: tuple[float, float] | None = None, flip: bool = True, pca_std: float = 0.1
) -> Policy:
    return _crop_policy("vgg", size, info, scale_range or _scaled(max(size), 256, 512), flip, pca_std)


@_policy("resnet")
def _resnet(
    size: tuple[int, int], info: Any, *, scale_range: tuple[float, float] | None = None, flip: bool = True, pca_std: float = 0.1
) -> Policy:
    return _crop_policy("resnet", size, info, scale_range or _scaled(max(size), 256, 480), flip, pca_std)


@_policy("inception")
def _inception(
    size: tuple[int, int],
    info: Any,
    *,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    interpolation: str = "random",
    flip: bool = True,
    brightness: float = 32 / 255,
    contrast: float = 0.5,
    saturation: float = 0.5,
) -> Policy:
    transforms: list[Transform] = [
        functools.partial(
            random_resized_crop, size=size, scale=scale, ratio=ratio, interpolation=interpolation,
            flip=0.5 if flip else 0.0,
        )
    ]
    transforms.append(functools.partial(color_jitter, brightness=brightness, contrast=contrast, saturation=saturation))
    return Policy("inception", tuple(transforms), output_size=size)


@_policy("cifar")
def _cifar(
    size: tuple[int, int] | None,
    info: Any,
    *,
    padding: int = 4,
    mode: str = "constant",
    flip: bool = True,
    cutout_size: int = 0,
) -> Policy:
    transforms: list[Transform] = [functools.partial(pad_and_crop, padding=padding, mode=mode)]
    if flip:
        transforms.append(random_flip)
    if cutout_size:
        transforms.append(functools.partial(cutout, size=cutout_size, fill=_fill(info)))
    return Policy("cifar", tuple(transforms))


_SIZED = ("alexnet", "vgg", "resnet", "inception")


def get_policy(
    name: str,
    *,
    task: str = "classification",
    image_size: int | tuple[int, int] | None = None,
    info: Any | None = None,
    **options: Any,
) -> Augment | None:
    """The ``augment`` callable of a named policy, ready for :func:`make_pipeline`.

    Args:
        name: one of :func:`list_policies` (``"none"`` returns ``None``); for segmentation one
            of ``list_policies("segmentation")``.
        task: ``"classification"``, or ``"segmentation"`` (delegates to
            :func:`kerascv_course.data.segmentation.joint_policy`, which moves masks with images).
        image_size: the model's input size; the cropping policies (alexnet, vgg, resnet,
            inception) output exactly this size. Defaults to the dataset's fixed image size.
        info: the dataset's :class:`~kerascv_course.data.DatasetInfo` (colour PCA components,
            mean for cutout fill, image size).
        **options: the policy's own options, e.g. ``cutout_size=16`` for ``cifar``,
            ``scale_range=(36, 73)`` for ``vgg``, ``elastic=True`` for ``lenet``.

    Returns:
        A :class:`Policy` (``(image, label, seed) -> (image, label)``), or ``None`` for ``"none"``.

    Raises:
        ValueError: for an unknown policy, task or option, or a cropping policy without a size.

    Example:
        >>> augment = get_policy("vgg", image_size=224, info=info)
        >>> train = make_pipeline(ds, info, training=True, batch_size=32, image_size=224,
        ...                       augment=augment)
    """
    _check_choice(task, "task", ("classification", "segmentation"))
    if task == "segmentation":
        from kerascv_course.data.segmentation import joint_policy

        return joint_policy(name, image_size=image_size, **options)
    valid = list_policies()
    if name not in valid:
        raise ValueError(f"Unknown augmentation policy {name!r}; valid policies: {', '.join(valid)}. Received: name={name!r}")
    if name == "none":
        if options:
            raise ValueError(f"Policy 'none' takes no options. Received: {options}")
        return None
    builder = _POLICIES[name]
    allowed = [p for p, v in inspect.signature(builder).parameters.items() if v.kind is v.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"Unknown option(s) {', '.join(unknown)} for policy {name!r}; its options: "
            f"{', '.join(allowed)}. Received: {', '.join(f'{k}={options[k]!r}' for k in unknown)}"
        )
    size = None
    if image_size is not None:
        size = as_size(image_size, "image_size")
    elif info is not None and None not in tuple(info.image_shape[:2]):
        size = (int(info.image_shape[0]), int(info.image_shape[1]))
    if size is None and name in _SIZED:
        raise ValueError(
            f"Policy {name!r} crops to the model's input size: pass `image_size` (the dataset's "
            f"images have no fixed size). Received: image_size=None"
        )
    return builder(size, info, **options)
