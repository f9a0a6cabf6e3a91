"""The trainer: :func:`train`, from a :class:`Recipe` to a finished run folder, in one direction.

recipe → checked (:mod:`.checks`, no TensorFlow) → run folder (:mod:`.run_folder`: layout, lock,
resumable state) → data (:mod:`.run_data`) → model (:mod:`.model`) → optimizer (:mod:`.optimizer`)
→ engine (:mod:`.engine`, :mod:`.loop`) → artifacts (:mod:`.artifacts`).

**Never lose a run.** After every epoch the weights, the optimizer state and the history are
checkpointed atomically (:mod:`.checkpoint`). Run the same command again after a crash or
``kill -9`` and training continues from the last finished epoch; because each epoch's shuffling
and augmentation are seeded by ``(seed, epoch)``, the resumed run ends with the same weights as an
uninterrupted one. A resumed run must have the same settings (every field that changes the
result); it may extend ``epochs`` (and change ``strategy``), which is recorded.

**One run per folder.** The folder is locked for the life of the process: a second process is
refused at once with the holder's PID; a lock left by a killed process is taken over.

Training runs through :class:`~kerascv_course.training.engine.Engine`, a ``strategy.run`` step loop
that works under every strategy — including ``MultiWorkerMirroredStrategy``, where Keras 3's
``fit`` fails. In a multi-worker run only the chief writes the run folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from dataclasses import dataclass
from typing import Any

import keras
import tensorflow as tf

from kerascv_course.training import artifacts, finetune
from kerascv_course.training.callbacks import BestCheckpoint, PlateauDecay
from kerascv_course.training.checkpoint import CheckpointError, RunCheckpoint, read_variables
from kerascv_course.training.checks import check_recipe
from kerascv_course.training.engine import Engine
from kerascv_course.training.loop import fit_epochs, median_rate
from kerascv_course.training.model import build_model, builder_kwargs, monitor, run_settings
from kerascv_course.training.optimizer import learning_rate
from kerascv_course.training.recipe import Recipe, run_identity
from kerascv_course.training.run_data import RunData, load_splits
from kerascv_course.training.run_folder import RunFolder, default_run_folder
from kerascv_course.training.schedules import schedule_options
from kerascv_course.training.strategy import check_global_batch, get_strategy, is_chief

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What :func:`train` returns: the run folder, test metrics, history and the trained model."""

    output: str
    metrics: dict[str, float]
    history: dict[str, list[float]]
    model: keras.Model
    seconds: float


def resolve_output(recipe: Recipe) -> RunFolder:
    """The run folder: ``recipe.output``, or ``runs/<model>-<dataset>`` (numbered if taken).

    With ``output=None`` the default folder is reused when it holds an unfinished run of the same
    settings (so re-running the same command resumes it); otherwise the next free
    ``runs/<model>-<dataset>-<k>`` is used.

    Raises:
        FileExistsError: ``output`` holds a finished run and ``recipe.overwrite`` is off.
        ValueError: ``output`` is a file, or lies under one.
        PermissionError: the folder cannot be written.
    """

    def same_run(folder: str) -> bool:
        try:
            state = RunCheckpoint(folder).load()
        except (OSError, ValueError):
            return False
        return state is None or state.get("identity") == run_identity(recipe)

    path = default_run_folder(recipe, same_run) if recipe.output is None else os.fspath(recipe.output)
    run = RunFolder(path)
    if run.finished and not recipe.overwrite:
        raise FileExistsError(
            f"The output folder {path!r} already holds a finished run ({RunFolder.METRICS}); "
            f"pass --overwrite (overwrite=True) to replace it or choose another --output. "
            f"Received: output={path!r}"
        )
    run.check_writable()
    return run


def train(
    recipe: Recipe,
    *,
    verbose: int | str = "auto",
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> RunResult:
    """Train ``recipe.model`` on ``recipe.dataset`` and write the run folder.

    Args:
        recipe: the run's settings.
        verbose: ``"auto"``/1 (progress bar), 2 (one line per epoch) or 0 (silent).
        callbacks: extra Keras callbacks (called on every worker).

    Returns:
        A :class:`RunResult` with the folder, the test metrics and the trained model.

    Raises:
        ValueError: for an unknown model, dataset, optimizer, schedule or strategy, bad numbers,
            a batch size that does not divide over the replicas, a model that does not fit the
            dataset, or a checkpoint in ``output`` written with other settings.
        FileExistsError: when the output folder holds a finished run and ``overwrite`` is off.
        PermissionError: when the output folder cannot be written.
        FolderLockedError: when another process is writing the output folder.
        FloatingPointError: when the loss becomes NaN or infinite (the message says where, and
            the last good checkpoint stays in place).

    Example:
        >>> result = train(Recipe(model="lenet5", dataset="digits", epochs=30))
        >>> result.metrics["accuracy"]
        0.97...
    """
    check_recipe(recipe)
    verbosity = _verbosity(verbose)
    strategy = get_strategy(recipe.strategy)  # first: cpu:N must precede device initialisation
    chief = is_chief(strategy)
    run = resolve_output(recipe)
    check_global_batch(recipe.batch_size, strategy)
    if recipe.grad_norms and strategy.num_replicas_in_sync > 1:
        raise ValueError(
            "`grad_norms` measures the gradients on one replica; run with one device "
            f"(--strategy cpu:1, or one GPU visible). Received: grad_norms=True with "
            f"{strategy.num_replicas_in_sync} replicas"
        )
    made = chief and not os.path.exists(run.path)
    try:
        with contextlib.ExitStack() as stack:
            if chief:
                stack.enter_context(run.lock())
            return _train(recipe, run, strategy, chief, verbosity, callbacks)
    except BaseException:
        if made:
            _remove_if_empty(run.path)
        raise


def _remove_if_empty(path: str) -> None:
    """Remove a run folder this call made when a failure left nothing worth keeping in it (no
    checkpoint, model or metrics: only the recipe, the lock, TensorBoard logs, empty folders)."""
    keep = {RunFolder.RECIPE, ".lock"}
    for folder, _, files in os.walk(path):
        inside_logs = os.path.relpath(folder, path).split(os.sep)[0] == RunFolder.LOGS
        if not inside_logs and any(f not in keep for f in files):
            return
    shutil.rmtree(path, ignore_errors=True)


def _train(recipe: Recipe, run: RunFolder, strategy: Any, chief: bool, verbosity: int,
           callbacks: list[keras.callbacks.Callback] | None) -> RunResult:
    checkpoint = RunCheckpoint(run.path, writer=chief)
    state, changes = _resume_state(recipe, run, checkpoint, chief)
    initial_epoch = _agree_on_epoch(strategy, int(state["epoch"]) if state else 0)
    record = list(state.get("recipe_changes", [])) if state else []
    if changes:
        record.append({"epoch": initial_epoch, **{k: list(v) for k, v in changes.items()}})
        log.info("Resuming %s at epoch %d with %s.", run.path, initial_epoch,
                 ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in changes.items()))
    started = time.time()
    with run_settings(recipe):
        splits, info = load_splits(recipe)
        with strategy.scope():
            model = build_model(recipe, info)
        stages = finetune.stages_for(recipe, model, builder_kwargs(recipe, info))
        data = RunData(recipe, splits, info, model, strategy)
        steps = data.steps_per_epoch()
        phase = finetune.phase_at(recipe, initial_epoch)
        with strategy.scope():
            finetune.compile_phase(model, recipe, info, steps, stages, phase)
        if state is not None:
            from kerascv_course.training.checkpoint import load_variables

            values, with_optimizer = finetune.resume_values(recipe, model, initial_epoch, state["variables"])
            load_variables(state["weights_path"], model, optimizer=with_optimizer, values=values)
            log.info("Resuming %s from epoch %d of %d.", run.path, initial_epoch, recipe.epochs)
        os.makedirs(checkpoint.write_dir, exist_ok=True)
        phases = finetune.describe(recipe) if recipe.weights or stages else None
        if chief:
            run.write_json(RunFolder.RECIPE, {**recipe.to_dict(), **({"_changes": record} if record else {}),
                                              **({"_phases": phases} if phases else {})})
        engine = Engine(model, strategy, jit_compile=recipe.jit_compile)
        stateful = stateful_callbacks(recipe, info, checkpoint.write_dir, state)
        if recipe.grad_norms:
            stateful["grad_norms"] = _grad_norms_callback(data, state, initial_epoch, steps)
        extra: list[keras.callbacks.Callback] = list(stateful.values())
        if chief and recipe.tensorboard:
            extra.append(keras.callbacks.TensorBoard(log_dir=run.logs_dir, write_graph=False))
        rows: list[dict[str, float]] = list(state["history"]) if state else []
        seconds_before = float(state.get("train_seconds", 0.0)) if state else 0.0

        def after_epoch(epoch: int, row: dict[str, float]) -> None:
            rows.append(row)
            checkpoint.save(model, epoch + 1, dict(
                history=rows, callbacks={k: c.state_dict() for k, c in stateful.items()},
                train_seconds=seconds_before + time.time() - started, recipe_changes=record,
            ), recipe)
            if chief:
                artifacts.write_history_csv(run.file(RunFolder.HISTORY_CSV), rows)

        rates: list[float] = []
        for later in finetune.phases(recipe):  # one phase, or frozen then fine-tune
            if later.end <= initial_epoch:
                continue
            if later != phase:  # the next phase: its layers, optimizer and step function
                with strategy.scope():
                    finetune.compile_phase(model, recipe, info, steps, stages, later)
                engine = Engine(model, strategy, jit_compile=recipe.jit_compile)
            loop = fit_epochs(
                engine, data.train, epochs=later.end, steps=steps, batch_size=recipe.batch_size,
                initial_epoch=max(initial_epoch, later.start),
                validation=data.evaluation(recipe.validation_split) if recipe.validation_split else None,
                callbacks=[*extra, *(callbacks or [])], verbose=verbosity, after_epoch=after_epoch,
                diverged_message=lambda where, finished, lr: _diverged(where, run, finished, lr),
            )
            rates += loop.images_per_second
            if model.stop_training:
                break
        if recipe.use_ema:  # Polyak averaging: the averaged weights are the model (as Keras' fit does)
            model.optimizer.finalize_variable_values(model.trainable_variables)
        metrics = artifacts.final_metrics(engine.evaluate(data.evaluation(recipe.test_split)), info.task)
        seconds = seconds_before + time.time() - started
        metrics.update(
            train_seconds=seconds, epochs_completed=len(rows), resumed_from_epoch=initial_epoch,
            steps_per_epoch=steps, replicas=strategy.num_replicas_in_sync, learning_rate=learning_rate(recipe),
        )
        if record:
            metrics["recipe_changes"] = record
        metrics.update(artifacts.loss_status(rows))  # "status": "ok" or "loss_exploded"
        if metrics["status"] != "ok" and chief:
            log.warning("%s", metrics["warning"])
        if "pseudo_label" in info.extra:
            summary = info.extra["pseudo_label"]
            metrics.update(pseudo_labelled_examples=summary["pseudo_labelled_examples"],
                           unlabelled_examples=summary["unlabelled_examples"])
        if phases:
            metrics["phases"] = phases
        rate = median_rate(rates)
        if rate is not None:
            metrics["train_images_per_second"] = rate
        best = stateful.get("best")
        if best is not None and best.best_epoch is not None:
            metrics.update(best_epoch=best.best_epoch, best_monitor=best.monitor, best_value=best.best)
        writer = run if chief else RunFolder(checkpoint.write_dir)
        artifacts.save_model(model, writer.model_path)
        if best is not None and best.best_epoch is not None:
            artifacts.save_best(model, best.path, writer.best_path)
        history = artifacts.history_columns(rows)
        if chief:
            history = artifacts.write_history(run, rows, title=f"{recipe.model} on {recipe.dataset}")
            if info.task == "segmentation":
                artifacts.write_segmentation_samples(run, model, data.evaluation(recipe.test_split), info.class_names)
            if "grad_norms" in stateful:
                _write_grad_norms(run, stateful["grad_norms"].records, f"{recipe.model} on {recipe.dataset}")
            run.write_json(RunFolder.METRICS, metrics)
        checkpoint.clear()
    return RunResult(output=run.path, metrics=metrics, history=history, model=model, seconds=seconds)


def _resume_state(recipe: Recipe, run: RunFolder, checkpoint: RunCheckpoint,
                  chief: bool) -> tuple[dict[str, Any] | None, dict[str, tuple[Any, Any]]]:
    """The checkpoint to continue from (checked against ``recipe``) and the extended fields."""
    if recipe.overwrite or not recipe.resume:
        if chief:  # start over: nothing of an earlier run stays beside the new one
            run.clear()
        checkpoint.clear()
        return None, {}
    state = checkpoint.load()
    if state is None:
        return None, {}
    return state, checkpoint.changes(state, recipe)


def stateful_callbacks(recipe: Recipe, info: Any, folder: str | None,
                       state: dict[str, Any] | None) -> dict[str, keras.callbacks.Callback]:
    """The callbacks whose state the checkpoint carries, restored from ``state``: the plateau
    decay (``schedule="plateau"``) and, given a ``folder``, the best-epoch checkpoint.

    A damaged ``best.npz`` is found here, before training: the best-so-far is forgotten (with a
    warning) instead of failing after the last epoch.
    """
    stateful: dict[str, keras.callbacks.Callback] = {}
    if recipe.schedule == "plateau":
        stateful["plateau"] = PlateauDecay(**schedule_options("plateau", recipe.schedule_kwargs))
    if recipe.validation_split is not None and folder is not None:
        stateful["best"] = BestCheckpoint(os.path.join(folder, "best.npz"), monitor(recipe, info.task))
    for key, callback in stateful.items():
        if state and key in state.get("callbacks", {}):
            callback.load_state_dict(state["callbacks"][key])
    best = stateful.get("best")
    if best is not None and best.best_epoch is not None:
        try:
            read_variables(best.path)
        except CheckpointError as err:
            log.warning("%s The best epoch so far (%d) is forgotten; best.keras will be the best "
                        "epoch from now on.", err, best.best_epoch)
            best.best, best.best_epoch = None, None
    return stateful


def _grad_norms_callback(data: RunData, state: dict[str, Any] | None, initial_epoch: int,
                         steps: int) -> keras.callbacks.Callback:
    """The gradient-norm recorder (``--grad-norms``) on epoch 0's first training batch, its
    records restored from ``state`` when resuming (a resumed run that did not record before
    starts counting at its first step, ``initial_epoch * steps``)."""
    from kerascv_course.training.gradients import GradientNorms

    batch = next(iter(data.train(0).take(1)))
    callback = GradientNorms(batch[0], batch[1])
    if state and "grad_norms" in state.get("callbacks", {}):
        callback.load_state_dict(state["callbacks"]["grad_norms"])
    else:
        callback.step, callback.epoch = initial_epoch * steps, initial_epoch
    return callback


def _write_grad_norms(run: RunFolder, records: list[dict[str, Any]], title: str) -> None:
    from kerascv_course.training.gradients import write_grad_norms_csv
    from kerascv_course.viz.gradients import plot_grad_norms

    write_grad_norms_csv(run.file(RunFolder.GRAD_NORMS_CSV), records)
    plot_grad_norms(records, run.file(RunFolder.GRAD_NORMS_PNG), title=f"gradient norms: {title}")


def _agree_on_epoch(strategy: tf.distribute.Strategy, epoch: int) -> int:
    """Check that every worker resumes from the same epoch (a no-op on one machine)."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return epoch
    value = tf.constant(float(epoch))

    @tf.function
    def total() -> tf.Tensor:
        return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(lambda: value), axis=None)

    if float(total()) != epoch * strategy.num_replicas_in_sync:
        raise ValueError(
            f"The workers found different checkpoints (this one resumes from epoch {epoch}); the "
            f"run folder must be on a file system every worker shares, or pass --no-resume. "
            f"Received: resume epoch {epoch}"
        )
    return epoch


def _diverged(where: dict[str, Any], run: RunFolder, finished: int, lr: float) -> str:
    batch = f", batch {where['batch']}" if where.get("batch") else ""
    kept = (
        f"The last good checkpoint (after epoch {finished}) is kept in {run.checkpoint_dir!r}; "
        f"run again with other settings and --no-resume to start over."
        if finished else "No epoch finished, so there is no checkpoint to resume from."
    )
    return (
        f"Training diverged: the loss became {where['loss']} at epoch {where['epoch']}{batch} "
        f"(learning rate {lr:.3g}). Try a lower --learning-rate, gradient clipping (--clipnorm), "
        f"a warm-up, or float32 instead of mixed precision. {kept}"
    )


def _verbosity(verbose: int | str) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    return int(verbose)
