"""The epoch loop: train, validate, call the callbacks, stop on divergence — for training and tuning.

:func:`fit_epochs` runs epochs ``initial_epoch … epochs-1`` of a compiled model through an
:class:`~kerascv_course.training.engine.Engine`, with each epoch's pipeline built in a thread while
the previous epoch trains. After each epoch it calls ``after_epoch(epoch, row)`` (the trainer
checkpoints there). A loss that becomes NaN or infinite stops the run with
:class:`FloatingPointError` saying where and what to try.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from kerascv_course.training.callbacks import TerminateOnNaN
from kerascv_course.training.engine import Engine

# How often (in steps) the NaN guard looks at the running loss; each look waits for the device.
NAN_CHECK_EVERY = 10


@dataclass
class LoopResult:
    """What :func:`fit_epochs` returns: one row per epoch run and the training rates."""

    rows: list[dict[str, float]] = field(default_factory=list)
    images_per_second: list[float] = field(default_factory=list)


def current_lr(model: keras.Model) -> float:
    """The optimizer's learning rate now (the schedule's value at the current step)."""
    return float(np.asarray(model.optimizer.learning_rate))


def fit_epochs(
    engine: Engine,
    train_batches: Callable[[int], Any],
    *,
    epochs: int,
    steps: int,
    batch_size: int,
    initial_epoch: int = 0,
    validation: Any = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int = 0,
    after_epoch: Callable[[int, dict[str, float]], None] | None = None,
    diverged_message: Callable[[dict[str, Any], int, float], str] | None = None,
) -> LoopResult:
    """Train ``engine.model`` for epochs ``initial_epoch … epochs - 1``.

    Args:
        engine: the step loop over the compiled model.
        train_batches: ``train_batches(epoch)`` -> that epoch's training ``tf.data.Dataset``.
        epochs: the last epoch (exclusive).
        steps: training steps per epoch.
        batch_size: the global batch size (for the images/s figure).
        initial_epoch: the first epoch to run (a resumed run's finished epochs).
        validation: the validation batches (a dataset or an already distributed one), or ``None``.
        callbacks: Keras callbacks (on every worker).
        verbose: 0 silent, 1 progress bar, 2 one line per epoch.
        after_epoch: called with ``(epoch, row)`` after each finished epoch.
        diverged_message: ``(where, finished_epochs, lr) -> str``: the text of the error when the
            loss diverges (default: a generic one).

    Returns:
        A :class:`LoopResult`.

    Raises:
        FloatingPointError: when the loss becomes NaN or infinite.
    """
    model = engine.model
    nan_guard = TerminateOnNaN(check_every=NAN_CHECK_EVERY)
    callback_list = keras.callbacks.CallbackList(
        [nan_guard, *(callbacks or [])], add_progbar=verbose != 0, model=model, verbose=verbose,
        epochs=epochs, steps=steps,
    )
    val_ds = engine.distribute(validation) if validation is not None else None
    result = LoopResult()
    model.stop_training = False
    callback_list.on_train_begin()
    with ThreadPoolExecutor(max_workers=1) as prepare:
        # Each epoch's pipeline is built (traced) in a thread while the previous epoch trains;
        # its data order depends on (seed, epoch) only.
        upcoming = prepare.submit(lambda e: engine.distribute(train_batches(e)), initial_epoch)
        try:
            for epoch in range(initial_epoch, epochs):
                train_ds = upcoming.result()
                if epoch + 1 < epochs:
                    upcoming = prepare.submit(lambda e: engine.distribute(train_batches(e)), epoch + 1)
                callback_list.on_epoch_begin(epoch)
                lr = current_lr(model)
                logs = engine.train_epoch(train_ds, steps=steps, callbacks=callback_list)
                result.images_per_second.append(steps * batch_size / max(engine.last_epoch_seconds, 1e-9))
                if nan_guard.diverged is None and val_ds is not None:
                    logs.update({f"val_{k}": v for k, v in engine.evaluate(val_ds).items()})
                logs["learning_rate"] = lr
                callback_list.on_epoch_end(epoch, logs)
                if nan_guard.diverged is not None:
                    finished = epoch  # epochs before this one are complete
                    text = (diverged_message or _default_message)(nan_guard.diverged, finished, lr)
                    raise FloatingPointError(text)
                row = {"epoch": epoch, **{k: float(v) for k, v in logs.items()}}
                result.rows.append(row)
                if after_epoch is not None:
                    after_epoch(epoch, row)
                if model.stop_training:
                    break
        finally:
            upcoming.cancel()
    callback_list.on_train_end()
    return result


def _default_message(where: dict[str, Any], finished: int, lr: float) -> str:
    batch = f", batch {where['batch']}" if where.get("batch") else ""
    return (
        f"Training diverged: the loss became {where['loss']} at epoch {where['epoch']}{batch} "
        f"(learning rate {lr:.3g}). Try a lower learning rate, gradient clipping (clipnorm), "
        f"a warm-up, or float32 instead of mixed precision."
    )


def median_rate(rates: list[float]) -> float | None:
    """The median images/s of the epochs, leaving out the first (tracing) when there are more."""
    if not rates:
        return None
    return float(np.median(rates[1:] if len(rates) > 1 else rates))
