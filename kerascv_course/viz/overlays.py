"""Segmentation overlays: images with their true and predicted masks, side by side."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from kerascv_course.utils.files import atomic_path  # noqa: E402

# Colour-blind-friendly colours (Okabe & Ito), then matplotlib's tab20 for more classes.
_PALETTE = (
    (0.90, 0.62, 0.00), (0.34, 0.71, 0.91), (0.00, 0.62, 0.45), (0.94, 0.89, 0.26),
    (0.00, 0.45, 0.70), (0.84, 0.37, 0.00), (0.80, 0.47, 0.65),
)


def class_colors(num_classes: int, background: int | None = None) -> np.ndarray:
    """``(num_classes, 3)`` RGB colours in [0, 1]; the classes other than ``background`` get the
    palette's colours in order (so the first foreground class is always orange)."""
    palette = list(_PALETTE)
    cmap = plt.get_cmap("tab20")
    while len(palette) < num_classes:
        palette.append(cmap(len(palette) % 20)[:3])
    colors = np.full((num_classes, 3), 0.5, np.float32)
    k = 0
    for c in range(num_classes):
        if c != background:
            colors[c] = palette[k]
            k += 1
    return colors


def overlay(image: np.ndarray, mask: np.ndarray, num_classes: int, *, background: int | None,
            alpha: float = 0.6) -> np.ndarray:
    """An RGB image in [0, 1] with each class of ``mask`` (but ``background``) tinted."""
    rgb = _display(image)
    colors = class_colors(num_classes, background)
    mask = np.asarray(mask).reshape(rgb.shape[:2]).astype(np.int64)
    tinted = rgb.copy()
    for c in range(num_classes):
        if c == background:
            continue
        where = mask == c
        tinted[where] = (1 - alpha) * rgb[where] + alpha * colors[c]
    return tinted


def _display(image: np.ndarray) -> np.ndarray:
    """An image as RGB float in [0, 1]: uint8 / 255, other ranges (normalised input) stretched."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        out = image.astype(np.float32) / 255.0
    else:
        out = image.astype(np.float32)
        lo, hi = float(out.min()), float(out.max())
        if lo < 0.0 or hi > 1.0:
            out = (out - lo) / (hi - lo) if hi > lo else np.zeros_like(out)
    if out.ndim == 2:
        out = out[..., None]
    if out.shape[-1] == 1:
        out = np.repeat(out, 3, axis=-1)
    return np.clip(out[..., :3], 0.0, 1.0)


def _take(data: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` ``(image, mask)`` pairs of a dataset, a batch or a pair of arrays."""
    if isinstance(data, (tuple, list)) and len(data) == 2:
        images, masks = (np.asarray(a) for a in data)
        if images.ndim == 3:
            images, masks = images[None], masks[None]
        return images[:n], masks[:n]
    if hasattr(data, "element_spec"):
        spec = data.element_spec
        if not (isinstance(spec, tuple) and len(spec) >= 2):
            raise ValueError(
                "`dataset_or_arrays` must yield (image, mask) pairs. "
                f"Received: element_spec={spec!r}"
            )
        batched = spec[0].shape.rank == 4
        images, masks = [], []
        for element in (data.unbatch() if batched else data).take(n):
            images.append(np.asarray(element[0]))
            masks.append(np.asarray(element[1]))
        if not images:
            raise ValueError("`dataset_or_arrays` is empty. Received: an empty dataset")
        return np.stack(images), np.stack(masks)
    raise TypeError(
        "`dataset_or_arrays` must be a tf.data.Dataset of (image, mask) pairs (batched or not) or "
        f"an (images, masks) pair of arrays. Received: {type(data).__name__}"
    )


def _center_crop(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    h, w = array.shape[:2]
    top, left = (h - size[0]) // 2, (w - size[1]) // 2
    return array[top : top + size[0], left : left + size[1]]


def _image_iou(true: np.ndarray, pred: np.ndarray, num_classes: int) -> float:
    scores = []
    for c in range(num_classes):
        union = np.logical_or(true == c, pred == c).sum()
        if union:
            scores.append(np.logical_and(true == c, pred == c).sum() / union)
    return float(np.mean(scores)) if scores else 1.0


def plot_segmentation_samples(
    model: Any,
    dataset_or_arrays: Any,
    path: str | os.PathLike[str],
    n: int = 4,
    class_names: Sequence[str] | None = None,
    *,
    background: int | str | None = "auto",
    alpha: float = 0.6,
    title: str | None = None,
) -> str:
    """Save a PNG of ``n`` rows: the image, the true mask over it, the predicted mask over it.

    The images are given to ``model`` as they are, so pass what the model eats (the pipeline's
    batches of normalised images); for display they are stretched back to [0, 1]. Each
    prediction panel shows that image's mean IoU.

    Args:
        model: a segmentation model (probabilities ``(B, H', W', C)``; one sigmoid channel is
            read as class 1 where ``p > 0.5``). ``H' < H`` (valid padding): the image and
            true mask are centre-cropped to the prediction.
        dataset_or_arrays: a ``tf.data.Dataset`` of ``(image, mask)`` pairs, batched or not, or
            an ``(images, masks)`` pair of arrays.
        path: where to write the PNG (atomically).
        n: number of examples (rows).
        class_names: names for the legend (default ``class 0`` …).
        background: the class left untinted: ``"auto"`` (the class named "background", else
            0), an index, or ``None`` to tint every class.
        alpha: opacity of the tint.
        title: the figure's title.

    Returns:
        ``path`` as a string.

    Raises:
        ValueError: for ``n < 1``, an empty dataset or masks whose size does not fit.
        TypeError: for data that is neither a dataset nor a pair of arrays.

    Example:
        >>> test = make_pipeline(ds, info, training=False, batch_size=8)
        >>> plot_segmentation_samples(model, test, "run/segmentation.png", n=4,
        ...                           class_names=info.class_names)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"`n` must be a positive integer. Received: n={n!r}")
    images, masks = _take(dataset_or_arrays, n)
    probs = np.asarray(model.predict(images, verbose=0))
    if probs.shape[-1] == 1:
        num_classes = 2
        preds = (probs[..., 0] > 0.5).astype(np.int64)
    else:
        num_classes = probs.shape[-1]
        preds = probs.argmax(axis=-1)
    if class_names is None:
        class_names = [f"class {i}" for i in range(num_classes)]
    class_names = list(class_names)
    if len(class_names) < num_classes:
        class_names += [f"class {i}" for i in range(len(class_names), num_classes)]
    if background == "auto":
        lowered = [c.lower() for c in class_names]
        background = lowered.index("background") if "background" in lowered else 0
    out_size = preds.shape[1:3]
    rows = len(images)
    fig, axes = plt.subplots(rows, 3, figsize=(9.0, 3.0 * rows + 0.6), squeeze=False)
    for i in range(rows):
        image = images[i]
        mask = np.asarray(masks[i]).reshape(masks[i].shape[:2]).astype(np.int64)
        if image.shape[:2] != out_size:
            if image.shape[0] < out_size[0] or image.shape[1] < out_size[1]:
                raise ValueError(
                    f"The model's output {tuple(out_size)} is larger than its input "
                    f"{image.shape[:2]}. Received: model={getattr(model, 'name', model)!r}"
                )
            image = _center_crop(image, out_size)
        if mask.shape != tuple(out_size):
            if mask.shape[0] < out_size[0] or mask.shape[1] < out_size[1]:
                raise ValueError(
                    f"The masks ({mask.shape}) are smaller than the predictions "
                    f"{tuple(out_size)}. Received: masks of shape {np.asarray(masks).shape}"
                )
            mask = _center_crop(mask, out_size)
        panels = (
            (_display(image), "image"),
            (overlay(image, mask, num_classes, background=background, alpha=alpha), "true mask"),
            (
                overlay(image, preds[i], num_classes, background=background, alpha=alpha),
                f"prediction (IoU {_image_iou(mask, preds[i], num_classes):.2f})",
            ),
        )
        for ax, (picture, label) in zip(axes[i], panels):
            ax.imshow(picture, interpolation="nearest")
            ax.set_title(label, fontsize=10)
            ax.axis("off")
    colors = class_colors(num_classes, background)
    handles = [
        Patch(facecolor=colors[c], label=class_names[c])
        for c in range(num_classes) if c != background
    ]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6) or 1, frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    path = os.fspath(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return path
