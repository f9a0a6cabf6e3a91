"""Per-layer gradient norms during training: vanishing and exploding gradients, measured.

:class:`GradientNorms` is a Keras callback. On a fixed probe batch it computes the gradient of
the model's training loss (the compiled loss, in training mode: batch statistics, dropout) with
respect to each layer's weights and records ``||dL/dW||_2`` per layer, from the input to the output,
at the start of training and then every ``every`` steps (or at each epoch's end). With a deep
sigmoid network the norms shrink layer after layer towards the input (Glorot & Bengio 2010,
Hochreiter 1991); ReLU, batch normalisation and residual connections are the course's
"so, what has changed?" (``recipes/vanishing_gradients.py``).

The probe leaves training untouched: the model's non-trainable state (batch-norm moving
statistics, dropout seed) is restored after each look, and nothing is applied to the weights.

A layer's norm is taken over its kernels (variables named ``kernel``, ``depthwise_kernel``,
``pointwise_kernel``, …: the weights that carry the signal); biases and batch-norm scales are left
out, so each point of the plot is one weighted layer. ``grad_norms.csv`` holds one row per
(record, layer): ``step, epoch, depth, layer, grad_norm, weight_norm`` (``step``: training steps
done; ``epoch``: epochs finished; ``depth``: 1 for the weighted layer next to the input).
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kerascv_course.utils.files import write_text

COLUMNS = ("step", "epoch", "depth", "layer", "grad_norm", "weight_norm")


def kernel_groups(model: keras.Model) -> list[tuple[str, list[Any]]]:
    """``[(layer path, [its trainable kernel variables])]`` in the model's order (input first).

    The layer path is the variable's path less its own name (``"sequential/dense_1"``).
    """
    groups: dict[str, list[Any]] = {}
    for variable in model.trainable_variables:
        path = variable.path
        layer, _, name = path.rpartition("/")
        if name.endswith("kernel"):
            groups.setdefault(layer or path, []).append(variable)
    return list(groups.items())


def layer_gradient_norms(model: keras.Model, x: Any, y: Any, *,
                         sample_weight: Any = None) -> list[tuple[str, float, float]]:
    """``[(layer, ||dL/dW||, ||W||)]`` of the compiled loss on one batch, in training mode.

    The model's non-trainable variables (moving statistics, seed states) are put back afterwards.

    Raises:
        ValueError: when the model is not compiled or has no trainable kernel.
    """
    if not getattr(model, "compiled", False):
        raise ValueError(
            f"Gradient norms need a compiled model (its loss). Received: model={model.name!r}, not compiled"
        )
    groups = kernel_groups(model)
    if not groups:
        raise ValueError(f"Model {model.name!r} has no trainable kernel whose gradient could be measured.")
    saved = [np.asarray(v.numpy()) for v in model.non_trainable_variables]
    try:
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            loss = model.compute_loss(x=x, y=y, y_pred=pred, sample_weight=sample_weight, training=True)
        variables = [v for _, vs in groups for v in vs]
        grads = tape.gradient(loss, variables)
    finally:
        for variable, value in zip(model.non_trainable_variables, saved):
            variable.assign(value)
    out, k = [], 0
    for layer, vs in groups:
        g = grads[k:k + len(vs)]
        k += len(vs)
        gsq = sum(float(tf.reduce_sum(tf.square(gi))) for gi in g if gi is not None)
        wsq = sum(float(tf.reduce_sum(tf.square(tf.cast(v, tf.float32)))) for v in vs)
        out.append((layer, math.sqrt(gsq), math.sqrt(wsq)))
    return out


class GradientNorms(keras.callbacks.Callback):
    """Record per-layer gradient norms on a fixed probe batch during training.

    Args:
        x, y: the probe batch (kept for the whole run, so records are comparable).
        every: record every this many training steps; ``None``: at each epoch's end. A record is
            always taken before the first step (step 0).

    Attributes:
        records: one dict per (record, layer) with the :data:`COLUMNS`.

    Example:
        >>> norms = GradientNorms(x[:64], y[:64], every=20)
        >>> model.fit(x, y, epochs=3, callbacks=[norms])
        >>> norms.write_csv("grad_norms.csv"); plot_grad_norms(norms.records, "grad_norms.png")
    """

    def __init__(self, x: Any, y: Any, *, every: int | None = None) -> None:
        super().__init__()
        if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise ValueError(f"`every` must be a positive integer or None. Received: every={every!r}")
        self.x, self.y, self.every = x, y, every
        self.records: list[dict[str, Any]] = []
        self.step = 0
        self.epoch = 0

    # The trainer's checkpoint carries the records, so a resumed run continues its table.
    def state_dict(self) -> dict[str, Any]:
        return dict(records=self.records, step=self.step)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.records, self.step = list(state["records"]), int(state["step"])

    def record(self) -> list[tuple[str, float, float]]:
        """Take one record now (at the current step and epoch); returns its rows."""
        rows = layer_gradient_norms(self.model, self.x, self.y)
        for depth, (layer, grad, weight) in enumerate(rows, start=1):
            self.records.append(dict(step=self.step, epoch=self.epoch, depth=depth, layer=layer,
                                     grad_norm=grad, weight_norm=weight))
        return rows

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if not self.records:
            self.record()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.step += 1
        if self.every is not None and self.step % self.every == 0:
            self.record()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = epoch + 1
        if self.every is None:
            self.record()

    def write_csv(self, path: str) -> str:
        """Write :attr:`records` as ``grad_norms.csv`` (atomically)."""
        return write_grad_norms_csv(path, self.records)


def write_grad_norms_csv(path: str, records: list[dict[str, Any]]) -> str:
    """Write gradient-norm records (:data:`COLUMNS`) as CSV, atomically; floats exact (``repr``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in records:
        writer.writerow([repr(r[c]) if isinstance(r[c], float) else r[c] for c in COLUMNS])
    write_text(path, buffer.getvalue())
    return path


def read_grad_norms_csv(path: str) -> list[dict[str, Any]]:
    """The records of a ``grad_norms.csv``."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [dict(step=int(r["step"]), epoch=int(r["epoch"]), depth=int(r["depth"]), layer=r["layer"],
                 grad_norm=float(r["grad_norm"]), weight_norm=float(r["weight_norm"])) for r in rows]
