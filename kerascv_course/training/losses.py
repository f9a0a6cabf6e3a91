"""Segmentation losses and metrics: cross-entropy, Dice, focal, U-Net's weighted cross-entropy;
IoU, Dice, pixel accuracy.

Conventions: the model outputs probabilities ``(B, H, W, C)`` (softmax over ``C`` classes, or a
single sigmoid channel for a binary task); masks are integer class indices ``(B, H, W, 1)`` (or
``(B, H, W)``). A single sigmoid channel ``p`` is read as the two classes ``[1 - p, p]``, so every
loss and metric here works with both heads.

Every class is registered serializable (``get_config``), so a ``model.keras`` saved after
``compile`` loads again, with ``safe_mode=True``.

The metrics are confusion-matrix metrics built on ``keras.metrics.MeanIoU``: each replica adds its
pixels to a ``(C, C)`` count matrix that Keras sums over replicas, so the values under a
``tf.distribute`` strategy are the same as on one device.
"""

from __future__ import annotations

import functools
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kerascv_course.training.weight_map import PAPER_SIGMA, PAPER_W0, border_weight_maps

PACKAGE = "kerascv_course"
LOSSES = ("auto", "ce", "bce", "dice", "ce_dice", "bce_dice", "focal", "weighted_ce")
EPSILON = 1e-7


def _labels_and_probs(
    y_true: tf.Tensor, y_pred: tf.Tensor, num_classes: int
) -> tuple[tf.Tensor, tf.Tensor]:
    """One-hot ``(B, H, W, C)`` targets and float32 probabilities ``(B, H, W, C)``."""
    y_pred = tf.cast(y_pred, tf.float32)
    channels = y_pred.shape[-1]
    if channels == 1:
        if num_classes > 2:
            raise ValueError(
                f"A single output channel (sigmoid) suits 1 or 2 classes; the loss was made for "
                f"{num_classes} classes. Received: num_classes={num_classes}"
            )
        y_pred = tf.concat([1.0 - y_pred, y_pred], axis=-1)
        channels = 2
    elif channels is not None and channels != num_classes:
        raise ValueError(
            f"The model outputs {channels} channels but the loss was made for {num_classes} "
            f"classes. Received: num_classes={num_classes}"
        )
    labels = tf.cast(tf.round(tf.cast(y_true, tf.float32)), tf.int32)
    if labels.shape.rank == y_pred.shape.rank and labels.shape[-1] == 1:
        labels = tf.squeeze(labels, axis=-1)
    return tf.one_hot(labels, channels, dtype=tf.float32), y_pred


def _pixel_mean(values: tf.Tensor) -> tf.Tensor:
    """Mean over every axis but the batch axis: one value per image."""
    return tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), axis=-1)


def cross_entropy_per_image(onehot: tf.Tensor, probs: tf.Tensor, *, binary: bool) -> tf.Tensor:
    """Per-image mean pixel cross-entropy; ``binary``: one-vs-rest BCE averaged over channels."""
    probs = tf.clip_by_value(probs, EPSILON, 1.0 - EPSILON)
    if binary:
        bce = -(onehot * tf.math.log(probs) + (1.0 - onehot) * tf.math.log(1.0 - probs))
        return _pixel_mean(tf.reduce_mean(bce, axis=-1))
    return _pixel_mean(-tf.reduce_sum(onehot * tf.math.log(probs), axis=-1))


def dice_loss_per_image(onehot: tf.Tensor, probs: tf.Tensor, *, smooth: float) -> tf.Tensor:
    """Per-image soft Dice loss ``1 - mean_c (2 sum(p g) + s) / (sum p + sum g + s)``."""
    axes = [1, 2]
    intersection = tf.reduce_sum(onehot * probs, axis=axes)
    total = tf.reduce_sum(onehot, axis=axes) + tf.reduce_sum(probs, axis=axes)
    dice = (2.0 * intersection + smooth) / (total + smooth)
    return 1.0 - tf.reduce_mean(dice, axis=-1)


class _SegmentationLoss(keras.losses.Loss):
    """Base class: holds ``num_classes`` and converts masks and probabilities."""

    def __init__(self, num_classes: int, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
            raise ValueError(
                f"`num_classes` must be a positive integer. Received: num_classes={num_classes!r}"
            )
        self.num_classes = num_classes

    def call(self, y_true: Any, y_pred: Any) -> tf.Tensor:
        onehot, probs = _labels_and_probs(y_true, y_pred, self.num_classes)
        return self.per_image(onehot, probs)

    def per_image(self, onehot: tf.Tensor, probs: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_classes": self.num_classes}


@keras.saving.register_keras_serializable(package=PACKAGE)
class CrossEntropyLoss(_SegmentationLoss):
    """Pixel-wise cross-entropy of integer masks against probabilities.

    ``binary=False``: categorical cross-entropy ``-log p[true class]`` (for a single sigmoid
    channel this is binary cross-entropy). ``binary=True``: binary cross-entropy of each class
    channel against its one-vs-rest target, averaged over channels.
    """

    def __init__(
        self, num_classes: int, binary: bool = False, name: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(num_classes, name=name or ("bce" if binary else "ce"), **kwargs)
        self.binary = bool(binary)

    def per_image(self, onehot: tf.Tensor, probs: tf.Tensor) -> tf.Tensor:
        return cross_entropy_per_image(onehot, probs, binary=self.binary)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "binary": self.binary}


@keras.saving.register_keras_serializable(package=PACKAGE)
class DiceLoss(_SegmentationLoss):
    """Soft Dice loss (Milletari et al., 2016), per image, averaged over every class.

    ``1 - mean_c (2 * sum(p_c * g_c) + smooth) / (sum(p_c) + sum(g_c) + smooth)``; a class absent
    from both mask and prediction scores 1 (no loss) thanks to ``smooth``.
    """

    def __init__(
        self, num_classes: int, smooth: float = 1.0, name: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(num_classes, name=name or "dice", **kwargs)
        self.smooth = float(smooth)

    def per_image(self, onehot: tf.Tensor, probs: tf.Tensor) -> tf.Tensor:
        return dice_loss_per_image(onehot, probs, smooth=self.smooth)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "smooth": self.smooth}


@keras.saving.register_keras_serializable(package=PACKAGE)
class CEDiceLoss(_SegmentationLoss):
    """``ce_weight * cross-entropy + dice_weight * Dice loss`` (``binary``: BCE instead of CE)."""

    def __init__(
        self,
        num_classes: int,
        ce_weight: float = 1.0,
        dice_weight: float = 1.0,
        smooth: float = 1.0,
        binary: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(num_classes, name=name or ("bce_dice" if binary else "ce_dice"), **kwargs)
        self.ce_weight, self.dice_weight = float(ce_weight), float(dice_weight)
        self.smooth, self.binary = float(smooth), bool(binary)

    def per_image(self, onehot: tf.Tensor, probs: tf.Tensor) -> tf.Tensor:
        ce = cross_entropy_per_image(onehot, probs, binary=self.binary)
        dice = dice_loss_per_image(onehot, probs, smooth=self.smooth)
        return self.ce_weight * ce + self.dice_weight * dice

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "ce_weight": self.ce_weight,
            "dice_weight": self.dice_weight,
            "smooth": self.smooth,
            "binary": self.binary,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class FocalLoss(_SegmentationLoss):
    """Focal loss (Lin et al., 2017, arXiv:1708.02002), pixel-wise and multi-class.

    ``-sum_c alpha_c (1 - p_c)^gamma g_c log p_c`` averaged over pixels; ``gamma=0`` and no
    ``alpha`` is the cross-entropy. ``alpha``: ``None`` (all 1) or one weight per class.
    """

    def __init__(
        self,
        num_classes: int,
        gamma: float = 2.0,
        alpha: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(num_classes, name=name or "focal", **kwargs)
        if gamma < 0:
            raise ValueError(f"`gamma` must be >= 0. Received: gamma={gamma!r}")
        width = max(num_classes, 2)
        if alpha is not None:
            alpha = [float(a) for a in alpha]
            if len(alpha) != width:
                raise ValueError(
                    f"`alpha` must be None or {width} class weights. Received: alpha={alpha!r}"
                )
        self.gamma, self.alpha = float(gamma), alpha

    def per_image(self, onehot: tf.Tensor, probs: tf.Tensor) -> tf.Tensor:
        probs = tf.clip_by_value(probs, EPSILON, 1.0 - EPSILON)
        focal = -onehot * tf.pow(1.0 - probs, self.gamma) * tf.math.log(probs)
        if self.alpha is not None:
            focal = focal * tf.constant(self.alpha, tf.float32)
        return _pixel_mean(tf.reduce_sum(focal, axis=-1))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "gamma": self.gamma, "alpha": self.alpha}


@keras.saving.register_keras_serializable(package=PACKAGE)
class WeightedCrossEntropyLoss(_SegmentationLoss):
    """U-Net's pixel-wise cross-entropy weighted by the border weight map (Ronneberger et al. 2015).

    ``mean_x w(x) * -log p[true class](x)`` with ``w = w_c + w0 exp(-(d1 + d2)^2 / (2 sigma^2))``
    computed from each mask as it arrives (after augmentation), by
    :func:`~kerascv_course.training.weight_map.border_weight_map`: the objects are the
    4-connected components of the non-background pixels. The map is NumPy run through
    ``tf.numpy_function`` (no gradient flows through it), so this loss cannot be compiled with
    XLA (``jit_compile=True`` is refused by the recipe checks).

    Args:
        num_classes: classes of the masks.
        w0: border weight (10 in the paper).
        sigma: border width in pixels (about 5 in the paper).
        balance: add the class-frequency balancing ``w_c`` (the paper's); ``False``: ``w_c = 1``.
    """

    def __init__(
        self,
        num_classes: int,
        w0: float = PAPER_W0,
        sigma: float = PAPER_SIGMA,
        balance: bool = True,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(num_classes, name=name or "weighted_ce", **kwargs)
        if not isinstance(w0, (int, float)) or isinstance(w0, bool) or w0 < 0:
            raise ValueError(f"`w0` must be a number >= 0. Received: w0={w0!r}")
        if not isinstance(sigma, (int, float)) or isinstance(sigma, bool) or sigma <= 0:
            raise ValueError(f"`sigma` must be a number > 0 (pixels). Received: sigma={sigma!r}")
        self.w0, self.sigma, self.balance = float(w0), float(sigma), bool(balance)

    def weight_maps(self, labels: tf.Tensor) -> tf.Tensor:
        """``(B, H, W)`` weight maps of ``(B, H, W)`` integer masks."""
        maps = tf.numpy_function(
            functools.partial(border_weight_maps, w0=self.w0, sigma=self.sigma, balance=self.balance),
            [labels], tf.float32, stateful=False,
        )
        return tf.ensure_shape(maps, labels.shape)

    def per_image(self, onehot: tf.Tensor, probs: tf.Tensor) -> tf.Tensor:
        weights = tf.stop_gradient(self.weight_maps(tf.argmax(onehot, axis=-1, output_type=tf.int32)))
        ce = -tf.reduce_sum(onehot * tf.math.log(tf.clip_by_value(probs, EPSILON, 1.0 - EPSILON)), axis=-1)
        return _pixel_mean(weights * ce)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "w0": self.w0, "sigma": self.sigma, "balance": self.balance}


def segmentation_loss(num_classes: int, name: str = "auto", **options: Any) -> keras.losses.Loss:
    """The named segmentation loss for masks with ``num_classes`` classes.

    Args:
        num_classes: classes of the masks (the model's output channels, or 2 for one sigmoid
            channel).
        name: ``"auto"`` (= ``"ce_dice"``), ``"ce"``, ``"bce"``, ``"dice"``, ``"ce_dice"``,
            ``"bce_dice"``, ``"focal"`` or ``"weighted_ce"`` (U-Net's border-weighted
            cross-entropy, :class:`WeightedCrossEntropyLoss`).
        **options: the loss class's options (``smooth``, ``gamma``, ``alpha``, ``ce_weight``…).

    Returns:
        A serializable ``keras.losses.Loss``.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones) or bad options.

    Example:
        >>> model.compile("adam", loss=segmentation_loss(2), metrics=segmentation_metrics(2))
    """
    if name not in LOSSES:
        raise ValueError(
            f"`loss` must be one of {', '.join(LOSSES)} for segmentation. Received: loss={name!r}"
        )
    if name in ("auto", "ce_dice"):
        return CEDiceLoss(num_classes, **options)
    if name == "bce_dice":
        return CEDiceLoss(num_classes, binary=True, **options)
    if name == "ce":
        return CrossEntropyLoss(num_classes, **options)
    if name == "bce":
        return CrossEntropyLoss(num_classes, binary=True, **options)
    if name == "dice":
        return DiceLoss(num_classes, **options)
    if name == "weighted_ce":
        return WeightedCrossEntropyLoss(num_classes, **options)
    return FocalLoss(num_classes, **options)


# ----------------------------------------------------------------------------- metrics


class _ConfusionMetric(keras.metrics.MeanIoU):
    """A ``(C, C)`` confusion matrix of integer masks against (argmax of) probabilities.

    Built on ``keras.metrics.MeanIoU`` with ``sparse_y_pred=False``; a single sigmoid channel is
    read as ``[1 - p, p]`` (class 1 where ``p > 0.5``). Mask values outside ``[0, C)`` are ignored
    (Keras' rule). Counts are int64, so large test sets do not overflow.
    """

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        ignore_class: int | None = None,
        dtype: Any = "int64",
        **kwargs: Any,
    ) -> None:
        kwargs.pop("sparse_y_true", None)
        kwargs.pop("sparse_y_pred", None)
        kwargs.pop("axis", None)
        super().__init__(
            num_classes=2 if num_classes == 1 else num_classes,
            name=name, dtype=dtype, ignore_class=ignore_class,
            sparse_y_true=True, sparse_y_pred=False, axis=-1,
        )

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        y_pred = tf.convert_to_tensor(y_pred)
        if y_pred.shape[-1] == 1:
            y_pred = tf.concat([1.0 - y_pred, y_pred], axis=-1)
        y_true = tf.convert_to_tensor(y_true)
        if y_true.shape.rank == y_pred.shape.rank and y_true.shape[-1] == 1:
            y_true = tf.squeeze(y_true, axis=-1)
        return super().update_state(y_true, y_pred, sample_weight)

    def confusion_matrix(self) -> np.ndarray:
        """The accumulated counts, rows = true class, columns = predicted class."""
        return np.asarray(keras.ops.convert_to_numpy(self.total_cm))

    def _counts(self) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        cm = tf.cast(self.total_cm, tf.float64)
        return tf.linalg.diag_part(cm), tf.reduce_sum(cm, axis=1), tf.reduce_sum(cm, axis=0)


@keras.saving.register_keras_serializable(package=PACKAGE)
class MeanIoU(_ConfusionMetric):
    """Mean intersection-over-union over the classes present in masks or predictions."""

    def __init__(self, num_classes: int, name: str = "mean_iou", **kwargs: Any) -> None:
        super().__init__(num_classes, name=name, **kwargs)

    def result(self) -> tf.Tensor:
        tp, true_count, pred_count = self._counts()
        return _mean_valid(tp, true_count + pred_count - tp)


@keras.saving.register_keras_serializable(package=PACKAGE)
class DiceCoefficient(_ConfusionMetric):
    """Mean Dice (F1) ``2 TP / (2 TP + FP + FN)`` over the classes present (hard predictions)."""

    def __init__(self, num_classes: int, name: str = "dice", **kwargs: Any) -> None:
        super().__init__(num_classes, name=name, **kwargs)

    def result(self) -> tf.Tensor:
        tp, true_count, pred_count = self._counts()
        return _mean_valid(2.0 * tp, true_count + pred_count)


@keras.saving.register_keras_serializable(package=PACKAGE)
class PixelAccuracy(_ConfusionMetric):
    """Fraction of pixels whose predicted class is the mask's."""

    def __init__(self, num_classes: int, name: str = "pixel_accuracy", **kwargs: Any) -> None:
        super().__init__(num_classes, name=name, **kwargs)

    def result(self) -> tf.Tensor:
        tp, true_count, _ = self._counts()
        total = tf.reduce_sum(true_count)
        return tf.cast(tf.math.divide_no_nan(tf.reduce_sum(tp), total), tf.float32)


def _mean_valid(numerator: tf.Tensor, denominator: tf.Tensor) -> tf.Tensor:
    valid = denominator > 0
    scores = tf.math.divide_no_nan(numerator, denominator)
    count = tf.reduce_sum(tf.cast(valid, tf.float64))
    return tf.cast(tf.math.divide_no_nan(tf.reduce_sum(scores), count), tf.float32)


def segmentation_metrics(num_classes: int) -> list[keras.metrics.Metric]:
    """The segmentation metrics the trainer reports: ``mean_iou``, ``dice``, ``pixel_accuracy``.

    Args:
        num_classes: classes of the masks.

    Returns:
        ``[MeanIoU, DiceCoefficient, PixelAccuracy]``, named ``mean_iou``, ``dice`` and
        ``pixel_accuracy``. Per-class scores: :func:`per_class_scores` on any of them.
    """
    return [MeanIoU(num_classes), DiceCoefficient(num_classes), PixelAccuracy(num_classes)]


def scores_from_confusion(cm: Any) -> dict[str, Any]:
    """Per-class IoU and Dice, their means over present classes, and pixel accuracy, in NumPy.

    Args:
        cm: a ``(C, C)`` confusion matrix (rows true, columns predicted).

    Returns:
        ``{"iou": [C], "dice": [C], "mean_iou", "mean_dice", "pixel_accuracy"}``; a class absent
        from both masks and predictions has ``nan`` scores and is left out of the means.
    """
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    true_count, pred_count = cm.sum(axis=1), cm.sum(axis=0)
    union = true_count + pred_count - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, tp / union, np.nan)
        dice = np.where(true_count + pred_count > 0, 2 * tp / (true_count + pred_count), np.nan)
    total = cm.sum()
    return {
        "iou": iou.tolist(),
        "dice": dice.tolist(),
        "mean_iou": float(np.nanmean(iou)) if np.any(union > 0) else 0.0,
        "mean_dice": float(np.nanmean(dice)) if np.any(union > 0) else 0.0,
        "pixel_accuracy": float(tp.sum() / total) if total else 0.0,
    }


def per_class_scores(metric: keras.metrics.Metric) -> dict[str, Any]:
    """Per-class IoU/Dice of a metric from :func:`segmentation_metrics` (after ``evaluate``).

    Example:
        >>> metrics = segmentation_metrics(3)
        >>> model.compile("adam", loss=segmentation_loss(3), metrics=metrics)
        >>> model.evaluate(test_batches)
        >>> per_class_scores(metrics[0])["iou"]
    """
    if not isinstance(metric, _ConfusionMetric):
        raise TypeError(
            f"`metric` must be one of segmentation_metrics()'s metrics. Received: metric={metric!r}"
        )
    return scores_from_confusion(metric.confusion_matrix())
