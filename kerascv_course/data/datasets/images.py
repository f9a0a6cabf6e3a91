"""The user's image files: one up-front check per file, and how tf.data then reads each one.

:func:`check_image` opens every file once with Pillow before training (the JPEGs at 1/8 scale,
which still reads all their data) and decides how it is read:

* JPEG (RGB, grey or CMYK) and 8-bit PNG (grey, RGB, palette, with or without alpha):
  TensorFlow's decoders, in the tf.data graph.
* 16-bit PNG: TensorFlow at 16 bits, then scaled to 8 bits as ``round(v * 255 / 65535)``
  (not clipped at 255, not truncated to the high byte).
* Everything else — a JPEG or PNG whose EXIF orientation is not "upright" (the orientation is
  applied, as photo viewers do), BMP, GIF, or a file of another format behind an image
  extension — through Pillow (:func:`pil_pixels`), in a ``tf.numpy_function``.

Alpha is dropped (the stored colour is kept, not composited), palettes give their colours, CMYK
gives RGB. An image with more pixels than Pillow's decompression-bomb limit
(``PIL.Image.MAX_IMAGE_PIXELS``, 89,478,485 by default) is refused before it is decoded
(:class:`ImageCheck` ``too_large``); an unreadable or truncated file is reported so that the
loaders skip it and list it (:func:`report_skipped`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L")

# How a file is read (the branch of read_image's switch).
TF_DECODE, TF_PNG16, PILLOW = 0, 1, 2

_EXIF_ORIENTATION = 0x0112
_TRANSPOSED = (5, 6, 7, 8)  # orientations that swap width and height


@dataclass(frozen=True)
class ImageCheck:
    """What the up-front check learnt about one file.

    Attributes:
        ok: the file decodes.
        reason: why not (one line).
        height, width: its size as shown (after the EXIF orientation).
        grey: a single-channel image (grey, 1-bit, 16-bit grey; alpha ignored).
        mean, sq_mean: per-channel mean of the pixels and of their squares, in [0, 1].
        reader: ``TF_DECODE``, ``TF_PNG16`` or ``PILLOW``.
        too_large: refused by the decompression-bomb limit (``reason`` says so).
    """

    ok: bool
    reason: str = ""
    height: int = 0
    width: int = 0
    grey: bool = False
    mean: tuple[float, ...] = ()
    sq_mean: tuple[float, ...] = ()
    reader: int = TF_DECODE
    too_large: bool = False


_CHECKED: dict[str, tuple[tuple[int, int, int | None], ImageCheck]] = {}


def one_line(err: BaseException | str) -> str:
    """An error as one line (for the one-line warnings and messages)."""
    text = err if isinstance(err, str) else f"{type(err).__name__}: {err}"
    return " ".join(text.split())


def is_image_file(name: str) -> bool:
    """Whether ``name`` ends in one of :data:`IMAGE_EXTENSIONS` (any case) and is not hidden."""
    return name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith(".")


def scale_16_to_8(values: Any) -> np.ndarray:
    """16-bit values to 8 bits, ``round(v * 255 / 65535)`` (0 -> 0, 65535 -> 255)."""
    values = np.clip(np.asarray(values, np.int64), 0, 65535)
    return ((values * 255 + 32767) // 65535).astype(np.uint8)


def orientation(image: Any) -> int:
    """The EXIF orientation of a Pillow image (1, upright, when it has none)."""
    try:
        return int(image.getexif().get(_EXIF_ORIENTATION, 1) or 1)
    except (ValueError, TypeError, OSError, SyntaxError):  # a broken EXIF block: treat as upright
        return 1


def pil_pixels(image: Any, channels: int) -> np.ndarray:
    """A loaded Pillow image as a uint8 ``(H, W, channels)`` array, the way the loaders read it.

    16-bit grey is scaled by :func:`scale_16_to_8`; a palette gives its colours (its
    transparency dropped); alpha is dropped; CMYK becomes RGB (Pillow's conversion).
    """
    if image.mode in SIXTEEN_BIT_MODES:
        grey = scale_16_to_8(np.asarray(image))[..., None]
        return grey if channels == 1 else np.repeat(grey, 3, axis=-1)
    if image.mode in ("P", "PA"):
        image = image.convert("RGBA")  # the palette's colours; its transparency becomes alpha, dropped next
    pixels = np.asarray(image.convert("L" if channels == 1 else "RGB"), np.uint8)
    return pixels[..., None] if channels == 1 else pixels


def read_with_pillow(path: bytes | str, channels: int) -> np.ndarray:
    """Decode ``path`` with Pillow, upright (EXIF orientation applied), as :func:`pil_pixels` does."""
    from PIL import Image, ImageOps

    with Image.open(path.decode() if isinstance(path, bytes) else path) as image:
        return pil_pixels(ImageOps.exif_transpose(image), int(channels))


def _png_bit_depth(path: str) -> int:
    with open(path, "rb") as fh:
        head = fh.read(26)
    return head[24] if len(head) == 26 and head.startswith(b"\x89PNG") else 8


def _reader(image: Any, path: str, turned: int) -> int:
    if turned != 1 or image.format not in ("JPEG", "MPO", "PNG"):
        return PILLOW
    if image.format == "PNG" and _png_bit_depth(path) == 16:
        return TF_PNG16
    return TF_DECODE


def max_pixels() -> int | None:
    """The decompression-bomb limit: Pillow's ``PIL.Image.MAX_IMAGE_PIXELS`` (``None``: no limit)."""
    from PIL import Image

    return Image.MAX_IMAGE_PIXELS


def too_large_message(path: str, reason: str) -> str:
    """The one-line refusal of an image over the decompression-bomb limit."""
    return (
        f"{path}: {reason}. Images over PIL.Image.MAX_IMAGE_PIXELS are refused before decoding "
        f"(a decompression-bomb guard): shrink or remove the file, or, if you trust it, raise the "
        f"limit (import PIL.Image; PIL.Image.MAX_IMAGE_PIXELS = N) before loading."
    )


def check_image(path: str) -> ImageCheck:
    """Open ``path`` once with Pillow (cheaply) and report whether and how it can be read.

    The result is cached per file (by modification time, size and the pixel limit) for the process.
    """
    from PIL import Image, UnidentifiedImageError

    limit = max_pixels()
    try:
        stat = os.stat(path)
    except OSError as err:
        return ImageCheck(False, one_line(err))
    key = (stat.st_mtime_ns, stat.st_size, limit)
    hit = _CHECKED.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        with Image.open(path) as image:
            width, height = image.size
            if limit and width * height > limit:
                result = ImageCheck(False, f"{width}x{height} = {width * height:,} pixels, over the limit of "
                                           f"{limit:,} pixels", height, width, too_large=True)
            else:
                result = _measure(image, path, width, height)
    except Image.DecompressionBombError as err:  # Pillow's own refusal, above twice the limit
        result = ImageCheck(False, one_line(str(err)), too_large=True)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, EOFError) as err:
        result = ImageCheck(False, one_line(err))
    _CHECKED[path] = (key, result)
    return result


def _measure(image: Any, path: str, width: int, height: int) -> ImageCheck:
    grey = image.mode in GREY_MODES
    turned = orientation(image)
    reader = _reader(image, path, turned)
    if turned in _TRANSPOSED:
        width, height = height, width
    if image.format == "JPEG":
        image.draft("L" if grey else "RGB", (max(1, image.size[0] // 8), max(1, image.size[1] // 8)))
    image.load()
    pixels = pil_pixels(image, 1 if grey else 3).reshape(-1, 1 if grey else 3).astype(np.float32) / 255.0
    return ImageCheck(
        True, "", height, width, grey,
        tuple(pixels.mean(axis=0).tolist()), tuple(np.square(pixels).mean(axis=0).tolist()), reader,
    )


def check_files(files: Iterable[str], check: Callable[[str], Any] = check_image, *,
                every: float = 10.0) -> dict[str, Any]:
    """``check(file)`` of every file (default :func:`check_image`), on a few threads; a long
    check logs one line of progress every ``every`` seconds (files checked of all, time)."""
    files = list(files)
    workers = min(8, (os.cpu_count() or 2) * 2)
    results: dict[str, Any] = {}
    start = last = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done, (file, result) in enumerate(zip(files, pool.map(check, files)), start=1):
            results[file] = result
            if time.monotonic() - last >= every and done < len(files):
                last = time.monotonic()
                log.info("Checked %d of %d image files (%.0f s)", done, len(files), last - start)
    return results


def refuse_too_large(checks: dict[str, ImageCheck], root: str, name: str) -> None:
    """``ValueError`` naming the first image over the decompression-bomb limit, if any."""
    large = sorted(f for f, c in checks.items() if c.too_large)
    if large:
        more = f" ({len(large) - 1} more file(s) too)" if len(large) > 1 else ""
        path = os.path.relpath(large[0], root)
        raise ValueError(f"{too_large_message(path, checks[large[0]].reason)}{more} Received: name={name!r}")


def report_skipped(checks: dict[str, ImageCheck], root: str, what: str = "image") -> list[str]:
    """Log the unreadable files in one warning line; return them as ``"file (reason)"``."""
    skipped = sorted((os.path.relpath(f, root), c.reason) for f, c in checks.items() if not c.ok)
    listed = [f"{f} ({why})" for f, why in skipped]
    if listed:
        more = f" and {len(listed) - 20} more" if len(listed) > 20 else ""
        log.warning("Skipping %d unreadable %s file(s) in %s: %s%s", len(listed), what, root,
                    "; ".join(listed[:20]), more)
    return listed


def read_image(path: tf.Tensor, reader: tf.Tensor, channels: int, readers: set[int]) -> tf.Tensor:
    """Decode one file in the tf.data graph as uint8 ``(H, W, channels)``, the way its check says.

    Args:
        path: the file (a string tensor).
        reader: its :class:`ImageCheck` ``reader`` (an int tensor).
        channels: 1 or 3.
        readers: the readers the dataset's files need (only those branches are built).
    """

    def tf_decode() -> tf.Tensor:
        return tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False)

    def png16() -> tf.Tensor:
        wide = tf.cast(tf.io.decode_png(tf.io.read_file(path), channels=channels, dtype=tf.uint16), tf.int32)
        return tf.cast((wide * 255 + 32767) // 65535, tf.uint8)

    def pillow() -> tf.Tensor:
        image = tf.numpy_function(read_with_pillow, [path, channels], tf.uint8, stateful=False)
        return tf.ensure_shape(image, [None, None, channels])

    branches = {TF_DECODE: tf_decode, TF_PNG16: png16, PILLOW: pillow}
    if len(readers) == 1:
        return branches[next(iter(readers))]()
    return tf.switch_case(tf.cast(reader, tf.int32), [branches[k] for k in (TF_DECODE, TF_PNG16, PILLOW)])
