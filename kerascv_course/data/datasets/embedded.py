"""The embedded datasets: ``digits`` (real, from scikit-learn), ``shapes`` and ``cracks`` (generated).

All three work offline and are held in memory. ``digits`` and ``shapes`` are for classification,
``cracks`` (images with pixel masks, classes background and crack) for segmentation. The
generators are in :mod:`kerascv_course.data.datasets.procedural`.

Example:
    >>> ds, info = load_dataset("shapes", "train", image_size=64, num_examples=2000)
    >>> info.class_names[:3]
    ['circle', 'square', 'triangle']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from kerascv_course.data.constants import (
    CRACKS_CLASSES,
    CRACKS_DEFAULT_EXAMPLES,
    CRACKS_DEFAULT_SIZE,
    DIGITS_FRACTIONS,
    SHAPE_NAMES,
    SHAPES_DEFAULT_EXAMPLES,
    SHAPES_DEFAULT_SIZE,
)
from kerascv_course.data.datasets.base import (
    DatasetInfo,
    per_class_indices,
    per_class_info,
    split_indices,
)
from kerascv_course.data.datasets.procedural import (
    SHAPE_CHUNK,
    SPLIT_STREAMS,
    generate_cracks,
    make_shapes,
)
from kerascv_course.data.transforms.checks import square_side

# The digits split is fixed (seed 0) so that every run, recipe and test sees the same test set.
_DIGITS_SPLIT_SEED = 0
# Validation and test are fixed (the same images whatever ``seed``), so scores compare across runs;
# the training images follow ``seed``.
_CRACKS_FIXED_SEED = 20150518
# Per-channel statistics of generated cracks (1,000 images at 96x96, measured once).
CRACKS_MEAN = (0.539, 0.539, 0.539)
CRACKS_STD = (0.116, 0.116, 0.116)


def load_digits(
    split: str, *, data_dir: str | None = None, image_size: Any = None, seed: int = 0, per_class: int | None = None
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """scikit-learn's 1,797 handwritten digits (UCI, 8x8, 16 grey levels), made LeNet-sized.

    Each 8x8 image is scaled to 0..255, resized bilinearly to 28x28 and padded by 2 pixels to
    32x32x1 (MNIST's framing). The train/validation/test split (70/10/20 %: 1,258/180/359) is
    fixed, whatever ``seed`` is, so test figures are comparable between runs. With
    ``per_class=N`` the training split keeps at most N images of each digit, chosen by ``seed``
    (validation and test are never reduced). Works offline: the data ship with scikit-learn.
    """
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    images = bunch.images.astype(np.float32)[..., None] * (255.0 / 16.0)
    big = tf.image.resize(images, (28, 28), method="bilinear")
    big = tf.pad(big, [[0, 0], [2, 2], [2, 2], [0, 0]])
    big = tf.cast(tf.clip_by_value(tf.round(big), 0, 255), tf.uint8).numpy()
    labels = bunch.target.astype(np.int64)
    parts = split_indices(len(labels), DIGITS_FRACTIONS, _DIGITS_SPLIT_SEED)
    idx = parts[split]
    if per_class and split == "train":
        idx = idx[per_class_indices(labels[idx], per_class, seed)]
    train = big[parts["train"]].astype(np.float32) / 255.0
    mean, std = float(train.mean()), float(train.std())
    info = DatasetInfo(
        name="digits",
        task="classification",
        num_classes=10,
        class_names=[str(i) for i in range(10)],
        image_shape=(32, 32, 1),
        num_examples=len(idx),
        mean=(mean,),
        std=(std,),
        description="scikit-learn's handwritten digits (UCI ML repository), 8x8 shown at 32x32",
        extra=dict(storage="memory"),
    )
    if per_class and split == "train":
        per_class_info(info, labels[idx], per_class)
    ds = tf.data.Dataset.from_tensor_slices((big[idx], labels[idx]))
    return ds, info


def load_shapes(
    split: str,
    *,
    data_dir: str | None = None,
    image_size: int | tuple[int, int] | None = None,
    seed: int = 0,
    num_classes: int = 10,
    num_examples: int | dict[str, int] | None = None,
    per_class: int | None = None,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """Coloured geometric shapes, one class per outline, generated on the fly.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"`` (independent random streams).
        data_dir: unused (nothing is stored).
        image_size: side of the square images (default 32); ``(s, s)`` is accepted.
        seed: seed of the generated data.
        num_classes: number of shape classes, 2..10 (the first ``num_classes`` of
            :data:`~kerascv_course.data.datasets.procedural.SHAPE_NAMES`).
        num_examples: examples in this split, or a dict per split (default 5000/1000/1000).
        per_class: the training split keeps at most this many of the generated images of each
            class (chosen by ``seed``); validation and test are not reduced.

    Returns:
        ``(dataset of (uint8 (S, S, 3), int64 label), DatasetInfo)``; mean and std are measured
        on the first 512 training images.
    """
    del data_dir
    size = square_side(image_size, SHAPES_DEFAULT_SIZE, where="shapes")
    counts = dict(SHAPES_DEFAULT_EXAMPLES)
    if isinstance(num_examples, dict):
        unknown = sorted(set(num_examples) - set(counts))
        if unknown:
            raise ValueError(f"`num_examples` keys must be splits {', '.join(counts)}. Received: {unknown}")
        counts.update(num_examples)
    elif num_examples is not None:
        counts[split] = num_examples
    images, labels = make_shapes(counts[split], image_size=size, num_classes=num_classes, seed=seed, split=split)
    if per_class and split == "train":
        keep = per_class_indices(labels, per_class, seed)
        images, labels = images[keep], labels[keep]
    sample, _ = make_shapes(min(SHAPE_CHUNK, counts["train"]), image_size=size, num_classes=num_classes, seed=seed)
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
    if per_class and split == "train":
        per_class_info(info, labels, per_class)
    return tf.data.Dataset.from_tensor_slices((images, labels)), info


def load_cracks(
    split: str,
    *,
    data_dir: str | None = None,
    image_size: int | None = None,
    seed: int = 0,
    num_examples: int | None = None,
    channels: int = 3,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """The embedded ``cracks`` segmentation dataset (see
    :func:`~kerascv_course.data.datasets.procedural.generate_cracks`).

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
    size = square_side(image_size, CRACKS_DEFAULT_SIZE, where="cracks")
    count = CRACKS_DEFAULT_EXAMPLES[split] if num_examples is None else num_examples
    base = seed if split == "train" else _CRACKS_FIXED_SEED
    images, masks = generate_cracks(
        count, size, seed=np.random.SeedSequence([base, SPLIT_STREAMS[split], size]).generate_state(1)[0],
        channels=channels,
    )
    info = DatasetInfo(
        name="cracks",
        task="segmentation",
        num_classes=2,
        class_names=list(CRACKS_CLASSES),
        image_shape=(size, size, channels),
        num_examples=count,
        mean=CRACKS_MEAN[:channels] if channels == 3 else (float(np.mean(CRACKS_MEAN)),),
        std=CRACKS_STD[:channels] if channels == 3 else (float(np.mean(CRACKS_STD)),),
        description="procedural concrete-like surfaces with thin branching cracks and pixel masks",
        extra={"storage": "memory", "crack_fraction": float(masks.mean())},
    )
    return tf.data.Dataset.from_tensor_slices((images, masks)), info
