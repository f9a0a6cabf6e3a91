"""The :class:`Recipe`: every setting of a training run, described once.

Each field carries its own metadata (:class:`Setting`: group, help text, check, whether a search may
tune it, whether a hyper-parameter file may set it, and its part in the run's identity). From that
one description come:

- the command-line flags of ``kerascv-course train``/``tune`` and of the recipe scripts
  (:mod:`kerascv_course.cli.recipe_args`);
- the field checks of :func:`kerascv_course.training.checks.check_recipe`;
- the tunable set of the search spaces (:func:`tunable_fields`);
- the resume identity of a checkpoint (:func:`identity_fields`, :func:`extendable_fields`);
- the hyper-parameter files of ``--hparams`` (:func:`load_hparams`, :func:`apply_hparams`).

A new field is one line here. This module imports no TensorFlow.

Hyper-parameter files (``--hparams FILE.json``) have one format, the one ``kerascv-course tune``
writes (``best_hparams.json``)::

    {"learning_rate": 0.0123, "batch_size": 64, "optimizer": "sgd", "augment": "cifar",
     "augment_kwargs": {"cutout_size": 8}, "model": "resnet32", "model_kwargs": {"width": 32}}

Its keys are the fields a hyper-parameter file may set (:func:`hparam_fields`); builder arguments
go under ``"model_kwargs"``; ``"model"`` may only name another variant of the same family. Fields
that say where or on what a run happens (``output``, ``overwrite``, ``dataset``, ``strategy``, …)
are refused: they come from the command line.
"""

from __future__ import annotations

import dataclasses
import json
import os
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kerascv_course.utils.checks import (
    check_bool,
    check_choice,
    check_number,
    check_positive_int,
    fail,
)

GROUPS = ("model", "data", "optimisation", "run", "record")
IDENTITY = ("fixed", "extend", "none")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
WEIGHT_DECAY_MODES = ("auto", "l2", "decoupled")
MIXED_PRECISION = ("mixed_float16", "mixed_bfloat16")
LR_SCALINGS = ("linear", "sqrt", "none")
RESIZE_MODES = ("resize", "pad")  # kerascv_course.data.constants.RESIZE_MODES (a test keeps them equal)


@dataclass(frozen=True)
class Setting:
    """What a :class:`Recipe` field is, for everything generated from the schema.

    Attributes:
        group: ``"model"``, ``"data"``, ``"optimisation"``, ``"run"`` or ``"record"`` (the flag
            group of the command line).
        help: one line for ``--help``.
        check: ``check(name, value)`` raising ``ValueError``; ``None`` for fields checked as a
            whole by :func:`~kerascv_course.training.checks.check_recipe` (names, options).
        tunable: a search space may search it.
        hparam: a hyper-parameter file may set it.
        identity: ``"fixed"`` (a checkpoint resumes only under the same value), ``"extend"``
            (a resumed run may change it; the change is recorded) or ``"none"`` (no effect on the
            result: where files go, logging).
        flags: extra spellings of the flag (``("--lr",)``).
        parse: turns the command line's text into the value (default: from the field's type).
        cli: has a command-line flag.
        metavar: the flag's placeholder in ``--help``.
    """

    group: str
    help: str
    check: Callable[[str, Any], Any] | None = None
    tunable: bool = False
    hparam: bool = False
    identity: str = "fixed"
    flags: tuple[str, ...] = ()
    parse: Callable[[str], Any] | None = None
    cli: bool = True
    metavar: str | None = None


def setting(default: Any = dataclasses.MISSING, *, factory: Callable[[], Any] | None = None,
            **meta: Any) -> Any:
    """A dataclass field of :class:`Recipe` with its :class:`Setting` (``factory`` for dicts/lists)."""
    spec = Setting(**meta)
    if spec.group not in GROUPS or spec.identity not in IDENTITY:
        raise ValueError(f"Bad setting metadata: group={spec.group!r}, identity={spec.identity!r}")
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata={"setting": spec})
    return dataclasses.field(default=default, metadata={"setting": spec})


# ---------------------------------------------------------------------------------------------
# Field checks (one value each; cross-field rules live in training/checks.py).


def _positive_int(name: str, value: Any) -> None:
    check_positive_int(name, value)


def _optional_positive_int(name: str, value: Any) -> None:
    check_positive_int(name, value, optional=True)


def _non_negative_int(name: str, value: Any) -> None:
    check_number(name, value, low=0, integer=True)


def _positive(name: str, value: Any) -> None:
    check_number(name, value, low=0, low_open=True)


def _optional_positive(name: str, value: Any) -> None:
    check_number(name, value, low=0, low_open=True, optional=True)


def _fraction(name: str, value: Any) -> None:
    check_number(name, value, low=0.0, high=1.0, high_open=True)


def _unit(name: str, value: Any) -> None:
    check_number(name, value, low=0.0, high=1.0)


def _int(name: str, value: Any) -> None:
    check_number(name, value, integer=True)


def _text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise fail(name, value, "a non-empty string")


def _optional_text(name: str, value: Any) -> None:
    if value is not None:
        _text(name, value)


def _any_text(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise fail(name, value, "a string")


def _mapping(name: str, value: Any) -> None:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise fail(name, value, "a dict of named options (a JSON object)")


def _text_list(name: str, value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise fail(name, value, "a list of non-empty strings")


def _weights(name: str, value: Any) -> None:
    if not isinstance(value, list) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in value
    ):
        raise fail(name, value, "a list of non-negative numbers (one loss weight per auxiliary output)")


def _float_list(text: str) -> list[float]:
    parts = [p for p in text.replace("[", "").replace("]", "").split(",") if p.strip()]
    try:
        return [float(p) for p in parts]
    except ValueError as err:
        raise ValueError(f"`aux_loss_weights` must be numbers separated by commas. Received: {text!r}") from err


def _choice(allowed: tuple[Any, ...]) -> Callable[[str, Any], Any]:
    return lambda name, value: check_choice(name, value, allowed)


def _optional_choice(allowed: tuple[Any, ...]) -> Callable[[str, Any], Any]:
    return lambda name, value: check_choice(name, value, (None, *allowed))


def _flag(name: str, value: Any) -> None:
    check_bool(name, value)


def _none_or_text(text: str) -> str | None:
    return None if text.strip().lower() in ("none", "") else text


def _precision(text: str) -> str | None:
    return None if text.strip().lower() in ("off", "none", "float32", "") else text


# ---------------------------------------------------------------------------------------------
# The schema.


@dataclass
class Recipe:
    """Settings of one training run (each field's help is in its :class:`Setting`).

    Example:
        >>> Recipe(model="lenet5", dataset="digits", epochs=30).learning_rate
        0.001
        >>> print(Recipe.describe("weight_decay_mode"))
        l2 (the papers' penalty wd/2·||w||² in the loss), decoupled (w ← w − lr·wd·w, AdamW) or auto
    """

    model: str = setting(group="model", hparam=True, cli=False,
                         help="registered model name (kerascv-course list)")
    dataset: str = setting(group="data", check=_text,
                           help="dataset: digits, shapes, cracks, a tfds name (cifar10, …), folder:PATH")
    model_kwargs: dict[str, Any] = setting(
        factory=dict, group="model", check=_mapping, hparam=True, metavar="JSON",
        help='builder arguments as a JSON object, e.g. \'{"alpha": 0.5}\'')
    dataset_kwargs: dict[str, Any] = setting(
        factory=dict, group="data", check=_mapping, metavar="JSON",
        help='dataset options as a JSON object, e.g. \'{"num_examples": 512}\'')
    image_size: int | None = setting(None, group="data", check=_optional_positive_int, tunable=True,
                                     hparam=True, help="bring images to this side (default: the dataset's)")
    resize_mode: str = setting("resize", group="data", check=_choice(RESIZE_MODES), hparam=True,
                               help="how images reach the model's size: resize, or pad (centred, "
                                    "zeros; MNIST 28→32 as LeNet-5's paper did)")
    epochs: int = setting(10, group="optimisation", check=_positive_int, tunable=True, hparam=True,
                          identity="extend", help="number of epochs (a resumed run may extend it)")
    batch_size: int = setting(64, group="optimisation", check=_positive_int, tunable=True, hparam=True,
                              help="global batch size, split over the replicas")
    optimizer: str = setting("adam", group="optimisation", check=_choice(OPTIMIZERS), tunable=True,
                             hparam=True, help="sgd, adam, adamw or rmsprop")
    optimizer_kwargs: dict[str, Any] = setting(
        factory=dict, group="optimisation", check=_mapping, hparam=True, metavar="JSON",
        help='more optimizer options as a JSON object, e.g. \'{"epsilon": 1.0, "rho": 0.9}\'')
    learning_rate: float = setting(1e-3, group="optimisation", check=_positive, tunable=True, hparam=True,
                                   flags=("--lr",), help="base (peak) learning rate")
    base_batch_size: int | None = setting(
        None, group="optimisation", check=_optional_positive_int, hparam=True,
        help="the batch size --learning-rate is for; scaled to --batch-size by --lr-scaling")
    lr_scaling: str = setting("linear", group="optimisation", check=_choice(LR_SCALINGS), hparam=True,
                              help="linear (Goyal et al. 2017), sqrt (Krizhevsky 2014) or none")
    momentum: float = setting(0.9, group="optimisation", check=_fraction, tunable=True, hparam=True,
                              help="SGD/RMSprop momentum")
    nesterov: bool = setting(False, group="optimisation", check=_flag, tunable=True, hparam=True,
                             help="Nesterov momentum (SGD)")
    weight_decay: float = setting(0.0, group="optimisation", check=_unit, tunable=True, hparam=True,
                                  help="weight decay coefficient (kernels only; see --weight-decay-mode)")
    weight_decay_mode: str = setting(
        "auto", group="optimisation", check=_choice(WEIGHT_DECAY_MODES), tunable=True, hparam=True,
        help="l2 (the papers' penalty wd/2·||w||² in the loss), decoupled (w ← w − lr·wd·w, AdamW) or auto")
    weight_decay_exclude: list[str] = setting(
        factory=list, group="optimisation", check=_text_list, hparam=True, metavar="PATTERN,…",
        help="substrings of variable paths that get no decay; each must match a variable")
    schedule: str = setting("cosine", group="optimisation", tunable=True, hparam=True,
                            help="learning-rate schedule: constant, step, exponential, cosine, poly, plateau")
    schedule_kwargs: dict[str, Any] = setting(
        factory=dict, group="optimisation", check=_mapping, hparam=True, metavar="JSON",
        help='schedule options as a JSON object, e.g. \'{"milestones": [30, 60]}\'')
    label_smoothing: float = setting(0.0, group="optimisation", check=_fraction, tunable=True, hparam=True,
                                     help="label smoothing of the cross-entropy (classification)")
    aux_loss_weights: list[float] = setting(
        factory=list, group="optimisation", check=_weights, parse=_float_list, hparam=True, metavar="W,…",
        help="loss weight of each auxiliary classifier (GoogLeNet: 0.3,0.3 with model_kwargs aux_logits)")
    use_ema: bool = setting(False, group="optimisation", check=_flag, hparam=True,
                            help="Polyak averaging: evaluate and save the moving average of the weights")
    clipnorm: float | None = setting(None, group="optimisation", check=_optional_positive, tunable=True,
                                     hparam=True, help="clip the gradients' global norm")
    clipvalue: float | None = setting(None, group="optimisation", check=_optional_positive, tunable=True,
                                      hparam=True, help="clip each gradient element")
    loss: str = setting("auto", group="optimisation", check=_text, tunable=True, hparam=True,
                        help="auto, or a segmentation loss (dice, ce_dice, bce_dice, focal, weighted_ce)")
    augment: str = setting("none", group="data", check=_text, tunable=True, hparam=True,
                           help="augmentation policy: none, lenet, alexnet, vgg, inception, resnet, cifar (segmentation: kerascv-course show-augment --help)")
    augment_kwargs: dict[str, Any] = setting(
        factory=dict, group="data", check=_mapping, hparam=True, metavar="JSON",
        help='augmentation policy options as a JSON object, e.g. \'{"cutout_size": 16}\'')
    mixed_precision: str | None = setting(
        None, group="run", check=_optional_choice(MIXED_PRECISION), parse=_precision,
        help="mixed_float16, mixed_bfloat16 or off")
    jit_compile: bool = setting(False, group="run", check=_flag, help="compile the training step with XLA")
    deterministic: bool = setting(False, group="run", check=_flag,
                                  help="TensorFlow op determinism (bitwise reproducible, slower)")
    strategy: str = setting("auto", group="run", check=_text, identity="extend",
                            help="auto, mirrored, mirrored:DEV,DEV, multiworker or cpu:N")
    seed: int = setting(0, group="run", check=_int, help="seed of initialisation, shuffling and augmentation")
    data_dir: str | None = setting(None, group="data", check=_optional_text, identity="none",
                                   help="tensorflow-datasets data folder")
    output: str | None = setting(None, group="run", check=_optional_text, identity="none",
                                 help="run folder (default runs/<model>-<dataset>)")
    overwrite: bool = setting(False, group="run", check=_flag, identity="none",
                              help="replace what --output holds (a finished run or another run's checkpoint)")
    resume: bool = setting(True, group="run", check=_flag, identity="none",
                           help="continue an interrupted run in --output (default on)")
    steps_per_epoch: int | None = setting(None, group="run", check=_optional_positive_int,
                                          help="cap on training steps per epoch")
    eval_steps: int | None = setting(None, group="run", check=_optional_positive_int,
                                     help="cap on batches per evaluation")
    checkpoint_monitor: str = setting("auto", group="run", check=_text,
                                      help="quantity best.keras tracks (auto: val_accuracy or val_mean_iou)")
    tensorboard: bool = setting(True, group="run", check=_flag, identity="none",
                                help="TensorBoard logs in <output>/logs (default on)")
    validation_split: str | None = setting("validation", group="data", check=_optional_text,
                                           parse=_none_or_text,
                                           help="split validated on after each epoch ('none': no validation)")
    test_split: str = setting("test", group="data", check=_text, help="split evaluated at the end")
    pseudo_label: dict[str, Any] = setting(
        factory=dict, group="data", check=_mapping, metavar="JSON",
        help='self-training on unlabelled images, e.g. \'{"teacher": "runs/stl10", "threshold": 0.95}\'')
    grad_norms: bool = setting(False, group="record", check=_flag, identity="none",
                               help="record per-layer gradient norms (grad_norms.csv/png in the run folder)")
    weights: str | None = setting(
        None, group="model", check=_optional_text, parse=_none_or_text, metavar="SOURCE",
        help='transfer learning: the backbone from "imagenet", a .h5/.weights.h5/.keras file or a run folder')
    freeze_epochs: int = setting(0, group="optimisation", check=_non_negative_int, hparam=True,
                                 help="first epochs with the backbone frozen (batch-norm in inference mode)")
    unfreeze: str = setting("all", group="optimisation", check=_text, hparam=True, metavar="all|K|BLOCK",
                            help="trained after the frozen epochs: all, the top K blocks, or from block (or layer) BLOCK on")
    fine_tune_learning_rate: float | None = setting(
        None, group="optimisation", check=_optional_positive, hparam=True,
        help="learning rate after the frozen epochs (default: --learning-rate / 10)")
    published: dict[str, Any] = setting(factory=dict, group="record", check=_mapping, identity="none",
                                        cli=False, help="the paper's reported result, for the record")
    paper: str = setting("", group="record", check=_any_text, identity="none", cli=False,
                         help="the paper the recipe follows and where its published figures are")
    notes: str = setting("", group="record", check=_any_text, identity="none", cli=False,
                         help="free text about the recipe")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of every field."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """The recipe as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recipe:
        """Build a recipe from a dict; unknown keys raise ``ValueError`` naming them."""
        if not isinstance(data, Mapping):
            raise TypeError(f"A recipe must be a dict of fields. Received: {type(data).__name__}")
        known = field_names()
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(
                f"Unknown recipe field(s): {', '.join(unknown)}; known fields: "
                f"{', '.join(sorted(known))}. Received: {unknown}"
            )
        missing = [k for k in ("model", "dataset") if k not in data]
        if missing:
            raise ValueError(f"A recipe needs {' and '.join(missing)}. Received: fields {sorted(data)}")
        return cls(**data)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Recipe:
        """Read a ``recipe.json`` written by a run (its records of the run — ``_changes``,
        ``_phases`` — are not fields and are left out)."""
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if isinstance(data, Mapping):
            data = {k: v for k, v in data.items() if not str(k).startswith("_")}
        return cls.from_dict(data)

    def replace(self, **changes: Any) -> Recipe:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    @staticmethod
    def describe(name: str) -> str:
        """The help text of field ``name``."""
        return settings()[name].help


# ---------------------------------------------------------------------------------------------
# Sets generated from the schema.


def settings() -> dict[str, Setting]:
    """``{field name: Setting}`` in field order."""
    return {f.name: f.metadata["setting"] for f in dataclasses.fields(Recipe)}


def field_names() -> list[str]:
    """The names of every :class:`Recipe` field, in order."""
    return [f.name for f in dataclasses.fields(Recipe)]


def field_types() -> dict[str, Any]:
    """``{field name: type}`` with ``X | None`` reduced to ``X`` (``int``, ``float``, ``str``,
    ``bool``, ``dict`` or ``list``)."""
    out: dict[str, Any] = {}
    for name, hint in typing.get_type_hints(Recipe).items():
        args = typing.get_args(hint)
        if type(None) in args:  # X | None
            hint = next(a for a in args if a is not type(None))
        out[name] = typing.get_origin(hint) or hint
    return out


def optional_fields() -> set[str]:
    """Fields whose type admits ``None``."""
    hints = typing.get_type_hints(Recipe)
    return {n for n, h in hints.items() if type(None) in typing.get_args(h)}


def tunable_fields() -> list[str]:
    """Fields a search space may search (``learning_rate``, ``batch_size``, ``augment``, …)."""
    return [n for n, s in settings().items() if s.tunable]


def hparam_fields() -> list[str]:
    """Fields a hyper-parameter file (``--hparams``, ``best_hparams.json``) may set."""
    return [n for n, s in settings().items() if s.hparam]


def identity_fields() -> list[str]:
    """Fields a checkpoint resumes only under the same value."""
    return [n for n, s in settings().items() if s.identity == "fixed"]


def extendable_fields() -> list[str]:
    """Fields a resumed run may change (recorded as a change at the epoch it resumed from)."""
    return [n for n, s in settings().items() if s.identity == "extend"]


def defaults() -> dict[str, Any]:
    """Each field's default value (``model``/``dataset``: ``None``)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(Recipe):
        if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            out[f.name] = f.default_factory()  # type: ignore[misc]
        else:
            out[f.name] = None if f.default is dataclasses.MISSING else f.default
    return out


def check_fields(recipe: Recipe) -> None:
    """Each field's own check (types, ranges, choices); the cross-field rules are in
    :func:`~kerascv_course.training.checks.check_recipe`.

    Raises:
        ValueError: naming the field, what is allowed and the value received.
    """
    for name, spec in settings().items():
        if spec.check is not None:
            spec.check(name, getattr(recipe, name))


def run_identity(recipe: Recipe) -> dict[str, Any]:
    """The identity fields of ``recipe``, JSON-normalised (what a checkpoint records)."""
    return json.loads(json.dumps({k: getattr(recipe, k) for k in identity_fields()}, sort_keys=True))


def changed_fields(old: Mapping[str, Any], new: Recipe, names: list[str]) -> dict[str, tuple[Any, Any]]:
    """``{field: (old value, new value)}`` for the ``names`` whose values differ (JSON-normalised)."""
    current = json.loads(json.dumps({k: getattr(new, k) for k in names}, sort_keys=True))
    return {k: (old.get(k), current[k]) for k in names if k in old and old.get(k) != current[k]}


# ---------------------------------------------------------------------------------------------
# Hyper-parameter files: one format, the one ``kerascv-course tune`` writes.


def load_hparams(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a hyper-parameter file (``best_hparams.json``) and check its keys.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: when the file is not a JSON object, or sets a key it may not
            (see :func:`check_hparams`).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No hyper-parameter file at {path!r}. Received: hparams={path!r}")
    with open(path, encoding="utf-8") as fh:
        try:
            data = json.load(fh)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{path!r} is not valid JSON ({err}). Received: hparams={path!r}") from err
    try:
        check_hparams(data)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{err} (in {path!r})") from err
    return data


def check_hparams(hparams: Any, recipe: Recipe | None = None) -> None:
    """Check that a hyper-parameter dict sets hyper-parameters only.

    Refuses what a hyper-parameter file may not set — where and on what a run happens (``output``,
    ``overwrite``, ``dataset``, ``strategy``, …) — and keys that are not recipe fields (builder
    arguments belong under ``"model_kwargs"``); nested ``*_kwargs`` must be objects; given
    ``recipe``, ``"model"`` must be a variant of the same family.

    Raises:
        TypeError: when ``hparams`` is not a dict.
        ValueError: naming the refused key.
    """
    if not isinstance(hparams, Mapping):
        raise TypeError(
            f"A hyper-parameter file holds one JSON object of hyper-parameters. Received: "
            f"{type(hparams).__name__}"
        )
    known = settings()
    allowed = set(hparam_fields())
    refused = sorted(k for k in hparams if k in known and k not in allowed)
    if refused:
        raise ValueError(
            f"A hyper-parameter file may not set {', '.join(refused)}: it sets hyper-parameters "
            f"only (allowed: {', '.join(sorted(allowed))}); where a run writes, what it reads and "
            f"what it replaces come from the command line. Received: {refused}"
        )
    unknown = sorted(k for k in hparams if k not in known)
    if unknown:
        raise ValueError(
            f"Unknown hyper-parameter(s) {', '.join(unknown)}: keys are recipe fields "
            f"({', '.join(sorted(allowed))}); builder arguments go under \"model_kwargs\" "
            f"(e.g. {{\"model_kwargs\": {{\"{unknown[0]}\": ...}}}}). Received: {unknown}"
        )
    for key in ("model_kwargs", "augment_kwargs", "schedule_kwargs", "optimizer_kwargs"):
        if key in hparams and not isinstance(hparams[key], Mapping):
            raise TypeError(f"`hparams[{key!r}]` must be a dict. Received: {key}={hparams[key]!r}")
    if recipe is not None and "model" in hparams and hparams["model"] != recipe.model:
        from kerascv_course.models.catalog import model_info

        new, old = model_info(hparams["model"]), model_info(recipe.model)
        if new.family != old.family:
            raise ValueError(
                f"`hparams['model']` must be a variant of {recipe.model}'s family ({old.family}); "
                f"these hyper-parameters were tuned for another model. Received: "
                f"model={hparams['model']!r}"
            )


def apply_hparams(recipe: Recipe, hparams: Mapping[str, Any]) -> Recipe:
    """``recipe`` updated by a hyper-parameter dict (the ``best_hparams.json`` format).

    Fields are replaced, except ``model_kwargs`` (merged into the recipe's) and ``augment_kwargs``
    (merged while the policy stays the same, replaced when ``augment`` changes). Whole-number
    floats of integer fields (``batch_size: 64.0``) become ints.

    Example:
        >>> apply_hparams(Recipe("vgg16", "cifar10"), {"learning_rate": 0.01,
        ...                                            "model_kwargs": {"dropout": 0.3}})
        Recipe(model='vgg16', ..., learning_rate=0.01, ...)

    Raises:
        ValueError, TypeError: see :func:`check_hparams`.
    """
    check_hparams(hparams, recipe)
    changes = dict(hparams)
    changes["model_kwargs"] = {**recipe.model_kwargs, **changes.get("model_kwargs", {})}
    if changes.get("augment", recipe.augment) == recipe.augment:
        changes["augment_kwargs"] = {**recipe.augment_kwargs, **changes.get("augment_kwargs", {})}
    else:
        changes.setdefault("augment_kwargs", {})
    types = field_types()
    for key, value in list(changes.items()):
        if types.get(key) is int and isinstance(value, float) and value.is_integer():
            changes[key] = int(value)
    return recipe.replace(**changes)
