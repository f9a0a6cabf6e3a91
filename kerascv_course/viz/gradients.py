"""Plots of per-layer gradient norms (:class:`~kerascv_course.training.gradients.GradientNorms`).

Left: the gradient norm of each weighted layer against its depth (1 = next to the input), one
line per record, on a log scale: a deep sigmoid network's norms fall by orders of magnitude
towards the input. Right: the same norms against the training step for the first, middle and
last layers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from kerascv_course.viz.figures import save_png  # noqa: E402


def _by_step(records: Sequence[Mapping[str, Any]]) -> dict[int, dict[int, float]]:
    out: dict[int, dict[int, float]] = {}
    for r in records:
        out.setdefault(int(r["step"]), {})[int(r["depth"])] = float(r["grad_norm"])
    return out


def _check(records: Sequence[Mapping[str, Any]], name: str) -> None:
    if not records:
        raise ValueError(f"`{name}` holds no gradient-norm record to plot. Received: {name}=[]")
    missing = {"step", "depth", "grad_norm"} - set(records[0])
    if missing:
        raise ValueError(f"`{name}` records need step, depth and grad_norm. Received keys: {sorted(records[0])}")


def draw_depth_profile(ax: Any, records: Sequence[Mapping[str, Any]], *, label: str | None = None,
                       color: Any = None, last_only: bool = False) -> None:
    """Draw gradient norm against layer depth on ``ax`` (log scale): one line per record, later
    records darker; ``last_only`` draws the first and last record only (for comparisons)."""
    steps = _by_step(records)
    epochs = {int(r["step"]): r.get("epoch") for r in records}
    keys = sorted(steps)
    if last_only:
        keys = [keys[0], keys[-1]] if len(keys) > 1 else keys
    cmap = plt.get_cmap("viridis")
    for i, step in enumerate(keys):
        depths = sorted(steps[step])
        values = [max(steps[step][d], 1e-30) for d in depths]
        shade = cmap(0.15 + 0.75 * i / max(len(keys) - 1, 1)) if color is None else color
        style = "--" if (last_only and i == 0 and len(keys) > 1) else "-"
        when = f"step {step}" if epochs.get(step) is None else f"step {step} ({epochs[step]} epochs done)"
        text = when if label is None else f"{label}, {when}"
        ax.plot(depths, values, style, marker="o", ms=3, color=shade, label=text,
                alpha=0.55 if style == "--" else 1.0)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("layer depth (1 = next to the input)")
    ax.set_ylabel("gradient norm ||dL/dW||")
    ax.grid(alpha=0.3, which="both")


def plot_grad_norms(records: Sequence[Mapping[str, Any]], path: str | os.PathLike[str], *,
                    title: str | None = None) -> str:
    """Save a PNG of per-layer gradient norms: against depth (one line per record) and against
    the training step (first, middle and last layer).

    Args:
        records: :attr:`GradientNorms.records` or :func:`read_grad_norms_csv`'s rows.
        path: where to write the PNG (atomically).
        title: the figure's title.

    Returns:
        ``path`` as a string.
    """
    _check(records, "records")
    steps = _by_step(records)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    shown = sorted(steps)
    if len(shown) > 8:  # at most 8 lines: evenly spaced records, the last included
        shown = [shown[i] for i in np.linspace(0, len(shown) - 1, 8).round().astype(int)]
    draw_depth_profile(left, [r for r in records if int(r["step"]) in set(shown)])
    left.set_title("per-layer gradient norm by depth")
    left.legend(fontsize=7)
    depths = sorted({int(r["depth"]) for r in records})
    names = {int(r["depth"]): str(r.get("layer", r["depth"])) for r in records}
    picks = sorted({depths[0], depths[len(depths) // 2], depths[-1]})
    for depth in picks:
        xs = [s for s in sorted(steps) if depth in steps[s]]
        right.plot(xs, [max(steps[s][depth], 1e-30) for s in xs], "o-", ms=3,
                   label=f"depth {depth}: {names[depth].rsplit('/', 1)[-1]}")
    right.set_yscale("log")
    right.set_xlabel("training step")
    right.set_ylabel("gradient norm ||dL/dW||")
    right.set_title("during training")
    right.grid(alpha=0.3, which="both")
    right.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_png(fig, path)
