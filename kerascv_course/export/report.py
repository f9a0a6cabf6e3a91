"""Verification of an export: the TFLite model through LiteRT next to the Keras model it came from.

:func:`compare_tflite` runs both on the same held-out images and measures accuracy, top-1
agreement, the largest absolute difference between their output probabilities and single-image
latency; :func:`format_report` prints a report as a table.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kerascv_course.export.inference import TFLiteClassifier, softmax


def keras_latency(model: keras.Model, runs: int = 50, warmup: int = 5, seed: int = 0) -> dict[str, float]:
    """Single-image latency of ``model`` in milliseconds (a traced ``tf.function``, no ``predict``).

    Returns:
        ``{"median_ms", "mean_ms", "min_ms", "runs"}``.
    """
    shape = (1, *model.input_shape[1:])
    x = tf.constant(np.random.default_rng(seed).uniform(0, 1, shape).astype(np.float32))
    call = tf.function(lambda t: model(t, training=False))
    for _ in range(max(warmup, 1)):
        call(x).numpy()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call(x).numpy()
        times.append((time.perf_counter() - start) * 1000.0)
    return {
        "median_ms": float(np.median(times)),
        "mean_ms": float(np.mean(times)),
        "min_ms": float(np.min(times)),
        "runs": runs,
    }


def keras_probabilities(model: keras.Model, images: np.ndarray, output: str = "probabilities", batch_size: int = 64) -> np.ndarray:
    """The Keras model's class probabilities for ``images`` (softmax applied to logits)."""
    probs = np.asarray(model.predict(images.astype(np.float32), batch_size=batch_size, verbose=0), np.float32)
    return softmax(probs) if output == "logits" else probs


def compare_tflite(
    tflite_path: str | os.PathLike[str],
    keras_model: keras.Model,
    images: np.ndarray | None = None,
    labels: Sequence[int] | np.ndarray | None = None,
    *,
    keras_probs: np.ndarray | None = None,
    latency_runs: int = 50,
    num_threads: int | None = None,
) -> dict[str, Any]:
    """Measure a ``.tflite`` model against the Keras model it was exported from.

    Args:
        tflite_path: the exported file.
        keras_model: the Keras model that takes the same input as the ``.tflite`` (the
            preprocessing wrapper when preprocessing was folded).
        images: held-out images ``(N, H, W, C)`` in that input space; ``None`` measures only size
            and latency.
        labels: their integer labels (``None``: no accuracy, only agreement and differences).
        keras_probs: the Keras model's probabilities for ``images`` if already computed.
        latency_runs: single-image invocations timed (median reported); 0 skips timing.
        num_threads: LiteRT interpreter threads.

    Returns:
        A dict: ``path``, ``quantization``, ``per_channel`` (int8 only, else ``None``),
        ``size_bytes``, ``input_type``, ``output_type``, ``accuracy``, ``keras_accuracy``,
        ``agreement`` (fraction of images where both models' top-1 class is the same),
        ``max_abs_diff`` (largest absolute difference of the output probabilities),
        ``latency_ms`` (median single-image LiteRT latency), ``num_images``.
    """
    clf = TFLiteClassifier(tflite_path, num_threads=num_threads, check_export=False)  # not yet published
    result: dict[str, Any] = {
        "path": os.fspath(tflite_path),
        "quantization": clf.metadata.get("quantization"),
        "per_channel": clf.metadata.get("per_channel"),
        "size_bytes": os.path.getsize(tflite_path),
        "input_type": clf.input_dtype.name,
        "output_type": clf.output_dtype.name,
        "num_images": 0,
        "accuracy": None,
        "keras_accuracy": None,
        "agreement": None,
        "max_abs_diff": None,
        "latency_ms": None,
    }
    if images is not None and len(images):
        output = clf.metadata.get("output", "probabilities")
        if keras_probs is None:
            keras_probs = keras_probabilities(keras_model, images, output)
        lite_probs = clf.predict_proba(images)
        lite_top, keras_top = lite_probs.argmax(-1), keras_probs.argmax(-1)
        result.update(
            num_images=int(len(images)),
            agreement=float(np.mean(lite_top == keras_top)),
            max_abs_diff=float(np.max(np.abs(lite_probs - keras_probs))),
        )
        if labels is not None:
            labels = np.asarray(labels).reshape(lite_top.shape)
            result.update(
                accuracy=float(np.mean(lite_top == labels)),
                keras_accuracy=float(np.mean(keras_top == labels)),
            )
    if latency_runs:
        result["latency_ms"] = clf.measure_latency(runs=latency_runs)["median_ms"]
    return result


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return f"{100 * value:.2f} %"
    if kind == "mb":
        return f"{value / 1e6:.3f}"
    if kind == "ms":
        return f"{value:.2f}"
    if kind == "sci":
        return f"{value:.2e}"
    return str(value)


def format_report(report: dict[str, Any]) -> str:
    """A plain-text table of an export report (one row for Keras, one per export)."""
    keras_row = report.get("keras", {})
    rows = [
        (
            "keras",
            keras_row.get("dtype", "float32"),
            _fmt(keras_row.get("size_bytes"), "mb"),
            _fmt(keras_row.get("accuracy"), "pct"),
            "-",
            "-",
            _fmt(keras_row.get("latency_ms"), "ms"),
        )
    ]
    for row in report.get("exports", []):
        rows.append(
            (
                f"tflite {row['quantization']}" + (" per-tensor" if row.get("per_channel") is False else ""),
                f"{row['input_type']}->{row['output_type']}",
                _fmt(row["size_bytes"], "mb"),
                _fmt(row["accuracy"], "pct"),
                _fmt(row["agreement"], "pct"),
                _fmt(row["max_abs_diff"], "sci"),
                _fmt(row["latency_ms"], "ms"),
            )
        )
    header = ("model", "I/O", "size MB", "accuracy", "top-1 agree", "max |diff|", "ms/image")
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    lines = [" | ".join(str(v).ljust(w) for v, w in zip(header, widths))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(str(v).ljust(w) for v, w in zip(r, widths)) for r in rows]
    title = report.get("title")
    if title:
        lines.insert(0, title)
    n = report.get("num_images")
    if n:
        lines.append(f"held-out images: {n}" + (f" ({report['split']} split of {report['dataset']})" if report.get("dataset") else ""))
    return "\n".join(lines)
