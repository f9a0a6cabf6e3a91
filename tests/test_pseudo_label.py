"""Self-training with pseudo-labels on STL-10's unlabelled split (through tfds' mock data)."""

from __future__ import annotations

import os
import re

import keras
import numpy as np
import pytest

from kerascv_course import get_model
from kerascv_course.data import load_dataset, make_pipeline
from kerascv_course.training import Recipe, train
from kerascv_course.training.checks import check_recipe
from kerascv_course.training.pseudo import pseudo_labelled


@pytest.fixture()
def teacher(tmp_path):
    model = get_model("lenet5", input_shape=(32, 32, 3), classes=10)
    path = os.path.join(tmp_path, "teacher.keras")
    model.save(path)
    return model, path


def _recipe(tmp_path, **changes):
    base = dict(
        model="lenet5", dataset="stl10", image_size=32, epochs=1, batch_size=8,
        output=os.path.join(tmp_path, "run"), tensorboard=False, validation_split=None,
    )
    return Recipe(**{**base, **changes})


@pytest.mark.parametrize(
    "options, message",
    [
        ({}, None),  # off: nothing to check
        ({"threshold": 0.9}, "needs a `teacher`"),
        ({"teacher": "missing-run"}, "No run folder or model file at"),
        ({"teacher": "TEACHER", "threshold": 1.0}, "in [0, 1)"),
        ({"teacher": "TEACHER", "threshold": "high"}, "in [0, 1)"),
        ({"teacher": "TEACHER", "max_examples": 0}, "positive integer"),
        ({"teacher": "TEACHER", "confidence": 0.9}, "Unknown pseudo_label option(s) confidence"),
    ],
)
def test_bad_options_fail_before_any_work(tmp_path, teacher, options, message):
    options = {k: (teacher[1] if v == "TEACHER" else v) for k, v in options.items()}
    recipe = _recipe(tmp_path, pseudo_label=options)
    if message is None:
        check_recipe(recipe)
        return
    with pytest.raises((ValueError, FileNotFoundError), match=re.escape(message)):
        check_recipe(recipe)


def test_pseudo_labelling_is_for_classification_only(tmp_path, teacher):
    recipe = Recipe(model="unet", dataset="cracks", pseudo_label={"teacher": teacher[1]})
    with pytest.raises(ValueError, match="classification only"):
        check_recipe(recipe)


def test_teacher_labels_the_confident_unlabelled_images(tmp_path, teacher):
    import tensorflow_datasets as tfds

    model, path = teacher
    with tfds.testing.mock_data(num_examples=20):
        _, info = load_dataset("stl10", "train", image_size=32)
        unlabelled, _ = load_dataset("stl10", "unlabelled", image_size=32)
        images = np.stack([x for x, _ in unlabelled.as_numpy_iterator()])
        batches = make_pipeline(unlabelled, info, training=False, batch_size=64, image_size=32)
        probs = np.concatenate([np.asarray(model(x)) for x, _ in batches])
        threshold = float(np.median(probs.max(axis=1)))
        recipe = _recipe(tmp_path, pseudo_label={"teacher": path, "threshold": threshold})
        ds, summary = pseudo_labelled(recipe, info, np.int64, {"image_size": 32})
        pairs = list(ds.as_numpy_iterator())
    keep = probs.max(axis=1) >= threshold
    assert 0 < keep.sum() < len(keep)
    assert summary["unlabelled_examples"] == len(images) == 20
    assert summary["pseudo_labelled_examples"] == keep.sum() == len(pairs)
    assert int(ds.cardinality()) == keep.sum()
    np.testing.assert_array_equal(np.stack([x for x, _ in pairs]), images[keep])
    np.testing.assert_array_equal([y for _, y in pairs], probs.argmax(axis=1)[keep])
    assert sum(summary["pseudo_label_class_counts"]) == keep.sum()


def test_a_run_trains_on_labelled_plus_pseudo_labelled_images(tmp_path, teacher):
    import tensorflow_datasets as tfds

    _, path = teacher
    with tfds.testing.mock_data(num_examples=20):
        labelled = sum(1 for _ in load_dataset("stl10", "train", image_size=32)[0])
        recipe = _recipe(tmp_path, pseudo_label={"teacher": path, "threshold": 0.0, "max_examples": 12})
        result = train(recipe, verbose=0)
    assert result.metrics["unlabelled_examples"] == 12
    assert result.metrics["pseudo_labelled_examples"] == 12  # threshold 0 keeps every image
    assert result.metrics["steps_per_epoch"] == -(-(labelled + 12) // 8)
    saved = Recipe.from_json(os.path.join(result.output, "recipe.json"))
    assert saved.pseudo_label == recipe.pseudo_label


def test_teacher_with_other_classes_is_refused(tmp_path):
    import tensorflow_datasets as tfds

    other = get_model("lenet5", input_shape=(32, 32, 3), classes=4)
    path = os.path.join(tmp_path, "four.keras")
    other.save(path)
    with tfds.testing.mock_data(num_examples=4):
        _, info = load_dataset("stl10", "train", image_size=32)
        with pytest.raises(ValueError, match="has 10 classes"):
            pseudo_labelled(_recipe(tmp_path, pseudo_label={"teacher": path}), info, np.int64, {"image_size": 32})
    keras.backend.clear_session()
