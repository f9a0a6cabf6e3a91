"""The search: :func:`tune` runs keras-tuner over a zoo model and writes a search folder.

A search folder holds::

    search.json        what is searched (model, dataset, tuner, objective, space) — a rerun must match
    trials/            keras-tuner's project: oracle.json and one trial_<id>/ per trial
    trials.csv         one row per trial: hyperparameters, objective, epochs, seconds, params
    best_hparams.json  the best trial's hyperparameters (``kerascv-course train --hparams``)
    best_trial.json    the best trial's id, score and hyperparameters, for the record
    trials.png         the objective per trial and the best so far
    hparams.png        the objective against the most important hyperparameters
    best/              the best hyperparameters retrained by the trainer (model.keras, metrics.json…)

**Resuming.** Every trial is saved as it finishes; running the same search again continues it:
finished trials are never run again, a trial that was cut off is run again, and a larger
``max_trials`` adds trials. ``overwrite`` starts afresh. A folder holding another search (another
model, dataset, tuner, objective or space) is refused.

**Distributed search** (keras-tuner's chief/worker mode). One *chief* process holds the oracle
and hands out trials over gRPC; any number of *workers*, on the same or other machines, run them.
Start the same command everywhere, with three environment variables::

    # machine A (the chief: serves the oracle, runs no trial, writes the results at the end)
    KERASTUNER_TUNER_ID=chief KERASTUNER_ORACLE_IP=10.0.0.1 KERASTUNER_ORACLE_PORT=8000 \\
        kerascv-course tune resnet20 --dataset cifar10 --max-trials 40 --output search
    # machines B, C, … (workers: each a unique id)
    KERASTUNER_TUNER_ID=tuner0 KERASTUNER_ORACLE_IP=10.0.0.1 KERASTUNER_ORACLE_PORT=8000 \\
        kerascv-course tune resnet20 --dataset cifar10 --max-trials 40 --output search

The chief listens on ``KERASTUNER_ORACLE_IP:KERASTUNER_ORACLE_PORT``; workers connect to it and
wait for it if they start first. The chief writes ``trials.csv``, ``best_hparams.json`` and the
plots once every worker is done; workers keep their own trials' checkpoints (Hyperband continues a
trial from an earlier one's checkpoint, so give its workers a shared ``--output`` folder). Each
worker trains under its own ``--strategy`` (e.g. ``mirrored`` over its GPUs).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kerascv_course.training.checks import task_score
from kerascv_course.training.recipe import apply_hparams
from kerascv_course.tuning.progress import TrialProgress, hyperband_trials
from kerascv_course.tuning.spaces import SearchSpace, encode_choice, resolve_space
from kerascv_course.tuning.trials import (
    trial_rows,
    write_trials_csv,
)
from kerascv_course.utils.files import FolderLock, write_json

if TYPE_CHECKING:
    from kerascv_course.tuning.hypermodel import CourseHyperModel

log = logging.getLogger(__name__)

TUNERS = ("random", "hyperband", "bayesian")
PROJECT = "trials"
RECORD = "search.json"
# Files and folders of a search folder that --overwrite removes (and nothing else).
OWNED = (PROJECT, RECORD, "trials.csv", "best_hparams.json", "best_trial.json", "trials.png",
         "hparams.png", "best")
# What must match for a search folder to be resumed.
IDENTITY = ("model", "dataset", "tuner", "objective", "space")
#: Per-trial numbers recorded beside the Keras metrics (the trials table's last columns).


@dataclass
class TuneResult:
    """What :func:`tune` returns.

    Attributes:
        output: the search folder.
        role: ``"standalone"``, ``"chief"`` or ``"worker"`` (distributed search).
        objective: the objective's name.
        trials: one row per trial (the ``trials.csv`` rows; empty on a worker).
        new_trials: ids of the trials this call ran (the chief runs none).
        best_trial: the best trial's id (``None`` when no trial finished).
        best_score: its objective.
        best_hparams: its hyperparameters in the ``best_hparams.json`` format.
        best_run: the trainer's :class:`~kerascv_course.training.RunResult` of the retrained best
            model, or ``None`` (not retrained, or taken from an earlier call).
        files: paths of the files written, by name.
        replicas: the replicas each trial of this process trained on (its strategy).
    """

    output: str
    role: str
    objective: str
    trials: list[dict[str, Any]] = field(default_factory=list)
    new_trials: list[str] = field(default_factory=list)
    best_trial: str | None = None
    best_score: float | None = None
    best_hparams: dict[str, Any] | None = None
    best_run: Any = None
    files: dict[str, str] = field(default_factory=dict)
    replicas: int = 1


def search_role() -> str:
    """``"chief"``, ``"worker"`` or ``"standalone"``, from keras-tuner's environment variables."""
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return "standalone"
    missing = [v for v in ("KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID") if v not in os.environ]
    if missing:
        raise ValueError(
            f"Distributed search needs KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP and "
            f"KERASTUNER_ORACLE_PORT; {', '.join(missing)} not set. Received: "
            f"KERASTUNER_ORACLE_IP={os.environ['KERASTUNER_ORACLE_IP']!r}"
        )
    return "chief" if "chief" in os.environ["KERASTUNER_TUNER_ID"] else "worker"


def _run_log(base: type) -> type:
    """A keras-tuner tuner class that also records the ids of the trials it ran, and reports
    each trial to its ``progress`` (a :class:`TrialProgress`) when it has one."""

    class Tuner(base):
        progress: TrialProgress | None = None

        def on_trial_begin(self, trial: Any) -> None:
            if self.progress is not None:
                self.progress.begin(trial, len(self.oracle.trials) - 1)
            super().on_trial_begin(trial)

        def on_trial_end(self, trial: Any) -> None:
            self.ran = [*getattr(self, "ran", []), trial.trial_id]
            super().on_trial_end(trial)
            if self.progress is not None:
                finished = sum(t.status != "RUNNING" for t in self.oracle.trials.values())
                self.progress.end(self.oracle.trials.get(trial.trial_id, trial), self.oracle, finished)

    Tuner.__name__ = Tuner.__qualname__ = base.__name__
    return Tuner


def make_tuner(
    name: str,
    hypermodel: CourseHyperModel,
    *,
    max_trials: int,
    directory: str,
    project_name: str = PROJECT,
    strategy: Any = None,
    seed: int = 0,
    max_epochs: int | None = None,
    factor: int = 3,
    num_initial_points: int | None = None,
    executions_per_trial: int = 1,
    overwrite: bool = False,
) -> Any:
    """The keras-tuner tuner ``name`` over ``hypermodel``.

    Args:
        name: ``"random"`` (RandomSearch), ``"hyperband"`` or ``"bayesian"``
            (BayesianOptimization, Gaussian process).
        hypermodel: the :class:`CourseHyperModel` (its objective and direction are used).
        max_trials: the most trials to run (Hyperband too: it stops at its schedule's end or here).
        directory, project_name: the keras-tuner project is ``directory/project_name``.
        strategy: the ``tf.distribute`` strategy every trial runs under.
        seed: the oracle's seed (keras-tuner reads 0 as "random", so ``seed + 1`` is passed).
        max_epochs: Hyperband's largest budget (default: the recipe's epochs).
        factor: Hyperband's reduction factor.
        num_initial_points: Bayesian random trials before the Gaussian process (default: half
            of ``max_trials``, at least 2).
        executions_per_trial: trainings averaged per trial.
        overwrite: let keras-tuner delete an existing project.

    Returns:
        The tuner (reloaded from ``directory/project_name`` when a project is there).

    Raises:
        ValueError: for an unknown tuner name.
    """
    import keras_tuner

    check_tuner(name)
    common = dict(
        hypermodel=hypermodel,
        objective=keras_tuner.Objective(hypermodel.objective, hypermodel.direction),
        seed=seed + 1,
        directory=directory,
        project_name=project_name,
        overwrite=overwrite,
        distribution_strategy=strategy,
        executions_per_trial=executions_per_trial,
    )
    hypermodel.declare_only = True  # keras-tuner's space-collecting builds need no real model
    try:
        if name == "random":
            tuner = _run_log(keras_tuner.RandomSearch)(max_trials=max_trials, **common)
        elif name == "bayesian":
            points = num_initial_points or max(2, min(max_trials // 2, 3 * len(hypermodel.space.params)))
            tuner = _run_log(keras_tuner.BayesianOptimization)(
                max_trials=max_trials, num_initial_points=points, **common
            )
        else:
            tuner = _run_log(keras_tuner.Hyperband)(
                max_epochs=max_epochs or hypermodel.recipe.epochs, factor=factor, **common
            )
            getattr(tuner.oracle, "_oracle", tuner.oracle).max_trials = max_trials
    finally:
        hypermodel.declare_only = False
    return tuner


def check_tuner(name: str) -> None:
    """Raise ``ValueError`` unless ``name`` is one of :data:`TUNERS`."""
    if name not in TUNERS:
        raise ValueError(f"`tuner` must be one of {', '.join(TUNERS)}. Received: tuner={name!r}")


def reported_metrics(recipe: Any, info: Any, splits: Mapping[str, Any]) -> list[str]:
    """Every metric name a training run of ``recipe`` reports (``loss``, ``val_accuracy``, …).

    Compiles a one-layer stand-in model with the trainer's own :func:`compile_model` and evaluates
    it on one validation example, so the names follow whatever the trainer compiles.
    """
    import keras

    from kerascv_course.data import make_pipeline
    from kerascv_course.training.model import compile_model
    from kerascv_course.training.run_data import label_encoder

    sample = make_pipeline(splits[recipe.validation_split].take(1), info, training=False,
                           batch_size=1, cache=False)
    shape = tuple(sample.element_spec[0].shape[1:])
    inputs = keras.Input(shape)
    if info.task == "segmentation":
        outputs = keras.layers.Conv2D(info.num_classes, 1, activation="softmax")(inputs)
    else:
        outputs = keras.layers.Dense(info.num_classes, activation="softmax")(
            keras.layers.GlobalAveragePooling2D()(inputs)
        )
    stand_in = keras.Model(inputs, outputs)
    # Only the metric names matter: no weight decay (its patterns name the real model's variables).
    compile_model(stand_in, recipe.replace(weight_decay=0.0, weight_decay_exclude=[]), info)
    names = sorted(stand_in.evaluate(label_encoder(recipe, info)(sample), verbose=0, return_dict=True))
    return names + [f"val_{n}" for n in names]


def check_space_values(space: SearchSpace, recipe: Any) -> None:
    """Check every choice (and both ends of every range) of the Recipe-field hyperparameters with
    the trainer's own :func:`check_recipe`, so a bad value fails now and not in a trial.

    Raises:
        ValueError: naming the hyperparameter and the value the trainer refused.
    """
    from kerascv_course.training.checks import check_recipe

    for p in space.params:
        if p.target not in ("recipe", "variant"):
            continue
        if p.kind == "choice":
            candidates = list(p.values)
        elif p.kind == "fixed":
            candidates = [p.default]
        else:
            candidates = [p.min, p.max]
        for value in candidates:
            try:
                check_recipe(apply_hparams(recipe, space.to_hparams({p.name: value})))
            except (ValueError, TypeError) as err:
                raise ValueError(f"`space[{p.name!r}]`: the value {value!r} is refused: {err}") from err


def check_objective(objective: str, reported: Sequence[str]) -> None:
    """Raise ``ValueError`` unless the model reports ``objective``."""
    if objective not in reported:
        raise ValueError(
            f"`objective` must be a metric the model reports: {', '.join(reported)}. "
            f"Received: objective={objective!r}"
        )


def default_output(recipe: Any) -> str:
    """``runs/tune-<model>-<dataset>-<time>``."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    safe = recipe.dataset.replace(":", "_").replace("/", "_")
    return os.path.join("runs", f"tune-{recipe.model}-{safe}-{stamp}")


def prepare_search_dir(out: str, record: Mapping[str, Any], *, overwrite: bool, role: str) -> bool:
    """Check (or start) the search folder ``out`` for the search ``record`` describes.

    Returns whether an earlier search is resumed. With ``overwrite`` (not on a worker), the
    search's own files are removed first; nothing else in ``out`` is touched.

    Raises:
        ValueError: when ``out`` holds a different search, or a keras-tuner project with no record.
    """
    resumed = check_search_dir(out, record, overwrite=overwrite and role != "worker")
    if overwrite and role != "worker":
        for name in OWNED:
            path = os.path.join(out, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.remove(path)
        resumed = False
    os.makedirs(out, exist_ok=True)
    if not resumed:
        write_json(os.path.join(out, RECORD), dict(record))
    return resumed


def check_search_dir(out: str, record: Mapping[str, Any], *, overwrite: bool) -> bool:
    """Whether ``out`` holds this very search (to resume); read-only.

    Raises:
        ValueError: when ``out`` is a file, or (unless ``overwrite``) holds a different search or
            a keras-tuner project with no record.
    """
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"`output` must be a folder, but a file exists there. Received: output={out!r}")
    if overwrite:
        return False
    record_path = os.path.join(out, RECORD)
    resumed = False
    if os.path.exists(record_path):
        with open(record_path, encoding="utf-8") as fh:
            old = json.load(fh)
        new = json.loads(json.dumps(dict(record)))
        diff = [k for k in IDENTITY if _identity(old, k) != _identity(new, k)]
        if diff:
            raise ValueError(
                f"The search folder {out!r} holds another search: {old.get('model')} on "
                f"{old.get('dataset')} ({old.get('tuner')} tuner, objective {old.get('objective')}); "
                f"this one searches {record['model']} on {record['dataset']} ({record['tuner']} "
                f"tuner, objective {record['objective']}); they differ in {', '.join(diff)}. "
                f"Rerun the same search to resume it, pass --overwrite (overwrite=True) to start "
                f"afresh, or choose another --output. Received: output={out!r}, "
                f"model={record['model']!r}"
            )
        resumed = True
    elif os.path.exists(os.path.join(out, PROJECT, "oracle.json")):
        raise ValueError(
            f"The folder {out!r} holds a keras-tuner project but no {RECORD}, so what it searched "
            f"is unknown; pass --overwrite (overwrite=True) or choose another --output. "
            f"Received: output={out!r}"
        )
    return resumed


def _identity(record: Mapping[str, Any], key: str) -> Any:
    """``record[key]``; for the space, without the defaults (they follow the base recipe's values,
    which may change between a search and its resumption)."""
    value = record.get(key)
    if key == "space" and isinstance(value, list):
        return [{k: v for k, v in p.items() if k != "default"} for p in value]
    return value


def tune(
    recipe: Any,
    *,
    tuner: str = "random",
    max_trials: int = 10,
    space: SearchSpace | Mapping[str, Any] | str | None = None,
    objective: str | None = None,
    patience: int = 3,
    retrain: bool = True,
    factor: int = 3,
    num_initial_points: int | None = None,
    executions_per_trial: int = 1,
    verbose: int | str = 0,
    progress: Callable[[str], Any] | None = None,
) -> TuneResult:
    """Search hyperparameters of ``recipe.model`` on ``recipe.dataset`` and write a search folder.

    Each trial trains for ``recipe.epochs`` epochs (Hyperband: up to that many) with early
    stopping on the objective, under the recipe's distribution strategy. The search folder is
    ``recipe.output`` (default ``runs/tune-<model>-<dataset>-<time>``); ``recipe.overwrite`` starts
    afresh, otherwise an earlier search there is resumed (see the module docstring, which also
    describes the distributed chief/worker mode).

    Args:
        recipe: the base :class:`~kerascv_course.training.Recipe` (fixed values and defaults).
        tuner: ``"random"``, ``"hyperband"`` or ``"bayesian"``.
        max_trials: the most trials in the search folder (a resumed search counts its old ones).
        space: ``None`` (the family table), a dict of ranges, a JSON/YAML file or a
            :class:`SearchSpace` (see :func:`~kerascv_course.tuning.spaces.resolve_space`).
        objective: a metric the model reports; default ``val_accuracy`` (``val_mean_iou`` for
            segmentation). Losses and errors are minimised, everything else maximised.
        patience: early-stopping patience of each trial (0: off).
        retrain: train the best hyperparameters again with the trainer into ``<output>/best``.
        factor: Hyperband's reduction factor.
        num_initial_points: BayesianOptimization's random start (default ``max_trials // 2``).
        executions_per_trial: trainings averaged per trial.
        verbose: 0 silent, 1 keras-tuner's trial display and Keras' progress bars.
        progress: called with one line of text as each trial starts and ends (its number of the
            planned total, hyperparameters, score, best so far, time left), when Hyperband plans
            fewer trials than ``max_trials``, and before the retraining; e.g. ``print``.

    Returns:
        A :class:`TuneResult`.

    Raises:
        ValueError: before any training, for an unknown tuner, model, dataset, hyperparameter
            name, a bad range, an objective the model does not report, the ``multiworker``
            strategy, or a search folder holding another search.

    Example:
        >>> result = tune(Recipe(model="lenet5", dataset="digits", epochs=3, output="search"),
        ...               tuner="bayesian", max_trials=8,
        ...               space={"learning_rate": {"min": 1e-4, "max": 1e-1, "sampling": "log"}})
        >>> result.best_hparams
        {'learning_rate': 0.0123}
    """
    from kerascv_course.data.catalog import dataset_task
    from kerascv_course.training.checks import check_recipe

    check_tuner(tuner)
    check_recipe(recipe)
    for name, value, low in (("max_trials", max_trials, 1), ("patience", patience, 0),
                             ("executions_per_trial", executions_per_trial, 1), ("factor", factor, 2)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"`{name}` must be an integer >= {low}. Received: {name}={value!r}")
    if recipe.strategy == "multiworker":
        raise ValueError(
            "A search runs each trial on one machine; spread trials over machines with the "
            "distributed search (KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP, KERASTUNER_ORACLE_PORT) "
            "and use `auto`, `mirrored` or `cpu:N` within each. Received: strategy='multiworker'"
        )
    space = space if isinstance(space, SearchSpace) else resolve_space(recipe, space)
    check_space_values(space, recipe)
    objective = objective or task_score(dataset_task(recipe.dataset))
    role = search_role()
    out = os.fspath(recipe.output) if recipe.output is not None else default_output(recipe)
    record = {
        "model": recipe.model, "dataset": recipe.dataset, "tuner": tuner, "objective": objective,
        "space": space.to_config(), "recipe": recipe.to_dict(),
    }
    check_search_dir(out, record, overwrite=recipe.overwrite and role != "worker")
    # Everything above is checked without TensorFlow; the search starts here.
    # One process writes a search folder (the chief; workers only run trials): a second search
    # into it is refused at once with the holder's PID, a lock left by a killed one is taken over.
    with FolderLock(out, "search folder") if role != "worker" else contextlib.nullcontext():
        from kerascv_course.training.model import run_settings
        from kerascv_course.training.run_data import load_splits
        from kerascv_course.training.strategy import check_global_batch, get_strategy

        strategy = get_strategy(recipe.strategy)  # before any TF op: cpu:N splits the devices
        batch_sizes = {recipe.batch_size}
        if "batch_size" in space.names and space["batch_size"].kind == "choice":
            batch_sizes |= set(space["batch_size"].values)
        for batch_size in sorted(batch_sizes):
            check_global_batch(int(batch_size), strategy)
        log.info("Each trial runs under %s on %d replica(s)", type(strategy).__name__,
                 strategy.num_replicas_in_sync)
        splits, info = load_splits(recipe)
        check_objective(objective, reported_metrics(recipe, info, splits))
        resumed = prepare_search_dir(out, record, overwrite=recipe.overwrite, role=role)
        if resumed:
            log.info("Resuming the search in %s", out)
        from kerascv_course.tuning.hypermodel import CourseHyperModel

        hypermodel = CourseHyperModel(recipe, info, splits, space=space, objective=objective,
                                      patience=patience, strategy=strategy)
        with run_settings(recipe):  # mixed precision and op determinism, as the trainer sets them
            kt_tuner = make_tuner(
                tuner, hypermodel, max_trials=max_trials, directory=out, strategy=strategy,
                seed=recipe.seed, factor=factor, num_initial_points=num_initial_points,
                executions_per_trial=executions_per_trial,
            )
            if progress is not None and role == "standalone":
                planned = max_trials
                if tuner == "hyperband":
                    schedule = hyperband_trials(recipe.epochs, factor)
                    planned = min(max_trials, schedule)
                    if schedule < max_trials:
                        progress(f"Hyperband plans {schedule} trials, not --max-trials {max_trials}: "
                                 f"with --epochs {recipe.epochs} and --factor {factor} its one "
                                 f"iteration of successive halving holds {schedule} trials (more "
                                 f"epochs or a smaller factor give more)")
                kt_tuner.progress = TrialProgress(progress, space=space, objective=objective,
                                                  direction=hypermodel.direction, planned=planned)
                before = len(kt_tuner.oracle.trials)
                if before:
                    progress(f"Resuming: {before} trial(s) already in {out}")
            kt_tuner.search(verbose=verbose)
            if progress is not None and role == "standalone":
                ran = len(kt_tuner.oracle.trials)
                if ran < max_trials and tuner != "hyperband":
                    progress(f"The search stopped after {ran} of --max-trials {max_trials} trials: "
                             f"the {tuner} oracle found no untried combination of the space")
        result = TuneResult(output=out, role=role, objective=objective,
                            new_trials=list(getattr(kt_tuner, "ran", [])),
                            replicas=strategy.num_replicas_in_sync)
        if role == "worker":
            return result
        return finish_search(result, kt_tuner.oracle, space, recipe, tuner=tuner, retrain=retrain,
                             direction=hypermodel.direction, progress=progress)


def finish_search(result: TuneResult, oracle: Any, space: SearchSpace, recipe: Any, *, tuner: str,
                  retrain: bool, direction: str,
                  progress: Callable[[str], Any] | None = None) -> TuneResult:
    """Write the trials table, the best hyperparameters, the plots and the retrained best model."""
    from kerascv_course.viz.tuning import plot_hparams, plot_trials

    out, objective = result.output, result.objective
    rows = trial_rows(oracle, space, objective, tuner=tuner)
    result.trials = rows
    result.files["trials.csv"] = write_trials_csv(rows, os.path.join(out, "trials.csv"))
    title = f"{recipe.model} on {recipe.dataset}: {tuner} search"
    best = [t for t in oracle.get_best_trials(1) if t.status == "COMPLETED" and t.score is not None]
    if rows:
        result.files["trials.png"] = plot_trials(
            rows, os.path.join(out, "trials.png"), objective=objective, direction=direction,
            title=title, best=best[0].trial_id if best else None,
        )
        result.files["hparams.png"] = plot_hparams(
            rows, os.path.join(out, "hparams.png"), objective=objective,
            hparams=space.names, log_scale={p.name for p in space.params if p.log_scale},
            categories={p.name: [encode_choice(v) for v in p.values]
                        for p in space.params if p.values},
            title=title,
        )
    if not best or (isinstance(best[0].score, float) and math.isnan(best[0].score)):
        log.warning("No trial of the search in %s finished", out)
        return result
    trial = best[0]
    result.best_trial, result.best_score = trial.trial_id, float(trial.score)
    result.best_hparams = space.to_hparams(trial.hyperparameters.values)
    result.files["best_hparams.json"] = os.path.join(out, "best_hparams.json")
    write_json(result.files["best_hparams.json"], result.best_hparams)
    result.files["best_trial.json"] = os.path.join(out, "best_trial.json")
    write_json(result.files["best_trial.json"], {
        "trial": trial.trial_id, "objective": objective, "score": result.best_score,
        "hparams": result.best_hparams, "model": recipe.model, "dataset": recipe.dataset,
        "tuner": tuner, "trials": len(rows),
    })
    if retrain:
        if progress is not None:
            progress(f"Retraining trial {trial.trial_id}'s hyperparameters into "
                     f"{os.path.join(out, 'best')} ({recipe.epochs} epochs)")
        result.best_run = retrain_best(recipe, result.best_hparams, os.path.join(out, "best"))
        result.files["best"] = os.path.join(out, "best")
    return result


def retrain_best(recipe: Any, hparams: Mapping[str, Any], out: str) -> Any:
    """Train ``recipe`` with ``hparams`` into ``out`` with the trainer; skip a finished identical run.

    Returns the trainer's ``RunResult``, or ``None`` when ``out`` already holds this very run.
    """
    from kerascv_course.training.run_folder import RunFolder
    from kerascv_course.training.trainer import train

    best = apply_hparams(recipe, hparams).replace(output=out, overwrite=True)
    run = RunFolder(out)
    if run.finished and run.read_recipe().to_dict() == json.loads(json.dumps(best.to_dict())):
        log.info("%s already holds the retrained best model", out)
        return None
    return train(best, verbose=0)
