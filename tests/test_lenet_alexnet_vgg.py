"""Family-specific checks of the perceptron, MLP, LeNet-5, AlexNet, ZFNet, VGG and the course's
CIFAR-10 tutorial network."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from kerascv_course import build_alexnet, build_lenet5, build_perceptron, build_vgg16, build_zfnet
from kerascv_course.models.layers import (
    LENET_C3_TABLE,
    ConnectionTableConv2D,
    LocalResponseNormalization,
    RBFOutput,
)


def test_alexnet_two_gpu_grouping_matches_the_paper_count():
    assert build_alexnet(groups=2).count_params() == 60_965_224


def test_alexnet_feature_map_sizes_follow_the_paper():
    model = build_alexnet(include_top=False)
    sizes = {n: model.get_layer(n).output.shape[1] for n in ("conv1", "pool1", "pool2", "pool5")}
    assert sizes == {"conv1": 55, "pool1": 27, "pool2": 13, "pool5": 6}


def test_zfnet_feature_map_sizes_follow_the_paper():
    model = build_zfnet(include_top=False)
    sizes = {n: model.get_layer(n).output.shape[1] for n in ("conv1", "pool1", "conv2", "pool5")}
    assert sizes == {"conv1": 110, "pool1": 55, "conv2": 26, "pool5": 6}


def test_groups_that_do_not_divide_the_channels_are_refused():
    with pytest.raises(ValueError, match="groups.*Received: groups=5"):
        build_alexnet(groups=5)


def test_lenet5_paper_options_give_the_papers_counts():
    # C3 with Table I: 60 connections x 25 + 16 biases = 1,516 (vs 2,416 fully connected);
    # trainable subsampling: 2 parameters per map, 6 maps in S2 and 16 in S4.
    full = build_lenet5().count_params()
    assert full == 61_706
    assert build_lenet5(c3_connections="paper").count_params() == full - 2_416 + 1_516
    assert build_lenet5(subsampling="trainable").count_params() == full + 2 * 6 + 2 * 16
    rbf = build_lenet5(output="rbf")
    assert rbf.count_params() == full - (84 * 10 + 10) + 84 * 10
    assert len(rbf.trainable_weights) == len(build_lenet5().trainable_weights) - 2


def test_connection_table_conv_matches_a_numpy_reference():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 7, 7, 6)).astype("float32")
    layer = ConnectionTableConv2D(kernel_size=3)
    out = np.asarray(layer(x))
    kernel = np.asarray(layer.kernel)[..., 0]  # (3, 3, 60)
    expected = np.zeros((1, 5, 5, 16), "float32")
    col = 0
    for j, sources in enumerate(LENET_C3_TABLE):
        for s in sources:
            for i in range(5):
                for k in range(5):
                    expected[0, i, k, j] += np.sum(x[0, i : i + 3, k : k + 3, s] * kernel[..., col])
            col += 1
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_rbf_output_is_minus_squared_distance_to_fixed_prototypes():
    layer = RBFOutput(4, seed=3)
    x = np.random.default_rng(1).normal(size=(2, 5)).astype("float32")
    out = np.asarray(layer(x))
    w = np.asarray(layer.prototypes)
    assert set(np.unique(w)) == {-1.0, 1.0}
    expected = -((x[:, :, None] - w[None]) ** 2).sum(axis=1)
    np.testing.assert_allclose(out, expected, rtol=1e-5)


def test_lrn_matches_the_paper_formula():
    x = np.random.default_rng(2).uniform(0, 3, size=(1, 2, 2, 7)).astype("float32")
    out = np.asarray(LocalResponseNormalization()(x))
    expected = np.empty_like(x)
    for c in range(7):
        lo, hi = max(0, c - 2), min(7, c + 3)
        denom = (2.0 + 1e-4 * np.sum(x[..., lo:hi] ** 2, axis=-1)) ** 0.75
        expected[..., c] = x[..., c] / denom
    np.testing.assert_allclose(out, expected, rtol=1e-5)


def test_perceptron_threshold_outputs_signs():
    model = build_perceptron(threshold=True, input_shape=(4, 4, 1), classes=3)
    out = np.asarray(model(np.random.default_rng(0).normal(size=(5, 4, 4, 1)).astype("float32")))
    assert set(np.unique(out)) <= {-1.0, 1.0}


def test_vgg16_layer_names_match_keras_applications():
    ours = [layer.name for layer in build_vgg16(weights=None).layers if layer.weights]
    theirs = [layer.name for layer in keras.applications.VGG16(weights=None).layers if layer.weights]
    assert ours == theirs


def test_vgg_batch_norm_keeps_the_feature_tap_names():
    model = build_vgg16(batch_norm=True, include_top=False, input_shape=(32, 32, 3))
    assert model.get_layer("block3_conv3").__class__.__name__ == "Activation"
    assert model.get_layer("block3_conv3_bn").__class__.__name__ == "BatchNormalization"


def _tf_cifar10_tutorial_params(side: int, classes: int = 10, filters: int = 64) -> int:
    """The tutorial network's parameters written out layer by layer (independent of the builder)."""
    conv1 = 5 * 5 * 3 * filters + filters
    conv2 = 5 * 5 * filters * filters + filters
    pooled = math.ceil(math.ceil(side / 2) / 2)  # two 3x3/2 "same" poolings
    local3 = pooled * pooled * filters * 384 + 384
    local4 = 384 * 192 + 192
    return conv1 + conv2 + local3 + local4 + 192 * classes + classes


@pytest.mark.parametrize("side", [24, 96, 33])
def test_tf_cifar10_tutorial_parameters_by_hand(side):
    from kerascv_course import build_tf_cifar10_tutorial

    model = build_tf_cifar10_tutorial(input_shape=(side, side, 3))
    assert model.count_params() == _tf_cifar10_tutorial_params(side)
    quarter = math.ceil(side / 4)
    assert tuple(model.get_layer("pool2").output.shape[1:]) == (quarter, quarter, 64)


def test_tf_cifar10_tutorial_default_is_stl10_size_and_the_documented_count():
    from kerascv_course import build_tf_cifar10_tutorial
    from kerascv_course.models import get_spec

    # The tutorial's own figure at its 24x24 crops, and STL-10's 96x96 (the default input).
    assert _tf_cifar10_tutorial_params(24) == 1_068_298
    assert _tf_cifar10_tutorial_params(96) == get_spec("tf_cifar10_tutorial").params == 14_339_338
    assert build_tf_cifar10_tutorial().input_shape[1:] == (96, 96, 3)
