"""The input pipeline: resize, cache, shuffle, augment, normalise, batch, prefetch.

:func:`make_pipeline` turns a dataset of ``(uint8 image, label)`` pairs from
:func:`~kerascv_course.data.load_dataset` into batches a model trains on::

    decode/convert/resize or pad (uint8) -> cache -> shuffle -> batch -> augment -> normalise -> prefetch

When the shuffle buffer would hold every training example (a known count up to ``shuffle_buffer``)
and augmentation runs on batches or not at all, cache, shuffle and batch are one step: the
examples are stacked once, each epoch draws a seeded permutation of all of them, and each batch is
one ``tf.gather`` (no per-example tf.data work). Small batches are gathered, augmented and
normalised a group at a time (up to :data:`GROUP_MAX_PIXELS` pixels, e.g. 8 batches of 64 32x32
images), prefetched, and split with ``rebatch`` as the consumer asks: the same batches, at a
fraction of the per-call cost.

Augmentation runs on whole batches when the policy allows it (every transform of
:mod:`kerascv_course.data.transforms` does) and the images have one fixed, small size (up to 64x64,
where it is measured faster); otherwise per image before batching. Each image (or batch) gets its own stateless seed from a seeded
``tf.data.Dataset.random`` stream, so a run is reproducible from ``seed`` alone.

Distribution: the pipeline always yields *global* batches. Keras ``fit`` under a
``tf.distribute`` strategy splits each one over the replicas itself; a custom ``strategy.run``
loop can ask for ``distribute=True`` to get the ``DistributedDataset``. The auto-shard policy
(used across workers) is ``DATA`` for in-memory datasets and ``FILE`` for datasets read from
record files (tensorflow-datasets), from ``info.extra["storage"]``.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import tensorflow as tf

from kerascv_course.data.constants import RESIZE_MODES
from kerascv_course.data.datasets.base import DatasetInfo
from kerascv_course.data.transforms.checks import as_size
from kerascv_course.utils.checks import check_choice, check_positive_int

AUTOTUNE = tf.data.AUTOTUNE

# An augmentation: (float image in [0, 1], label or mask, stateless seed of shape (2,)) -> same.
Augment = Callable[[tf.Tensor, tf.Tensor, tf.Tensor], "tuple[tf.Tensor, tf.Tensor]"]

# Augment whole batches up to this many pixels per image (64x64): measured faster there, while
# bigger images are faster per image (the batch no longer fits in cache; tools/bench_pipeline.py).
VECTORIZE_MAX_PIXELS = 64 * 64

# Work on batches of small images in groups of batches up to this many pixels (8 LeNet batches of
# 64 32x32 images), then split them: each batch-level call (map, XLA kernel, thread hand-over)
# has a fixed CPU cost: for LeNet-5 on digits, about 0.8 -> 0.55 ms per batch (docs/benchmarks/data.md).
GROUP_MAX_PIXELS = 512 * 32 * 32
GROUP_MAX_BATCHES = 16

_SHARD_POLICIES = {
    "memory": tf.data.experimental.AutoShardPolicy.DATA,
    "files": tf.data.experimental.AutoShardPolicy.DATA,  # one image per file: shard the examples
    "records": tf.data.experimental.AutoShardPolicy.FILE,
}


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


def normalize_image(image: tf.Tensor, info: DatasetInfo) -> tf.Tensor:
    """``(image - mean) / std`` with the dataset's per-channel statistics (no-op without them)."""
    if info.mean is None or info.std is None:
        return image
    mean = tf.constant(info.mean, tf.float32)
    std = tf.constant(info.std, tf.float32)
    if mean.shape[0] != image.shape[-1]:  # statistics of grey data applied to converted RGB
        mean = tf.reduce_mean(mean) * tf.ones([image.shape[-1]])
        std = tf.reduce_mean(std) * tf.ones([image.shape[-1]])
    return (image - mean) / std


normalize = normalize_image  # the name this function had first


def shard_policy(info: DatasetInfo) -> tf.data.experimental.AutoShardPolicy:
    """``DATA`` for in-memory and folder datasets, ``FILE`` for record files (tfds)."""
    storage = (info.extra or {}).get("storage", "memory")
    return _SHARD_POLICIES.get(storage, tf.data.experimental.AutoShardPolicy.AUTO)


def _size(image_size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    if image_size is None:
        return None
    return as_size(tuple(image_size) if not isinstance(image_size, int) else image_size, "image_size")


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
    normalize: bool = True,
    vectorize: bool | None = None,
    strategy: tf.distribute.Strategy | None = None,
    distribute: bool = False,
    resize_mode: str = "resize",
) -> tf.data.Dataset:
    """Batches of ``(float32 normalised image, label)`` ready for ``model.fit``.

    Args:
        ds: dataset of ``(image, label)`` pairs, images uint8 ``(H, W, C)``.
        info: its :class:`DatasetInfo` (mean/std for normalisation, storage for sharding).
        training: shuffle and augment when true.
        batch_size: the global batch size (all replicas together).
        image_size: bring every image to this size (``int`` for square; see ``resize_mode``), or
            keep it. A policy that crops to size itself (``augment.output_size``) gets the stored
            images in training and must produce this size.
        channels: convert images to this channel count (grayscale <-> RGB).
        augment: ``(image, label, seed) -> (image, label)`` applied when training, e.g. from
            :func:`~kerascv_course.data.get_policy`.
        seed: seed of shuffling and augmentation.
        shuffle_buffer: shuffle buffer size (training only). A training set of at most this many
            examples (of known count) is shuffled whole, by a permutation per epoch.
        cache: ``True`` caches the resized uint8 examples in memory, a path caches to that file,
            ``False`` does not cache.
        deterministic: element order of parallel ops (``None``: tf.data's default, ordered).
        drop_remainder: drop the last incomplete batch.
        normalize: subtract the dataset mean and divide by its std.
        vectorize: augment whole batches (``None``: when the policy supports it and the images
            have one fixed size of at most :data:`VECTORIZE_MAX_PIXELS` pixels).
        strategy: the ``tf.distribute`` strategy the model trains under; sets the auto-shard
            policy (``DATA`` in memory, ``FILE`` for record files).
        distribute: with ``strategy``, return ``strategy.experimental_distribute_dataset(...)``
            for a custom training loop (Keras ``fit`` distributes a plain dataset itself).
        resize_mode: ``"resize"`` (bilinear, to any size) or ``"pad"``: centre each smaller image
            on a zero background of ``image_size`` (pixel value 0 before normalisation; an odd
            margin puts the extra pixel bottom/right), as LeNet-5's 28x28 MNIST digits were framed
            at 32x32. ``"pad"`` never shrinks: an image larger than ``image_size`` is refused
            (classification only, and not with a policy that crops to size itself).

    Returns:
        The batched, prefetched dataset (or the distributed dataset); its ``cardinality()`` is the
        number of batches when the input's count is known.

    Raises:
        ValueError: for a bad batch size, shuffle buffer or image size, images that vary in size
            without ``image_size``, a policy whose output size differs from ``image_size``, or
            ``resize_mode="pad"`` with images larger than ``image_size`` (when their size is known
            here; otherwise the pipeline stops at the first such image, naming its size).

    Example:
        >>> ds, info = load_dataset("shapes", "train")
        >>> train = make_pipeline(ds, info, training=True, batch_size=128,
        ...                       augment=get_policy("cifar", info=info))
    """
    check_positive_int("batch_size", batch_size)
    check_positive_int("shuffle_buffer", shuffle_buffer)
    if isinstance(cache, str) and cache:
        folder = os.path.dirname(os.path.abspath(cache))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"The folder of the cache file does not exist. Received: cache={cache!r}")
    if distribute and strategy is None:
        raise ValueError("`distribute=True` needs a `strategy`. Received: strategy=None")
    size = _size(image_size)
    augment = augment if training else None
    policy_size = getattr(augment, "output_size", None)
    if policy_size is not None and size is not None and tuple(policy_size) != size:
        raise ValueError(
            f"The augmentation policy outputs {tuple(policy_size)} images but the pipeline's "
            f"`image_size` is {size}: build the policy with the same image_size. "
            f"Received: image_size={image_size!r}"
        )
    resize_first = size is not None and policy_size is None
    pad = check_choice("resize_mode", resize_mode, RESIZE_MODES, where="make_pipeline") == "pad"
    if pad and size is not None:
        _check_padding(info, size, policy_size, training=training)

    segmentation = info.task == "segmentation"

    def prepare(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image = match_channels(image, channels)
        if resize_first and pad and tuple(image.shape[-3:-1]) != size:
            image = pad_to_size(image, size)
        elif resize_first and tuple(image.shape[-3:-1]) != size:
            image = tf.image.resize(to_float(image), size)
            image = tf.image.convert_image_dtype(image, tf.uint8, saturate=True)
            if segmentation and label.shape.rank in (2, 3):  # masks follow their images
                mask = label[..., None] if label.shape.rank == 2 else label
                mask = tf.cast(tf.image.resize(mask, size, method="nearest"), label.dtype)
                label = mask[..., 0] if label.shape.rank == 2 else mask
        return image, label

    ds = ds.map(prepare, num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    stored = ds.element_spec[0].shape
    fixed = stored.rank == 3 and stored[:2].is_fully_defined()
    if not fixed and policy_size is None:
        raise ValueError(
            f"The images of {info.name!r} vary in size ({stored}); pass `image_size` so they can "
            f"be batched. Received: image_size={image_size!r}"
        )
    small = fixed and stored[0] * stored[1] <= VECTORIZE_MAX_PIXELS
    on_batches = augment is not None and (
        vectorize if vectorize is not None else (getattr(augment, "batched", False) and small)
    )
    count = int(ds.cardinality())
    whole = training and fixed and (augment is None or on_batches) and 0 < count <= shuffle_buffer
    # the batch-level work runs on groups of batches, split at the end: the same batches
    group = _group(batch_size, stored) if fixed else 1
    step, drop_step = batch_size * group, drop_remainder and group == 1
    if whole:  # the buffer would hold every example: shuffle them all, one gather per batch
        ds = _shuffled_batches(ds, count, step, drop_step, seed, cache)
    else:
        if cache:
            ds = ds.cache(cache if isinstance(cache, str) else "")
        if training:
            ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if augment is not None and not on_batches:
        ds = _zip_seeds(ds, seed).map(
            lambda pair, s: augment(to_float(pair[0]), pair[1], s),
            num_parallel_calls=AUTOTUNE,
            deterministic=deterministic,
        )

    def finish(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        if normalize and image.dtype == tf.uint8 and info.mean is not None and info.std is not None:
            return _scale_uint8(image, info), label  # one fused pass instead of four
        image = to_float(image)
        return (normalize_image(image, info) if normalize else image), label

    if not whole:
        ds = ds.batch(step, drop_remainder=drop_step)
    if on_batches:  # augment and normalise each batch in one function
        ds = _zip_seeds(ds, seed).map(
            lambda pair, s: finish(*augment(to_float(pair[0]), pair[1], s)),
            num_parallel_calls=AUTOTUNE,
            deterministic=deterministic,
        )
    else:
        ds = ds.map(finish, num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    options = tf.data.Options()
    if group > 1:
        # Split the prefetched groups as the consumer asks: a slice, cheaper than handing every
        # batch over from another thread (a prefetch here, or the one tf.data would inject).
        ds = ds.prefetch(AUTOTUNE).rebatch(batch_size, drop_remainder=drop_remainder)
        options.experimental_optimization.inject_prefetch = False
    if count > 0:  # known size: keep it known (Keras' progress bar and steps per epoch use it)
        batches = count // batch_size if drop_remainder else -(-count // batch_size)
        ds = ds.apply(tf.data.experimental.assert_cardinality(batches))
    options.experimental_distribute.auto_shard_policy = shard_policy(info)
    if deterministic is not None:
        options.deterministic = deterministic
    ds = ds.with_options(options)
    if group == 1:
        ds = ds.prefetch(AUTOTUNE)
    if distribute:
        return strategy.experimental_distribute_dataset(ds)
    return ds


def pad_to_size(image: tf.Tensor, size: tuple[int, int]) -> tf.Tensor:
    """Centre ``image`` on a zero background of ``size`` (the extra pixel of an odd margin goes
    bottom/right); an image larger than ``size`` stops the pipeline with an error naming both."""
    shape = tf.shape(image)
    h, w = shape[-3], shape[-2]
    fits = tf.debugging.assert_less_equal(
        tf.stack([h, w]), tf.constant(size, tf.int32),
        message=f"resize_mode='pad' pads images to {size[0]}x{size[1]} and never shrinks them, but "
                f"this image is larger (height, width follow); use resize_mode='resize' or a larger "
                f"model input",
    )
    with tf.control_dependencies([fits]):
        padded = tf.image.pad_to_bounding_box(image, (size[0] - h) // 2, (size[1] - w) // 2, size[0], size[1])
    return tf.ensure_shape(padded, [size[0], size[1], image.shape[-1]])


def _check_padding(info: DatasetInfo, size: tuple[int, int], policy_size: object, *, training: bool) -> None:
    """Refuse ``resize_mode="pad"`` where it cannot work, before any image is read."""
    if info.task != "classification":
        raise ValueError(
            "resize_mode='pad' is for classification: a padded mask would label its border as class 0. "
            "Use resize_mode='resize' for segmentation. Received: resize_mode='pad'"
        )
    if training and policy_size is not None:
        raise ValueError(
            "resize_mode='pad' with an augmentation policy that crops to size itself (alexnet, vgg, "
            "resnet, inception): the policy would see the stored images and evaluation the padded "
            "ones. Use a policy that keeps the size (none, lenet, cifar). Received: resize_mode='pad'"
        )
    known = []
    if None not in info.image_shape[:2]:
        known.append((*info.image_shape[:2], f"the images of {info.name!r} are"))
    for key in ("tallest", "widest"):  # folders: [height, width, file]
        extreme = (info.extra or {}).get(key)
        if extreme:
            known.append((extreme[0], extreme[1], f"the {key} image of {info.name!r}, {extreme[2]}, is"))
    for h, w, what in known:
        if h > size[0] or w > size[1]:
            raise ValueError(
                f"resize_mode='pad' pads images to {size[0]}x{size[1]} and never shrinks them, but {what} "
                f"{h}x{w}: use resize_mode='resize', or a model input of at least "
                f"{max(h, size[0])}x{max(w, size[1])}. Received: resize_mode='pad'"
            )


def _group(batch_size: int, stored: tf.TensorShape) -> int:
    """How many batches of images of ``stored`` shape to process per call (at least 1)."""
    return max(1, min(GROUP_MAX_BATCHES, GROUP_MAX_PIXELS // (batch_size * stored[0] * stored[1])))


def _scale_uint8(image: tf.Tensor, info: DatasetInfo) -> tf.Tensor:
    """``(image / 255 - mean) / std`` as ``image * a + b`` on the uint8 values."""
    channels = image.shape[-1]
    mean = [float(v) for v in info.mean]
    std = [float(v) for v in info.std]
    if len(mean) != channels:  # statistics of grey data applied to converted RGB
        mean = [sum(mean) / len(mean)] * channels
        std = [sum(std) / len(std)] * channels
    scale = tf.constant([1.0 / (255.0 * s) for s in std], tf.float32)
    offset = tf.constant([-m / s for m, s in zip(mean, std)], tf.float32)
    return tf.cast(image, tf.float32) * scale + offset


def _shuffled_batches(
    ds: tf.data.Dataset, count: int, batch_size: int, drop_remainder: bool, seed: int, cache: bool | str
) -> tf.data.Dataset:
    """Batches of all ``count`` examples of ``ds`` in a new seeded order each epoch.

    What ``shuffle(buffer >= count).batch(batch_size)`` yields, without its per-example cost:
    the examples are stacked into one tensor (cached, when ``cache`` asks), each epoch draws a
    permutation from its own seed, and each batch is one ``tf.gather``. For a LeNet-5 step on
    2 cores that per-example work was a few percent of the step (docs/benchmarks/data.md).
    """
    stacked = ds.batch(count)
    if cache:
        stacked = stacked.cache(cache if isinstance(cache, str) else "")
    epoch_seed = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2).take(1)
    full, rest = divmod(count, batch_size)

    def batches(examples: tuple[tf.Tensor, tf.Tensor], epoch: tf.Tensor) -> tf.data.Dataset:
        order = tf.random.experimental.stateless_shuffle(tf.range(count), epoch)
        index = tf.data.Dataset.from_tensor_slices(tf.reshape(order[: full * batch_size], [full, batch_size]))
        if rest and not drop_remainder:
            index = index.concatenate(tf.data.Dataset.from_tensors(order[full * batch_size:]))
        return index.map(lambda i: tuple(tf.gather(part, i) for part in examples))

    return tf.data.Dataset.zip((stacked, epoch_seed)).flat_map(batches)


def _zip_seeds(ds: tf.data.Dataset, seed: int) -> tf.data.Dataset:
    """Pair every element with its own stateless seed (shape ``(2,)``), new each epoch."""
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    return tf.data.Dataset.zip((ds, seeds))
