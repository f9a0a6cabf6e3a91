"""Exports answer like the model: a trained digits model carries its preprocessing inside its
``.keras`` file (the model card), so every path — ``export_tflite(model, path)``, the CLI
``export`` with or without the run folder, ``predict``, ``evaluate`` — predicts what the Keras
model predicts on the training pipeline; where the input convention is truly unknown, it refuses.

The reference is independent of the exporters: the Keras model's own argmax on the test split as
the trainer's pipeline prepares it (``make_pipeline`` with the dataset's statistics)."""

from __future__ import annotations

import json
import os
import shutil
import zipfile

import keras
import numpy as np
import pytest
from PIL import Image

from kerascv_course.cli import main
from kerascv_course.data import load_dataset, make_pipeline
from kerascv_course.export import Preprocessing, TFLiteClassifier, export_tflite
from kerascv_course.training import Recipe, train
from kerascv_course.training.run_folder import load_keras_model
from kerascv_course.utils.model_card import CARD_NAME, read_card

N_FILES = 60  # test images written as PNG files for the command-line predict


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("agree")
    result = train(Recipe(model="lenet5", dataset="digits", batch_size=32, epochs=2, tensorboard=False,
                          output=str(root / "run")), verbose=0)
    ds, info = load_dataset("digits", "test")
    raw = np.stack([x for x, _ in ds.as_numpy_iterator()])  # stored uint8 images (N, 32, 32, 1)
    labels = np.array([int(y) for _, y in ds.as_numpy_iterator()])
    pipe = make_pipeline(ds, info, training=False, batch_size=512, image_size=32, channels=1)
    x = np.concatenate([b for b, _ in pipe.as_numpy_iterator()])
    reference = result.model.predict(x, verbose=0).argmax(-1)
    assert np.mean(reference == labels) > 0.8  # a model that has learnt something: decisive answers
    pngs = []
    for i in range(N_FILES):
        path = root / f"digit{i:03d}.png"
        Image.fromarray(raw[i, ..., 0]).save(path)
        pngs.append(str(path))
    return dict(root=root, result=result, raw=raw, labels=labels, reference=reference, pngs=pngs, info=info)


def _agreement(a, b) -> float:
    return float(np.mean(np.asarray(a) == np.asarray(b)))


def test_the_keras_file_carries_its_card_and_loads_in_safe_mode(digits_run):
    run = digits_run["result"].output
    card = read_card(os.path.join(run, "model.keras"))
    info = digits_run["info"]
    assert card["class_names"] == list(info.class_names)
    assert card["input"]["mean"] == pytest.approx(list(info.mean)) and card["input"]["std"] == pytest.approx(list(info.std))
    assert card["input"]["image_size"] == [32, 32] and card["input"]["resize_mode"] == "resize"
    assert CARD_NAME in zipfile.ZipFile(os.path.join(run, "best.keras")).namelist()
    # plain Keras, safe mode, ignores the card and loads the same model
    plain = keras.saving.load_model(os.path.join(run, "model.keras"), safe_mode=True, compile=False)
    assert len(plain.weights) == len(digits_run["result"].model.weights)


def test_api_export_of_the_trained_and_the_loaded_model_agree(digits_run, tmp_path):
    raw, reference = digits_run["raw"], digits_run["reference"]
    trained = export_tflite(digits_run["result"].model, tmp_path / "trained.tflite")
    loaded = export_tflite(load_keras_model(os.path.join(digits_run["result"].output, "model.keras")),
                           tmp_path / "loaded.tflite")
    for exported in (trained, loaded):
        clf = TFLiteClassifier(exported.path)
        assert clf.class_names == list(digits_run["info"].class_names)
        answers = clf.predict_proba(raw).argmax(-1)
        assert _agreement(answers, reference) >= 0.98, exported.path


def _cli_predictions(pngs, model, capsys):
    capsys.readouterr()
    assert main(["predict", str(model), *pngs, "-k", "1", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["image"] for line in lines] == pngs
    return np.array([line["top"][0]["index"] for line in lines])


def test_cli_export_with_and_without_the_run_folder_agree(digits_run, tmp_path, capsys):
    run = digits_run["result"].output
    lone = tmp_path / "lone" / "digits.keras"  # the model file alone: no recipe.json beside it
    lone.parent.mkdir()
    shutil.copy(os.path.join(run, "model.keras"), lone)
    reference = digits_run["reference"][:N_FILES]
    for source, out in ((run, tmp_path / "a.tflite"), (str(lone), tmp_path / "b.tflite")):
        assert main(["export", str(source), "-o", str(out), "--eval-samples", "50", "--latency-runs", "0"]) == 0
        report = json.load(open(tmp_path / "export_report.json"))
        assert report["dataset"] == "digits" and report["exports"][0]["agreement"] >= 0.98
        assert _agreement(_cli_predictions(digits_run["pngs"], out, capsys), reference) >= 0.98


def test_evaluate_without_the_run_folder_scores_the_model(digits_run, tmp_path, capsys):
    lone = tmp_path / "digits.keras"
    shutil.copy(os.path.join(digits_run["result"].output, "model.keras"), lone)
    assert main(["evaluate", str(lone), "--max-examples", "200", "--output", str(tmp_path / "e.json")]) == 0
    report = json.load(open(tmp_path / "e.json"))
    expected = _agreement(digits_run["reference"][:200], digits_run["labels"][:200])
    assert report["dataset"] == "digits" and report["accuracy"] == pytest.approx(expected, abs=1e-9)


def test_a_model_without_a_card_or_recipe_is_refused_until_told(digits_run, tmp_path, capsys):
    bare = tmp_path / "bare.keras"
    digits_run["result"].model.save(bare)  # plain Keras: no card
    assert read_card(bare) is None
    assert main(["export", str(bare), "-o", str(tmp_path / "x.tflite")]) == 2
    err = capsys.readouterr().err
    assert "input normalisation" in err and "--dataset NAME" in err and not os.path.exists(tmp_path / "x.tflite")
    assert main(["export", str(bare), "-o", str(tmp_path / "x.tflite"), "--dataset", "digits",
                 "--eval-samples", "50", "--latency-runs", "0"]) == 0
    assert json.load(open(tmp_path / "export_report.json"))["exports"][0]["agreement"] >= 0.98


def test_api_export_of_a_model_loaded_by_plain_keras_says_its_input_is_unknown(digits_run, tmp_path, caplog):
    import logging

    plain = keras.saving.load_model(os.path.join(digits_run["result"].output, "model.keras"), safe_mode=True)
    with caplog.at_level(logging.WARNING):
        export_tflite(plain, tmp_path / "plain.tflite")
    warned = [r.getMessage() for r in caplog.records if "has no model card" in r.getMessage()]
    assert len(warned) == 1 and "load_keras_model" in warned[0] and "preprocessing=Preprocessing" in warned[0]
    clf = TFLiteClassifier(tmp_path / "plain.tflite")
    assert clf.metadata["input"] == {"pixels": "model"}
    # Images cannot be prepared for it, so it refuses them rather than answer wrongly.
    image = np.zeros((32, 32, 1), np.uint8)
    with pytest.raises(ValueError, match="exported without its input preparation.*load_keras_model"):
        clf.predict(image)
    # A model that takes raw pixels says so, and is then served.
    export_tflite(plain, tmp_path / "raw.tflite", preprocessing=Preprocessing(scale=1.0))
    assert len(TFLiteClassifier(tmp_path / "raw.tflite").predict(image, top_k=1)) == 1
