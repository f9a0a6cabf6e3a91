"""Per-layer gradient norms: the callback against tf.GradientTape, the plot and ``train --grad-norms``."""

from __future__ import annotations

import csv
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import CrashAt
from PIL import Image

from kerascv_course.cli import main
from kerascv_course.viz import GradientNorms, plot_grad_norms, read_grad_norms_csv


def _data(n=32, d=8, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype("float32"), rng.integers(0, k, n).astype("int32")


def _tape_norms(model, x, y):
    """Each Dense kernel's gradient norm of the mean cross-entropy, computed here by hand."""
    kernels = [layer.kernel for layer in model.layers if hasattr(layer, "kernel")]
    with tf.GradientTape() as tape:
        p = model(x, training=True)
        loss = -tf.reduce_mean(tf.math.log(tf.gather(p, y, batch_dims=1)))
    return [float(np.linalg.norm(np.asarray(g))) for g in tape.gradient(loss, kernels)]


def test_callback_norms_equal_gradient_tape_norms_on_the_same_batch_and_weights():
    keras.utils.set_random_seed(1)
    x, y = _data()
    model = keras.Sequential([keras.Input((8,))] + [keras.layers.Dense(16, activation="sigmoid")
                                                    for _ in range(4)] + [keras.layers.Dense(4, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    initial = [v.numpy() for v in model.trainable_variables]
    norms = GradientNorms(x[:16], y[:16], every=2)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[norms])
    steps = sorted({r["step"] for r in norms.records})
    assert steps == [0, 2, 4, 6, 8]
    final = [v.numpy() for v in model.trainable_variables]
    # Step 0: the initial weights.
    for v, value in zip(model.trainable_variables, initial):
        v.assign(value)
    expected0 = _tape_norms(model, x[:16], y[:16])
    got0 = [r["grad_norm"] for r in norms.records if r["step"] == 0]
    np.testing.assert_allclose(got0, expected0, rtol=1e-5)
    assert [r["depth"] for r in norms.records if r["step"] == 0] == [1, 2, 3, 4, 5]
    # The last record (step 8): the final weights.
    for v, value in zip(model.trainable_variables, final):
        v.assign(value)
    np.testing.assert_allclose([r["grad_norm"] for r in norms.records if r["step"] == 8],
                               _tape_norms(model, x[:16], y[:16]), rtol=1e-5)
    assert np.isclose(norms.records[-1]["weight_norm"], np.linalg.norm(final[-2]))
    # A deep sigmoid MLP: the gradient vanishes towards the input.
    assert got0[0] < got0[-1] / 4


def test_probe_uses_batch_statistics_and_leaves_the_moving_statistics_alone(tmp_path):
    x, y = _data(seed=2)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16), keras.layers.BatchNormalization(),
                              keras.layers.ReLU(), keras.layers.Dense(4, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    bn = model.layers[1]
    before = [bn.moving_mean.numpy().copy(), bn.moving_variance.numpy().copy()]
    norms = GradientNorms(x, y)
    norms.set_model(model)
    norms.on_train_begin()
    np.testing.assert_array_equal(bn.moving_mean.numpy(), before[0])
    np.testing.assert_array_equal(bn.moving_variance.numpy(), before[1])
    np.testing.assert_allclose([r["grad_norm"] for r in norms.records], _tape_norms(model, x, y), rtol=1e-5)
    path = norms.write_csv(str(tmp_path / "g.csv"))
    assert read_grad_norms_csv(path) == norms.records
    png = plot_grad_norms(norms.records, tmp_path / "g.png", title="t")
    assert Image.open(png).size[0] > 600


def test_train_grad_norms_writes_csv_and_png(tmp_path):
    out = str(tmp_path / "run")
    assert main(["train", "mlp", "--dataset", "digits", "--epochs", "2", "--steps-per-epoch", "2",
                 "--grad-norms", "--no-tensorboard", "--output", out, "--progress", "off"]) == 0
    with open(os.path.join(out, "grad_norms.csv")) as fh:
        rows = list(csv.DictReader(fh))
    assert sorted({int(r["step"]) for r in rows}) == [0, 2, 4]  # before training, after each epoch
    assert all(float(r["grad_norm"]) > 0 for r in rows)
    assert Image.open(os.path.join(out, "grad_norms.png")).size[1] > 300


@pytest.mark.slow
def test_a_resumed_run_records_the_same_gradient_norms_as_a_straight_one(tmp_path):
    from kerascv_course.training import Recipe, train

    recipe = Recipe(model="mlp", dataset="digits", epochs=2, batch_size=32, steps_per_epoch=2, eval_steps=1,
                    tensorboard=False, deterministic=True, grad_norms=True, model_kwargs={"hidden_units": [16, 16]})
    train(recipe.replace(output=str(tmp_path / "straight")), verbose=0)
    with pytest.raises(KeyboardInterrupt):
        train(recipe.replace(output=str(tmp_path / "run")), verbose=0, callbacks=[CrashAt(1)])
    train(recipe.replace(output=str(tmp_path / "run")), verbose=0)
    straight = read_grad_norms_csv(str(tmp_path / "straight" / "grad_norms.csv"))
    assert read_grad_norms_csv(str(tmp_path / "run" / "grad_norms.csv")) == straight
    assert [r["step"] for r in straight if r["depth"] == 1] == [0, 2, 4]
