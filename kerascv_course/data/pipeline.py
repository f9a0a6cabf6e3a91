"""The input pipeline: cache, shuffle, decode/resize, augment, normalise, batch, prefetch.

:func:`make_pipeline` turns a dataset of ``(uint8 image, label)`` pairs from
:func:`~kerascv_course.data.load_dataset` into batches a model trains on.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from kerascv_course.data.datasets import DatasetInfo

AUTOTUNE = tf.data.AUTOTUNE

# An augmentation: (float image in [0, 1], label or mask, stateless seed of shape (2,)) -> same.
Augment = Callable[[tf.Tensor, tf.Tensor, tf.Tensor], "tuple[tf.Tensor, tf.Tensor]"]


def to_float(image: tf.Tensor) -> tf.Tensor:
    """uint8 ``[0, 255]`` (or float ``[0, 1]``) image to float32 ``[0, 1]``."""
    return tf.image.convert_image_dtype(image, tf.float32)


def match_channels(image: tf.Tensor, channels: int | None) -> tf.Tensor:
    """Convert grayscale to RGB (or RGB to grayscale) so the image has ``channels`` channels."""
    if channels is None:
        return image
    have = image.shape[-1]
    if have == channels:
        return image
    if have == 1 and channels == 3:
        return tf.image.grayscale_to_rgb(image)
    if have == 3 and channels == 1:
        return tf.image.rgb_to_grayscale(image)
    raise ValueError(
        f"Cannot convert {have}-channel images to the model's {channels} channels. "
        f"Received: channels={channels}"
    )


def normalize(image: tf.Tensor, info: DatasetInfo) -> tf.Tensor:
    """``(image - mean) / std`` with the dataset's per-channel statistics (no-op without them)."""
    if info.mean is None or info.std is None:
        return image
    mean = tf.constant(info.mean, tf.float32)
    std = tf.constant(info.std, tf.float32)
    if mean.shape[0] != image.shape[-1]:  # statistics of grey data applied to converted RGB
        mean = tf.reduce_mean(mean) * tf.ones([image.shape[-1]])
        std = tf.reduce_mean(std) * tf.ones([image.shape[-1]])
    return (image - mean) / std


def make_pipeline(
    ds: tf.data.Dataset,
    info: DatasetInfo,
    *,
    training: bool,
    batch_size: int,
    image_size: int | tuple[int, int] | None = None,
    channels: int | None = None,
    augment: Augment | None = None,
    seed: int = 0,
    shuffle_buffer: int = 10_000,
    cache: bool | str = True,
    deterministic: bool | None = None,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Batches of ``(float32 normalised image, label)`` ready for ``model.fit``.

    Args:
        ds: dataset of ``(image, label)`` pairs, images uint8 ``(H, W, C)``.
        info: its :class:`DatasetInfo` (mean/std for normalisation).
        training: shuffle and augment when true.
        batch_size: the global batch size.
        image_size: resize every image to this size (``int`` for square), or keep it.
        channels: convert images to this channel count (grayscale <-> RGB).
        augment: ``(image, label, seed) -> (image, label)`` applied when training.
        seed: seed of shuffling and augmentation.
        shuffle_buffer: shuffle buffer size (training only).
        cache: ``True`` caches decoded examples in memory, a path caches to that file,
            ``False`` does not cache.
        deterministic: passed to ``map`` (``None``: tf.data's default).
        drop_remainder: drop the last incomplete batch.

    Returns:
        The batched, prefetched dataset.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}")
    size = (image_size, image_size) if isinstance(image_size, int) else image_size

    def prepare(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image = match_channels(to_float(image), channels)
        if size is not None:
            image = tf.image.resize(image, size)
        return image, label

    ds = ds.map(prepare, num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    if cache:
        ds = ds.cache(cache if isinstance(cache, str) else "")
    if training:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        if augment is not None:
            seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
            ds = tf.data.Dataset.zip((ds, seeds)).map(
                lambda pair, s: augment(pair[0], pair[1], s),
                num_parallel_calls=AUTOTUNE,
                deterministic=deterministic,
            )
    ds = ds.map(
        lambda image, label: (normalize(image, info), label),
        num_parallel_calls=AUTOTUNE,
        deterministic=deterministic,
    )
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(AUTOTUNE)
