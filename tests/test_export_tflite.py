"""TFLite export: every quantization mode for MobileNet and one model per family, int8 details,
folded preprocessing, atomic writes, bad input, ONNX."""

from __future__ import annotations

import builtins
import importlib.util
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from conftest import tflite_predict

from kerascv_course.data.datasets.base import DatasetInfo
from kerascv_course.data.pipeline import normalize
from kerascv_course.export import (
    Preprocessing,
    TFLiteClassifier,
    export_tflite,
    list_ops,
    read_metadata,
    with_preprocessing,
)
from kerascv_course.models import get_spec, list_models
from kerascv_course.models.layers import LocalResponseNormalization

MODES = ("float32", "float16", "dynamic", "int8")
# Output tolerance (probabilities) of each mode against the Keras model on the same input.
TOLERANCE = {"float32": 1e-5, "float16": 2e-3, "dynamic": 5e-3, "int8": 2e-2}

# One model per family, as data: (registered name, builder options, registry tap to cut at).
# Families whose smallest model has large weights are cut at their declared stride-8 (VGG: 4)
# feature tap and given a 10-class head: every operator kind of the family is still exported,
# and each conversion takes a second or two instead of ten.
FAMILY_MODELS = {
    "perceptron": ("mlp", {}, None),
    "lenet": ("lenet5", {}, None),
    "alexnet": ("alexnet", {}, 16),
    "course": ("tf_cifar10_tutorial", {}, None),
    "blitz": ("blitz", {}, None),
    "vgg": ("vgg11", {}, 4),
    "inception": ("googlenet", {}, 8),
    "resnet": ("resnet18", {}, 8),
    "resnet_cifar": ("resnet20", {}, None),
    "densenet": ("densenet121", {"growth_rate": 8, "blocks": (2, 2, 2, 2)}, None),
    "mobilenet_v2": ("mobilenet_v2", {"alpha": 0.35}, None),
    "xception": ("xception", {}, 8),
    "squeezenet": ("squeezenet1_1", {}, None),
    "resnext": ("resnext50_32x4d", {}, 8),
    "senet": ("se_resnet50", {}, 8),
    "fractalnet": ("fractalnet", {"filters": (8, 8, 16, 16, 16)}, None),
    "unet": ("unet", {"depth": 2, "base_filters": 8}, None),
}


def _build(name: str, options: dict, tap: int | None) -> keras.Model:
    spec = get_spec(name)
    shape = spec.small_input_shape
    if spec.task == "segmentation":
        return spec.builder(input_shape=(32, 32, shape[-1]), classes=3, **options)
    model = spec.builder(input_shape=shape, classes=10, **options)
    if tap is None:
        return model
    features = model.get_layer(spec.feature_taps[tap]).output
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    return keras.Model(model.input, keras.layers.Dense(10, activation="softmax")(pooled), name=f"{name}_s{tap}")


def _call(model: keras.Model, x) -> np.ndarray:
    return np.asarray(model(np.asarray(x, np.float32), training=False))


def _has_lrn(model: keras.Model) -> bool:
    return any(isinstance(layer, LocalResponseNormalization) for layer in model._flatten_layers())


def test_every_family_has_a_test_model():
    families = {get_spec(n).family for n in list_models()}
    assert families - {"mobilenet"} <= set(FAMILY_MODELS), sorted(families - set(FAMILY_MODELS))


@pytest.fixture(scope="module")
def mobilenet():
    return get_spec("mobilenet").builder(input_shape=(32, 32, 3), classes=10, alpha=0.25)


@pytest.fixture(scope="module")
def family_models():
    return {family: _build(*entry) for family, entry in FAMILY_MODELS.items()}


def _check_modes(model: keras.Model, folder, expect_int8_error: bool) -> None:
    x = np.random.default_rng(0).uniform(-1, 1, (8, *model.input_shape[1:])).astype(np.float32)
    expected = model.predict(x[:4], verbose=0)
    for mode in MODES:
        path = str(folder / f"{model.name}_{mode}.tflite")
        kwargs = dict(representative_data=x, calibration_samples=8) if mode == "int8" else {}
        if mode == "int8" and expect_int8_error:
            with pytest.raises(ValueError, match="LOCAL_RESPONSE_NORMALIZATION"):
                export_tflite(model, path, mode, **kwargs)
            assert not os.path.exists(path)
            kwargs["allow_float_fallback"] = True
        result = export_tflite(model, path, mode, **kwargs)
        got = tflite_predict(path, x[:4])
        assert got.shape == expected.shape
        assert np.all(np.isfinite(got))
        diff = float(np.max(np.abs(got - expected)))
        assert diff < TOLERANCE[mode], (model.name, mode, diff)
        assert result.size_bytes == os.path.getsize(path)
        names = {op.name for op in list_ops(open(path, "rb").read())}
        if mode == "int8" and not expect_int8_error:
            assert all(not op.is_float for op in list_ops(open(path, "rb").read()) if op.name not in ("QUANTIZE", "DEQUANTIZE"))
        if mode == "float16":
            assert "DEQUANTIZE" in names  # float16 weights dequantized at load


def test_mobilenet_every_mode(mobilenet, tmp_path):
    _check_modes(mobilenet, tmp_path, expect_int8_error=False)
    sizes = {m: os.path.getsize(tmp_path / f"{mobilenet.name}_{m}.tflite") for m in MODES}
    assert sizes["float16"] < 0.6 * sizes["float32"]
    assert sizes["int8"] < 0.4 * sizes["float32"]


@pytest.mark.parametrize("family", sorted(FAMILY_MODELS))
def test_family_every_mode(family, family_models, tmp_path):
    model = family_models[family]
    _check_modes(model, tmp_path, expect_int8_error=_has_lrn(model))


@pytest.mark.parametrize(
    "input_type,output_type", [("int8", "int8"), ("uint8", "uint8"), ("uint8", "float32"), ("float32", "int8")]
)
def test_int8_io_dtypes(mobilenet, tmp_path, input_type, output_type):
    raw = np.random.default_rng(1).integers(0, 256, (16, 32, 32, 3)).astype(np.float32)
    pre = Preprocessing(mean=(0.5, 0.45, 0.4), std=(0.25, 0.25, 0.3))
    path = str(tmp_path / "m.tflite")
    result = export_tflite(
        mobilenet, path, "int8", raw, input_type=input_type, output_type=output_type,
        preprocessing=pre, calibration_samples=16,
    )
    it = Interpreter(model_path=path)
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    assert np.dtype(inp["dtype"]).name == input_type == result.input_type
    assert np.dtype(out["dtype"]).name == output_type == result.output_type
    if input_type == "uint8":  # raw pixels 0..255 map onto uint8 one to one
        scale, zero = inp["quantization"]
        assert abs(scale - 1.0) < 0.01 and zero == 0
    if input_type == "int8":
        scale, zero = inp["quantization"]
        assert abs(scale - 1.0) < 0.01 and zero == -128


def _scale_counts(path: str) -> list[int]:
    """Number of quantization scales of each quantized tensor."""
    it = Interpreter(model_path=path)
    return [int(d["quantization_parameters"]["scales"].size) for d in it.get_tensor_details()
            if d["quantization_parameters"]["scales"].size]


def test_int8_per_tensor_scales(mobilenet, tmp_path):
    x = np.random.default_rng(3).uniform(-1, 1, (16, 32, 32, 3)).astype(np.float32)
    expected = mobilenet.predict(x[:4], verbose=0)
    files = {}
    for per_channel in (True, False):
        path = str(tmp_path / f"m_{per_channel}.tflite")
        result = export_tflite(mobilenet, path, "int8", x, calibration_samples=16, per_channel=per_channel)
        assert result.metadata["per_channel"] is per_channel and read_metadata(open(path, "rb").read())["per_channel"] is per_channel
        files[per_channel] = path
        assert float(np.max(np.abs(tflite_predict(path, x[:4]) - expected))) < 5e-2
    per_channel_counts, per_tensor_counts = _scale_counts(files[True]), _scale_counts(files[False])
    assert max(per_channel_counts) > 1  # kernels (and their biases) have one scale per output channel
    assert len(per_tensor_counts) == len(per_channel_counts) and set(per_tensor_counts) == {1}
    # each per-channel scale costs a float32 scale and an int64 zero point in the flatbuffer
    saved = os.path.getsize(files[True]) - os.path.getsize(files[False])
    extra = sum(per_channel_counts) - len(per_channel_counts)
    assert 11 * extra <= saved <= 13 * extra, (saved, extra)


def test_per_tensor_needs_int8(mobilenet, tmp_path):
    with pytest.raises(ValueError, match="quantization='int8'.*Received: quantization='float16', per_channel=False"):
        export_tflite(mobilenet, str(tmp_path / "m.tflite"), "float16", per_channel=False)
    with pytest.raises(ValueError, match="Received: per_channel='no'"):
        export_tflite(mobilenet, str(tmp_path / "m.tflite"), "int8", np.zeros((2, 32, 32, 3)), per_channel="no")
    assert not os.path.exists(tmp_path / "m.tflite")


def test_integer_io_needs_int8(mobilenet, tmp_path):
    with pytest.raises(ValueError, match="quantization='int8'.*Received: quantization='dynamic'"):
        export_tflite(mobilenet, str(tmp_path / "m.tflite"), "dynamic", input_type="uint8")


def test_folded_preprocessing_equals_the_pipeline(mobilenet, tmp_path):
    """The wrapper on raw pixels equals the model on the training pipeline's normalised images."""
    info = DatasetInfo(
        name="x", task="classification", num_classes=10, class_names=list("abcdefghij"),
        image_shape=(32, 32, 3), mean=(0.5, 0.45, 0.4), std=(0.25, 0.2, 0.3),
    )
    raw = np.random.default_rng(2).integers(0, 256, (4, 32, 32, 3)).astype(np.uint8)
    normalised = normalize(tf.image.convert_image_dtype(raw, tf.float32), info).numpy()
    reference = _call(mobilenet, normalised)
    wrapped = with_preprocessing(mobilenet, Preprocessing.from_info(info))
    np.testing.assert_allclose(_call(wrapped, raw.astype(np.float32)), reference, atol=1e-5)
    # resize folded in: 48x48 pixels -> the 32x32 model, as tf.image.resize does it
    big = tf.image.resize(raw.astype(np.float32), (48, 48)).numpy()
    resized = with_preprocessing(mobilenet, Preprocessing.from_info(info, input_size=48))
    expect = _call(mobilenet, normalize(tf.image.resize(big, (32, 32)) / 255.0, info).numpy())
    np.testing.assert_allclose(_call(resized, big), expect, atol=1e-5)
    # the wrapper is plain Keras layers: it saves and loads in safe mode
    resized.save(tmp_path / "w.keras")
    again = keras.saving.load_model(tmp_path / "w.keras", safe_mode=True)
    np.testing.assert_allclose(_call(again, big), expect, atol=1e-5)
    # exported: the device feeds raw pixels and gets the same probabilities
    path = str(tmp_path / "f.tflite")
    export_tflite(mobilenet, path, preprocessing=Preprocessing.from_info(info), class_names=info.class_names)
    np.testing.assert_allclose(tflite_predict(path, raw.astype(np.float32)), reference, atol=1e-5)
    meta = read_metadata(open(path, "rb").read())
    assert meta["class_names"] == info.class_names and meta["input"]["pixels"] == "raw"
    assert open(tmp_path / "f.labels.txt").read().split() == info.class_names


def test_unfolded_preprocessing_is_applied_by_the_classifier(mobilenet, tmp_path):
    pre = Preprocessing(mean=(0.3,), std=(0.2,))  # one grey statistic broadcast to RGB
    raw = np.random.default_rng(3).integers(0, 256, (3, 32, 32, 3)).astype(np.uint8)
    path = str(tmp_path / "u.tflite")
    export_tflite(mobilenet, path, preprocessing=pre, fold_preprocessing=False)
    assert {op.name for op in list_ops(open(path, "rb").read())}.isdisjoint({"SUB"})  # nothing folded
    expected = mobilenet.predict(((raw / 255.0 - 0.3) / 0.2).astype(np.float32), verbose=0)
    np.testing.assert_allclose(TFLiteClassifier(path).predict_proba(raw), expected, atol=1e-5)


@pytest.mark.parametrize("mode", ["float32", "int8"])
def test_keras_converter_gives_the_same_model(tmp_path, mode):
    """converter="keras" (model.export, via a SavedModel) and the default graph path agree."""
    model = _build("lenet5", {}, None)
    x = np.random.default_rng(4).uniform(-1, 1, (8, 32, 32, 1)).astype(np.float32)
    kwargs = dict(representative_data=x, input_type="int8", output_type="int8") if mode == "int8" else {}
    graph = export_tflite(model, str(tmp_path / "g.tflite"), mode, **kwargs)
    saved = export_tflite(model, str(tmp_path / "k.tflite"), mode, converter="keras", **kwargs)
    assert (saved.input_type, saved.output_type) == (graph.input_type, graph.output_type)
    assert saved.ops == graph.ops
    np.testing.assert_allclose(tflite_predict(saved.path, x), tflite_predict(graph.path, x), atol=1e-6 if mode == "float32" else 0.01)
    with pytest.raises(ValueError, match="Received: converter='tflite'"):
        export_tflite(model, str(tmp_path / "x.tflite"), converter="tflite")


@pytest.mark.parametrize("mode", ["float32", "int8"])
def test_dynamic_batch_export(mobilenet, tmp_path, mode):
    """batch_size=None: a resizable batch dimension; the default batch 1 has static shapes only."""
    x = np.random.default_rng(5).uniform(0, 255, (5, 32, 32, 3)).astype(np.float32)
    kwargs = dict(representative_data=x, input_type="uint8") if mode == "int8" else {}
    pre = Preprocessing(mean=(0.5,), std=(0.25,))
    fixed = export_tflite(mobilenet, str(tmp_path / "f.tflite"), mode, preprocessing=pre, **kwargs)
    dynamic = export_tflite(mobilenet, str(tmp_path / "d.tflite"), mode, preprocessing=pre, batch_size=None, **kwargs)
    assert "SHAPE" not in fixed.ops and "SHAPE" in dynamic.ops
    fixed_clf, dynamic_clf = TFLiteClassifier(fixed.path), TFLiteClassifier(dynamic.path)
    assert Interpreter(model_path=dynamic.path).get_input_details()[0]["shape_signature"][0] == -1
    np.testing.assert_allclose(dynamic_clf.predict_proba(x), fixed_clf.predict_proba(x), atol=1e-5 if mode == "float32" else 0.02)
    np.testing.assert_allclose(fixed_clf.predict_proba(x), tflite_predict(fixed.path, x), atol=1e-6)
    with pytest.raises(ValueError, match="Received: batch_size=0"):
        export_tflite(mobilenet, str(tmp_path / "x.tflite"), batch_size=0)


def test_lrn_int8_error_names_the_operator(tmp_path):
    inputs = keras.Input((8, 8, 3))
    x = LocalResponseNormalization()(keras.layers.Conv2D(4, 3)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    data = np.random.default_rng(0).uniform(0, 1, (4, 8, 8, 3))
    with pytest.raises(ValueError, match=r"no int8 kernel for LOCAL_RESPONSE_NORMALIZATION.*allow_float_fallback"):
        export_tflite(model, str(tmp_path / "l.tflite"), "int8", data)


@keras.saving.register_keras_serializable(package="kerascv_course_tests")
class _BesselLayer(keras.layers.Layer):
    """Uses an op that has no TFLite builtin (tf.math.bessel_i0e)."""

    def call(self, inputs):
        return tf.math.bessel_i0e(inputs)


def test_op_without_tflite_builtin_is_a_clear_error(tmp_path):
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(_BesselLayer()(inputs))))
    path = tmp_path / "b.tflite"
    with pytest.raises(ValueError, match="without a TFLite builtin: BesselI0e"):
        export_tflite(model, str(path), "float32")
    assert not path.exists()


# ---- bad input -----------------------------------------------------------------------------


def test_int8_without_representative_data(mobilenet, tmp_path):
    with pytest.raises(ValueError, match="representative_data.*Received: representative_data=None"):
        export_tflite(mobilenet, str(tmp_path / "m.tflite"), "int8")


@pytest.mark.parametrize("shape", [(4, 16, 16, 3), (4, 32, 32, 1), (32, 32)])
def test_representative_data_of_the_wrong_shape(mobilenet, tmp_path, shape):
    data = np.zeros(shape, np.float32)
    with pytest.raises(ValueError, match=r"input shape \(32, 32, 3\).*Received: representative_data of shape"):
        export_tflite(mobilenet, str(tmp_path / "m.tflite"), "int8", data)


def test_representative_data_from_a_dataset_of_pairs(tmp_path):
    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(inputs)))
    images = np.random.default_rng(0).uniform(0, 1, (20, 8, 8, 1)).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices((images, np.zeros(20, np.int64))).batch(6)
    result = export_tflite(model, str(tmp_path / "d.tflite"), "int8", ds, calibration_samples=10)
    assert result.input_type == "float32"
    np.testing.assert_allclose(tflite_predict(result.path, images[:4]), model.predict(images[:4], verbose=0), atol=0.02)
    bad = tf.data.Dataset.from_tensor_slices(np.zeros((4, 9, 8, 1), np.float32))
    with pytest.raises(ValueError, match="Received: representative_data of shape"):
        export_tflite(model, str(tmp_path / "e.tflite"), "int8", bad)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(quantization="int4"), "`quantization` must be one of 'float32', 'float16', 'dynamic', 'int8'. Received: quantization='int4'"),
        (dict(quantization="int8", input_type="int16"), "`input_type` must be one of .*Received: input_type='int16'"),
        (dict(class_names=["a", "b"]), "one name per output \\(10\\)"),
        (dict(calibration_samples=0), "Received: calibration_samples=0"),
    ],
)
def test_bad_arguments(mobilenet, tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        export_tflite(mobilenet, str(tmp_path / "m.tflite"), **kwargs)


def test_bad_model_and_suffix(mobilenet, tmp_path):
    with pytest.raises(TypeError, match="keras.Model"):
        export_tflite("mobilenet", str(tmp_path / "m.tflite"))
    with pytest.raises(ValueError, match=r"end with '.tflite'"):
        export_tflite(mobilenet, str(tmp_path / "m.tfl"))


def test_output_in_a_missing_folder_or_under_a_file(mobilenet, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export_tflite(mobilenet, str(tmp_path / "missing" / "m.tflite"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export_tflite(mobilenet, str(tmp_path / "file" / "m.tflite"))


def _can_create_in(folder) -> bool:
    try:
        with open(os.path.join(folder, ".w"), "w"):
            pass
    except OSError:
        return False
    os.remove(os.path.join(folder, ".w"))
    return True


def test_output_in_a_read_only_folder(mobilenet, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if _can_create_in(folder):  # root ignores mode bits: sysfs refuses new files even to root
            folder = "/sys"
        assert not _can_create_in(folder)
        with pytest.raises(PermissionError, match="The folder of `path`.*cannot be written"):
            export_tflite(mobilenet, os.path.join(folder, "m.tflite"))
    finally:
        (tmp_path / "ro").chmod(0o755)


def test_interrupted_write_leaves_the_destination_alone(mobilenet, tmp_path, monkeypatch):
    import kerascv_course.export.tflite as tflite_module

    path = tmp_path / "m.tflite"
    path.write_bytes(b"previous model")

    class FailingFile:
        def __init__(self, fh):
            self.fh = fh

        def write(self, data):
            self.fh.write(data[: len(data) // 2])  # half the bytes reach the disk, then it fails
            self.fh.flush()
            raise OSError(28, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    monkeypatch.setattr(tflite_module, "open", lambda p, mode="r", *a, **k: FailingFile(builtins.open(p, mode, *a, **k)), raising=False)
    with pytest.raises(OSError, match="No space left"):
        export_tflite(mobilenet, str(path), class_names=list("abcdefghij"))
    assert path.read_bytes() == b"previous model"
    assert sorted(os.listdir(tmp_path)) == ["m.tflite"]  # no temporary or labels file left


def test_interrupted_conversion_writes_nothing(mobilenet, tmp_path, monkeypatch):
    import kerascv_course.export.tflite as tflite_module

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tflite_module, "add_metadata", boom)
    with pytest.raises(KeyboardInterrupt):
        export_tflite(mobilenet, str(tmp_path / "m.tflite"))
    assert os.listdir(tmp_path) == []


# ---- ONNX ----------------------------------------------------------------------------------


def test_onnx_export_checked_in_onnxruntime_or_clear_error(mobilenet, tmp_path):
    from kerascv_course.export import export_onnx

    path = tmp_path / "m.onnx"
    if importlib.util.find_spec("tf2onnx") is None:
        with pytest.raises(ImportError, match=r"kerascv_course\[onnx\]"):
            export_onnx(mobilenet, str(path))
        return
    x = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    result = export_onnx(mobilenet, str(path), check_data=x)
    assert path.stat().st_size == result["size_bytes"] > 0
    if importlib.util.find_spec("onnxruntime") is not None:
        from kerascv_course.export.onnx import onnxruntime_outputs

        assert result["checked"] and result["max_abs_diff"] < 1e-4
        np.testing.assert_allclose(onnxruntime_outputs(str(path), x), mobilenet.predict(x, verbose=0), atol=1e-4)


def test_onnx_missing_extra_is_a_clear_error(mobilenet, tmp_path, monkeypatch):
    import kerascv_course.export.onnx as onnx_module

    real = importlib.util.find_spec
    monkeypatch.setattr(onnx_module.importlib.util, "find_spec", lambda name, *a: None if name == "tf2onnx" else real(name, *a))
    with pytest.raises(ImportError, match=r"'tf2onnx' is not installed: pip install 'kerascv_course\[onnx\]'"):
        onnx_module.export_onnx(mobilenet, str(tmp_path / "m.onnx"))
    assert not (tmp_path / "m.onnx").exists()
