"""Callbacks of the trainer: plateau decay, best-model checkpoint, NaN guard.

They are ordinary ``keras.callbacks.Callback`` objects (they also work with ``model.fit``). Those
with state that a resumed run must continue from implement ``state_dict()`` and
``load_state_dict(state)``; the trainer stores that state with each epoch's checkpoint, so a run
killed and resumed makes the same decisions as one that ran straight through.
"""

from __future__ import annotations

import logging
import math
import os
from typing import Any

import keras
import numpy as np

from kerascv_course.utils.files import atomic_path

log = logging.getLogger(__name__)


def monitor_mode(monitor: str, mode: str = "auto") -> str:
    """``"max"`` for accuracies, IoU and Dice, ``"min"`` for losses and errors (``mode="auto"``)."""
    if mode in ("min", "max"):
        return mode
    if mode != "auto":
        raise ValueError(f"`mode` must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
    name = monitor.lower()
    return "max" if any(k in name for k in ("acc", "iou", "dice", "auc", "precision", "recall")) else "min"


def _improved(value: float, best: float | None, mode: str, min_delta: float) -> bool:
    if best is None or not math.isfinite(best):
        return math.isfinite(value)
    return value > best + min_delta if mode == "max" else value < best - min_delta


def _float(value: Any) -> float:
    return float(np.asarray(value))


class PlateauDecay(keras.callbacks.Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    The schedule of AlexNet ("divide the learning rate by 10 when the validation error rate
    stopped improving", three times), ZFNet, VGG and ResNet.

    Args:
        monitor: a key of the epoch logs (``"val_loss"``, ``"val_accuracy"``, …).
        factor: the multiplier, in (0, 1).
        patience: epochs without improvement before a reduction.
        min_delta: the smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the rate never goes below this.
        max_reductions: stop reducing after this many reductions (``None``: no limit).
        mode: ``"auto"``, ``"min"`` or ``"max"``.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 5,
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        max_reductions: int | None = None,
        mode: str = "auto",
    ) -> None:
        super().__init__()
        if not 0.0 < factor < 1.0:
            raise ValueError(f"`factor` must be in (0, 1). Received: factor={factor!r}")
        self.monitor, self.factor, self.patience = monitor, float(factor), int(patience)
        self.min_delta, self.cooldown, self.min_lr = float(min_delta), int(cooldown), float(min_lr)
        self.max_reductions = max_reductions
        self.mode = monitor_mode(monitor, mode)
        self.best: float | None = None
        self.wait = 0
        self.cooldown_left = 0
        self.reductions = 0
        self._warned = False

    def state_dict(self) -> dict[str, Any]:
        """The counters a resumed run continues from."""
        return dict(best=self.best, wait=self.wait, cooldown_left=self.cooldown_left, reductions=self.reductions)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.best, self.wait = state["best"], int(state["wait"])
        self.cooldown_left, self.reductions = int(state["cooldown_left"]), int(state["reductions"])

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        if self.monitor not in logs:
            if not self._warned:
                log.warning(
                    "PlateauDecay monitors %r, which is not in the logs (%s); the learning rate "
                    "stays constant.", self.monitor, ", ".join(sorted(logs)),
                )
                self._warned = True
            return
        value = _float(logs[self.monitor])
        if _improved(value, self.best, self.mode, self.min_delta):
            self.best, self.wait = value, 0
            return
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        if self.max_reductions is not None and self.reductions >= self.max_reductions:
            return
        optimizer = self.model.optimizer
        old = _float(optimizer.learning_rate)
        new = max(old * self.factor, self.min_lr)
        if new < old:
            optimizer.learning_rate = new
            self.reductions += 1
            log.info(
                "Epoch %d: %s has not improved for %d epochs; learning rate %.3g -> %.3g.",
                epoch + 1, self.monitor, self.wait, old, new,
            )
            logs["learning_rate"] = new
        self.wait, self.cooldown_left = 0, self.cooldown


class BestCheckpoint(keras.callbacks.Callback):
    """Save the model to ``path`` (atomically) whenever ``monitor`` improves.

    Args:
        path: a ``.keras`` file (the whole model), or an ``.npz`` file of the model's variables
            (:func:`~kerascv_course.training.checkpoint.save_variables`: about ten times faster;
            the trainer uses it during training and writes ``best.keras`` at the end).
        monitor: a key of the epoch logs.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
    """

    def __init__(self, path: str | os.PathLike[str], monitor: str = "val_loss", mode: str = "auto") -> None:
        super().__init__()
        self.path = os.fspath(path)
        self.monitor = monitor
        self.mode = monitor_mode(monitor, mode)
        self.best: float | None = None
        self.best_epoch: int | None = None

    def state_dict(self) -> dict[str, Any]:
        """The best value so far and its epoch (1-based)."""
        return dict(best=self.best, best_epoch=self.best_epoch)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.best, self.best_epoch = state["best"], state["best_epoch"]

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            return
        value = _float(logs[self.monitor])
        if _improved(value, self.best, self.mode, 0.0):
            if self.path.endswith(".npz"):
                from kerascv_course.training.checkpoint import save_variables

                save_variables(self.path, self.model, optimizer=False)
            else:
                with atomic_path(self.path) as tmp:
                    self.model.save(tmp)
            self.best, self.best_epoch = value, epoch + 1


class TerminateOnNaN(keras.callbacks.Callback):
    """Stop training when the loss becomes NaN or infinite, remembering where.

    Unlike Keras' callback of the same name it records the epoch, the batch and the value in
    :attr:`diverged`, so the trainer can raise an error that says what happened and what to try.

    Args:
        check_every: look at the running loss every this many batches (and at each epoch's end);
            each look waits for the device, so a larger value costs less.
    """

    # Keras may then run the batch hooks in its callback thread: reading the loss waits for
    # the step there, not in the training loop (which would stop the next step's dispatch).
    async_safe = True

    def __init__(self, check_every: int = 1) -> None:
        super().__init__()
        self.check_every = max(1, int(check_every))
        self.epoch = 0
        self.diverged: dict[str, Any] | None = None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = epoch

    def _check(self, batch: int | None, logs: dict[str, Any] | None) -> None:
        if self.diverged is not None or not logs or "loss" not in logs:
            return
        value = _float(logs["loss"])
        if not math.isfinite(value):
            self.diverged = dict(epoch=self.epoch + 1, batch=batch, loss=value)
            self.model.stop_training = True

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if (batch + 1) % self.check_every == 0:
            self._check(batch + 1, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._check(None, logs)
