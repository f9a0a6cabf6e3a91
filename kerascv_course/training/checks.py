"""Checking a :class:`~kerascv_course.training.recipe.Recipe` before any heavy work, without TensorFlow.

:func:`check_recipe` runs each field's own check (from the schema), then the rules that involve
several fields or a catalog: the model and dataset names and tasks (the TF-free catalogs of
:mod:`kerascv_course.models.catalog` and :mod:`kerascv_course.data.catalog`), builder arguments,
augmentation policy and its options, schedule and its options, strategy, optimizer options, loss
and pseudo-labelling. A wrong argument is answered in well under a second.

Checks that need the built model (weight-decay patterns, the output layer against the dataset's
classes) run in :mod:`kerascv_course.training.model` and :mod:`kerascv_course.training.optimizer`,
still before the first step.
"""

from __future__ import annotations

from typing import Any

from kerascv_course.training.recipe import Recipe, check_fields
from kerascv_course.utils.checks import fail

#: Options each optimizer takes in ``optimizer_kwargs`` (keras 3's constructors, less the ones set
#: from recipe fields); a test keeps this table equal to Keras's signatures.
OPTIMIZER_OPTIONS: dict[str, tuple[str, ...]] = {
    "sgd": ("use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
            "gradient_accumulation_steps"),
    "adam": ("beta_1", "beta_2", "epsilon", "amsgrad", "use_ema", "ema_momentum",
             "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps"),
    "adamw": ("beta_1", "beta_2", "epsilon", "amsgrad", "use_ema", "ema_momentum",
              "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps"),
    "rmsprop": ("rho", "epsilon", "centered", "use_ema", "ema_momentum", "ema_overwrite_frequency",
                "loss_scale_factor", "gradient_accumulation_steps"),
}
#: Optimizer arguments set from recipe fields, so refused in ``optimizer_kwargs``.
OPTIMIZER_FIELDS = {
    "learning_rate": "learning_rate", "momentum": "momentum", "nesterov": "nesterov",
    "weight_decay": "weight_decay", "global_clipnorm": "clipnorm", "clipnorm": "clipnorm",
    "clipvalue": "clipvalue", "use_ema": "use_ema", "name": "(none)",
}
#: Loss names of segmentation runs (``kerascv_course.training.losses.segmentation_loss``).
SEGMENTATION_LOSSES = ("auto", "ce", "bce", "dice", "ce_dice", "bce_dice", "focal", "weighted_ce")


def weight_decay_mode(recipe: Recipe) -> str:
    """``"l2"`` or ``"decoupled"``: the recipe's mode with ``"auto"`` resolved."""
    if recipe.weight_decay_mode == "auto":
        return "decoupled" if recipe.optimizer == "adamw" else "l2"
    return recipe.weight_decay_mode


def task_score(task: str) -> str:
    """The validation score of a task: ``val_accuracy``, or ``val_mean_iou`` for segmentation."""
    return "val_mean_iou" if task == "segmentation" else "val_accuracy"


def check_recipe(recipe: Recipe) -> None:
    """Validate a recipe's names, numbers and options before any heavy work (no TensorFlow).

    Raises:
        TypeError: when ``recipe`` is not a :class:`Recipe`.
        ValueError: naming the field, what is allowed, and the value received.
        FileNotFoundError: for a pseudo-label teacher that does not exist.
    """
    from kerascv_course.data.catalog import (
        check_dataset_options,
        check_policy,
        dataset_task,
        policy_entry,
    )
    from kerascv_course.models.catalog import model_info

    if not isinstance(recipe, Recipe):
        raise TypeError(f"`recipe` must be a Recipe. Received: recipe of type {type(recipe).__name__}")
    check_fields(recipe)
    info = model_info(recipe.model)
    task = dataset_task(recipe.dataset)
    if info.task != task:
        raise ValueError(
            f"Model {recipe.model!r} is a {info.task} model but dataset {recipe.dataset!r} is a "
            f"{task} dataset. Received: model={recipe.model!r}, dataset={recipe.dataset!r}"
        )
    check_model_kwargs(recipe, info)
    check_aux_losses(recipe, info)
    if (recipe.image_size is not None and recipe.image_size < info.min_input_size
            and "input_shape" not in recipe.model_kwargs):
        raise ValueError(
            f"{recipe.model} takes images of at least {info.min_input_size}x{info.min_input_size} "
            f"pixels: pass --image-size {info.min_input_size} or larger (with --resize-mode pad to "
            f"frame smaller images on zeros). Received: image_size={recipe.image_size}"
        )
    check_transfer(recipe, info)
    check_optimizer_kwargs(recipe)
    if recipe.optimizer == "adamw" and recipe.weight_decay_mode == "l2":
        raise ValueError(
            "AdamW decays weights itself (decoupled); for Adam with an L2 penalty use "
            "optimizer='adam' with weight_decay_mode='l2'. Received: optimizer='adamw', weight_decay_mode='l2'"
        )
    if recipe.weight_decay_exclude and not recipe.weight_decay:
        raise ValueError(
            f"`weight_decay_exclude` has no effect without weight decay; set `weight_decay` or drop "
            f"it. Received: weight_decay_exclude={recipe.weight_decay_exclude!r}, weight_decay=0"
        )
    if task == "segmentation":
        if recipe.label_smoothing:
            raise ValueError(
                f"`label_smoothing` applies to classification only. Received: label_smoothing={recipe.label_smoothing!r}"
            )
        if recipe.loss not in SEGMENTATION_LOSSES:
            raise fail("loss", recipe.loss, "one of " + ", ".join(SEGMENTATION_LOSSES) + " for segmentation")
        if recipe.loss == "weighted_ce" and recipe.jit_compile:
            raise ValueError(
                "The 'weighted_ce' loss computes its weight maps in NumPy, which XLA cannot compile; "
                "drop jit_compile or use another loss. Received: loss='weighted_ce', jit_compile=True"
            )
    elif recipe.loss not in ("auto", "crossentropy"):
        raise fail("loss", recipe.loss, "'auto' (cross-entropy) for classification; the named losses "
                   "(dice, focal, …) are segmentation losses")
    from kerascv_course.training.schedules import schedule_options
    from kerascv_course.training.strategy import parse_strategy

    schedule_options(recipe.schedule, recipe.schedule_kwargs)
    parse_strategy(recipe.strategy)
    check_policy(recipe.augment, task, recipe.augment_kwargs)
    check_dataset_options(recipe.dataset, recipe.dataset_kwargs)
    if recipe.dataset_kwargs.get("full_train") and recipe.validation_split == "validation":
        raise ValueError(
            "`full_train=True` trains on the validation images too, so there is no validation split: "
            "set validation_split=None (--validation-split none). "
            f"Received: dataset_kwargs={recipe.dataset_kwargs!r}, validation_split='validation'"
        )
    if recipe.resize_mode == "pad":
        if task == "segmentation":
            raise ValueError(
                "`resize_mode='pad'` applies to classification: masks would need the same padding "
                "as a class of their own. Received: resize_mode='pad'"
            )
        if recipe.augment != "none" and policy_entry(recipe.augment, task).sized:
            raise ValueError(
                f"The {recipe.augment!r} policy crops images to the model's size itself, so there "
                f"is nothing to pad; use resize_mode='resize' or another policy. "
                f"Received: resize_mode='pad', augment={recipe.augment!r}"
            )
    if recipe.pseudo_label:
        if task != "classification":
            raise ValueError(
                f"`pseudo_label` applies to classification only. Received: pseudo_label={recipe.pseudo_label!r}"
            )
        from kerascv_course.training.pseudo import pseudo_label_options

        pseudo_label_options(recipe.pseudo_label)


def check_model_kwargs(recipe: Recipe, info: Any) -> None:
    """Every key of ``model_kwargs`` is an argument of the model's builder; no headless training.

    Raises:
        ValueError: for an argument the builder does not take (the message lists those it
            takes) or ``include_top=False``, which leaves no classifier to train against labels.
    """
    accepted = set(info.builder_args)
    unknown = sorted(set(recipe.model_kwargs) - accepted)
    if unknown:
        raise ValueError(
            f"`model_kwargs` has argument(s) {', '.join(unknown)} that the {recipe.model} builder "
            f"does not take; it takes {', '.join(sorted(accepted))}. "
            f"Received: model_kwargs={recipe.model_kwargs!r}"
        )
    if recipe.model_kwargs.get("threshold") is True and recipe.model == "perceptron":
        from kerascv_course.models.catalog import PERCEPTRON_THRESHOLD_UNTRAINABLE

        raise ValueError(f"{PERCEPTRON_THRESHOLD_UNTRAINABLE} Received: model_kwargs={{'threshold': True}}")
    if recipe.model_kwargs.get("include_top") is False:
        raise ValueError(
            "`include_top=False` builds a feature extractor with no classifier, which cannot be "
            "trained against the dataset's labels; drop it (the trainer sizes the classifier to "
            "the dataset's classes). Received: model_kwargs={'include_top': False}"
        )


def check_aux_losses(recipe: Recipe, info: Any) -> None:
    """``aux_loss_weights`` go with a model built with its auxiliary classifiers, and back.

    Raises:
        ValueError: for weights without auxiliary outputs, or auxiliary outputs without weights.
    """
    aux = recipe.model_kwargs.get("aux_logits", False) is True
    if recipe.aux_loss_weights and not aux:
        how = ("add \"aux_logits\": true to model_kwargs" if "aux_logits" in info.builder_args
               else f"{recipe.model} has no auxiliary classifiers; drop aux_loss_weights")
        raise ValueError(
            f"`aux_loss_weights` weights the losses of auxiliary classifiers, but the model is built "
            f"without them: {how}. Received: aux_loss_weights={recipe.aux_loss_weights!r}"
        )
    if aux and not recipe.aux_loss_weights:
        raise ValueError(
            "`aux_logits=True` gives the model auxiliary outputs that training must weight: set "
            "aux_loss_weights (GoogLeNet's paper: 0.3,0.3) or drop aux_logits. "
            f"Received: model_kwargs={recipe.model_kwargs!r}, aux_loss_weights=[]"
        )


def check_optimizer_kwargs(recipe: Recipe) -> None:
    """Unknown or duplicated ``optimizer_kwargs`` fail here (no TensorFlow).

    Raises:
        ValueError: naming the option and what the optimizer takes.
    """
    accepted = OPTIMIZER_OPTIONS[recipe.optimizer]
    for key in recipe.optimizer_kwargs:
        if key in OPTIMIZER_FIELDS and OPTIMIZER_FIELDS[key] != "(none)":
            raise ValueError(
                f"Set `{key}` with the recipe field `{OPTIMIZER_FIELDS[key]}`, not in optimizer_kwargs. "
                f"Received: optimizer_kwargs={recipe.optimizer_kwargs!r}"
            )
        if key not in accepted:
            raise ValueError(
                f"Unknown option {key!r} for optimizer {recipe.optimizer!r}; it takes "
                f"{', '.join(accepted)}. Received: optimizer_kwargs={recipe.optimizer_kwargs!r}"
            )


def check_transfer(recipe: Recipe, info: Any) -> None:
    """The fine-tuning fields (``weights``, ``freeze_epochs``, ``unfreeze``,
    ``fine_tune_learning_rate``) fit together and the model (no TensorFlow).

    Raises:
        ValueError: ``weights`` set twice, ``"imagenet"`` for a model keras.applications has no
            weights for, freezing without ``weights``, freezing a segmentation model,
            ``freeze_epochs`` beyond ``epochs``, or a malformed ``unfreeze``.
        FileNotFoundError: ``weights`` names no file or finished run folder.
    """
    import os

    weights = recipe.weights
    if weights is not None and "weights" in recipe.model_kwargs:
        raise ValueError(
            f"Set the weights once: `weights` or model_kwargs['weights'], not both. "
            f"Received: weights={weights!r}, model_kwargs={recipe.model_kwargs!r}"
        )
    if weights == "imagenet" and not info.keras_app:
        raise ValueError(
            f"keras.applications publishes no ImageNet weights for {recipe.model}; `weights` must "
            f"be a weight file or run folder of this architecture. Received: weights='imagenet'"
        )
    if weights not in (None, "imagenet") and not (
            os.path.isfile(weights) or os.path.isfile(os.path.join(weights, "model.keras"))):
        raise FileNotFoundError(
            f"`weights` must be \"imagenet\", a weight file (.h5, .weights.h5, .keras) or a finished "
            f"run folder (with model.keras); there is none at that path. Received: weights={weights!r}"
        )
    staged = {k: getattr(recipe, k) for k in ("freeze_epochs", "fine_tune_learning_rate", "unfreeze")
              if getattr(recipe, k) not in (0, None, "all")}
    if not staged:
        return
    given = ", ".join(f"{k}={v!r}" for k, v in staged.items())
    if weights is None and "weights" not in recipe.model_kwargs:
        raise ValueError(
            f"Freezing and fine-tuning need a pretrained backbone: set `weights` (\"imagenet\", a "
            f"weight file or a run folder). Received: {given}, weights=None"
        )
    if recipe.fine_tune_learning_rate is not None and not recipe.freeze_epochs and recipe.unfreeze == "all":
        raise ValueError(
            f"`fine_tune_learning_rate` is the rate after the frozen epochs; without `freeze_epochs` "
            f"(or a partial `unfreeze`) every epoch trains at `learning_rate`: set one of them or "
            f"drop it. Received: {given}"
        )
    if info.task != "classification":
        raise ValueError(
            f"Staged fine-tuning applies to classification models; a U-Net freezes its encoder "
            f"with model_kwargs {{\"encoder_freeze\": true}}. Received: {given}"
        )
    if recipe.freeze_epochs > recipe.epochs:
        raise ValueError(
            f"`freeze_epochs` must be at most `epochs` ({recipe.epochs}). "
            f"Received: freeze_epochs={recipe.freeze_epochs}"
        )
    unfreeze = recipe.unfreeze
    if unfreeze != "all" and (unfreeze.isdigit() and int(unfreeze) < 1):
        raise ValueError(
            f"`unfreeze` must be 'all', a positive number of blocks or a block name. "
            f"Received: unfreeze={unfreeze!r}"
        )
