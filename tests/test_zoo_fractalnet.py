"""FractalNet: the expansion rule, the joins' drop-path, and training through the package's trainer.

References are computed here: the parameter count from the recursive expansion rule
``f_{C+1}(z) = join(f_C(f_C(z)), conv(z))`` (Larsson et al., 2017, §2), the joins against NumPy
means, and global drop-path against the chain of one column's own layers.
"""

from __future__ import annotations

import itertools
import json
import os

import keras
import numpy as np
import pytest
from conftest import random_batch

from kerascv_course import build_fractalnet, get_spec
from kerascv_course.models.fractalnet import fractal_block
from kerascv_course.models.layers import DropPathSampler, FractalJoin


def _expansion_rule(columns, cin, cout):
    """(3x3 convolution weights, convolutions) of f_C from cin to cout channels, recursively."""
    if columns == 1:
        return 9 * cin * cout, 1
    first, n1 = _expansion_rule(columns - 1, cin, cout)
    second, n2 = _expansion_rule(columns - 1, cout, cout)
    return first + second + 9 * cin * cout, n1 + n2 + 1


def _fractalnet_params(columns, filters, classes):
    """(Keras count, trainable): bias-free convolutions, batch norm after each, the classifier."""
    weights, convs_per_channel, cin = 0, 0, 3
    for width in filters:
        w, n = _expansion_rule(columns, cin, width)
        weights, convs_per_channel, cin = weights + w, convs_per_channel + n * width, width
    fc = cin * classes + classes
    return weights + 4 * convs_per_channel + fc, weights + 2 * convs_per_channel + fc


def test_default_is_the_papers_cifar_network():
    """B = 5 blocks of C = 3 columns, 20 convolutions on the deepest path (Table 1's "20 layers").

    The paper's Table 1 lists 38.6M parameters for this network; the expansion rule with the
    paper's filters gives 33,698,880 convolution weights (33.7M), as the authors' generator does.
    """
    model = build_fractalnet()
    assert model.count_params() == get_spec("fractalnet").params
    assert (model.count_params(), sum(int(np.prod(w.shape)) for w in model.trainable_weights)) == (
        _fractalnet_params(3, (64, 128, 256, 512, 512), 10))
    assert _expansion_rule(3, 3, 64)[1] == 7  # 1 + 2 + 4 convolutions per block
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 5 * 7
    deepest = [layer for layer in convs if "_col3_" in layer.name]
    assert len(deepest) == 5 * 4 == 20
    rates = {layer.name.split("_")[0]: layer.rate for layer in model.layers
             if isinstance(layer, keras.layers.Dropout)}
    assert rates == {"block2": 0.1, "block3": 0.2, "block4": 0.3, "block5": 0.4}
    joins = [layer for layer in model.layers if isinstance(layer, FractalJoin)]
    assert [(j.name, j.columns, j.drop_rate) for j in joins[:2]] == [
        ("block1_join2", (1, 2), 0.15), ("block1_out", (0, 1, 2), 0.15)]
    assert model.get_layer("drop_path_sampler").global_rate == 0.5
    assert model.output_shape == (None, 10) and model.input_shape == (None, 32, 32, 3)
    three = build_fractalnet(filters=(8, 8, 8), input_shape=(8, 8, 3))
    assert [layer.rate for layer in three.layers if isinstance(layer, keras.layers.Dropout)][-1] == 0.2


@pytest.mark.parametrize("columns,filters", [(2, (8, 16)), (4, (8,)), (3, (4, 8, 8))])
def test_parameter_count_follows_the_expansion_rule(columns, filters):
    side = 2 ** len(filters)
    model = build_fractalnet(columns=columns, filters=filters, dropout=0.1,
                             input_shape=(side, side, 3), classes=7)
    assert model.count_params() == _fractalnet_params(columns, filters, 7)[0]
    joins = [layer for layer in model.layers if isinstance(layer, FractalJoin)]
    assert len(joins) == len(filters) * 2 ** (columns - 2)  # one per even row


def _join(columns, drop_rate=0.15, seed=1):
    return FractalJoin(columns, drop_rate=drop_rate, seed=seed)


def test_join_is_the_mean_at_inference_and_identity_on_one_path():
    rng = np.random.default_rng(0)
    paths = [rng.normal(size=(2, 3, 3, 4)).astype("float32") for _ in range(3)]
    control = np.zeros((2, 3), "float32")
    join = _join((0, 1, 2), drop_rate=1.0)
    np.testing.assert_allclose(np.asarray(join([*paths, control], training=False)),
                               np.mean(paths, axis=0), rtol=1e-6, atol=1e-6)
    same = [paths[0]] * 3
    np.testing.assert_allclose(np.asarray(join([*same, control], training=False)), paths[0],
                               rtol=1e-6, atol=1e-6)


def test_local_drop_path_keeps_at_least_one_path():
    rng = np.random.default_rng(1)
    paths = [rng.normal(size=(2, 3, 3, 4)).astype("float32") for _ in range(3)]
    control = np.zeros((2, 3), "float32")
    # Every input dropped: the join still keeps exactly one, drawn uniformly.
    join = _join((0, 1, 2), drop_rate=1.0, seed=7)
    kept = []
    for _ in range(30):
        out = np.asarray(join([*paths, control], training=True))
        match = [i for i, p in enumerate(paths) if np.allclose(out, p, atol=1e-6)]
        assert len(match) == 1
        kept.append(match[0])
    assert set(kept) == {0, 1, 2}
    # The paper's rate: the output is always the mean of a non-empty subset, usually all three.
    subsets = [s for k in (1, 2, 3) for s in itertools.combinations(range(3), k)]
    means = {s: np.mean([paths[i] for i in s], axis=0) for s in subsets}
    join = _join((0, 1, 2), drop_rate=0.15, seed=3)
    seen = []
    for _ in range(60):
        out = np.asarray(join([*paths, control], training=True))
        match = [s for s, m in means.items() if np.allclose(out, m, atol=1e-5)]
        assert len(match) == 1
        seen.append(match[0])
    full = seen.count((0, 1, 2)) / len(seen)
    assert 0.4 < full < 0.9  # 0.85^3 = 0.61 of the draws keep all three
    assert len(set(seen)) > 2


def test_global_drop_path_keeps_the_drawn_column_only():
    rng = np.random.default_rng(2)
    paths = [rng.normal(size=(2, 3, 3, 4)).astype("float32") for _ in range(2)]
    join = _join((1, 2))  # a join of columns 2 and 3 (0-based 1, 2) of a 3-column block
    for column, expected in ((1, paths[0]), (2, paths[1])):
        control = np.tile(np.eye(3, dtype="float32")[column], (2, 1))
        np.testing.assert_array_equal(np.asarray(join([*paths, control], training=True)),
                                      expected)
    # Column 0 does not reach this join: its output, the mean, is not on that column's path.
    control = np.tile(np.eye(3, dtype="float32")[0], (2, 1))
    np.testing.assert_allclose(np.asarray(join([*paths, control], training=True)),
                               np.mean(paths, axis=0), rtol=1e-6, atol=1e-6)


def test_sampler_draws_one_column_per_batch_half_of_the_time():
    sampler = DropPathSampler(4, global_rate=0.5, seed=5)
    x = np.zeros((6, 8, 8, 3), "float32")
    assert not np.any(np.asarray(sampler(x, training=False)))
    rows = []
    for _ in range(200):
        control = np.asarray(sampler(x, training=True))
        assert (control == control[0]).all()  # one draw for the whole batch
        assert control[0].sum() in (0.0, 1.0) and set(np.unique(control)) <= {0.0, 1.0}
        rows.append(control[0])
    global_batches = [r for r in rows if r.sum()]
    assert 0.35 < len(global_batches) / len(rows) < 0.65
    assert {int(np.argmax(r)) for r in global_batches} == {0, 1, 2, 3}


def test_global_drop_path_in_a_block_is_one_columns_chain():
    """With a one-hot control, a whole fractal block in training computes one column's own
    stack of convolutions (batch norm on batch statistics, as training does)."""
    x_in = keras.Input((8, 8, 3))
    control_in = keras.Input((3,))
    out = fractal_block(x_in, control_in, columns=3, filters=4, name="b")
    block = keras.Model([x_in, control_in], out)
    x = random_batch((8, 8, 3), n=4)
    for column, depth in ((0, 1), (1, 2), (2, 4)):
        control = np.tile(np.eye(3, dtype="float32")[column], (4, 1))
        got = np.asarray(block([x, control], training=True))
        y = x
        for k in range(1, depth + 1):
            for suffix in ("conv", "bn", "relu"):
                y = block.get_layer(f"b_col{column + 1}_conv{k}_{suffix}")(y, training=True)
        np.testing.assert_allclose(got, np.asarray(y), rtol=1e-5, atol=1e-5)


def test_inference_is_deterministic_and_training_is_not():
    model = build_fractalnet(filters=(8, 8, 8, 8, 8), seed=0)
    x = random_batch((32, 32, 3), n=4)
    a, b = (np.asarray(model(x, training=False)) for _ in range(2))
    np.testing.assert_array_equal(a, b)
    outs = [np.asarray(model(x, training=True)) for _ in range(6)]
    assert any(not np.allclose(outs[0], o) for o in outs[1:])


def test_layers_round_trip_through_their_config():
    join = FractalJoin((0, 2), drop_rate=0.2, seed=3, name="j")
    clone = FractalJoin.from_config(join.get_config())
    assert (clone.columns, clone.drop_rate, clone.seed, clone.name) == ((0, 2), 0.2, 3, "j")
    sampler = DropPathSampler.from_config(DropPathSampler(5, 0.25, seed=1).get_config())
    assert (sampler.columns, sampler.global_rate, sampler.seed) == (5, 0.25, 1)


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="Received: columns=1"):
        build_fractalnet(columns=1)
    with pytest.raises(ValueError, match="filters.*Received: filters=\\(\\)"):
        build_fractalnet(filters=())
    with pytest.raises(ValueError, match="one rate per block.*Received: dropout=\\(0.1, 0.2\\)"):
        build_fractalnet(dropout=(0.1, 0.2))
    with pytest.raises(ValueError, match="Received: dropout=1.0"):
        build_fractalnet(dropout=1.0)
    with pytest.raises(ValueError, match="Received: local_drop_path=1.5"):
        build_fractalnet(local_drop_path=1.5)
    with pytest.raises(ValueError, match="Received: global_drop_path=-0.1"):
        build_fractalnet(global_drop_path=-0.1)
    with pytest.raises(ValueError, match="at least 8x8"):
        build_fractalnet(filters=(8, 8, 8), input_shape=(4, 4, 3))


@pytest.mark.slow
def test_trains_through_the_trainer_and_reloads_in_safe_mode(tmp_path):
    from kerascv_course.training import Recipe
    from kerascv_course.training.trainer import train

    recipe = Recipe(
        model="fractalnet", dataset="digits", image_size=32, epochs=1, batch_size=16,
        steps_per_epoch=3, eval_steps=1, optimizer="sgd", learning_rate=0.02, momentum=0.9,
        schedule="constant", model_kwargs={"filters": [8, 8, 16, 16, 16], "seed": 0},
        output=str(tmp_path / "run"), tensorboard=False,
    )
    result = train(recipe, verbose=0)
    metrics = json.loads(open(os.path.join(result.output, "metrics.json")).read())
    assert metrics["epochs_completed"] == 1 and np.isfinite(metrics["loss"])
    model = keras.saving.load_model(os.path.join(result.output, "model.keras"), safe_mode=True)
    assert any(isinstance(layer, FractalJoin) for layer in model.layers)
