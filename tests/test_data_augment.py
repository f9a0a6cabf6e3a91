"""Augmentations: shapes, dtypes, ranges, seeds, exact references, policies and bad input."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import tensorflow as tf

from kerascv_course.data.constants import IMAGENET_PCA
from kerascv_course.data.datasets.base import DatasetInfo
from kerascv_course.data.policies import Policy, get_policy, list_policies
from kerascv_course.data.transforms.affine import affine_matrices, affine_transform
from kerascv_course.data.transforms.geometric import (
    elastic_distort,
    pad_and_crop,
    random_affine,
    random_crop,
    random_flip,
    random_resized_crop,
    scale_jitter,
)
from kerascv_course.data.transforms.pca import PCALighting, pca_for_dataset
from kerascv_course.data.transforms.photometric import (
    color_jitter,
    cutout,
    random_brightness,
    random_contrast,
    random_saturation,
)

SEED = tf.constant([11, 22], tf.int64)
OTHER = tf.constant([33, 44], tf.int64)

TRANSFORMS = {
    "random_flip": random_flip,
    "random_crop": functools.partial(random_crop, size=(20, 24)),
    "pad_and_crop": pad_and_crop,
    "pad_and_crop_reflect": functools.partial(pad_and_crop, mode="reflect"),
    "random_resized_crop": functools.partial(random_resized_crop, size=16),
    "random_resized_crop_random_method": functools.partial(random_resized_crop, size=16, interpolation="random"),
    "scale_jitter": functools.partial(scale_jitter, size=24, scale_range=(24, 48)),
    "scale_jitter_flip": functools.partial(scale_jitter, size=24, scale_range=(24, 48), flip=0.5),
    "random_resized_crop_flip": functools.partial(random_resized_crop, size=16, flip=0.5),
    "random_affine": functools.partial(
        random_affine, rotation=15, scale=(0.9, 1.1), squeeze=0.1, shear=10, translate=0.1
    ),
    "elastic_distort": elastic_distort,
    "cutout": functools.partial(cutout, size=8),
    "random_brightness": random_brightness,
    "random_contrast": random_contrast,
    "random_saturation": random_saturation,
    "color_jitter": color_jitter,
    "pca_lighting": PCALighting(**IMAGENET_PCA),
}
OUT_SIZE = {"random_crop": (20, 24), "random_resized_crop": (16, 16), "random_resized_crop_random_method": (16, 16), "scale_jitter": (24, 24),
            "scale_jitter_flip": (24, 24), "random_resized_crop_flip": (16, 16)}


def _images(n=6, h=28, w=32, c=3, seed=(1, 2)):
    return tf.random.stateless_uniform([n, h, w, c], seed)


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_contract(name):
    fn = TRANSFORMS[name]
    batch = _images()
    h, w = OUT_SIZE.get(name, (28, 32))
    a, b, c = fn(batch, SEED), fn(batch, SEED), fn(batch, OTHER)
    assert a.shape == (6, h, w, 3) and a.dtype == tf.float32
    assert float(tf.reduce_min(a)) >= 0.0 and float(tf.reduce_max(a)) <= 1.0
    assert np.array_equal(a.numpy(), b.numpy())  # same seed, same result
    assert not np.array_equal(a.numpy(), c.numpy())  # another seed, another result
    single = fn(batch[0], SEED)  # one image works too
    assert single.shape == (h, w, 3)
    graph = tf.function(fn)(batch, SEED)  # graph mode gives the same as eager
    assert np.allclose(graph.numpy(), a.numpy(), atol=1e-5)
    # each image of a batch draws its own values: copies of one image come out different
    copies = fn(tf.repeat(batch[:1], 6, axis=0), SEED).numpy()
    assert any(not np.array_equal(copies[0], copies[i]) for i in range(1, 6))


def test_random_crop_and_pad_and_crop_are_exact_slices():
    x = np.arange(3 * 10 * 12 * 2, dtype=np.float32).reshape(3, 10, 12, 2) / 1000
    out = random_crop(tf.constant(x), SEED, size=(4, 5)).numpy()
    for i in range(3):
        hits = [(y, z) for y in range(7) for z in range(8) if np.array_equal(x[i, y : y + 4, z : z + 5], out[i])]
        assert len(hits) == 1
    padded = np.pad(x, [(0, 0), (4, 4), (4, 4), (0, 0)])
    out = pad_and_crop(tf.constant(x), OTHER, padding=4).numpy()
    for i in range(3):
        assert any(np.array_equal(padded[i, y : y + 10, z : z + 12], out[i]) for y in range(9) for z in range(9))
    offsets = {tuple(np.argwhere(np.isclose(pad_and_crop(tf.constant(x), tf.constant([s, 0]), padding=4).numpy()[0], x[0, 0, 0]))[0][:2]) for s in range(12)}
    assert len(offsets) > 3  # the crop moves with the seed


def test_flip_probabilities():
    x = _images(4)
    assert np.array_equal(random_flip(x, SEED, p=1.0).numpy(), x.numpy()[:, :, ::-1])
    assert np.array_equal(random_flip(x, SEED, p=0.0).numpy(), x.numpy())
    flips = random_flip(_images(200, 4, 4, 1), SEED).numpy()
    changed = np.mean([not np.array_equal(f, o) for f, o in zip(flips, _images(200, 4, 4, 1).numpy())])
    assert 0.35 < changed < 0.65


def test_scale_jitter_matches_resize_then_crop():
    x = _images(2, 20, 30)
    # S equal to the shorter side and a full-size crop: the image itself
    assert np.allclose(scale_jitter(x, SEED, size=(20, 30), scale_range=(20, 20)), x, atol=1e-5)
    # S = 40 and a 40x60 crop: tf.image.resize by 2
    ref = tf.image.resize(x, (40, 60))
    assert np.allclose(scale_jitter(x, SEED, size=(40, 60), scale_range=(40, 40)), ref, atol=1e-5)


def test_one_image_crops_are_resized_integer_windows():
    """One image (the pipeline's path above 64x64) takes a whole-pixel window and tf.image.resize."""
    x = _images(1, 30, 40)[0]
    assert np.allclose(scale_jitter(x, SEED, size=(30, 40), scale_range=(30, 30)), x, atol=1e-6)
    assert np.allclose(scale_jitter(x, SEED, size=(60, 80), scale_range=(60, 60)), tf.image.resize(x, (60, 80)), atol=1e-6)
    # S = 45: a 20x20 output covers a 13x13 (20/1.5, rounded) window at some integer offset
    for seed in (SEED, OTHER):
        out = scale_jitter(x, seed, size=20, scale_range=(45, 45)).numpy()
        hits = [(y, z) for y in range(18) for z in range(28)
                if np.allclose(tf.image.resize(x[y : y + 13, z : z + 13], (20, 20)).numpy(), out, atol=1e-6)]
        assert len(hits) == 1, hits
    assert np.allclose(random_resized_crop(x[:24, :24], SEED, size=12, scale=(1.0, 1.0), ratio=(1.0, 1.0)),
                       tf.image.resize(x[:24, :24], (12, 12)), atol=1e-6)
    methods = set()
    for i in range(16):  # interpolation="random": bilinear or nearest, both drawn
        out = random_resized_crop(x, tf.constant([i, 5]), size=10, scale=(1.0, 1.0), ratio=(4 / 3, 4 / 3),
                                    interpolation="random").numpy()
        for method in ("bilinear", "nearest"):
            if np.allclose(out, tf.image.resize(x, (10, 10), method=method).numpy(), atol=1e-6):
                methods.add(method)
    assert methods == {"bilinear", "nearest"}
    assert np.array_equal(random_flip(x, SEED, p=1.0).numpy(), x.numpy()[:, ::-1])
    assert np.array_equal(random_flip(x, SEED, p=0.0).numpy(), x.numpy())


@pytest.mark.parametrize("rank", [3, 4])
def test_fused_flip_mirrors_the_same_crop(rank):
    """flip=p mirrors the very crop flip=0 takes (same seed), with probability p per image."""
    x = _images(40, 30, 40)
    seeds = [tf.constant([i, 7], tf.int64) for i in range(40)]
    for crop in (functools.partial(scale_jitter, size=20, scale_range=(25, 45)),
                 functools.partial(random_resized_crop, size=(16, 12), scale=(0.3, 1.0))):
        if rank == 4:
            plain, mirrored, mixed = (crop(x, SEED, flip=p).numpy() for p in (0.0, 1.0, 0.5))
        else:
            plain, mirrored, mixed = (np.stack([crop(x[i], seeds[i], flip=p).numpy() for i in range(40)])
                                      for p in (0.0, 1.0, 0.5))
        assert np.allclose(mirrored, plain[:, :, ::-1], atol=1e-5)
        flipped = [np.allclose(m, f, atol=1e-5) and not np.allclose(m, o, atol=1e-5)
                   for m, f, o in zip(mixed, mirrored, plain)]
        kept = [np.allclose(m, o, atol=1e-5) for m, o in zip(mixed, plain)]
        assert all(a != b for a, b in zip(flipped, kept))  # each image is one or the other
        assert 8 <= sum(flipped) <= 32
    with pytest.raises(ValueError, match=r"`flip` must be a number >= 0\.0 and <= 1\.0\. Received: flip=1\.5"):
        scale_jitter(x, SEED, size=20, scale_range=(25, 45), flip=1.5)


def test_random_resized_crop_of_whole_image_is_a_resize():
    x = _images(2, 24, 24)
    out = random_resized_crop(x, SEED, size=12, scale=(1.0, 1.0), ratio=(1.0, 1.0))
    assert np.allclose(out, tf.image.resize(x, (12, 12)), atol=1e-5)


def test_affine_reference_cases():
    x = _images(1, 9, 9, 1)
    same = random_affine(x, SEED)  # all ranges zero: identity
    assert np.array_equal(same.numpy(), x.numpy())
    turn = affine_transform(x, affine_matrices(1, 9, 9, angle=math.pi / 2), interpolation="nearest")
    assert np.allclose(turn.numpy()[0, ..., 0], np.rot90(x.numpy()[0, ..., 0], -1))
    shift = affine_transform(x, affine_matrices(1, 9, 9, shift_x=2.0, shift_y=-1.0))
    ref = np.zeros_like(x.numpy())
    ref[0, :8, 2:] = x.numpy()[0, 1:, :7]
    assert np.allclose(shift.numpy(), ref, atol=1e-6)
    zoom = affine_transform(x, affine_matrices(1, 9, 9, scale_x=2.0, scale_y=2.0), interpolation="nearest")
    assert np.isclose(zoom.numpy()[0, 4, 4, 0], x.numpy()[0, 4, 4, 0])  # the centre stays put
    assert np.array_equal(elastic_distort(x, SEED, alpha=0.0).numpy(), x.numpy())


def test_affine_kernel_matches_the_tensorflow_op():
    # the XLA-compiled kernel stands in for ImageProjectiveTransformV3 (bilinear, zeros outside)
    rng = np.random.default_rng(0)
    for trial in range(6):
        b, h, w, c = 3, int(rng.integers(5, 30)), int(rng.integers(5, 30)), 1 + trial % 3
        x = tf.constant(rng.random((b, h, w, c)), tf.float32)
        t = affine_matrices(
            b, h, w, angle=rng.uniform(-3, 3, b), scale_x=rng.uniform(0.4, 2.5, b), scale_y=rng.uniform(0.4, 2.5, b),
            shear=rng.uniform(-0.5, 0.5, b), shift_x=rng.uniform(-w, w, b), shift_y=rng.uniform(-h, h, b),
        )
        if trial % 2:  # projective terms too
            t = tf.concat([t[:, :6], tf.constant(rng.uniform(-0.05, 0.05, (b, 2)), tf.float32)], axis=1)
        ref = tf.raw_ops.ImageProjectiveTransformV3(
            images=x, transforms=t, output_shape=[h, w], fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT"
        ).numpy()
        out = affine_transform(x, t).numpy()
        assert out.shape == ref.shape and 0 < np.count_nonzero(ref) < ref.size
        assert np.abs(out - ref).max() < 1e-4
    # random_affine: the fused kernel (float32) and the op (float64, or a size unknown when traced)
    # give the same images for the same seed
    x = _images(6, 20, 24, 3)
    kwargs = dict(rotation=20.0, scale=(0.8, 1.2), squeeze=0.2, shear=10.0, translate=0.1)
    fast = random_affine(x, SEED, **kwargs).numpy()
    assert not np.allclose(fast, x.numpy(), atol=0.05)
    assert np.abs(fast - random_affine(tf.cast(x, tf.float64), SEED, **kwargs).numpy()).max() < 1e-4
    unknown = tf.function(lambda im: random_affine(im, SEED, **kwargs), input_signature=[tf.TensorSpec([None, None, None, 3])])
    assert np.abs(fast - unknown(x).numpy()).max() < 1e-4


def test_cutout_blanks_one_square():
    x = tf.fill([40, 30, 30, 3], 0.25)
    out = cutout(x, SEED, size=6, fill=0.75).numpy()
    for image in out:
        hole = np.all(image == 0.75, axis=-1)
        ys, xs = np.nonzero(hole)
        assert 0 < hole.sum() <= 36 and np.all(image[~hole] == 0.25)
        assert hole.sum() == (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)  # a rectangle
    assert sum(np.all(im == 0.75, axis=-1).sum() == 36 for im in out) > 20  # mostly whole squares
    assert np.array_equal(cutout(x, SEED, size=6, p=0.0).numpy(), x.numpy())


def test_photometric_references():
    x = 0.3 + 0.4 * _images(5)  # values in [0.3, 0.7]: no clipping
    bright = (random_brightness(x, SEED, max_delta=0.2) - x).numpy()
    for d in bright:
        assert np.allclose(d, d.flat[0], atol=1e-6) and abs(d.flat[0]) <= 0.2
    contrast = random_contrast(x, SEED, lower=0.6, upper=0.9).numpy()
    mean = x.numpy().mean(axis=(1, 2), keepdims=True)
    dev, out_dev = x.numpy() - mean, contrast - mean
    for d, o in zip(dev, out_dev):
        f = (d * o).sum() / (d * d).sum()  # the one factor per image
        assert 0.6 <= f <= 0.9 and np.allclose(o, f * d, atol=1e-5)
    sat = random_saturation(x, SEED)
    assert np.allclose(tf.image.rgb_to_grayscale(sat), tf.image.rgb_to_grayscale(x), atol=1e-4)
    grey = _images(2, c=1)
    assert np.array_equal(random_saturation(grey, SEED).numpy(), grey.numpy())


def test_pca_lighting_matches_numpy():
    rng = np.random.default_rng(0)
    pixels = rng.random((500, 3)) @ np.array([[1.0, 0.5, 0.2], [0.0, 0.6, 0.3], [0.0, 0.0, 0.2]])
    images = pixels.reshape(5, 10, 10, 3)
    pca = PCALighting.from_images(images, std=0.1)
    vals, vecs = np.linalg.eigh(np.cov(pixels, rowvar=False))
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    assert np.allclose(pca.eigvals, vals, atol=1e-6)
    assert np.allclose(np.abs(pca.eigvecs), np.abs(vecs), atol=1e-5)  # up to each vector's sign
    x = np.full((2, 4, 4, 3), 0.5, np.float32)
    x[1] = 0.2
    out = pca(tf.constant(x), SEED).numpy()
    alpha = tf.random.stateless_normal([2, 3], SEED, stddev=0.1).numpy()
    shift = (alpha * pca.eigvals) @ pca.eigvecs.T  # sum_i alpha_i lambda_i p_i
    assert np.allclose(out, np.clip(x + shift[:, None, None, :], 0, 1), atol=1e-6)


def test_pca_from_dataset_and_cache():
    ds = tf.data.Dataset.from_tensor_slices((np.random.default_rng(1).integers(0, 255, (20, 8, 8, 3), np.uint8), np.zeros(20)))
    pca = PCALighting.from_dataset(ds, pixels_per_image=64)
    assert pca.eigvals.shape == (3,) and pca.eigvecs.shape == (3, 3)
    assert np.all(pca.eigvals[:-1] >= pca.eigvals[1:])
    info = DatasetInfo("shapes", "classification", 10, [str(i) for i in range(10)], (16, 16, 3),
                       extra=dict(load_args=dict(image_size=16, num_examples=64)))
    first = pca_for_dataset(info)
    again = pca_for_dataset(info, std=0.2)
    assert np.array_equal(first.eigvals, again.eigvals) and again.std == 0.2


def test_bad_arguments():
    x = _images(2)
    with pytest.raises(ValueError, match=r"`p` must be a number >= 0\.0 and <= 1\.0\. Received: p=1\.5"):
        random_flip(x, SEED, p=1.5)
    with pytest.raises(ValueError, match=r"`p` must be a number >= 0\.0 and <= 1\.0\. Received: p=-0\.1"):
        cutout(x, SEED, p=-0.1)
    with pytest.raises(ValueError, match="larger than the image"):
        random_crop(x, SEED, size=40)
    with pytest.raises(ValueError, match="scale_range"):
        scale_jitter(x, SEED, size=24, scale_range=(16, 30))
    with pytest.raises(ValueError, match="scale"):
        random_resized_crop(x, SEED, size=8, scale=(0.5, 1.5))
    with pytest.raises(ValueError, match="interpolation"):
        random_resized_crop(x, SEED, size=8, interpolation="cubic")
    with pytest.raises(ValueError, match="image"):
        random_flip(tf.zeros([4, 4]), SEED)


@pytest.mark.parametrize("name", ["lenet", "alexnet", "vgg", "inception", "resnet", "cifar"])
def test_named_policies(name):
    info = DatasetInfo("shapes", "classification", 10, list("abcdefghij"), (40, 40, 3), mean=(0.4,) * 3, std=(0.2,) * 3,
                       extra=dict(pca=IMAGENET_PCA))
    policy = get_policy(name, image_size=32, info=info)
    assert isinstance(policy, Policy) and policy.name == name
    stored = _images(4, 40, 40) if policy.output_size else _images(4, 32, 32)
    labels = tf.constant([1, 2, 3, 4])
    image, out_labels = policy(stored, labels, SEED)
    assert image.shape == (4, 32, 32, 3)  # the model's size, whatever the stored size
    assert np.array_equal(out_labels.numpy(), labels.numpy())
    one, label = policy(stored[0], labels[0], SEED)
    assert one.shape == (32, 32, 3) and int(label) == 1
    if policy.output_size:
        odd, _ = policy(_images(2, 50, 70), labels[:2], SEED)  # any stored size
        assert odd.shape == (2, 32, 32, 3)


def test_get_policy_errors_and_names():
    assert list_policies() == ["alexnet", "cifar", "inception", "lenet", "none", "resnet", "vgg"]
    assert get_policy("none") is None
    with pytest.raises(ValueError, match="Known augmentation policies: alexnet, cifar"):
        get_policy("autoaugment")
    with pytest.raises(ValueError, match="its options: padding"):
        get_policy("cifar", image_size=32, cutout=16)
    variable = DatasetInfo("pets", "classification", 2, ["a", "b"], (None, None, 3))
    with pytest.raises(ValueError, match="image_size"):
        get_policy("inception", info=variable)
    with pytest.raises(ValueError, match="task"):
        get_policy("cifar", task="detection")
    with_cutout = get_policy("cifar", image_size=32, cutout_size=8)
    assert len(with_cutout.transforms) == 3


def test_segmentation_policies_are_delegated():
    policy = get_policy("segmentation", task="segmentation", image_size=32)
    image = _images(2, 32, 32)
    mask = tf.cast(tf.random.stateless_uniform([2, 32, 32, 1], SEED, 0, 3, tf.int32), tf.uint8)
    out, out_mask = policy(image, mask, SEED)
    assert out.shape == image.shape and out_mask.shape == mask.shape and out_mask.dtype == tf.uint8
    assert set(np.unique(out_mask.numpy())) <= {0, 1, 2}
    assert get_policy("none", task="segmentation") is None
