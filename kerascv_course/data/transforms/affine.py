"""The affine maths, written once: output-to-input transforms about the image centre and the warps.

A transform here is the ``(B, 8)`` output-pixel -> input-pixel map of
``tf.raw_ops.ImageProjectiveTransformV3`` (``[a0, a1, a2, b0, b1, b2, c0, c1]``). The random
affine distortions (:func:`~kerascv_course.data.transforms.geometric.random_affine`), the elastic
distortions and the image + mask policies (:mod:`~kerascv_course.data.transforms.joint`) all build
and apply their transforms here.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from kerascv_course.data.constants import FILL_MODES
from kerascv_course.data.transforms.sampling import batched, image_hw
from kerascv_course.utils.checks import check_choice


def centred_transforms(
    m00: tf.Tensor,
    m01: tf.Tensor,
    m10: tf.Tensor,
    m11: tf.Tensor,
    height: tf.Tensor,
    width: tf.Tensor,
    *,
    shift_in: tuple[tf.Tensor, tf.Tensor] | None = None,
    shift_out: tuple[tf.Tensor, tf.Tensor] | None = None,
) -> tf.Tensor:
    """``(n, 8)`` transforms ``p = c + s_in + M (p' - c - s_out)`` about the centre ``c``.

    ``M = [[m00, m01], [m10, m11]]`` maps output offsets to input offsets (each entry ``(n,)``);
    ``shift_in``/``shift_out`` are ``(x, y)`` shifts in pixels, in the input or the output frame.
    """
    cx = (tf.cast(width, tf.float32) - 1.0) / 2.0
    cy = (tf.cast(height, tf.float32) - 1.0) / 2.0
    ux, uy = (cx, cy) if shift_out is None else (cx + shift_out[0], cy + shift_out[1])
    vx, vy = (cx, cy) if shift_in is None else (cx + shift_in[0], cy + shift_in[1])
    off_x = vx - (m00 * ux + m01 * uy)
    off_y = vy - (m10 * ux + m11 * uy)
    zeros = tf.zeros_like(m00)
    return tf.stack([m00, m01, off_x, m10, m11, off_y, zeros, zeros], axis=1)


def affine_matrices(
    n: tf.Tensor,
    height: tf.Tensor,
    width: tf.Tensor,
    *,
    angle: tf.Tensor | float = 0.0,
    scale_x: tf.Tensor | float = 1.0,
    scale_y: tf.Tensor | float = 1.0,
    shear: tf.Tensor | float = 0.0,
    shift_x: tf.Tensor | float = 0.0,
    shift_y: tf.Tensor | float = 0.0,
) -> tf.Tensor:
    """The ``(n, 8)`` output-to-input transforms of ``ImageProjectiveTransformV3`` for the affine
    map ``p' = c + t + R(angle) Sh(shear) S(scale) (p - c)`` about the image centre ``c``.

    ``angle`` and ``shear`` are radians (shear is horizontal: ``x' = x + tan(shear) y``), shifts
    are pixels, each a scalar or one value per image.
    """
    def vec(v: Any) -> tf.Tensor:
        return tf.broadcast_to(tf.cast(v, tf.float32), [n])

    angle, sx, sy, shear, tx, ty = (vec(v) for v in (angle, scale_x, scale_y, shear, shift_x, shift_y))
    cos, sin, tan = tf.cos(angle), tf.sin(angle), tf.tan(shear)
    # A = R @ Sh @ S; the transform is its inverse: p = c + A^-1 (p' - c - t)
    a00, a01 = cos * sx, (cos * tan - sin) * sy
    a10, a11 = sin * sx, (sin * tan + cos) * sy
    det = a00 * a11 - a01 * a10
    return centred_transforms(a11 / det, -a01 / det, -a10 / det, a00 / det, height, width, shift_out=(tx, ty))


@batched
def affine_transform(
    image: tf.Tensor,
    transforms: tf.Tensor,
    *,
    interpolation: str = "bilinear",
    fill_mode: str = "constant",
    fill_value: float = 0.0,
) -> tf.Tensor:
    """Apply ``(B, 8)`` projective transforms (output pixel -> input pixel), one per image."""
    check_choice("interpolation", interpolation, ("bilinear", "nearest"))
    check_choice("fill_mode", fill_mode, FILL_MODES)
    if fast_affine(image, interpolation, fill_mode, fill_value):
        return affine_sample_xla(image, tf.cast(transforms, tf.float32))
    height, width = image_hw(image)
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=image,
        transforms=tf.cast(transforms, tf.float32),
        output_shape=tf.stack([height, width]),
        fill_value=tf.cast(fill_value, tf.float32),
        interpolation=interpolation.upper(),
        fill_mode=fill_mode.upper(),
    )
    out.set_shape(image.shape)
    return out


def fast_affine(image: tf.Tensor, interpolation: str, fill_mode: str, fill_value: Any) -> bool:
    """Whether :func:`affine_sample` can stand in for ``ImageProjectiveTransformV3``: bilinear,
    zeros outside, float32 images of a size known when the function is traced (so XLA compiles
    it once per shape, not once per image of a folder of many sizes)."""
    return (
        interpolation == "bilinear" and fill_mode == "constant" and image.dtype == tf.float32
        and isinstance(fill_value, (int, float)) and fill_value == 0 and image.shape[1:3].is_fully_defined()
    )


def affine_sample(image: tf.Tensor, transforms: tf.Tensor) -> tf.Tensor:
    """``ImageProjectiveTransformV3`` (bilinear, zeros outside) written with gathers, for XLA.

    The same float32 coordinates and sampling, equal to the op within float rounding. Compiled
    by XLA (:data:`affine_sample_xla`) it takes about a quarter of the op's CPU time: the op costs
    about 17 ns per output pixel on the project's 2-core machine (1.1 ms for 64 images of 32x32,
    a seventh of a LeNet-5 training step), the fused kernel about 5 ns (docs/benchmarks/data.md).
    """
    height, width = image_hw(image)
    yy, xx = tf.meshgrid(tf.range(height, dtype=tf.float32), tf.range(width, dtype=tf.float32), indexing="ij")
    a0, a1, a2, b0, b1, b2, c0, c1 = (transforms[:, i, None, None] for i in range(8))
    k = c0 * xx + c1 * yy + 1.0
    at_infinity = tf.equal(k, 0.0)  # the op fills these; -2 is outside, so is filled here too
    k = tf.where(at_infinity, 1.0, k)
    xs = tf.where(at_infinity, -2.0, (a0 * xx + a1 * yy + a2) / k)
    ys = tf.where(at_infinity, -2.0, (b0 * xx + b1 * yy + b2) / k)
    return bilinear_sample(image, ys, xs)


affine_sample_xla = tf.function(affine_sample, jit_compile=True)


def bilinear_sample(batch: tf.Tensor, ys: tf.Tensor, xs: tf.Tensor) -> tf.Tensor:
    """Sample ``batch`` (B, H, W, C) at float pixel coordinates ``ys``, ``xs`` (B, h, w); zeros
    outside the image.

    The batch is padded by zeros (one pixel before, two after) and the coordinates clipped to
    ``[-1, size]``, so every tap reads inside the padded image and a tap outside the image reads a
    zero: four flat gathers and no masks.
    """
    shape = tf.shape(batch)
    n, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    ys = tf.clip_by_value(ys, -1.0, tf.cast(height, tf.float32))
    xs = tf.clip_by_value(xs, -1.0, tf.cast(width, tf.float32))
    y0, x0 = tf.floor(ys), tf.floor(xs)
    wy, wx = (ys - y0)[..., None], (xs - x0)[..., None]
    padded_w = width + 3
    flat = tf.reshape(tf.pad(batch, [[0, 0], [1, 2], [1, 2], [0, 0]]), tf.stack([-1, channels]))
    first = (
        tf.range(n)[:, None, None] * ((height + 3) * padded_w)
        + (tf.cast(y0, tf.int32) + 1) * padded_w + tf.cast(x0, tf.int32) + 1
    )

    def tap(offset: tf.Tensor | int) -> tf.Tensor:
        return tf.gather(flat, first + offset)

    top = tap(0) * (1 - wx) + tap(1) * wx
    bottom = tap(padded_w) * (1 - wx) + tap(padded_w + 1) * wx
    return top * (1 - wy) + bottom * wy
