"""One generic ``keras_tuner.HyperModel`` for every model of the zoo, reading a search space as data.

:class:`CourseHyperModel` turns a :class:`~kerascv_course.tuning.spaces.SearchSpace` and a base
:class:`~kerascv_course.training.Recipe` into trials that train through the trainer's own pieces:
``build(hp)`` builds and compiles the trial's model (:func:`~kerascv_course.training.model.build_model`,
:func:`~kerascv_course.training.model.compile_model`), and ``fit(hp, model, ...)`` takes its
batches from :class:`~kerascv_course.training.run_data.RunData` and trains with the trainer's
epoch loop (:func:`~kerascv_course.training.loop.fit_epochs`) and callbacks, with early stopping
on the objective.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Any

import keras
import keras_tuner
import numpy as np

from kerascv_course.training.recipe import apply_hparams
from kerascv_course.tuning.spaces import SearchSpace, resolve_space

log = logging.getLogger(__name__)



def default_objective(task: str) -> str:
    """``"val_accuracy"`` for classification, ``"val_mean_iou"`` for segmentation (the trainer's
    :func:`~kerascv_course.training.model.task_score`)."""
    from kerascv_course.training.checks import task_score

    return task_score(task)


def objective_direction(name: str) -> str:
    """``"min"`` for losses and errors, ``"max"`` for everything else (accuracy, IoU, Dice…)."""
    return "min" if ("loss" in name or "error" in name) else "max"


class CourseHyperModel(keras_tuner.HyperModel):
    """The hypermodel of one zoo model on one dataset.

    Args:
        recipe: the base recipe; every value the space does not search is taken from it.
        info: the dataset's :class:`~kerascv_course.data.DatasetInfo` (input shape, classes).
        splits: ``{split name: tf.data.Dataset}`` from
            :func:`kerascv_course.training.trainer.load_splits` (needed by ``fit`` only).
        space: a :class:`SearchSpace`, a dict of ranges, a JSON/YAML file, or ``None`` for the
            family table (see :func:`~kerascv_course.tuning.spaces.resolve_space`).
        objective: the metric to maximise (or minimise, for losses); default by task.
        patience: early-stopping patience in epochs on the objective (0 turns it off).
        strategy: the ``tf.distribute`` strategy the trials run under (default: the current one).

    Example:
        >>> splits, info = load_splits(recipe)
        >>> hypermodel = CourseHyperModel(recipe, info, splits, space={"alpha": {"values": [0.5, 1.0]}})
        >>> tuner = keras_tuner.RandomSearch(hypermodel, objective="val_accuracy", max_trials=4)
    """

    def __init__(
        self,
        recipe: Any,
        info: Any,
        splits: Mapping[str, Any] | None = None,
        *,
        space: SearchSpace | Mapping[str, Any] | str | None = None,
        objective: str | None = None,
        patience: int = 3,
        name: str | None = None,
        strategy: Any = None,
    ) -> None:
        super().__init__(name=name or recipe.model)
        self.recipe = recipe
        self.info = info
        self.splits = splits
        self.space = space if isinstance(space, SearchSpace) else resolve_space(recipe, space)
        self.objective = objective or default_objective(info.task)
        self.direction = objective_direction(self.objective)
        self.patience = patience
        self.strategy = strategy
        # While keras-tuner only collects the space (its initial builds), skip the real model.
        self.declare_only = False

    def declare_hyperparameters(self, hp: keras_tuner.HyperParameters) -> None:
        """Register the whole space in ``hp`` (keras-tuner calls this before the first trial)."""
        self.space.declare(hp)

    def trial_recipe(self, hp: keras_tuner.HyperParameters) -> Any:
        """The recipe of the trial that ``hp`` describes."""
        return apply_hparams(self.recipe, self.space.to_hparams(self.space.declare(hp)))

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model | None:
        """The compiled model of the trial (the optimizer, loss and metrics of the recipe)."""
        from kerascv_course.training.model import build_model, compile_model

        recipe = self.trial_recipe(hp)
        if self.declare_only:
            return None
        keras.utils.set_random_seed(recipe.seed)
        model = build_model(recipe, self.info)
        compile_model(model, recipe, self.info)
        # Built now, so a Hyperband trial that continues another restores its optimizer state too.
        model.optimizer.build(model.trainable_variables)
        return model

    def run_data(self, recipe: Any, model: keras.Model) -> Any:
        """The trial's :class:`~kerascv_course.training.run_data.RunData` (batch size, policy and
        input size follow the trial's recipe and model)."""
        import tensorflow as tf

        from kerascv_course.training.run_data import RunData

        if self.splits is None:
            raise ValueError("CourseHyperModel.fit needs `splits` (from load_splits). Received: splits=None")
        return RunData(recipe, self.splits, self.info, model, self.strategy or tf.distribute.get_strategy())

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args: Any,
            callbacks: list[Any] | None = None, verbose: Any = 0, **kwargs: Any) -> dict[str, float]:
        """Train one trial; returns the best epoch's metrics plus ``epochs``, ``seconds``, ``params``.

        The batches come from :class:`~kerascv_course.training.run_data.RunData` over ``splits``,
        so positional data arguments are refused. ``epochs`` and ``initial_epoch`` in ``kwargs``
        (Hyperband sets them) override the recipe's epochs. A trial whose loss diverges scores NaN.
        """
        import tensorflow as tf

        from kerascv_course.training.artifacts import history_columns
        from kerascv_course.training.engine import Engine
        from kerascv_course.training.loop import fit_epochs
        from kerascv_course.training.trainer import stateful_callbacks

        if args or "x" in kwargs:
            raise TypeError(
                "CourseHyperModel.fit reads its data from the recipe's splits; call "
                "tuner.search() without data. Received: positional data arguments"
            )
        recipe = self.trial_recipe(hp)
        strategy = self.strategy or tf.distribute.get_strategy()
        data = self.run_data(recipe, model)
        callbacks = [*(callbacks or []), *stateful_callbacks(recipe, self.info, folder=None, state=None).values()]
        if self.patience:
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor=self.objective, mode=self.direction, patience=self.patience,
            ))
        epochs = kwargs.pop("epochs", recipe.epochs)
        initial_epoch = kwargs.pop("initial_epoch", 0)
        started = time.perf_counter()
        engine = Engine(model, strategy, jit_compile=recipe.jit_compile)
        rows: list[dict[str, float]] = []
        try:
            fit_epochs(
                engine, data.train, epochs=epochs, steps=data.steps_per_epoch(), batch_size=recipe.batch_size,
                initial_epoch=initial_epoch, validation=data.evaluation(recipe.validation_split),
                callbacks=callbacks, verbose=verbose, after_epoch=lambda epoch, row: rows.append(row),
            )
        except FloatingPointError as err:
            log.warning("Trial diverged: %s", err)
            rows.append({"epoch": float(initial_epoch + len(rows)), self.objective: float("nan")})
        history = {k: v for k, v in history_columns(rows).items() if k != "epoch"}
        seconds = time.perf_counter() - started
        return self.summarize(history, seconds, model.count_params(), initial_epoch=initial_epoch)

    def summarize(self, history: Mapping[str, list[float]], seconds: float, params: int, *,
                  initial_epoch: int = 0) -> dict[str, float]:
        """The best epoch's metrics of ``history`` plus the trial's statistics.

        ``epochs`` counts the epochs this trial ran; ``best_epoch`` is 1-based and counts from the
        model's first epoch (a Hyperband trial continuing another starts at ``initial_epoch``).
        """
        if self.objective not in history:
            raise keras_tuner.errors.FatalValueError(
                f"The objective {self.objective!r} is not among the metrics this model reports: "
                f"{', '.join(sorted(history))}. Received: objective={self.objective!r}"
            )
        scores = np.asarray(history[self.objective], dtype=float)
        epochs = len(scores)
        if np.all(np.isnan(scores)):
            best = epochs - 1
        else:
            best = int(np.nanargmax(scores) if self.direction == "max" else np.nanargmin(scores))
        out = {k: float(v[best]) for k, v in history.items() if len(v) == epochs}
        out.update(epochs=float(epochs), best_epoch=float(initial_epoch + best + 1),
                   seconds=float(seconds),
                   params=float(params))
        if math.isnan(out[self.objective]):
            log.warning("Trial diverged: %s is NaN", self.objective)
        return out
