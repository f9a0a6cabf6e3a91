"""Evaluating classifiers: top-1/top-5 error, per-class accuracy, confusion matrix, TTA, ensembles.

:func:`evaluate_classifier` loads one or more saved models (``model.keras`` files or run folders,
with ``safe_mode=True``), runs them over a dataset split with optional test-time augmentation —

========== ===================================================================================
tta        views per image
========== ===================================================================================
none       the image resized to the model's input, as the trainer evaluates (1 view)
center     shorter side resized to ``resize`` (input / 0.875, ImageNet's 256 for 224), the
           central crop (1 view)
10crop     the same resize, four corner crops and the centre crop and their mirror images —
           AlexNet's test-time augmentation (Krizhevsky et al. 2012, Sec. 4.1) (10 views)
multiscale five crops and mirrors at several shorter sides (GoogLeNet's 256/288/320/352 for 224,
           scaled to the input) (40 views)
========== ===================================================================================

— averages each model's softmax over the views, then over the models (an ensemble), and
reports the metrics (:func:`classification_metrics`).

Example:
    >>> report = evaluate_classifier(["runs/a", "runs/b"], tta="10crop")
    >>> report["top1_error"], report["top5_error"]
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

TTA_MODES = ("none", "center", "10crop", "multiscale")
IMAGENET_CROP_RATIO = 224 / 256
MULTISCALE_SIDES = (256, 288, 320, 352)  # GoogLeNet's test scales for 224 crops
EPSILON = 1e-7

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Metrics (NumPy)


def top_k_accuracy(probabilities: Any, labels: Any, k: int = 1) -> float:
    """The fraction of examples whose label is among the ``k`` highest probabilities.

    Ties are broken towards the lower class index, as ``np.argsort`` with a stable sort does.
    """
    p = np.asarray(probabilities)
    y = np.asarray(labels).astype(np.int64).reshape(-1)
    if p.ndim != 2 or p.shape[0] != y.shape[0]:
        raise ValueError(
            f"`probabilities` must be (N, classes) with one row per label. Received: shape "
            f"{p.shape} for {y.shape[0]} labels"
        )
    if len(y) == 0:
        raise ValueError("There are no examples to evaluate. Received: 0 labels")
    top = np.argsort(-p, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == y[:, None], axis=1)))


def confusion_matrix(labels: Any, predictions: Any, num_classes: int) -> np.ndarray:
    """``cm[i, j]``: how many examples of class ``i`` were predicted as class ``j``."""
    y = np.asarray(labels).astype(np.int64).reshape(-1)
    p = np.asarray(predictions).astype(np.int64).reshape(-1)
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (y, p), 1)
    return cm


def classification_metrics(
    probabilities: Any, labels: Any, *, class_names: Sequence[str] | None = None
) -> dict[str, Any]:
    """Top-1/top-5 accuracy and error, the mean negative log-likelihood, per-class accuracy and
    the confusion matrix of ``(N, classes)`` probabilities against integer labels.

    Returns:
        ``{"accuracy", "top5_accuracy", "top1_error", "top5_error", "loss", "num_examples",
        "per_class_accuracy": {name: accuracy or None when the class has no example},
        "confusion_matrix": [[...], ...]}``.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels).astype(np.int64).reshape(-1)
    num_classes = p.shape[1]
    names = list(class_names) if class_names is not None else [str(i) for i in range(num_classes)]
    if len(names) != num_classes:
        raise ValueError(f"`class_names` must name {num_classes} classes. Received: {len(names)} names")
    top1 = top_k_accuracy(p, y, 1)
    top5 = top_k_accuracy(p, y, min(5, num_classes))
    cm = confusion_matrix(y, np.argmax(p, axis=1), num_classes)
    support = cm.sum(axis=1)
    per_class = {
        name: (float(cm[i, i] / support[i]) if support[i] else None) for i, name in enumerate(names)
    }
    nll = float(np.mean(-np.log(np.clip(p[np.arange(len(y)), y], EPSILON, 1.0))))
    return {
        "accuracy": top1,
        "top5_accuracy": top5,
        "top1_error": 1.0 - top1,
        "top5_error": 1.0 - top5,
        "loss": nll,
        "num_examples": int(len(y)),
        "per_class_accuracy": per_class,
        "confusion_matrix": cm.tolist(),
    }


# ---------------------------------------------------------------------------------------------
# Models and views


def load_model(path: str) -> tuple[Any, dict[str, Any] | None, str | None]:
    """Load a ``.keras`` model, or a run folder's ``model.keras``, with ``safe_mode=True``.

    Returns:
        ``(model, recipe dict or None, run folder or None)``.

    Raises:
        FileNotFoundError: when there is no such file or the folder holds no ``model.keras``.
    """
    from kerascv_course.training.run_folder import resolve_model_source

    source = resolve_model_source(path, argument="model")
    recipe = source.recipe.to_dict() if source.recipe is not None else None
    return source.load(), recipe, source.run.path if source.run is not None else None


def _differ(what: str, values: dict[str, Any], why: str, paths: Sequence[str]) -> None:
    if len({repr(v) for v in values.values()}) > 1:
        shown = ", ".join(f"{p!r}: {v!r}" for p, v in values.items())
        raise ValueError(
            f"The models of an ensemble must have the same {what} ({why}); they differ: {shown}. "
            f"Received: ensemble={list(paths)!r}"
        )


def check_ensemble_sources(paths: Sequence[str]) -> None:
    """``ValueError`` unless the members agree on what their run folders and model cards say —
    training dataset, class names, classes and input size — checked without TensorFlow, before
    any model is loaded."""
    from kerascv_course.training.run_folder import resolve_model_source

    if len(paths) < 2:
        return
    datasets, names, classes, sizes = {}, {}, {}, {}
    for path in paths:
        source = resolve_model_source(path, argument="model")
        card = source.card or {}
        trained = (source.recipe.dataset if source.recipe is not None else None) or (card.get("dataset") or {}).get("name")
        if trained:
            datasets[path] = trained
        if card.get("class_names"):
            names[path] = list(card["class_names"])
            classes[path] = len(card["class_names"])
        if card.get("input"):
            sizes[path] = tuple(card["input"]["image_size"]) + (card["input"]["channels"],)
    why = "class k must mean the same thing in every member whose outputs are averaged"
    _differ("training dataset", datasets, why, paths)
    _differ("classes", classes, why, paths)
    _differ("class names", names, why, paths)
    _differ("input size", sizes, "every member must see the same images", paths)


def check_ensemble(paths: Sequence[str], loaded: Sequence[tuple[Any, dict[str, Any] | None, Any]]) -> None:
    """``ValueError`` unless the members of an ensemble agree: the same classes, the same input
    size and channels, and (where a member has a recipe or a model card) the same training
    dataset and class names — so that class k means the same thing in every member whose outputs
    are averaged."""
    from kerascv_course.utils.model_card import model_card

    outputs = {int(m.output_shape[-1]) for m, _, _ in loaded}
    if len(outputs) != 1:
        raise ValueError(f"The models of an ensemble must have the same classes. Received: {sorted(outputs)} classes")
    channels = {int(m.input_shape[-1]) for m, _, _ in loaded}
    if len(channels) != 1:
        raise ValueError(f"The models of an ensemble must take the same channels. Received: {sorted(channels)}")
    _differ("input size", {p: tuple(m.input_shape[1:3]) for p, (m, _, _) in zip(paths, loaded)},
            "every member must see the same images", paths)
    trained = {}
    for p, (m, r, _) in zip(paths, loaded):
        name = (r or {}).get("dataset") or ((model_card(m) or {}).get("dataset") or {}).get("name")
        if name:
            trained[p] = name
    if len(set(trained.values())) > 1:
        shown = ", ".join(f"{p!r} on {d!r}" for p, d in trained.items())
        raise ValueError(
            f"The models of an ensemble were trained on different datasets ({shown}): their "
            f"classes mean different things, so their outputs cannot be averaged. "
            f"Received: ensemble={list(paths)!r}"
        )
    names = {p: (model_card(m) or {}).get("class_names") for p, (m, _, _) in zip(paths, loaded)}
    _differ("class names", {p: n for p, n in names.items() if n},
            "class k must mean the same thing in every member whose outputs are averaged", paths)


def scaled_sides(size: int, sides: Sequence[int] = MULTISCALE_SIDES) -> list[int]:
    """ImageNet's test sides (for 224 crops) scaled to a ``size`` input, each at least ``size``."""
    return [max(size, int(round(s * size / 224))) for s in sides]


def views(images: Any, tta: str, size: tuple[int, int], *, resize: int | None = None,
          scales: Sequence[int] | None = None) -> Any:
    """The test-time views ``(B, n, h, w, C)`` of a batch of images ``(B, H, W, C)`` in [0, 1].

    Args:
        images: float images.
        tta: one of :data:`TTA_MODES`.
        size: the model's input ``(h, w)``.
        resize: the shorter side before cropping (``center``/``10crop``; default
            ``round(min(size) / 0.875)``).
        scales: shorter sides of ``multiscale`` (default :func:`scaled_sides`).
    """
    import tensorflow as tf

    from kerascv_course.evaluation.crops import (
        center_crop,
        multi_scale_crops,
        resize_shorter,
        ten_crop,
    )

    check_tta(tta)
    if tta == "none":
        if tuple(images.shape[1:3]) != tuple(size):
            images = tf.image.resize(images, size)
        return images[:, None]
    side = resize or int(round(min(size) / IMAGENET_CROP_RATIO))
    if tta == "center":
        return center_crop(resize_shorter(images, side), size)
    if tta == "10crop":
        return ten_crop(resize_shorter(images, side), size)
    return multi_scale_crops(images, size, scales or scaled_sides(min(size)))


def tta_warning(tta: str, stored: Sequence[Any], size: Sequence[int], *, resize: int | None = None,
                dataset: str = "the dataset") -> str | None:
    """A warning when cropping views (``center``, ``10crop``) cut into images smaller than the
    side they are resized to: each crop then keeps only ``crop area / resized area`` of an
    upsampled image (tightly framed digits lose strokes), which usually raises the error. ``None``
    when the images are large enough, their size varies, or ``tta`` does not crop."""
    if tta not in ("center", "10crop") or None in tuple(stored[:2]):
        return None
    height, width = (int(v) for v in stored[:2])
    side = resize or int(round(min(size) / IMAGENET_CROP_RATIO))
    if min(height, width) >= side:
        return None
    short = min(height, width)
    resized = (side * height / short) * (side * width / short)
    share = size[0] * size[1] / resized
    return (
        f"--tta {tta}: the {height}x{width} images of {dataset} are smaller than the {side}-pixel "
        f"side they are resized to before cutting {size[0]}x{size[1]} crops, so each crop keeps "
        f"{share:.0%} of an upsampled image; on small, tightly framed images this usually makes the "
        f"error worse (compare with --tta none, or pass --resize {min(size)} to crop nothing)"
    )


def check_tta(tta: str) -> None:
    """``ValueError`` unless ``tta`` is one of :data:`TTA_MODES`."""
    if tta not in TTA_MODES:
        raise ValueError(f"`tta` must be one of {', '.join(TTA_MODES)}. Received: tta={tta!r}")


def predict_probabilities(
    model: Any,
    batches: Any,
    info: Any,
    *,
    tta: str = "none",
    resize: int | None = None,
    scales: Sequence[int] | None = None,
    progress: Callable[[str], Any] | None = None,
    every: float = 10.0,
) -> tuple[np.ndarray, np.ndarray]:
    """A model's softmax, averaged over the test-time views, for every example of ``batches``.

    Args:
        model: a Keras classifier.
        batches: ``(float image in [0, 1], label)`` batches, not normalised (``make_pipeline(...,
            normalize=False)``).
        info: the dataset's ``DatasetInfo`` (its normalisation is applied to every view).
        tta: one of :data:`TTA_MODES`.
        resize, scales: see :func:`views`.
        progress: called with a line of the images done so far every ``every`` seconds.

    Returns:
        ``(probabilities (N, classes), labels (N,))``.
    """
    import tensorflow as tf

    from kerascv_course.data.pipeline import normalize_image
    from kerascv_course.evaluation.crops import average_predictions

    size = tuple(int(s) for s in model.input_shape[1:3])

    @tf.function(reduce_retracing=True)
    def predict(images: tf.Tensor) -> tf.Tensor:
        crops = views(images, tta, size, resize=resize, scales=scales)
        return average_predictions(model, crops, preprocess=lambda x: normalize_image(x, info))

    probs, labels = [], []
    start = last = time.monotonic()
    done = 0
    for images, y in batches:
        probs.append(predict(images).numpy())
        labels.append(np.asarray(y).reshape(-1))
        done += len(labels[-1])
        if progress is not None and time.monotonic() - last >= every:
            last = time.monotonic()
            progress(f"  {done} images ({last - start:.0f} s)")
    if not probs:
        raise ValueError("The dataset split is empty. Received: 0 batches")
    return np.concatenate(probs).astype(np.float64), np.concatenate(labels).astype(np.int64)


def evaluate_classifier(
    models: Sequence[str] | str,
    *,
    dataset: str | None = None,
    split: str | None = None,
    tta: str = "none",
    data_dir: str | None = None,
    image_size: int | None = None,
    batch_size: int = 64,
    resize: int | None = None,
    scales: Sequence[int] | None = None,
    max_examples: int | None = None,
    progress: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """Evaluate one model or an ensemble on a dataset split.

    Args:
        models: ``.keras`` files or run folders; several make an ensemble (their softmax outputs
            averaged).
        dataset: the dataset (default: the first run's ``recipe.json``).
        split: the split (default: the recipe's ``test_split``, else ``"test"``).
        tta: test-time augmentation, one of :data:`TTA_MODES`.
        data_dir: tensorflow-datasets folder (default: the recipe's).
        image_size: for datasets whose images vary in size, the square size they are loaded at
            (default: the recipe's ``image_size``, else the model's input).
        batch_size: images per batch.
        resize, scales: see :func:`views`.
        max_examples: evaluate only the first ``max_examples`` examples.
        progress: called with one short line as each model starts and ends (and every ten
            seconds within), e.g. ``print``.

    Returns:
        :func:`classification_metrics` plus ``models``, ``dataset``, ``split``, ``tta``,
        ``views_per_image``, ``class_names`` and ``warnings`` (:func:`tta_warning`'s, also
        logged).

    Raises:
        ValueError: bad ``tta``, no dataset, a segmentation model, or models whose classes differ.
        FileNotFoundError: a model path that does not exist.
    """
    from kerascv_course.data import load_dataset, make_pipeline

    paths = [models] if isinstance(models, str) else list(models)
    if not paths:
        raise ValueError("`models` must name at least one model. Received: models=[]")
    check_tta(tta)
    check_ensemble_sources(paths)
    loaded = [load_model(p) for p in paths]
    from kerascv_course.utils.model_card import model_card

    cards = [model_card(m) for m, _, _ in loaded]
    recipe = next((r for _, r, _ in loaded if r), None)
    if recipe is None:  # .keras files without their run folder: what their card says
        trained = next(((c.get("dataset") or {}) for c in cards if c and c.get("dataset")), {})
        recipe = {"dataset": trained.get("name"), "dataset_kwargs": trained.get("kwargs"),
                  "image_size": trained.get("image_size"), "seed": trained.get("seed", 0),
                  "test_split": trained.get("test_split")}
    dataset = dataset or recipe.get("dataset")
    if not dataset:
        raise ValueError(
            "Pass --dataset (the dataset the model was trained on): the model has no model card and "
            "is not in a run folder with a recipe.json. Received: dataset=None"
        )
    split = split or recipe.get("test_split") or "test"
    data_dir = data_dir if data_dir is not None else recipe.get("data_dir")
    check_ensemble(paths, loaded)
    classes = {int(m.output_shape[-1]) for m, _, _ in loaded}
    ds, info = load_dataset(
        dataset, split, data_dir=data_dir, image_size=image_size or recipe.get("image_size"),
        seed=recipe.get("seed", 0), **(recipe.get("dataset_kwargs") or {}),
    )
    if info.task != "classification":
        raise ValueError(
            f"`evaluate` scores classifiers; {dataset!r} is a {info.task} dataset (a segmentation "
            f"run's metrics.json holds its mean IoU and Dice). Received: dataset={dataset!r}"
        )
    if classes != {info.num_classes}:
        raise ValueError(
            f"The model predicts {classes.pop()} classes but {dataset!r} has {info.num_classes}. "
            f"Received: dataset={dataset!r}"
        )
    if max_examples is not None:
        ds = ds.take(max_examples)
    probabilities, labels = [], None
    notes = []
    for index, ((model, member_recipe, _), card) in enumerate(zip(loaded, cards)):
        stored = info.image_shape[:2]
        note = tta_warning(tta, stored, model.input_shape[1:3], resize=resize, dataset=dataset)
        if note and note not in notes:
            notes.append(note)
            log.warning("%s", note)
        resize_mode = (card or {}).get("input", {}).get("resize_mode") or (member_recipe or {}).get("resize_mode") or "resize"
        member_info = info
        if card is not None:  # normalise as the model was trained, whatever the data
            spec = card["input"]
            member_info = dataclasses.replace(
                info, mean=tuple(spec["mean"]) if spec.get("mean") is not None else None,
                std=tuple(spec["std"]) if spec.get("std") is not None else None,
            )
        if tta == "none":  # exactly the trainer's evaluation: resized as the pipeline resizes
            load_size = tuple(model.input_shape[1:3])
        elif None in stored:
            load_size = image_size or recipe.get("image_size") or model.input_shape[1]
        else:
            load_size = None
        batches = make_pipeline(
            ds, info, training=False, batch_size=batch_size, image_size=load_size,
            channels=model.input_shape[-1], normalize=False, cache=False,
            resize_mode=resize_mode if tta == "none" else "resize",
        )
        began = time.monotonic()
        if progress is not None:
            progress(f"Model {index + 1} of {len(loaded)} ({paths[index]}): {dataset} {split}, tta {tta}")
        probs, y = predict_probabilities(model, batches, member_info, tta=tta, resize=resize, scales=scales,
                                         progress=progress)
        if progress is not None:
            progress(f"Model {index + 1} of {len(loaded)}: {len(y)} images in {time.monotonic() - began:.0f} s")
        if labels is not None and not np.array_equal(labels, y):
            raise ValueError("The dataset's order changed between models; cannot ensemble. Received: differing labels")
        labels = y
        probabilities.append(probs)
    from kerascv_course.evaluation.ensemble import average_probabilities

    report = classification_metrics(average_probabilities(probabilities), labels, class_names=info.class_names)
    size = loaded[0][0].input_shape[1:3]
    n_views = {"none": 1, "center": 1, "10crop": 10}.get(tta) or 10 * len(scales or scaled_sides(min(size)))
    report.update(
        models=paths, dataset=dataset, split=split, tta=tta, views_per_image=n_views,
        class_names=list(info.class_names), warnings=notes,
    )
    if len(paths) > 1:
        singles = [classification_metrics(p, labels) for p in probabilities]
        report["members_top1_error"] = [s["top1_error"] for s in singles]
    return report
