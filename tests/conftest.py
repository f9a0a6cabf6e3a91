"""Shared pytest set-up: quiet TensorFlow, seeded Keras, and the helpers test modules share.

Test modules import the helpers from here (``from conftest import random_batch``): ``tests/`` is
on ``sys.path`` under pytest's default import mode.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_HOME", os.path.join(os.path.dirname(__file__), "..", ".keras-test-home"))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_and_clear():
    """Every test starts from the same seed and a fresh Keras name scope."""
    keras.utils.set_random_seed(1234)
    yield
    keras.backend.clear_session(free_memory=False)  # skips a slow gc.collect() per test


def random_batch(shape, n: int = 2, seed: int = 0) -> np.ndarray:
    """``n`` float32 inputs of ``shape``, uniform in [-1, 1], seeded."""
    return np.random.default_rng(seed).uniform(-1, 1, size=(n, *shape)).astype("float32")


def trainable_count(model: keras.Model) -> int:
    """The number of trainable parameters (Keras's "trainable params")."""
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def tflite_predict(path: str, x: np.ndarray) -> np.ndarray:
    """The LiteRT interpreter's outputs for float inputs ``x``, one image at a time; quantized
    inputs and outputs are (de)quantized with the model's own scales."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    rows = []
    for image in x:
        image = image[None]
        if inp["dtype"] != np.float32:
            scale, zero = inp["quantization"]
            info = np.iinfo(inp["dtype"])
            image = np.clip(np.round(image / scale + zero), info.min, info.max).astype(inp["dtype"])
        interpreter.set_tensor(inp["index"], image)
        interpreter.invoke()
        y = interpreter.get_tensor(out["index"])[0]
        if out["dtype"] != np.float32:
            scale, zero = out["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        rows.append(y)
    return np.stack(rows)


class CrashAt(keras.callbacks.Callback):
    """Simulates a process dying at the start of ``epoch`` (after the previous epoch's checkpoint)."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt("simulated crash")
