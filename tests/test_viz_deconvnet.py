"""DeconvNet (Zeiler & Fergus 2013) against a projection computed by hand, and ``inspect --deconvnet``."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kerascv_course.cli import main
from kerascv_course.viz.deconvnet import deconvnet, plot_deconvnet


def _tiny(w1, b1, w2):
    """conv 3x3 (2 maps) -> ReLU -> max-pool 2 -> conv 2x2 (2 maps), known weights."""
    inp = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3, activation="relu", name="c1")(inp)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Conv2D(2, 2, use_bias=False, name="c2")(x)
    model = keras.Model(inp, x)
    model.get_layer("c1").set_weights([w1, b1])
    model.get_layer("c2").set_weights([w2])
    return model


def _by_hand(image, w1, b1, w2):
    """Forward with switches, then unpool -> ReLU on the signal -> transposed filters, in NumPy."""
    a1 = np.zeros((6, 6, 2))
    for i in range(6):
        for j in range(6):
            for c in range(2):
                a1[i, j, c] = np.sum(image[i:i + 3, j:j + 3, 0] * w1[:, :, 0, c]) + b1[c]
    r1 = np.maximum(a1, 0)
    pooled, switches = np.zeros((3, 3, 2)), {}
    for i in range(3):
        for j in range(3):
            for c in range(2):
                window = r1[2 * i:2 * i + 2, 2 * j:2 * j + 2, c]
                k = int(np.argmax(window))
                pooled[i, j, c] = window.flat[k]
                switches[i, j, c] = (2 * i + k // 2, 2 * j + k % 2)
    a2 = np.zeros((2, 2, 2))
    for i in range(2):
        for j in range(2):
            for c in range(2):
                a2[i, j, c] = np.sum(pooled[i:i + 2, j:j + 2, :] * w2[:, :, :, c])
    out = {}
    for c in range(2):
        i, j = np.unravel_index(np.argmax(a2[..., c]), (2, 2))
        signal = np.zeros((3, 3, 2))
        signal[i:i + 2, j:j + 2, :] += w2[:, :, :, c]          # transposed c2 filters
        unpooled = np.zeros((6, 6, 2))
        for (pi, pj, pc), (si, sj) in switches.items():       # max-unpooling through the switches
            unpooled[si, sj, pc] = signal[pi, pj, pc]
        rectified = np.maximum(unpooled, 0)                   # ReLU on the backward signal
        pixels = np.zeros((8, 8, 1))
        for si in range(6):
            for sj in range(6):
                for pc in range(2):
                    pixels[si:si + 3, sj:sj + 3, 0] += rectified[si, sj, pc] * w1[:, :, 0, pc]
        out[c] = ((int(i), int(j)), float(a2[i, j, c]), pixels)
    return out


def test_deconvnet_equals_the_projection_computed_by_hand():
    rng = np.random.default_rng(3)
    image = rng.normal(size=(8, 8, 1)).astype("float32")
    w1 = rng.normal(size=(3, 3, 1, 2)).astype("float32")
    b1 = np.array([0.3, -0.2], "float32")
    w2 = rng.normal(size=(2, 2, 2, 2)).astype("float32")
    model = _tiny(w1, b1, w2)
    expected = _by_hand(image.astype(np.float64), w1, b1, w2)
    projections = deconvnet(model, image, "c2", top=2)
    assert [p.channel for p in projections] == sorted(expected, key=lambda c: -expected[c][1])
    for p in projections:
        position, activation, pixels = expected[p.channel]
        assert p.position == position and np.isclose(p.activation, activation, rtol=1e-5)
        np.testing.assert_allclose(p.image, pixels, rtol=1e-4, atol=1e-5)
        assert p.plain_gradient == ()
    # The rule is the deconvnet's, not the gradient's (which masks by the forward ReLU instead).
    x = tf.constant(image[None])
    c, (i, j) = projections[0].channel, projections[0].position
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = model(x)[0, i, j, c]
    assert not np.allclose(np.asarray(tape.gradient(score, x))[0], projections[0].image, atol=1e-4)
    # The model is left as it was: its ReLU back-propagates as usual again.
    assert model.get_layer("c1").activation is keras.activations.relu


def test_deconvnet_refuses_unknown_and_flat_layers_and_names_layers_without_a_rule(tmp_path):
    inp = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, activation="tanh", name="t")(inp)
    x = keras.layers.ReLU(6.0, name="r6")(keras.layers.Conv2D(4, 3, name="c")(x))
    flat = keras.layers.Flatten(name="flat")(x)
    model = keras.Model(inp, keras.layers.Dense(2, name="d")(flat))
    image = np.random.default_rng(0).uniform(size=(8, 8, 3)).astype("float32")
    with pytest.raises(ValueError, match="did you mean r6"):
        deconvnet(model, image, "r7")
    with pytest.raises(ValueError, match="feature maps"):
        deconvnet(model, image, "flat")
    projections = deconvnet(model, image, "r6", top=2)
    assert projections[0].plain_gradient == ("t",) and projections[0].image.shape == (8, 8, 3)
    assert Image.open(plot_deconvnet(model, image, tmp_path / "d.png", layer="r6", top=2)).size[0] > 300


def test_inspect_deconvnet_writes_the_png(tmp_path):
    image = tmp_path / "digit.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (32, 32), dtype=np.uint8)).save(image)
    out = tmp_path / "out"
    assert main(["inspect", "lenet5", "--image", str(image), "--deconvnet", "c3", "--channels", "2,7",
                 "--output", str(out)]) == 0
    assert Image.open(out / "deconvnet.png").size[0] > 300
    assert main(["inspect", "lenet5", "--image", str(image), "--deconvnet", "nope", "--output", str(out)]) == 2
    assert main(["inspect", "lenet5", "--image", str(image), "--deconvnet", "c3", "--channels", "16",
                 "--output", str(out)]) == 2  # c3 has 16 maps: 0..15
