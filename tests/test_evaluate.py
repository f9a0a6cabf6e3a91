"""Evaluation: metrics, 10-crop TTA and ensembles against NumPy references, the confusion PNG, the CLI."""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import pytest
from PIL import Image

from kerascv_course.cli import main
from kerascv_course.data import load_dataset, make_pipeline
from kerascv_course.evaluation.classification import (
    classification_metrics,
    evaluate_classifier,
    predict_probabilities,
    top_k_accuracy,
)
from kerascv_course.evaluation.ensemble import average_probabilities
from kerascv_course.viz.confusion import plot_confusion_matrix

N = 40  # digits test images used


def _tiny_model(path: str, seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(6, 3, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.save(path)
    return model


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("eval-models")
    paths = [str(folder / f"m{i}.keras") for i in range(2)]
    return paths, [_tiny_model(p, seed) for p, seed in zip(paths, (1, 2))]


@pytest.fixture(scope="module")
def digits():
    ds, info = load_dataset("digits", "test")
    images = np.stack([x for x, _ in ds.take(N).as_numpy_iterator()]).astype(np.float64) / 255.0
    labels = np.array([y for _, y in ds.take(N).as_numpy_iterator()])
    return images, labels, info


def _numpy_ten_crop_probs(model, images, info):
    """AlexNet's 10 views by hand: corners and centre of 28 from 32, then their mirrors."""
    offsets = [(0, 0), (0, 4), (4, 0), (4, 4), (2, 2)]
    crops = [images[:, y : y + 28, x : x + 28] for y, x in offsets]
    crops += [c[:, :, ::-1] for c in crops]
    mean, std = info.mean[0], info.std[0]
    preds = [model.predict(((c - mean) / std).astype(np.float32), verbose=0) for c in crops]
    return np.mean(preds, axis=0)


def test_top_k_and_metrics_match_hand_computed_values():
    probs = np.array([[0.6, 0.3, 0.1], [0.2, 0.3, 0.5], [0.1, 0.7, 0.2], [0.5, 0.4, 0.1]])
    labels = np.array([0, 1, 1, 2])
    assert top_k_accuracy(probs, labels, 1) == 0.5
    assert top_k_accuracy(probs, labels, 2) == 0.75
    m = classification_metrics(probs, labels, class_names=["a", "b", "c"])
    assert m["confusion_matrix"] == [[1, 0, 0], [0, 1, 1], [1, 0, 0]]
    assert m["per_class_accuracy"] == {"a": 1.0, "b": 0.5, "c": 0.0}
    assert m["top1_error"] == 0.5 and m["top5_accuracy"] == 1.0
    expected_nll = -np.mean(np.log([0.6, 0.3, 0.7, 0.1]))
    assert m["loss"] == pytest.approx(expected_nll, rel=1e-12)


def test_ten_crop_matches_numpy_reference(models, digits):
    _, (model, _) = models
    images, labels, info = digits
    ds, _ = load_dataset("digits", "test")
    batches = make_pipeline(ds.take(N), info, training=False, batch_size=16, channels=1, normalize=False, cache=False)
    probs, y = predict_probabilities(model, batches, info, tta="10crop")
    expected = _numpy_ten_crop_probs(model, images, info)
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)


def test_ensemble_of_two_models_matches_numpy_average(models, digits):
    paths, built = models
    images, labels, info = digits
    report = evaluate_classifier(paths, dataset="digits", split="test", tta="10crop", max_examples=N, batch_size=16)
    expected = np.mean([_numpy_ten_crop_probs(m, images, info) for m in built], axis=0)
    reference = classification_metrics(expected, labels)
    assert report["num_examples"] == N
    assert report["top1_error"] == pytest.approx(reference["top1_error"])
    assert report["loss"] == pytest.approx(reference["loss"], rel=1e-4)
    assert report["confusion_matrix"] == reference["confusion_matrix"]
    assert report["views_per_image"] == 10 and len(report["members_top1_error"]) == 2
    np.testing.assert_allclose(average_probabilities([[[0.2, 0.8]], [[0.6, 0.4]]], weights=[3, 1]), [[0.3, 0.7]])
    with pytest.raises(ValueError, match="same shape"):
        average_probabilities([np.ones((2, 3)), np.ones((3, 3))])


def test_confusion_png_is_written(tmp_path):
    path = plot_confusion_matrix([[5, 1], [2, 7]], tmp_path / "cm.png", class_names=["cat", "dog"])
    with Image.open(path) as image:
        assert image.size[0] > 300 and image.size[1] > 300
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix([[1, 2, 3]], tmp_path / "bad.png")


def test_cli_evaluate_writes_json_and_png(models, tmp_path, capsys):
    paths, _ = models
    out = tmp_path / "eval.json"
    code = main(["evaluate", paths[0], "--dataset", "digits", "--tta", "center", "--max-examples", str(N),
                 "--ensemble", paths[1], "--output", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    direct = evaluate_classifier(paths, dataset="digits", tta="center", max_examples=N)
    assert report["top1_error"] == pytest.approx(direct["top1_error"])
    assert os.path.isfile(report["confusion_png"])
    assert "top-1 error" in capsys.readouterr().out
    assert main(["evaluate", paths[0], "--dataset", "digits", "--tta", "20crop"]) == 2
    assert "tta" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "missing.keras"), "--dataset", "digits"]) == 2
