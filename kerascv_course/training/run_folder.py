"""The run folder as an object: its layout, its lock, its atomic writes and its state.

A run folder holds::

    model.keras     the final model                      best.keras    the best validation epoch
    history.csv     one row per epoch                    history.png   the curves
    recipe.json     the resolved recipe                  metrics.json  the test metrics (written
    logs/           TensorBoard                                        last: marks a finished run)
    grad_norms.csv  per-layer gradient norms (--grad-norms)  grad_norms.png  their plot
    checkpoint/     the resumable state while unfinished (see :mod:`.checkpoint`)
    .lock           held by the process writing the folder

Every reader — evaluation, export, inspection, pseudo-labelling, the command line — goes through
:class:`RunFolder` (or :func:`resolve_model_source` for "a run folder or a ``.keras`` file")
instead of joining paths itself. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from typing import Any

from kerascv_course.training.recipe import Recipe
from kerascv_course.utils.files import FolderLock, probe_writable, write_json, write_text
from kerascv_course.utils.model_card import attach_card, read_card


class RunFolder:
    """One run's folder.

    Args:
        path: the folder (it need not exist yet).

    Example:
        >>> run = RunFolder("runs/lenet5-digits")
        >>> run.finished, run.read_recipe().model
        (True, 'lenet5')
    """

    MODEL = "model.keras"
    BEST = "best.keras"
    RECIPE = "recipe.json"
    METRICS = "metrics.json"
    HISTORY_CSV = "history.csv"
    HISTORY_PNG = "history.png"
    SEGMENTATION_PNG = "segmentation.png"
    GRAD_NORMS_CSV = "grad_norms.csv"
    GRAD_NORMS_PNG = "grad_norms.png"
    LOGS = "logs"
    CHECKPOINT = "checkpoint"
    #: What ``overwrite`` removes before a new run starts (nothing else in the folder is touched).
    OWNED = (MODEL, BEST, RECIPE, METRICS, HISTORY_CSV, HISTORY_PNG, SEGMENTATION_PNG, GRAD_NORMS_CSV,
             GRAD_NORMS_PNG, LOGS, CHECKPOINT)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)

    def __repr__(self) -> str:
        return f"RunFolder({self.path!r})"

    def file(self, name: str) -> str:
        """The path of ``name`` inside the folder."""
        return os.path.join(self.path, name)

    model_path = property(lambda self: self.file(self.MODEL), doc="``model.keras``")
    best_path = property(lambda self: self.file(self.BEST), doc="``best.keras``")
    checkpoint_dir = property(lambda self: self.file(self.CHECKPOINT), doc="``checkpoint/``")
    logs_dir = property(lambda self: self.file(self.LOGS), doc="``logs/`` (TensorBoard)")

    @property
    def exists(self) -> bool:
        return os.path.isdir(self.path)

    @property
    def finished(self) -> bool:
        """Whether the folder holds a finished run (``metrics.json`` is written last)."""
        return os.path.isfile(self.file(self.METRICS))

    @property
    def has_model(self) -> bool:
        return os.path.isfile(self.model_path)

    def lock(self) -> FolderLock:
        """The folder's lock (a context manager; see :class:`~kerascv_course.utils.files.FolderLock`)."""
        return FolderLock(self.path, "run folder")

    # -- reading ---------------------------------------------------------------------------

    def _read_json(self, name: str) -> Any:
        path = self.file(name)
        try:
            with open(path, encoding="utf-8") as fh:
                return json.load(fh)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(
                f"{path!r} is damaged ({err}); it was not written by a finished run of this "
                f"package. Received: run={self.path!r}"
            ) from err

    def read_recipe(self) -> Recipe | None:
        """The run's recipe, or ``None`` when the folder has no ``recipe.json``.

        Raises:
            ValueError: when ``recipe.json`` is damaged or holds unknown fields.
        """
        if not os.path.isfile(self.file(self.RECIPE)):
            return None
        data = self._read_json(self.RECIPE)
        try:
            return Recipe.from_dict({k: v for k, v in data.items() if not k.startswith("_")})
        except (TypeError, ValueError) as err:
            raise ValueError(f"{self.file(self.RECIPE)!r} is not a recipe of this package: {err}") from err

    def read_metrics(self) -> dict[str, Any] | None:
        """The test metrics of a finished run, or ``None``."""
        return self._read_json(self.METRICS) if self.finished else None

    def load_model(self, *, best: bool = False, compile: bool = False) -> Any:
        """The run's ``model.keras`` (or ``best.keras``), loaded with ``safe_mode=True``.

        Raises:
            FileNotFoundError: when the folder holds no such model (say what to do).
        """
        path = self.best_path if best else self.model_path
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"The run folder {self.path!r} has no {os.path.basename(path)} "
                f"({'still training or interrupted: run the same train command to finish it' if os.path.isdir(self.checkpoint_dir) else 'train it first'}). "
                f"Received: run={self.path!r}"
            )
        return load_keras_model(path)

    # -- writing ---------------------------------------------------------------------------

    def write_json(self, name: str, data: Any) -> None:
        """Write ``name`` atomically."""
        write_json(self.file(name), data)

    def write_text(self, name: str, text: str) -> None:
        """Write ``name`` atomically."""
        write_text(self.file(name), text)

    def clear(self) -> None:
        """Remove what a run owns in the folder (:data:`OWNED`), for ``overwrite``."""
        for name in self.OWNED:
            path = self.file(name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.remove(path)

    def check_writable(self) -> None:
        """``ValueError``/``PermissionError`` naming the path when the folder cannot be written."""
        out = self.path
        if os.path.exists(out) and not os.path.isdir(out):
            raise ValueError(f"`output` must be a folder, but a file exists there. Received: output={out!r}")
        probe = os.path.abspath(out)
        while not os.path.exists(probe):
            probe = os.path.dirname(probe)
        if not os.path.isdir(probe):
            raise ValueError(
                f"The output folder {out!r} cannot be created: {probe!r} is a file. Received: output={out!r}"
            )
        probe_writable(probe, f"The output folder {out!r} (choose another --output)")


def load_keras_model(path: str) -> Any:
    """Load a ``.keras`` file with ``safe_mode=True`` and the zoo's custom objects registered; the
    model card stored in the file (:mod:`kerascv_course.utils.model_card`) is attached to it."""
    import keras

    import kerascv_course.models.layers  # noqa: F401  (the zoo's custom layers)
    import kerascv_course.training.losses  # noqa: F401  (segmentation losses in compile configs)

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except (ValueError, OSError, KeyError, TypeError) as err:
        raise ValueError(
            f"{path!r} cannot be loaded as a Keras model of this package ({err}). "
            f"Received: model={path!r}"
        ) from err
    return attach_card(model, read_card(path))


@dataclass(frozen=True)
class ModelSource:
    """What "a run folder or a ``.keras`` file" resolves to.

    Attributes:
        model_path: the ``.keras`` file.
        run: the run folder it belongs to (``None`` for a file outside a run folder).
        recipe: the run's recipe (``None`` when there is none).
    """

    model_path: str
    run: RunFolder | None
    recipe: Recipe | None

    def load(self) -> Any:
        """The model, loaded with ``safe_mode=True`` (its card attached)."""
        return load_keras_model(self.model_path)

    @property
    def card(self) -> dict[str, Any] | None:
        """The model card inside the ``.keras`` file (``None`` for a file saved by plain Keras)."""
        return read_card(self.model_path)


def resolve_model_source(source: str | os.PathLike[str], *, argument: str = "source") -> ModelSource:
    """A run folder (its ``model.keras``) or a ``.keras`` file, with the recipe beside it if any.

    A ``.keras`` file inside a run folder (``runs/x/best.keras``) gets that folder's recipe.

    Raises:
        FileNotFoundError: when there is no such folder or file, or the folder has no model.
        ValueError: for a file that is not a ``.keras`` model, or a damaged ``recipe.json``.
    """
    source = os.fspath(source)
    if os.path.isdir(source):
        run = RunFolder(source)
        if not run.has_model:
            state = "still training or interrupted" if os.path.isdir(run.checkpoint_dir) else "not trained"
            raise FileNotFoundError(
                f"The run folder {source!r} has no model.keras ({state}); give a finished run "
                f"folder or a .keras file. Received: {argument}={source!r}"
            )
        return ModelSource(run.model_path, run, run.read_recipe())
    if not os.path.exists(source):
        raise FileNotFoundError(f"No run folder or model file at {source!r}. Received: {argument}={source!r}")
    if not source.endswith(".keras"):
        raise ValueError(f"`{argument}` must be a run folder or a .keras file. Received: {argument}={source!r}")
    folder = RunFolder(os.path.dirname(os.path.abspath(source)))
    recipe = folder.read_recipe() if os.path.basename(source) in (RunFolder.MODEL, RunFolder.BEST) else None
    return ModelSource(source, folder if recipe is not None else None, recipe)


def default_run_folder(recipe: Recipe, is_resumable: Any) -> str:
    """``runs/<model>-<dataset>``, or ``-2``, ``-3``, … when finished or other runs hold it.

    Args:
        recipe: the run's recipe (``output`` is ``None``).
        is_resumable: ``is_resumable(folder) -> bool``: whether an unfinished run there is this
            very run (so running the same command again resumes it).
    """
    safe = recipe.dataset.replace(":", "_").replace("/", "_").replace(os.sep, "_")
    base = os.path.join("runs", f"{recipe.model}-{safe}")
    for k in range(1, 10_000):
        candidate = base if k == 1 else f"{base}-{k}"
        if recipe.overwrite or not os.path.exists(candidate):
            return candidate
        if RunFolder(candidate).finished:
            continue
        if is_resumable(candidate):
            return candidate
    raise FileExistsError(f"No free run folder next to {base!r}. Received: output=None")
