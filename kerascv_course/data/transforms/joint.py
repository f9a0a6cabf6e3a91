"""Image + mask transforms for segmentation: the mask moves with its image."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import tensorflow as tf

from kerascv_course.data.catalog import JOINT_OPTIONS
from kerascv_course.data.options import check_values
from kerascv_course.data.transforms.affine import affine_transform, centred_transforms
from kerascv_course.data.transforms.sampling import coin, split_seed, uniform


@dataclass(frozen=True)
class JointPolicy:
    """An augmentation that moves a mask with its image: ``(image, mask, seed) -> (image, mask)``.

    One random geometric transform per image (flips, quarter turns, rotation, scale, translation,
    composed into a single affine warp) is applied to the image (bilinear) and its mask (nearest
    neighbour), with the same fill mode; brightness and contrast change the image only. Works on
    one image ``(H, W, C)`` or a batch ``(B, H, W, C)`` (each image draws its own values), in graph
    mode, deterministic for a given ``seed`` (shape ``(2,)``). Build one by name with
    :func:`~kerascv_course.data.get_policy` (``task="segmentation"``): the named policies'
    defaults are in :mod:`kerascv_course.data.catalog`.

    Attributes:
        name: the policy's name.
        horizontal_flip, vertical_flip: probability of each flip.
        rot90: draw a random quarter turn (square images; others are not turned).
        rotation: maximum rotation, degrees (uniform in ``[-rotation, rotation]``).
        scale: ``(min, max)`` zoom (>1 zooms in: a scale-crop).
        translate: maximum shift, as a fraction of the side.
        brightness: maximum brightness shift (image in [0, 1]).
        contrast: maximum relative contrast change (factor in ``[1 - c, 1 + c]``).
        fill_mode: how the warp fills pixels from outside the image.
        output_size: ``None``: the policy keeps each image's size (the pipeline resizes first).
        batched: it also takes a batch, so the pipeline may augment per batch.

    Raises:
        ValueError: for a bad option value (the message names the option and what is allowed).
    """

    name: str
    horizontal_flip: float
    vertical_flip: float
    rot90: bool
    rotation: float
    scale: tuple[float, float]
    translate: float
    brightness: float
    contrast: float
    fill_mode: str
    output_size: tuple[int, int] | None = field(default=None)
    batched: bool = True

    def __post_init__(self) -> None:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name in JOINT_OPTIONS}
        check_values(JOINT_OPTIONS, values, where=f"augmentation policy {self.name!r}")
        object.__setattr__(self, "scale", tuple(self.scale))

    @property
    def geometric(self) -> bool:
        return bool(
            self.horizontal_flip or self.vertical_flip or self.rot90 or self.rotation
            or tuple(self.scale) != (1.0, 1.0) or self.translate
        )

    def _transforms(self, seed: tf.Tensor, batch: tf.Tensor, h: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
        """Per-image ``(B, 8)`` transforms mapping output to input pixel coordinates."""
        seeds = split_seed(seed, 7)
        hf = 1.0 - 2.0 * tf.cast(coin(seeds[0], batch, self.horizontal_flip), tf.float32)  # -1 flips
        vf = 1.0 - 2.0 * tf.cast(coin(seeds[1], batch, self.vertical_flip), tf.float32)
        angle = uniform(seeds[2], batch, -1.0, 1.0) * (self.rotation * math.pi / 180.0)
        if self.rot90:  # quarter turns keep the frame only for square images
            quarter = tf.floor(uniform(seeds[3], batch, 0.0, 4.0))
            angle = angle + quarter * (math.pi / 2) * tf.cast(tf.equal(h, w), tf.float32)
        lo, hi = (float(v) for v in self.scale)
        zoom = tf.exp(uniform(seeds[4], batch, math.log(lo), math.log(hi)))
        tx = uniform(seeds[5], batch, -1.0, 1.0) * self.translate * tf.cast(w, tf.float32)
        ty = uniform(seeds[6], batch, -1.0, 1.0) * self.translate * tf.cast(h, tf.float32)
        cos, sin = tf.cos(angle) / zoom, tf.sin(angle) / zoom
        # input = c + t + F . R . (output - c) / zoom, F = diag(hf, vf) the flips.
        return centred_transforms(hf * cos, -hf * sin, vf * sin, vf * cos, h, w, shift_in=(tx, ty))

    def __call__(
        self, image: tf.Tensor, mask: tf.Tensor, seed: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        single = image.shape.rank == 3
        if single:
            image, mask = image[None], mask[None]
        mask_rank2 = mask.shape.rank == 3  # (B, H, W) masks
        if mask_rank2:
            mask = mask[..., None]
        geo_seed, colour_seed = tf.unstack(split_seed(seed, 2))
        shape = tf.shape(image)
        batch, h, w = shape[0], shape[1], shape[2]
        image = tf.cast(image, tf.float32)
        if self.geometric:
            transforms = self._transforms(geo_seed, batch, h, w)
            image = affine_transform(image, transforms, interpolation="bilinear", fill_mode=self.fill_mode)
            warped = affine_transform(
                tf.cast(mask, tf.float32), transforms, interpolation="nearest", fill_mode=self.fill_mode
            )
            mask = tf.cast(tf.round(warped), mask.dtype)
        if self.brightness or self.contrast:
            seeds = split_seed(colour_seed, 2)
            delta = uniform(seeds[0], batch, -self.brightness, self.brightness)
            factor = uniform(seeds[1], batch, 1.0 - self.contrast, 1.0 + self.contrast)
            mean = tf.reduce_mean(image, axis=[1, 2], keepdims=True)
            image = (image - mean) * factor[:, None, None, None] + mean
            image = tf.clip_by_value(image + delta[:, None, None, None], 0.0, 1.0)
        if mask_rank2:
            mask = mask[..., 0]
        if single:
            image, mask = image[0], mask[0]
        return image, mask


def resize_pair(image: tf.Tensor, mask: tf.Tensor, size: tuple[int, int]) -> tuple[tf.Tensor, tf.Tensor]:
    """uint8 image (bilinear) and mask (nearest neighbour) resized to ``size``."""
    image = tf.image.resize(tf.cast(image, tf.float32), size, method="bilinear")
    image = tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)
    mask = tf.image.resize(mask, size, method="nearest")
    return image, tf.cast(mask, tf.uint8)
