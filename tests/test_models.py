"""Generic checks of every registered model, parametrized over the registry."""

from __future__ import annotations

import inspect
import math

import keras
import numpy as np
import pytest

import kerascv_course
from kerascv_course.models import get_spec, list_models

# The public contract of DESIGN.md: every one of these names is registered.
CONTRACT = """perceptron mlp lenet5 alexnet zfnet vgg11 vgg13 vgg16 vgg19 googlenet inception_v3
resnet18 resnet34 resnet50 resnet101 resnet152 resnet50_v2 resnet101_v2 resnet152_v2 resnet20
resnet32 resnet44 resnet56 resnet110 densenet121 densenet169 densenet201 mobilenet mobilenet_v2
xception squeezenet1_0 squeezenet1_1 se_resnet50 unet""".split()

CLASSIFIERS = list_models("classification")
SEGMENTERS = list_models("segmentation")
ALL = list_models()


def _random_batch(shape, n=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, size=(n, *shape)).astype("float32")


def test_contract_names_are_registered():
    missing = sorted(set(CONTRACT) - set(ALL))
    assert missing == []


def test_every_builder_is_exported_from_the_package():
    for name in ALL:
        assert getattr(kerascv_course, f"build_{name}") is get_spec(name).builder


def test_list_models_filters_by_task_and_pattern():
    assert ALL == sorted(ALL)
    assert set(CLASSIFIERS) | set(SEGMENTERS) == set(ALL)
    assert set(CLASSIFIERS).isdisjoint(SEGMENTERS)
    assert kerascv_course.list_models(pattern="vgg1*") == ["vgg11", "vgg13", "vgg16", "vgg19"]
    with pytest.raises(ValueError, match="task"):
        list_models("detection")


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match="Did you mean:.*vgg16"):
        kerascv_course.get_model("vgg61")
    with pytest.raises(ValueError, match="Unknown model"):
        kerascv_course.get_model("no_such_net")


def test_registering_a_name_twice_is_an_error():
    from kerascv_course.models.registry import register_model

    with pytest.raises(ValueError, match="already registered"):
        register_model("lenet5", family="x", paper="x", year=1, default_input_shape=(1, 1, 1),
                       min_input_size=1)(lambda: None)


@pytest.mark.parametrize("name", ALL)
def test_spec_metadata_is_complete(name):
    spec = get_spec(name)
    assert spec.params is not None and spec.params > 0
    assert spec.paper and 1950 < spec.year < 2030
    assert spec.min_input_size <= min(spec.default_input_shape[:2])
    assert spec.builder.__doc__ and "Args:" in spec.builder.__doc__


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL)
def test_default_model_has_the_published_parameter_count_and_runs(name):
    spec = get_spec(name)
    model = spec.builder()
    assert model.count_params() == spec.params
    assert tuple(model.input_shape[1:]) == spec.default_input_shape
    out = model(_random_batch(spec.default_input_shape, n=1), training=False)
    out = out[0] if isinstance(out, (list, tuple)) else out
    classes = inspect.signature(spec.builder).parameters["classes"].default
    if spec.task == "classification":
        assert tuple(out.shape) == (1, classes)
    else:
        assert tuple(out.shape) == (1, *model.output_shape[1:3], classes)
    assert np.isfinite(np.asarray(out)).all()


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_small_input_forward_pass_and_keras_file_round_trip_in_safe_mode(name, tmp_path):
    spec = get_spec(name)
    shape = spec.small_input_shape
    model = spec.builder(input_shape=shape, classes=10)
    x = _random_batch(shape)
    out = np.asarray(model(x, training=False))
    assert out.shape == (2, 10)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(x, training=False)), out, rtol=1e-5, atol=1e-6)


def _tap_side(spec) -> int:
    return max(64, 32 * math.ceil(spec.min_input_size / 32))


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_feature_extractor_non_square_avg_pooling_and_taps(name):
    """include_top=False on a non-square input: global average pooling of the feature map, and
    every declared feature tap at its stride."""
    spec = get_spec(name)
    c = spec.default_input_shape[-1]
    if name in ("perceptron", "mlp"):
        model = spec.builder(input_shape=spec.small_input_shape, include_top=False)
        assert len(model.output_shape) == 2
        return
    side = _tap_side(spec) if spec.feature_taps else spec.small_input_shape[0]
    shape = (side, side + 32, c) if spec.non_square else (side, side, c)
    model = spec.builder(input_shape=shape, include_top=False, pooling="avg")
    feature_map = keras.Model(model.input, model.get_layer("avg_pool").input)
    x = _random_batch(shape)
    fm = np.asarray(feature_map(x, training=False))
    assert fm.ndim == 4
    out = np.asarray(model(x, training=False))
    assert out.shape == (2, fm.shape[-1])
    np.testing.assert_allclose(out, fm.mean(axis=(1, 2)), rtol=1e-4, atol=1e-5)
    for stride, layer_name in (spec.feature_taps or {}).items():
        size = model.get_layer(layer_name).output.shape[1]
        expected = side / stride
        # valid-padded networks (AlexNet, Inception v3) lose a few border pixels per stage
        assert math.floor(expected * 0.8) - 1 <= size <= math.ceil(expected), (stride, size)


# Max pooling is the shared head's other branch: the smallest model of each family.
MAX_POOL_MODELS = sorted(
    min((n for n in CLASSIFIERS if get_spec(n).family == f), key=lambda n: get_spec(n).params)
    for f in {get_spec(n).family for n in CLASSIFIERS}
)


@pytest.mark.parametrize("name", [n for n in MAX_POOL_MODELS if n not in ("perceptron", "mlp")])
def test_include_top_false_max_pooling(name):
    spec = get_spec(name)
    shape = spec.small_input_shape
    model = spec.builder(input_shape=shape, include_top=False, pooling="max")
    feature_map = keras.Model(model.input, model.get_layer("max_pool").input)
    x = _random_batch(shape)
    out = np.asarray(model(x, training=False))
    np.testing.assert_allclose(out, np.asarray(feature_map(x, training=False)).max(axis=(1, 2)),
                               rtol=1e-5)
    no_pool = spec.builder(input_shape=shape, include_top=False)
    assert len(no_pool.output_shape) == 4


@pytest.mark.parametrize("name", SEGMENTERS)
def test_segmentation_keras_file_round_trip_in_safe_mode(name, tmp_path):
    spec = get_spec(name)
    shape = spec.small_input_shape
    model = spec.builder(input_shape=shape, classes=3)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = _random_batch(shape)
    np.testing.assert_allclose(
        np.asarray(loaded(x, training=False)), np.asarray(model(x, training=False)),
        rtol=1e-5, atol=1e-6,
    )


@pytest.mark.parametrize("name", SEGMENTERS)
def test_segmentation_output_matches_input_resolution(name):
    spec = get_spec(name)
    shape = spec.small_input_shape
    model = spec.builder(input_shape=shape, classes=3)
    out = np.asarray(model(_random_batch(shape), training=False))
    assert out.shape == (2, shape[0], shape[1], 3)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-5)


BAD_ARGS = [
    (dict(classes=0), ValueError, "classes"),
    (dict(classes=2.5), ValueError, "classes"),
    (dict(pooling="sum", include_top=False), ValueError, "pooling"),
    (dict(classifier_activation="no_such_activation"), ValueError, "classifier_activation"),
    (dict(input_shape=(32, 32)), ValueError, "input_shape"),
    (dict(input_shape=(32, 32, 0)), ValueError, "input_shape"),
    (dict(include_top="yes"), ValueError, "include_top"),
    (dict(weights="/no/such/file.h5"), FileNotFoundError, "weights"),
    (dict(weights=3), ValueError, "weights"),
]


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("kwargs,error,argument", BAD_ARGS, ids=[str(b[0]) for b in BAD_ARGS])
def test_bad_common_arguments_raise_a_clear_error(name, kwargs, error, argument):
    with pytest.raises(error, match=f"{argument}.*Received: {argument}="):
        get_spec(name).builder(**kwargs)


@pytest.mark.parametrize("name", [n for n in CLASSIFIERS if get_spec(n).min_input_size > 1])
def test_input_smaller_than_the_minimum_names_the_minimum(name):
    spec = get_spec(name)
    small = spec.min_input_size - 1
    with pytest.raises(ValueError, match=f"at least {spec.min_input_size}x{spec.min_input_size}"):
        spec.builder(input_shape=(small, small, spec.default_input_shape[-1]))


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_imagenet_weights_are_refused_where_they_cannot_apply(name):
    spec = get_spec(name)
    if spec.keras_app:
        with pytest.raises(ValueError, match="channel"):  # ImageNet's weights take RGB input
            spec.builder(weights="imagenet", classes=10,
                         input_shape=(*spec.small_input_shape[:2], 1))
    else:
        with pytest.raises(ValueError, match="no ImageNet weights"):
            spec.builder(weights="imagenet")


def test_imagenet_weights_offline_give_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def no_network(*args, **kwargs):
        raise Exception("URL fetch failure: no network")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    import keras.src.utils.file_utils as file_utils

    monkeypatch.setattr(file_utils, "get_file", no_network)
    with pytest.raises(RuntimeError, match="~/.keras/models"):
        kerascv_course.build_vgg16(weights="imagenet", include_top=False, input_shape=(32, 32, 3))


def test_imagenet_fetch_asks_keras_applications_for_the_same_variant(monkeypatch):
    """`weights="imagenet"` builds keras.applications' model with the same alpha and input, so
    the file it fetches is the one for this width and resolution."""
    import kerascv_course.models.common as common

    calls = {}

    def fake_mobilenet(**kwargs):
        calls.update(kwargs)
        raise Exception("URL fetch failure: no network")

    monkeypatch.setattr(keras.applications, "MobileNet", fake_mobilenet)
    with pytest.raises(RuntimeError, match="could not fetch"):
        common.get_spec("mobilenet").builder(
            alpha=0.5, weights="imagenet", input_shape=(160, 160, 3)
        )
    assert calls == {"weights": "imagenet", "include_top": True, "input_shape": (160, 160, 3),
                     "alpha": 0.5}
