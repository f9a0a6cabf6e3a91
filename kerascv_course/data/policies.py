"""Augmentation policies: the transforms a paper used, by name, sized for the model's input.

A *policy* is a named list of transforms (:class:`Policy`) for classification, or a
:class:`~kerascv_course.data.transforms.joint.JointPolicy` that moves a mask with its image for
segmentation. :func:`get_policy` builds one; the names, their options and defaults, and the
papers are in :mod:`kerascv_course.data.catalog` (:func:`~kerascv_course.data.catalog.list_policies`,
:func:`~kerascv_course.data.catalog.policy_options`), which also checks the options.

Example:
    >>> policy = get_policy("cifar", image_size=32)
    >>> image, label = policy(tf.zeros([32, 32, 3]), 3, tf.constant([1, 2]))
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tensorflow as tf

from kerascv_course.data.catalog import check_policy, list_policies, policy_entry, resolve
from kerascv_course.data.pipeline import Augment
from kerascv_course.data.transforms.checks import as_size
from kerascv_course.data.transforms.elastic import ElasticJointPolicy
from kerascv_course.data.transforms.geometric import (
    elastic_distort,
    pad_and_crop,
    random_affine,
    random_flip,
    random_resized_crop,
    scale_jitter,
)
from kerascv_course.data.transforms.joint import JointPolicy
from kerascv_course.data.transforms.pca import pca_for_dataset
from kerascv_course.data.transforms.photometric import color_jitter, cutout
from kerascv_course.data.transforms.sampling import split_seed

Transform = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]

__all__ = ["JointPolicy", "Policy", "get_policy", "list_policies"]


@dataclass(frozen=True)
class Policy:
    """A named list of transforms, callable as a pipeline ``augment``: ``(image, label, seed)``.

    Attributes:
        name: the policy's name.
        transforms: the transforms ``(image, seed) -> image``, applied in order, each with its own
            seed split from the one given.
        output_size: ``(h, w)`` when the policy sets the output size itself (crops that resize);
            the pipeline then feeds it the images at their stored size. ``None``: size kept.
        batched: every transform also takes a batch, so the pipeline may apply it per batch.
    """

    name: str
    transforms: tuple[Transform, ...]
    output_size: tuple[int, int] | None = None
    batched: bool = True

    def apply(self, image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        """The transforms applied to ``image`` (one or a batch)."""
        seeds = split_seed(seed, max(1, len(self.transforms)))
        for i, transform in enumerate(self.transforms):
            image = transform(image, seeds[i])
        return image

    def __call__(self, image: tf.Tensor, label: tf.Tensor, seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return self.apply(image, seed), label


# --------------------------------------------------------------------------------------------
# Builders: builder(name, size, info, **options), the options checked and completed by the catalog.


def _fill(info: Any | None) -> tuple[float, ...] | float:
    mean = getattr(info, "mean", None)
    return tuple(mean) if mean else 0.5


def build_lenet(
    name: str, size: tuple[int, int] | None, info: Any, *, rotation: float, scale: tuple[float, float], squeeze: float,
    shear: float, translate: float, elastic: bool, elastic_alpha: float, elastic_sigma: float,
) -> Policy:
    """LeNet-5's affine distortions, optionally Simard et al.'s elastic ones."""
    transforms: list[Transform] = [
        functools.partial(
            random_affine, rotation=rotation, scale=scale, squeeze=squeeze, shear=shear, translate=translate
        )
    ]
    if elastic:
        transforms.append(functools.partial(elastic_distort, alpha=elastic_alpha, sigma=elastic_sigma))
    return Policy(name, tuple(transforms))


def _crop_policy(
    name: str, size: tuple[int, int], info: Any, scale_range: tuple[float, float], flip: bool, pca_std: float
) -> Policy:
    # the flip is fused into the crop's resampling (see scale_jitter)
    transforms: list[Transform] = [
        functools.partial(scale_jitter, size=size, scale_range=scale_range, flip=0.5 if flip else 0.0)
    ]
    if pca_std:
        transforms.append(pca_for_dataset(info, std=pca_std))
    return Policy(name, tuple(transforms), output_size=size)


def build_alexnet(
    name: str, size: tuple[int, int], info: Any, *, resize: float | None, flip: bool, pca_std: float
) -> Policy:
    """AlexNet: a fixed shorter side (``image_size * 256/224``), random crop, flip, PCA lighting."""
    side = resize if resize is not None else max(size) * 256 / 224
    return _crop_policy(name, size, info, (side, side), flip, pca_std)


# The shorter-side range of scale jittering for 224 crops, scaled to the model's input size.
_JITTER_RANGES = {"vgg": (256, 512), "resnet": (256, 480)}


def build_scale_jitter(
    name: str, size: tuple[int, int], info: Any, *, scale_range: tuple[float, float] | None, flip: bool,
    pca_std: float,
) -> Policy:
    """VGG's and ResNet's scale jittering, flip and colour shift."""
    low, high = _JITTER_RANGES[name]
    default = (max(size) * low / 224.0, max(size) * high / 224.0)
    return _crop_policy(name, size, info, scale_range or default, flip, pca_std)


def build_inception(
    name: str, size: tuple[int, int], info: Any, *, scale: tuple[float, float], ratio: tuple[float, float],
    interpolation: str, flip: bool, brightness: float, contrast: float, saturation: float,
) -> Policy:
    """GoogLeNet's random-resized crops and photometric distortions."""
    transforms: list[Transform] = [
        functools.partial(
            random_resized_crop, size=size, scale=scale, ratio=ratio, interpolation=interpolation,
            flip=0.5 if flip else 0.0,
        ),
        functools.partial(color_jitter, brightness=brightness, contrast=contrast, saturation=saturation),
    ]
    return Policy(name, tuple(transforms), output_size=size)


def build_cifar(
    name: str, size: tuple[int, int] | None, info: Any, *, padding: int, mode: str, flip: bool, cutout_size: int
) -> Policy:
    """He et al.'s CIFAR-10 pad-and-crop and flip, with DeVries & Taylor's optional cutout."""
    transforms: list[Transform] = [functools.partial(pad_and_crop, padding=padding, mode=mode)]
    if flip:
        transforms.append(random_flip)
    if cutout_size:
        transforms.append(functools.partial(cutout, size=cutout_size, fill=_fill(info)))
    return Policy(name, tuple(transforms))


def build_joint(name: str, size: tuple[int, int] | None, info: Any, **options: Any) -> JointPolicy:
    """A segmentation policy: its options are :class:`JointPolicy`'s fields (size kept)."""
    return JointPolicy(name=name, **options)


def build_unet_paper(
    name: str, size: tuple[int, int] | None, info: Any, *, elastic_grid: int, elastic_sigma: float,
    horizontal_flip: float, vertical_flip: float, rot90: bool, rotation: float, scale: tuple[float, float],
    translate: float, brightness: float, contrast: float, fill_mode: str,
) -> ElasticJointPolicy:
    """U-Net's elastic deformations (a coarse grid of Gaussian displacements, bicubic), then a
    :class:`JointPolicy` with the other options (size kept)."""
    joint = JointPolicy(
        name=name, horizontal_flip=horizontal_flip, vertical_flip=vertical_flip, rot90=rot90,
        rotation=rotation, scale=scale, translate=translate, brightness=brightness, contrast=contrast,
        fill_mode=fill_mode,
    )
    return ElasticJointPolicy(name=name, joint=joint, grid=elastic_grid, sigma=elastic_sigma)


def get_policy(
    name: str,
    *,
    task: str = "classification",
    image_size: int | tuple[int, int] | None = None,
    info: Any | None = None,
    **options: Any,
) -> Augment | None:
    """The ``augment`` callable of a named policy, ready for :func:`~kerascv_course.data.make_pipeline`.

    Args:
        name: one of ``list_policies(task)`` (any case); ``"none"`` returns ``None``.
        task: ``"classification"``, or ``"segmentation"`` (policies that move masks with images).
        image_size: the model's input size; the cropping policies (alexnet, vgg, resnet,
            inception) output exactly this size. Defaults to the dataset's fixed image size.
        info: the dataset's :class:`~kerascv_course.data.DatasetInfo` (colour PCA components,
            mean for cutout fill, image size).
        **options: the policy's own options, e.g. ``cutout_size=16`` for ``cifar``,
            ``scale_range=(36, 73)`` for ``vgg``, ``elastic=True`` for ``lenet``,
            ``vertical_flip=0.5`` for ``segmentation``, ``elastic_sigma=10`` for ``unet_paper`` (see
            :func:`~kerascv_course.data.catalog.policy_options`).

    Returns:
        A :class:`Policy` (``(image, label, seed) -> (image, label)``) or a :class:`JointPolicy`
        or :class:`~kerascv_course.data.transforms.elastic.ElasticJointPolicy`
        (``(image, mask, seed) -> (image, mask)``), or ``None`` for ``"none"``.

    Raises:
        ValueError: for an unknown policy, task or option, a bad option value, or a cropping
            policy without a size.

    Example:
        >>> augment = get_policy("vgg", image_size=224, info=info)
        >>> train = make_pipeline(ds, info, training=True, batch_size=32, image_size=224,
        ...                       augment=augment)
    """
    entry = policy_entry(name, task)
    resolved = check_policy(entry.name, task, options)
    size = None
    if image_size is not None:
        size = as_size(image_size, "image_size")
    elif info is not None and None not in tuple(info.image_shape[:2]):
        size = (int(info.image_shape[0]), int(info.image_shape[1]))
    if entry.builder is None:
        return None
    if size is None and entry.sized:
        raise ValueError(
            f"Policy {entry.name!r} crops to the model's input size: pass `image_size` (the dataset's "
            f"images have no fixed size). Received: image_size=None"
        )
    return resolve(entry.builder)(entry.name, size, info, **resolved)
