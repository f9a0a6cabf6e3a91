"""Self-training with pseudo-labels: put a dataset's unlabelled images to work.

STL-10 (Coates, Ng & Lee, 2011) comes with 100,000 unlabelled images beside its 5,000 labelled
ones. The simplest way to use them is self-training with pseudo-labels (Lee, 2013, "Pseudo-Label:
the simple and efficient semi-supervised learning method"): a *teacher* — a model trained on the
labelled split — labels the unlabelled images, and a new run trains on the labelled images plus
those the teacher is confident about (its top softmax probability at least ``threshold``).

A recipe asks for it with its ``pseudo_label`` field, e.g.::

    Recipe(model="tf_cifar10_tutorial", dataset="stl10", ...,
           pseudo_label={"teacher": "runs/stl10-supervised", "threshold": 0.95})

and the command line with ``--pseudo-label '{"teacher": "runs/stl10-supervised"}'``. The teacher
labels the images once, before training, through the same evaluation pipeline (resize,
normalisation) the run uses; the validation and test splits are untouched.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf

log = logging.getLogger(__name__)

# The keys of ``Recipe.pseudo_label`` and their defaults (``teacher`` is required).
PSEUDO_LABEL_DEFAULTS: dict[str, Any] = {
    "teacher": None,
    "split": "unlabelled",
    "threshold": 0.95,
    "max_examples": None,
    "batch_size": 256,
}


def pseudo_label_options(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` (a recipe's ``pseudo_label``) checked and completed with the defaults; the
    resolved ``teacher`` is the path of its ``.keras`` file.

    Raises:
        ValueError: for an unknown key, a missing ``teacher``, a ``threshold`` outside [0, 1),
            or a ``max_examples``/``batch_size`` that is not a positive integer.
        FileNotFoundError: when the teacher is neither a run folder with ``model.keras`` nor a
            ``.keras`` file.
    """
    if not isinstance(options, dict):
        raise ValueError(f"`pseudo_label` must be a dict of options. Received: pseudo_label={options!r}")
    unknown = sorted(set(options) - set(PSEUDO_LABEL_DEFAULTS))
    if unknown:
        raise ValueError(
            f"Unknown pseudo_label option(s) {', '.join(unknown)}; the options are "
            f"{', '.join(PSEUDO_LABEL_DEFAULTS)}. Received: pseudo_label={options!r}"
        )
    resolved = {**PSEUDO_LABEL_DEFAULTS, **options}
    if not resolved["teacher"]:
        raise ValueError(
            "`pseudo_label` needs a `teacher`: the run folder or .keras file of a model trained on "
            f"the labelled data. Received: pseudo_label={options!r}"
        )
    resolved["teacher"] = teacher_path(resolved["teacher"])
    threshold = resolved["threshold"]
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold < 1.0:
        raise ValueError(f"`pseudo_label['threshold']` must be a number in [0, 1). Received: threshold={threshold!r}")
    for key in ("max_examples", "batch_size"):
        value = resolved[key]
        if key == "max_examples" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`pseudo_label['{key}']` must be a positive integer. Received: {key}={value!r}")
    if not isinstance(resolved["split"], str) or not resolved["split"]:
        raise ValueError(f"`pseudo_label['split']` must be a split name. Received: split={resolved['split']!r}")
    return resolved


def teacher_path(teacher: str) -> str:
    """The ``.keras`` file of ``teacher`` (a run folder or the file itself).

    Raises:
        FileNotFoundError: when there is no such model file.
    """
    from kerascv_course.training.run_folder import resolve_model_source

    try:
        return resolve_model_source(teacher, argument="teacher").model_path
    except (FileNotFoundError, ValueError) as err:
        raise FileNotFoundError(
            f"The pseudo-label teacher must be a run folder holding model.keras or a .keras file: {err}"
        ) from err


def teacher_labels(teacher: Any, batches: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The teacher's ``(labels, confidences)`` for every image of ``batches`` (in order).

    Args:
        teacher: a classification model with a softmax output.
        batches: batches of ``(image, anything)`` as the evaluation pipeline makes them.
    """
    labels, confidences = [], []
    for images, _ in batches:
        probs = np.asarray(teacher.predict_on_batch(images), np.float32)
        labels.append(probs.argmax(axis=-1))
        confidences.append(probs.max(axis=-1))
    if not labels:
        return np.zeros((0,), np.int64), np.zeros((0,), np.float32)
    return np.concatenate(labels).astype(np.int64), np.concatenate(confidences)


def pseudo_labelled(
    recipe: Any, info: Any, label_dtype: tf.DType, dataset_kwargs: dict[str, Any]
) -> tuple[tf.data.Dataset, dict[str, Any]]:
    """The unlabelled images the teacher is confident about, as ``(uint8 image, label)`` pairs.

    Args:
        recipe: the run's :class:`~kerascv_course.training.Recipe` (its ``pseudo_label`` set).
        info: the labelled training split's info (its normalisation, class count).
        label_dtype: the dtype of the training split's labels (the result matches it).
        dataset_kwargs: the run's :func:`~kerascv_course.data.load_dataset` options.

    Returns:
        The dataset and a summary (``teacher``, ``threshold``, ``unlabelled_examples``,
        ``pseudo_labelled_examples``, ``pseudo_label_class_counts``).

    Raises:
        ValueError: when the teacher's number of classes is not the dataset's.
    """
    import tensorflow as tf

    from kerascv_course.data import load_dataset, make_pipeline

    options = pseudo_label_options(recipe.pseudo_label)
    path = options["teacher"]
    from kerascv_course.training.run_folder import load_keras_model
    from kerascv_course.utils.model_card import model_card

    teacher = load_keras_model(path)
    if len(teacher.output_shape) != 2 or teacher.output_shape[-1] != info.num_classes:
        raise ValueError(
            f"The pseudo-label teacher {path!r} outputs {teacher.output_shape[1:]} but "
            f"{recipe.dataset!r} has {info.num_classes} classes. Received: teacher={recipe.pseudo_label['teacher']!r}"
        )
    card = model_card(teacher)
    teacher_info, resize_mode = info, "resize"
    if card is not None:  # the teacher's own class names, normalisation and resize mode
        if card.get("class_names") and info.class_names and list(card["class_names"]) != list(info.class_names):
            raise ValueError(
                f"The pseudo-label teacher {path!r} was trained on classes {card['class_names']} but "
                f"{recipe.dataset!r} has {list(info.class_names)}: its labels would mean other "
                f"classes. Received: teacher={recipe.pseudo_label['teacher']!r}"
            )
        spec = card["input"]
        teacher_info = dataclasses.replace(
            info, mean=tuple(spec["mean"]) if spec.get("mean") is not None else None,
            std=tuple(spec["std"]) if spec.get("std") is not None else None,
        )
        resize_mode = spec.get("resize_mode", "resize")
    images, _ = load_dataset(recipe.dataset, options["split"], **dataset_kwargs)
    if options["max_examples"] is not None:
        images = images.take(options["max_examples"])
    h, w, c = teacher.input_shape[1:]
    batches = make_pipeline(
        images, teacher_info, training=False, batch_size=options["batch_size"],
        image_size=(h, w) if h and w else None, channels=c, cache=False, resize_mode=resize_mode,
    )
    labels, confidences = teacher_labels(teacher, batches)
    keep = confidences >= options["threshold"]
    summary = {
        "teacher": path,
        "threshold": float(options["threshold"]),
        "unlabelled_examples": int(labels.shape[0]),
        "pseudo_labelled_examples": int(keep.sum()),
        "pseudo_label_class_counts": np.bincount(labels[keep], minlength=info.num_classes).tolist(),
    }
    log.info(
        "Pseudo-labels: the teacher %s is at least %.2f confident on %d of %d %r images.",
        path, summary["threshold"], summary["pseudo_labelled_examples"], summary["unlabelled_examples"],
        options["split"],
    )
    pairs = tf.data.Dataset.zip(
        images.map(lambda image, _: image),
        tf.data.Dataset.from_tensor_slices((tf.constant(labels, label_dtype), tf.constant(keep))),
    )
    chosen = pairs.filter(lambda image, label_keep: label_keep[1]).map(lambda image, label_keep: (image, label_keep[0]))
    n = summary["pseudo_labelled_examples"]
    return chosen.apply(tf.data.experimental.assert_cardinality(n)), summary
