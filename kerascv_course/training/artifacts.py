"""What a finished run leaves in its folder: models, history, plots and, last, the metrics.

``model.keras`` and ``best.keras`` (the best validation epoch's weights), ``history.csv`` (one row
per epoch) and ``history.png``, ``segmentation.png`` for segmentation runs, and ``metrics.json`` —
written last, so its presence marks a finished run.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np

from kerascv_course.training.checkpoint import load_variables
from kerascv_course.training.run_folder import RunFolder
from kerascv_course.utils.files import atomic_path, write_text
from kerascv_course.utils.model_card import model_card, write_card


def history_columns(rows: list[dict[str, float]]) -> dict[str, list[float]]:
    """``{column: [value per epoch]}`` from per-epoch rows (missing values are NaN)."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    return {k: [row.get(k, float("nan")) for row in rows] for k in keys}


def write_history_csv(path: str, rows: list[dict[str, float]]) -> None:
    """Write ``history.csv`` (floats with ``repr``, so they read back exactly), atomically."""
    columns = history_columns(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(columns))
    for i in range(len(rows)):
        writer.writerow([repr(columns[k][i]) if isinstance(columns[k][i], float) else columns[k][i] for k in columns])
    write_text(path, buffer.getvalue())


def read_history_csv(path: str) -> dict[str, list[float]]:
    """``history.csv`` as ``{column: [values per epoch]}``."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {key: [float(r[key]) for r in rows] for key in (rows[0] if rows else {})}


#: A training loss this many times its first epoch's is an explosion (reported, not a normal run).
EXPLOSION_FACTOR = 100.0


def loss_status(rows: list[dict[str, float]], factor: float = EXPLOSION_FACTOR) -> dict[str, Any]:
    """``{"status": "ok"}``, or ``{"status": "loss_exploded", "loss_exploded": {...}, "warning":
    line}`` when an epoch's training loss exceeds ``factor`` times the first epoch's without
    becoming NaN (a NaN stops the run earlier, in the loop)."""
    losses = [(row.get("epoch"), row.get("loss")) for row in rows]
    losses = [(e, float(v)) for e, v in losses if v is not None and np.isfinite(v)]
    if len(losses) < 2 or losses[0][1] <= 0:
        return {"status": "ok"}
    first = losses[0][1]
    for epoch, value in losses[1:]:
        if value > factor * first:
            return {
                "status": "loss_exploded",
                "loss_exploded": {"epoch": epoch, "loss": value, "first_epoch_loss": first, "factor": factor},
                "warning": (
                    f"The training loss exploded: {value:.4g} at epoch {epoch}, more than {factor:g}x "
                    f"the first epoch's {first:.4g}; the model is not a normal result. Try a lower "
                    f"learning rate, gradient clipping (clipnorm) or a warm-up."
                ),
            }
    return {"status": "ok"}


def final_metrics(logs: dict[str, float], task: str) -> dict[str, float]:
    """The test metrics as floats, with top-1/top-5 error for classification."""
    metrics = {k: float(v) for k, v in logs.items()}
    if task == "classification":
        metrics["top1_error"] = 1.0 - metrics["accuracy"]
        metrics["top5_error"] = 1.0 - metrics["top5_accuracy"]
    return metrics


def save_model(model: Any, path: str) -> None:
    """``model.save`` into ``path`` atomically, with the model's card inside
    (:mod:`kerascv_course.utils.model_card`) when it has one; a model trained with auxiliary
    classifiers is saved without them (:func:`~kerascv_course.training.model.inference_model`)."""
    from kerascv_course.training.model import inference_model

    card = model_card(model)
    with atomic_path(path) as tmp:
        inference_model(model).save(tmp)
        if card is not None:
            write_card(tmp, card)


def save_best(model: Any, npz: str, path: str) -> None:
    """Write ``best.keras``: the model with the best epoch's variables, then restore the final ones."""
    final = [np.asarray(v.numpy()) for v in model.variables]
    load_variables(npz, model, optimizer=False)
    save_model(model, path)
    for variable, value in zip(model.variables, final):
        variable.assign(value)


def write_history(run: RunFolder, rows: list[dict[str, float]], title: str) -> dict[str, list[float]]:
    """``history.csv`` and ``history.png``; returns the history as columns."""
    from kerascv_course.viz.curves import plot_history

    history = history_columns(rows)
    if rows:
        write_history_csv(run.file(RunFolder.HISTORY_CSV), rows)
        plot_history({k: v for k, v in history.items() if k != "epoch"}, run.file(RunFolder.HISTORY_PNG), title=title)
    return history


class DirectPredictor:
    """``predict`` by calling the model directly: no ``strategy.run``, so no collective op that
    the other workers of a multi-worker run (which do not plot) would have to join."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, images: Any, verbose: int = 0) -> np.ndarray:
        import tensorflow as tf

        return np.asarray(self.model(tf.convert_to_tensor(images), training=False))


def write_segmentation_samples(run: RunFolder, model: Any, batches: Any, class_names: list[str]) -> None:
    """``segmentation.png``: a few test images, their masks and the model's."""
    from kerascv_course.viz.overlays import plot_segmentation_samples

    plot_segmentation_samples(DirectPredictor(model), batches, run.file(RunFolder.SEGMENTATION_PNG),
                              n=4, class_names=class_names)
