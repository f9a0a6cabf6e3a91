"""Never lose a run: the per-epoch checkpoint a killed run resumes from.

``<run>/checkpoint/`` holds ``ckpt-<epoch>.npz`` (every variable of the model — weights,
batch-norm statistics, dropout seed states — and of the optimizer: moments, iteration count,
learning rate, loss scale; a plain NumPy archive, read without pickle) and ``state.json``: the
number of finished epochs, the name of that weights file, the history so far, the callbacks'
state and the run's identity (model, dataset, …). Each file is written atomically and
``state.json`` — written last — names its weights file, so a process killed at any instant leaves
either the previous consistent pair or the new one: never a half-written checkpoint.

Running the same command again continues from the last finished epoch; with each epoch's data
order and augmentation seeded by ``(seed, epoch)`` (see the trainer), the resumed run ends with
the same weights as one that was never interrupted.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from typing import Any

import keras
import numpy as np

from kerascv_course.training.recipe import Recipe
from kerascv_course.utils.files import atomic_path, write_json

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoint"
STATE_FILE = "state.json"
# The settings a checkpoint can only continue under: a different value refuses to resume.
IDENTITY_FIELDS = ("model", "dataset", "model_kwargs", "dataset_kwargs", "image_size", "optimizer", "mixed_precision")


def _variables(model: keras.Model, optimizer: bool = True) -> list[Any]:
    variables = list(model.variables)
    if optimizer and model.optimizer is not None:
        variables += list(model.optimizer.variables)
    return variables


def save_variables(path: str, model: keras.Model, *, optimizer: bool = True) -> None:
    """Write every variable of ``model`` (and of its optimizer) to ``path`` (``.npz``, atomically)."""
    variables = _variables(model, optimizer)
    arrays = {f"v{i:05d}": np.asarray(v.numpy()) for i, v in enumerate(variables)}
    arrays["names"] = np.array([v.path for v in variables])
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def _generic(path: str) -> str:
    """A variable path without Keras' uniquifying suffixes (``sgd_2/iteration`` -> ``sgd/iteration``)."""
    return "/".join(re.sub(r"_\d+$", "", part) for part in path.split("/"))


def load_variables(path: str, model: keras.Model, *, optimizer: bool = True) -> None:
    """Restore what :func:`save_variables` wrote into the same model (and optimizer).

    Raises:
        ValueError: when the variables differ in number, name or shape (the first is named).
    """
    variables = _variables(model, optimizer)
    with np.load(path, allow_pickle=False) as data:
        names = [str(n) for n in data["names"]]
        if len(names) != len(variables):
            raise ValueError(
                f"The checkpoint {path!r} holds {len(names)} variables; this model and optimizer "
                f"have {len(variables)}. Received: checkpoint={path!r}"
            )
        values = [data[f"v{i:05d}"] for i in range(len(names))]
    for name, value, variable in zip(names, values, variables):
        if _generic(name) != _generic(variable.path) or tuple(value.shape) != tuple(variable.shape):
            raise ValueError(
                f"The checkpoint {path!r} holds {name} {tuple(value.shape)} where the model has "
                f"{variable.path} {tuple(variable.shape)}. Received: checkpoint={path!r}"
            )
    for value, variable in zip(values, variables):
        variable.assign(value)


def run_identity(recipe: Recipe) -> dict[str, Any]:
    """The fields of ``recipe`` a checkpoint must agree with to resume (JSON-normalised)."""
    return json.loads(json.dumps({k: getattr(recipe, k) for k in IDENTITY_FIELDS}, sort_keys=True))


def identity_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``["model: checkpoint 'lenet5', this run 'alexnet'", …]`` for every differing field."""
    return [
        f"{k}: checkpoint {saved.get(k)!r}, this run {current.get(k)!r}"
        for k in IDENTITY_FIELDS
        if saved.get(k) != current.get(k)
    ]


class RunCheckpoint:
    """The resumable state of one run folder.

    Args:
        run_dir: the run folder.
        writer: whether this process writes the run folder (the chief). Other workers of a
            multi-worker run save into a private temporary folder — saving reads distributed
            variables, which every worker must do the same way — and read the chief's checkpoint
            to resume (the run folder must then be on a shared file system).
    """

    def __init__(self, run_dir: str, *, writer: bool = True) -> None:
        self.run_dir = run_dir
        self.read_dir = os.path.join(run_dir, CHECKPOINT_DIR)
        self.writer = writer
        self._scratch: str | None = None

    @property
    def write_dir(self) -> str:
        """Where this process writes checkpoints (the run's folder, or a scratch folder)."""
        if self.writer:
            return self.read_dir
        if self._scratch is None:
            self._scratch = tempfile.mkdtemp(prefix="kerascv-worker-ckpt-")
        return self._scratch

    def load(self) -> dict[str, Any] | None:
        """The saved state (with ``"weights_path"`` added), or ``None`` when there is none."""
        path = os.path.join(self.read_dir, STATE_FILE)
        if not os.path.isfile(path):
            return None
        with open(path, encoding="utf-8") as fh:
            state = json.load(fh)
        weights = os.path.join(self.read_dir, state["weights"])
        if not os.path.isfile(weights):
            raise FileNotFoundError(
                f"The checkpoint {path!r} names {state['weights']!r}, which is missing; remove "
                f"{self.read_dir!r} (or pass --no-resume) to start over. Received: output={self.run_dir!r}"
            )
        state["weights_path"] = weights
        return state

    def check_identity(self, state: dict[str, Any], recipe: Recipe) -> None:
        """``ValueError`` naming each difference when ``recipe`` cannot continue ``state``."""
        differences = identity_differences(state.get("identity", {}), run_identity(recipe))
        if differences:
            raise ValueError(
                f"Cannot resume the run in {self.run_dir!r}: its checkpoint was written for other "
                f"settings ({'; '.join(differences)}). Use another --output, pass --overwrite to "
                f"start this folder over, or --no-resume. Received: output={self.run_dir!r}"
            )

    def save(self, model: keras.Model, epoch: int, state: dict[str, Any]) -> None:
        """Save the weights and ``state`` after ``epoch`` finished epochs (atomically)."""
        folder = self.write_dir
        os.makedirs(folder, exist_ok=True)
        name = f"ckpt-{epoch:04d}.npz"
        save_variables(os.path.join(folder, name), model)
        write_json(os.path.join(folder, STATE_FILE), {**state, "epoch": epoch, "weights": name})
        for old in os.listdir(folder):
            if old.startswith("ckpt-") and old.endswith(".npz") and old != name:
                os.remove(os.path.join(folder, old))

    def clear(self) -> None:
        """Remove the checkpoint folder (and this process's scratch folder)."""
        if self.writer and os.path.isdir(self.read_dir):
            shutil.rmtree(self.read_dir)
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
