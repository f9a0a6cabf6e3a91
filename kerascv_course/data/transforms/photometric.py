"""Photometric transforms: brightness, contrast, saturation (Howard 2013) and cutout.

Each is a small pure function ``transform(image, seed, **params) -> image`` on float32 images in
``[0, 1]``, one ``(H, W, C)`` or a batch ``(B, H, W, C)`` (each image draws its own values); values
stay in ``[0, 1]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from kerascv_course.data.transforms.sampling import batched, coin, image_hw, split_seed, uniform
from kerascv_course.utils.checks import (
    check_number,
    check_positive_int,
    check_probability,
    check_range_pair,
)


@batched
def random_brightness(image: tf.Tensor, seed: tf.Tensor, *, max_delta: float = 32 / 255) -> tf.Tensor:
    """Add ``delta ~ U[-max_delta, max_delta]`` to every pixel (Howard 2013, arXiv:1312.5402)."""
    d = float(check_number("max_delta", max_delta, low=0.0))
    delta = uniform(seed, tf.shape(image)[0], -d, d)
    return tf.clip_by_value(image + delta[:, None, None, None], 0.0, 1.0)


@batched
def random_contrast(image: tf.Tensor, seed: tf.Tensor, *, lower: float = 0.5, upper: float = 1.5) -> tf.Tensor:
    """Scale each channel's deviation from its mean by ``f ~ U[lower, upper]`` (Howard 2013)."""
    lo, hi = check_range_pair("(lower, upper)", (lower, upper), low=0.0)
    f = uniform(seed, tf.shape(image)[0], lo, hi)[:, None, None, None]
    mean = tf.reduce_mean(image, axis=[1, 2], keepdims=True)
    return tf.clip_by_value((image - mean) * f + mean, 0.0, 1.0)


@batched
def random_saturation(image: tf.Tensor, seed: tf.Tensor, *, lower: float = 0.5, upper: float = 1.5) -> tf.Tensor:
    """Blend RGB with its grey version by ``f ~ U[lower, upper]`` (Howard 2013); grey images are
    returned unchanged."""
    lo, hi = check_range_pair("(lower, upper)", (lower, upper), low=0.0)
    if image.shape[-1] != 3:
        return image
    f = uniform(seed, tf.shape(image)[0], lo, hi)[:, None, None, None]
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
        check_number(name, value, low=0.0, high=1.0)
    if brightness:
        image = random_brightness(image, s[0], max_delta=brightness)
    if contrast:
        image = random_contrast(image, s[1], lower=1 - contrast, upper=1 + contrast)
    if saturation:
        image = random_saturation(image, s[2], lower=1 - saturation, upper=1 + saturation)
    return image


@batched
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
    check_positive_int("size", size)
    p = check_probability("p", p)
    height, width = image_hw(image)
    n = tf.shape(image)[0]
    s = split_seed(seed, 3)
    cy = tf.random.stateless_uniform([n], s[0], minval=0, maxval=height, dtype=tf.int32)
    cx = tf.random.stateless_uniform([n], s[1], minval=0, maxval=width, dtype=tf.int32)
    apply = coin(s[2], n, p)
    y0, x0 = cy - size // 2, cx - size // 2
    rows = tf.range(height)[None, :]
    cols = tf.range(width)[None, :]
    in_rows = (rows >= y0[:, None]) & (rows < (y0 + size)[:, None]) & apply[:, None]
    in_cols = (cols >= x0[:, None]) & (cols < (x0 + size)[:, None])
    mask = in_rows[:, :, None, None] & in_cols[:, None, :, None]
    fill = tf.cast(tf.reshape(tf.constant(fill, tf.float32), [-1]), image.dtype)
    return tf.where(mask, tf.broadcast_to(fill, tf.shape(image)[-1:]), image)
