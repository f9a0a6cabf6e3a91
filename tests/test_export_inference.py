"""On-device inference: TFLiteClassifier (LiteRT only) and ``kerascv-course predict``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

from kerascv_course.cli import main
from kerascv_course.export import Preprocessing, TFLiteClassifier, export_tflite

NAMES = ["circle", "square", "triangle", "star", "cross"]
PRE = Preprocessing(mean=(0.5, 0.45, 0.4), std=(0.25, 0.2, 0.3))


def _model(channels: int = 3) -> keras.Model:
    keras.utils.set_random_seed(7)
    inputs = keras.Input((16, 16, channels))
    x = keras.layers.Conv2D(8, 3, activation="relu")(inputs)
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(5, activation="softmax")(x))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clf")
    model = _model()
    raw = np.random.default_rng(0).integers(0, 256, (64, 16, 16, 3)).astype(np.float32)
    float_path = str(folder / "model_float32.tflite")
    int8_path = str(folder / "model_int8.tflite")
    export_tflite(model, float_path, preprocessing=PRE, class_names=NAMES)
    export_tflite(
        model, int8_path, "int8", raw, input_type="uint8", output_type="uint8",
        preprocessing=PRE, class_names=NAMES, calibration_samples=64,
    )
    grey = _model(1)
    grey_path = str(folder / "grey.tflite")
    export_tflite(grey, grey_path, preprocessing=Preprocessing(mean=(0.5,), std=(0.25,)))
    return {"float32": float_path, "int8": int8_path, "grey": grey_path, "model": model, "folder": folder}


def _images(n: int = 5, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 16, 16, 3)).astype(np.uint8)


def _raw_interpreter(path: str, images: np.ndarray) -> np.ndarray:
    """Reference: LiteRT by hand, one image at a time, (de)quantized with the tensor parameters."""
    it = Interpreter(model_path=path)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    rows = []
    for image in images.astype(np.float32):
        x = image[None]
        if inp["dtype"] == np.uint8:
            scale, zero = inp["quantization"]
            x = np.clip(np.round(x / scale + zero), 0, 255).astype(np.uint8)
        it.set_tensor(inp["index"], x)
        it.invoke()
        y = it.get_tensor(out["index"])[0]
        if out["dtype"] == np.uint8:
            scale, zero = out["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        rows.append(y)
    return np.stack(rows)


@pytest.mark.parametrize("mode", ["float32", "int8"])
def test_classifier_equals_the_interpreter_after_dequantization(files, mode):
    images = _images(6)
    clf = TFLiteClassifier(files[mode])
    expected = _raw_interpreter(files[mode], images)
    np.testing.assert_allclose(clf.predict_proba(images), expected, rtol=0, atol=1e-6)
    if mode == "int8":
        assert clf.input_dtype == np.uint8 and clf.output_dtype == np.uint8
        # the quantized output takes values on the 1/256 grid only
        np.testing.assert_allclose(expected * 256, np.round(expected * 256), atol=1e-3)
    else:  # and the float model equals Keras on the normalised images
        keras_probs = files["model"].predict(((images / 255.0 - PRE.mean) / PRE.std).astype(np.float32), verbose=0)
        np.testing.assert_allclose(expected, keras_probs, atol=1e-5)


def test_predict_returns_sorted_top_k_with_labels(files):
    clf = TFLiteClassifier(files["float32"])
    image = _images(1)[0]
    probs = clf.predict_proba(image)[0]
    top = clf.predict(image, top_k=3)
    assert [p.index for p in top] == list(np.argsort(-probs)[:3])
    assert [p.label for p in top] == [NAMES[i] for i in np.argsort(-probs)[:3]]
    np.testing.assert_allclose([p.probability for p in top], np.sort(probs)[::-1][:3], rtol=1e-6)
    assert len(clf.predict(image, top_k=50)) == 5
    batch = clf.predict(_images(4), top_k=2)
    assert len(batch) == 4 and all(len(row) == 2 for row in batch)
    with pytest.raises(ValueError, match="Received: top_k=0"):
        clf.predict(image, top_k=0)


def test_every_input_kind_gives_the_same_answer(files, tmp_path):
    clf = TFLiteClassifier(files["int8"])
    image = _images(1, seed=5)[0]
    png = tmp_path / "x.png"
    Image.fromarray(image).save(png)
    expected = clf.predict_proba(image)
    for variant in (str(png), png, Image.open(png), image.astype(np.float32), [image], image[None]):
        np.testing.assert_array_equal(clf.predict_proba(variant), expected)
    np.testing.assert_array_equal(clf.predict_proba([str(png), image])[1], expected[0])
    # RGBA files are converted to the model's RGB
    Image.fromarray(image).convert("RGBA").save(tmp_path / "a.png")
    np.testing.assert_array_equal(clf.predict_proba(str(tmp_path / "a.png")), expected)
    # another size is resized bilinearly, as PIL does it
    big = Image.fromarray(image).resize((40, 40))
    np.testing.assert_array_equal(
        clf.predict_proba(big), clf.predict_proba(np.asarray(big.resize((16, 16), Image.Resampling.BILINEAR)))
    )


def test_grey_model_takes_grey_images_and_converts_colour_files(files, tmp_path):
    clf = TFLiteClassifier(files["grey"])
    assert clf.input_shape == (16, 16, 1)
    rgb = _images(1, seed=9)[0]
    Image.fromarray(rgb).save(tmp_path / "c.png")
    grey = np.asarray(Image.fromarray(rgb).convert("L"))
    np.testing.assert_array_equal(clf.predict_proba(str(tmp_path / "c.png")), clf.predict_proba(grey))
    np.testing.assert_array_equal(clf.predict_proba(grey), clf.predict_proba(grey[..., None]))
    assert sorted(p.label for p in clf.predict(grey, top_k=5)) == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize("shape", [(16, 16, 4), (16, 16, 1), (16, 16, 2), (16, 16)])
def test_image_with_the_wrong_channel_count(files, shape):
    clf = TFLiteClassifier(files["float32"])
    with pytest.raises(ValueError, match=r"takes 3-channel images but the image has \d channel"):
        clf.predict(np.zeros(shape, np.uint8))


def test_not_an_image(files, tmp_path):
    clf = TFLiteClassifier(files["float32"])
    with pytest.raises(TypeError, match="file path, a PIL image, or a numeric NumPy array"):
        clf.predict(np.array(["a"]))
    (tmp_path / "t.png").write_text("not a png")
    with pytest.raises(ValueError, match="not an image file"):
        clf.predict(str(tmp_path / "t.png"))
    with pytest.raises(FileNotFoundError, match="No image file"):
        clf.predict(str(tmp_path / "missing.png"))


def test_labels_file_and_explicit_labels(files, tmp_path):
    path = tmp_path / "plain.tflite"
    export_tflite(_model(), str(path))  # no class names in the metadata
    (tmp_path / "labels.txt").write_text("a\nb\nc\nd\ne\n")
    assert TFLiteClassifier(path).class_names == list("abcde")
    (tmp_path / "plain.labels.txt").write_text("v\nw\nx\ny\nz\n")
    assert TFLiteClassifier(path).class_names == list("vwxyz")
    assert TFLiteClassifier(path, labels=list("ABCDE")).class_names == list("ABCDE")
    with pytest.raises(ValueError, match="5 classes but 2 labels"):
        TFLiteClassifier(path, labels=["a", "b"])


def _corrupt_files(tmp_path, good: str) -> list:
    content = open(good, "rb").read()
    random_bytes = tmp_path / "random.tflite"
    random_bytes.write_bytes(np.random.default_rng(0).integers(0, 256, 4096).astype(np.uint8).tobytes())
    png = tmp_path / "image.tflite"
    Image.fromarray(_images(1)[0]).save(png, format="PNG")
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(content[: len(content) // 3])
    empty = tmp_path / "empty.tflite"
    empty.write_bytes(b"")
    return [random_bytes, png, truncated, empty]


def test_corrupt_or_non_tflite_files(files, tmp_path):
    for bad in _corrupt_files(tmp_path, files["float32"]):
        with pytest.raises(ValueError, match="TFLite|LiteRT"):
            TFLiteClassifier(bad)
    with pytest.raises(FileNotFoundError, match="No TFLite model file"):
        TFLiteClassifier(tmp_path / "missing.tflite")


def test_predict_cli(files, tmp_path, capsys):
    image = _images(1, seed=3)[0]
    Image.fromarray(image).save(tmp_path / "x.png")
    assert main(["predict", files["int8"], str(tmp_path / "x.png"), "--top-k", "2", "--json"]) == 0
    line = json.loads(capsys.readouterr().out.strip())
    top = TFLiteClassifier(files["int8"]).predict(image, top_k=2)
    assert [t["label"] for t in line["top"]] == [p.label for p in top]
    assert main(["predict", files["int8"], str(tmp_path / "x.png"), "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith("x.png") and len(out.splitlines()) == 4 and top[0].label in out
    for bad in _corrupt_files(tmp_path, files["float32"]):
        assert main(["predict", str(bad), str(tmp_path / "x.png")]) == 2
        assert "error:" in capsys.readouterr().err


def test_inference_runs_without_tensorflow(files, tmp_path):
    """A device has LiteRT, NumPy and Pillow, no TensorFlow: block it and run the classifier + CLI."""
    image = _images(1, seed=4)[0]
    Image.fromarray(image).save(tmp_path / "x.png")
    script = f"""
import json, sys
for name in ("tensorflow", "keras", "tf_keras", "jax", "torch"):
    sys.modules[name] = None  # any import of them now raises ImportError
from kerascv_course.export import TFLiteClassifier
clf = TFLiteClassifier({files['int8']!r})
probs = clf.predict_proba({str(tmp_path / 'x.png')!r})
from kerascv_course.cli import main
status = main(["predict", {files['int8']!r}, {str(tmp_path / 'x.png')!r}, "--json"])
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras") and sys.modules[m] is not None)
print(json.dumps({{"probs": probs.tolist(), "status": status, "loaded": loaded}}))
"""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 0 and result["loaded"] == []
    expected = TFLiteClassifier(files["int8"]).predict_proba(str(tmp_path / "x.png"))
    np.testing.assert_array_equal(np.asarray(result["probs"], np.float32), expected)
