"""Confusion-matrix plots: which classes a classifier mistakes for which."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from kerascv_course.viz.figures import save_png  # noqa: E402

MAX_LABELLED_CLASSES = 30  # beyond this the axes carry no class names, and cells no numbers


def plot_confusion_matrix(
    matrix: Any,
    path: str | os.PathLike[str],
    *,
    class_names: Sequence[str] | None = None,
    normalize: bool = True,
    title: str | None = None,
) -> str:
    """Save a PNG of a confusion matrix (rows: true class, columns: predicted class).

    Args:
        matrix: ``(C, C)`` counts, ``matrix[i, j]`` = examples of class ``i`` predicted as ``j``.
        path: where to write the PNG (atomically).
        class_names: one name per class (shown when there are at most 30 classes).
        normalize: colour by the fraction of each true class (each row sums to 1); the cells
            show those fractions as percentages, or the counts when ``False``.
        title: the figure's title.

    Returns:
        ``path`` as a string.

    Raises:
        ValueError: for a matrix that is not square or names that do not match it.
    """
    cm = np.asarray(matrix, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
        raise ValueError(f"`matrix` must be a square (C, C) array. Received: shape={cm.shape}")
    n = cm.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(n)]
    if len(names) != n:
        raise ValueError(f"`class_names` must name {n} classes. Received: {len(names)} names")
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    side = min(12.0, max(4.5, 0.45 * n + 2.5))
    fig, ax = plt.subplots(figsize=(side + 1.2, side))
    image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else max(cm.max(), 1))
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class (cells in %)" if normalize else "examples")
    if n <= MAX_LABELLED_CLASSES:
        ax.set_xticks(range(n), labels=names, rotation=90 if max(map(len, names)) > 3 else 0)
        ax.set_yticks(range(n), labels=names)
        threshold = 0.5 * (1 if normalize else max(cm.max(), 1))
        for i in range(n):
            for j in range(n):
                if cm[i, j] == 0:
                    continue
                text = f"{100 * shown[i, j]:.0f}" if normalize else f"{int(cm[i, j])}"
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="white" if shown[i, j] > threshold else "black")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(title or f"confusion matrix (accuracy {accuracy:.1%}, {int(cm.sum())} examples)")
    fig.tight_layout()
    return save_png(fig, path)
