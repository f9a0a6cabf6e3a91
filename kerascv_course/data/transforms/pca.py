"""AlexNet's PCA lighting: colour shifts along the principal components of the training pixels."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from kerascv_course.data.constants import IMAGENET_PCA
from kerascv_course.utils.checks import check_number

log = logging.getLogger(__name__)


def pca_shift(image: tf.Tensor, alpha: tf.Tensor, eigvals: tf.Tensor, eigvecs: tf.Tensor) -> tf.Tensor:
    """AlexNet's colour shift for given ``alpha``: ``image + eigvecs @ (alpha * eigvals)``, clipped.

    ``alpha`` is ``(C,)`` for one image or ``(B, C)`` for a batch; ``eigvecs`` has the principal
    components as columns.
    """
    image = tf.convert_to_tensor(image, tf.float32)
    alpha = tf.cast(alpha, tf.float32)
    shift = tf.linalg.matvec(tf.cast(eigvecs, tf.float32), alpha * tf.cast(eigvals, tf.float32))
    if image.shape.rank == 4:
        shift = shift[:, None, None, :]
    return tf.clip_by_value(image + shift, 0.0, 1.0)


@dataclass(eq=False)
class PCALighting:
    """AlexNet's "PCA colour augmentation" (Krizhevsky et al. 2012, Sec. 4.1).

    Adds ``sum_i p_i * alpha_i * lambda_i`` to every pixel, with ``p_i, lambda_i`` the
    eigenvectors/eigenvalues of the 3x3 covariance of the training set's RGB pixels (values in
    [0, 1]) and ``alpha_i ~ N(0, std)`` drawn once per image. This is the one transform with state:
    the components, computed once from data (:meth:`from_images`, :meth:`from_dataset`, cached per
    dataset by :func:`pca_for_dataset`).

    Attributes:
        eigvals: ``(C,)`` eigenvalues, largest first.
        eigvecs: ``(C, C)`` matrix whose columns are the components.
        std: standard deviation of ``alpha`` (0.1 in the paper).
    """

    eigvals: np.ndarray
    eigvecs: np.ndarray
    std: float = 0.1

    def __post_init__(self) -> None:
        self.eigvals = np.asarray(self.eigvals, np.float32).reshape(-1)
        self.eigvecs = np.asarray(self.eigvecs, np.float32)
        c = self.eigvals.shape[0]
        if self.eigvecs.shape != (c, c):
            raise ValueError(
                f"`eigvecs` must be a ({c}, {c}) matrix for {c} eigenvalues. "
                f"Received: eigvecs.shape={self.eigvecs.shape}"
            )
        check_number("std", self.std, low=0.0)

    @classmethod
    def from_images(cls, images: Any, *, std: float = 0.1, max_pixels: int = 2_000_000, seed: int = 0) -> PCALighting:
        """Components of the pixel covariance of ``images`` (``(..., C)``, uint8 or float [0, 1])."""
        images = np.asarray(images)
        scale = 1 / 255.0 if images.dtype == np.uint8 else 1.0
        pixels = images.reshape(-1, images.shape[-1]).astype(np.float64) * scale
        if len(pixels) > max_pixels:
            pixels = pixels[np.random.default_rng(seed).choice(len(pixels), max_pixels, replace=False)]
        return cls.from_pixels(pixels, std=std)

    @classmethod
    def from_pixels(cls, pixels: np.ndarray, *, std: float = 0.1) -> PCALighting:
        """Components of ``(N, C)`` pixel values in [0, 1]."""
        if pixels.ndim != 2 or len(pixels) < 2:
            raise ValueError(f"`pixels` must be (N >= 2, C). Received: shape={pixels.shape}")
        cov = np.atleast_2d(np.cov(pixels, rowvar=False))
        vals, vecs = np.linalg.eigh(cov)
        order = np.argsort(vals)[::-1]
        return cls(np.clip(vals[order], 0, None), vecs[:, order], std=std)

    @classmethod
    def from_dataset(
        cls, ds: tf.data.Dataset, *, max_images: int = 2000, pixels_per_image: int = 1024, std: float = 0.1, seed: int = 0
    ) -> PCALighting:
        """Components from up to ``max_images`` ``(image, label)`` pairs (uint8 images), sampling
        ``pixels_per_image`` pixels of each (any image sizes)."""

        def sample(image: tf.Tensor, *_: Any) -> tf.Tensor:
            flat = tf.reshape(tf.image.convert_image_dtype(image, tf.float32), [-1, tf.shape(image)[-1]])
            idx = tf.random.stateless_uniform(
                [pixels_per_image], [seed, 0], minval=0, maxval=tf.shape(flat)[0], dtype=tf.int32
            )
            return tf.gather(flat, idx)

        chunks = [c for c in ds.take(max_images).map(sample, num_parallel_calls=tf.data.AUTOTUNE).batch(256).as_numpy_iterator()]
        if not chunks:
            raise ValueError("Cannot compute colour PCA components from an empty dataset.")
        pixels = np.concatenate([c.reshape(-1, c.shape[-1]) for c in chunks]).astype(np.float64)
        return cls.from_pixels(pixels, std=std)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable components (for caching to a file)."""
        return dict(eigvals=self.eigvals.tolist(), eigvecs=self.eigvecs.tolist(), std=self.std)

    def __call__(self, image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        """Shift the colours of ``image`` (one or a batch) by a random ``alpha`` per image."""
        image = tf.convert_to_tensor(image)
        c = int(self.eigvals.shape[0])
        shape = [c] if image.shape.rank == 3 else tf.stack([tf.shape(image)[0], c])
        alpha = tf.random.stateless_normal(shape, seed, stddev=self.std)
        return pca_shift(image, alpha, self.eigvals, self.eigvecs)


_PCA_CACHE: dict[tuple, PCALighting] = {}


def pca_for_dataset(info: Any | None, *, std: float = 0.1) -> PCALighting:
    """The colour components of a dataset's training split, computed once per process and cached.

    Uses ``info.extra["pca"]`` when the loader provides published components (ImageNet and its
    subsets), otherwise loads the train split again with the loader's own arguments
    (``info.extra["load_args"]``) and samples its pixels. With ``info=None``: ImageNet's.
    """
    if info is None:
        return PCALighting(std=std, **IMAGENET_PCA)
    extra = getattr(info, "extra", {}) or {}
    if "pca" in extra:
        return PCALighting(std=std, **{k: extra["pca"][k] for k in ("eigvals", "eigvecs")})
    load_args = dict(extra.get("load_args", {}))
    key = (info.name, tuple(sorted((k, repr(v)) for k, v in load_args.items())))
    if key not in _PCA_CACHE:
        from kerascv_course.data.datasets.base import load_dataset

        log.info("Computing colour PCA components of %s (train split), once per process.", info.name)
        ds, _ = load_dataset(info.name, "train", **load_args)
        _PCA_CACHE[key] = PCALighting.from_dataset(ds)
    cached = _PCA_CACHE[key]
    return PCALighting(cached.eigvals, cached.eigvecs, std=std)
