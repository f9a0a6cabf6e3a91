"""The run's optimizer: the recipe's rule, learning-rate schedule, clipping and weight decay.

Weight decay applies to kernels (variables with two or more axes), never to biases or batch-norm
parameters, and not to the variables ``weight_decay_exclude`` names (substrings of variable
paths: each must match at least one variable, or the run stops and lists the paths there are —
a pattern that matches nothing would silently decay what the paper left alone). In ``"l2"`` mode
the penalty ``wd/2·||w||²`` joins the loss (the papers', Caffe's and Torch's convention); in
``"decoupled"`` mode the optimizer shrinks the weights itself (AdamW, Loshchilov & Hutter 2017).
"""

from __future__ import annotations

from typing import Any

import keras

from kerascv_course.training.checks import check_optimizer_kwargs, weight_decay_mode
from kerascv_course.training.recipe import Recipe
from kerascv_course.training.schedules import make_schedule
from kerascv_course.training.strategy import scale_learning_rate


def learning_rate(recipe: Recipe) -> float:
    """The base learning rate of this run: ``recipe.learning_rate`` scaled to its batch size."""
    return scale_learning_rate(recipe.learning_rate, recipe.batch_size, recipe.base_batch_size, recipe.lr_scaling)


def steps_from_info(recipe: Recipe, info: Any) -> int | None:
    """Optimizer steps per epoch from the training split's size (``None`` if unknown)."""
    if info.num_examples is None:
        return None
    steps = info.num_examples // recipe.batch_size
    return min(steps, recipe.steps_per_epoch) if recipe.steps_per_epoch else steps


def learning_rate_schedule(recipe: Recipe, steps_per_epoch: int) -> Any:
    """The run's learning rate: a float (``constant``, ``plateau``) or a Keras schedule over
    optimizer steps (what :func:`make_optimizer` gives the optimizer)."""
    return make_schedule(
        recipe.schedule, learning_rate(recipe), steps_per_epoch=steps_per_epoch,
        epochs=recipe.epochs, options=recipe.schedule_kwargs,
    )


def batches_per_epoch(num_examples: int, recipe: Recipe) -> int:
    """Training steps per epoch over ``num_examples`` images: every batch, the last one partial
    (as the trainer's pipeline), capped at ``recipe.steps_per_epoch``."""
    batches = -(-num_examples // recipe.batch_size)
    return min(batches, recipe.steps_per_epoch) if recipe.steps_per_epoch else batches


def make_optimizer(recipe: Recipe, *, steps_per_epoch: int | None = None) -> keras.optimizers.Optimizer:
    """The recipe's optimizer with its learning-rate schedule, clipping and decoupled weight decay.

    Args:
        recipe: the run's settings.
        steps_per_epoch: optimizer steps per epoch, needed by every schedule but ``constant`` and
            ``plateau`` (their boundaries are in epochs).

    Raises:
        ValueError: for a scheduled recipe without ``steps_per_epoch``, or bad optimizer options.
    """
    if steps_per_epoch is None:
        if recipe.schedule not in ("constant", "plateau"):
            raise ValueError(
                f"schedule {recipe.schedule!r} needs `steps_per_epoch` to place its boundaries. "
                f"Received: steps_per_epoch=None"
            )
        steps_per_epoch = 1
    check_optimizer_kwargs(recipe)
    lr = learning_rate_schedule(recipe, steps_per_epoch)
    decoupled = recipe.weight_decay if weight_decay_mode(recipe) == "decoupled" and recipe.weight_decay else None
    common = dict(global_clipnorm=recipe.clipnorm, clipvalue=recipe.clipvalue, use_ema=recipe.use_ema,
                  **recipe.optimizer_kwargs)
    if recipe.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=recipe.momentum, nesterov=recipe.nesterov,
                                    weight_decay=decoupled, **common)
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(lr, weight_decay=decoupled, **common)
    if recipe.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=recipe.weight_decay, **common)
    return keras.optimizers.RMSprop(lr, momentum=recipe.momentum, weight_decay=decoupled, **common)


def variable_path(variable: Any) -> str:
    """A variable's path (``conv_dw_1/kernel``)."""
    return getattr(variable, "path", variable.name)


def decayed_variables(model: keras.Model, recipe: Recipe) -> list[Any]:
    """The trainable kernels that get weight decay (two or more axes, no excluded pattern).

    Raises:
        ValueError: for a ``weight_decay_exclude`` pattern that matches no variable, listing the
            variable paths the model has.
    """
    variables = list(model.trainable_variables)
    paths = [variable_path(v) for v in variables]
    for pattern in recipe.weight_decay_exclude:
        if not any(pattern in p for p in paths):
            kernels = [p for p, v in zip(paths, variables) if len(v.shape) >= 2]
            shown = ", ".join(kernels[:12]) + (f", … ({len(kernels)} kernels)" if len(kernels) > 12 else "")
            raise ValueError(
                f"`weight_decay_exclude` pattern {pattern!r} matches no variable of "
                f"{model.name!r}, so it would exclude nothing; patterns are substrings of variable "
                f"paths such as: {shown}. Received: weight_decay_exclude={recipe.weight_decay_exclude!r}"
            )
    return [
        v for v, p in zip(variables, paths)
        if len(v.shape) >= 2 and not any(s in p for s in recipe.weight_decay_exclude)
    ]


def apply_weight_decay(model: keras.Model, optimizer: keras.optimizers.Optimizer, recipe: Recipe) -> list[Any]:
    """Give the decayed kernels their L2 penalty, or tell the optimizer which variables not to
    decay (decoupled mode); returns the decayed variables."""
    if not recipe.weight_decay:
        return []
    decayed = decayed_variables(model, recipe)
    if weight_decay_mode(recipe) == "l2":
        penalty = keras.regularizers.L2(recipe.weight_decay / 2.0)
        for variable in decayed:
            variable.regularizer = penalty
    else:
        keep = {id(v) for v in decayed}
        optimizer.exclude_from_weight_decay(var_list=[v for v in model.trainable_variables if id(v) not in keep])
    return decayed
