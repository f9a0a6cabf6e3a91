"""U-Net's elastic deformations of an image and its mask (Ronneberger, Fischer & Brox 2015).

"We generate smooth deformations using random displacement vectors on a coarse 3 by 3 grid. The
displacements are sampled from a Gaussian distribution with 10 pixels standard deviation.
Per-pixel displacements are then computed using bicubic interpolation." (Section 3.1.)

The coarse grid's points sit on the image's corners, edge midpoints and centre (bicubic
up-sampling with aligned corners, TensorFlow's ``ResizeBicubic``); the image is resampled
bilinearly and the mask by nearest neighbour along the same field, both mirrored at the borders
(``d c b a | a b c d | d c b a``, the ``reflect`` fill mode of the other policies).
:class:`ElasticJointPolicy` then applies a :class:`~kerascv_course.data.transforms.joint.JointPolicy`
(shifts, rotations, flips, grey values): the paper's policy, named ``unet_paper`` in the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import tensorflow as tf

from kerascv_course.data.transforms.affine import bilinear_sample
from kerascv_course.data.transforms.joint import JointPolicy
from kerascv_course.data.transforms.sampling import split_seed
from kerascv_course.utils.checks import check_number

#: The paper's values: a 3x3 grid, 10 pixels standard deviation.
PAPER_GRID = 3
PAPER_SIGMA = 10.0


def grid_field(coarse: tf.Tensor, height: Any, width: Any) -> tf.Tensor:
    """Per-pixel ``(B, H, W, 2)`` displacements, bicubic from ``(B, g, g, 2)`` grid vectors.

    The grid's corner points land on the image's corner pixels (aligned corners), so the field
    equals the grid's vectors there.
    """
    coarse = tf.cast(coarse, tf.float32)
    return tf.raw_ops.ResizeBicubic(
        images=coarse, size=tf.stack([height, width]), align_corners=True, half_pixel_centers=False
    )


def random_field(seed: tf.Tensor, n: Any, height: Any, width: Any, *, grid: int, sigma: float) -> tf.Tensor:
    """``n`` random displacement fields: ``N(0, sigma^2)`` vectors on a ``grid`` x ``grid`` grid."""
    coarse = tf.random.stateless_normal(tf.stack([n, grid, grid, 2]), seed, stddev=float(sigma))
    return grid_field(coarse, height, width)


def _reflect(coords: tf.Tensor, size: tf.Tensor) -> tf.Tensor:
    """Coordinates mirrored into ``[0, size - 1]`` about the pixel edges (``d c b a | a b c d``)."""
    size = tf.cast(size, tf.float32)
    period = 2.0 * size
    c = tf.math.floormod(coords + 0.5, period)
    c = tf.where(c >= size, period - c, c) - 0.5
    return tf.clip_by_value(c, 0.0, size - 1.0)


def warp(batch: tf.Tensor, field: tf.Tensor, *, nearest: bool = False) -> tf.Tensor:
    """``batch`` (B, H, W, C) sampled at ``(y + dy, x + dx)``, mirrored at the borders.

    ``field[..., 0]`` is ``dy``, ``field[..., 1]`` is ``dx`` (pixels). ``nearest``: the nearest
    pixel (for masks), else bilinear.
    """
    shape = tf.shape(batch)
    height, width = shape[1], shape[2]
    yy, xx = tf.meshgrid(
        tf.range(height, dtype=tf.float32), tf.range(width, dtype=tf.float32), indexing="ij"
    )
    ys = _reflect(yy[None] + field[..., 0], height)
    xs = _reflect(xx[None] + field[..., 1], width)
    if nearest:
        ys, xs = tf.round(ys), tf.round(xs)
    return bilinear_sample(tf.cast(batch, tf.float32), ys, xs)


def elastic_pair(
    image: tf.Tensor, mask: tf.Tensor, field: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor]:
    """A batch of images (bilinear) and masks ``(B, H, W, 1)`` (nearest) moved along ``field``."""
    moved = warp(image, field)
    moved_mask = tf.cast(tf.round(warp(mask, field, nearest=True)), mask.dtype)
    return moved, moved_mask


@dataclass(frozen=True)
class ElasticJointPolicy:
    """U-Net's augmentation: an elastic deformation, then a :class:`JointPolicy`.

    ``(image, mask, seed) -> (image, mask)`` on one image ``(H, W, C)`` or a batch, masks
    ``(…, H, W)`` or ``(…, H, W, 1)``; each image draws its own field. Build it by name:
    ``get_policy("unet_paper", task="segmentation")``.

    Attributes:
        name: the policy's name.
        joint: the shifts, rotations, flips and grey-value changes applied after the warp.
        grid: the coarse grid's side (3 in the paper).
        sigma: the displacements' standard deviation in pixels (10 in the paper).
    """

    name: str
    joint: JointPolicy
    grid: int = PAPER_GRID
    sigma: float = PAPER_SIGMA
    output_size: tuple[int, int] | None = field(default=None)
    batched: bool = True

    def __post_init__(self) -> None:
        where = f"augmentation policy {self.name!r}"
        check_number("elastic_grid", self.grid, low=2, integer=True, where=where)
        check_number("elastic_sigma", self.sigma, low=0.0, where=where)

    def __call__(self, image: tf.Tensor, mask: tf.Tensor, seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image, mask = tf.convert_to_tensor(image), tf.convert_to_tensor(mask)
        single = image.shape.rank == 3
        if single:
            image, mask = image[None], mask[None]
        mask_rank2 = mask.shape.rank == 3
        if mask_rank2:
            mask = mask[..., None]
        elastic_seed, joint_seed = tf.unstack(split_seed(seed, 2))
        image = tf.cast(image, tf.float32)
        if self.sigma:
            shape = tf.shape(image)
            moving = random_field(elastic_seed, shape[0], shape[1], shape[2], grid=self.grid, sigma=self.sigma)
            image, mask = elastic_pair(image, mask, moving)
        image, mask = self.joint(image, mask, joint_seed)
        if mask_rank2:
            mask = mask[..., 0]
        if single:
            image, mask = image[0], mask[0]
        return image, mask
