"""Training curves: loss and metrics per epoch, training next to validation."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

from kerascv_course.viz.figures import save_png  # noqa: E402


def _epoch_ticks(ax: Any, epochs: int) -> None:
    """Whole-number epoch ticks: every epoch up to 12, else at most about 10 whole numbers."""
    if epochs <= 12:
        ax.set_xticks(range(1, epochs + 1))
        ax.set_xlim(0.5, epochs + 0.5)
    else:
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=10, integer=True))


def _trivial(history: Mapping[str, Sequence[float]], key: str) -> bool:
    """A top-k accuracy that is 1.0 at every epoch, train and validation (five classes or fewer
    make top-5 certain): a flat line at 1 that says nothing, so it gets no panel."""
    if not key.startswith("top") or "accuracy" not in key:
        return False
    values = [*history[key], *history.get(f"val_{key}", [])]
    return bool(values) and all(v == 1.0 for v in values)


def plot_history(
    history: Mapping[str, Sequence[float]],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
) -> str:
    """Save a PNG with one panel per quantity (loss, accuracy, …), train and validation together.

    Args:
        history: ``{"loss": [...], "val_loss": [...], "accuracy": [...], ...}`` as Keras'
            ``History.history`` or ``history.csv`` gives it (an ``epoch`` key is ignored; a top-5
            accuracy of 1.0 throughout, as with five classes or fewer, gets no panel). Epoch
            ticks are whole numbers.
        path: where to write the PNG (atomically).
        title: the figure's title.

    Returns:
        ``path`` as a string.
    """
    keys = [k for k in history if not k.startswith("val_") and k not in ("epoch", "learning_rate")
            and not _trivial(history, k)]
    if not keys:
        raise ValueError(f"`history` has no metric to plot. Received keys: {list(history)}")
    lr = history.get("learning_rate")
    panels = len(keys) + (1 if lr else 0)
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.4), squeeze=False)
    for ax, key in zip(axes[0], keys):
        values = list(history[key])
        epochs = range(1, len(values) + 1)
        ax.plot(epochs, values, "o-", ms=3, label="train")
        if f"val_{key}" in history:
            ax.plot(epochs, list(history[f"val_{key}"]), "s--", ms=3, label="validation")
        ax.set_title(key.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.set_ylabel(key.replace("_", " "))
        _epoch_ticks(ax, len(values))
        ax.grid(alpha=0.3)
        ax.legend()
        if "loss" in key and min(values) > 0 and max(values) / max(min(values), 1e-12) > 30:
            ax.set_yscale("log")
    if lr:
        ax = axes[0][-1]
        ax.plot(range(1, len(lr) + 1), list(lr), "o-", ms=3, color="tab:green")
        ax.set_title("learning rate")
        ax.set_xlabel("epoch")
        ax.set_ylabel("learning rate")
        _epoch_ticks(ax, len(lr))
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_png(fig, path)
