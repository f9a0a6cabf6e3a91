"""TFLite export: :func:`export_tflite` converts a Keras model to a ``.tflite`` file for LiteRT.

Four quantization modes (the TFLite post-training quantization options):

- ``"float32"``: no quantization, the reference.
- ``"float16"``: weights stored as float16 (half the size), computed in float32.
- ``"dynamic"``: dynamic-range quantization — int8 weights, activations quantized on the fly.
- ``"int8"``: full-integer quantization; activation ranges are calibrated on a representative
  dataset (a few hundred training images, no augmentation). Every operator must run in integer
  arithmetic — if one has no integer kernel the export fails and names it — and the model's input
  and output can be ``int8`` or ``uint8`` for micro-controllers and NPUs.

Two converters, same settings (builtin TFLite operators only — no TensorFlow "flex" ops, which
the LiteRT interpreter cannot run without the flex delegate — and the mode's optimisation,
calibration and I/O types):

- ``converter="graph"`` (default): ``tf.lite.TFLiteConverter.from_concrete_functions`` over
  ``model(x, training=False)`` traced with a ``(None, H, W, C)`` signature. It freezes the weights
  in memory, with no SavedModel written and read back, so it converts 3-5x faster (what keeps the
  zoo-wide tests fast), and the converter's own errors come through. TF logs this entry point,
  without a trackable object, as its older path (with one it goes through a SavedModel and fails
  int8 calibration on Keras 3 variables: ``READ_VARIABLE``).
- ``converter="keras"``: Keras' own ``model.export(path, format="litert", ...)`` — a SavedModel
  round trip, slower; the fallback should a TF release drop the graph path.
  (``TFLiteConverter.from_keras_model`` is not used: on Keras 3 it also goes through a SavedModel,
  and it swallows a failed SavedModel step to fall back on a legacy path silently.)

The preprocessing a trained model expects (``(x / 255 - mean) / std``, optionally a resize) can be
folded into the exported graph with :func:`with_preprocessing`, so a device feeds raw pixels; class
names and the input convention are stored in the model's metadata and in a labels file beside it.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kerascv_course.export.inference import labels_path_for
from kerascv_course.export.preprocessing import Preprocessing, image_input_shape, with_preprocessing
from kerascv_course.export.tflite_file import add_metadata, list_ops
from kerascv_course.utils.files import atomic_path, probe_writable, write_text
from kerascv_course.utils.model_card import model_card

log = logging.getLogger(__name__)

QUANTIZATIONS = ("float32", "float16", "dynamic", "int8")
IO_TYPES = ("float32", "int8", "uint8")
DEFAULT_CALIBRATION_SAMPLES = 300

_TF_IO_TYPES = {"float32": tf.float32, "int8": tf.int8, "uint8": tf.uint8}
# Operators that only move data between float and integer domains at the graph's boundary.
_BOUNDARY_OPS = {"QUANTIZE", "DEQUANTIZE"}


@dataclass
class TFLiteExport:
    """What :func:`export_tflite` wrote.

    Attributes:
        path: the ``.tflite`` file.
        quantization: the mode used.
        size_bytes: the file size.
        input_type, output_type: the dtypes of the model's input and output tensors.
        labels_path: the labels file written beside the model (``None`` without class names).
        metadata: the JSON record embedded in the model.
        seconds: conversion time.
        ops: operator counts of the converted graph.
    """

    path: str
    quantization: str
    size_bytes: int
    input_type: str
    output_type: str
    labels_path: str | None
    metadata: dict[str, Any]
    seconds: float
    ops: dict[str, int] = field(default_factory=dict)


def publish_mode(path: str) -> None:
    """Give a file written through a temporary file the usual ``0o666 & ~umask`` permissions.

    ``atomic_path`` renames a ``mkstemp`` file, which is private (``0o600``); an exported model is
    meant to be copied to devices and served, so it gets the mode a plain ``open`` would give it.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def check_output_path(path: str | os.PathLike[str], suffix: str = ".tflite") -> str:
    """Validate an output file path before any conversion: suffix, folder exists and is writable.

    Writability is probed by creating (and removing) a temporary file, because ``os.access`` says
    yes to root on read-only folders and pseudo-filesystems.

    Raises:
        ValueError: for a wrong suffix or a path that is a folder.
        FileNotFoundError: when the folder does not exist (or is a file).
        PermissionError: when no file can be created in the folder.
    """
    path = os.fspath(path)
    if not path.endswith(suffix):
        raise ValueError(f"`path` must end with {suffix!r}. Received: path={path!r}")
    if os.path.isdir(path):
        raise ValueError(f"`path` is a folder; give a file name ending with {suffix!r}. Received: path={path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"The folder of `path` does not exist (or is not a folder): {folder!r}. Received: path={path!r}"
        )
    probe_writable(folder, f"The folder of `path` ({path!r})")
    return path


def _check_choice(name: str, value: Any, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, allowed))}. Received: {name}={value!r}")


def _representative_array(data: Any, input_shape: tuple[int, int, int], limit: int) -> np.ndarray:
    """Up to ``limit`` samples of ``data`` as float32 ``(N, H, W, C)``, checked against the input shape.

    ``data``: an array ``(N, H, W, C)``; a ``tf.data.Dataset`` of images or ``(image, label)``
    pairs, batched or not; or an iterable of such images/batches/pairs.
    """
    if isinstance(data, np.ndarray) or tf.is_tensor(data):
        array = np.asarray(data)
        if array.ndim == 3:
            array = array[None]
        return _checked(array[:limit], input_shape)
    if isinstance(data, tf.data.Dataset):
        data = data.as_numpy_iterator()
    if not isinstance(data, Iterable) or isinstance(data, (str, bytes)):
        raise TypeError(
            "`representative_data` must be an array (N, H, W, C), a tf.data.Dataset or an iterable "
            f"of images. Received: representative_data={type(data).__name__}"
        )
    chunks, count = [], 0
    for item in data:
        if isinstance(item, (tuple, list)) and not isinstance(item, np.ndarray):
            item = item[0]  # (image, label) pair
        array = np.asarray(item)
        if array.ndim == 3:
            array = array[None]
        chunks.append(_checked(array, input_shape))
        count += len(array)
        if count >= limit:
            break
    if not chunks:
        raise ValueError("`representative_data` is empty. Received: representative_data with 0 samples")
    return np.concatenate(chunks)[:limit]


def _checked(array: np.ndarray, input_shape: tuple[int, int, int]) -> np.ndarray:
    if array.ndim != 4 or tuple(array.shape[1:]) != tuple(input_shape):
        raise ValueError(
            f"`representative_data` must hold images of the exported model's input shape "
            f"{tuple(input_shape)}. Received: representative_data of shape {tuple(array.shape)}"
        )
    if array.dtype.kind not in "uif":
        raise TypeError(f"`representative_data` must be numeric. Received: dtype={array.dtype}")
    if len(array) == 0:
        raise ValueError("`representative_data` is empty. Received: representative_data with 0 samples")
    return array.astype(np.float32)


def _output_kind(model: keras.Model) -> str:
    """``"probabilities"`` when the last layer ends in softmax, else ``"logits"``."""
    layer = model.layers[-1]
    while isinstance(layer, keras.Model):  # a wrapped model: look at its own last layer
        layer = layer.layers[-1]
    activation = getattr(layer, "activation", None)
    if isinstance(layer, keras.layers.Softmax) or getattr(activation, "__name__", "") == "softmax":
        return "probabilities"
    return "logits"


CONVERTERS = ("graph", "keras")


class _DropDeprecationNotice(logging.Filter):
    """Hide TF's notice that a concrete function without a trackable object is the old path."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "trackable_obj" not in record.getMessage()


def _converter_settings(
    quantization: str,
    calibration: np.ndarray | None,
    input_type: str,
    output_type: str,
    per_channel: bool = True,
) -> dict[str, Any]:
    """The ``TFLiteConverter`` attributes of a quantization mode (builtin operators only)."""
    settings: dict[str, Any] = {"target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}}
    if quantization != "float32":
        settings["optimizations"] = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        settings["target_spec"]["supported_types"] = [tf.float16]
    if quantization == "int8":
        def representative() -> Iterable[list[np.ndarray]]:
            for i in range(len(calibration)):
                yield [calibration[i : i + 1]]

        settings["representative_dataset"] = representative
        settings["target_spec"] = {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]}
        settings["inference_input_type"] = _TF_IO_TYPES[input_type]
        settings["inference_output_type"] = _TF_IO_TYPES[output_type]
        if not per_channel:  # the converter's only switch for it (TF 2.21)
            settings["_experimental_disable_per_channel"] = True
    return settings


def _convert_graph(model: keras.Model, settings: dict[str, Any], batch_size: int | None) -> bytes:
    _, h, w, c = model.input_shape
    spec = tf.TensorSpec((batch_size, h, w, c), tf.float32, name="pixels")
    concrete = tf.function(lambda x: model(x, training=False), input_signature=[spec]).get_concrete_function()
    absl_logger = logging.getLogger("absl")
    notice = _DropDeprecationNotice()
    absl_logger.addFilter(notice)
    try:
        converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
    finally:
        absl_logger.removeFilter(notice)
    for name, value in settings.items():
        if name == "target_spec":
            for key, item in value.items():
                setattr(converter.target_spec, key, item)
        else:
            setattr(converter, name, value)
    return converter.convert()


def _convert_keras(model: keras.Model, settings: dict[str, Any], batch_size: int | None) -> bytes:
    _, h, w, c = model.input_shape
    spec = tf.TensorSpec((batch_size, h, w, c), tf.float32, name="pixels")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.tflite")
        model.export(path, format="litert", verbose=False, input_signature=[spec], **settings)
        with open(path, "rb") as fh:
            return fh.read()


def _convert(
    model: keras.Model,
    quantization: str,
    calibration: np.ndarray | None,
    input_type: str,
    output_type: str,
    converter: str = "graph",
    batch_size: int | None = 1,
    per_channel: bool = True,
) -> bytes:
    from tensorflow.lite.python.convert_phase import ConverterError

    settings = _converter_settings(quantization, calibration, input_type, output_type, per_channel)
    try:
        with warnings.catch_warnings():  # "Statistics for quantized inputs were expected": calibrated
            warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
            if converter == "keras":
                return _convert_keras(model, settings, batch_size)
            return _convert_graph(model, settings, batch_size)
    except ConverterError as err:
        text = str(err)
        ops = sorted(set(re.findall(r"'tf\.(\w+)' op is neither a custom op nor a flex op", text)))
        ops += [o.strip() for line in re.findall(r"Custom ops: ([^\n]+)", text) for o in line.split(",")]
        ops = sorted(set(ops))
        named = f" Operators without a TFLite builtin: {', '.join(ops)}." if ops else ""
        raise ValueError(
            f"TFLite cannot convert this model with builtin operators only ({quantization}).{named} "
            "Replace the layer(s) using them with supported operations. "
            f"Converter message: {text.splitlines()[0][:300]} Received: quantization={quantization!r}"
        ) from err
    except RuntimeError as err:  # the calibrator runs the float graph on the representative data
        raise ValueError(
            f"TFLite integer calibration failed: {err}. Received: quantization={quantization!r}"
        ) from err


def _float_ops(content: bytes) -> list[str]:
    return sorted({op.name for op in list_ops(content) if op.is_float and op.name not in _BOUNDARY_OPS})


def export_tflite(
    model: keras.Model,
    path: str | os.PathLike[str],
    quantization: str = "float32",
    representative_data: Any = None,
    *,
    input_type: str = "float32",
    output_type: str = "float32",
    preprocessing: Preprocessing | None = None,
    fold_preprocessing: bool = True,
    class_names: Sequence[str] | None = None,
    calibration_samples: int = DEFAULT_CALIBRATION_SAMPLES,
    allow_float_fallback: bool = False,
    metadata: dict[str, Any] | None = None,
    converter: str = "graph",
    batch_size: int | None = 1,
    per_channel: bool = True,
) -> TFLiteExport:
    """Convert ``model`` to a TFLite file at ``path`` (written atomically).

    Args:
        model: a Keras model with one image input of fixed size.
        path: the destination, ending with ``.tflite``; its folder must exist.
        quantization: ``"float32"``, ``"float16"``, ``"dynamic"`` or ``"int8"`` (full integer).
        representative_data: required for ``"int8"``: images in the *exported* model's input
            space (raw pixels ``0..255`` when ``preprocessing`` is folded, else what ``model``
            takes) — an array ``(N, H, W, C)``, a ``tf.data.Dataset`` of images or
            ``(image, label)`` pairs (batched or not), or an iterable of them. The first
            ``calibration_samples`` images are used.
        input_type: dtype of the input tensor for ``"int8"``: ``"float32"``, ``"int8"`` or
            ``"uint8"`` (other modes keep float32).
        output_type: dtype of the output tensor for ``"int8"``, as ``input_type``.
        preprocessing: the normalisation ``model`` expects (default: the one in the model's card
            — a model trained by this package, or loaded with
            :func:`~kerascv_course.training.run_folder.load_keras_model`, carries it). Folded (the default), the exported
            model takes raw pixels and normalises (and resizes) them itself; with
            ``fold_preprocessing=False`` the graph is ``model`` unchanged and the normalisation is
            only recorded in the metadata (:class:`TFLiteClassifier` applies it on the host).
            ``None`` for a model without a card: export ``model`` as it is, input convention
            unknown (``TFLiteClassifier`` then feeds raw pixels ``0..255``).
        fold_preprocessing: fold ``preprocessing`` into the graph (see above).
        class_names: stored in the metadata and written to ``<stem>.labels.txt`` beside ``path``
            (default: the model card's).
        calibration_samples: how many representative images calibrate ``"int8"``.
        allow_float_fallback: for ``"int8"``, accept operators left in float (with
            quantize/dequantize around them) instead of raising.
        metadata: extra JSON-serialisable entries for the embedded metadata.
        converter: ``"graph"`` (default): ``TFLiteConverter.from_concrete_functions`` on the
            frozen ``model(x, training=False)`` graph, in memory — fast; TF logs this entry point
            as its older path. ``"keras"``: Keras' own ``model.export(format="litert")``
            (a SavedModel round trip on disk, 3-5x slower) with the same settings — the
            fallback should a TF release drop the graph path.
        batch_size: the input's batch dimension: ``1`` (default) gives a graph with static
            shapes only — what micro-controllers (TFLite Micro) and most NPU delegates need, and
            the fastest on CPU; ``None`` gives a dynamic batch (``resize_tensor_input``), at the
            cost of shape-computing operators around reshapes.
        per_channel: for ``"int8"``, one scale per output channel of each convolution kernel
            (the default: the most accurate, what TFLite's own int8 kernels expect). ``False``
            gives one scale per tensor — for accelerators without per-channel support, and a
            smaller file for small models (each per-channel scale is stored with an int64 zero
            point: 12 bytes per channel, 16 % of a MobileNet 0.25's int8 file). Check the
            report's accuracy: post-training per-tensor scales can wreck depthwise convolutions
            (the test suite's MobileNet 0.25 on shapes: 99.2 % float, 99.0 % per-channel int8,
            67.6 % per-tensor int8).

    Returns:
        A :class:`TFLiteExport` describing the file.

    Raises:
        ValueError: for an unknown quantization or I/O type, integer I/O without ``"int8"``,
            missing or wrongly shaped representative data, class names that do not match the
            output, operators TFLite lacks, or (``"int8"``) operators without an integer kernel.
        TypeError: when ``model`` is not a Keras model.
        FileNotFoundError, PermissionError: when the destination folder is missing or not writable.

    Example:
        >>> export_tflite(model, "model_int8.tflite", "int8", representative_data=images,
        ...               input_type="uint8", output_type="uint8",
        ...               preprocessing=Preprocessing(mean=(0.5,), std=(0.25,)))
    """
    _check_choice("quantization", quantization, QUANTIZATIONS)
    _check_choice("input_type", input_type, IO_TYPES)
    _check_choice("output_type", output_type, IO_TYPES)
    _check_choice("converter", converter, CONVERTERS)
    if batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1):
        raise ValueError(f"`batch_size` must be None or a positive integer. Received: batch_size={batch_size!r}")
    if quantization != "int8" and (input_type, output_type) != ("float32", "float32"):
        raise ValueError(
            "Integer input/output types need full-integer quantization (quantization='int8'). "
            f"Received: quantization={quantization!r}, input_type={input_type!r}, output_type={output_type!r}"
        )
    if not isinstance(per_channel, bool):
        raise ValueError(f"`per_channel` must be True or False. Received: per_channel={per_channel!r}")
    if not per_channel and quantization != "int8":
        raise ValueError(
            "Per-tensor scales (per_channel=False) apply to full-integer quantization only "
            f"(quantization='int8'). Received: quantization={quantization!r}, per_channel=False"
        )
    if not isinstance(calibration_samples, int) or isinstance(calibration_samples, bool) or calibration_samples < 1:
        raise ValueError(f"`calibration_samples` must be a positive integer. Received: calibration_samples={calibration_samples!r}")
    image_input_shape(model)
    path = check_output_path(path)
    card = model_card(model)
    if card is not None:  # a model trained by this package knows its input convention
        if preprocessing is None:
            preprocessing = Preprocessing.from_card(card)
        if class_names is None and card.get("class_names") and len(card["class_names"]) == int(model.output_shape[-1]):
            class_names = list(card["class_names"])
    elif preprocessing is None:
        log.warning(
            "%r has no model card and no `preprocessing` was given: exported as it is, so the file "
            "must be fed what the model takes. A model trained by this package knows its "
            "normalisation when loaded with kerascv_course.training.run_folder.load_keras_model "
            "(not plain keras.saving.load_model); or pass preprocessing=Preprocessing(...).", model.name,
        )
    if preprocessing is not None and preprocessing.resize_mode == "pad" and preprocessing.input_size is not None:
        raise ValueError(
            "The model was trained on images padded to its input size (resize_mode='pad'), so a "
            "resize from another input size cannot be folded in; drop `input_size`. "
            f"Received: input_size={preprocessing.input_size}"
        )
    fold = preprocessing is not None and fold_preprocessing
    exported = with_preprocessing(model, preprocessing) if fold else model
    input_shape = tuple(exported.input_shape[1:])
    num_classes = int(exported.output_shape[-1])
    if class_names is not None and len(class_names) != num_classes:
        raise ValueError(
            f"`class_names` must have one name per output ({num_classes}). "
            f"Received: {len(class_names)} class_names"
        )
    calibration = None
    if quantization == "int8":
        if representative_data is None:
            raise ValueError(
                "Full-integer quantization calibrates activation ranges on sample inputs: pass "
                "`representative_data` (a few hundred training images, no augmentation, in the "
                "exported model's input space). Received: representative_data=None"
            )
        calibration = _representative_array(representative_data, input_shape, calibration_samples)
    elif representative_data is not None:
        log.info("representative_data is only used by quantization='int8'; ignored for %s", quantization)

    started = time.time()
    content = _convert(exported, quantization, calibration, input_type, output_type, converter, batch_size, per_channel)
    ops = list_ops(content)
    if quantization == "int8":
        floats = _float_ops(content)
        if floats and not allow_float_fallback:
            raise ValueError(
                f"Integer-only conversion is impossible: TFLite has no int8 kernel for "
                f"{', '.join(floats)}, so the converter left it in float. Export with "
                "quantization='dynamic' or 'float16', change the model (e.g. lrn=False), or pass "
                f"allow_float_fallback=True to accept a mixed model. Received: quantization='int8'"
            )
    record: dict[str, Any] = {
        "format": "kerascv_course.tflite/1",
        "model_name": model.name,
        "quantization": quantization,
        "input_type": input_type if quantization == "int8" else "float32",
        "output_type": output_type if quantization == "int8" else "float32",
        **({"per_channel": per_channel} if quantization == "int8" else {}),
        "input_shape": list(input_shape),
        "output": _output_kind(model),
        "class_names": list(class_names) if class_names is not None else None,
        "input": _input_record(preprocessing, fold),
        **(metadata or {}),
    }
    content = add_metadata(content, record)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(content)
    publish_mode(path)
    labels_path = None
    if class_names is not None:
        labels_path = labels_path_for(path)
        write_text(labels_path, "".join(f"{name}\n" for name in class_names))
        publish_mode(labels_path)
    counts: dict[str, int] = {}
    for op in ops:
        counts[op.name] = counts.get(op.name, 0) + 1
    seconds = time.time() - started
    log.info("wrote %s (%s, %.1f kB) in %.1f s", path, quantization, len(content) / 1024, seconds)
    return TFLiteExport(
        path=path,
        quantization=quantization,
        size_bytes=os.path.getsize(path),
        input_type=record["input_type"],
        output_type=record["output_type"],
        labels_path=labels_path,
        metadata=record,
        seconds=seconds,
        ops=counts,
    )


def _input_record(preprocessing: Preprocessing | None, folded: bool) -> dict[str, Any]:
    if preprocessing is None:
        return {"pixels": "model"}  # the model's own input convention, unknown to the exporter
    if not folded:
        return {
            "pixels": "normalized",
            "mean": list(preprocessing.mean),
            "std": list(preprocessing.std),
            "scale": preprocessing.scale,
            "resize_mode": preprocessing.resize_mode,
        }
    return {
        "pixels": "raw",
        "range": [0, 255],
        "resize_mode": preprocessing.resize_mode,
        "folded": {
            "mean": list(preprocessing.mean),
            "std": list(preprocessing.std),
            "scale": preprocessing.scale,
            "input_size": list(preprocessing.input_size) if preprocessing.input_size else None,
        },
    }
