"""Comparing architectures as Canziani, Paszke & Culurciello (2016, "An analysis of deep neural
network models for practical applications", arXiv:1605.07678) did: accuracy against operations,
parameters, latency and throughput — the course's "other ways to compare them?".

Each row gives a model's parameters and multiply-accumulates (the figures of ``kerascv-course
summary``: :func:`~kerascv_course.viz.layers.layer_table`), its latency at batch 1 and throughput at
batch ``batch_size`` measured on this machine (median of ``repeats`` timed forward passes after a
warm-up), and its accuracy: the published ImageNet top-1/top-5 of the registry
(:mod:`kerascv_course.models.published`, with the source), or, for a user's run folder, the test
accuracy on that run's dataset.
"""

from __future__ import annotations

import csv
import io
import math
import os
import textwrap
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerascv_course.utils.files import write_text  # noqa: E402
from kerascv_course.viz.figures import save_png  # noqa: E402
from kerascv_course.viz.layers import _si, layer_table  # noqa: E402

COLUMNS = ("name", "kind", "dataset", "input", "params", "macs", "top1", "top5", "latency_ms",
           "throughput", "batch_size", "source")


@dataclass
class CompareRow:
    """One row of the comparison (accuracies in percent; ``None`` where unknown)."""

    name: str
    kind: str  # "zoo" (published ImageNet accuracy) or "run" (the run's test accuracy)
    dataset: str
    input: str
    params: int
    macs: int
    top1: float | None
    top5: float | None
    latency_ms: float | None
    throughput: float | None
    batch_size: int
    source: str


def cost(model: keras.Model) -> tuple[int, int]:
    """``(parameters, multiply-accumulates)`` of ``model``: the totals of ``kerascv-course summary``."""
    rows = layer_table(model)
    return sum(r.params for r in rows), sum(r.macs for r in rows)


def measure(model: keras.Model, *, batch_size: int = 32, repeats: int = 5) -> tuple[float, float]:
    """``(latency in ms at batch 1, images/s at batch_size)``: medians of ``repeats`` timed
    inference passes on random inputs, after one untimed pass (tracing, allocation)."""
    shape = tuple(model.input_shape[1:])
    if any(d is None for d in shape):
        raise ValueError(f"Timing needs a fixed input size; {model.name!r} takes {shape}. Received: {shape}")
    forward = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def median_seconds(batch: int) -> float:
        x = tf.random.uniform((batch, *shape))
        tf.nest.map_structure(np.asarray, forward(x))
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            tf.nest.map_structure(np.asarray, forward(x))  # waits for the result
            times.append(time.perf_counter() - start)
        return float(np.median(times))

    return 1000.0 * median_seconds(1), batch_size / median_seconds(batch_size)


def _shape_text(model: keras.Model) -> str:
    return "x".join("?" if d is None else str(d) for d in model.input_shape[1:])


def zoo_row(name: str, model: keras.Model, imagenet: dict[str, Any] | None, *, batch_size: int = 32,
            repeats: int = 5, timing: bool = True) -> CompareRow:
    """The row of a zoo model (built by the caller at the size to measure)."""
    params, macs = cost(model)
    latency, throughput = measure(model, batch_size=batch_size, repeats=repeats) if timing else (None, None)
    published = imagenet or {}
    return CompareRow(name=name, kind="zoo", dataset="imagenet" if imagenet else "", input=_shape_text(model),
                      params=params, macs=macs, top1=published.get("top1"), top5=published.get("top5"),
                      latency_ms=latency, throughput=throughput, batch_size=batch_size,
                      source=str(published.get("source", "")))


def run_row(name: str, model: keras.Model, dataset: str, metrics: dict[str, Any], *, batch_size: int = 32,
            repeats: int = 5, timing: bool = True) -> CompareRow:
    """The row of a user's run: its model's cost and speed, its test accuracy on its dataset."""
    params, macs = cost(model)
    latency, throughput = measure(model, batch_size=batch_size, repeats=repeats) if timing else (None, None)
    top5 = metrics.get("top5_accuracy")
    return CompareRow(name=name, kind="run", dataset=dataset, input=_shape_text(model), params=params, macs=macs,
                      top1=100.0 * float(metrics["accuracy"]), top5=None if top5 is None else 100.0 * float(top5),
                      latency_ms=latency, throughput=throughput, batch_size=batch_size,
                      source="metrics.json (test split)")


def write_csv(rows: Sequence[CompareRow], path: str) -> str:
    """The rows as CSV (:data:`COLUMNS`; empty cells where unknown), atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        values = asdict(row)
        writer.writerow(["" if values[c] is None else values[c] for c in COLUMNS])
    write_text(path, buffer.getvalue())
    return path


def _fmt(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def markdown_table(rows: Sequence[CompareRow]) -> str:
    """The rows as a Markdown table."""
    batch = rows[0].batch_size if rows else 32
    lines = [
        f"| model | dataset | input | parameters | G-MACs | top-1 % | top-5 % | latency ms (batch 1) | "
        f"images/s (batch {batch}) | accuracy source |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        name = f"`{r.name}`" if r.kind == "zoo" else f"run `{r.name}`"
        lines.append(
            f"| {name} | {r.dataset} | {r.input} | {r.params:,} | {r.macs / 1e9:.4g} | {_fmt(r.top1)} | "
            f"{_fmt(r.top5)} | {_fmt(r.latency_ms, 2)} | {_fmt(r.throughput, 1)} | {r.source} |"
        )
    return "\n".join(lines) + "\n"


def plot_compare(rows: Sequence[CompareRow], path: str | os.PathLike[str], *, title: str | None = None) -> str:
    """Top-1 accuracy against operations (G-MACs, log scale) and against latency, bubble area
    proportional to the parameters (Canziani et al. 2016, Fig. 2); the user's runs as stars.

    Rows without a top-1 accuracy are left off the chart (named below it).
    """
    shown = [r for r in rows if r.top1 is not None and r.macs > 0]
    left_out = [r.name for r in rows if r not in shown]
    if not shown:
        raise ValueError(
            "No row has both a top-1 accuracy and operations to plot (zoo models need a published "
            f"ImageNet accuracy, runs a test accuracy). Received: {[r.name for r in rows]}"
        )
    timed = any(r.latency_ms for r in shown)
    fig, axes = plt.subplots(1, 2 if timed else 1, figsize=(14 if timed else 7.5, 6), squeeze=False)
    largest = max(r.params for r in shown) or 1
    cmap = plt.get_cmap("tab20")
    for ax, key, label in zip(axes[0], ("macs", "latency_ms"),
                              ("operations (G multiply-accumulates, log scale)", "latency at batch 1 (ms, log scale)")):
        for i, r in enumerate(shown):
            x = r.macs / 1e9 if key == "macs" else r.latency_ms
            if not x:
                continue
            size = 40 + 1500 * r.params / largest
            if r.kind == "run":
                ax.scatter([x], [r.top1], s=size, marker="*", color="black", alpha=0.8, edgecolors="white")
                text = f"{r.name} ({r.dataset})"
            else:
                ax.scatter([x], [r.top1], s=size, color=cmap(i % 20), alpha=0.6, edgecolors="black", linewidths=0.5)
                text = r.name
            ax.annotate(text, (x, r.top1), fontsize=7, ha="center", va="bottom", xytext=(0, 4),
                        textcoords="offset points")
        ax.set_xscale("log")
        ax.margins(x=0.12, y=0.12)
        ax.set_xlabel(label)
        ax.set_ylabel("top-1 accuracy (%): published ImageNet; runs: their test set")
        ax.grid(alpha=0.3, which="both")
    axes[0][0].set_title("accuracy vs operations (bubble area: parameters)")
    if timed:
        axes[0][1].set_title("accuracy vs latency (this machine)")
    note = f"bubble area proportional to parameters (largest: {largest:,})"
    if left_out:
        note += "; not plotted (no top-1 accuracy): " + ", ".join(left_out[:12]) + (" …" if len(left_out) > 12 else "")
    lines = textwrap.wrap(note, width=230 if timed else 120)
    fig.text(0.5, 0.005, "\n".join(lines), ha="center", va="bottom", fontsize=8)
    fig.suptitle(title or "Comparing architectures (in the manner of Canziani et al. 2016)")
    fig.tight_layout(rect=(0, 0.02 + 0.025 * len(lines), 1, 1))
    return save_png(fig, path)


def progress_line(index: int, total: int, row: CompareRow) -> str:
    """One line per measured model."""
    speed = ""
    if row.latency_ms is not None and row.throughput is not None and math.isfinite(row.throughput):
        speed = f", {row.latency_ms:.1f} ms (batch 1), {row.throughput:.1f} img/s (batch {row.batch_size})"
    accuracy = "" if row.top1 is None else f", top-1 {row.top1:.1f} %"
    return (f"[{index}/{total}] {row.name} {row.input}: {row.params:,} params, "
            f"{_si(row.macs)} MACs{speed}{accuracy}")
