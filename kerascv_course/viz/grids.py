"""Image grids: a page of samples, and original-versus-augmented comparisons."""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from kerascv_course.viz.figures import save_png  # noqa: E402


def _displayable(image: np.ndarray) -> tuple[np.ndarray, str | None]:
    """``uint8`` or float ``[0, 1]`` image as matplotlib wants it (grey squeezed, float clipped)."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.dtype != np.uint8:
        image = np.clip(image.astype(np.float32), 0.0, 1.0)
    cmap = "gray" if image.ndim == 2 else None
    return image, cmap


def image_grid(
    rows: Sequence[Sequence[np.ndarray]],
    path: str | os.PathLike[str],
    *,
    row_labels: Sequence[str] | None = None,
    column_titles: Sequence[str] | None = None,
    title: str | None = None,
    cell: float = 1.6,
) -> str:
    """Save a PNG grid: ``rows[i][j]`` is the image in row ``i``, column ``j``.

    Args:
        rows: images (``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)``; uint8 or float in [0, 1]); rows
            may differ in image size.
        path: where to write the PNG (atomically).
        row_labels: one label per row, shown at the left.
        column_titles: one title per column, shown above the first row.
        title: the figure's title.
        cell: size of one cell in inches.

    Returns:
        ``path`` as a string.
    """
    if not rows or not rows[0]:
        raise ValueError("`rows` must hold at least one image. Received: rows=[]")
    nrows, ncols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(cell * ncols + (0.9 if row_labels else 0.2), cell * nrows + (0.5 if title else 0.1)),
        squeeze=False,
    )
    for i, row in enumerate(rows):
        for j in range(ncols):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j < len(row):
                image, cmap = _displayable(row[j])
                ax.imshow(image, cmap=cmap, vmin=0, vmax=255 if image.dtype == np.uint8 else 1, interpolation="nearest")
            if i == 0 and column_titles and j < len(column_titles):
                ax.set_title(column_titles[j], fontsize=8)
        if row_labels and i < len(row_labels):
            axes[i][0].set_ylabel(row_labels[i], fontsize=9, rotation=0, ha="right", va="center")
    top = 1.0
    if title:
        fig.suptitle(title, fontsize=11)
        top = 1.0 - 0.45 / fig.get_figheight()
    fig.tight_layout(pad=0.3, rect=(0.0, 0.0, 1.0, top))
    return save_png(fig, path, dpi=100)
