"""The run's model: built from the registry and sized for the data, compiled with the task's loss.

:func:`build_model` builds the recipe's model for the dataset (input size, classes) and checks
that its output fits the dataset's classes; :func:`compile_model` gives it the recipe's optimizer
(:mod:`kerascv_course.training.optimizer`), weight decay, loss and metrics; :func:`run_settings`
sets seeds, op determinism and the mixed-precision policy for the run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import keras

from kerascv_course.models import get_spec
from kerascv_course.training.checks import task_score
from kerascv_course.training.recipe import Recipe


def build_model(recipe: Recipe, info: Any) -> keras.Model:
    """The recipe's model, sized for the dataset (input shape and classes), its backbone from
    ``recipe.weights`` when set (:mod:`kerascv_course.models.transfer`).

    Under mixed precision a float32 ``output_float32`` layer is appended, so the softmax reaches
    the loss and metrics in float32 (the Keras mixed-precision guide's advice).

    Raises:
        ValueError: when the model's output does not fit the dataset's classes (for example a
            ``classes`` in ``model_kwargs`` that is not the dataset's).
    """
    spec = get_spec(recipe.model)
    model = spec.builder(**builder_kwargs(recipe, info), **({"weights": recipe.weights} if recipe.weights else {}))
    check_outputs(model, info, recipe)
    if recipe.mixed_precision and model.outputs[0].dtype != "float32":
        # Mixed precision computes in float16/bfloat16; the loss and metrics want float32 outputs.
        output = keras.layers.Activation("linear", dtype="float32", name="output_float32")(model.outputs[0])
        model = keras.Model(model.inputs, output, name=model.name)
    return model


def builder_kwargs(recipe: Recipe, info: Any) -> dict[str, Any]:
    """The builder's arguments for the dataset (input shape, classes), ``weights`` aside."""
    h, w, c = info.image_shape
    if recipe.image_size is not None:
        h = w = recipe.image_size
    kwargs = dict(recipe.model_kwargs)
    kwargs.setdefault("input_shape", (h, w, c))
    kwargs.setdefault("classes", info.num_classes)
    return kwargs


def check_outputs(model: keras.Model, info: Any, recipe: Recipe | None = None) -> None:
    """``ValueError`` unless ``model``'s output fits the dataset: ``(batch, classes)`` for
    classification, ``(batch, H, W, classes)`` (or one sigmoid channel for two classes) for
    segmentation."""
    shape = model.output_shape
    where = f"Model {model.name!r}" + (f" ({recipe.model})" if recipe else "")
    if isinstance(shape, list):
        raise ValueError(f"{where} has {len(shape)} outputs; training needs one. Received: outputs={shape}")
    classes = shape[-1]
    if info.task == "classification":
        if len(shape) != 2:
            raise ValueError(
                f"{where} outputs feature maps {tuple(shape[1:])}, not one score per class: it has "
                f"no classifier (include_top=False?). Received: output_shape={shape}"
            )
        if classes != info.num_classes:
            raise ValueError(
                f"{where} outputs {classes} classes but {info.name!r} has {info.num_classes}; "
                f"drop `classes` from model_kwargs (the trainer sizes the classifier to the "
                f"dataset). Received: classes={classes}"
            )
        return
    if len(shape) != 4:
        raise ValueError(f"{where} does not output a mask per pixel. Received: output_shape={shape}")
    if classes != info.num_classes and not (classes == 1 and info.num_classes == 2):
        raise ValueError(
            f"{where} outputs {classes} mask channel(s) but {info.name!r} has {info.num_classes} "
            f"classes. Received: classes={classes}"
        )


def monitor(recipe: Recipe, task: str) -> str:
    """The quantity ``best.keras`` tracks: ``checkpoint_monitor``, or the task's validation score."""
    return recipe.checkpoint_monitor if recipe.checkpoint_monitor != "auto" else task_score(task)


def compile_model(model: keras.Model, recipe: Recipe, info: Any, *, steps_per_epoch: int | None = None) -> None:
    """Compile with the recipe's optimizer, weight decay and the task's loss and metrics.

    Classification: cross-entropy (with ``label_smoothing``: categorical cross-entropy on one-hot
    labels — see :func:`~kerascv_course.training.run_data.label_encoder`), ``accuracy`` and
    ``top5_accuracy``. Segmentation: the losses and metrics of
    :mod:`kerascv_course.training.losses` (``mean_iou``, ``dice``, …).

    Args:
        model: the model (built under the strategy's scope).
        recipe: the run's settings.
        info: the training split's info (``num_examples`` sets the schedule's steps per epoch
            when ``steps_per_epoch`` is not given).
        steps_per_epoch: optimizer steps per epoch.

    Raises:
        ValueError: for a weight-decay pattern that matches no variable (naming those there are).
    """
    from kerascv_course.training.optimizer import (
        apply_weight_decay,
        make_optimizer,
        steps_from_info,
    )

    if steps_per_epoch is None:
        steps_per_epoch = steps_from_info(recipe, info)
    optimizer = make_optimizer(recipe, steps_per_epoch=steps_per_epoch)
    apply_weight_decay(model, optimizer, recipe)
    jit = bool(recipe.jit_compile)
    if info.task == "segmentation":
        from kerascv_course.training.losses import segmentation_loss, segmentation_metrics

        model.compile(
            optimizer=optimizer, loss=segmentation_loss(info.num_classes, recipe.loss),
            metrics=segmentation_metrics(info.num_classes), jit_compile=jit,
        )
        return
    if recipe.label_smoothing:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing)
        metrics = [
            keras.metrics.CategoricalAccuracy(name="accuracy"),
            keras.metrics.TopKCategoricalAccuracy(k=5, name="top5_accuracy"),
        ]
    else:
        loss = keras.losses.SparseCategoricalCrossentropy()
        metrics = [
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            keras.metrics.SparseTopKCategoricalAccuracy(k=5, name="top5_accuracy"),
        ]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit)


@contextlib.contextmanager
def run_settings(recipe: Recipe) -> Iterator[None]:
    """Seeds, op determinism and the mixed-precision policy for the run, restored afterwards."""
    from tensorflow.python.framework import config as tf_config

    policy = keras.config.dtype_policy()
    determinism = tf_config.is_op_determinism_enabled()
    if recipe.mixed_precision:
        keras.config.set_dtype_policy(recipe.mixed_precision)
    if recipe.deterministic:
        tf_config.enable_op_determinism()
    keras.utils.set_random_seed(recipe.seed)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(policy)
        if recipe.deterministic and not determinism:
            tf_config.disable_op_determinism()
