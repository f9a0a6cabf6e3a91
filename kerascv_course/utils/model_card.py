"""The model card: what a trained model needs to be used, stored inside its ``.keras`` file.

A ``.keras`` file is a zip archive (``config.json``, ``metadata.json``, ``model.weights.h5``);
the trainer adds one more entry, ``kerascv_course.json``: the input convention (pixel scale, the
dataset's mean and std, the input size, how images were brought to it — ``resize`` or ``pad``),
the class names and the dataset the model was trained on. Keras ignores the extra entry, so the
file still loads with ``keras.saving.load_model(..., safe_mode=True)``; the card is plain JSON,
read with :mod:`zipfile` and :mod:`json` — nothing in it is ever executed, and reading it imports
no TensorFlow (a command line can check a model before loading TensorFlow).

Why an archive entry and not a layer: a pass-through "preprocessing layer" would change the
model's graph (its last layer, its layer list) for every tool that walks it, and a normalising
layer would change what the model takes. The card leaves the model exactly as trained.

In memory, :func:`attach_card` / :func:`model_card` keep the card on the model object (the
trainer attaches it when it builds the model, the package's loader when it loads one), so
``export_tflite(model, path)`` after ``train()`` or ``load_keras_model()`` knows the
normalisation without a ``recipe.json``.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

CARD_NAME = "kerascv_course.json"
FORMAT = "kerascv_course.card/1"
_ATTRIBUTE = "_kerascv_course_card"


def make_card(
    *,
    task: str,
    class_names: list[str] | None,
    image_size: tuple[int, int],
    channels: int,
    mean: Any = None,
    std: Any = None,
    resize_mode: str = "resize",
    dataset: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A card: ``mean``/``std`` in ``[0, 1]`` units (``None``: no normalisation), pixels scaled
    by ``1/255`` first; ``dataset``: ``{"name", "kwargs", "image_size", "seed", "test_split"}``."""
    return {
        "format": FORMAT,
        "task": task,
        "class_names": [str(n) for n in class_names] if class_names else None,
        "input": {
            "scale": 1.0 / 255.0,
            "mean": [float(m) for m in mean] if mean is not None else None,
            "std": [float(s) for s in std] if std is not None else None,
            "image_size": [int(image_size[0]), int(image_size[1])],
            "channels": int(channels),
            "resize_mode": resize_mode,
        },
        "dataset": dataset,
    }


def attach_card(model: Any, card: dict[str, Any] | None) -> Any:
    """Keep ``card`` on the model object (outside Keras' attribute tracking); returns ``model``."""
    object.__setattr__(model, _ATTRIBUTE, card)
    return model


def model_card(model: Any) -> dict[str, Any] | None:
    """The card attached to ``model``, or ``None``."""
    return getattr(model, _ATTRIBUTE, None)


def write_card(path: str | os.PathLike[str], card: dict[str, Any]) -> None:
    """Add ``card`` to the ``.keras`` archive at ``path`` (call it on the temporary file of an
    atomic write, before the rename)."""
    with zipfile.ZipFile(path, "a") as archive:
        if CARD_NAME in archive.namelist():
            raise ValueError(f"{os.fspath(path)!r} already holds a model card. Received: path={os.fspath(path)!r}")
        archive.writestr(CARD_NAME, json.dumps(card, indent=2, sort_keys=True))


def read_card(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The card of a ``.keras`` file, or ``None`` when it has none (saved by plain Keras).

    Raises:
        ValueError: when the file is not a zip archive or its card is damaged.
    """
    path = os.fspath(path)
    try:
        with zipfile.ZipFile(path) as archive:
            if CARD_NAME not in archive.namelist():
                return None
            card = json.loads(archive.read(CARD_NAME).decode("utf-8"))
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path!r} is not a readable .keras file ({err}). Received: model={path!r}") from err
    if not isinstance(card, dict) or card.get("format") != FORMAT or not isinstance(card.get("input"), dict):
        raise ValueError(f"{path!r} holds a model card this package cannot read. Received: model={path!r}")
    return card
