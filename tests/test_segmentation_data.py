"""Segmentation data: cracks, Oxford pets trimaps (mocked tfds), segfolder, joint augmentation, overlays."""

from __future__ import annotations

import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kerascv_course.data import dataset_task, list_datasets, load_dataset, make_pipeline
from kerascv_course.data.catalog import list_policies
from kerascv_course.data.datasets.procedural import generate_cracks
from kerascv_course.data.datasets.tfds import trimap_to_classes
from kerascv_course.data.policies import get_policy
from kerascv_course.data.transforms.joint import JointPolicy


def _arrays(ds: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    pairs = list(ds.as_numpy_iterator())
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


# ----------------------------------------------------------------------------- cracks


def test_segmentation_datasets_are_registered():
    names = list_datasets("segmentation")
    assert {"cracks", "oxford_iiit_pet_seg", "segfolder:PATH"} <= set(names)
    assert dataset_task("cracks") == dataset_task("segfolder:/x") == "segmentation"


def test_cracks_images_masks_and_info():
    ds, info = load_dataset("cracks", "test", image_size=48, num_examples=24)
    images, masks = _arrays(ds)
    assert images.shape == (24, 48, 48, 3) and images.dtype == np.uint8
    assert masks.shape == (24, 48, 48, 1) and masks.dtype == np.uint8
    assert set(np.unique(masks)) == {0, 1}
    assert info.task == "segmentation" and info.num_classes == 2
    assert info.class_names == ["background", "crack"] and info.image_shape == (48, 48, 3)
    assert info.num_examples == 24
    # Every image has a crack, thin (a small fraction of the pixels), and cracks are darker.
    fraction = masks.mean(axis=(1, 2, 3))
    assert (fraction > 0).all() and fraction.mean() < 0.2
    grey = images.mean(-1)
    crack, surface = grey[masks[..., 0] == 1].mean(), grey[masks[..., 0] == 0].mean()
    assert crack < surface - 20


def test_cracks_are_seeded_and_held_out_splits_are_fixed():
    a, _ = generate_cracks(3, 32, seed=5)
    b, mb = generate_cracks(3, 32, seed=5)
    c, _ = generate_cracks(3, 32, seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    train0, _ = _arrays(load_dataset("cracks", "train", image_size=32, num_examples=4, seed=0)[0])
    train1, _ = _arrays(load_dataset("cracks", "train", image_size=32, num_examples=4, seed=1)[0])
    test0, _ = _arrays(load_dataset("cracks", "test", image_size=32, num_examples=4, seed=0)[0])
    test1, _ = _arrays(load_dataset("cracks", "test", image_size=32, num_examples=4, seed=1)[0])
    val0, _ = _arrays(load_dataset("cracks", "validation", image_size=32, num_examples=4)[0])
    assert not np.array_equal(train0, train1)
    np.testing.assert_array_equal(test0, test1)
    assert not np.array_equal(test0, val0) and not np.array_equal(test0, train0)
    grey, _ = generate_cracks(2, 32, seed=1, channels=1)
    assert grey.shape == (2, 32, 32, 1)


@pytest.mark.parametrize(
    "kwargs,match",
    [(dict(size=8), "size"), (dict(num_examples=0), "num_examples"), (dict(channels=2), "channels")],
)
def test_cracks_bad_arguments(kwargs, match):
    args = dict(num_examples=2, size=32) | kwargs
    with pytest.raises(ValueError, match=match):
        generate_cracks(args.pop("num_examples"), **args)


# ----------------------------------------------------------------------------- Oxford pets


def test_trimaps_become_three_classes():
    trimap = tf.constant([[[1], [2], [3]], [[3], [2], [1]]], tf.uint8)
    np.testing.assert_array_equal(trimap_to_classes(trimap).numpy()[..., 0], [[0, 1, 2], [2, 1, 0]])


def test_oxford_pet_seg_through_mocked_tfds():
    import tensorflow_datasets as tfds

    def as_dataset(self, *args, **kwargs):
        def examples():
            for i in range(3):
                trimap = np.full((20, 30, 1), 2, np.uint8)  # background
                trimap[5:15, 5 + i : 20 + i] = 1  # the pet
                trimap[4, 5:20] = 3  # its border
                image = np.full((20, 30, 3), 40 * i, np.uint8)
                yield {"image": image, "segmentation_mask": trimap}

        return tf.data.Dataset.from_generator(
            examples,
            output_signature={
                "image": tf.TensorSpec((None, None, 3), tf.uint8),
                "segmentation_mask": tf.TensorSpec((None, None, 1), tf.uint8),
            },
        )

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        ds, info = load_dataset("oxford_iiit_pet_seg", "train", image_size=(40, 60))
    images, masks = _arrays(ds)
    assert info.num_classes == 3 and info.class_names == ["pet", "background", "border"]
    assert info.image_shape == (40, 60, 3) and info.task == "segmentation"
    assert images.shape == (3, 40, 60, 3) and masks.shape == (3, 40, 60, 1)
    assert masks.dtype == np.uint8 and set(np.unique(masks)) == {0, 1, 2}
    # nearest-neighbour doubling: the pet block of image 0 (rows 5..14, cols 5..19) -> 10..29, 10..39
    np.testing.assert_array_equal(masks[0, 10:30, 10:40, 0], 0)
    np.testing.assert_array_equal(masks[0, 8:10, 10:40, 0], 2)
    assert (masks[0, :8, :, 0] == 1).all() and (masks[0, 30:, :, 0] == 1).all()
    assert images[1].min() == images[1].max() == 40


# ----------------------------------------------------------------------------- segfolder


def _write_pair(folder, name, image, mask, ext=".png", mode=None):
    os.makedirs(os.path.join(folder, "images"), exist_ok=True)
    os.makedirs(os.path.join(folder, "masks"), exist_ok=True)
    Image.fromarray(image).save(os.path.join(folder, "images", name + ext))
    m = Image.fromarray(mask)
    if mode == "P":
        m = m.convert("P")
        m.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * (256 * 3 - 9))
    m.save(os.path.join(folder, "masks", name + ".png"))


def _square_mask(size, value, k):
    mask = np.zeros(size, np.uint8)
    mask[k : k + 4, k : k + 6] = value
    return mask


def test_segfolder_pairs_by_name_and_splits(tmp_path):
    root = str(tmp_path / "data")
    rng = np.random.default_rng(0)
    for k in range(10):
        image = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
        _write_pair(root, f"img{k:02d}", image, _square_mask((12, 16), 1 + k % 2, k % 5),
                    ext=".jpg" if k % 3 == 0 else ".png")
    with open(os.path.join(root, "classes.txt"), "w") as fh:
        fh.write("background\nsmall\nlarge\n")
    loaded = {s: load_dataset(f"segfolder:{root}", s, seed=3) for s in ("train", "validation", "test")}
    counts = {s: info.num_examples for s, (_, info) in loaded.items()}
    assert counts == {"train": 8, "validation": 1, "test": 1}
    ds, info = loaded["train"]
    assert info.num_classes == 3 and info.class_names == ["background", "small", "large"]
    assert info.image_shape == (12, 16, 3) and info.task == "segmentation"
    images, masks = _arrays(ds)
    assert images.shape == (8, 12, 16, 3) and masks.shape == (8, 12, 16, 1)
    # each mask is the square it was written with (4x6 pixels of its class)
    for mask in masks[..., 0]:
        assert (mask > 0).sum() == 24 and len(np.unique(mask)) == 2
    resized, rinfo = load_dataset(f"segfolder:{root}", "train", image_size=24, seed=3)
    _, rmasks = _arrays(resized)
    assert rinfo.image_shape == (24, 24, 3) and rmasks.shape == (8, 24, 24, 1)
    assert set(np.unique(rmasks)) <= {0, 1, 2}


def test_segfolder_split_folders_binary_255_and_palette_masks(tmp_path):
    root = str(tmp_path / "d")
    for split in ("train", "val", "test"):
        for k in range(2):
            image = np.full((8, 8), 100 + k, np.uint8)
            _write_pair(os.path.join(root, split), f"a{k}", image, _square_mask((8, 8), 255, k))
    ds, info = load_dataset(f"segfolder:{root}", "validation")
    assert info.num_classes == 2 and info.image_shape == (8, 8, 1)
    _, masks = _arrays(ds)
    assert set(np.unique(masks)) == {0, 1}
    palette_root = str(tmp_path / "p")
    for k in range(10):
        _write_pair(palette_root, f"p{k}", np.zeros((8, 8, 3), np.uint8), _square_mask((8, 8), 2, 1), mode="P")
    ds, info = load_dataset(f"segfolder:{palette_root}", "train")
    _, masks = _arrays(ds)
    assert info.num_classes == 3 and set(np.unique(masks)) == {0, 2}  # indices, not colours


def test_segfolder_errors(tmp_path):
    root = str(tmp_path / "bad")
    _write_pair(root, "a", np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9), np.uint8))
    with pytest.raises(ValueError, match="mask of 'a' is 9x8 but its image is 8x8"):
        load_dataset(f"segfolder:{root}", "train")
    root = str(tmp_path / "values")
    for k in range(10):
        _write_pair(root, f"v{k}", np.zeros((8, 8, 3), np.uint8), _square_mask((8, 8), 3, 1))
    with open(os.path.join(root, "classes.txt"), "w") as fh:
        fh.write("bg\nfg\n")
    with pytest.raises(ValueError, match=r"masks/v0.png holds mask value\(s\) \[3\] but classes.txt lists 2 classes"):
        load_dataset(f"segfolder:{root}", "train")
    root = str(tmp_path / "lonely")
    _write_pair(root, "x", np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8))
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(os.path.join(root, "images", "y.png"))
    with pytest.raises(ValueError, match=r"images without a mask: \['y'\]"):
        load_dataset(f"segfolder:{root}", "train")
    with pytest.raises(FileNotFoundError, match="no folder"):
        load_dataset(f"segfolder:{tmp_path / 'none'}", "train")


# ----------------------------------------------------------------------------- joint augmentation


def _pattern(h=40, w=48):
    """An asymmetric pattern drawn into both an image (1.0 = on) and a mask (class 1 or 2)."""
    mask = np.zeros((h, w, 1), np.uint8)
    mask[5:15, 8:30] = 1
    mask[20:36, 30:44] = 2
    mask[24:30, 4:10] = 1
    image = np.repeat((mask > 0).astype(np.float32), 3, axis=-1)
    image[..., 1] = (mask[..., 0] == 2)  # the green channel tells the two classes apart
    return image, mask


@pytest.mark.parametrize("name", ["segmentation", "segmentation_rot", "unet"])
def test_joint_policy_keeps_image_and_mask_aligned(name):
    policy = tf.function(get_policy(name, task="segmentation", brightness=0.0, contrast=0.0))
    image, mask = _pattern()
    moved = 0
    for s in range(12):
        out_image, out_mask = policy(tf.constant(image), tf.constant(mask), tf.constant([s, 11]))
        out_image, out_mask = out_image.numpy(), out_mask.numpy()[..., 0]
        assert out_image.shape == image.shape and out_mask.dtype == np.uint8
        red, green = out_image[..., 0], out_image[..., 1]
        # where bilinear sampling is exact (all neighbours alike) the nearest mask must agree
        assert ((red == 1) & (green == 1) <= (out_mask == 2)).all()
        assert ((red == 1) & (green == 0) <= (out_mask == 1)).all()
        assert ((red == 0) <= (out_mask == 0)).all()
        assert (red == 1).sum() > 0.5 * (mask > 0).sum()
        moved += not np.array_equal(out_mask, mask[..., 0])
    assert moved >= 10


def test_colour_changes_touch_the_image_only_and_policies_are_seeded():
    policy = get_policy("segmentation", task="segmentation", horizontal_flip=0.0, rotation=0.0, scale=(1, 1), translate=0.0)
    image, mask = _pattern()
    image = image * 0.6 + 0.2
    out_image, out_mask = policy(tf.constant(image), tf.constant(mask), tf.constant([1, 2]))
    np.testing.assert_array_equal(out_mask.numpy(), mask)
    assert not np.allclose(out_image.numpy(), image)
    assert 0.0 <= out_image.numpy().min() and out_image.numpy().max() <= 1.0
    full = get_policy("segmentation_rot", task="segmentation")
    a = full(tf.constant(image), tf.constant(mask), tf.constant([7, 8]))
    b = full(tf.constant(image), tf.constant(mask), tf.constant([7, 8]))
    c = full(tf.constant(image), tf.constant(mask), tf.constant([9, 8]))
    np.testing.assert_array_equal(a[1].numpy(), b[1].numpy())
    np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    assert not np.array_equal(a[0].numpy(), c[0].numpy())


def test_a_batch_draws_one_transform_per_image_and_runs_in_the_pipeline():
    policy = get_policy("segmentation_rot", task="segmentation", brightness=0.0, contrast=0.0)
    image, mask = _pattern(32, 32)
    images, masks = policy(tf.constant(np.stack([image] * 6)), tf.constant(np.stack([mask] * 6)), tf.constant([0, 1]))
    assert images.shape == (6, 32, 32, 3) and masks.shape == (6, 32, 32, 1)
    assert len({masks[i].numpy().tobytes() for i in range(6)}) > 1
    ds, info = load_dataset("cracks", "train", image_size=32, num_examples=8)
    batches = make_pipeline(ds, info, training=True, batch_size=4, augment=get_policy("segmentation", task="segmentation"))
    x, y = next(iter(batches))
    assert x.shape == (4, 32, 32, 3) and y.shape == (4, 32, 32, 1)
    assert set(np.unique(y.numpy())) <= {0, 1}


def test_policy_names_and_options():
    assert get_policy("none", task="segmentation") is None
    assert {"none", "segmentation"} <= set(list_policies("segmentation"))
    assert isinstance(get_policy("segmentation", task="segmentation", vertical_flip=0.5), JointPolicy)
    with pytest.raises(ValueError, match="Known segmentation augmentation policies: .*segmentation.*Received: augment='cifar'"):
        get_policy("cifar", task="segmentation")
    with pytest.raises(ValueError, match="Unknown option.*zoom"):
        get_policy("segmentation", task="segmentation", zoom=2)
    with pytest.raises(ValueError, match="horizontal_flip"):
        get_policy("segmentation", task="segmentation", horizontal_flip=2)
    assert isinstance(get_policy("segmentation", task="segmentation"), JointPolicy)


# ----------------------------------------------------------------------------- overlays


def test_overlay_png_from_a_dataset_and_from_arrays(tmp_path):
    from kerascv_course.models.unet import build_unet
    from kerascv_course.viz.overlays import plot_segmentation_samples

    ds, info = load_dataset("cracks", "test", image_size=32, num_examples=6)
    batches = make_pipeline(ds, info, training=False, batch_size=4)
    model = build_unet((32, 32, 3), classes=2, depth=2, base_filters=4)
    path = plot_segmentation_samples(model, batches, tmp_path / "s.png", n=3, class_names=info.class_names)
    with Image.open(path) as png:
        width, height = png.size
    assert path.endswith("s.png") and height > width  # 3 rows of 3 panels
    images, masks = _arrays(ds)
    path2 = plot_segmentation_samples(model, (images, masks), str(tmp_path / "a.png"), n=2)
    assert os.path.getsize(path2) > 1000
    with pytest.raises(ValueError, match="n="):
        plot_segmentation_samples(model, batches, tmp_path / "x.png", n=0)
    with pytest.raises(TypeError, match="dataset_or_arrays"):
        plot_segmentation_samples(model, "nope", tmp_path / "x.png")
