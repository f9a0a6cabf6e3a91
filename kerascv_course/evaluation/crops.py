"""Test-time crops: centre crop, AlexNet's 10 crops, multi-scale crops, and averaging over them.

Each function takes one image ``(H, W, C)`` and returns a batch ``(n_crops, h, w, C)`` of views,
so evaluation can run the model on the batch and average its predictions
(:func:`average_predictions`). A leading batch axis is also accepted: ``(B, H, W, C)`` gives
``(B, n_crops, h, w, C)``.

Example:
    >>> crops = ten_crop(image, 224)            # (10, 224, 224, 3)
    >>> probs = average_predictions(model, crops)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import tensorflow as tf

from kerascv_course.data.transforms.checks import as_size, check_fits


def _prepare(image: tf.Tensor) -> tuple[tf.Tensor, bool]:
    image = tf.convert_to_tensor(image)
    if image.shape.rank == 3:
        return image[tf.newaxis], True
    if image.shape.rank == 4:
        return image, False
    raise ValueError(f"`image` must be (H, W, C) or (B, H, W, C). Received: image.shape={image.shape}")


def _finish(crops: tf.Tensor, single: bool) -> tf.Tensor:
    """``(B, n, h, w, C)`` -> ``(n, h, w, C)`` for one image."""
    return crops[0] if single else crops


def _offsets(height: int, width: int, h: int, w: int) -> list[tuple[int, int]]:
    """Top-left corners of the four corner crops and the centre crop (AlexNet's order)."""
    cy, cx = (height - h) // 2, (width - w) // 2
    return [(0, 0), (0, width - w), (height - h, 0), (height - h, width - w), (cy, cx)]


def _static_hw(batch: tf.Tensor, size: tuple[int, int]) -> tuple[int, int]:
    height, width = batch.shape[1], batch.shape[2]
    if height is None or width is None:
        raise ValueError(f"Test-time crops need images of known size. Received: image.shape={batch.shape}")
    check_fits(size, batch)
    return int(height), int(width)


def center_crop(image: tf.Tensor, size: int | tuple[int, int]) -> tf.Tensor:
    """The central ``size`` crop, as a batch of one: ``(1, h, w, C)``.

    Raises:
        ValueError: when ``size`` is larger than the image.
    """
    batch, single = _prepare(image)
    h, w = as_size(size)
    height, width = _static_hw(batch, (h, w))
    cy, cx = (height - h) // 2, (width - w) // 2
    return _finish(batch[:, None, cy : cy + h, cx : cx + w], single)


def five_crop(image: tf.Tensor, size: int | tuple[int, int]) -> tf.Tensor:
    """The four corner crops and the centre crop, in the order top-left, top-right, bottom-left, bottom-right, centre: ``(5, h, w, C)``."""
    batch, single = _prepare(image)
    h, w = as_size(size)
    height, width = _static_hw(batch, (h, w))
    crops = [batch[:, y : y + h, x : x + w] for y, x in _offsets(height, width, h, w)]
    return _finish(tf.stack(crops, axis=1), single)


def ten_crop(image: tf.Tensor, size: int | tuple[int, int]) -> tf.Tensor:
    """AlexNet's test-time views: the five crops of :func:`five_crop`, then their mirror images.

    Krizhevsky et al. 2012 (Sec. 4.1): "the network makes a prediction by extracting five 224x224
    patches (the four corner patches and the center patch) as well as their horizontal reflections
    (hence ten patches in all), and averaging the predictions". Returns ``(10, h, w, C)``.
    """
    five = five_crop(image, size)
    return tf.concat([five, tf.reverse(five, axis=[-2])], axis=-4)


def resize_shorter(image: tf.Tensor, side: int) -> tf.Tensor:
    """Resize so the shorter side is ``side`` (aspect kept, bilinear); image or batch."""
    if isinstance(side, bool) or not isinstance(side, int) or side < 1:
        raise ValueError(f"`side` must be a positive integer. Received: side={side!r}")
    batch, single = _prepare(image)
    height, width = batch.shape[1], batch.shape[2]
    if height is None or width is None:
        raise ValueError(f"`resize_shorter` needs images of known size. Received: image.shape={batch.shape}")
    scale = side / min(height, width)
    new = (max(side, round(height * scale)), max(side, round(width * scale)))
    out = tf.image.resize(batch, new)
    return out[0] if single else out


def multi_scale_crops(
    image: tf.Tensor,
    size: int | tuple[int, int],
    scales: Sequence[int] = (256, 288, 320, 352),
    *,
    flip: bool = True,
) -> tf.Tensor:
    """Five crops (and their mirrors) at each of several scales: ``(len(scales) * 10, h, w, C)``.

    The image is resized so its shorter side is each of ``scales`` in turn (GoogLeNet's test-time
    scales 256/288/320/352 for 224 crops, Szegedy et al. 2014, Sec. 7; VGG's multi-scale
    evaluation is the same idea) and :func:`five_crop` is taken from each.

    Raises:
        ValueError: when a scale is smaller than the crop.
    """
    h, w = as_size(size)
    if not scales:
        raise ValueError(f"`scales` must name at least one size. Received: scales={scales!r}")
    small = [s for s in scales if s < min(h, w)]
    if small:
        raise ValueError(f"Every scale must be at least the crop size {min(h, w)}. Received: scales={tuple(scales)}")
    views = [five_crop(resize_shorter(image, int(s)), (h, w)) for s in scales]
    crops = tf.concat(views, axis=-4)
    if flip:
        crops = tf.concat([crops, tf.reverse(crops, axis=[-2])], axis=-4)
    return crops


def average_predictions(
    model: Callable[[tf.Tensor], tf.Tensor], crops: tf.Tensor, *, preprocess: Callable[[tf.Tensor], tf.Tensor] | None = None
) -> tf.Tensor:
    """The model's mean prediction over the crops of one image (``(n, h, w, C)`` -> ``(classes,)``)
    or of a batch (``(B, n, h, w, C)`` -> ``(B, classes)``).

    Args:
        model: a Keras model (or any callable on a batch of images).
        crops: views from one of the crop functions.
        preprocess: applied to the crops first (e.g. the dataset's normalisation).
    """
    crops = tf.convert_to_tensor(crops)
    if crops.shape.rank not in (4, 5):
        raise ValueError(f"`crops` must be (n, h, w, C) or (B, n, h, w, C). Received: shape={crops.shape}")
    lead = tf.shape(crops)[:-3]
    flat = tf.reshape(crops, tf.concat([[-1], tf.shape(crops)[-3:]], 0))
    if preprocess is not None:
        flat = preprocess(flat)
    preds = tf.convert_to_tensor(model(flat, training=False) if hasattr(model, "layers") else model(flat))
    preds = tf.reshape(preds, tf.concat([lead, tf.shape(preds)[-1:]], 0))
    return tf.reduce_mean(preds, axis=-2)
