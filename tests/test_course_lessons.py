"""The perceptron lesson: Rosenblatt's rule converges on separable data, not on XOR; back-propagation
solves XOR; the Keras perceptron's sign unit refuses to train with a clear message."""

from __future__ import annotations

import os
import runpy
import sys

import numpy as np
import pytest

from kerascv_course.lessons.perceptron import (
    MLP,
    Perceptron,
    digit_pair,
    perceptron_criterion,
    with_bias,
    xor_data,
)


def test_perceptron_reaches_zero_training_error_on_two_digit_classes():
    x, d = digit_pair(0, 1)
    model = Perceptron(epochs=100).fit(x, d)
    assert model.converged and model.mistakes[-1] == 0 and model.criteria[-1] == 0.0
    assert np.all(model.predict(x) == d)  # sign outputs in {-1, +1}, all equal to the labels
    assert set(np.unique(model.predict(x))) == {-1.0, 1.0}


def test_perceptron_cannot_learn_xor_but_backpropagation_can():
    x, d = xor_data()
    perceptron = Perceptron(epochs=200).fit(x, d)
    assert not perceptron.converged and len(perceptron.mistakes) == 200
    assert min(perceptron.mistakes) >= 1 and np.any(perceptron.predict(x) != d)
    t = (d > 0).astype(float)
    for seed in range(3):
        mlp = MLP(hidden=4, epochs=5000, seed=seed).fit(x, t)
        assert np.all(mlp.predict(x) == t) and mlp.losses[-1] < 0.01


def test_one_step_is_rosenblatts_update_on_the_criterions_gradient():
    # By hand: w = 0, first sample x=(1, 2) (with bias (1, 1, 2)), d=+1 is on the boundary -> w = 0.5*(1, 1, 2).
    model = Perceptron(learning_rate=0.5, epochs=1).fit(np.array([[1.0, 2.0]]), np.array([1.0]))
    np.testing.assert_allclose(model.weights, [0.5, 0.5, 1.0])
    # E(w) = sum max(-d <w, x>, 0): by hand for w = (0, 1, -1) on two samples.
    w = np.array([0.0, 1.0, -1.0])
    x, d = np.array([[1.0, 3.0], [2.0, 0.0]]), np.array([1.0, 1.0])
    assert perceptron_criterion(w, x, d) == pytest.approx(2.0)  # <w,x> = -2 (counted), 2 (not)
    assert perceptron_criterion(w, with_bias(x), d, biased=True) == pytest.approx(2.0)


def test_mlp_backpropagation_equals_finite_differences():
    x, d = xor_data()
    t = (d > 0).astype(float)
    mlp = MLP(hidden=3, seed=1)
    params = mlp.init(2)
    grads = MLP.gradients(params, x, t)
    eps = 1e-6
    for key, value in params.items():
        numeric = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[key][idx] += eps
            down[key][idx] -= eps
            numeric[idx] = (MLP.loss(up, x, t) - MLP.loss(down, x, t)) / (2 * eps)
        np.testing.assert_allclose(grads[key], numeric, rtol=1e-5, atol=1e-8)


def test_labels_must_be_plus_or_minus_one():
    with pytest.raises(ValueError, match=r"labels in \{-1, \+1\}"):
        Perceptron().fit(np.zeros((2, 2)), np.array([0, 1]))


def test_perceptron_xor_recipe_draws_the_three_boundaries(tmp_path, capsys):
    path = os.path.join(os.path.dirname(__file__), "..", "recipes", "perceptron_xor.py")
    out = tmp_path / "boundaries.png"
    old = sys.argv
    sys.argv = [path, "--smoke", "--output", str(out)]
    try:
        with pytest.raises(SystemExit) as exit_:
            runpy.run_path(path, run_name="__main__")
    finally:
        sys.argv = old
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "64 pixels: 0 mistakes" in text and "XOR: not converged" in text and "XOR: 0 errors of 4" in text
    from PIL import Image

    assert Image.open(out).size[0] > 1000  # three panels side by side


def test_threshold_perceptron_refuses_to_train_with_a_clear_message():
    import keras

    from kerascv_course import build_perceptron
    from kerascv_course.training import Recipe
    from kerascv_course.training.checks import check_recipe

    with pytest.raises(ValueError, match="has no gradient.*lessons.perceptron"):
        check_recipe(Recipe(model="perceptron", dataset="digits", model_kwargs={"threshold": True}))
    model = build_perceptron(threshold=True, input_shape=(4, 4, 1), classes=2)
    out = np.asarray(model(np.ones((2, 4, 4, 1), "float32")))  # inference works
    assert set(np.unique(out)) <= {-1.0, 1.0}
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="has no gradient"):
        model.fit(np.ones((4, 4, 4, 1), "float32"), np.ones((4, 2), "float32"), verbose=0)
    assert isinstance(model, keras.Model)
