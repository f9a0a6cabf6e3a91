"""Test-time crops against NumPy slicing."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from kerascv_course.evaluation.crops import (
    average_predictions,
    center_crop,
    five_crop,
    multi_scale_crops,
    resize_shorter,
    ten_crop,
)

IMAGE = np.arange(7 * 9 * 2, dtype=np.float32).reshape(7, 9, 2) / 100.0


def test_ten_crop_is_alexnets_ten_views():
    crops = ten_crop(IMAGE, (4, 5)).numpy()
    expected = [IMAGE[:4, :5], IMAGE[:4, 4:], IMAGE[3:, :5], IMAGE[3:, 4:], IMAGE[1:5, 2:7]]
    expected += [e[:, ::-1] for e in expected]
    assert crops.shape == (10, 4, 5, 2)
    for got, want in zip(crops, expected):
        assert np.array_equal(got, want)


def test_center_and_five_crop_and_batches():
    assert np.array_equal(center_crop(IMAGE, 3).numpy(), IMAGE[None, 2:5, 3:6])
    five = five_crop(IMAGE, 3).numpy()
    assert np.array_equal(five[1], IMAGE[:3, 6:]) and np.array_equal(five[4], IMAGE[2:5, 3:6])
    batch = np.stack([IMAGE, IMAGE + 1])
    both = ten_crop(batch, 3).numpy()
    assert both.shape == (2, 10, 3, 3, 2)
    assert np.array_equal(both[1], ten_crop(IMAGE + 1, 3).numpy())


def test_multi_scale_crops():
    image = tf.random.stateless_uniform([12, 16, 3], [1, 2])
    crops = multi_scale_crops(image, 8, scales=(12, 16))
    assert crops.shape == (20, 8, 8, 3)
    # at scale 12 (the shorter side already) the first five are the five crops of the image itself
    assert np.allclose(crops[:5], five_crop(image, 8), atol=1e-6)
    bigger = resize_shorter(image, 16)
    assert bigger.shape == (16, 21, 3)
    assert np.allclose(crops[5:10], five_crop(bigger, 8), atol=1e-6)
    assert np.allclose(crops[10:], crops[:10, :, ::-1], atol=1e-6)  # then the mirror images
    assert multi_scale_crops(image, 8, scales=(12,), flip=False).shape == (5, 8, 8, 3)


def test_average_predictions():
    crops = ten_crop(IMAGE, 4)

    def model(x):  # mean value per channel as "class scores"
        return tf.reduce_mean(x, axis=[1, 2])

    expected = np.mean([c.mean(axis=(0, 1)) for c in crops.numpy()], axis=0)
    assert np.allclose(average_predictions(model, crops), expected, atol=1e-6)
    batch = ten_crop(np.stack([IMAGE, IMAGE * 2]), 4)
    out = average_predictions(model, batch, preprocess=lambda x: x * 10)
    assert out.shape == (2, 2) and np.allclose(out[1], expected * 20, atol=1e-4)


def test_crop_errors():
    with pytest.raises(ValueError, match="larger than the image"):
        ten_crop(IMAGE, 8)
    with pytest.raises(ValueError, match="crop size"):
        multi_scale_crops(IMAGE, 6, scales=(4, 8))
    with pytest.raises(ValueError, match="size"):
        center_crop(IMAGE, 0)
