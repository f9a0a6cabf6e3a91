"""Geometric transforms: flips, crops, scale jittering, affine and elastic distortions.

Each is a small pure function ``transform(image, seed, **params) -> image`` on float32 images in
``[0, 1]``, one ``(H, W, C)`` or a batch ``(B, H, W, C)`` (each image draws its own values), in
graph mode, the same result for the same seed (see :mod:`.sampling`).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from kerascv_course.data.constants import INTERPOLATIONS
from kerascv_course.data.transforms.affine import (
    affine_matrices,
    affine_sample,
    affine_transform,
    bilinear_sample,
    fast_affine,
)
from kerascv_course.data.transforms.checks import as_size, check_fits
from kerascv_course.data.transforms.sampling import (
    batched,
    coin,
    image_hw,
    image_hw_float,
    select,
    split_seed,
    uniform,
)
from kerascv_course.utils.checks import (
    check_choice,
    check_number,
    check_probability,
    check_range_pair,
)

# --------------------------------------------------------------------------------------------
# Crop plumbing: boxes resampled by crop_and_resize (batches) or whole-pixel windows (one image).


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
    flip = coin(seed, tf.shape(boxes)[0], p)[:, None]
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
    height, width = image_hw(image[tf.newaxis])
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


def _integer_crops(image: tf.Tensor, oy: tf.Tensor, ox: tf.Tensor, h: int, w: int) -> tf.Tensor:
    """Per-image ``h x w`` crops at integer offsets (B,), exact pixel copies; pixels outside the
    image are zero (so offsets below 0 or past the edge give zero padding)."""
    height, width = image_hw(image)
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


# --------------------------------------------------------------------------------------------
# Flips and crops.


def random_flip(image: tf.Tensor, seed: tf.Tensor, *, p: float = 0.5) -> tf.Tensor:
    """Mirror left-right with probability ``p`` (Krizhevsky et al. 2012, and every paper since)."""
    p = check_probability("p", p)
    image = tf.convert_to_tensor(image)
    if image.shape.rank == 3:  # one image: mirror it or not, nothing computed twice
        return tf.cond(coin(seed, 1, p)[0], lambda: tf.reverse(image, axis=[1]), lambda: tf.identity(image))
    return _flip_batch(image, seed, p)


@batched
def _flip_batch(image: tf.Tensor, seed: tf.Tensor, p: float) -> tf.Tensor:
    flip = coin(seed, tf.shape(image)[0], p)
    return select(flip, tf.reverse(image, axis=[2]), image)


@batched
def random_crop(image: tf.Tensor, seed: tf.Tensor, *, size: int | tuple[int, int]) -> tf.Tensor:
    """A ``size`` crop at a uniformly random position (AlexNet's 224 crops out of 256).

    Raises:
        ValueError: when ``size`` is larger than the image.
    """
    h, w = as_size(size)
    check_fits((h, w), image)
    height, width = image_hw(image)
    n = tf.shape(image)[0]
    s = split_seed(seed, 2)
    with tf.control_dependencies(
        [tf.debugging.assert_less_equal([h, w], [height, width], message="crop larger than image")]
    ):
        oy = tf.random.stateless_uniform([n], s[0], minval=0, maxval=height - h + 1, dtype=tf.int32)
    ox = tf.random.stateless_uniform([n], s[1], minval=0, maxval=width - w + 1, dtype=tf.int32)
    return _integer_crops(image, oy, ox, h, w)


@batched
def pad_and_crop(image: tf.Tensor, seed: tf.Tensor, *, padding: int = 4, mode: str = "constant") -> tf.Tensor:
    """Pad by ``padding`` pixels on each side, then crop back to the original size at random.

    The CIFAR-10 augmentation of He et al. 2015 (arXiv:1512.03385, Sec. 4.2: 4 pixels of zero
    padding, random 32x32 crop). ``mode`` is ``"constant"`` (zeros) or ``"reflect"``. With zeros
    the padding is never materialised: the crop simply reads zeros outside the image.
    """
    check_number("padding", padding, low=0, integer=True)
    check_choice("mode", mode, ("constant", "reflect"))
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
    lo, hi = check_range_pair("scale", scale, low=0.0, positive=True)
    if hi > 1.0:
        raise ValueError(f"`scale` must lie in (0, 1]. Received: scale={scale!r}")
    r0, r1 = check_range_pair("ratio", ratio, positive=True)
    check_choice("interpolation", interpolation, INTERPOLATIONS)
    flip = check_probability("flip", flip)
    image = tf.convert_to_tensor(image)
    if image.shape.rank == 3:
        hf, wf = image_hw_float(image)
        s = split_seed(seed, 4)
        area = uniform(s[0], 1, lo, hi)[0] * hf * wf
        aspect = tf.exp(uniform(s[1], 1, math.log(r0), math.log(r1))[0])
        method = coin(s[3], 1, 0.5)[0] if interpolation == "random" else interpolation
        return _window_resize(
            image, s[2], tf.sqrt(area / aspect), tf.sqrt(area * aspect), (out_h, out_w), method, flip
        )
    return _random_resized_crop_batch(image, seed, out_h, out_w, lo, hi, r0, r1, interpolation, flip)


@batched
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
    height, width = image_hw(image)
    hf, wf = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    n = tf.shape(image)[0]
    s = split_seed(seed, 6)
    area = uniform(s[0], n, lo, hi) * hf * wf
    aspect = tf.exp(uniform(s[1], n, math.log(r0), math.log(r1)))
    w = tf.clip_by_value(tf.sqrt(area * aspect), 1.0, wf)
    h = tf.clip_by_value(tf.sqrt(area / aspect), 1.0, hf)
    y0 = uniform(s[2], n, 0.0, 1.0) * (hf - h)
    x0 = uniform(s[3], n, 0.0, 1.0) * (wf - w)
    boxes = _mirror_boxes(_boxes(y0, x0, h, w, height, width, out_h, out_w), s[5], flip)
    if interpolation != "random":
        return _crop_and_resize(image, boxes, (out_h, out_w), interpolation)
    bilinear = _crop_and_resize(image, boxes, (out_h, out_w), "bilinear")
    nearest = _crop_and_resize(image, boxes, (out_h, out_w), "nearest")
    return select(coin(s[4], n, 0.5), nearest, bilinear)


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
    lo, hi = check_range_pair("scale_range", scale_range, positive=True)
    if lo < min(out_h, out_w):
        raise ValueError(
            f"`scale_range` must start at or above the crop's shorter side {min(out_h, out_w)} (the "
            f"rescaled image must hold the crop). Received: scale_range={scale_range!r}"
        )
    flip = check_probability("flip", flip)
    image = tf.convert_to_tensor(image)
    if image.shape.rank == 3:
        hf, wf = image_hw_float(image)
        s = split_seed(seed, 2)
        factor = uniform(s[0], 1, lo, hi)[0] / tf.minimum(hf, wf)
        return _window_resize(image, s[1], out_h / factor, out_w / factor, (out_h, out_w), "bilinear", flip)
    return _scale_jitter_batch(image, seed, out_h, out_w, lo, hi, flip)


@batched
def _scale_jitter_batch(
    image: tf.Tensor, seed: tf.Tensor, out_h: int, out_w: int, lo: float, hi: float, flip: float
) -> tf.Tensor:
    height, width = image_hw(image)
    hf, wf = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    n = tf.shape(image)[0]
    s = split_seed(seed, 4)
    shorter = uniform(s[0], n, lo, hi)
    factor = shorter / tf.minimum(hf, wf)  # output pixels per input pixel
    h = tf.minimum(out_h / factor, hf)
    w = tf.minimum(out_w / factor, wf)
    y0 = uniform(s[1], n, 0.0, 1.0) * (hf - h)
    x0 = uniform(s[2], n, 0.0, 1.0) * (wf - w)
    boxes = _mirror_boxes(_boxes(y0, x0, h, w, height, width, out_h, out_w), s[3], flip)
    return _crop_and_resize(image, boxes, (out_h, out_w), "bilinear")


# --------------------------------------------------------------------------------------------
# Distortions.


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
    height, width = image_hw(image)
    return affine_sample(image, _affine_from_draws(u, low, high, height, width))


@batched
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
        float(check_number(k, v, low=0.0))
        for k, v in (("rotation", rotation), ("squeeze", squeeze), ("shear", shear), ("translate", translate))
    )
    s0, s1 = check_range_pair("scale", scale, positive=True)
    rad = math.pi / 180.0
    low = tf.constant([-rotation * rad, s0, -squeeze, -shear * rad, -translate, -translate], tf.float32)
    high = tf.constant([rotation * rad, s1, squeeze, shear * rad, translate, translate], tf.float32)
    u = tf.random.stateless_uniform(tf.stack([6, tf.shape(image)[0]]), seed, dtype=tf.float32)
    if fast_affine(image, interpolation, fill_mode, 0.0):
        return _random_affine_xla(image, u, low, high)
    height, width = image_hw(image)
    transforms = _affine_from_draws(u, low, high, height, width)
    return affine_transform(image, transforms, interpolation=interpolation, fill_mode=fill_mode)


def _gaussian_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(round(3 * sigma)))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


@batched
def elastic_distort(image: tf.Tensor, seed: tf.Tensor, *, alpha: float = 34.0, sigma: float = 4.0) -> tf.Tensor:
    """Elastic distortion (Simard, Steinkraus & Platt 2003, ICDAR).

    A random displacement field, uniform in [-1, 1] per pixel and direction, is smoothed by a
    normalised Gaussian of standard deviation ``sigma`` pixels and scaled by ``alpha``; the image
    is resampled bilinearly along it (zeros outside). The defaults are the paper's values for
    28x28 digits (about 1.4 pixels of typical displacement).
    """
    alpha = float(check_number("alpha", alpha, low=0.0))
    check_number("sigma", sigma, low=0.0, low_open=True)
    height, width = image_hw(image)
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
