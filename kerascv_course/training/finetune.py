"""Fine-tuning in two phases, as in Keras's transfer-learning guide.

With ``weights`` (the backbone from a SOURCE, :mod:`kerascv_course.models.transfer`) a recipe may
set ``freeze_epochs``, ``unfreeze`` and ``fine_tune_learning_rate``:

1. **frozen** (epochs ``0 … freeze_epochs-1``): every backbone layer is non-trainable — its
   batch-norm layers therefore run in inference mode (Keras 3: a ``BatchNormalization`` with
   ``trainable=False`` uses its moving statistics and does not update them, the guide's
   ``base_model(x, training=False)``) — and the head (the layers the builder adds to its
   ``include_top=False`` model) trains at ``learning_rate``;
2. **fine-tune** (the remaining epochs): the ``unfreeze`` part of the backbone (``"all"``, the top
   ``K`` blocks, from block ``NAME`` on — blocks as :func:`~kerascv_course.models.transfer.block_names`
   names them — or from layer ``NAME`` on, in the model's layer order, for models whose layers
   carry Keras's automatic names, such as Inception v3: ``mixed7``) trains with the head at ``fine_tune_learning_rate`` (default ``learning_rate / 10``),
   its batch-norm layers still in inference mode (the guide's advice: updating their statistics
   on a small set would undo what the backbone learned).

Each phase has its own optimizer and schedule (over that phase's epochs). A resumed run rebuilds
the phase it stops in, so it ends with the same weights as an uninterrupted one. Without
``freeze_epochs`` and with ``unfreeze="all"`` nothing is frozen: the weights only initialise the
model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

from kerascv_course.training.recipe import Recipe


@dataclass(frozen=True)
class Phase:
    """One phase of a fine-tuning run: epochs ``start … end-1`` at ``learning_rate``."""

    name: str
    start: int
    end: int
    learning_rate: float


def is_staged(recipe: Recipe) -> bool:
    """Whether the recipe freezes anything (``freeze_epochs`` or a partial ``unfreeze``)."""
    return bool(recipe.freeze_epochs) or recipe.unfreeze != "all"


def fine_tune_learning_rate(recipe: Recipe) -> float:
    """The fine-tune phase's learning rate (``learning_rate / 10`` after frozen epochs by default)."""
    if recipe.fine_tune_learning_rate is not None:
        return float(recipe.fine_tune_learning_rate)
    return recipe.learning_rate / 10 if recipe.freeze_epochs else recipe.learning_rate


def phases(recipe: Recipe) -> list[Phase]:
    """The run's phases (one ``"train"`` phase when nothing is frozen)."""
    if not is_staged(recipe):
        return [Phase("train", 0, recipe.epochs, recipe.learning_rate)]
    out = []
    frozen = min(recipe.freeze_epochs, recipe.epochs)
    if frozen:
        out.append(Phase("frozen", 0, frozen, recipe.learning_rate))
    if recipe.epochs > frozen:
        out.append(Phase("fine-tune", frozen, recipe.epochs, fine_tune_learning_rate(recipe)))
    return out


def phase_recipe(recipe: Recipe, phase: Phase) -> Recipe:
    """The recipe a phase's optimizer is made from: its learning rate, its epochs."""
    return recipe.replace(learning_rate=phase.learning_rate, epochs=phase.end - phase.start)


def describe(recipe: Recipe) -> list[dict[str, Any]]:
    """The phases as JSON (what ``recipe.json`` and ``metrics.json`` record)."""
    return [
        {"phase": p.name, "epochs": [p.start, p.end], "learning_rate": p.learning_rate,
         "trains": "head" if p.name == "frozen" else
         ("everything" if p.name == "train" else f"head + backbone ({recipe.unfreeze})")}
        for p in phases(recipe)
    ]


def backbone_layer_names(recipe: Recipe, build_kwargs: dict[str, Any]) -> set[str]:
    """The names of the backbone's layers: those of the builder's ``include_top=False`` model."""
    from kerascv_course.models import get_spec

    spec = get_spec(recipe.model)
    kwargs = {k: v for k, v in build_kwargs.items() if k not in ("classes", "classifier_activation")}
    kwargs.update(include_top=False, pooling=None, weights=None)
    headless = spec.builder(**kwargs)
    return {layer.name for layer in headless.layers}


class Stages:
    """Which layers train in each phase of ``recipe`` on ``model``.

    Raises:
        ValueError: for an ``unfreeze`` that names no block of the model, or more blocks than it
            has (the message lists the blocks).
    """

    def __init__(self, recipe: Recipe, model: keras.Model, backbone_names: set[str]) -> None:
        from kerascv_course.models.transfer import block_key, block_names

        self.recipe = recipe
        self.model = model
        self.backbone = [layer for layer in model.layers if layer.name in backbone_names]
        self.head = [layer for layer in model.layers if layer.name not in backbone_names]
        blocks = block_names(self.backbone)
        self.blocks = blocks
        unfreeze = recipe.unfreeze
        if unfreeze == "all":
            chosen = set(blocks)
        elif unfreeze.isdigit():
            k = int(unfreeze)
            if not 1 <= k <= len(blocks):
                raise ValueError(
                    f"`unfreeze` must be 'all', a number of blocks from 1 to {len(blocks)} or a block "
                    f"name of {recipe.model} ({', '.join(blocks)}). Received: unfreeze={unfreeze!r}"
                )
            chosen = set(blocks[-k:])
        elif unfreeze in blocks:
            chosen = set(blocks[blocks.index(unfreeze):])
        elif unfreeze in backbone_names:  # a layer: it and every backbone layer after it
            names = [layer.name for layer in self.backbone]
            chosen = {block_key(n) for n in names[names.index(unfreeze):]}
            self.unfrozen = set(names[names.index(unfreeze):])
        else:
            raise ValueError(
                f"`unfreeze` must be 'all', a number of blocks, a block name of {recipe.model} "
                f"({', '.join(blocks)}) or one of its layer names. Received: unfreeze={unfreeze!r}"
            )
        if unfreeze not in backbone_names or unfreeze in blocks:
            self.unfrozen = {layer.name for layer in self.backbone if block_key(layer.name) in chosen}
        if unfreeze == "all":
            self.unfrozen = {layer.name for layer in self.backbone}

    def apply(self, phase: Phase) -> None:
        """Set each layer's ``trainable`` for ``phase`` (then compile a new optimizer)."""
        if phase.name == "train":
            return
        for layer in self.head:
            layer.trainable = True
        for layer in self.backbone:
            batch_norm = isinstance(layer, keras.layers.BatchNormalization)
            layer.trainable = (phase.name == "fine-tune" and layer.name in self.unfrozen
                               and not batch_norm)


def phase_at(recipe: Recipe, epoch: int) -> Phase:
    """The phase that runs ``epoch`` (the last one for an epoch past the end)."""
    runs = phases(recipe)
    for phase in runs:
        if phase.start <= epoch < phase.end:
            return phase
    return runs[-1]


def stages_for(recipe: Recipe, model: keras.Model, build_kwargs: dict[str, Any]) -> Stages | None:
    """The :class:`Stages` of a staged recipe (``None`` when nothing is frozen)."""
    if not is_staged(recipe):
        return None
    return Stages(recipe, model, backbone_layer_names(recipe, build_kwargs))


def compile_phase(model: keras.Model, recipe: Recipe, info: Any, steps: int,
                  stages: Stages | None, phase: Phase) -> None:
    """Set the layers' ``trainable`` for ``phase``, compile a new optimizer for it and build it
    (under the strategy's scope)."""
    from kerascv_course.training.model import compile_model

    if stages is not None:
        stages.apply(phase)
        recipe = phase_recipe(recipe, phase)
    compile_model(model, recipe, info, steps_per_epoch=steps)
    model.optimizer.build(model.trainable_variables)


def resume_values(recipe: Recipe, model: keras.Model, epoch: int,
                  values: tuple[list[str], list[Any]]) -> tuple[tuple[list[str], list[Any]], bool]:
    """``(values, with_optimizer)`` to restore at ``epoch``: a checkpoint taken at the end of a
    phase holds that phase's optimizer, which the next phase replaces, so only the model's
    variables are restored there."""
    if any(p.start == epoch and p.start > 0 for p in phases(recipe)):
        n = len(model.variables)
        return (values[0][:n], values[1][:n]), False
    return values, True
