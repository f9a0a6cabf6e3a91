"""Looking inside models: filters, feature maps, saliency, and the `inspect` command."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kerascv_course import build_lenet5
from kerascv_course.cli import main
from kerascv_course.viz.inspect import feature_maps, plot_filters, saliency_map


def test_feature_maps_equal_the_layer_outputs():
    model = build_lenet5(variant="modern")
    image = np.random.default_rng(0).uniform(size=(32, 32, 1)).astype("float32")
    maps = feature_maps(model, image, ["c1", "c3_act"])
    conv = model.get_layer("c1")
    expected = tf.nn.conv2d(image[None], conv.kernel, 1, "VALID") + conv.bias
    np.testing.assert_allclose(maps["c1"], np.asarray(expected)[0], rtol=1e-5, atol=1e-5)
    assert maps["c3_act"].shape == (10, 10, 16) and maps["c3_act"].min() >= 0
    with pytest.raises(ValueError, match="layers"):
        feature_maps(model, image, ["no_such_layer"])


def test_saliency_is_zero_where_the_score_cannot_depend_on_the_pixel():
    # A 5x5 valid conv then a 1x1 pick: pixels outside the top-left 5x5 window have no influence.
    model = build_lenet5(include_top=False, input_shape=(32, 32, 1), variant="modern")
    import keras

    probe = keras.Model(model.input, keras.layers.Flatten()(model.get_layer("c1").output[:, :1, :1, :1]))
    sal, index = saliency_map(probe, np.ones((32, 32, 1), "float32"), class_index=0)
    assert index == 0 and sal.shape == (32, 32)
    assert sal[5:, :].max() == 0 and sal[:, 5:].max() == 0 and sal[:5, :5].max() == 1.0


def test_filter_grid_and_inspect_command_write_pngs(tmp_path):
    path = plot_filters(build_lenet5(), tmp_path / "f.png")
    assert Image.open(path).size[0] > 100
    image = tmp_path / "digit.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (40, 30, 3), dtype=np.uint8)).save(image)
    assert main(["inspect", "lenet5", "--image", str(image), "--output", str(tmp_path / "out")]) == 0
    for name in ("filters.png", "features.png", "saliency.png"):
        assert Image.open(tmp_path / "out" / name).size[1] > 100
    assert main(["inspect", "no_such_model", "--output", str(tmp_path / "o2")]) == 2
