"""Read and edit ``.tflite`` files without TensorFlow: identify, list operators, metadata.

A ``.tflite`` file is a FlatBuffer with the identifier ``TFL3``; its schema ships with LiteRT
(``ai_edge_litert.schema_py_generated``). This module uses only NumPy, ``flatbuffers`` and that
schema, so it works on a device that has LiteRT and no TensorFlow.

The exporter stores a JSON record under the metadata name :data:`METADATA_NAME` (class names, how
the input is preprocessed, whether the output is probabilities or logits, the quantization);
:class:`~kerascv_course.export.inference.TFLiteClassifier` reads it back.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from typing import Any

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

TFLITE_IDENTIFIER = b"TFL3"
# What flatbuffers raises when offsets point outside a truncated or corrupt buffer.
_PARSE_ERRORS = (IndexError, ValueError, TypeError, struct.error)
METADATA_NAME = "kerascv_course"

_OP_NAMES = {
    value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")
}
_TYPE_NAMES = {
    value: name.lower() for name, value in vars(schema.TensorType).items() if not name.startswith("_")
}


@dataclass(frozen=True)
class OpInfo:
    """One operator of a TFLite graph: its name and the dtypes of its inputs and outputs."""

    name: str
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]

    @property
    def is_float(self) -> bool:
        """Whether the operator computes in floating point (reads or writes a float tensor)."""
        floats = {"float32", "float16", "float64"}
        return any(t in floats for t in (*self.input_types, *self.output_types))


def read_model_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a ``.tflite`` file, checked to be a TFLite model.

    Raises:
        FileNotFoundError: when ``path`` is not a file.
        ValueError: when the file is not a TFLite model.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No TFLite model file at {path!r}. Received: path={path!r}")
    with open(path, "rb") as fh:
        data = fh.read()
    check_tflite_bytes(data, source=path)
    return data


def check_tflite_bytes(data: bytes, source: str = "model_content") -> None:
    """Raise ``ValueError`` unless ``data`` starts like a TFLite FlatBuffer (identifier ``TFL3``)."""
    if len(data) < 8 or data[4:8] != TFLITE_IDENTIFIER:
        head = bytes(data[:8])
        raise ValueError(
            f"{source!r} is not a TFLite model: a .tflite file carries the FlatBuffer identifier "
            f"{TFLITE_IDENTIFIER!r} at bytes 4-8, this one starts {head!r}. Received: "
            f"path={source!r}"
        )


def _root(data: bytes, source: str) -> Any:
    check_tflite_bytes(data, source)
    try:
        model = schema.Model.GetRootAs(data, 0)
        model.SubgraphsLength()
    except _PARSE_ERRORS as err:  # flatbuffers' errors on garbage offsets
        raise ValueError(f"{source!r} is a corrupt TFLite model ({err}). Received: path={source!r}") from err
    return model


def list_ops(data: bytes, source: str = "model_content") -> list[OpInfo]:
    """The operators of the main graph (subgraph 0), in execution order.

    Example:
        >>> [op.name for op in list_ops(open("model.tflite", "rb").read())][:2]
        ['CONV_2D', 'DEPTHWISE_CONV_2D']
    """
    model = _root(data, source)
    try:
        codes = []
        for i in range(model.OperatorCodesLength()):
            code = model.OperatorCodes(i)
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            if builtin == schema.BuiltinOperator.CUSTOM:
                custom = code.CustomCode()
                codes.append(f"CUSTOM:{custom.decode() if custom else '?'}")
            else:
                codes.append(_OP_NAMES.get(builtin, f"BUILTIN_{builtin}"))
        graph = model.Subgraphs(0)
        tensor_types = [
            _TYPE_NAMES.get(graph.Tensors(i).Type(), "unknown") for i in range(graph.TensorsLength())
        ]
        ops = []
        for i in range(graph.OperatorsLength()):
            op = graph.Operators(i)
            ins = tuple(tensor_types[j] for j in op.InputsAsNumpy().tolist() if j >= 0) if op.InputsLength() else ()
            outs = tuple(tensor_types[j] for j in op.OutputsAsNumpy().tolist() if j >= 0) if op.OutputsLength() else ()
            ops.append(OpInfo(codes[op.OpcodeIndex()], ins, outs))
    except _PARSE_ERRORS as err:
        raise ValueError(f"{source!r} is a corrupt TFLite model ({err}). Received: path={source!r}") from err
    return ops


def read_metadata(data: bytes, source: str = "model_content") -> dict[str, Any] | None:
    """The JSON record stored under :data:`METADATA_NAME`, or ``None`` if the model has none."""
    model = _root(data, source)
    try:
        count = model.MetadataLength()
    except _PARSE_ERRORS as err:
        raise ValueError(f"{source!r} is a corrupt TFLite model ({err}). Received: path={source!r}") from err
    for i in range(count):
        entry = model.Metadata(i)
        if entry.Name() != METADATA_NAME.encode():
            continue
        try:
            raw = model.Buffers(entry.Buffer()).DataAsNumpy()
        except _PARSE_ERRORS as err:
            raise ValueError(f"{source!r} is a corrupt TFLite model ({err}). Received: path={source!r}") from err
        if isinstance(raw, int):  # flatbuffers returns 0 for an empty vector
            return None
        try:
            return json.loads(bytes(raw).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(
                f"{source!r} has unreadable {METADATA_NAME!r} metadata ({err}). Received: path={source!r}"
            ) from err
    return None


def add_metadata(data: bytes, metadata: dict[str, Any]) -> bytes:
    """A copy of the model ``data`` with ``metadata`` stored as JSON under :data:`METADATA_NAME`.

    An existing record of that name is replaced; the graph and weights are unchanged.

    Raises:
        ValueError: when ``data`` is not a TFLite model, or stores its weights outside the
            FlatBuffer (models over 2 GB), which this writer does not rewrite.
    """
    check_tflite_bytes(data)
    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    if any(getattr(b, "offset", 0) > 1 for b in model.buffers or []):
        raise ValueError(
            "This TFLite model keeps its weights outside the FlatBuffer (a model over 2 GB); "
            "metadata cannot be embedded. Received: metadata keys="
            f"{sorted(metadata)}"
        )
    payload = np.frombuffer(json.dumps(metadata, sort_keys=True).encode("utf-8"), np.uint8)
    model.metadata = [m for m in (model.metadata or []) if m.name != METADATA_NAME.encode()]
    buffer = schema.BufferT()
    buffer.data = payload
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata.append(entry)
    builder = flatbuffers.Builder(len(data) + payload.size + 1024)
    builder.Finish(model.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    return bytes(builder.Output())
