"""The trainer: one function, :func:`train`, from a :class:`Recipe` to a finished run folder.

A run folder holds ``model.keras`` (the final model), ``best.keras`` (the epoch with the best
validation score), ``history.csv`` and ``history.png`` (one row/point per epoch), ``metrics.json``
(the test metrics, written last: its presence marks a finished run), ``recipe.json`` (the resolved
settings), ``logs/`` (TensorBoard) and, while the run is unfinished, ``checkpoint/`` (see
:mod:`kerascv_course.training.checkpoint`).

**Never lose a run.** After every epoch the weights, the optimizer state and the history are
checkpointed atomically. Run the same command again after a crash or ``kill -9`` and training
continues from the last finished epoch; because each epoch's shuffling and augmentation are seeded
by ``(seed, epoch)``, the resumed run ends with the same weights as an uninterrupted one.

Training runs through :class:`~kerascv_course.training.engine.Engine`, a ``strategy.run`` step loop
that works under every strategy — including ``MultiWorkerMirroredStrategy``, where Keras 3's
``fit`` fails — with the same callbacks, checkpoints and metrics everywhere. In a multi-worker run
only the chief writes the run folder.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kerascv_course.data import dataset_task, load_dataset, make_pipeline
from kerascv_course.data.datasets import DatasetInfo
from kerascv_course.models import get_spec
from kerascv_course.training.callbacks import BestCheckpoint, PlateauDecay, TerminateOnNaN
from kerascv_course.training.checkpoint import RunCheckpoint, load_variables, run_identity
from kerascv_course.training.engine import Engine
from kerascv_course.training.recipe import Recipe
from kerascv_course.training.schedules import make_schedule, schedule_options
from kerascv_course.training.strategy import (
    LR_SCALINGS,
    check_global_batch,
    get_strategy,
    is_chief,
    parse_strategy,
    scale_learning_rate,
)
from kerascv_course.utils.files import atomic_path, write_json, write_text

log = logging.getLogger(__name__)

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
WEIGHT_DECAY_MODES = ("auto", "l2", "decoupled")
MIXED_PRECISION = ("mixed_float16", "mixed_bfloat16")
FINISHED_MARKER = "metrics.json"
# How often (in steps) the NaN guard looks at the running loss; each look waits for the device.
NAN_CHECK_EVERY = 10


@dataclass
class RunResult:
    """What :func:`train` returns: the run folder, test metrics, history and the trained model."""

    output: str
    metrics: dict[str, float]
    history: dict[str, list[float]]
    model: keras.Model
    seconds: float


# ---------------------------------------------------------------------------------------------
# Output folder


def _finished(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, FINISHED_MARKER))


def _check_writable(out: str) -> None:
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"`output` must be a folder, but a file exists there. Received: output={out!r}")
    probe = os.path.abspath(out)
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise ValueError(
            f"The output folder {out!r} cannot be created: {probe!r} is a file. Received: output={out!r}"
        )
    try:
        fd, tmp = tempfile.mkstemp(prefix=".write-test-", dir=probe)
    except OSError as err:
        raise PermissionError(
            f"The output folder {out!r} is not writable ({err.strerror} in {probe!r}). "
            f"Received: output={out!r}"
        ) from err
    os.close(fd)
    os.remove(tmp)


def _default_output(recipe: Recipe) -> str:
    """``runs/<model>-<dataset>``, or ``-2``, ``-3``, … when finished runs or other runs hold it."""
    safe = recipe.dataset.replace(":", "_").replace("/", "_").replace(os.sep, "_")
    base = os.path.join("runs", f"{recipe.model}-{safe}")
    for k in range(1, 10_000):
        candidate = base if k == 1 else f"{base}-{k}"
        if recipe.overwrite or not os.path.exists(candidate):
            return candidate
        if _finished(candidate):
            continue
        try:
            state = RunCheckpoint(candidate).load()
        except (OSError, ValueError, KeyError):
            continue
        if state is None or state.get("identity") == run_identity(recipe):
            return candidate
    raise FileExistsError(f"No free run folder next to {base!r}. Received: output=None")


def resolve_output(recipe: Recipe) -> str:
    """The run folder: ``recipe.output``, or ``runs/<model>-<dataset>`` (numbered if taken).

    With ``output=None`` the default folder is reused when it holds an unfinished run of the same
    model and dataset (so re-running the same command resumes it); otherwise the next free
    ``runs/<model>-<dataset>-<k>`` is used.

    Raises:
        FileExistsError: ``output`` holds a finished run and ``recipe.overwrite`` is off.
        ValueError: ``output`` is a file, or lies under one.
        PermissionError: the folder cannot be written.
    """
    out = _default_output(recipe) if recipe.output is None else os.fspath(recipe.output)
    if _finished(out) and not recipe.overwrite:
        raise FileExistsError(
            f"The output folder {out!r} already holds a finished run ({FINISHED_MARKER}); "
            f"pass --overwrite (overwrite=True) to replace it or choose another --output. "
            f"Received: output={out!r}"
        )
    _check_writable(out)
    return out


# ---------------------------------------------------------------------------------------------
# Checks, optimizer, model


def _positive_int(recipe: Recipe, name: str, optional: bool = False) -> None:
    value = getattr(recipe, name)
    if optional and value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer{' or None' if optional else ''}. Received: {name}={value!r}")


def _number(recipe: Recipe, name: str, low: float, high: float, *, optional: bool = False, open_high: bool = False) -> None:
    value = getattr(recipe, name)
    if optional and value is None:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and low <= value and (value < high if open_high else value <= high)
    if not ok:
        bracket = ")" if open_high else "]"
        raise ValueError(f"`{name}` must be a number in [{low}, {high}{bracket}. Received: {name}={value!r}")


def weight_decay_mode(recipe: Recipe) -> str:
    """``"l2"`` or ``"decoupled"``: the recipe's mode with ``"auto"`` resolved."""
    if recipe.weight_decay_mode == "auto":
        return "decoupled" if recipe.optimizer == "adamw" else "l2"
    return recipe.weight_decay_mode


def check_recipe(recipe: Recipe) -> None:
    """Validate a recipe's names and numbers before any heavy work.

    Raises:
        ValueError: naming the field, what is allowed, and the value received.
    """
    spec = get_spec(recipe.model)
    task = dataset_task(recipe.dataset)
    if spec.task != task:
        raise ValueError(
            f"Model {recipe.model!r} is a {spec.task} model but dataset {recipe.dataset!r} is a "
            f"{task} dataset. Received: model={recipe.model!r}, dataset={recipe.dataset!r}"
        )
    if recipe.optimizer not in OPTIMIZERS:
        raise ValueError(
            f"`optimizer` must be one of {', '.join(OPTIMIZERS)}. Received: optimizer={recipe.optimizer!r}"
        )
    for name in ("epochs", "batch_size"):
        _positive_int(recipe, name)
    for name in ("steps_per_epoch", "eval_steps", "base_batch_size", "image_size"):
        _positive_int(recipe, name, optional=True)
    if not (isinstance(recipe.learning_rate, (int, float)) and recipe.learning_rate > 0):
        raise ValueError(f"`learning_rate` must be > 0. Received: learning_rate={recipe.learning_rate!r}")
    _number(recipe, "momentum", 0.0, 1.0, open_high=True)
    _number(recipe, "weight_decay", 0.0, 1.0)
    _number(recipe, "label_smoothing", 0.0, 1.0, open_high=True)
    for name in ("clipnorm", "clipvalue"):
        value = getattr(recipe, name)
        if value is not None and not (isinstance(value, (int, float)) and value > 0):
            raise ValueError(f"`{name}` must be > 0 or None. Received: {name}={value!r}")
    if recipe.weight_decay_mode not in WEIGHT_DECAY_MODES:
        raise ValueError(
            f"`weight_decay_mode` must be one of {', '.join(WEIGHT_DECAY_MODES)}. "
            f"Received: weight_decay_mode={recipe.weight_decay_mode!r}"
        )
    if recipe.optimizer == "adamw" and recipe.weight_decay_mode == "l2":
        raise ValueError(
            "AdamW decays weights itself (decoupled); for Adam with an L2 penalty use "
            "optimizer='adam' with weight_decay_mode='l2'. Received: optimizer='adamw', weight_decay_mode='l2'"
        )
    if recipe.lr_scaling not in LR_SCALINGS:
        raise ValueError(f"`lr_scaling` must be one of {', '.join(LR_SCALINGS)}. Received: lr_scaling={recipe.lr_scaling!r}")
    if recipe.mixed_precision is not None and recipe.mixed_precision not in MIXED_PRECISION:
        raise ValueError(
            f"`mixed_precision` must be None, {', '.join(MIXED_PRECISION)}. "
            f"Received: mixed_precision={recipe.mixed_precision!r}"
        )
    if task == "segmentation" and recipe.label_smoothing:
        raise ValueError(
            f"`label_smoothing` applies to classification only. Received: label_smoothing={recipe.label_smoothing!r}"
        )
    schedule_options(recipe.schedule, recipe.schedule_kwargs)
    parse_strategy(recipe.strategy)
    from kerascv_course.data.augment import list_policies

    policies = list_policies(task)
    if recipe.augment not in policies:
        raise ValueError(
            f"`augment` must be one of {', '.join(policies)} for a {task} dataset. "
            f"Received: augment={recipe.augment!r}"
        )
    _check_optimizer_kwargs(recipe)
    if recipe.pseudo_label:
        if task != "classification":
            raise ValueError(
                f"`pseudo_label` applies to classification only. Received: pseudo_label={recipe.pseudo_label!r}"
            )
        from kerascv_course.training.pseudo import pseudo_label_options

        pseudo_label_options(recipe.pseudo_label)


_OPTIMIZER_CLASSES = {
    "sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW, "rmsprop": keras.optimizers.RMSprop,
}
# Set from other recipe fields, so not accepted in optimizer_kwargs.
_OPTIMIZER_FIELDS = {
    "learning_rate": "learning_rate", "momentum": "momentum", "nesterov": "nesterov",
    "weight_decay": "weight_decay", "global_clipnorm": "clipnorm", "clipvalue": "clipvalue",
}


def _check_optimizer_kwargs(recipe: Recipe) -> None:
    """Unknown or duplicated ``optimizer_kwargs`` fail here (without creating TF variables)."""
    import inspect

    accepted = set(inspect.signature(_OPTIMIZER_CLASSES[recipe.optimizer].__init__).parameters) - {"self", "kwargs"}
    for key in recipe.optimizer_kwargs:
        if key in _OPTIMIZER_FIELDS:
            raise ValueError(
                f"Set `{key}` with the recipe field `{_OPTIMIZER_FIELDS[key]}`, not in optimizer_kwargs. "
                f"Received: optimizer_kwargs={recipe.optimizer_kwargs!r}"
            )
        if key not in accepted or key in ("clipnorm", "name"):
            raise ValueError(
                f"Unknown option {key!r} for optimizer {recipe.optimizer!r}; it takes "
                f"{', '.join(sorted(accepted - set(_OPTIMIZER_FIELDS) - {'clipnorm', 'name'}))}. "
                f"Received: optimizer_kwargs={recipe.optimizer_kwargs!r}"
            )


def learning_rate(recipe: Recipe) -> float:
    """The base learning rate of this run: ``recipe.learning_rate`` scaled to its batch size."""
    return scale_learning_rate(recipe.learning_rate, recipe.batch_size, recipe.base_batch_size, recipe.lr_scaling)


def make_optimizer(recipe: Recipe, *, steps_per_epoch: int | None = None) -> keras.optimizers.Optimizer:
    """The recipe's optimizer with its learning-rate schedule, clipping and decoupled weight decay.

    Args:
        recipe: the run's settings.
        steps_per_epoch: optimizer steps per epoch, needed by every schedule but ``constant`` and
            ``plateau`` (their boundaries are in epochs).

    Raises:
        ValueError: for a scheduled recipe without ``steps_per_epoch``, or bad optimizer options.
    """
    if steps_per_epoch is None:
        if recipe.schedule not in ("constant", "plateau"):
            raise ValueError(
                f"schedule {recipe.schedule!r} needs `steps_per_epoch` to place its boundaries. "
                f"Received: steps_per_epoch=None"
            )
        steps_per_epoch = 1
    lr = make_schedule(
        recipe.schedule, learning_rate(recipe), steps_per_epoch=steps_per_epoch,
        epochs=recipe.epochs, options=recipe.schedule_kwargs,
    )
    decoupled = recipe.weight_decay if weight_decay_mode(recipe) == "decoupled" and recipe.weight_decay else None
    common = dict(
        weight_decay=decoupled, global_clipnorm=recipe.clipnorm, clipvalue=recipe.clipvalue,
        **recipe.optimizer_kwargs,
    )
    _check_optimizer_kwargs(recipe)
    if recipe.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=recipe.momentum, nesterov=recipe.nesterov, **common)
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(lr, **common)
    if recipe.optimizer == "adamw":
        common["weight_decay"] = recipe.weight_decay
        return keras.optimizers.AdamW(lr, **common)
    return keras.optimizers.RMSprop(lr, momentum=recipe.momentum, **common)


def _decays(variable: Any, recipe: Recipe) -> bool:
    """Kernels decay; biases, batch-norm parameters and excluded paths do not."""
    path = getattr(variable, "path", variable.name)
    return len(variable.shape) >= 2 and not any(s in path for s in recipe.weight_decay_exclude)


def build_model(recipe: Recipe, info: DatasetInfo) -> keras.Model:
    """The recipe's model, sized for the dataset (input shape and classes).

    Under mixed precision a float32 ``output_float32`` layer is appended, so the softmax reaches
    the loss and metrics in float32 (the Keras mixed-precision guide's advice).
    """
    spec = get_spec(recipe.model)
    h, w, c = info.image_shape
    if recipe.image_size is not None:
        h = w = recipe.image_size
    kwargs = dict(recipe.model_kwargs)
    kwargs.setdefault("input_shape", (h, w, c))
    kwargs.setdefault("classes", info.num_classes)
    model = spec.builder(**kwargs)
    if recipe.mixed_precision and model.outputs[0].dtype != "float32":
        # Mixed precision computes in float16/bfloat16; the loss and metrics want float32 outputs.
        output = keras.layers.Activation("linear", dtype="float32", name="output_float32")(model.outputs[0])
        model = keras.Model(model.inputs, output, name=model.name)
    return model


def _dataset_kwargs(recipe: Recipe) -> dict[str, Any]:
    return dict(data_dir=recipe.data_dir, image_size=recipe.image_size, seed=recipe.seed, **recipe.dataset_kwargs)


def load_splits(recipe: Recipe) -> tuple[dict[str, tf.data.Dataset], DatasetInfo]:
    """The train, validation and test splits of the recipe's dataset and the train split's info.

    With ``recipe.pseudo_label`` the teacher's confident pseudo-labelled images are appended to
    the training split, and ``info.extra["pseudo_label"]`` summarises them.
    """
    splits: dict[str, tf.data.Dataset] = {}
    info = None
    for split in ("train", recipe.validation_split, recipe.test_split):
        if split is None or split in splits:
            continue
        ds, split_info = load_dataset(recipe.dataset, split, **_dataset_kwargs(recipe))
        splits[split] = ds
        info = info or split_info
    if recipe.pseudo_label:
        from kerascv_course.training.pseudo import pseudo_labelled

        extra, summary = pseudo_labelled(recipe, info, splits["train"].element_spec[1].dtype, _dataset_kwargs(recipe))
        splits["train"] = splits["train"].concatenate(extra)
        total = None if info.num_examples is None else info.num_examples + summary["pseudo_labelled_examples"]
        info = dataclasses.replace(info, num_examples=total, extra={**info.extra, "pseudo_label": summary})
    return splits, info


def _steps_from_info(recipe: Recipe, info: DatasetInfo) -> int | None:
    if info.num_examples is None:
        return None
    steps = info.num_examples // recipe.batch_size
    return min(steps, recipe.steps_per_epoch) if recipe.steps_per_epoch else steps


def compile_model(
    model: keras.Model, recipe: Recipe, info: DatasetInfo, *, steps_per_epoch: int | None = None
) -> None:
    """Compile with the recipe's optimizer, weight decay and the task's loss and metrics.

    Classification: cross-entropy (with ``label_smoothing``: categorical cross-entropy on one-hot
    labels — see :func:`label_encoder`), ``accuracy`` and ``top5_accuracy``. Segmentation: the
    losses and metrics of :mod:`kerascv_course.training.losses` (``mean_iou``, ``dice``, …).
    With ``weight_decay_mode="l2"`` every decayed kernel gets the penalty ``wd/2·||w||²`` (it
    is part of the reported training loss, as in Keras).

    Args:
        model: the model (built under the strategy's scope).
        recipe: the run's settings.
        info: the training split's info (``num_examples`` sets the schedule's steps per epoch
            when ``steps_per_epoch`` is not given).
        steps_per_epoch: optimizer steps per epoch.
    """
    if steps_per_epoch is None:
        steps_per_epoch = _steps_from_info(recipe, info)
    optimizer = make_optimizer(recipe, steps_per_epoch=steps_per_epoch)
    decayed = [v for v in model.trainable_variables if _decays(v, recipe)]
    if recipe.weight_decay and weight_decay_mode(recipe) == "l2":
        penalty = keras.regularizers.L2(recipe.weight_decay / 2.0)
        for variable in decayed:
            variable.regularizer = penalty
    elif recipe.weight_decay:
        keep = {id(v) for v in decayed}
        optimizer.exclude_from_weight_decay(var_list=[v for v in model.trainable_variables if id(v) not in keep])
    jit = bool(recipe.jit_compile)
    if info.task == "segmentation":
        from kerascv_course.training.losses import segmentation_loss, segmentation_metrics

        model.compile(
            optimizer=optimizer,
            loss=segmentation_loss(info.num_classes, recipe.loss),
            metrics=segmentation_metrics(info.num_classes),
            jit_compile=jit,
        )
        return
    if recipe.label_smoothing:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing)
        metrics = [
            keras.metrics.CategoricalAccuracy(name="accuracy"),
            keras.metrics.TopKCategoricalAccuracy(k=5, name="top5_accuracy"),
        ]
    else:
        loss = keras.losses.SparseCategoricalCrossentropy()
        metrics = [
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            keras.metrics.SparseTopKCategoricalAccuracy(k=5, name="top5_accuracy"),
        ]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit)


def label_encoder(recipe: Recipe, info: DatasetInfo) -> Callable[[tf.data.Dataset], tf.data.Dataset]:
    """What batches need before :func:`compile_model`'s loss: one-hot labels with label smoothing.

    Example:
        >>> train = label_encoder(recipe, info)(make_pipeline(ds, info, training=True, batch_size=64))
    """
    if info.task != "classification" or not recipe.label_smoothing:
        return lambda ds: ds
    depth = info.num_classes

    def encode(ds: tf.data.Dataset) -> tf.data.Dataset:
        return ds.map(lambda x, y: (x, tf.one_hot(tf.cast(y, tf.int32), depth)), num_parallel_calls=tf.data.AUTOTUNE)

    return encode


def read_history_csv(path: str) -> dict[str, list[float]]:
    """``history.csv`` as ``{column: [values per epoch]}``."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {key: [float(r[key]) for r in rows] for key in (rows[0] if rows else {})}


def _history_columns(rows: list[dict[str, float]]) -> dict[str, list[float]]:
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    return {k: [row.get(k, float("nan")) for row in rows] for k in keys}


def _write_history_csv(path: str, rows: list[dict[str, float]]) -> None:
    columns = _history_columns(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(columns))
    for i in range(len(rows)):
        writer.writerow([repr(columns[k][i]) if isinstance(columns[k][i], float) else columns[k][i] for k in columns])
    write_text(path, buffer.getvalue())


def epoch_seed(seed: int, epoch: int) -> int:
    """The data seed of one epoch (shuffling and augmentation), a function of ``(seed, epoch)``."""
    return int(np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1)[0] & 0x7FFFFFFF)


@contextlib.contextmanager
def run_settings(recipe: Recipe) -> Iterator[None]:
    """Seeds, op determinism and the mixed-precision policy for the run, restored afterwards."""
    from tensorflow.python.framework import config as tf_config

    policy = keras.config.dtype_policy()
    determinism = tf_config.is_op_determinism_enabled()
    if recipe.mixed_precision:
        keras.config.set_dtype_policy(recipe.mixed_precision)
    if recipe.deterministic:
        tf_config.enable_op_determinism()
    keras.utils.set_random_seed(recipe.seed)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(policy)
        if recipe.deterministic and not determinism:
            tf_config.disable_op_determinism()


def _verbosity(verbose: int | str) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    return int(verbose)


def _monitor(recipe: Recipe, task: str) -> str:
    if recipe.checkpoint_monitor != "auto":
        return recipe.checkpoint_monitor
    return "val_mean_iou" if task == "segmentation" else "val_accuracy"


def _current_lr(model: keras.Model) -> float:
    return float(np.asarray(model.optimizer.learning_rate))


# ---------------------------------------------------------------------------------------------
# The run


class _Data:
    """The run's pipelines: a fresh, ``(seed, epoch)``-seeded training pipeline per epoch."""

    def __init__(self, recipe: Recipe, splits: dict[str, tf.data.Dataset], info: DatasetInfo,
                 model: keras.Model, strategy: tf.distribute.Strategy) -> None:
        from kerascv_course.data.augment import get_policy

        self.recipe, self.info, self.strategy = recipe, info, strategy
        shape = model.input_shape
        self.channels = shape[-1]
        if None not in shape[1:3]:
            self.size = tuple(shape[1:3])
        elif recipe.image_size is not None:
            self.size = (recipe.image_size, recipe.image_size)
        else:
            self.size = None
        self.augment = get_policy(
            recipe.augment, task=info.task, image_size=self.size, info=info, **recipe.augment_kwargs
        )
        self.encode = label_encoder(recipe, info)
        self.train_raw = splits["train"].cache()
        self.splits = splits

    def train(self, epoch: int) -> tf.data.Dataset:
        """Epoch ``epoch``'s training batches: shuffled and augmented with :func:`epoch_seed`."""
        ds = make_pipeline(
            self.train_raw, self.info, training=True, batch_size=self.recipe.batch_size,
            image_size=self.size, channels=self.channels, augment=self.augment,
            seed=epoch_seed(self.recipe.seed, epoch), cache=False,
            strategy=self.strategy,
        )
        return self.encode(ds)

    def evaluation(self, split: str) -> tf.data.Dataset:
        """The batches of a validation or test split (capped at ``eval_steps``)."""
        ds = make_pipeline(
            self.splits[split], self.info, training=False, batch_size=self.recipe.batch_size,
            image_size=self.size, channels=self.channels, seed=self.recipe.seed, strategy=self.strategy,
        )
        ds = self.encode(ds)
        return ds.take(self.recipe.eval_steps) if self.recipe.eval_steps else ds

    def steps_per_epoch(self) -> int:
        """Global batches per epoch (capped at ``recipe.steps_per_epoch``)."""
        n = int(self.train_raw.cardinality())
        if n < 0:  # unknown: count the examples once
            n = int(self.train_raw.reduce(np.int64(0), lambda count, _: count + 1))
        if n == 0:
            raise ValueError(f"The training split of {self.recipe.dataset!r} is empty. Received: dataset={self.recipe.dataset!r}")
        batches = -(-n // self.recipe.batch_size)
        cap = self.recipe.steps_per_epoch
        return min(batches, cap) if cap else batches


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
            a batch size that does not divide over the replicas, or a checkpoint in ``output``
            written for another model or dataset.
        FileExistsError: when the output folder holds a finished run and ``overwrite`` is off.
        PermissionError: when the output folder cannot be written.
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
    out = resolve_output(recipe)
    check_global_batch(recipe.batch_size, strategy)
    checkpoint = RunCheckpoint(out, writer=chief)
    state = _resume_state(recipe, out, checkpoint, chief)
    initial_epoch = _agree_on_epoch(strategy, int(state["epoch"]) if state else 0)
    started = time.time()
    with run_settings(recipe), contextlib.ExitStack() as cleanup:
        splits, info = load_splits(recipe)
        with strategy.scope():
            model = build_model(recipe, info)
        data = _Data(recipe, splits, info, model, strategy)
        steps = data.steps_per_epoch()
        # Each epoch's pipeline is built (traced) in a thread while the model compiles and the
        # previous epoch trains; its data order depends on (seed, epoch) only.
        prepare = ThreadPoolExecutor(max_workers=1)
        cleanup.callback(prepare.shutdown, cancel_futures=True)
        upcoming = prepare.submit(lambda e: strategy.experimental_distribute_dataset(data.train(e)), initial_epoch)
        with strategy.scope():
            compile_model(model, recipe, info, steps_per_epoch=steps)
            model.optimizer.build(model.trainable_variables)
        if state is not None:
            load_variables(state["weights_path"], model)
            log.info("Resuming %s from epoch %d of %d.", out, initial_epoch, recipe.epochs)
        writer_dir = out if chief else checkpoint.write_dir
        os.makedirs(checkpoint.write_dir, exist_ok=True)
        if chief:
            write_json(os.path.join(out, "recipe.json"), recipe.to_dict())
        engine = Engine(model, strategy, jit_compile=recipe.jit_compile)
        nan_guard = TerminateOnNaN(check_every=NAN_CHECK_EVERY)
        stateful = _stateful_callbacks(recipe, info, checkpoint.write_dir, state)
        cbs: list[keras.callbacks.Callback] = [nan_guard, *stateful.values()]
        if chief and recipe.tensorboard:
            cbs.append(keras.callbacks.TensorBoard(log_dir=os.path.join(out, "logs"), write_graph=False))
        callback_list = keras.callbacks.CallbackList(
            [*cbs, *(callbacks or [])], add_progbar=verbosity != 0, model=model, verbose=verbosity,
            epochs=recipe.epochs, steps=steps,
        )
        rows: list[dict[str, float]] = list(state["history"]) if state else []
        seconds_before = float(state.get("train_seconds", 0.0)) if state else 0.0
        validation = recipe.validation_split is not None
        val_ds = engine.distribute(data.evaluation(recipe.validation_split)) if validation else None
        rates: list[float] = []
        model.stop_training = False
        callback_list.on_train_begin()
        for epoch in range(initial_epoch, recipe.epochs):
            train_ds = upcoming.result()
            if epoch + 1 < recipe.epochs:
                upcoming = prepare.submit(lambda e: engine.distribute(data.train(e)), epoch + 1)
            callback_list.on_epoch_begin(epoch)
            lr = _current_lr(model)
            logs = engine.train_epoch(train_ds, steps=steps, callbacks=callback_list)
            rates.append(steps * recipe.batch_size / max(engine.last_epoch_seconds, 1e-9))
            if nan_guard.diverged is None and val_ds is not None:
                logs.update({f"val_{k}": v for k, v in engine.evaluate(val_ds).items()})
            logs["learning_rate"] = lr
            callback_list.on_epoch_end(epoch, logs)
            if nan_guard.diverged is not None:
                raise _diverged(nan_guard.diverged, out, epoch, lr)  # `epoch` epochs are checkpointed
            rows.append({"epoch": epoch, **{k: float(v) for k, v in logs.items()}})
            checkpoint.save(model, epoch + 1, dict(
                identity=run_identity(recipe), history=rows,
                callbacks={k: c.state_dict() for k, c in stateful.items()},
                train_seconds=seconds_before + time.time() - started,
            ))
            if chief:
                _write_history_csv(os.path.join(out, "history.csv"), rows)
            if model.stop_training:
                break
        callback_list.on_train_end()
        metrics = _final_metrics(engine.evaluate(data.evaluation(recipe.test_split)), info.task)
        seconds = seconds_before + time.time() - started
        metrics.update(
            train_seconds=seconds,
            epochs_completed=len(rows),
            resumed_from_epoch=initial_epoch,
            steps_per_epoch=steps,
            replicas=strategy.num_replicas_in_sync,
            learning_rate=learning_rate(recipe),
        )
        if "pseudo_label" in info.extra:
            summary = info.extra["pseudo_label"]
            metrics.update(
                pseudo_labelled_examples=summary["pseudo_labelled_examples"],
                unlabelled_examples=summary["unlabelled_examples"],
            )
        if rates:
            metrics["train_images_per_second"] = float(np.median(rates[1:] if len(rates) > 1 else rates))
        best = stateful.get("best")
        if best is not None and best.best_epoch is not None:
            metrics.update(best_epoch=best.best_epoch, best_monitor=best.monitor, best_value=best.best)
        history = _write_artifacts(model, recipe, info, data, out, chief, writer_dir, rows, metrics, best)
        checkpoint.clear()
    return RunResult(output=out, metrics=metrics, history=history, model=model, seconds=seconds)


def _resume_state(recipe: Recipe, out: str, checkpoint: RunCheckpoint, chief: bool) -> dict[str, Any] | None:
    """The checkpoint to continue from (checked against ``recipe``), or ``None`` to start afresh."""
    if recipe.overwrite or not recipe.resume:
        if chief and recipe.overwrite:  # start over: no finished marker, no old TensorBoard events
            if os.path.isfile(os.path.join(out, FINISHED_MARKER)):
                os.remove(os.path.join(out, FINISHED_MARKER))
            shutil.rmtree(os.path.join(out, "logs"), ignore_errors=True)
        checkpoint.clear()
        return None
    state = checkpoint.load()
    if state is not None:
        checkpoint.check_identity(state, recipe)
    return state


def _stateful_callbacks(
    recipe: Recipe, info: DatasetInfo, folder: str, state: dict[str, Any] | None
) -> dict[str, keras.callbacks.Callback]:
    """The callbacks whose state the checkpoint carries (plateau decay, best model), restored."""
    stateful: dict[str, keras.callbacks.Callback] = {}
    if recipe.schedule == "plateau":
        stateful["plateau"] = PlateauDecay(**schedule_options("plateau", recipe.schedule_kwargs))
    if recipe.validation_split is not None:
        stateful["best"] = BestCheckpoint(os.path.join(folder, "best.npz"), _monitor(recipe, info.task))
    for key, callback in stateful.items():
        if state and key in state.get("callbacks", {}):
            callback.load_state_dict(state["callbacks"][key])
    return stateful


def _write_artifacts(
    model: keras.Model, recipe: Recipe, info: DatasetInfo, data: _Data, out: str, chief: bool,
    writer_dir: str, rows: list[dict[str, float]], metrics: dict[str, Any], best: BestCheckpoint | None,
) -> dict[str, list[float]]:
    """``model.keras``, ``best.keras``, history, plots and, last, ``metrics.json``; the history."""
    from kerascv_course.viz.curves import plot_history

    with atomic_path(os.path.join(writer_dir, "model.keras")) as tmp:
        model.save(tmp)
    if best is not None and best.best_epoch is not None:
        _export_best(model, best.path, os.path.join(writer_dir, "best.keras"))
    history = _history_columns(rows)
    if chief:
        if rows:
            _write_history_csv(os.path.join(out, "history.csv"), rows)
            plot_history(
                {k: v for k, v in history.items() if k != "epoch"}, os.path.join(out, "history.png"),
                title=f"{recipe.model} on {recipe.dataset}",
            )
        if info.task == "segmentation":
            _segmentation_samples(model, data, recipe, info, out)
        write_json(os.path.join(out, FINISHED_MARKER), metrics)
    return history


def _export_best(model: keras.Model, npz: str, path: str) -> None:
    """Write ``best.keras``: the model with the best epoch's variables, then restore the final ones."""
    final = [np.asarray(v.numpy()) for v in model.variables]
    load_variables(npz, model, optimizer=False)
    with atomic_path(path) as tmp:
        model.save(tmp)
    for variable, value in zip(model.variables, final):
        variable.assign(value)


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


def _diverged(where: dict[str, Any], out: str, finished: int, lr: float) -> FloatingPointError:
    batch = f", batch {where['batch']}" if where.get("batch") else ""
    kept = (
        f"The last good checkpoint (after epoch {finished}) is kept in "
        f"{os.path.join(out, 'checkpoint')!r}; run again with other settings and --no-resume to start over."
        if finished else "No epoch finished, so there is no checkpoint to resume from."
    )
    return FloatingPointError(
        f"Training diverged: the loss became {where['loss']} at epoch {where['epoch']}{batch} "
        f"(learning rate {lr:.3g}). Try a lower --learning-rate, gradient clipping (--clipnorm), "
        f"a warm-up, or float32 instead of mixed precision. {kept}"
    )


def _final_metrics(logs: dict[str, float], task: str) -> dict[str, float]:
    metrics = {k: float(v) for k, v in logs.items()}
    if task == "classification":
        metrics["top1_error"] = 1.0 - metrics["accuracy"]
        metrics["top5_error"] = 1.0 - metrics["top5_accuracy"]
    return metrics


class _DirectPredictor:
    """``predict`` by calling the model directly: no ``strategy.run``, so no collective op that
    the other workers of a multi-worker run (which do not plot) would have to join."""

    def __init__(self, model: keras.Model) -> None:
        self.model = model

    def predict(self, images: Any, verbose: int = 0) -> np.ndarray:
        return np.asarray(self.model(tf.convert_to_tensor(images), training=False))


def _segmentation_samples(model: keras.Model, data: _Data, recipe: Recipe, info: DatasetInfo, out: str) -> None:
    from kerascv_course.viz.overlays import plot_segmentation_samples

    plot_segmentation_samples(
        _DirectPredictor(model), data.evaluation(recipe.test_split), os.path.join(out, "segmentation.png"),
        n=4, class_names=info.class_names,
    )
