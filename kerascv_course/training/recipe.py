"""The :class:`Recipe`: every setting of a training run, as data.

Recipe scripts in ``recipes/`` fill one in with a paper's settings; ``kerascv-course train`` builds
the same object from its flags. A run saves its resolved recipe as ``recipe.json``, and
``Recipe.from_dict(json.load(...))`` reads it back.

Hyper-parameter files (``--hparams FILE.json``, the ``best_hparams.json`` that
``kerascv-course tune`` writes) are *flat* JSON objects: each key is either a :class:`Recipe` field
(``"learning_rate"``, ``"optimizer"``, ``"weight_decay"``, ``"batch_size"``, …) or a keyword
argument of the model's builder (``"dropout"``, ``"alpha"``, …), which goes into
``model_kwargs``. Keys starting with ``_`` are metadata (``"_score"``, ``"_trial"``) and are
ignored. Any other key is an error. See :func:`apply_hparams`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Recipe:
    """Settings of one training run.

    Attributes:
        model: registered model name (``kerascv_course.list_models()``, ``"cifar_tutorial"``
            among them).
        dataset: dataset name (``kerascv_course.data.list_datasets()``).
        model_kwargs: extra builder arguments (``{"alpha": 0.5}``, ``{"dropout": 0.5}``, …).
        dataset_kwargs: extra :func:`~kerascv_course.data.load_dataset` options
            (``{"num_examples": 512}`` for generated data).
        image_size: resize images to this side (``None``: the dataset's own size).
        epochs: number of epochs.
        batch_size: the *global* batch size, split evenly over the replicas (it must be divisible
            by their number).
        optimizer: ``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``.
        optimizer_kwargs: extra optimizer arguments (``{"epsilon": 1.0, "rho": 0.9}``).
        learning_rate: the base learning rate — at ``base_batch_size`` when that is set.
        base_batch_size: the batch size ``learning_rate`` was chosen for. When set, the learning
            rate is scaled to ``batch_size`` by ``lr_scaling`` (``None``: no scaling).
        lr_scaling: ``"linear"`` (lr × batch/base, Goyal et al. 2017, arXiv:1706.02677),
            ``"sqrt"`` (lr × sqrt(batch/base), Krizhevsky 2014, arXiv:1404.5997) or ``"none"``.
        momentum: SGD/RMSprop momentum.
        nesterov: Nesterov momentum for SGD.
        weight_decay: decay coefficient (see ``weight_decay_mode``); applies to kernels (weights
            with two or more axes), not to biases or batch-norm parameters.
        weight_decay_mode: ``"l2"`` (the papers' L2 penalty ``wd/2·||w||²`` added to the loss:
            the gradient gains ``wd·w``, as in Caffe and Torch), ``"decoupled"`` (Loshchilov &
            Hutter, arXiv:1711.05101: ``w ← w − lr·wd·w`` outside the gradient, Keras'
            convention) or ``"auto"`` (decoupled for ``adamw``, L2 otherwise).
        weight_decay_exclude: substrings of variable paths that get no decay
            (e.g. ``["depthwise"]``: MobileNet's "little or no weight decay on depthwise filters").
        schedule: learning-rate schedule name (:data:`kerascv_course.training.schedules.SCHEDULES`).
        schedule_kwargs: the schedule's options (see :func:`~kerascv_course.training.schedules.make_schedule`).
        label_smoothing: label smoothing of the cross-entropy (Szegedy et al. 2015).
        clipnorm: clip the gradients' global norm to this value (``None``: no clipping).
        clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``.
        loss: ``"auto"`` (cross-entropy; segmentation: cross-entropy + Dice) or a named loss of
            :mod:`kerascv_course.training.losses` (``"dice"``, ``"ce_dice"``, ``"focal"``, …).
        augment: augmentation policy name (``kerascv_course.data.augment.list_policies()``).
        augment_kwargs: the policy's options (``{"cutout_size": 16}``).
        mixed_precision: ``None`` (float32), ``"mixed_float16"`` or ``"mixed_bfloat16"``.
        jit_compile: compile the training step with XLA.
        deterministic: enable TensorFlow's op determinism (bitwise-reproducible runs, slower).
        strategy: ``"auto"``, ``"mirrored"``, ``"mirrored:/gpu:0,/gpu:1"``, ``"multiworker"`` or
            ``"cpu:N"``.
        seed: seed of initialisation, shuffling and augmentation.
        data_dir: tensorflow-datasets data folder.
        output: the run folder (``None``: ``runs/<model>-<dataset>``, numbered if taken).
        overwrite: replace a finished run in ``output``.
        resume: continue an interrupted run found in ``output`` from its last saved epoch.
        steps_per_epoch: cap on training steps per epoch (``None``: the whole training split).
        eval_steps: cap on batches per validation/test evaluation (``None``: the whole split).
        checkpoint_monitor: the quantity the best-model checkpoint (``best.keras``) watches
            (``"auto"``: ``val_accuracy``, or ``val_mean_iou`` for segmentation).
        tensorboard: write TensorBoard logs into ``<output>/logs``.
        validation_split: the split used for validation during training (``None``: none).
        test_split: the split evaluated at the end.
        pseudo_label: self-training on a split without labels (:mod:`kerascv_course.training.pseudo`):
            ``{"teacher": RUN_DIR_OR_KERAS_FILE, "split": "unlabelled", "threshold": 0.95,
            "max_examples": None}``; the teacher's confident labels join the training split
            (``{}``: off).
        published: the paper's reported result, for the record (e.g. ``{"top1_error": 0.8}``).
        notes: free text about the recipe.
    """

    model: str
    dataset: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    dataset_kwargs: dict[str, Any] = field(default_factory=dict)
    image_size: int | None = None
    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "adam"
    optimizer_kwargs: dict[str, Any] = field(default_factory=dict)
    learning_rate: float = 1e-3
    base_batch_size: int | None = None
    lr_scaling: str = "linear"
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    weight_decay_mode: str = "auto"
    weight_decay_exclude: list[str] = field(default_factory=list)
    schedule: str = "cosine"
    schedule_kwargs: dict[str, Any] = field(default_factory=dict)
    label_smoothing: float = 0.0
    clipnorm: float | None = None
    clipvalue: float | None = None
    loss: str = "auto"
    augment: str = "none"
    augment_kwargs: dict[str, Any] = field(default_factory=dict)
    mixed_precision: str | None = None
    jit_compile: bool = False
    deterministic: bool = False
    strategy: str = "auto"
    seed: int = 0
    data_dir: str | None = None
    output: str | None = None
    overwrite: bool = False
    resume: bool = True
    steps_per_epoch: int | None = None
    eval_steps: int | None = None
    checkpoint_monitor: str = "auto"
    tensorboard: bool = True
    validation_split: str | None = "validation"
    test_split: str = "test"
    pseudo_label: dict[str, Any] = field(default_factory=dict)
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
        if not isinstance(data, dict):
            raise TypeError(f"A recipe must be a dict of fields. Received: {type(data).__name__}")
        known = field_names()
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"Unknown recipe field(s): {', '.join(unknown)}; known fields: "
                f"{', '.join(sorted(known))}. Received: {unknown}"
            )
        return cls(**data)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Recipe:
        """Read a ``recipe.json`` written by a run."""
        with open(path, encoding="utf-8") as fh:
            return cls.from_dict(json.load(fh))

    def replace(self, **changes: Any) -> Recipe:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)


def field_names() -> set[str]:
    """The names of every :class:`Recipe` field."""
    return {f.name for f in dataclasses.fields(Recipe)}


def load_hparams(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a flat hyper-parameter JSON file (``best_hparams.json``).

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: when the file is not a JSON object.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No hyper-parameter file at {path!r}. Received: hparams={path!r}")
    with open(path, encoding="utf-8") as fh:
        try:
            data = json.load(fh)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path!r} is not valid JSON ({err}). Received: hparams={path!r}") from err
    if not isinstance(data, dict):
        raise ValueError(
            f"A hyper-parameter file must hold one JSON object of name: value pairs. "
            f"Received: hparams={path!r} holding a {type(data).__name__}"
        )
    return data


def builder_parameters(model: str) -> set[str]:
    """Keyword arguments the model's builder accepts (from the catalog: no TensorFlow)."""
    from kerascv_course.models.catalog import model_info

    return set(model_info(model).builder_args)


def apply_hparams(recipe: Recipe, hparams: dict[str, Any]) -> Recipe:
    """``recipe`` updated by a flat hyper-parameter dict (the ``--hparams`` format).

    Each key is a :class:`Recipe` field (replaced; dict fields such as ``schedule_kwargs`` are
    replaced whole) or a builder argument of ``recipe.model`` (merged into ``model_kwargs``);
    keys starting with ``_`` are ignored.

    Example:
        >>> apply_hparams(Recipe("vgg16", "cifar10"), {"learning_rate": 0.01, "dropout": 0.3})
        Recipe(model='vgg16', ..., learning_rate=0.01, model_kwargs={'dropout': 0.3}, ...)

    Raises:
        ValueError: for a key that is neither a recipe field nor a builder argument.
    """
    fields = field_names()
    changes: dict[str, Any] = {}
    model_kwargs = dict(recipe.model_kwargs)
    accepted: set[str] | None = None
    for key, value in hparams.items():
        if key.startswith("_"):
            continue
        if key in fields and key != "model_kwargs":
            changes[key] = value
            continue
        if key == "model_kwargs":
            if not isinstance(value, dict):
                raise ValueError(f"`model_kwargs` must be an object. Received: model_kwargs={value!r}")
            model_kwargs.update(value)
            continue
        if accepted is None:
            accepted = builder_parameters(changes.get("model", recipe.model))
        if key not in accepted:
            raise ValueError(
                f"Unknown hyper-parameter {key!r}: it is neither a recipe field nor an argument "
                f"of the {changes.get('model', recipe.model)!r} builder (which takes "
                f"{', '.join(sorted(accepted))}). Received: {key}={value!r}"
            )
        model_kwargs[key] = value
    return recipe.replace(model_kwargs=model_kwargs, **changes)
