"""Segmentation losses and metrics against NumPy references on small hand-made masks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from kerascv_course.training.losses import (
    LOSSES,
    CEDiceLoss,
    DiceCoefficient,
    FocalLoss,
    MeanIoU,
    PixelAccuracy,
    per_class_scores,
    scores_from_confusion,
    segmentation_loss,
    segmentation_metrics,
)

EPS = 1e-7


def _masks() -> dict[str, np.ndarray]:
    """Hand-made 2-image batches of 4x4 masks: mixed, empty (all background), full (all class 1)."""
    mixed = np.zeros((2, 4, 4, 1), np.int32)
    mixed[0, :2, :2] = 1
    mixed[0, 3, :] = 2
    mixed[1, 1:3, 1:3] = 2
    return {
        "mixed": mixed,
        "empty": np.zeros((2, 4, 4, 1), np.int32),
        "full": np.ones((2, 4, 4, 1), np.int32),
    }


def _probs(classes: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(classes), size=(2, 4, 4)).astype(np.float32)


def _onehot(mask: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes, dtype=np.float64)[mask[..., 0]]


def np_ce(mask, probs):
    g, p = _onehot(mask, probs.shape[-1]), np.clip(probs.astype(np.float64), EPS, 1 - EPS)
    return (-(g * np.log(p)).sum(-1)).mean(axis=(1, 2)).mean()


def np_bce(mask, probs):
    g, p = _onehot(mask, probs.shape[-1]), np.clip(probs.astype(np.float64), EPS, 1 - EPS)
    return (-(g * np.log(p) + (1 - g) * np.log(1 - p))).mean(axis=(1, 2, 3)).mean()


def np_dice_loss(mask, probs, smooth=1.0):
    g, p = _onehot(mask, probs.shape[-1]), probs.astype(np.float64)
    inter = (g * p).sum(axis=(1, 2))
    total = g.sum(axis=(1, 2)) + p.sum(axis=(1, 2))
    return (1 - ((2 * inter + smooth) / (total + smooth)).mean(-1)).mean()


def np_focal(mask, probs, gamma=2.0, alpha=None):
    g, p = _onehot(mask, probs.shape[-1]), np.clip(probs.astype(np.float64), EPS, 1 - EPS)
    term = -g * (1 - p) ** gamma * np.log(p)
    if alpha is not None:
        term = term * np.asarray(alpha)
    return term.sum(-1).mean(axis=(1, 2)).mean()


def np_confusion(mask, pred, classes):
    cm = np.zeros((classes, classes))
    np.add.at(cm, (mask.reshape(-1), pred.reshape(-1)), 1)
    return cm


def np_scores(cm):
    """Mean IoU / Dice over classes present in truth or prediction, and pixel accuracy."""
    tp, t, p = np.diag(cm), cm.sum(1), cm.sum(0)
    present = (t + p) > 0
    iou = tp[present] / (t + p - tp)[present]
    dice = 2 * tp[present] / (t + p)[present]
    return iou.mean(), dice.mean(), tp.sum() / cm.sum()


@pytest.mark.parametrize("case", ["mixed", "empty", "full"])
def test_losses_match_numpy(case):
    mask = _masks()[case]
    probs = _probs(3)
    expected = {
        "ce": np_ce(mask, probs),
        "bce": np_bce(mask, probs),
        "dice": np_dice_loss(mask, probs),
        "ce_dice": np_ce(mask, probs) + np_dice_loss(mask, probs),
        "auto": np_ce(mask, probs) + np_dice_loss(mask, probs),
        "bce_dice": np_bce(mask, probs) + np_dice_loss(mask, probs),
        "focal": np_focal(mask, probs),
    }
    assert set(expected) | {"weighted_ce"} == set(LOSSES)  # weighted_ce: tests/test_unet_paper.py
    for name, value in expected.items():
        got = float(segmentation_loss(3, name)(mask, probs))
        np.testing.assert_allclose(got, value, rtol=1e-5, err_msg=name)


def test_perfect_prediction_scores_zero_dice_loss_even_for_an_empty_mask():
    for mask in (_masks()["empty"], _masks()["full"], _masks()["mixed"]):
        perfect = np.eye(3, dtype=np.float32)[mask[..., 0]]
        assert float(segmentation_loss(3, "dice")(mask, perfect)) == pytest.approx(0.0, abs=1e-6)
        assert float(segmentation_loss(3, "ce")(mask, perfect)) < 1e-5


def test_focal_with_gamma_zero_is_cross_entropy_and_alpha_weights_classes():
    mask, probs = _masks()["mixed"], _probs(3, seed=2)
    np.testing.assert_allclose(
        float(FocalLoss(3, gamma=0.0)(mask, probs)), np_ce(mask, probs), rtol=1e-5
    )
    alpha = [0.25, 1.0, 2.0]
    np.testing.assert_allclose(
        float(FocalLoss(3, gamma=1.5, alpha=alpha)(mask, probs)),
        np_focal(mask, probs, gamma=1.5, alpha=alpha), rtol=1e-5,
    )


def test_one_sigmoid_channel_equals_two_softmax_channels():
    mask = np.clip(_masks()["mixed"], 0, 1)
    p = np.random.default_rng(3).random((2, 4, 4, 1)).astype(np.float32)
    two = np.concatenate([1 - p, p], axis=-1)
    for name in LOSSES:
        np.testing.assert_allclose(
            float(segmentation_loss(2, name)(mask, p)), float(segmentation_loss(2, name)(mask, two)),
            rtol=1e-5, err_msg=name,
        )
    np.testing.assert_allclose(float(segmentation_loss(2, "bce")(mask, p)), np_bce(mask, two), rtol=1e-5)
    for metric_one, metric_two in zip(segmentation_metrics(2), segmentation_metrics(2)):
        metric_one.update_state(mask, p)
        metric_two.update_state(mask, two)
        assert float(metric_one.result()) == pytest.approx(float(metric_two.result()))


@pytest.mark.parametrize("case", ["mixed", "empty", "full"])
def test_metrics_match_numpy_over_two_batches(case):
    mask = _masks()[case]
    probs_a, probs_b = _probs(3, seed=4), _probs(3, seed=5)
    metrics = segmentation_metrics(3)
    assert [m.name for m in metrics] == ["mean_iou", "dice", "pixel_accuracy"]
    for m in metrics:
        m.update_state(mask, probs_a)
        m.update_state(mask[::-1], probs_b)
    cm = np_confusion(mask, probs_a.argmax(-1), 3) + np_confusion(mask[::-1], probs_b.argmax(-1), 3)
    iou, dice, accuracy = np_scores(cm)
    got = [float(m.result()) for m in metrics]
    np.testing.assert_allclose(got, [iou, dice, accuracy], rtol=1e-6)
    np.testing.assert_array_equal(metrics[0].confusion_matrix(), cm)
    scores = per_class_scores(metrics[0])
    assert scores["mean_iou"] == pytest.approx(iou)
    t, p, tp = cm.sum(1), cm.sum(0), np.diag(cm)
    for c in range(3):
        if t[c] + p[c]:
            assert scores["iou"][c] == pytest.approx(tp[c] / (t[c] + p[c] - tp[c]))
        else:
            assert np.isnan(scores["iou"][c])


def test_perfect_and_empty_predictions():
    mask = _masks()["full"]
    perfect = np.eye(3, dtype=np.float32)[mask[..., 0]]
    metrics = segmentation_metrics(3)
    for m in metrics:
        m.update_state(mask, perfect)
    assert [float(m.result()) for m in metrics] == [1.0, 1.0, 1.0]
    # all-background prediction of a full mask: nothing right, IoU 0 for both present classes
    background = np.eye(3, dtype=np.float32)[np.zeros((2, 4, 4), int)]
    for m in metrics:
        m.reset_state()
        m.update_state(mask, background)
    assert [float(m.result()) for m in metrics] == [0.0, 0.0, 0.0]
    assert scores_from_confusion(np.zeros((2, 2)))["mean_iou"] == 0.0


def test_losses_and_metrics_serialize_and_compile_into_a_saved_model(tmp_path):
    loss = CEDiceLoss(3, ce_weight=0.5, dice_weight=2.0, smooth=0.5)
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    mask, probs = _masks()["mixed"], _probs(3)
    assert float(clone(mask, probs)) == pytest.approx(float(loss(mask, probs)))
    expected = 0.5 * np_ce(mask, probs) + 2.0 * np_dice_loss(mask, probs, smooth=0.5)
    assert float(loss(mask, probs)) == pytest.approx(expected, rel=1e-5)
    for metric in (MeanIoU(3), DiceCoefficient(3), PixelAccuracy(3)):
        copy = keras.metrics.deserialize(keras.metrics.serialize(metric))
        assert type(copy) is type(metric) and copy.name == metric.name and copy.num_classes == 3
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(3, 1, activation="softmax")(inputs))
    model.compile("adam", loss=segmentation_loss(3), metrics=segmentation_metrics(3))
    model.fit(np.ones((2, 4, 4, 3), np.float32), mask, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    scores = loaded.evaluate(np.ones((2, 4, 4, 3), np.float32), mask, verbose=0, return_dict=True)
    assert {"loss", "mean_iou", "dice", "pixel_accuracy"} <= set(scores)


def test_bad_names_and_shapes():
    with pytest.raises(ValueError, match="dice.*Received: loss='jaccard'"):
        segmentation_loss(2, "jaccard")
    with pytest.raises(ValueError, match="num_classes"):
        segmentation_loss(0)
    with pytest.raises(ValueError, match="outputs 4 channels"):
        segmentation_loss(3)(_masks()["mixed"], _probs(4))
    with pytest.raises(ValueError, match="alpha"):
        FocalLoss(3, alpha=[1.0, 2.0])


DISTRIBUTED = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0],
        [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()],
    )
    import keras
    from kerascv_course.training.losses import segmentation_loss, segmentation_metrics
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=(12, 8, 8)).astype("float32")
    masks = rng.integers(0, 3, (12, 8, 8, 1)).astype("int32")
    out = {}
    for name, strategy in (("one", tf.distribute.OneDeviceStrategy("/cpu:0")),
                           ("two", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))):
        with strategy.scope():
            inputs = keras.Input((8, 8, 3))
            model = keras.Model(inputs, keras.layers.Activation("linear")(inputs))
            model.compile(loss=segmentation_loss(3), metrics=segmentation_metrics(3))
        ds = tf.data.Dataset.from_tensor_slices((probs, masks)).batch(4)
        out[name] = model.evaluate(ds, verbose=0, return_dict=True)
        out[name]["replicas"] = strategy.num_replicas_in_sync
    json.dump(out, sys.stdout)
    """
)


@pytest.mark.gpu
@pytest.mark.slow
def test_metrics_are_exact_under_a_two_replica_strategy():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, "-c", DISTRIBUTED], capture_output=True, text=True, env=env, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["one"]["replicas"] == 1 and out["two"]["replicas"] == 2
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=(12, 8, 8)).astype("float32")
    masks = rng.integers(0, 3, (12, 8, 8, 1)).astype("int32")
    iou, dice, accuracy = np_scores(np_confusion(masks, probs.argmax(-1), 3))
    loss = np_ce(masks, probs) + np_dice_loss(masks, probs)
    for name in ("one", "two"):
        got = out[name]
        np.testing.assert_allclose(
            [got["mean_iou"], got["dice"], got["pixel_accuracy"], got["loss"]],
            [iou, dice, accuracy, loss], rtol=1e-5, err_msg=name,
        )
