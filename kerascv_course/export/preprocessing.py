"""How an exported model's input is prepared: :class:`Preprocessing` (the normalisation and input
size a model was trained with, from its model card or its dataset) and :func:`with_preprocessing`,
which folds it into the model so a device feeds raw pixels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np


@dataclass(frozen=True)
class Preprocessing:
    """The normalisation a model was trained with, to fold into an exported model.

    The exported model takes raw pixels ``p`` in ``0..255`` and computes
    ``(p * scale - mean) / std`` (the pipeline's ``normalize`` after ``to_float``), after resizing
    to the model's input size when ``input_size`` differs from it.

    Attributes:
        mean: per-channel mean in ``[0, 1]`` units (one value is broadcast to every channel).
        std: per-channel standard deviation in ``[0, 1]`` units.
        scale: factor from raw pixels to ``[0, 1]``.
        input_size: ``(H, W)`` the exported model accepts (resized to the model's own size inside
            the graph), or ``None`` for the model's own size.
        resize_mode: how the training pipeline brought images to the model's size: ``"resize"``
            (bilinear) or ``"pad"`` (centred on a zero background); recorded in the metadata so
            :class:`~kerascv_course.export.inference.TFLiteClassifier` prepares images the same way.
    """

    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)
    scale: float = 1.0 / 255.0
    input_size: tuple[int, int] | None = None
    resize_mode: str = "resize"

    @classmethod
    def from_card(cls, card: dict[str, Any], input_size: int | Sequence[int] | None = None) -> Preprocessing:
        """The preprocessing recorded in a model card (:mod:`kerascv_course.utils.model_card`)."""
        spec = card["input"]
        mean, std = spec.get("mean"), spec.get("std")
        return cls(
            mean=tuple(float(m) for m in mean) if mean is not None else (0.0,),
            std=tuple(float(s) for s in std) if std is not None else (1.0,),
            scale=float(spec.get("scale", 1.0 / 255.0)),
            input_size=as_size(input_size),
            resize_mode=str(spec.get("resize_mode", "resize")),
        )

    @classmethod
    def from_info(cls, info: Any, input_size: int | Sequence[int] | None = None,
                  resize_mode: str = "resize") -> Preprocessing:
        """The preprocessing of a dataset's :class:`~kerascv_course.data.DatasetInfo` (mean/std)."""
        size = as_size(input_size)
        if info.mean is None or info.std is None:
            return cls(input_size=size, resize_mode=resize_mode)
        return cls(mean=tuple(float(m) for m in info.mean), std=tuple(float(s) for s in info.std),
                   input_size=size, resize_mode=resize_mode)

    def per_channel(self, channels: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std as arrays of length ``channels`` (as the pipeline's ``normalize`` does)."""
        mean = np.asarray(self.mean, np.float32)
        std = np.asarray(self.std, np.float32)
        if mean.size != channels:
            mean = np.full(channels, mean.mean(), np.float32)
        if std.size != channels:
            std = np.full(channels, std.mean(), np.float32)
        return mean, std


def as_size(size: int | Sequence[int] | None) -> tuple[int, int] | None:
    """``input_size`` as ``(H, W)`` (``None`` stays ``None``), checked."""
    if size is None:
        return None
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size, size)
    size = tuple(size)
    if len(size) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size):
        raise ValueError(
            f"`input_size` must be a positive int or a pair (height, width). Received: input_size={size!r}"
        )
    return size


def with_preprocessing(model: keras.Model, preprocessing: Preprocessing) -> keras.Model:
    """Wrap ``model`` so it takes raw pixels ``0..255`` and normalises (and resizes) them itself.

    Built from Keras' own ``Resizing``, ``Rescaling`` and ``Normalization`` layers (no ``Lambda``),
    so the wrapper saves and loads with ``safe_mode=True`` and converts to TFLite ``MUL``/``SUB``/
    ``RESIZE_BILINEAR`` operators.

    Args:
        model: a model with one image input ``(H, W, C)``.
        preprocessing: the normalisation (and optional input size) to fold in.

    Returns:
        A functional model ``pixels (h, w, C) -> model((resize(pixels) * scale - mean) / std)``.

    Example:
        >>> wrapped = with_preprocessing(model, Preprocessing(mean=(0.5,), std=(0.25,)))
    """
    _, h, w, c = image_input_shape(model)
    size = preprocessing.input_size or (h, w)
    mean, std = preprocessing.per_channel(c)
    pixels = keras.Input(shape=(*size, c), name="pixels")
    x = pixels
    if tuple(size) != (h, w):
        x = keras.layers.Resizing(h, w, interpolation="bilinear", name="resize")(x)
    x = keras.layers.Rescaling(preprocessing.scale, name="rescale")(x)
    x = keras.layers.Normalization(mean=mean.tolist(), variance=(std**2).tolist(), name="normalize")(x)
    outputs = model(x)
    return keras.Model(pixels, outputs, name=f"{model.name}_raw_pixels")


def image_input_shape(model: Any) -> tuple[Any, int, int, int]:
    """``model.input_shape`` when it is one image input of fixed size, else a clear error."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model. Received: model={type(model).__name__}")
    shapes = model.input_shape
    if isinstance(shapes, list) or len(shapes) != 4 or None in shapes[1:]:
        raise ValueError(
            "`model` must have a single image input of fixed size (None, H, W, C). "
            f"Received: model.input_shape={shapes}"
        )
    return shapes
