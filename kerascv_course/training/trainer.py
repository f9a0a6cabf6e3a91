"""The trainer: one function, :func:`train`, from a :class:`Recipe` to a finished run folder.

A run folder holds ``model.keras``, ``history.csv``, ``history.png``, ``metrics.json`` (test
metrics) and ``recipe.json`` (the resolved settings).
"""

from __future__ import annotations

import csv
import logging
import os
import time
from dataclasses import dataclass

import keras
import tensorflow as tf

from kerascv_course.data import dataset_task, list_datasets, load_dataset, make_pipeline
from kerascv_course.data.datasets import DatasetInfo
from kerascv_course.models import get_spec
from kerascv_course.training.recipe import Recipe
from kerascv_course.training.strategy import get_strategy
from kerascv_course.utils.files import atomic_path, write_json

log = logging.getLogger(__name__)

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
FINISHED_MARKER = "metrics.json"


@dataclass
class RunResult:
    """What :func:`train` returns: the run folder, test metrics, history and the trained model."""

    output: str
    metrics: dict[str, float]
    history: dict[str, list[float]]
    model: keras.Model
    seconds: float


def resolve_output(recipe: Recipe) -> str:
    """The run folder: ``recipe.output`` or a new ``runs/<model>-<dataset>-<time>``.

    Refuses a folder that already holds a finished run unless ``recipe.overwrite``.
    """
    out = recipe.output
    if out is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        safe = recipe.dataset.replace(":", "_").replace("/", "_")
        out = os.path.join("runs", f"{recipe.model}-{safe}-{stamp}")
    out = os.fspath(out)
    if os.path.exists(os.path.join(out, FINISHED_MARKER)) and not recipe.overwrite:
        raise FileExistsError(
            f"The output folder {out!r} already holds a finished run ({FINISHED_MARKER}); "
            f"pass --overwrite (overwrite=True) to replace it or choose another --output. "
            f"Received: output={out!r}"
        )
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"`output` must be a folder, but a file exists there. Received: output={out!r}")
    parent = os.path.dirname(os.path.abspath(out))
    probe = out if os.path.isdir(out) else parent
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.access(probe, os.W_OK):
        raise PermissionError(f"The output folder {out!r} is not writable. Received: output={out!r}")
    return out


def check_recipe(recipe: Recipe) -> None:
    """Validate a recipe's names and numbers before any heavy work."""
    get_spec(recipe.model)
    if recipe.dataset not in list_datasets() and not any(
        recipe.dataset.startswith(p.split(":")[0] + ":") for p in list_datasets() if ":" in p
    ):
        dataset_task(recipe.dataset)  # raises with the list of known datasets
    if recipe.optimizer not in OPTIMIZERS:
        raise ValueError(
            f"`optimizer` must be one of {', '.join(OPTIMIZERS)}. "
            f"Received: optimizer={recipe.optimizer!r}"
        )
    for field_name in ("epochs", "batch_size"):
        value = getattr(recipe, field_name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"`{field_name}` must be a positive integer. Received: {field_name}={value!r}")
    if not recipe.learning_rate > 0:
        raise ValueError(f"`learning_rate` must be > 0. Received: learning_rate={recipe.learning_rate!r}")


def make_optimizer(recipe: Recipe) -> keras.optimizers.Optimizer:
    """The recipe's optimizer at its base learning rate."""
    lr = recipe.learning_rate
    if recipe.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=recipe.momentum, nesterov=recipe.nesterov)
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(lr)
    if recipe.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=recipe.weight_decay)
    return keras.optimizers.RMSprop(lr, momentum=recipe.momentum)


def build_model(recipe: Recipe, info: DatasetInfo) -> keras.Model:
    """The recipe's model, sized for the dataset (input shape and classes)."""
    spec = get_spec(recipe.model)
    h, w, c = info.image_shape
    if recipe.image_size is not None:
        h = w = recipe.image_size
    kwargs = dict(recipe.model_kwargs)
    kwargs.setdefault("input_shape", (h, w, c))
    kwargs.setdefault("classes", info.num_classes)
    return spec.builder(**kwargs)


def load_splits(recipe: Recipe) -> tuple[dict[str, tf.data.Dataset], DatasetInfo]:
    """The train, validation and test splits of the recipe's dataset and the train split's info."""
    splits: dict[str, tf.data.Dataset] = {}
    info = None
    for split in ("train", recipe.validation_split, recipe.test_split):
        ds, split_info = load_dataset(
            recipe.dataset, split, data_dir=recipe.data_dir,
            image_size=recipe.image_size, seed=recipe.seed,
        )
        splits[split] = ds
        info = info or split_info
    return splits, info


def compile_model(model: keras.Model, recipe: Recipe, info: DatasetInfo) -> None:
    """Compile with the recipe's optimizer and the task's loss and metrics.

    Classification: cross-entropy, ``accuracy`` and ``top5_accuracy``. Segmentation: the losses
    and metrics of :mod:`kerascv_course.training.losses` (``mean_iou``, ``dice``, …).
    """
    if info.task == "segmentation":
        from kerascv_course.training.losses import segmentation_loss, segmentation_metrics

        model.compile(
            optimizer=make_optimizer(recipe),
            loss=segmentation_loss(info.num_classes, recipe.loss),
            metrics=segmentation_metrics(info.num_classes),
        )
        return
    model.compile(
        optimizer=make_optimizer(recipe),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            keras.metrics.SparseTopKCategoricalAccuracy(k=5, name="top5_accuracy"),
        ],
    )


def read_history_csv(path: str) -> dict[str, list[float]]:
    """``history.csv`` as ``{column: [values per epoch]}``."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {key: [float(r[key]) for r in rows] for key in (rows[0] if rows else {})}


def train(recipe: Recipe, *, verbose: int | str = "auto") -> RunResult:
    """Train ``recipe.model`` on ``recipe.dataset`` and write the run folder.

    Args:
        recipe: the run's settings.
        verbose: Keras' verbosity (``"auto"`` shows the progress bar).

    Returns:
        A :class:`RunResult` with the folder, the test metrics and the trained model.

    Raises:
        ValueError: for an unknown model, dataset or optimizer, or bad numbers.
        FileExistsError: when the output folder holds a finished run and ``overwrite`` is off.

    Example:
        >>> result = train(Recipe(model="lenet5", dataset="digits", epochs=30))
        >>> result.metrics["accuracy"]
    """
    from kerascv_course.viz.curves import plot_history

    check_recipe(recipe)
    out = resolve_output(recipe)
    keras.utils.set_random_seed(recipe.seed)
    strategy = get_strategy(recipe.strategy)
    splits, info = load_splits(recipe)
    started = time.time()
    with strategy.scope():
        model = build_model(recipe, info)
        compile_model(model, recipe, info)
    channels = model.input_shape[-1]
    size = model.input_shape[1:3] if None not in model.input_shape[1:3] else None

    def pipe(split: str, training: bool) -> tf.data.Dataset:
        return make_pipeline(
            splits[split], info, training=training, batch_size=recipe.batch_size,
            image_size=size, channels=channels, seed=recipe.seed,
        )

    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "recipe.json"), recipe.to_dict())
    history_csv = os.path.join(out, "history.csv")
    fit = model.fit(
        pipe("train", True),
        validation_data=pipe(recipe.validation_split, False),
        epochs=recipe.epochs,
        callbacks=[keras.callbacks.CSVLogger(history_csv)],
        verbose=verbose,
    )
    history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
    scores = model.evaluate(pipe(recipe.test_split, False), verbose=0, return_dict=True)
    metrics = {k: float(v) for k, v in scores.items()}
    if info.task == "classification":
        metrics["top1_error"] = 1.0 - metrics["accuracy"]
        metrics["top5_error"] = 1.0 - metrics["top5_accuracy"]
    seconds = time.time() - started
    metrics["train_seconds"] = seconds
    with atomic_path(os.path.join(out, "model.keras")) as tmp:
        model.save(tmp)
    plot_history(history, os.path.join(out, "history.png"), title=f"{recipe.model} on {recipe.dataset}")
    write_json(os.path.join(out, FINISHED_MARKER), metrics)
    return RunResult(output=out, metrics=metrics, history=history, model=model, seconds=seconds)
