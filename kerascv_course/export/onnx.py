"""ONNX export through Keras' own exporter (``model.export(path, format="onnx")``), checked in ONNX Runtime.

An optional extra: ``pip install 'kerascv_course[onnx]'`` installs ``tf2onnx`` (which Keras' exporter
uses on the TensorFlow backend, and which brings ``onnx``) and ``onnxruntime`` (the check).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from typing import Any

import keras
import numpy as np

from kerascv_course.utils.files import atomic_path

log = logging.getLogger(__name__)

EXTRA_HINT = "pip install 'kerascv_course[onnx]' (tf2onnx and onnxruntime)"


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ImportError(
            f"ONNX export needs the optional `onnx` extra, and {module!r} is not installed: "
            f"{EXTRA_HINT}."
        )


def onnxruntime_outputs(path: str, images: np.ndarray) -> np.ndarray:
    """Run an ONNX model in ONNX Runtime (CPU) on ``images``; its first output."""
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.asarray(session.run(None, {name: images.astype(np.float32)})[0])


def export_onnx(
    model: keras.Model,
    path: str | os.PathLike[str],
    *,
    opset: int | None = None,
    check_data: np.ndarray | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Export ``model`` to ONNX at ``path`` (atomically) and check it in ONNX Runtime.

    Args:
        model: a Keras model with one image input.
        path: the destination, ending with ``.onnx``.
        opset: the ONNX opset (``None``: the exporter's default).
        check_data: inputs for the ONNX Runtime check (``None``: 4 random images).
        seed: seed of the random check inputs.

    Returns:
        ``{"path", "size_bytes", "checked", "max_abs_diff", "onnxruntime"}`` — ``checked`` is
        false (and the differences ``None``) where ONNX Runtime is not installed.

    Raises:
        ImportError: when ``tf2onnx`` (the extra) is not installed; the message says what to install.
        ValueError, FileNotFoundError, PermissionError: for a bad destination.
    """
    from kerascv_course.export.preprocessing import image_input_shape
    from kerascv_course.export.tflite import check_output_path, publish_mode

    _require("tf2onnx")
    image_input_shape(model)
    path = check_output_path(path, suffix=".onnx")
    import tensorflow as tf

    _, h, w, c = model.input_shape
    signature = [tf.TensorSpec((None, h, w, c), tf.float32, name="pixels")]
    with atomic_path(path) as tmp:
        model.export(tmp, format="onnx", verbose=False, input_signature=signature, opset_version=opset)
    publish_mode(path)
    result: dict[str, Any] = {
        "path": path,
        "size_bytes": os.path.getsize(path),
        "checked": False,
        "max_abs_diff": None,
        "onnxruntime": None,
    }
    if importlib.util.find_spec("onnxruntime") is None:
        log.warning("onnxruntime is not installed; %s not checked (%s)", path, EXTRA_HINT)
        return result
    import onnxruntime

    if check_data is None:
        shape = (4, *model.input_shape[1:])
        check_data = np.random.default_rng(seed).uniform(0, 1, shape).astype(np.float32)
    expected = np.asarray(model.predict(check_data, verbose=0))
    got = onnxruntime_outputs(path, check_data)
    result.update(
        checked=True,
        max_abs_diff=float(np.max(np.abs(got - expected))),
        onnxruntime=onnxruntime.__version__,
    )
    return result
