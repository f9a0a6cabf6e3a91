"""folder:PATH datasets from images the tests write, corrupt files and bad folders included."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest
from PIL import Image

from kerascv_course.data import load_dataset, make_pipeline
from kerascv_course.data.policies import get_policy

COLOURS = {"apple": (200, 30, 30), "grape": (90, 20, 160), "lime": (40, 200, 40)}


def _write(path, colour, size=(12, 10), mode="RGB", fmt=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image = Image.new("RGB", size, colour)
    if mode != "RGB":
        image = image.convert(mode)
    image.save(path, format=fmt)


@pytest.fixture
def fruit(tmp_path):
    """Three classes of 10 solid-colour images (PNG/BMP/GIF/JPEG), a corrupt JPEG, a truncated
    PNG, a non-image file and an empty class folder."""
    root = tmp_path / "fruit"
    for cls, colour in COLOURS.items():
        for i in range(10):
            ext = ("png", "bmp", "gif", "png", "jpg")[i % 5]
            _write(str(root / cls / f"{i:02d}.{ext}"), colour)
    (root / "apple" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    good = (root / "grape" / "00.png").read_bytes()
    (root / "grape" / "truncated.PNG").write_bytes(good[: len(good) // 2])
    (root / "lime" / "notes.txt").write_text("not an image")
    (root / "empty").mkdir()
    return root


def _collect(name, split, **kwargs):
    ds, info = load_dataset(name, split, **kwargs)
    pairs = list(ds.as_numpy_iterator())
    return pairs, info


def test_class_folders_split_skip_bad_files_and_ignore_empty_class(fruit, caplog):
    name = f"folder:{fruit}"
    with caplog.at_level(logging.WARNING):
        parts = {s: _collect(name, s, seed=3) for s in ("train", "validation", "test")}
    info = parts["train"][1]
    assert info.class_names == ["apple", "grape", "lime"]
    assert info.num_classes == 3 and info.image_shape == (10, 12, 3)
    assert sorted(info.extra["skipped"])[0].startswith(os.path.join("apple", "broken.jpg"))
    assert len(info.extra["skipped"]) == 2 and any("truncated.PNG" in s for s in info.extra["skipped"])
    assert "Skipping 2 unreadable image file(s)" in caplog.text and "empty" in caplog.text
    sizes = {s: len(p) for s, (p, _) in parts.items()}
    assert sizes == {"train": 24, "validation": 3, "test": 3}  # 10 per class, 10 % + 10 % held out
    for pairs, _ in parts.values():
        for image, label in pairs:
            assert image.dtype == np.uint8 and image.shape == (10, 12, 3)
            expected = np.array(COLOURS[info.class_names[label]])
            assert np.abs(image.reshape(-1, 3).astype(int) - expected).max() <= 3  # JPEG/GIF rounding
    # mean of the training images, from the up-front check
    assert np.allclose(info.mean, np.mean([COLOURS[c] for c in COLOURS], axis=0) / 255, atol=0.01)


def test_file_lists_are_disjoint_and_cover_every_good_image(fruit):
    name = f"folder:{fruit}"
    lists = {s: load_dataset(name, s, seed=5)[1].extra["paths"] for s in ("train", "validation", "test")}
    again = load_dataset(name, "validation", seed=5)[1].extra["paths"]
    other = load_dataset(name, "validation", seed=6)[1].extra["paths"]
    assert again == lists["validation"] and other != lists["validation"]
    every = [p for v in lists.values() for p in v]
    assert len(every) == len(set(every)) == 30  # every readable image, once
    assert not any("broken" in p or "truncated" in p for p in every)
    # stratified: each held-out split has one image of each class
    for split in ("validation", "test"):
        assert sorted(os.path.dirname(p) for p in lists[split]) == sorted(COLOURS)


def test_split_folders_layout_and_grey_images(tmp_path):
    root = tmp_path / "digits"
    counts = {"train": 4, "val": 2, "test": 3}
    for split, n in counts.items():
        for cls, level in (("dark", 40), ("light", 220)):
            for i in range(n):
                _write(str(root / split / cls / f"{i}.png"), (level,) * 3, size=(8, 8), mode="L")
    sizes = {}
    for split in ("train", "validation", "test"):
        ds, info = load_dataset(f"folder:{root}", split)
        images = [img for img, _ in ds.as_numpy_iterator()]
        sizes[split] = len(images)
        assert info.image_shape == (8, 8, 1) and images[0].shape == (8, 8, 1)
    assert sizes == {"train": 8, "validation": 4, "test": 6}
    assert info.extra["layout"] == "split folders"
    # a grey dataset fed to an RGB model: make_pipeline converts
    batch, _ = next(iter(make_pipeline(ds, info, training=False, batch_size=6, channels=3, normalize=False)))
    assert batch.shape == (6, 8, 8, 3)
    assert np.array_equal(batch[..., 0], batch[..., 2])


def test_varying_sizes_need_image_size(tmp_path):
    root = tmp_path / "mixed"
    for cls in ("a", "b"):
        for i, size in enumerate([(10, 12), (16, 9), (7, 7)]):
            _write(str(root / cls / f"{i}.png"), (i * 50, 0, 0), size=size)
    ds, info = load_dataset(f"folder:{root}", "train", validation_fraction=0.0, test_fraction=0.0)
    assert info.image_shape == (None, None, 3) and info.num_examples == 6
    with pytest.raises(ValueError, match="vary in size"):
        make_pipeline(ds, info, training=True, batch_size=2)
    batch, labels = next(iter(make_pipeline(ds, info, training=True, batch_size=6, image_size=16)))
    assert batch.shape == (6, 16, 16, 3) and sorted(labels.numpy().tolist()) == [0, 0, 0, 1, 1, 1]
    # a policy that crops to size itself gets each stored image (per image: sizes differ)
    for name in ("inception", "vgg"):
        policy = get_policy(name, image_size=16, info=info)  # vgg: colour PCA of this folder
        batch, _ = next(iter(make_pipeline(ds, info, training=True, batch_size=6, image_size=16, augment=policy)))
        assert batch.shape == (6, 16, 16, 3)


def test_bad_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset(f"folder:{tmp_path / 'nowhere'}", "train")
    (tmp_path / "nothing" / "cats").mkdir(parents=True)
    (tmp_path / "nothing" / "cats" / "readme.txt").write_text("no images")
    with pytest.raises(ValueError, match="No readable images"):
        load_dataset(f"folder:{tmp_path / 'nothing'}", "train")
    for i in range(3):
        _write(str(tmp_path / "single" / "cats" / f"{i}.png"), (1, 2, 3))
    (tmp_path / "single" / "dogs").mkdir()
    with pytest.raises(ValueError, match="one class only"):
        load_dataset(f"folder:{tmp_path / 'single'}", "train")
    for i in range(3):
        _write(str(tmp_path / "single" / "dogs" / f"{i}.png"), (3, 2, 1))
    with pytest.raises(ValueError, match="validation_fraction"):
        load_dataset(f"folder:{tmp_path / 'single'}", "train", validation_fraction=1.5)
    with pytest.raises(ValueError, match="must be < 1"):
        load_dataset(f"folder:{tmp_path / 'single'}", "train", validation_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError, match=r"`split` must be one of 'train', 'validation', 'test'"):
        load_dataset(f"folder:{tmp_path / 'single'}", "holdout")
    with pytest.raises(ValueError, match="needs a path"):
        load_dataset("folder:", "train")
