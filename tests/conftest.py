"""Shared pytest set-up: quiet TensorFlow, seeded Keras, small helpers."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_HOME", os.path.join(os.path.dirname(__file__), "..", ".keras-test-home"))

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_and_clear():
    """Every test starts from the same seed and a fresh Keras name scope."""
    keras.utils.set_random_seed(1234)
    yield
    keras.backend.clear_session(free_memory=False)  # skips a slow gc.collect() per test
