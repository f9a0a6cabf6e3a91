"""U-Net as the paper trained it (Ronneberger, Fischer & Brox 2015, arXiv:1505.04597).

The border weight map and its weighted cross-entropy, the elastic deformation, overlap-tile
prediction and the recipe, each against a small hand computation or an independent reference.
"""

from __future__ import annotations

import math
import os

import keras
import numpy as np
import pytest

from kerascv_course.training.weight_map import (
    border_weight_map,
    connected_components,
    squared_distance,
)

W0, SIGMA = 10.0, 5.0


def _border(d1: float, d2: float) -> float:
    return W0 * math.exp(-((d1 + d2) ** 2) / (2 * SIGMA**2))


# ----------------------------------------------------------------------------- weight map


def test_squared_distance_matches_brute_force():
    rng = np.random.default_rng(0)
    target = rng.random((9, 13)) < 0.08
    target[4, 6] = True
    ys, xs = np.nonzero(target)
    yy, xx = np.mgrid[:9, :13]
    brute = np.min((yy[..., None] - ys) ** 2 + (xx[..., None] - xs) ** 2, axis=-1)
    np.testing.assert_array_equal(squared_distance(target), brute)
    assert np.all(np.isinf(squared_distance(np.zeros((3, 4), bool))))


def test_connected_components_are_four_connected():
    grid = np.array([
        [1, 0, 1, 1, 1],
        [1, 0, 1, 0, 1],
        [1, 1, 1, 0, 1],  # a U-turn: one object
        [0, 0, 0, 1, 0],  # touches the U only diagonally: its own object
        [1, 0, 0, 0, 0],
    ], bool)
    labels, count = connected_components(grid)
    assert count == 3
    assert labels[0, 0] == labels[0, 4] == labels[2, 1] == 1
    assert labels[3, 3] == 2 and labels[4, 0] == 3
    assert np.all((labels > 0) == grid)


def test_weight_map_on_a_row_by_hand():
    # objects {0} and {5, 6}; background pixels 1-4 and 7
    mask = np.array([[1, 0, 0, 0, 0, 1, 1, 0]])
    expected_border = {1: _border(1, 4), 2: _border(2, 3), 3: _border(2, 3), 4: _border(1, 4),
                       7: _border(1, 7)}
    w = border_weight_map(mask, balance=False)
    for x, border in expected_border.items():
        assert w[0, x] == pytest.approx(1.0 + border, rel=1e-6)
    for x in (0, 5, 6):
        assert w[0, x] == pytest.approx(1.0)
    # class balance: 3 object pixels, 5 background pixels of 8 -> 8/(2*3) and 8/(2*5)
    wb = border_weight_map(mask)
    assert wb[0, 0] == pytest.approx(8 / 6)
    assert wb[0, 7] == pytest.approx(8 / 10 + _border(1, 7), rel=1e-6)


def test_weight_map_in_two_dimensions_by_hand():
    mask = np.zeros((5, 5), int)
    mask[0, 0] = mask[0, 4] = mask[4, 4] = 1
    w = border_weight_map(mask, balance=False)
    assert w[2, 2] == pytest.approx(1 + _border(math.sqrt(8), math.sqrt(8)), rel=1e-6)
    assert w[1, 3] == pytest.approx(1 + _border(math.sqrt(2), math.sqrt(10)), rel=1e-6)
    assert w[0, 0] == pytest.approx(1.0)


def test_one_object_has_no_border_term_and_instances_separate_touching_cells():
    mask = np.zeros((4, 6), int)
    mask[1:3, 1:5] = 1
    np.testing.assert_allclose(border_weight_map(mask, balance=False), 1.0)
    cells = np.zeros((4, 6), int)
    cells[1:3, 1:3], cells[1:3, 3:5] = 1, 2  # two touching cells, one component of the class mask
    w = border_weight_map(mask, instances=cells, balance=False)
    assert w[0, 2] == pytest.approx(1 + _border(1, math.sqrt(2)), rel=1e-6)


def test_weighted_cross_entropy_by_hand_and_safe_mode_round_trip():
    from kerascv_course.training.losses import WeightedCrossEntropyLoss, segmentation_loss

    mask = np.array([[1, 0, 0, 0, 0, 1, 1, 0]])
    p1 = np.array([0.9, 0.2, 0.3, 0.4, 0.1, 0.6, 0.7, 0.5], np.float32)
    probs = np.stack([1 - p1, p1], -1)[None, None]  # (1, 1, 8, 2)
    weights = np.array([8 / 6, 8 / 10 + _border(1, 4), 8 / 10 + _border(2, 3), 8 / 10 + _border(2, 3),
                        8 / 10 + _border(1, 4), 8 / 6, 8 / 6, 8 / 10 + _border(1, 7)])
    truth = np.where(mask[0] == 1, p1, 1 - p1)
    expected = float(np.mean(weights * -np.log(truth)))
    loss = segmentation_loss(2, "weighted_ce")
    assert isinstance(loss, WeightedCrossEntropyLoss)
    assert float(loss(mask[None, ..., None], probs)) == pytest.approx(expected, rel=1e-5)
    config = keras.saving.serialize_keras_object(loss)
    again = keras.saving.deserialize_keras_object(config, safe_mode=True)
    assert isinstance(again, WeightedCrossEntropyLoss) and (again.w0, again.sigma) == (W0, SIGMA)
    assert float(again(mask[None, ..., None], probs[..., 1:])) == pytest.approx(expected, rel=1e-5)


def test_weighted_ce_refuses_xla_without_tensorflow():
    from kerascv_course.training import Recipe
    from kerascv_course.training.checks import check_recipe

    recipe = Recipe(model="unet", dataset="cracks", loss="weighted_ce", jit_compile=True)
    with pytest.raises(ValueError, match="jit_compile"):
        check_recipe(recipe)


# ----------------------------------------------------------------------------- elastic deformation


def test_bicubic_field_is_constant_for_a_constant_grid_and_passes_through_the_grid_points():
    from kerascv_course.data.transforms.elastic import grid_field

    constant = np.broadcast_to(np.array([2.0, -1.0], np.float32), (1, 3, 3, 2))
    np.testing.assert_allclose(grid_field(constant, 9, 7).numpy(), np.broadcast_to([2.0, -1.0], (1, 9, 7, 2)),
                               atol=1e-5)
    coarse = np.random.default_rng(1).normal(0, 10, (2, 3, 3, 2)).astype(np.float32)
    field = grid_field(coarse, 9, 9).numpy()
    # corners, edge midpoints and centre of a 9x9 image: rows/columns 0, 4, 8
    np.testing.assert_allclose(field[:, ::4, ::4], coarse, atol=1e-4)
    assert field.shape == (2, 9, 9, 2)


def test_warp_zero_field_is_identity_and_constant_field_is_a_mirrored_shift():
    from kerascv_course.data.transforms.elastic import elastic_pair

    rng = np.random.default_rng(2)
    image = rng.random((1, 6, 5, 3)).astype(np.float32)
    mask = rng.integers(0, 3, (1, 6, 5, 1)).astype(np.uint8)
    zero = np.zeros((1, 6, 5, 2), np.float32)
    moved, moved_mask = elastic_pair(image, mask, zero)
    np.testing.assert_allclose(moved.numpy(), image, atol=1e-6)
    np.testing.assert_array_equal(moved_mask.numpy(), mask)
    shift = np.broadcast_to(np.array([2.0, -1.0], np.float32), (1, 6, 5, 2))  # dy = 2, dx = -1
    moved, moved_mask = elastic_pair(image, mask, shift)
    # out[y, x] = in[y + 2, x - 1], mirrored at the edges ("d c b a | a b c d")
    padded = np.pad(image[0], ((0, 2), (1, 0), (0, 0)), mode="symmetric")
    np.testing.assert_allclose(moved.numpy()[0], padded[2:8, 0:5], atol=1e-6)
    padded_mask = np.pad(mask[0], ((0, 2), (1, 0), (0, 0)), mode="symmetric")
    np.testing.assert_array_equal(moved_mask.numpy()[0], padded_mask[2:8, 0:5])


def test_unet_paper_policy_moves_mask_with_image_and_is_seeded():
    import tensorflow as tf

    from kerascv_course.data import get_policy
    from kerascv_course.data.catalog import policy_options

    options = policy_options("unet_paper", "segmentation")
    assert (options["elastic_grid"], options["elastic_sigma"]) == (3, 10.0)  # the paper's
    still = dict(horizontal_flip=0.0, vertical_flip=0.0, rotation=0.0, scale=(1.0, 1.0), translate=0.0,
                 brightness=0.0, contrast=0.0)
    policy = get_policy("unet_paper", task="segmentation", **still)
    mask = np.zeros((2, 32, 32, 1), np.uint8)
    mask[:, 8:20, 10:24] = 1
    image = mask.astype(np.float32)  # the image is the mask: where both agree they moved together
    seed = tf.constant([3, 4])
    out, out_mask = policy(image, mask, seed)
    again, _ = policy(image, mask, seed)
    np.testing.assert_array_equal(out.numpy(), again.numpy())
    out, out_mask = out.numpy(), out_mask.numpy()
    assert set(np.unique(out_mask)) <= {0, 1} and out_mask.dtype == np.uint8
    assert not np.array_equal(out_mask, mask)  # sigma = 10 px moves a 12x14 square
    settled = (out == 0.0) | (out == 1.0)
    assert settled.mean() > 0.8
    np.testing.assert_array_equal(out[settled], out_mask[settled])
    single, single_mask = policy(image[0], mask[0, ..., 0], seed)
    assert single.shape == (32, 32, 1) and single_mask.shape == (32, 32)


# ----------------------------------------------------------------------------- the recipe

# Written from the paper (Sections 3 and 3.1), not from recipes/unet_paper.py.
PAPER = {"optimizer": "sgd", "momentum": 0.99, "batch_size": 1, "loss": "weighted_ce", "augment": "unet_paper"}
RECIPE_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "recipes", "unet_paper.py")


def _run_recipe(argv):
    import runpy

    from kerascv_course.cli.script import main

    module = runpy.run_path(RECIPE_PATH, run_name="recipe_under_test")  # data only
    return main(module["RECIPE"], smoke=module["SMOKE"], argv=argv)


def test_recipe_has_the_papers_settings_also_under_smoke(capsys):
    import json

    from kerascv_course.data.catalog import policy_options

    for argv in ([], ["--smoke"]):
        assert _run_recipe(["--print-recipe", *argv]) == 0
        resolved = json.loads(capsys.readouterr().out)
        for key, value in PAPER.items():
            assert resolved[key] == value, (argv, key)
        assert resolved["model_kwargs"]["dropout"] > 0  # dropout at the end of the contracting path
        assert resolved["schedule"] == "constant"  # the paper states no learning-rate schedule
    assert resolved["dataset"] == "cracks"
    opts = policy_options("unet_paper", "segmentation")
    assert (opts["elastic_grid"], opts["elastic_sigma"]) == (3, 10.0)


def test_model_compiled_with_weighted_ce_and_dropout_loads_in_safe_mode(tmp_path):
    from kerascv_course.models.unet import original_unet
    from kerascv_course.training.losses import WeightedCrossEntropyLoss, segmentation_loss

    model = original_unet((16, 16, 1), classes=2, base_filters=2, depth=2, dropout=0.5)
    model.compile("sgd", loss=segmentation_loss(2, "weighted_ce"))
    path = str(tmp_path / "m.keras")
    model.save(path)
    again = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(again.loss, WeightedCrossEntropyLoss) and (again.loss.w0, again.loss.sigma) == (W0, SIGMA)
    # the dropout sits at the end of the contracting path: between the bottom convolutions and the
    # first up-convolution
    names = [layer.name for layer in again.layers]
    drop = names.index("bottleneck_dropout")
    assert names[drop - 1] == "bottleneck_2_relu" and names[drop + 1] == "dec2_upconv"
    assert again.get_layer("bottleneck_dropout").rate == 0.5


# ----------------------------------------------------------------------------- overlap-tile prediction


def _valid_pair(depth, tile_in, whole_in):
    """Two unpadded U-Nets with the same weights: one at the tile size, one at the whole size."""
    from kerascv_course.models.unet import original_unet

    kw = dict(classes=3, padding="valid", depth=depth, base_filters=2)
    tile = original_unet((tile_in, tile_in, 1), **kw)
    whole = original_unet((whole_in[0], whole_in[1], 1), **kw)
    whole.set_weights(tile.get_weights())
    return tile, whole


@pytest.mark.parametrize("size", [(16, 24), (13, 21)])
def test_overlap_tile_equals_whole_mirrored_image_for_an_unpadded_unet(size):
    from kerascv_course.evaluation.tiling import predict_tiled

    # depth 2: a 48x48 tile gives 8x8 outputs (context 20 px); 8 is a multiple of 2**2, so the
    # tiles' poolings line up with those of one pass over the whole image
    h, w = size
    hh, ww = -(-h // 8) * 8, -(-w // 8) * 8  # the whole output, rounded up to tiles
    tile_model, whole_model = _valid_pair(2, 48, (hh + 40, ww + 40))
    image = np.random.default_rng(5).random((h, w, 1)).astype(np.float32)
    padded = np.pad(image, ((20, 20 + hh - h), (20, 20 + ww - w), (0, 0)), mode="symmetric")
    expected = np.asarray(whole_model(padded[None], training=False))[0, :h, :w]
    got = predict_tiled(tile_model, image, batch_size=4)
    assert got.shape == (h, w, 3)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_overlap_tile_of_a_padded_model_on_one_tile_and_on_any_size():
    from kerascv_course.evaluation.tiling import predict_tiled
    from kerascv_course.models.unet import original_unet

    model = original_unet((None, None, 1), classes=2, depth=2, base_filters=2)
    rng = np.random.default_rng(6)
    image = rng.random((16, 16, 1)).astype(np.float32)
    whole = np.asarray(model(image[None], training=False))[0]
    np.testing.assert_allclose(predict_tiled(model, image, tile=16), whole, atol=1e-6)
    odd = rng.random((2, 19, 30, 1)).astype(np.float32)
    got = predict_tiled(model, odd, tile=16, margin=4)  # 8x8 regions, 4 px of mirrored context
    assert got.shape == (2, 19, 30, 2)
    np.testing.assert_allclose(got.sum(-1), 1.0, atol=1e-5)
    # the region at rows 8-15, columns 24-29 (cut at the right edge) from its own mirrored tile
    padded = np.pad(odd[1], ((4, 20), (4, 20), (0, 0)), mode="symmetric")  # index + 4
    tile = padded[8:24, 24:40]  # input rows 4-19, columns 20-35
    ref = np.asarray(model(tile[None], training=False))[0, 4:12, 4:10]
    np.testing.assert_allclose(got[1, 8:16, 24:30], ref, atol=1e-6)
    with pytest.raises(ValueError, match="tile"):
        predict_tiled(model, image)
    with pytest.raises(ValueError, match="margin"):
        predict_tiled(model, image, tile=16, margin=8)


def test_training_an_unpadded_unet_is_refused_in_one_line_before_any_step():
    from types import SimpleNamespace

    from kerascv_course.models.unet import original_unet
    from kerascv_course.training.model import check_outputs

    model = original_unet((44, 44, 1), classes=2, padding="valid", depth=2, base_filters=2)  # 44 -> 4
    info = SimpleNamespace(task="segmentation", num_classes=2, name="cracks")
    with pytest.raises(ValueError, match=r"outputs 4x4 masks for 44x44 images.*predict_tiled"):
        check_outputs(model, info)
    check_outputs(original_unet((16, 16, 1), classes=2, depth=2, base_filters=2), info)  # padded: fine


def test_weight_map_of_many_objects_matches_brute_force_distances():
    rng = np.random.default_rng(7)
    mask = np.zeros((70, 90), int)
    for _ in range(14):  # rectangles, some touching or merging, some far apart
        y, x = rng.integers(0, 64), rng.integers(0, 84)
        mask[y:y + rng.integers(1, 7), x:x + rng.integers(1, 7)] = 1
    labels, count = connected_components(mask > 0)
    yy, xx = np.mgrid[:70, :90]
    dist = []
    for i in range(1, count + 1):  # every object's distance map, brute force over its pixels
        ys, xs = np.nonzero(labels == i)
        dist.append(np.sqrt(np.min((yy[..., None] - ys) ** 2 + (xx[..., None] - xs) ** 2, axis=-1)))
    dist = np.sort(np.stack(dist), axis=0)
    expected = 1.0 + np.where(mask == 0, W0 * np.exp(-((dist[0] + dist[1]) ** 2) / (2 * SIGMA**2)), 0.0)
    np.testing.assert_allclose(border_weight_map(mask, balance=False), expected, atol=2e-5)
    assert count >= 6
