"""Per-layer table of a model: output shape, parameters, multiply-accumulates, receptive field.

The receptive field and the total stride ("jump") are propagated through the functional graph:
a convolution or pooling with kernel ``k``, stride ``s`` and dilation ``d`` grows the receptive
field by ``(d * (k - 1)) * jump`` and multiplies the jump by ``s``; a merge (``Add``,
``Concatenate``, …) takes the largest of its inputs; global pooling, ``Flatten`` and ``Dense``
see the whole image. Multiply-accumulates (MACs) count the convolutions and dense layers, the
figure papers quote as "FLOPs" (VGG-16: 15.5 G at 224x224).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np


@dataclass
class LayerRow:
    """One row of :func:`layer_table`."""

    name: str
    kind: str
    output_shape: tuple[Any, ...]
    params: int
    macs: int
    receptive_field: int | None  # None: the whole input
    stride: int | None


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    return (int(value[0]), int(value[1]))


def _inbound_layers(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    if not layer._inbound_nodes:
        return []
    tensors = keras.tree.flatten(layer._inbound_nodes[0].input_tensors)
    return [t._keras_history.operation for t in tensors if hasattr(t, "_keras_history")]


def _spatial(shape: Any) -> int:
    if shape is None or len(shape) != 4 or shape[1] is None or shape[2] is None:
        return 0
    return int(shape[1]) * int(shape[2])


def _macs(layer: keras.layers.Layer) -> int:
    try:
        out_shape = layer.output.shape
        inputs = keras.tree.flatten(layer.input)
    except (AttributeError, ValueError):
        return 0
    if not inputs:
        return 0
    in_shape = inputs[0].shape
    cls = type(layer).__name__
    if cls == "SeparableConv2D":
        kh, kw = _pair(layer.kernel_size)
        cin = in_shape[-1]
        depthwise = _spatial(out_shape) * kh * kw * cin * layer.depth_multiplier
        return int(depthwise + _spatial(out_shape) * cin * layer.depth_multiplier * out_shape[-1])
    if cls == "DepthwiseConv2D":
        kh, kw = _pair(layer.kernel_size)
        return int(_spatial(out_shape) * kh * kw * in_shape[-1] * layer.depth_multiplier)
    if cls == "Conv2DTranspose":
        kh, kw = _pair(layer.kernel_size)
        return int(_spatial(in_shape) * kh * kw * in_shape[-1] * out_shape[-1])
    if isinstance(layer, keras.layers.Conv2D):
        kh, kw = _pair(layer.kernel_size)
        groups = getattr(layer, "groups", 1)
        return int(_spatial(out_shape) * kh * kw * (in_shape[-1] // groups) * out_shape[-1])
    if isinstance(layer, keras.layers.Dense):
        positions = int(np.prod([d for d in out_shape[1:-1] if d is not None] or [1]))
        return int(positions * in_shape[-1] * out_shape[-1])
    # Custom convolutions (e.g. LeNet's connection table): the kernel's size per output position.
    kernel = getattr(layer, "kernel", None)
    if kernel is not None and len(out_shape) == 4:
        return int(_spatial(out_shape) * int(np.prod(kernel.shape)))
    return 0


_GLOBAL = ("GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten", "Dense", "Dropout")


def layer_table(model: keras.Model) -> list[LayerRow]:
    """One :class:`LayerRow` per layer of a functional ``model``, in graph order.

    Example:
        >>> rows = layer_table(build_vgg16())
        >>> sum(r.macs for r in rows) / 1e9   # about 15.5 G multiply-accumulates
    """
    fields: dict[str, tuple[int | None, int | None]] = {}
    rows = []
    for layer in model.layers:
        parents = _inbound_layers(layer)
        if not parents:
            rf, jump = 1, 1
        else:
            known = [fields[p.name] for p in parents if p.name in fields]
            if any(f[0] is None for f in known) or not known:
                rf, jump = None, None
            else:
                rf = max(f[0] for f in known)
                jump = max(f[1] for f in known)
        cls = type(layer).__name__
        if rf is not None:
            if hasattr(layer, "pool_size") and "Global" not in cls:
                k = _pair(layer.pool_size)[0]
                s = _pair(layer.strides or layer.pool_size)[0]
                rf, jump = rf + (k - 1) * jump, jump * s
            elif cls == "Conv2DTranspose" or cls == "UpSampling2D":
                s = _pair(getattr(layer, "strides", None) or layer.size)[0]
                jump = max(1, jump // s)
            elif hasattr(layer, "kernel_size"):
                k = _pair(layer.kernel_size)[0]
                d = _pair(getattr(layer, "dilation_rate", 1))[0]
                s = _pair(getattr(layer, "strides", 1))[0]
                rf, jump = rf + d * (k - 1) * jump, jump * s
            elif cls in _GLOBAL or cls.startswith("Global"):
                rf, jump = None, None
        fields[layer.name] = (rf, jump)
        try:
            shape = tuple(layer.output.shape)
        except (AttributeError, ValueError):
            shape = ()
        rows.append(
            LayerRow(
                name=layer.name,
                kind=cls,
                output_shape=shape,
                params=int(layer.count_params()) if layer.built else 0,
                macs=_macs(layer),
                receptive_field=rf,
                stride=jump,
            )
        )
    return rows


def format_layer_table(rows: list[LayerRow], *, only_weighted: bool = False) -> str:
    """The rows as an aligned text table with a totals line."""
    header = ("layer", "type", "output shape", "params", "MACs", "RF", "stride")
    body = []
    for r in rows:
        if only_weighted and not r.params:
            continue
        shape = "x".join("?" if d is None else str(d) for d in r.output_shape[1:])
        body.append(
            (
                r.name, r.kind, shape, f"{r.params:,}", _si(r.macs),
                "all" if r.receptive_field is None else str(r.receptive_field),
                "-" if r.stride is None else str(r.stride),
            )
        )
    total = ("total", "", "", f"{sum(r.params for r in rows):,}", _si(sum(r.macs for r in rows)), "", "")
    widths = [max(len(row[i]) for row in [header, *body, total]) for i in range(len(header))]
    right = {3, 4, 5, 6}

    def fmt(row: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *map(fmt, body), rule, fmt(total)])


def _si(value: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= scale:
            return f"{value / scale:.2f}{unit}"
    return str(value)
