"""Every architecture added with issue 19 exports to TFLite with the Keras model's outputs, trains a
step, and saves and reloads in safe mode.

One model per family and block kind — the deeper variants (ResNeXt-101, SE-ResNet-34/101/152,
SE-ResNeXt-101, SENet-154, Inception-ResNet-v1) stack the same blocks, Inception-v4's modules are
the plain convolutions and concatenations BN-Inception exports, and every registered model's
safe-mode ``.keras`` round trip is in tests/test_models.py. One build per model at its smallest test
input and 10 classes (FractalNet with narrow blocks): a
float32 TFLite file run by the interpreter, a training step run eagerly (one step does not repay
tracing a 100M-parameter graph), a ``.keras`` round trip with ``safe_mode=True``.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import tflite_predict

from kerascv_course.export import export_tflite
from kerascv_course.models import get_spec

NEW_MODELS = [
    "bn_inception", "inception_resnet_v2", "resnext50_32x4d",
    "se_resnet18", "se_resnet50", "se_resnext50_32x4d", "fractalnet",
]
# Drop-path off here: a global drop-path batch trains one column only (tests/test_zoo_fractalnet.py
# trains with it through the trainer).
OPTIONS = {"fractalnet": {"filters": (8, 16, 16, 32, 32), "local_drop_path": 0.0,
                          "global_drop_path": 0.0}}


@pytest.mark.slow
@pytest.mark.parametrize("name", NEW_MODELS)
def test_exports_to_tflite_trains_and_reloads_in_safe_mode(name, tmp_path):
    spec = get_spec(name)
    shape = spec.small_input_shape
    model = spec.builder(input_shape=shape, classes=10, **OPTIONS.get(name, {}))
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(4, *shape)).astype("float32")
    y = np.array([0, 3, 5, 9])

    # Exported as built (one SGD step on 4 images leaves a deep network's batch-norm statistics
    # far from its activations, and its inference outputs saturated).
    tflite = str(tmp_path / f"{name}.tflite")
    export_tflite(model, tflite, "float32")
    np.testing.assert_allclose(tflite_predict(tflite, x), np.asarray(model(x, training=False)),
                               rtol=1e-4, atol=1e-5)

    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy",
                  run_eagerly=True)
    before = [np.asarray(w) for w in model.trainable_weights]
    loss = float(model.train_on_batch(x, y))
    assert np.isfinite(loss)
    changed = sum(not np.array_equal(b, np.asarray(w))
                  for b, w in zip(before, model.trainable_weights))
    assert changed > 0.9 * len(before)
    expected = np.asarray(model(x, training=False))
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(np.asarray(loaded(x, training=False)), expected)
