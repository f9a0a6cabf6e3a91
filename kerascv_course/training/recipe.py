"""The :class:`Recipe`: every setting of a training run, as data.

Recipe scripts in ``recipes/`` fill one in with a paper's settings; ``kerascv-course train`` builds
the same object from its flags. A run saves its resolved recipe as ``recipe.json``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Recipe:
    """Settings of one training run.

    Attributes:
        model: registered model name (``kerascv_course.list_models()``).
        dataset: dataset name (``kerascv_course.data.list_datasets()``).
        model_kwargs: extra builder arguments (``{"alpha": 0.5}``, …).
        image_size: resize images to this side (``None``: the dataset's own size).
        epochs: number of epochs.
        batch_size: the global batch size (split over replicas).
        optimizer: ``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``.
        learning_rate: the base learning rate (at ``batch_size``).
        momentum: SGD/RMSprop momentum.
        nesterov: Nesterov momentum for SGD.
        weight_decay: decay coefficient (see ``weight_decay_mode``).
        schedule: learning-rate schedule name (``"constant"``, …).
        schedule_kwargs: the schedule's options.
        label_smoothing: label smoothing of the cross-entropy.
        loss: ``"auto"`` (cross-entropy; segmentation: cross-entropy + Dice) or a named loss of
            :mod:`kerascv_course.training.losses` (``"dice"``, ``"ce_dice"``, ``"focal"``, …).
        augment: augmentation policy name (``"none"``, ``"lenet"``, ``"cifar"``, …).
        strategy: ``"auto"``, ``"mirrored"``, ``"multiworker"`` or ``"cpu:N"``.
        seed: seed of initialisation, shuffling and augmentation.
        data_dir: tensorflow-datasets data folder.
        output: the run folder (``None``: a new folder under ``runs/``).
        overwrite: replace a finished run in ``output``.
        validation_split: the split used for validation during training.
        test_split: the split evaluated at the end.
        published: the paper's reported result, for the record (e.g. ``{"top1_error": 0.8}``).
        notes: free text about the recipe.
    """

    model: str
    dataset: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    image_size: int | None = None
    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    schedule: str = "constant"
    schedule_kwargs: dict[str, Any] = field(default_factory=dict)
    label_smoothing: float = 0.0
    loss: str = "auto"
    augment: str = "none"
    strategy: str = "auto"
    seed: int = 0
    data_dir: str | None = None
    output: str | None = None
    overwrite: bool = False
    validation_split: str = "validation"
    test_split: str = "test"
    published: dict[str, Any] = field(default_factory=dict)
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of every field."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """The recipe as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        """Build a recipe from a dict; unknown keys raise ``ValueError`` naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"Unknown recipe field(s): {', '.join(unknown)}; known fields: "
                f"{', '.join(sorted(known))}. Received: {unknown}"
            )
        return cls(**data)

    def replace(self, **changes: Any) -> Recipe:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)
