"""The embedded procedural ``shapes`` dataset."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from kerascv_course.data import load_dataset, make_pipeline
from kerascv_course.data.datasets.procedural import SHAPE_NAMES, make_shapes


def test_shapes_are_deterministic_and_seeded():
    a, la = make_shapes(300, image_size=32, seed=7)
    b, lb = make_shapes(300, image_size=32, seed=7)
    c, _ = make_shapes(300, image_size=32, seed=8)
    t, _ = make_shapes(300, image_size=32, seed=7, split="test")
    assert a.shape == (300, 32, 32, 3) and a.dtype == np.uint8 and la.dtype == np.int64
    assert np.array_equal(a, b) and np.array_equal(la, lb)
    assert not np.array_equal(a, c) and not np.array_equal(a, t)
    assert set(np.unique(la)) == set(range(10))
    assert a.min() < 30 and a.max() > 225  # the full range is used


def test_loader_options_and_info():
    ds, info = load_dataset("shapes", "validation", image_size=48, num_classes=4, num_examples=64, seed=2)
    images = np.stack([x for x, _ in ds.as_numpy_iterator()])
    labels = np.array([y for _, y in ds.as_numpy_iterator()])
    assert images.shape == (64, 48, 48, 3) and info.image_shape == (48, 48, 3)
    assert info.class_names == list(SHAPE_NAMES[:4]) and info.num_classes == 4
    assert labels.max() < 4 and info.num_examples == 64
    train, _ = make_shapes(512, image_size=48, num_classes=4, seed=2)
    assert np.allclose(info.mean, (train / 255.0).mean(axis=(0, 1, 2)), atol=1e-6)
    assert np.allclose(info.std, (train / 255.0).std(axis=(0, 1, 2)), atol=1e-6)
    _, big = load_dataset("shapes", "test", image_size=128, num_examples=8)
    assert big.image_shape == (128, 128, 3)
    counts = {s: load_dataset("shapes", s, num_examples={"train": 10, "test": 5})[1].num_examples for s in ("train", "test")}
    assert counts == {"train": 10, "test": 5}


def test_bad_options():
    with pytest.raises(ValueError, match="num_classes"):
        load_dataset("shapes", "train", num_classes=11)
    with pytest.raises(ValueError, match="image_size"):
        load_dataset("shapes", "train", image_size=4)
    with pytest.raises(ValueError, match="num_examples"):
        load_dataset("shapes", "train", num_examples=0)
    with pytest.raises(ValueError, match="num_examples"):
        load_dataset("shapes", "train", num_examples={"holdout": 3})
    with pytest.raises(ValueError, match="split"):
        load_dataset("shapes", "extra")


@pytest.mark.slow
def test_a_small_cnn_learns_shapes():
    kwargs = dict(num_classes=4, image_size=24, seed=0)
    train, info = load_dataset("shapes", "train", num_examples=1500, **kwargs)
    test, _ = load_dataset("shapes", "test", num_examples=300, **kwargs)
    model = keras.Sequential([
        keras.Input((24, 24, 3)),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.GlobalMaxPooling2D(),
        keras.layers.Dense(4, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(make_pipeline(train, info, training=True, batch_size=32), epochs=8, verbose=0)
    _, accuracy = model.evaluate(make_pipeline(test, info, training=False, batch_size=300), verbose=0)
    assert accuracy > 0.75  # chance is 0.25
