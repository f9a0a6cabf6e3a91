"""Overlap-tile prediction with mirrored borders (Ronneberger, Fischer & Brox 2015, Fig. 2).

A segmentation network sees a fixed input tile; an image of any size is cut into output regions
of ``S x S`` pixels, each predicted from the input tile around it, so every output pixel gets its
full context: "To predict the pixels in the border region of the image, the missing context is
extrapolated by mirroring the input image." The regions tile the image without overlap in the
output; their input tiles overlap by the context.

* An unpadded (``padding="valid"``) U-Net maps a ``T_in`` tile to a ``T_out`` output centred in
  it (572 -> 388): the context is ``(T_in - T_out) / 2`` pixels on each side and ``S = T_out``.
  When ``S`` is a multiple of ``2**depth`` the tiles' poolings line up with the whole image's, and
  the result equals the network run once on the whole mirrored image (a test checks it); the
  paper's 388 is not a multiple of 16, so its tiles are seamless only up to that alignment.
* A padded (``padding="same"``) network keeps its size; ``margin`` pixels of each tile's output
  are then dropped on every side (their context was zero padding), so ``S = T - 2 margin``.

Mirroring is ``d c b a | a b c d | d c b a`` (NumPy's ``"symmetric"``), repeated as often as
needed, so images smaller than a tile work too.

Example:
    >>> probs = predict_tiled(model, image)                       # valid U-Net, any image size
    >>> probs = predict_tiled(crack_model, image, margin=8)       # a padding="same" model
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerascv_course.utils.checks import check_number


def mirror_indices(start: int, stop: int, size: int) -> np.ndarray:
    """Indices ``start..stop-1`` of an axis of ``size`` extended by repeated mirroring
    (``d c b a | a b c d | d c b a``)."""
    index = np.arange(start, stop) % (2 * size)
    return np.where(index >= size, 2 * size - 1 - index, index)


def _tile_sizes(model: Any, tile: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """``(input tile, output tile)`` sides of ``model``, ``tile`` filling unknown input sides."""
    in_shape = tuple(model.input_shape[1:3])
    if None in in_shape:
        if tile is None:
            raise ValueError(
                "The model takes inputs of any size, so the tile size is not known: pass `tile` "
                "(an input side the model accepts, e.g. the size it was trained at). Received: tile=None"
            )
        side = (tile, tile) if isinstance(tile, int) else tuple(tile)
        in_shape = tuple(side[i] if in_shape[i] is None else in_shape[i] for i in range(2))
    elif tile is not None and tuple((tile, tile) if isinstance(tile, int) else tile) != in_shape:
        raise ValueError(
            f"The model's input tile is fixed at {in_shape[0]}x{in_shape[1]}; drop `tile` or pass "
            f"that size. Received: tile={tile!r}"
        )
    out_shape = tuple(model.compute_output_shape((1, *in_shape, model.input_shape[-1]))[1:3])
    return (int(in_shape[0]), int(in_shape[1])), (int(out_shape[0]), int(out_shape[1]))


def tile_layout(
    image_hw: tuple[int, int], in_tile: tuple[int, int], out_tile: tuple[int, int], margin: int = 0
) -> tuple[tuple[int, int], tuple[int, int], list[tuple[int, int]]]:
    """``(region, context, starts)``: the kept output region's sides, the input context before
    it (per axis), and the top-left corners of the regions covering an image of ``image_hw``.

    Raises:
        ValueError: when the output is not centred in the input (an odd difference of sides) or
            ``margin`` leaves nothing of the output.
    """
    region, context = [], []
    for axis in range(2):
        diff = in_tile[axis] - out_tile[axis]
        if diff < 0 or diff % 2:
            raise ValueError(
                f"Overlap-tile prediction needs an output centred in its input tile; the model maps "
                f"{in_tile} to {out_tile}. Received: input tile {in_tile}, output tile {out_tile}"
            )
        keep = out_tile[axis] - 2 * margin
        if keep < 1:
            raise ValueError(
                f"`margin` must leave some of the {out_tile[0]}x{out_tile[1]} output: at most "
                f"{(min(out_tile) - 1) // 2}. Received: margin={margin}"
            )
        region.append(keep)
        context.append(diff // 2 + margin)
    starts = [
        (y, x)
        for y in range(0, image_hw[0], region[0])
        for x in range(0, image_hw[1], region[1])
    ]
    return (region[0], region[1]), (context[0], context[1]), starts


def predict_tiled(
    model: Any,
    images: Any,
    *,
    tile: int | tuple[int, int] | None = None,
    margin: int = 0,
    batch_size: int = 8,
) -> np.ndarray:
    """Overlap-tile prediction of a segmentation model on images of any size, mirrored borders.

    Args:
        model: a Keras segmentation model (``(B, H, W, C) -> (B, H', W', classes)``).
        images: one ``(H, W, C)`` image or a batch ``(B, H, W, C)``, float, as the model takes them
            (already normalised); any ``H``, ``W``.
        tile: the input tile's side (or ``(h, w)``) for a model that takes any size; ``None``: the
            model's fixed input size.
        margin: output pixels dropped on every side of each tile (context for a
            ``padding="same"`` model); 0 for an unpadded model, whose context is built in.
        batch_size: tiles per forward pass.

    Returns:
        ``(H, W, classes)`` (or ``(B, H, W, classes)``) float32 outputs.

    Raises:
        ValueError: for an unknown tile size, an output not centred in its input, a margin that
            leaves nothing, or images that are not ``(H, W, C)`` / ``(B, H, W, C)``.
    """
    check_number("margin", margin, low=0, integer=True, where="predict_tiled")
    check_number("batch_size", batch_size, low=1, integer=True, where="predict_tiled")
    images = np.asarray(images, dtype=np.float32)
    single = images.ndim == 3
    if single:
        images = images[None]
    if images.ndim != 4:
        raise ValueError(f"`images` must be (H, W, C) or (B, H, W, C). Received: shape={images.shape}")
    in_tile, out_tile = _tile_sizes(model, tile)
    n, height, width = images.shape[:3]
    region, context, starts = tile_layout((height, width), in_tile, out_tile, margin)
    crops = [
        (b, y, x,
         np.ix_(mirror_indices(y - context[0], y - context[0] + in_tile[0], height),
                mirror_indices(x - context[1], x - context[1] + in_tile[1], width)))
        for b in range(n) for y, x in starts
    ]
    out: np.ndarray | None = None
    for first in range(0, len(crops), batch_size):
        chunk = crops[first:first + batch_size]
        batch = np.stack([images[b][rows, cols] for b, _, _, (rows, cols) in chunk])
        pred = np.asarray(model(batch, training=False), dtype=np.float32)
        if out is None:
            out = np.zeros((n, height, width, pred.shape[-1]), np.float32)
        for (b, y, x, _), p in zip(chunk, pred):
            h, w = min(region[0], height - y), min(region[1], width - x)
            out[b, y:y + h, x:x + w] = p[margin:margin + h, margin:margin + w]
    assert out is not None
    return out[0] if single else out
