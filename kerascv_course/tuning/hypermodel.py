"""One generic ``keras_tuner.HyperModel`` for every model of the zoo, reading a search space as data.

:class:`CourseHyperModel` turns a :class:`~kerascv_course.tuning.spaces.SearchSpace` and a base
:class:`~kerascv_course.training.Recipe` into trials: ``build(hp)`` builds and compiles the model
the trial's hyperparameters describe (with the trainer's own ``build_model`` and
``compile_model``), and ``fit(hp, model, ...)`` builds the trial's input pipeline (batch size,
augmentation policy and input size change it) and trains with early stopping on the objective.
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

from kerascv_course.tuning.hparams import apply_hparams
from kerascv_course.tuning.spaces import SearchSpace, resolve_space

log = logging.getLogger(__name__)

#: Per-trial numbers recorded beside the Keras metrics (the trials table's last columns).
TRIAL_STATS = ("epochs", "best_epoch", "seconds", "params")


def default_objective(task: str) -> str:
    """``"val_accuracy"`` for classification, ``"val_mean_iou"`` for segmentation."""
    return "val_mean_iou" if task == "segmentation" else "val_accuracy"


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
    ) -> None:
        super().__init__(name=name or recipe.model)
        self.recipe = recipe
        self.info = info
        self.splits = splits
        self.space = space if isinstance(space, SearchSpace) else resolve_space(recipe, space)
        self.objective = objective or default_objective(info.task)
        self.direction = objective_direction(self.objective)
        self.patience = patience
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
        from kerascv_course.training.trainer import build_model, compile_model

        recipe = self.trial_recipe(hp)
        if self.declare_only:
            return None
        keras.utils.set_random_seed(recipe.seed)
        model = build_model(recipe, self.info)
        compile_model(model, recipe, self.info)
        # Built now, so a Hyperband trial that continues another restores its optimizer state too.
        model.optimizer.build(model.trainable_variables)
        return model

    def pipelines(self, recipe: Any, model: keras.Model) -> tuple[Any, Any]:
        """The trial's training and validation pipelines, sized for ``model``'s input."""
        from kerascv_course.data import make_pipeline
        from kerascv_course.training.trainer import label_encoder

        if self.splits is None:
            raise ValueError("CourseHyperModel.fit needs `splits` (from load_splits). Received: splits=None")
        shape = model.input_shape
        size = tuple(shape[1:3]) if None not in shape[1:3] else None
        channels = shape[-1]
        augment = None
        if recipe.augment not in (None, "none"):
            from kerascv_course.data.policies import get_policy

            augment = get_policy(recipe.augment, task=self.info.task, image_size=size,
                                 info=self.info, **getattr(recipe, "augment_kwargs", {}))
        encode = label_encoder(recipe, self.info)  # one-hot labels under label smoothing
        train = make_pipeline(
            self.splits["train"], self.info, training=True, batch_size=recipe.batch_size,
            image_size=size, channels=channels, augment=augment, seed=recipe.seed,
        )
        val = make_pipeline(
            self.splits[recipe.validation_split], self.info, training=False,
            batch_size=recipe.batch_size, image_size=size, channels=channels, seed=recipe.seed,
        )
        return encode(train), encode(val)

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args: Any,
            callbacks: list[Any] | None = None, verbose: Any = 0, **kwargs: Any) -> dict[str, float]:
        """Train one trial; returns the best epoch's metrics plus ``epochs``, ``seconds``, ``params``.

        The data come from ``splits``, so positional data arguments are refused. ``epochs`` and
        ``initial_epoch`` in ``kwargs`` (Hyperband sets them) override the recipe's epochs.
        """
        if args or "x" in kwargs:
            raise TypeError(
                "CourseHyperModel.fit reads its data from the recipe's splits; call "
                "tuner.search() without data. Received: positional data arguments"
            )
        recipe = self.trial_recipe(hp)
        train, val = self.pipelines(recipe, model)
        callbacks = list(callbacks or [])
        callbacks.append(keras.callbacks.TerminateOnNaN())
        if recipe.schedule == "plateau":  # the one schedule that is a callback, as in the trainer
            from kerascv_course.training.callbacks import PlateauDecay
            from kerascv_course.training.schedules import schedule_options

            callbacks.append(PlateauDecay(**schedule_options("plateau", recipe.schedule_kwargs)))
        if self.patience:
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor=self.objective, mode=self.direction, patience=self.patience,
            ))
        epochs = kwargs.pop("epochs", recipe.epochs)
        started = time.perf_counter()
        steps = getattr(recipe, "steps_per_epoch", None)
        if steps:
            train = train.repeat()
            kwargs.setdefault("steps_per_epoch", steps)
        if getattr(recipe, "eval_steps", None):
            kwargs.setdefault("validation_steps", recipe.eval_steps)
        history = model.fit(train, validation_data=val, epochs=epochs, callbacks=callbacks,
                            verbose=verbose, shuffle=False, **kwargs)
        seconds = time.perf_counter() - started
        return self.summarize(history.history, seconds, model.count_params(),
                              initial_epoch=kwargs.get("initial_epoch", 0))

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
