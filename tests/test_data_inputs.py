"""Input the pipeline must read right or refuse (issue #15): bit depths, modes, orientation, masks, bombs.

Every image here is made by the test with Pillow (or, for 16-bit RGB, by hand), and every expected
value is worked out by hand from how it was made.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from kerascv_course.data import load_dataset, make_pipeline


def _save(path, image, **kwargs):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image.save(path, **kwargs)
    return path


def _png16_rgb(path, array):
    """A 16-bit RGB PNG written by hand (Pillow cannot write one): IHDR bit depth 16, colour type 2."""
    h, w, _ = array.shape
    raw = b"".join(b"\x00" + array[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _load_all(root, **kwargs):
    """Every image of a class-folder dataset (nothing held out), by relative path, and the info."""
    ds, info = load_dataset(f"folder:{root}", "train", validation_fraction=0.0, test_fraction=0.0, **kwargs)
    images = [image for image, _ in ds.as_numpy_iterator()]
    assert len(images) == len(info.extra["paths"])
    return dict(zip(info.extra["paths"], images)), info


def _filler(root, cls="other", mode="L", size=(4, 4)):
    """A second class (a classifier needs two)."""
    _save(os.path.join(root, cls, "filler.png"), Image.new(mode, size, 0 if mode == "L" else (0, 0, 0)))


# ----------------------------------------------------------------------------- bit depths and modes

# 16-bit values and their 8-bit value round(v * 255 / 65535), by hand. Clipping would give
# 0, 129, 255, 255, 255, 255 and truncating to the high byte 0, 0, 1, 128, 129, 255.
SIXTEEN = [0, 129, 257, 32896, 33024, 65535]
EIGHT = [0, 1, 1, 128, 128, 255]


def test_16_bit_grey_png_is_scaled_not_clipped(tmp_path):
    root = tmp_path / "d"
    _save(str(root / "a" / "deep.png"), Image.fromarray(np.array([SIXTEEN] * 2, np.uint16)))
    assert Image.open(root / "a" / "deep.png").mode == "I;16"
    _filler(str(root))
    images, info = _load_all(root)
    assert info.image_shape == (None, None, 1)  # every image grey: one channel
    np.testing.assert_array_equal(images[os.path.join("a", "deep.png")][..., 0], [EIGHT] * 2)


def test_16_bit_rgb_png_is_scaled(tmp_path):
    root = tmp_path / "d"
    values = np.array([[SIXTEEN[:3], SIXTEEN[3:]]], np.uint16)  # 1 x 2 pixels, RGB
    _png16_rgb(str(root / "a" / "deep.png"), values)
    _filler(str(root), mode="RGB", size=(2, 1))
    images, info = _load_all(root)
    assert info.image_shape == (1, 2, 3)
    np.testing.assert_array_equal(images[os.path.join("a", "deep.png")], [[EIGHT[:3], EIGHT[3:]]])


def test_palette_png_gif_and_bmp_give_their_colours_with_transparency_dropped(tmp_path):
    root = tmp_path / "d"
    palette = [10, 20, 30, 200, 100, 50] + [0] * 762
    indices = np.array([[0, 1], [1, 0]], np.uint8)
    expected = np.array([[[10, 20, 30], [200, 100, 50]], [[200, 100, 50], [10, 20, 30]]], np.uint8)
    image = Image.fromarray(indices, "P")
    image.putpalette(palette)
    _save(str(root / "a" / "p.png"), image)
    _save(str(root / "a" / "p_transparent.png"), image, transparency=0)
    _save(str(root / "a" / "p.gif"), image, transparency=0)  # TensorFlow's GIF decoder paints it black
    _save(str(root / "a" / "p.bmp"), image)  # TensorFlow's BMP decoder returns the indices
    _filler(str(root), mode="RGB", size=(2, 2))
    images, _ = _load_all(root)
    for name in ("p.png", "p_transparent.png", "p.gif", "p.bmp"):
        np.testing.assert_array_equal(images[os.path.join("a", name)], expected, err_msg=name)


def test_alpha_is_dropped_not_composited(tmp_path):
    root = tmp_path / "d"
    _save(str(root / "a" / "rgba.png"), Image.new("RGBA", (3, 2), (90, 10, 20, 0)))  # fully transparent
    _save(str(root / "b" / "la.png"), Image.new("LA", (3, 2), (77, 128)))
    images, info = _load_all(root)
    assert info.image_shape == (2, 3, 3)
    assert (images[os.path.join("a", "rgba.png")] == (90, 10, 20)).all()  # the stored colour
    assert (images[os.path.join("b", "la.png")] == 77).all()  # grey, shown as R = G = B


def test_grey_into_an_rgb_model_and_rgb_into_a_grey_model(tmp_path):
    root = tmp_path / "d"
    _save(str(root / "a" / "grey.png"), Image.new("L", (4, 4), 77))
    _save(str(root / "b" / "red.png"), Image.new("RGB", (4, 4), (255, 0, 0)))
    ds, info = load_dataset(f"folder:{root}", "train", validation_fraction=0.0, test_fraction=0.0)
    assert info.image_shape == (4, 4, 3)  # mixed: read as RGB, grey as R = G = B
    as_rgb = {int(y): x for x, y in make_pipeline(ds, info, training=False, batch_size=1, normalize=False).unbatch()}
    np.testing.assert_allclose(as_rgb[0].numpy(), 77 / 255, atol=1e-6)
    as_grey = {int(y): x for x, y in make_pipeline(ds, info, training=False, batch_size=1, channels=1,
                                                     normalize=False).unbatch()}
    # ITU-R BT.601 luma of pure red: 0.2989 * 255 = 76.2 -> 76
    assert as_grey[1].shape == (4, 4, 1)
    np.testing.assert_allclose(as_grey[1].numpy() * 255, 76, atol=1)
    np.testing.assert_allclose(as_grey[0].numpy() * 255, 77, atol=0.5)


@pytest.mark.parametrize("cmyk,rgb", [
    ((0, 255, 255, 0), (255, 0, 0)),
    ((0, 0, 0, 128), (127, 127, 127)),  # 255 * (1 - 128/255)
    ((50, 100, 150, 20), (189, 143, 97)),  # 255 * (1 - c/255) * (1 - k/255)
])
def test_cmyk_jpeg_becomes_rgb(tmp_path, cmyk, rgb):
    root = tmp_path / "d"
    _save(str(root / "a" / "cmyk.jpg"), Image.new("CMYK", (16, 16), cmyk), quality=100)
    _filler(str(root), mode="RGB", size=(16, 16))
    images, info = _load_all(root)
    got = images[os.path.join("a", "cmyk.jpg")].reshape(-1, 3).mean(axis=0)
    np.testing.assert_allclose(got, rgb, atol=2.5)  # JPEG rounding
    assert np.allclose(np.array(info.mean) * 255, (np.array(rgb) + 0) / 2, atol=2.5)  # stats as read


def test_exif_orientation_is_applied(tmp_path):
    root = tmp_path / "d"
    stored = np.zeros((8, 12, 3), np.uint8)  # 12 wide, 8 high, a white block top-left
    stored[:4, :4] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    _save(str(root / "a" / "turned.jpg"), Image.fromarray(stored), quality=100, exif=exif)
    _save(str(root / "b" / "upright.jpg"), Image.fromarray(stored), quality=100)
    images, info = _load_all(root)
    turned, upright = images[os.path.join("a", "turned.jpg")], images[os.path.join("b", "upright.jpg")]
    assert turned.shape == (12, 8, 3) and upright.shape == (8, 12, 3)  # shown 8 wide, 12 high
    assert info.image_shape == (None, None, 3)
    assert turned[:4, 4:].min() > 200 and turned[4:].max() < 60 and turned[:4, :4].max() < 60  # top-right now
    assert upright[:4, :4].min() > 200


# ----------------------------------------------------------------------------- files to skip or refuse


def test_unreadable_files_are_skipped_in_one_warning_line_and_listed(tmp_path, caplog):
    root = tmp_path / "d"
    for cls in ("a", "b"):
        for i in range(3):
            _save(str(root / cls / f"{i}.PNG"), Image.new("RGB", (5, 5), (i * 40, 0, 0)))  # upper-case extension
    (root / "a" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    good = (root / "b" / "0.PNG").read_bytes()
    (root / "b" / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "a" / "notes.txt").write_text("not an image")
    (root / "a" / "labels.csv").write_text("x")
    with caplog.at_level(logging.WARNING):
        images, info = _load_all(root)
    assert len(images) == 6 and info.extra["ignored_files"] == 2  # the .txt and .csv
    lines = [r.getMessage() for r in caplog.records if "unreadable" in r.getMessage()]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert lines[0].startswith("Skipping 2 unreadable image file(s)")
    assert "broken.jpg" in lines[0] and "truncated.png" in lines[0]
    assert [s.split(" (")[0] for s in info.extra["skipped"]] == [os.path.join("a", "broken.jpg"),
                                                                  os.path.join("b", "truncated.png")]


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow warns as it opens them
def test_images_over_the_pixel_limit_are_refused_naming_the_file(tmp_path, monkeypatch):
    root = tmp_path / "d"
    _save(str(root / "a" / "small.png"), Image.new("L", (20, 20)))
    _save(str(root / "b" / "big.png"), Image.new("L", (40, 40)))  # 1,600 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ValueError, match=r"b/big\.png: 40x40 = 1,600 pixels, over the limit of 1,000 pixels\. "
                                         r".*PIL\.Image\.MAX_IMAGE_PIXELS.*Received: name="):
        load_dataset(f"folder:{root}", "train")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 700)  # above twice the limit: Pillow refuses it itself
    with pytest.raises(ValueError, match=r"b/big\.png: Image size \(1600 pixels\) exceeds limit of 1400 pixels"):
        load_dataset(f"folder:{root}", "train")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)
    assert load_dataset(f"folder:{root}", "train", validation_fraction=0.0, test_fraction=0.0)[1].num_examples == 2


def test_class_folders_empty_single_or_without_training_images(tmp_path, caplog):
    root = tmp_path / "d"
    for cls in ("a", "b"):
        _save(str(root / cls / "x.png"), Image.new("L", (4, 4)))
    os.makedirs(root / "empty")
    with caplog.at_level(logging.WARNING):
        _, info = _load_all(root)
    assert info.class_names == ["a", "b"] and info.extra["empty_classes"] == ["empty"]
    assert "Ignoring 1 class folder(s) with no readable images" in caplog.text
    single = tmp_path / "single"
    _save(str(single / "only" / "x.png"), Image.new("L", (4, 4)))
    with pytest.raises(ValueError, match=r"has images of one class only \('only'\); a classifier needs at least two"):
        load_dataset(f"folder:{single}", "train")
    split = tmp_path / "split"
    for folder, cls in (("train", "a"), ("train", "b"), ("val", "a"), ("val", "c")):
        _save(str(split / folder / cls / "x.png"), Image.new("L", (4, 4)))
    with pytest.raises(ValueError, match=r"Class\(es\) c of .* have images to validate or test on but none to train on"):
        load_dataset(f"folder:{split}", "train")


# ----------------------------------------------------------------------------- segfolder


def _pair(root, name, image, mask, image_ext=".png", **save):
    _save(os.path.join(root, "images", name + image_ext), image, **save)
    _save(os.path.join(root, "masks", name + ".png"), mask)


def _seg(root, split="train"):
    ds, info = load_dataset(f"segfolder:{root}", split, seed=0)
    return [(x, y) for x, y in ds.as_numpy_iterator()], info


def test_segfolder_masks_indices_binary_and_one_bit(tmp_path):
    indices = np.array([[0, 1, 2, 2]] * 4, np.uint8)
    palette_mask = Image.fromarray(indices, "P")
    palette_mask.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * 759)  # colours unlike the indices
    binary = (indices > 0).astype(np.uint8)
    masks = {
        "palette": (palette_mask, indices, 3),
        "binary_255": (Image.fromarray(binary * 255), binary, 2),
        "one_bit": (Image.fromarray(binary.astype(bool)).convert("1"), binary, 2),
    }
    for kind, (mask, expected, classes) in masks.items():
        root = str(tmp_path / kind)
        for k in range(10):
            _pair(root, f"m{k}", Image.new("RGB", (4, 4)), mask)
        pairs, info = _seg(root)
        assert info.num_classes == classes, kind
        np.testing.assert_array_equal(pairs[0][1][..., 0], expected, err_msg=kind)  # indices, not colours
    mixed = str(tmp_path / "mixed")  # 0/255 in some masks, indices 0..2 in others: not one encoding
    for k in range(10):
        _pair(mixed, f"m{k}", Image.new("RGB", (4, 4)), masks["palette" if k % 2 else "binary_255"][0])
    with pytest.raises(ValueError, match=r"values \[0, 1, 2, 255\] \(e\.g\. masks/m\d\.png\): that would be 256 classes"):
        load_dataset(f"segfolder:{mixed}", "train")


def test_segfolder_refusals_name_the_file(tmp_path):
    rgb = str(tmp_path / "rgb")
    for k in range(3):
        _pair(rgb, f"m{k}", Image.new("RGB", (4, 4)), Image.new("L", (4, 4)))
    _save(os.path.join(rgb, "masks", "m1.png"), Image.new("RGB", (4, 4), (255, 0, 0)))
    with pytest.raises(ValueError, match=r"the mask masks/m1\.png has mode 'RGB'; masks must be single-channel "
                                         r"images of class indices: 8-bit grey \('L'\), palette"):
        load_dataset(f"segfolder:{rgb}", "train")
    sparse = str(tmp_path / "sparse")
    for k in range(10):
        _pair(sparse, f"s{k}", Image.new("L", (4, 4)), Image.fromarray(np.array([[0, 128]] * 4, np.uint8).repeat(2, 1)))
    with pytest.raises(ValueError, match=r"values \[0, 128\] \(e\.g\. masks/s\d\.png\): that would be 129 classes"):
        load_dataset(f"segfolder:{sparse}", "train")
    with open(os.path.join(sparse, "classes.txt"), "w") as fh:
        fh.write("bg\nfg\n")
    with pytest.raises(ValueError, match=r"masks/s0\.png holds mask value\(s\) \[128\] but classes\.txt lists 2 classes"):
        load_dataset(f"segfolder:{sparse}", "train")


def test_segfolder_reads_images_like_folder_and_skips_broken_pairs(tmp_path, caplog):
    root = str(tmp_path / "s")
    mask = Image.fromarray(np.array([[0, 1]] * 2, np.uint8))
    for k in range(10):
        _pair(root, f"d{k}", Image.fromarray(np.array([SIXTEEN[:2], SIXTEEN[4:]], np.uint16)), mask)
    with open(os.path.join(root, "images", "d3.png"), "r+b") as fh:
        fh.truncate(40)
    with caplog.at_level(logging.WARNING):
        pairs = {s: _seg(root, s) for s in ("train", "validation", "test")}
    every = [p for s in pairs.values() for p in s[0]]
    assert len(every) == 9 and pairs["train"][1].extra["skipped"][0].startswith(os.path.join("images", "d3.png"))
    assert sum("unreadable" in r.getMessage() for r in caplog.records) == 3  # one line per split loaded
    for image, _ in every:
        np.testing.assert_array_equal(image[..., 0], [EIGHT[:2], EIGHT[4:]])  # 16-bit scaled
    turned = str(tmp_path / "turned")
    exif = Image.Exif()
    exif[0x0112] = 6
    for k in range(10):  # stored 6 wide, 4 high; shown 4 wide, 6 high: the mask is drawn as shown
        _pair(turned, f"t{k}", Image.new("RGB", (6, 4)), Image.new("L", (4, 6)), image_ext=".jpg", exif=exif)
    (image, mask), = _seg(turned, "test")[0]
    assert image.shape == (6, 4, 3) and mask.shape == (6, 4, 1)
    _save(os.path.join(turned, "masks", "t0.png"), Image.new("L", (6, 4)))  # drawn on the stored pixels
    with pytest.raises(ValueError, match=r"the mask of 't0' is 6x4 but its image is 4x6"):
        load_dataset(f"segfolder:{turned}", "train")


# ----------------------------------------------------------------------------- padding (#18, #20)


def test_28x28_images_padded_to_32x32(tmp_path):
    root = tmp_path / "d"
    rng = np.random.default_rng(0)
    digits = {cls: rng.integers(1, 256, (28, 28), dtype=np.uint8) for cls in ("a", "b")}
    for cls, pixels in digits.items():
        _save(str(root / cls / "x.png"), Image.fromarray(pixels))
    ds, info = load_dataset(f"folder:{root}", "train", validation_fraction=0.0, test_fraction=0.0)
    batches = make_pipeline(ds, info, training=False, batch_size=2, image_size=32, resize_mode="pad", normalize=False)
    images, labels = next(iter(batches))
    for image, label in zip(images.numpy(), labels.numpy()):
        assert image.shape == (32, 32, 1)
        pixels = np.round(image[..., 0] * 255).astype(np.uint8)
        np.testing.assert_array_equal(pixels[2:30, 2:30], digits[info.class_names[label]])  # offset 2
        border = np.ones((32, 32), bool)
        border[2:30, 2:30] = False
        assert (pixels[border] == 0).all()  # background 0 around
    normalised = next(iter(make_pipeline(ds, info, training=False, batch_size=1, image_size=32, resize_mode="pad")))[0]
    np.testing.assert_allclose(normalised.numpy()[0, 0, 0, 0], -info.mean[0] / info.std[0], rtol=1e-5)  # 0 before


def test_padding_refuses_what_it_would_have_to_shrink(tmp_path):
    from kerascv_course.data import get_policy

    root = tmp_path / "d"
    _save(str(root / "a" / "small.png"), Image.new("L", (28, 28)))
    _save(str(root / "b" / "large.png"), Image.new("L", (40, 20)))  # wide, not tall
    ds, info = load_dataset(f"folder:{root}", "train", validation_fraction=0.0, test_fraction=0.0)
    with pytest.raises(ValueError, match=r"pads images to 32x32 and never shrinks them, but the widest image of "
                                         r"'folder:.*', b/large\.png, is 20x40: use resize_mode='resize', or a model "
                                         r"input of at least 32x40"):
        make_pipeline(ds, info, training=False, batch_size=1, image_size=32, resize_mode="pad")
    digits, digits_info = load_dataset("digits", "train")
    with pytest.raises(ValueError, match=r"but the images of 'digits' are 32x32"):
        make_pipeline(digits, digits_info, training=False, batch_size=1, image_size=28, resize_mode="pad")
    with pytest.raises(ValueError, match=r"crops to size itself"):
        make_pipeline(digits, digits_info, training=True, batch_size=1, image_size=32, resize_mode="pad",
                      augment=get_policy("inception", image_size=32, info=digits_info))
    cracks, cracks_info = load_dataset("cracks", "test", num_examples=2, image_size=16)
    with pytest.raises(ValueError, match=r"resize_mode='pad' is for classification"):
        make_pipeline(cracks, cracks_info, training=False, batch_size=1, image_size=32, resize_mode="pad")
    with pytest.raises(ValueError, match=r"`resize_mode` must be one of 'resize', 'pad'"):
        make_pipeline(digits, digits_info, training=False, batch_size=1, image_size=32, resize_mode="crop")
