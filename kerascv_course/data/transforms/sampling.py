"""Plumbing of the transforms: one image or a batch, per-image random values from one seed.

Every transform takes one image ``(H, W, C)`` or a batch ``(B, H, W, C)`` and one stateless seed
(shape ``(2,)``); for a batch each image draws its own values from that seed, which is how
:func:`~kerascv_course.data.make_pipeline` vectorises a policy over a whole batch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import tensorflow as tf


def batched(fn: Callable[..., tf.Tensor]) -> Callable[..., tf.Tensor]:
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


def uniform(seed: tf.Tensor, n: tf.Tensor, low: float | tf.Tensor, high: float | tf.Tensor) -> tf.Tensor:
    """``n`` float32 values uniform in ``[low, high)``."""
    return tf.random.stateless_uniform([n], seed, minval=low, maxval=high, dtype=tf.float32)


def coin(seed: tf.Tensor, n: tf.Tensor, p: float) -> tf.Tensor:
    """``n`` booleans, each true with probability ``p``."""
    return tf.random.stateless_uniform([n], seed) < p


def select(mask: tf.Tensor, new: tf.Tensor, old: tf.Tensor) -> tf.Tensor:
    """Whole images of ``new`` where ``mask`` (B,) is true, else of ``old`` (one row copy each)."""
    return tf.raw_ops.Select(condition=mask, x=new, y=old)


def image_hw(batch: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Height and width of a batch ``(B, H, W, C)``."""
    shape = tf.shape(batch)
    return shape[1], shape[2]


def image_hw_float(image: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Height and width of one ``(H, W, C)`` image, as float32."""
    shape = tf.shape(image)
    return tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
