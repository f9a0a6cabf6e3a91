"""The export manifest: which files of an export folder belong to a complete export.

A multi-file export (``export -q float32 int8``: models, labels files, the report) cannot be
published by one rename, so it is published by its manifest, ``export_manifest.json``
(``{file name: {"sha256", "size"}}``):

1. before writing anything, the entries of the files about to be written are removed from the
   manifest (atomically) — from then on those names are not served;
2. the files are written (each atomically);
3. last, their new entries are added (atomically).

A kill anywhere in between leaves every new file unlisted, so
:class:`~kerascv_course.export.inference.TFLiteClassifier` (and ``kerascv-course predict``)
refuses it with one line, while files of other exports in the folder stay listed and served.
A file whose bytes differ from its entry is refused too. A folder without a manifest (a single
``export_tflite`` call) is served as it is.

Nothing here imports NumPy or TensorFlow.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from typing import Any

from kerascv_course.utils.files import write_json

MANIFEST = "export_manifest.json"


def manifest_path(folder: str | os.PathLike[str]) -> str:
    return os.path.join(os.fspath(folder), MANIFEST)


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The manifest of ``folder`` (``{"files": {name: entry}}``), or ``None`` when there is none.

    Raises:
        ValueError: when the manifest is damaged.
    """
    path = manifest_path(folder)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"The export manifest {path!r} is damaged ({err}); export again. Received: path={path!r}") from err
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise ValueError(f"{path!r} is not an export manifest of this package; export again. Received: path={path!r}")
    return data


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def unpublish(folder: str | os.PathLike[str], names: Iterable[str]) -> None:
    """Step 1: drop ``names`` from the manifest before they are rewritten (no manifest: nothing
    to do — but an empty one is started, so the new files are unlisted until :func:`publish`)."""
    data = read_manifest(folder) or {"files": {}}
    for name in names:
        data["files"].pop(name, None)
    write_json(manifest_path(folder), data)


def publish(folder: str | os.PathLike[str], names: Iterable[str]) -> None:
    """Step 3: list ``names`` (files now complete in ``folder``) with their hashes."""
    data = read_manifest(folder) or {"files": {}}
    for name in names:
        with open(os.path.join(os.fspath(folder), name), "rb") as fh:
            content = fh.read()
        data["files"][name] = {"sha256": sha256(content), "size": len(content)}
    write_json(manifest_path(folder), data)


def check_published(path: str, content: bytes) -> None:
    """``ValueError`` when ``path`` lies in an export folder whose manifest does not list it with
    these bytes (an interrupted or altered export); nothing when the folder has no manifest."""
    folder = os.path.dirname(os.path.abspath(path))
    data = read_manifest(folder)
    if data is None:
        return
    entry = data["files"].get(os.path.basename(path))
    if entry is None:
        raise ValueError(
            f"{path!r} is not part of a complete export: the export that wrote it into {folder!r} "
            f"did not finish (its {MANIFEST} does not list it). Run the export again. Received: path={path!r}"
        )
    if entry.get("sha256") != sha256(content):
        raise ValueError(
            f"{path!r} differs from the file its export wrote (its hash is not the one in "
            f"{MANIFEST}); run the export again. Received: path={path!r}"
        )
