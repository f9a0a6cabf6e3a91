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
from kerascv_course.utils.model_card import attach_card, make_card


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
    kwargs = builder_kwargs(recipe, info)
    if "input_shape" not in recipe.model_kwargs:
        check_input_size(recipe, kwargs["input_shape"])
    model = spec.builder(**kwargs, **({"weights": recipe.weights} if recipe.weights else {}))
    if recipe.aux_loss_weights:
        check_outputs(inference_model(AuxiliaryLossModel(model, recipe.aux_loss_weights)), info, recipe)
    else:
        check_outputs(model, info, recipe)
    if recipe.mixed_precision and model.outputs[0].dtype != "float32":
        # Mixed precision computes in float16/bfloat16; the loss and metrics want float32 outputs.
        outputs = [
            keras.layers.Activation("linear", dtype="float32",
                                    name="output_float32" if i == 0 else f"aux{i}_float32")(o)
            for i, o in enumerate(model.outputs)
        ]
        model = keras.Model(model.inputs, outputs if len(outputs) > 1 else outputs[0], name=model.name)
    if recipe.aux_loss_weights:
        model = AuxiliaryLossModel(model, recipe.aux_loss_weights)
    return attach_card(model, run_card(recipe, info, tuple(kwargs["input_shape"])))


def run_card(recipe: Recipe, info: Any, input_shape: tuple[int, int, int]) -> dict[str, Any]:
    """The model card of a run (:mod:`kerascv_course.utils.model_card`): how its model's input
    is prepared, its class names and its dataset, saved inside ``model.keras``/``best.keras``."""
    return make_card(
        task=info.task, class_names=list(info.class_names) if info.class_names else None,
        image_size=input_shape[:2], channels=input_shape[2], mean=info.mean, std=info.std,
        resize_mode=recipe.resize_mode,
        dataset=dict(name=recipe.dataset, kwargs=dict(recipe.dataset_kwargs), image_size=recipe.image_size,
                     seed=recipe.seed, test_split=recipe.test_split),
    )


class AuxiliaryLossModel(keras.Model):
    """Train a model with auxiliary classifiers; evaluate, predict and save its main output only.

    ``network`` has outputs ``[main, aux_1, …]`` (GoogLeNet's ``aux_logits=True``). In training
    the loss is ``L(main) + Σ w_i · L(aux_i)`` (Szegedy et al. 2014, §5: ``w_i = 0.3``), each term
    the compiled loss (so distribution scaling and the weight-decay penalty stay Keras's own);
    metrics follow the main output, and validation and test losses are the main output's. What
    is saved and exported is :func:`inference_model`: the auxiliary heads are dropped, as the
    paper discards them at inference.

    Raises:
        ValueError: when ``network`` does not have ``1 + len(weights)`` outputs.
    """

    def __init__(self, network: keras.Model, weights: list[float]) -> None:
        outputs = network.outputs
        if len(outputs) != 1 + len(weights):
            raise ValueError(
                f"Model {network.name!r} has {len(outputs) - 1} auxiliary output(s) but "
                f"aux_loss_weights gives {len(weights)} weight(s). Received: aux_loss_weights={weights!r}"
            )
        super().__init__(network.input, outputs, name=network.name)
        self.aux_weights = [float(w) for w in weights]

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None, sample_weight: Any = None,
                     training: bool = True) -> Any:
        total = super().compute_loss(x, y, y_pred[0], sample_weight, training=training)
        if training:  # validation and test losses are the main classifier's, as the paper evaluates
            for weight, aux in zip(self.aux_weights, y_pred[1:]):
                total = total + weight * self.loss(y, aux, sample_weight=sample_weight)
        return total

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        return super().compute_metrics(x, y, y_pred[0], sample_weight=sample_weight)


def inference_model(model: keras.Model) -> keras.Model:
    """The model to save, evaluate elsewhere and export: ``model`` itself, or for an
    :class:`AuxiliaryLossModel` its network's main output (the auxiliary heads dropped)."""
    if isinstance(model, AuxiliaryLossModel):
        return keras.Model(model.inputs, model.outputs[0], name=model.name)
    return model


def check_input_size(recipe: Recipe, shape: tuple[Any, Any, int]) -> None:
    """``ValueError`` saying how to fix it when the images are smaller than the smallest input
    ``recipe.model`` accepts: ``--image-size`` to resize them, or ``--resize-mode pad`` to frame
    them on zeros (LeCun et al. 1998 padded MNIST's 28x28 digits to LeNet-5's 32x32)."""
    from kerascv_course.models.catalog import model_info

    least = model_info(recipe.model).min_input_size
    h, w = shape[:2]
    if h is None or w is None or min(h, w) >= least:
        return
    if recipe.image_size is not None:
        fix = f"pass --image-size {least} or larger (image_size={least})"
    else:
        fix = (f"pass --image-size {least} to resize them, or --image-size {least} --resize-mode pad "
               f"to centre them on a zero background as LeCun et al. padded MNIST's 28x28 digits "
               f"to LeNet-5's 32x32")
    raise ValueError(
        f"{recipe.model} takes images of at least {least}x{least} pixels, but {recipe.dataset!r} "
        f"gives it {h}x{w}: {fix}. Received: input_shape={tuple(shape)}"
    )


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
    in_hw, out_hw = tuple(model.input_shape[1:3]), tuple(shape[1:3])
    if None not in in_hw + out_hw and in_hw != out_hw:
        raise ValueError(
            f"{where} outputs {out_hw[0]}x{out_hw[1]} masks for {in_hw[0]}x{in_hw[1]} images (unpadded "
            f"convolutions), but the trainer compares outputs with masks of the image's size; train "
            f"with padding='same' and predict large images with the paper's overlap-tile strategy "
            f"(kerascv_course.evaluation.tiling.predict_tiled). Received: output_shape={shape}"
        )
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
