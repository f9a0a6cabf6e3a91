"""Plots of a hyperparameter search: the objective per trial, and against the hyperparameters.

Both functions take the trials table (one dict per trial, as ``trials.csv`` holds it) and write a
PNG. :func:`hparam_importance` ranks the hyperparameters by how much of the objective's spread
they explain, which decides the panels of :func:`plot_hparams`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from kerascv_course.viz.figures import save_png  # noqa: E402


def _score(row: Mapping[str, Any], objective: str) -> float | None:
    value = row.get(objective)
    if value in (None, ""):
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _numeric(values: Sequence[Any]) -> np.ndarray | None:
    """``values`` as floats, or ``None`` if any is not a number (booleans count as categories)."""
    out = []
    for v in values:
        if isinstance(v, bool) or v in ("True", "False"):
            return None
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            return None
    return np.asarray(out, dtype=float)


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=float)
    ranks[order] = np.arange(len(x), dtype=float)
    for value in np.unique(x):  # ties share their mean rank
        tied = x == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def hparam_importance(
    rows: Sequence[Mapping[str, Any]], *, objective: str, hparams: Sequence[str]
) -> list[tuple[str, float]]:
    """Rank hyperparameters by the share of the objective's variance they explain, in [0, 1].

    Numeric hyperparameters score the squared Spearman rank correlation with the objective (a
    monotone trend, whatever the scale); categorical ones the correlation ratio eta² (between-group
    over total variance). Only finished trials count. A score is multiplied by the share of
    finished trials in which the hyperparameter was active (``momentum`` only acts with some
    optimizers); one seen in fewer than 3 trials, or that never varied, scores 0. With few trials
    this is a rough guide, not a test.

    Returns:
        ``[(name, score)]``, most important first.
    """
    done = [r for r in rows if _score(r, objective) is not None]
    scores = []
    for name in hparams:
        pairs = [(r.get(name), _score(r, objective)) for r in done if r.get(name) not in (None, "")]
        if len(pairs) < 3:
            scores.append((name, 0.0))
            continue
        coverage = len(pairs) / len(done)
        values = [p[0] for p in pairs]
        y = np.asarray([p[1] for p in pairs], dtype=float)
        if np.ptp(y) == 0:
            scores.append((name, 0.0))
            continue
        x = _numeric(values)
        if x is not None:
            if np.ptp(x) == 0:
                scores.append((name, 0.0))
                continue
            rho = np.corrcoef(_ranks(x), _ranks(y))[0, 1]
            scores.append((name, float(rho * rho * coverage)))
        else:
            labels = [str(v) for v in values]
            total = float(((y - y.mean()) ** 2).sum())
            between = sum(
                (y[[lab == g for lab in labels]].mean() - y.mean()) ** 2 * labels.count(g)
                for g in set(labels)
            )
            scores.append((name, float(between / total * coverage)))
    return sorted(scores, key=lambda s: -s[1])


def trial_numbers(rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """The x position of each trial in :func:`plot_trials`: its ``trial`` column (keras-tuner's
    trial id, as in ``trials.csv``, the command's table and ``trials/trial_<id>``); rows without
    one are numbered by position from 0."""
    return [int(row["trial"]) if str(row.get("trial", "")).isdigit() else i
            for i, row in enumerate(rows)]


def best_point(rows: Sequence[Mapping[str, Any]], *, objective: str, direction: str = "max",
               best: str | None = None) -> tuple[int, float] | None:
    """Where :func:`plot_trials` stars the best trial: ``(trial number, score)``; the trial
    ``best`` when given, else the first best score; ``None`` when no trial has a score."""
    points = [(x, _score(r, objective), r) for x, r in zip(trial_numbers(rows), rows)]
    points = [p for p in points if p[1] is not None]
    if best is not None:
        points = [p for p in points if str(p[2].get("trial")) == str(best)] or points
    if not points:
        return None
    pick = max if direction == "max" else min
    x, y, _ = pick(points, key=lambda p: p[1])
    return x, y


def plot_trials(
    rows: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    objective: str,
    direction: str = "max",
    title: str | None = None,
    best: str | None = None,
) -> str:
    """Save a PNG of the objective of every trial, in trial order, with the best so far.

    Args:
        rows: the trials table (``trial``, ``status`` and ``objective`` columns used); a trial is
            drawn at its ``trial`` number (:func:`trial_numbers`), so the starred best trial has
            the number the command prints and ``trials.csv`` holds.
        path: where to write the PNG (atomically).
        objective: the objective's column.
        direction: ``"max"`` or ``"min"`` (which way "best so far" runs).
        title: the figure's title.
        best: the best trial's id (the oracle's pick among ties); default the best score.

    Returns:
        ``path`` as a string.
    """
    if direction not in ("max", "min"):
        raise ValueError(f"`direction` must be 'max' or 'min'. Received: direction={direction!r}")
    xs, ys, failed = [], [], []
    for i, row in zip(trial_numbers(rows), rows):
        score = _score(row, objective)
        if score is None:
            failed.append(i)
        else:
            xs.append(i)
            ys.append(score)
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    if ys:
        ax.plot(xs, ys, "o", ms=6, label=f"trial {objective}")
        pick = np.maximum if direction == "max" else np.minimum
        ax.step(xs, pick.accumulate(np.asarray(ys)), where="post", color="tab:orange",
                label="best so far")
        star = best_point(rows, objective=objective, direction=direction, best=best)
        if star is not None:
            ax.plot([star[0]], [star[1]], "*", ms=16, color="tab:red", label=f"best trial ({star[0]})")
    if failed:
        low = min(ys) if ys else 0.0
        ax.plot(failed, [low] * len(failed), "x", color="gray", ms=8, label="failed")
    ax.set_xlabel("trial")
    ax.set_ylabel(objective.replace("_", " "))
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=min(len(rows), 15)))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return save_png(fig, path)


def plot_hparams(
    rows: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    objective: str,
    hparams: Sequence[str],
    log_scale: Collection[str] = (),
    categories: Mapping[str, Sequence[Any]] | None = None,
    top: int = 4,
    title: str | None = None,
) -> str:
    """Save a PNG of the objective against the ``top`` most important hyperparameters.

    One panel per hyperparameter (ranked by :func:`hparam_importance`, the score in the panel's
    title): a scatter over the value for numbers (log axis for names in ``log_scale``), the trials
    per category with the category's mean for choices (in the order ``categories`` gives, else
    sorted).

    Returns:
        ``path`` as a string.
    """
    if not hparams:
        raise ValueError(f"`hparams` must name at least one hyperparameter. Received: hparams={hparams!r}")
    ranked = hparam_importance(rows, objective=objective, hparams=hparams)[:max(1, top)]
    done = [r for r in rows if _score(r, objective) is not None]
    fig, axes = plt.subplots(1, len(ranked), figsize=(3.6 * len(ranked), 3.4), squeeze=False)
    for ax, (name, score) in zip(axes[0], ranked):
        pairs = [(r.get(name), _score(r, objective)) for r in done if r.get(name) not in (None, "")]
        values = [p[0] for p in pairs]
        ys = [p[1] for p in pairs]
        x = _numeric(values) if values else None
        if x is not None:
            ax.plot(x, ys, "o", ms=6)
            if name in log_scale and x.size and x.min() > 0:
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            elif x.size and np.all(x == np.round(x)):  # batch sizes, depths: whole-number ticks
                ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        elif values:
            seen = {str(v) for v in values}
            order = [str(c) for c in (categories or {}).get(name, ())]
            labels = [c for c in order if c in seen] + sorted(seen - set(order))
            pos = {lab: i for i, lab in enumerate(labels)}
            ax.plot([pos[str(v)] for v in values], ys, "o", ms=6, alpha=0.8)
            means = [np.mean([y for v, y in pairs if str(v) == lab]) for lab in labels]
            ax.plot(range(len(labels)), means, "_", ms=28, mew=2, color="tab:red", label="mean")
            ax.set_xticks(range(len(labels)))
            ax.set_xticklabels(labels, rotation=30 if len(labels) > 3 else 0, fontsize=8)
            ax.set_xlim(-0.5, len(labels) - 0.5)
            ax.legend(fontsize=8)
        rank = f"importance {score:.2f}" if len(done) >= 3 else "unranked: < 3 finished trials"
        ax.set_title(f"{name} ({rank})", fontsize=10)
        ax.set_xlabel(name)
        ax.set_ylabel(objective.replace("_", " "))
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_png(fig, path)
