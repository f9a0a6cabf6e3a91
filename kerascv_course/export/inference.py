"""On-device inference: :class:`TFLiteClassifier` runs an exported ``.tflite`` classifier with LiteRT.

This module imports only NumPy, Pillow and LiteRT (``ai_edge_litert``) — what a phone-like device
has — never TensorFlow or Keras. It reads the metadata the exporter embeds (class names, how the
input is preprocessed, whether the output is probabilities or logits) and handles quantized
(``int8``/``uint8``) inputs and outputs with their scales and zero points.

Example:
    >>> clf = TFLiteClassifier("runs/mobilenet/export/model_int8.tflite")
    >>> clf.predict("cat.png", top_k=3)
    [Prediction(label='circle', index=0, probability=0.93), ...]
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from PIL import Image, UnidentifiedImageError

from kerascv_course.export.manifest import check_published
from kerascv_course.export.tflite_file import read_metadata, read_model_bytes

_QUANTIZED = (np.int8, np.uint8, np.int16)


@dataclass(frozen=True)
class Prediction:
    """One of the top-k answers: the class label, its index and its probability."""

    label: str
    index: int
    probability: float


def read_labels(path: str | os.PathLike[str]) -> list[str]:
    """Class names from a labels file, one per line (blank trailing lines ignored)."""
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def labels_path_for(model_path: str | os.PathLike[str]) -> str:
    """The labels file the exporter writes beside ``model_path``: ``<stem>.labels.txt``."""
    stem, _ = os.path.splitext(os.fspath(model_path))
    return stem + ".labels.txt"


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float32."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


class TFLiteClassifier:
    """An image classifier exported to TFLite, run with the LiteRT interpreter.

    Accepts image files, PIL images, NumPy arrays ``(H, W)``/``(H, W, C)`` or batches
    (a 4-D array or a list of any of these). Pixel values are raw, ``0..255`` (``uint8`` or float):
    the exporter folds the model's normalisation into the graph (or records it in the metadata,
    and this class applies it). Images of another size are resized (bilinear); PIL images are
    converted to the model's mode (``L`` or ``RGB``), but a NumPy array must have the model's
    channel count.

    Args:
        path: the ``.tflite`` file.
        labels: class names, or a labels file; default: the names stored in the model's metadata,
            else ``<stem>.labels.txt`` or ``labels.txt`` beside the model, else ``"0"``, ``"1"``, ….
        num_threads: LiteRT interpreter threads (``None``: LiteRT's default).
        check_export: refuse a file its export folder's manifest does not list (the default;
            ``False`` is for the exporter's own check of a file it has just written).

    Raises:
        FileNotFoundError: when ``path`` (or a labels file) does not exist.
        ValueError: when the file is not a TFLite model, or is not a single-input image classifier,
            or lies in an export folder whose ``export_manifest.json`` does not list it with these
            bytes (an interrupted export; see :mod:`kerascv_course.export.manifest`).

    Example:
        >>> clf = TFLiteClassifier("model_int8.tflite")
        >>> [p.label for p in clf.predict(np.zeros((32, 32, 3), np.uint8), top_k=2)]
        ['square', 'circle']
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        labels: Sequence[str] | str | os.PathLike[str] | None = None,
        *,
        num_threads: int | None = None,
        check_export: bool = True,
    ) -> None:
        self.path = os.fspath(path)
        content = read_model_bytes(self.path)
        if check_export:  # one file of an interrupted multi-file export: refused
            check_published(self.path, content)
        self.metadata: dict[str, Any] = read_metadata(content, source=self.path) or {}
        try:
            self._interpreter = Interpreter(model_content=content, num_threads=num_threads)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as err:
            raise ValueError(
                f"LiteRT cannot load {self.path!r}: {err}. Received: path={self.path!r}"
            ) from err
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1 or len(inputs[0]["shape"]) != 4:
            raise ValueError(
                f"{self.path!r} is not a single-input image classifier: it has {len(inputs)} "
                f"input(s) of shape {[list(i['shape']) for i in inputs]} and {len(outputs)} "
                f"output(s). Received: path={self.path!r}"
            )
        self._input, self._output = inputs[0], outputs[0]
        _, h, w, c = (int(v) for v in self._input["shape"])
        self.input_shape: tuple[int, int, int] = (h, w, c)
        self.input_dtype = np.dtype(self._input["dtype"])
        self.output_dtype = np.dtype(self._output["dtype"])
        self.num_classes = int(self._output["shape"][-1])
        self._dynamic_batch = int(self._input["shape_signature"][0]) == -1
        self._fixed_batch = max(int(self._input["shape"][0]), 1)
        self._batch = self._fixed_batch
        self.class_names = self._resolve_labels(labels)

    def _resolve_labels(self, labels: Any) -> list[str]:
        if isinstance(labels, (str, os.PathLike)):
            names = read_labels(labels)
        elif labels is not None:
            names = [str(n) for n in labels]
        elif self.metadata.get("class_names"):
            names = [str(n) for n in self.metadata["class_names"]]
        else:
            names = None
            folder = os.path.dirname(os.path.abspath(self.path))
            for candidate in (labels_path_for(self.path), os.path.join(folder, "labels.txt")):
                if os.path.isfile(candidate):
                    names = read_labels(candidate)
                    break
            if names is None:
                names = [str(i) for i in range(self.num_classes)]
        if len(names) != self.num_classes:
            raise ValueError(
                f"The model has {self.num_classes} classes but {len(names)} labels were given. "
                f"Received: labels={labels!r}"
            )
        return names

    def __repr__(self) -> str:
        return (
            f"TFLiteClassifier({self.path!r}, input={self.input_shape} {self.input_dtype.name}, "
            f"output={self.num_classes} {self.output_dtype.name})"
        )

    # ---- input ---------------------------------------------------------------------------
    def _image_array(self, image: Any) -> np.ndarray:
        """One image as float32 ``(H, W, C)`` raw pixels at the model's size."""
        h, w, c = self.input_shape
        if isinstance(image, (str, os.PathLike)):
            try:
                with Image.open(image) as pil:
                    pil.load()
                    return self._image_array(pil)
            except FileNotFoundError:
                raise FileNotFoundError(f"No image file at {os.fspath(image)!r}. Received: image={image!r}") from None
            except UnidentifiedImageError as err:
                raise ValueError(f"{os.fspath(image)!r} is not an image file Pillow can read. Received: image={image!r}") from err
            except Image.DecompressionBombError as err:
                raise ValueError(f"{os.fspath(image)!r} is too large to decode safely ({err}). Received: image={image!r}") from err
            except (OSError, SyntaxError) as err:  # truncated or damaged data (Pillow raises these)
                raise ValueError(
                    f"{os.fspath(image)!r} cannot be read: the file is truncated or damaged ({err}). "
                    f"Received: image={image!r}"
                ) from err
        if isinstance(image, Image.Image):
            mode = {1: "L", 3: "RGB"}.get(c)
            if mode is None:
                raise ValueError(
                    f"The model takes {c}-channel images, which a PIL image cannot be converted "
                    f"to; pass a NumPy array. Received: image mode {image.mode!r}"
                )
            if image.mode != mode:
                image = image.convert(mode)
            if image.size != (w, h) and not self._pads:
                image = image.resize((w, h), Image.Resampling.BILINEAR)
            array = np.asarray(image, dtype=np.float32)
            return self._pad(array[..., None] if array.ndim == 2 else array)
        array = np.asarray(image)
        if array.dtype.kind not in "uif" or array.ndim not in (2, 3):
            raise TypeError(
                "An image must be a file path, a PIL image, or a numeric NumPy array (H, W) or "
                f"(H, W, C). Received: image of type {type(image).__name__}, "
                f"dtype={getattr(array, 'dtype', None)}, shape={getattr(array, 'shape', None)}"
            )
        if array.ndim == 2:
            array = array[..., None]
        if array.shape[-1] != c:
            raise ValueError(
                f"The model takes {c}-channel images but the image has {array.shape[-1]} "
                f"channel(s). Received: image.shape={array.shape}"
            )
        array = array.astype(np.float32)
        if self._pads:
            return self._pad(array)
        if array.shape[:2] != (h, w):
            planes = [
                np.asarray(Image.fromarray(array[..., k], mode="F").resize((w, h), Image.Resampling.BILINEAR))
                for k in range(c)
            ]
            array = np.stack(planes, axis=-1)
        return array

    @property
    def _pads(self) -> bool:
        """Whether the model was trained on images padded (not resized) to its input size."""
        return self.metadata.get("input", {}).get("resize_mode") == "pad"

    def _pad(self, array: np.ndarray) -> np.ndarray:
        """Centre a smaller image on a zero background of the model's size, as the training
        pipeline's ``resize_mode="pad"`` does; a larger one is refused (padding never shrinks)."""
        h, w, _ = self.input_shape
        ih, iw = array.shape[:2]
        if (ih, iw) == (h, w):
            return array
        if ih > h or iw > w:
            raise ValueError(
                f"The model was trained on images padded to {h}x{w} (resize_mode='pad'), which "
                f"never shrinks them; this image is {ih}x{iw}. Crop or resize it to at most "
                f"{h}x{w} first. Received: image of shape {array.shape}"
            )
        top, left = (h - ih) // 2, (w - iw) // 2
        out = np.zeros((h, w, array.shape[-1]), np.float32)
        out[top : top + ih, left : left + iw] = array
        return out

    def preprocess(self, images: Any) -> np.ndarray:
        """Images (one or a batch) as the model's input tensor ``(N, H, W, C)``, quantized if needed."""
        if isinstance(images, (list, tuple)):
            if not images:
                raise ValueError("`images` is an empty list. Received: images=[]")
            batch = np.stack([self._image_array(im) for im in images])
        elif isinstance(images, np.ndarray) and images.ndim == 4:
            batch = np.stack([self._image_array(im) for im in images])
        else:
            batch = self._image_array(images)[None]
        spec = self.metadata.get("input", {})
        if spec.get("pixels") == "model":
            raise ValueError(
                f"{self.path!r} was exported without its input preparation (the Keras model had no "
                "model card and no `preprocessing` was given), so images cannot be prepared for it "
                "and its answers would be wrong. Export the trained model from its run folder or "
                ".keras file (`kerascv-course export RUN`, or load it with "
                "kerascv_course.training.run_folder.load_keras_model before export_tflite), or pass "
                "export_tflite(..., preprocessing=Preprocessing(...)) (Preprocessing(scale=1.0) for a "
                "model that takes raw 0..255 pixels); .invoke(batch) runs tensors you prepared. "
                "Received: input metadata {'pixels': 'model'}"
            )
        if spec.get("pixels") == "normalized":  # preprocessing not folded into the graph
            scale = float(spec.get("scale", 1.0 / 255.0))
            c = self.input_shape[-1]
            mean = np.asarray(spec["mean"], np.float32)
            std = np.asarray(spec["std"], np.float32)
            if mean.size != c:  # statistics of grey data for converted RGB (as the pipeline does)
                mean = np.full(c, mean.mean(), np.float32)
            if std.size != c:
                std = np.full(c, std.mean(), np.float32)
            batch = (batch * scale - mean) / std
        return self._quantize(batch)

    def _quantize(self, batch: np.ndarray) -> np.ndarray:
        dtype = self.input_dtype
        if dtype.type in _QUANTIZED:
            scale, zero = self._input["quantization"]
            if scale:
                batch = np.round(batch / scale + zero)
            info = np.iinfo(dtype)
            return np.clip(batch, info.min, info.max).astype(dtype)
        return batch.astype(dtype)

    # ---- inference -----------------------------------------------------------------------
    def invoke(self, batch: np.ndarray) -> np.ndarray:
        """Run the interpreter on a ready input tensor ``(N, H, W, C)``; the raw output tensor.

        A model with a dynamic batch is resized to ``N``; a fixed-batch model (the exporter's
        default, batch 1) runs in chunks of its batch size.
        """
        n = batch.shape[0]
        if not self._dynamic_batch:
            size = self._fixed_batch
            outs = []
            for i in range(0, n, size):
                chunk = batch[i : i + size]
                if len(chunk) < size:  # pad the last chunk, drop the padding's outputs
                    pad = np.zeros((size - len(chunk), *chunk.shape[1:]), chunk.dtype)
                    outs.append(self.invoke_one(np.concatenate([chunk, pad]))[: len(chunk)])
                else:
                    outs.append(self.invoke_one(chunk))
            return np.concatenate(outs)
        if n != self._batch:
            self._interpreter.resize_tensor_input(self._input["index"], [n, *self.input_shape])
            self._interpreter.allocate_tensors()
            self._batch = n
        return self.invoke_one(batch)

    def invoke_one(self, batch: np.ndarray) -> np.ndarray:
        """Set the input, invoke, return a copy of the output (no resizing)."""
        self._interpreter.set_tensor(self._input["index"], batch)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output["index"]).copy()

    def dequantize(self, raw: np.ndarray) -> np.ndarray:
        """The raw output tensor as float32 (``(q - zero_point) * scale`` for quantized outputs)."""
        if self.output_dtype.type in _QUANTIZED:
            scale, zero = self._output["quantization"]
            return ((raw.astype(np.float32) - zero) * (scale or 1.0)).astype(np.float32)
        return raw.astype(np.float32)

    def predict_proba(self, images: Any, batch_size: int = 32) -> np.ndarray:
        """Class probabilities ``(N, classes)`` for one image (``N = 1``) or a batch."""
        batch = self.preprocess(images)
        outs = [self.invoke(batch[i : i + batch_size]) for i in range(0, len(batch), batch_size)]
        probs = self.dequantize(np.concatenate(outs))
        if self.metadata.get("output") == "logits":
            probs = softmax(probs)
        return probs

    def predict(self, images: Any, top_k: int = 5) -> list[Prediction] | list[list[Prediction]]:
        """The ``top_k`` labels with their probabilities.

        Args:
            images: one image (path, PIL image, ``(H, W[, C])`` array) or a batch (list, or
                ``(N, H, W, C)`` array).
            top_k: how many answers per image (at most the number of classes).

        Returns:
            For one image, a list of :class:`Prediction`, best first; for a batch, one such list
            per image.

        Raises:
            ValueError: for ``top_k < 1``, or an image of the wrong channel count.
        """
        if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
            raise ValueError(f"`top_k` must be a positive integer. Received: top_k={top_k!r}")
        probs = self.predict_proba(images)
        k = min(top_k, self.num_classes)
        answers = []
        for row in probs:
            order = np.argsort(-row, kind="stable")[:k]
            answers.append([Prediction(self.class_names[i], int(i), float(row[i])) for i in order])
        single = not (isinstance(images, (list, tuple)) or (isinstance(images, np.ndarray) and images.ndim == 4))
        return answers[0] if single else answers

    def measure_latency(self, runs: int = 50, warmup: int = 5, seed: int = 0) -> dict[str, float]:
        """Single-image latency of the interpreter on random input, in milliseconds (one batch of a
        fixed-batch model).

        Returns:
            ``{"median_ms", "mean_ms", "min_ms", "runs"}``.
        """
        if runs < 1:
            raise ValueError(f"`runs` must be >= 1. Received: runs={runs!r}")
        rng = np.random.default_rng(seed)
        n = 1 if self._dynamic_batch else self._fixed_batch
        one = self._quantize(rng.uniform(0, 255, (n, *self.input_shape)).astype(np.float32))
        if self._dynamic_batch and self._batch != 1:
            self.invoke(one)
        for _ in range(warmup):
            self.invoke_one(one)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            self.invoke_one(one)
            times.append((time.perf_counter() - start) * 1000.0)
        return {
            "median_ms": float(np.median(times)),
            "mean_ms": float(np.mean(times)),
            "min_ms": float(np.min(times)),
            "runs": runs,
        }
