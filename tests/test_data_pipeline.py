"""make_pipeline: batches, normalisation, channels, seeds, vectorised augmentation, distribution,
and the show-augment command."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kerascv_course.data import load_dataset, make_pipeline
from kerascv_course.data.datasets.base import DatasetInfo
from kerascv_course.data.policies import get_policy


@pytest.fixture(scope="module")
def shapes():
    return load_dataset("shapes", "train", num_examples=96, image_size=32)


def _batches(ds, n=None):
    return [(x.numpy(), y.numpy()) for x, y in (ds.take(n) if n else ds)]


def test_evaluation_batches_are_the_normalised_images(shapes):
    ds, info = shapes
    raw = np.stack([x for x, _ in ds.as_numpy_iterator()]).astype(np.float32) / 255.0
    labels = np.array([y for _, y in ds.as_numpy_iterator()])
    batches = _batches(make_pipeline(ds, info, training=False, batch_size=40))
    assert [b[0].shape for b in batches] == [(40, 32, 32, 3), (40, 32, 32, 3), (16, 32, 32, 3)]
    images = np.concatenate([b[0] for b in batches])
    assert images.dtype == np.float32
    assert np.allclose(images, (raw - np.array(info.mean)) / np.array(info.std), atol=1e-5)
    assert np.array_equal(np.concatenate([b[1] for b in batches]), labels)
    dropped = _batches(make_pipeline(ds, info, training=False, batch_size=40, drop_remainder=True))
    assert len(dropped) == 2


def test_training_shuffles_with_the_seed(shapes):
    ds, info = shapes
    policy = get_policy("cifar", info=info)

    def labels(seed):
        pipe = make_pipeline(ds, info, training=True, batch_size=96, seed=seed, augment=policy)
        return [_batches(pipe)[0] for _ in range(2)]  # two epochs

    a, b, c = labels(1), labels(1), labels(2)
    assert np.array_equal(a[0][0], b[0][0]) and np.array_equal(a[1][0], b[1][0])  # reproducible
    assert not np.array_equal(a[0][1], c[0][1])  # another seed, another order
    assert not np.array_equal(a[0][1], a[1][1])  # reshuffled each epoch
    assert sorted(a[0][1]) == sorted(a[1][1])


def test_whole_set_shuffle_yields_every_example_once_per_epoch():
    # 10 examples whose pixels carry their index, so batches can be traced back to examples
    images = np.arange(10, dtype=np.uint8)[:, None, None, None] * np.ones((1, 4, 4, 1), np.uint8)
    ds = tf.data.Dataset.from_tensor_slices((images, np.arange(10)))
    info = DatasetInfo(name="ten", task="classification", num_classes=10, class_names=[str(i) for i in range(10)],
                       image_shape=(4, 4, 1), num_examples=10)

    def epochs(**kwargs):
        pipe = make_pipeline(ds, info, training=True, batch_size=4, seed=3, normalize=False, **kwargs)
        return [_batches(pipe) for _ in range(2)]

    for kwargs in ({}, {"shuffle_buffer": 4}):  # the whole-set path, and tf.data's shuffle buffer
        runs = epochs(**kwargs)
        for batches in runs:
            assert [len(y) for _, y in batches] == [4, 4, 2]
            labels = np.concatenate([y for _, y in batches])
            assert sorted(labels) == list(range(10))  # each example once
            for x, y in batches:  # images stay with their labels
                assert np.allclose(x[:, 0, 0, 0] * 255, y)
        first, second = (np.concatenate([y for _, y in b]) for b in runs)
        assert not np.array_equal(first, second)  # a new order each epoch
        assert np.array_equal(first, np.concatenate([y for _, y in epochs(**kwargs)[0]]))  # seeded
    dropped = make_pipeline(ds, info, training=True, batch_size=4, drop_remainder=True)
    assert dropped.element_spec[0].shape.as_list() == [4, 4, 4, 1]
    assert [len(y) for _, y in _batches(dropped)] == [4, 4]


def test_groups_of_batches_give_the_same_batches(shapes, monkeypatch):
    # Small batches are gathered and normalised in groups of batches, then split: the batches
    # (and their known count) must be those of one batch at a time.
    ds, info = shapes
    from kerascv_course.data import pipeline

    assert pipeline._group(8, tf.TensorShape([32, 32, 3])) == 16
    assert pipeline._group(128, tf.TensorShape([32, 32, 3])) == 4
    assert pipeline._group(32, tf.TensorShape([224, 224, 3])) == 1

    def run(**kwargs):
        pipe = make_pipeline(ds, info, batch_size=10, seed=5, **kwargs)
        return int(pipe.cardinality()), _batches(pipe)

    for kwargs in (dict(training=False), dict(training=True), dict(training=True, shuffle_buffer=8),
                   dict(training=True, drop_remainder=True)):
        grouped = run(**kwargs)
        with monkeypatch.context() as patch:
            patch.setattr(pipeline, "GROUP_MAX_PIXELS", 0)  # one batch per call
            single = run(**kwargs)
        n = 9 if kwargs.get("drop_remainder") else 10  # 96 examples
        assert grouped[0] == single[0] == len(grouped[1]) == n
        assert [len(y) for _, y in grouped[1]] == [len(y) for _, y in single[1]]
        for (xa, ya), (xb, yb) in zip(grouped[1], single[1]):
            assert np.array_equal(ya, yb) and np.array_equal(xa, xb)


def test_vectorised_and_per_image_augmentation(shapes):
    ds, info = shapes
    for name in ("cifar", "lenet", "vgg"):
        policy = get_policy(name, info=info, image_size=24 if name == "vgg" else None)
        size = 24 if name == "vgg" else 32
        for vectorize in (True, False):
            x, y = _batches(make_pipeline(ds, info, training=True, batch_size=32, augment=policy,
                                          vectorize=vectorize, image_size=size if name == "vgg" else None), 1)[0]
            assert x.shape == (32, size, size, 3) and y.shape == (32,)
    calls = []

    def custom(image, label, seed):  # a plain function: applied per image
        calls.append(image.shape)
        return tf.image.flip_up_down(image), label

    make_pipeline(ds, info, training=True, batch_size=8, augment=custom)
    assert calls and calls[0].rank == 3
    custom.batched = True  # a batch-capable augment: batches for small images, per image for big
    calls.clear()
    make_pipeline(ds, info, training=True, batch_size=8, augment=custom)
    make_pipeline(ds, info, training=True, batch_size=8, augment=custom, image_size=96)
    assert [c.rank for c in calls] == [4, 3]
    plain = _batches(make_pipeline(ds, info, training=False, batch_size=96, augment=custom))[0][0]
    flipped = _batches(make_pipeline(ds, info, training=True, batch_size=96, augment=custom, shuffle_buffer=1))[0][0]
    assert np.allclose(flipped, plain[:, ::-1], atol=1e-5)  # applied in training only


def test_channels_and_resize():
    digits, info = load_dataset("digits", "test")
    x, _ = _batches(make_pipeline(digits, info, training=False, batch_size=16, channels=3, image_size=40), 1)[0]
    assert x.shape == (16, 40, 40, 3)
    assert np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 1], x[..., 2])
    shapes_ds, shapes_info = load_dataset("shapes", "test", num_examples=8)
    grey, _ = _batches(make_pipeline(shapes_ds, shapes_info, training=False, batch_size=8, channels=1), 1)[0]
    assert grey.shape == (8, 32, 32, 1)
    with pytest.raises(ValueError, match="channels"):
        make_pipeline(digits, info, training=False, batch_size=4, channels=4)


def test_policy_that_crops_gets_stored_images(shapes):
    ds, info = shapes
    policy = get_policy("inception", info=info, image_size=20)
    x, _ = _batches(make_pipeline(ds, info, training=True, batch_size=16, image_size=20, augment=policy), 1)[0]
    assert x.shape == (16, 20, 20, 3)
    with pytest.raises(ValueError, match="same image_size"):
        make_pipeline(ds, info, training=True, batch_size=16, image_size=24, augment=policy)


def test_segmentation_masks_follow_resizes():
    image = np.zeros((20, 20, 3), np.uint8)
    mask = np.zeros((20, 20, 1), np.uint8)
    mask[:10] = 1
    mask[10:, 10:] = 2
    ds = tf.data.Dataset.from_tensor_slices((image[None], mask[None]))
    info = DatasetInfo("toy", "segmentation", 3, ["a", "b", "c"], (20, 20, 3))
    _, out = _batches(make_pipeline(ds, info, training=False, batch_size=1, image_size=10))[0]
    assert out.shape == (1, 10, 10, 1) and out.dtype == np.uint8
    assert np.array_equal(out[0, ..., 0], mask[::2, ::2, 0])


def test_bad_arguments(shapes, tmp_path):
    ds, info = shapes
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            make_pipeline(ds, info, training=True, batch_size=bad)
    with pytest.raises(ValueError, match="shuffle_buffer"):
        make_pipeline(ds, info, training=True, batch_size=4, shuffle_buffer=0)
    with pytest.raises(ValueError, match="image_size"):
        make_pipeline(ds, info, training=True, batch_size=4, image_size=(0, 3))
    with pytest.raises(FileNotFoundError, match="cache"):
        make_pipeline(ds, info, training=True, batch_size=4, cache=str(tmp_path / "no" / "cache"))
    with pytest.raises(ValueError, match="strategy"):
        make_pipeline(ds, info, training=True, batch_size=4, distribute=True)


def test_file_cache(shapes, tmp_path):
    ds, info = shapes
    pipe = make_pipeline(ds, info, training=False, batch_size=96, cache=str(tmp_path / "shapes.cache"))
    first = _batches(pipe)[0][0]
    assert any(p.name.startswith("shapes.cache") for p in tmp_path.iterdir())
    assert np.array_equal(first, _batches(pipe)[0][0])


@pytest.mark.gpu
@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus_gets_global_batches():
    # Logical devices must be set before TensorFlow starts: in a fresh process.
    script = textwrap.dedent(
        """
        import json
        import tensorflow as tf
        from kerascv_course.training.strategy import get_strategy
        from kerascv_course.data import load_dataset, make_pipeline
        from kerascv_course.data.policies import get_policy

        strategy = get_strategy("cpu:2")
        ds, info = load_dataset("shapes", "train", num_examples=40)
        result = dict(replicas=strategy.num_replicas_in_sync)
        for drop in (True, False):
            kwargs = dict(training=True, batch_size=16, augment=get_policy("cifar", info=info),
                          strategy=strategy, drop_remainder=drop)
            plain = make_pipeline(ds, info, **kwargs)
            policy = plain.options().experimental_distribute.auto_shard_policy
            result["data"] = policy == tf.data.experimental.AutoShardPolicy.DATA
            dist = make_pipeline(ds, info, distribute=True, **kwargs)
            steps = []
            for images, labels in dist:
                local = strategy.experimental_local_results(images)
                steps.append([int(t.shape[0]) for t in local])
            result[f"steps {drop}"] = steps
            result[f"plain {drop}"] = [int(x.shape[0]) for x, _ in plain]
        print(json.dumps(result))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    assert result["steps True"] == [[8, 8], [8, 8]]  # 40 examples: two global batches of 16
    assert result["plain True"] == [16, 16]
    assert result["steps False"] == [[8, 8], [8, 8], [4, 4]]  # and the last 8
    assert result["plain False"] == [16, 16, 8]
    assert result["data"]  # in-memory data: shard by examples


def test_show_augment_command_writes_a_png(tmp_path, capsys):
    from kerascv_course.cli import main

    out = tmp_path / "grid.png"
    code = main(["show-augment", "cifar", "--dataset", "shapes", "--output", str(out), "--n", "4",
                 "--repeats", "2", "--option", "cutout_size=8"])
    assert code == 0 and "Saved" in capsys.readouterr().out
    with Image.open(out) as png:
        assert png.format == "PNG" and png.size[0] > png.size[1] > 200
    code = main(["show-augment", "nonsense", "--dataset", "shapes", "--output", str(out)])
    assert code == 2 and "Known augmentation policies" in capsys.readouterr().err


def test_shard_policy_follows_storage():
    from kerascv_course.data.pipeline import shard_policy

    def info(storage):
        return DatasetInfo("x", "classification", 2, ["a", "b"], (8, 8, 3), extra=dict(storage=storage))

    policy = tf.data.experimental.AutoShardPolicy
    assert shard_policy(info("records")) == policy.FILE  # tfds record files
    assert shard_policy(info("memory")) == policy.DATA
    assert shard_policy(info("files")) == policy.DATA  # one image per file: shard the examples
