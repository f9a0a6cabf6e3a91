"""Never lose a run: the per-epoch checkpoint a killed run resumes from.

``<run>/checkpoint/`` holds, for the last two finished epochs N, ``ckpt-N.npz`` (every variable of
the model — weights, batch-norm statistics, dropout seed states — and of the optimizer; a plain
NumPy archive, read without pickle) and ``state-N.json``: the number of finished epochs, the
history so far, the callbacks' state and the run's identity (every recipe field that changes the
result). Each file is written atomically and flushed to disk before the next step; the state is
written after its weights, and the older pair is removed only once the newer one is durable.

Loading verifies the newest pair (readable JSON, every array readable with its zip CRC, the
variables matching the model) and falls back to the previous pair with a one-line notice when it
is damaged, so a truncated file costs at most one epoch — found before training starts.

Running the same command again continues from the last finished epoch; with each epoch's data
order and augmentation seeded by ``(seed, epoch)``, the resumed run ends with the same weights as
one that was never interrupted.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import zipfile
from typing import Any

import numpy as np

from kerascv_course.training.recipe import (
    Recipe,
    changed_fields,
    extendable_fields,
    identity_fields,
    run_identity,
)
from kerascv_course.utils.files import atomic_path, write_json

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoint"
KEEP = 2
_STATE = re.compile(r"state-(\d+)\.json$")


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read or does not fit the model."""


def _variables(model: Any, optimizer: bool = True) -> list[Any]:
    variables = list(model.variables)
    if optimizer and model.optimizer is not None:
        variables += list(model.optimizer.variables)
    return variables


def save_variables(path: str, model: Any, *, optimizer: bool = True) -> None:
    """Write every variable of ``model`` (and of its optimizer) to ``path`` (``.npz``, atomically)."""
    variables = _variables(model, optimizer)
    arrays = {f"v{i:05d}": np.asarray(v.numpy()) for i, v in enumerate(variables)}
    arrays["names"] = np.array([v.path for v in variables])
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def read_variables(path: str) -> tuple[list[str], list[np.ndarray]]:
    """``(names, values)`` of a :func:`save_variables` file, every array read (CRC-checked).

    Raises:
        CheckpointError: for a missing, truncated or corrupted file.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            names = [str(n) for n in data["names"]]
            values = [data[f"v{i:05d}"] for i in range(len(names))]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise CheckpointError(f"The checkpoint file {path!r} is damaged or incomplete ({err}).") from err
    return names, values


def _generic(path: str) -> str:
    """A variable path without Keras' uniquifying suffixes (``sgd_2/iteration`` -> ``sgd/iteration``)."""
    return "/".join(re.sub(r"_\d+$", "", part) for part in path.split("/"))


def load_variables(path: str, model: Any, *, optimizer: bool = True,
                   values: tuple[list[str], list[np.ndarray]] | None = None) -> None:
    """Restore what :func:`save_variables` wrote into the same model (and optimizer).

    Args:
        path: the ``.npz`` file.
        model: the model (with its optimizer built, when ``optimizer``).
        optimizer: restore the optimizer's variables too.
        values: ``read_variables(path)`` when already read (verified).

    Raises:
        CheckpointError: when the file is damaged or the variables differ in number, name or
            shape (the first difference is named).
    """
    variables = _variables(model, optimizer)
    names, arrays = values if values is not None else read_variables(path)
    if len(names) != len(variables):
        raise CheckpointError(
            f"The checkpoint {path!r} holds {len(names)} variables; this model and optimizer "
            f"have {len(variables)}. Received: checkpoint={path!r}"
        )
    for name, value, variable in zip(names, arrays, variables):
        if _generic(name) != _generic(variable.path) or tuple(value.shape) != tuple(variable.shape):
            raise CheckpointError(
                f"The checkpoint {path!r} holds {name} {tuple(value.shape)} where the model has "
                f"{variable.path} {tuple(variable.shape)}. Received: checkpoint={path!r}"
            )
    for value, variable in zip(arrays, variables):
        variable.assign(value)


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

    def _epochs(self, folder: str) -> list[int]:
        if not os.path.isdir(folder):
            return []
        found = (_STATE.match(name) for name in os.listdir(folder))
        return sorted((int(m.group(1)) for m in found if m), reverse=True)

    def _read(self, epoch: int) -> dict[str, Any]:
        path = os.path.join(self.read_dir, f"state-{epoch:04d}.json")
        try:
            with open(path, encoding="utf-8") as fh:
                state = json.load(fh)
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
            raise CheckpointError(f"The checkpoint state {path!r} is damaged or incomplete ({err}).") from err
        if not isinstance(state, dict) or "weights" not in state or "identity" not in state:
            raise CheckpointError(f"The checkpoint state {path!r} is not one this package wrote.")
        weights = os.path.join(self.read_dir, os.path.basename(state["weights"]))
        state["weights_path"] = weights
        state["variables"] = read_variables(weights)
        return state

    def load(self) -> dict[str, Any] | None:
        """The newest readable saved state (weights read and CRC-checked), or ``None``.

        A damaged newest checkpoint falls back to the previous one with a warning.

        Raises:
            CheckpointError: when checkpoint files exist but none is readable (the message
                says how to start over).
        """
        epochs = self._epochs(self.read_dir)
        problems = []
        for epoch in epochs:
            try:
                state = self._read(epoch)
            except CheckpointError as err:
                problems.append(str(err))
                continue
            if problems:
                log.warning("%s Resuming from the previous checkpoint (epoch %d) instead.", problems[0], epoch)
            return state
        if problems:
            raise CheckpointError(
                f"No readable checkpoint in {self.read_dir!r}: {' '.join(problems)} Pass --no-resume "
                f"or --overwrite to start this run over. Received: output={self.run_dir!r}"
            )
        return None

    def changes(self, state: dict[str, Any], recipe: Recipe) -> dict[str, tuple[Any, Any]]:
        """The extendable fields ``recipe`` changes against ``state`` (``{field: (old, new)}``).

        Raises:
            ValueError: naming every identity field that differs, when ``recipe`` cannot
                continue ``state``.
        """
        saved = state.get("identity", {})
        fixed = changed_fields(saved, recipe, identity_fields())
        missing = [k for k in identity_fields() if k not in saved]
        if fixed or missing:
            listed = [f"{k}: checkpoint {a!r}, this run {b!r}" for k, (a, b) in fixed.items()]
            listed += [f"{k}: not recorded by the checkpoint" for k in missing]
            raise ValueError(
                f"Cannot resume the run in {self.run_dir!r}: its checkpoint was written with other "
                f"settings ({'; '.join(listed)}). Run with the same settings to resume, pass "
                f"--overwrite to start this folder over, or choose another --output. "
                f"Received: output={self.run_dir!r}"
            )
        return changed_fields(state.get("extendable", {}), recipe, extendable_fields())

    def save(self, model: Any, epoch: int, state: dict[str, Any], recipe: Recipe) -> None:
        """Save the weights and ``state`` after ``epoch`` finished epochs (atomically, durably)."""
        folder = self.write_dir
        os.makedirs(folder, exist_ok=True)
        name = f"ckpt-{epoch:04d}.npz"
        save_variables(os.path.join(folder, name), model)
        write_json(os.path.join(folder, f"state-{epoch:04d}.json"), {
            **state, "epoch": epoch, "weights": name, "identity": run_identity(recipe),
            "extendable": json.loads(json.dumps({k: getattr(recipe, k) for k in extendable_fields()})),
        })
        keep = set(self._epochs(folder)[:KEEP])
        for old in os.listdir(folder):
            match = re.match(r"(?:ckpt|state)-(\d+)\.(?:npz|json)$", old)
            if (match and int(match.group(1)) not in keep) or old.startswith(".tmp-"):
                os.remove(os.path.join(folder, old))

    def exists(self) -> bool:
        """Whether any checkpoint state is there."""
        return bool(self._epochs(self.read_dir))

    def clear(self) -> None:
        """Remove the checkpoint folder (and this process's scratch folder)."""
        if self.writer and os.path.isdir(self.read_dir):
            shutil.rmtree(self.read_dir)
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
