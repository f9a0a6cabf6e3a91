"""Search spaces as data: one table per architecture family, and the parser that reads them.

A search space is a plain dict ``{name: range}``. A *range* is a small dict:

- ``{"min": 1e-4, "max": 1e-1, "sampling": "log"}`` — a float (or int) interval; optional
  ``"step"`` and ``"sampling"`` (``"linear"``, ``"log"``, ``"reverse_log"``);
- ``{"values": [0.25, 0.5, 0.75]}`` — a choice (a list value such as ``[300, 100]`` is one choice);
- ``{"value": 0.9}`` — a fixed value;
- ``None`` (or ``{}``) — the family table's own range for that name.

Optional keys: ``"default"`` (the value of the first build), ``"when": {"optimizer": ["sgd"]}``
(only active while another hyperparameter takes one of those values; ``momentum`` and
``nesterov`` get theirs by default, :data:`IMPLIED_WHEN`) and, in a family table,
``"models": {20: "resnet20", 32: "resnet32"}`` for a hyperparameter that picks the registered
variant (depth of a CIFAR ResNet, VGG-11/13/16/19, DenseNet-121/169/201).

A name is one of four things, found in this order:

1. a *variant* hyperparameter of the family table (``"depth"``): it sets the recipe's ``model``;
2. ``"augment.<option>"``: an option of the augmentation policy, its *strength*
   (``augment.cutout_size``, ``augment.translate``, ``augment.scale``…), passed through
   ``recipe.augment_kwargs``; while ``augment`` itself is searched, it is only active for the
   policies that have that option;
3. a :class:`~kerascv_course.training.Recipe` field (``learning_rate``, ``batch_size``,
   ``optimizer``, ``momentum``, ``weight_decay``, ``label_smoothing``, ``augment``, ``image_size``…);
4. an argument of the model's builder (``alpha``, ``dropout``, ``growth_rate``, ``hidden_units``…),
   passed through ``recipe.model_kwargs``.

Anything else is an error that lists the names the family knows.

The family tables (:data:`SPACES`) are the defaults of ``kerascv-course tune``: their ranges follow
what each paper tuned or reported (SGD with momentum for AlexNet/VGG/ResNet, RMSprop for the
MobileNets and Xception, width and resolution multipliers for MobileNet, growth rate and
compression for DenseNet, the SE reduction ratio for SENet, drop-path rates for FractalNet…).
A table entry naming a builder argument that a variant of the family does not take is left out
for that variant.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import math
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

SAMPLINGS = ("linear", "log", "reverse_log")
RANGE_KEYS = ("min", "max", "step", "sampling", "values", "value", "default", "when", "models")

# Recipe fields that are not hyperparameters: where and on what a run happens, bookkeeping and
# execution switches. Never searched; refused in a best-hyperparameters file where marked so.
RUN_FIELDS = frozenset({
    "model", "dataset", "dataset_kwargs", "data_dir", "output", "overwrite", "resume", "strategy",
    "seed", "validation_split", "test_split", "published", "notes", "tensorboard",
})
NOT_TUNABLE = RUN_FIELDS | frozenset({
    "model_kwargs", "schedule_kwargs", "optimizer_kwargs", "augment_kwargs", "weight_decay_exclude",
    "base_batch_size", "lr_scaling", "mixed_precision", "jit_compile", "deterministic",
    "steps_per_epoch", "eval_steps", "checkpoint_monitor",
})
# Builder arguments that size or wire the model to the data: set by the trainer, never tuned.
NOT_TUNABLE_ARGS = frozenset({
    "input_shape", "classes", "include_top", "weights", "pooling", "classifier_activation", "name",
})
#: Prefix of a name that searches an option of the augmentation policy (``"augment.cutout_size"``).
AUGMENT_PREFIX = "augment."
#: Conditions every space gets unless its range says otherwise: momentum only acts on SGD and
#: RMSprop, Nesterov only on SGD (the trainer's ``make_optimizer``).
IMPLIED_WHEN: dict[str, dict[str, list[str]]] = {
    "momentum": {"optimizer": ["sgd", "rmsprop"]},
    "nesterov": {"optimizer": ["sgd"]},
}

# ---------------------------------------------------------------------------------------------
# The tables. Training blocks first (shared by the families of one era), then one table per family.
# ---------------------------------------------------------------------------------------------

# LeCun-era nets on small images: plain SGD or Adam, small batches, LeNet's affine distortions.
_CLASSIC_TRAINING: dict[str, Any] = {
    "learning_rate": {"min": 1e-4, "max": 3e-1, "sampling": "log"},
    "optimizer": {"values": ["sgd", "adam"]},
    "momentum": {"min": 0.0, "max": 0.95},
    "batch_size": {"values": [16, 32, 64, 128]},
    "weight_decay": {"min": 1e-6, "max": 1e-3, "sampling": "log"},
    "augment": {"values": ["none", "lenet"]},
    "augment.translate": {"min": 0.0, "max": 0.15, "step": 0.05},
    "augment.rotation": {"min": 0.0, "max": 15.0, "step": 5.0},
}

# 2012-2014 ImageNet nets (AlexNet, ZFNet, VGG, GoogLeNet, SqueezeNet): SGD + momentum 0.9,
# weight decay 5e-4, learning rate around 1e-2, scale-jittered crops, flips and colour PCA.
_IMAGENET_2012_TRAINING: dict[str, Any] = {
    "learning_rate": {"min": 1e-3, "max": 1e-1, "sampling": "log"},
    "optimizer": {"values": ["sgd", "adam"]},
    "momentum": {"min": 0.8, "max": 0.95},
    "weight_decay": {"min": 1e-5, "max": 1e-3, "sampling": "log"},
    "batch_size": {"values": [32, 64, 128, 256]},
    "label_smoothing": {"min": 0.0, "max": 0.2, "step": 0.05},
    "augment": {"values": ["none", "cifar", "alexnet", "vgg"]},
    "augment.pca_std": {"min": 0.0, "max": 0.2, "step": 0.05},
}

# Residual-era nets (ResNet, DenseNet, SENet): SGD + (Nesterov) momentum, weight decay 1e-4,
# larger learning rates thanks to batch norm, cosine or step schedules, label smoothing,
# pad-and-crop (CIFAR) or scale augmentation (ImageNet), cutout as the strength knob.
_RESIDUAL_TRAINING: dict[str, Any] = {
    "learning_rate": {"min": 1e-2, "max": 5e-1, "sampling": "log"},
    "optimizer": {"values": ["sgd", "adamw"]},
    "momentum": {"min": 0.85, "max": 0.95},
    "nesterov": {"values": [False, True]},
    "weight_decay": {"min": 1e-5, "max": 1e-3, "sampling": "log"},
    "batch_size": {"values": [64, 128, 256]},
    "label_smoothing": {"min": 0.0, "max": 0.2, "step": 0.05},
    "schedule": {"values": ["constant", "cosine", "step"]},
    "augment": {"values": ["none", "cifar", "resnet"]},
    "augment.cutout_size": {"values": [0, 8, 16]},
}

# Mobile nets (MobileNet, Xception): RMSprop as in the papers, little weight decay on the thin
# depthwise filters, "less regularisation and data augmentation" for small models: the smallest
# crop area of Inception-style crops is the strength knob.
_MOBILE_TRAINING: dict[str, Any] = {
    "learning_rate": {"min": 1e-4, "max": 1e-1, "sampling": "log"},
    "optimizer": {"values": ["rmsprop", "sgd", "adam"]},
    "momentum": {"min": 0.8, "max": 0.95},
    "weight_decay": {"min": 1e-6, "max": 1e-4, "sampling": "log"},
    "batch_size": {"values": [32, 64, 128, 256]},
    "label_smoothing": {"min": 0.0, "max": 0.2, "step": 0.05},
    "schedule": {"values": ["constant", "cosine"]},
    "augment": {"values": ["none", "cifar", "inception"]},
    "augment.scale": {"values": [[0.08, 1.0], [0.25, 1.0], [0.5, 1.0]]},
}

SPACES: dict[str, dict[str, Any]] = {
    "perceptron": {
        "models": ("perceptron", "mlp"),
        "space": {
            **_CLASSIC_TRAINING,
            "hidden_units": {"values": [[100], [300, 100], [500, 150], [1000, 500, 100]]},
            "activation": {"values": ["relu", "tanh", "sigmoid"]},
            "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
        },
    },
    "lenet": {
        "models": ("lenet5",),
        "space": {
            **_CLASSIC_TRAINING,
            "variant": {"values": ["classic", "modern"]},
            "subsampling": {"values": ["average", "trainable"]},
            "c3_connections": {"values": ["full", "paper"]},
        },
    },
    "alexnet": {
        "models": ("alexnet", "zfnet"),
        "space": {
            **_IMAGENET_2012_TRAINING,
            "dropout": {"min": 0.0, "max": 0.7, "step": 0.1},
            "lrn": {"values": [True, False]},
        },
    },
    "vgg": {
        "models": ("vgg11", "vgg13", "vgg16", "vgg19"),
        "space": {
            **_IMAGENET_2012_TRAINING,
            "depth": {"values": [11, 13, 16, 19],
                      "models": {11: "vgg11", 13: "vgg13", 16: "vgg16", 19: "vgg19"}},
            "batch_norm": {"values": [False, True]},
            "dropout": {"min": 0.0, "max": 0.7, "step": 0.1},
        },
    },
    "inception": {
        "models": ("googlenet", "bn_inception", "inception_v3", "inception_v4",
                   "inception_resnet_v1", "inception_resnet_v2"),
        "space": {
            **_IMAGENET_2012_TRAINING,
            "augment": {"values": ["none", "cifar", "inception"]},
            "augment.scale": {"values": [[0.08, 1.0], [0.25, 1.0], [0.5, 1.0]]},
            "dropout": {"min": 0.2, "max": 0.6, "step": 0.1},
            "lrn": {"values": [True, False]},
        },
    },
    "resnet": {
        "models": ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
                   "resnet50_v2", "resnet101_v2", "resnet152_v2"),
        "space": {
            **_RESIDUAL_TRAINING,
            # Blocks per stage: (2,2,2,2), (3,4,6,3), then bottleneck stacks.
            "depth": {"values": [18, 34, 50, 101],
                      "models": {18: "resnet18", 34: "resnet34", 50: "resnet50",
                                 101: "resnet101"}},
        },
    },
    "resnet_cifar": {
        "models": ("resnet20", "resnet32", "resnet44", "resnet56", "resnet110"),
        "space": {
            **_RESIDUAL_TRAINING,
            "augment": {"values": ["none", "cifar"]},
            "augment.padding": {"values": [2, 4, 6]},
            # 6n + 2 layers: n = 3, 5, 7, 9 residual blocks per stage.
            "depth": {"values": [20, 32, 44, 56],
                      "models": {20: "resnet20", 32: "resnet32", 44: "resnet44", 56: "resnet56",
                                 110: "resnet110"}},
            # Option A (zero-padded identity, the paper's CIFAR choice) or B (projection).
            "shortcut": {"values": ["A", "B"]},
        },
    },
    "densenet": {
        "models": ("densenet121", "densenet169", "densenet201"),
        "space": {
            **_RESIDUAL_TRAINING,
            "depth": {"values": [121, 169, 201],
                      "models": {121: "densenet121", 169: "densenet169", 201: "densenet201"}},
            "growth_rate": {"values": [12, 24, 32, 48]},
            "compression": {"min": 0.5, "max": 1.0, "step": 0.25},
        },
    },
    "mobilenet": {
        "models": ("mobilenet",),
        "space": {
            **_MOBILE_TRAINING,
            # The paper's width multiplier alpha and resolution multiplier rho (input side).
            "alpha": {"values": [0.25, 0.5, 0.75, 1.0]},
            "image_size": {"values": [128, 160, 192, 224]},
            "depth_multiplier": {"values": [1, 2]},
            "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
        },
    },
    "mobilenet_v2": {
        "models": ("mobilenet_v2",),
        "space": {
            **_MOBILE_TRAINING,
            "alpha": {"values": [0.35, 0.5, 0.75, 1.0, 1.4]},
            "image_size": {"values": [96, 128, 160, 192, 224]},
        },
    },
    "xception": {
        "models": ("xception",),
        "space": {
            **_MOBILE_TRAINING,
            "image_size": {"values": [71, 96, 128, 160, 224, 299]},
            "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
        },
    },
    "squeezenet": {
        "models": ("squeezenet1_0", "squeezenet1_1"),
        "space": {
            **_IMAGENET_2012_TRAINING,
            "version": {"values": ["1_0", "1_1"],
                        "models": {"1_0": "squeezenet1_0", "1_1": "squeezenet1_1"}},
            "dropout": {"min": 0.0, "max": 0.7, "step": 0.1},
        },
    },
    "resnext": {
        "models": ("resnext50_32x4d", "resnext101_32x4d", "resnext101_64x4d"),
        "space": dict(_RESIDUAL_TRAINING),
    },
    "senet": {
        "models": ("se_resnet18", "se_resnet34", "se_resnet50", "se_resnet101", "se_resnet152",
                   "se_resnext50_32x4d", "se_resnext101_32x4d", "senet154"),
        "space": {
            **_RESIDUAL_TRAINING,
            # The squeeze-and-excitation reduction ratio r (16 in the paper).
            "reduction": {"values": [4, 8, 16, 32]},
        },
    },
    "fractalnet": {
        "models": ("fractalnet",),
        "space": {
            **_RESIDUAL_TRAINING,
            "augment": {"values": ["none", "cifar"]},
            # Drop-path: each join's local rate (0.15 in the paper), the share of global batches.
            "local_drop_path": {"min": 0.0, "max": 0.3, "step": 0.05},
            "global_drop_path": {"min": 0.0, "max": 1.0, "step": 0.25},
        },
    },
    "unet": {
        "models": ("unet",),
        "space": {
            "learning_rate": {"min": 1e-5, "max": 1e-2, "sampling": "log"},
            "optimizer": {"values": ["adam", "sgd"]},
            "momentum": {"min": 0.9, "max": 0.99},
            "weight_decay": {"min": 1e-6, "max": 1e-4, "sampling": "log"},
            "batch_size": {"values": [4, 8, 16, 32]},
            "loss": {"values": ["ce_dice", "dice", "focal"]},
            "augment": {"values": ["none", "segmentation", "segmentation_rot", "unet"]},
            "augment.rotation": {"min": 0.0, "max": 20.0, "step": 5.0},
            # Base filters (64 in the paper), doubling per level, and the number of levels.
            "base_filters": {"values": [16, 32, 64]},
            "depth": {"values": [3, 4, 5]},
            "batch_norm": {"values": [False, True]},
            "decoder_block_type": {"values": ["transpose", "upsampling"]},
            "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
        },
    },
}

# A family whose table is not listed above still gets the training hyperparameters.
DEFAULT_SPACE: dict[str, Any] = dict(_IMAGENET_2012_TRAINING)


# ---------------------------------------------------------------------------------------------
# The parsed form.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HParam:
    """One hyperparameter of a resolved search space.

    Attributes:
        name: its name (in keras-tuner, ``trials.csv`` and the space file).
        target: ``"recipe"`` (a :class:`Recipe` field), ``"model"`` (a builder argument),
            ``"augment"`` (an option of the augmentation policy) or ``"variant"`` (picks the
            registered model).
        kind: ``"float"``, ``"int"``, ``"choice"`` or ``"fixed"``.
        min, max, step, sampling: the interval of ``"float"`` and ``"int"``.
        values: the choices (a list choice is kept as a tuple).
        default: the value of the first build (the recipe's own value where it is in range).
        when: ``(parent name, allowed parent values)`` or ``None``.
        models: for a variant, ``{value: registered model name}``.
    """

    name: str
    target: str
    kind: str
    min: float | None = None
    max: float | None = None
    step: float | None = None
    sampling: str = "linear"
    values: tuple[Any, ...] | None = None
    default: Any = None
    when: tuple[str, tuple[Any, ...]] | None = None
    models: tuple[tuple[Any, str], ...] | None = None

    @property
    def log_scale(self) -> bool:
        """Whether plots should show this hyperparameter on a log axis."""
        return self.kind in ("float", "int") and self.sampling != "linear"

    def declare(self, hp: Any) -> Any:
        """Register this hyperparameter in a ``keras_tuner.HyperParameters`` and return its value.

        Returns ``None`` while a ``when`` condition is not met (the caller keeps the recipe's value).
        """
        cond: dict[str, Any] = {}
        if self.when is not None:
            cond = {"parent_name": self.when[0], "parent_values": list(self.when[1])}
        if self.kind == "float":
            return hp.Float(self.name, self.min, self.max, step=self.step, sampling=self.sampling,
                            default=self.default, **cond)
        if self.kind == "int":
            return hp.Int(self.name, int(self.min), int(self.max),
                          step=None if self.step is None else int(self.step),
                          sampling=self.sampling, default=self.default, **cond)
        if self.kind == "choice":
            labels = [encode_choice(v) for v in self.values]
            default = None if self.default is None else encode_choice(self.default)
            value = hp.Choice(self.name, labels, default=default, **cond)
            return None if value is None else decode_choice(value, self.values)
        return hp.Fixed(self.name, encode_choice(self.default), **cond)

    def to_config(self) -> dict[str, Any]:
        """A JSON-serialisable description (the ``search.json`` record and equality checks)."""
        config = dataclasses.asdict(self)
        config["values"] = None if self.values is None else [_jsonable(v) for v in self.values]
        config["default"] = _jsonable(self.default)
        if self.when is not None:
            config["when"] = [self.when[0], [_jsonable(v) for v in self.when[1]]]
        if self.models is not None:
            config["models"] = [[_jsonable(k), m] for k, m in self.models]
        return config


def encode_choice(value: Any) -> Any:
    """A keras-tuner Choice holds scalars: a list choice ``[300, 100]`` becomes ``"300-100"``."""
    if isinstance(value, (list, tuple)):
        return "-".join(str(v) for v in value)
    return value


def decode_choice(label: Any, values: tuple[Any, ...]) -> Any:
    """The choice of ``values`` whose label is ``label``."""
    for value in values:
        if encode_choice(value) == label:
            return list(value) if isinstance(value, tuple) else value
    return label


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class SearchSpace:
    """A resolved search space: the hyperparameters of one model, in declaration order.

    Attributes:
        model: the registered model the space was resolved for.
        family_table: the :data:`SPACES` table it came from (``None``: the default table).
        params: the hyperparameters.
    """

    model: str
    family_table: str | None
    params: tuple[HParam, ...]

    @property
    def names(self) -> list[str]:
        """The hyperparameter names, in order."""
        return [p.name for p in self.params]

    def __getitem__(self, name: str) -> HParam:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def declare(self, hp: Any) -> dict[str, Any]:
        """Register every hyperparameter in ``hp``; the active values by name."""
        values: dict[str, Any] = {}
        for p in self.params:
            value = p.declare(hp)
            if value is not None:
                values[p.name] = value
        return values

    def to_hparams(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Hyperparameter values (by name) in the ``best_hparams.json`` format.

        A flat dict of :class:`Recipe` field names (``learning_rate``, ``batch_size``, ``model`` for
        a variant, …) plus a nested ``"model_kwargs"`` dict of builder arguments. Values of names
        that are not in the space (keras-tuner's ``tuner/epochs`` …) are left out.
        """
        out: dict[str, Any] = {}
        kwargs: dict[str, Any] = {}
        augment: dict[str, Any] = {}
        for p in self.params:
            if p.name not in values:
                continue
            value = values[p.name]
            if p.kind in ("choice", "fixed"):
                value = decode_choice(encode_choice(value), p.values or (p.default,))
            if p.target == "variant":
                out["model"] = dict(p.models)[value]
            elif p.target == "recipe":
                out[p.name] = value
            elif p.target == "augment":
                augment[p.name[len(AUGMENT_PREFIX):]] = value
            else:
                kwargs[p.name] = value
        if augment:
            out["augment_kwargs"] = augment
        if kwargs:
            out["model_kwargs"] = kwargs
        return out

    def to_config(self) -> list[dict[str, Any]]:
        """A JSON-serialisable description of every hyperparameter."""
        return [p.to_config() for p in self.params]


# ---------------------------------------------------------------------------------------------
# Reading tables and user spaces.
# ---------------------------------------------------------------------------------------------


def family_table(model: str) -> tuple[str | None, dict[str, Any]]:
    """The name and space dict of the :data:`SPACES` table that covers ``model``.

    A table lists the models it covers; a model no table lists takes the table named after its
    registry family, else :data:`DEFAULT_SPACE` (training hyperparameters only).
    """
    from kerascv_course.models import get_spec

    spec = get_spec(model)
    for name, table in SPACES.items():
        if model in table["models"]:
            return name, table["space"]
    if spec.family in SPACES:
        return spec.family, SPACES[spec.family]["space"]
    return None, DEFAULT_SPACE


def load_space(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a search-space file: JSON always, YAML (``.yaml``/``.yml``) where PyYAML is installed.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: when the file is not a mapping of names to ranges, or is YAML without PyYAML.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Search-space file not found. Received: space={path!r}")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if path.endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError as err:
            raise ValueError(
                "Reading a YAML search space needs PyYAML (`pip install pyyaml`); or write the "
                f"same ranges as JSON. Received: space={path!r}"
            ) from err
        data = yaml.safe_load(text)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"`space` is not valid JSON ({err}). Received: space={path!r}") from err
    if not isinstance(data, dict):
        raise ValueError(
            "`space` must be a mapping of hyperparameter names to ranges, e.g. "
            '{"learning_rate": {"min": 1e-4, "max": 1e-1, "sampling": "log"}}. '
            f"Received: space={path!r} holding a {type(data).__name__}"
        )
    return data


def recipe_field_types() -> dict[str, type]:
    """The scalar type of each tunable :class:`Recipe` field (``int | None`` counts as ``int``)."""
    from kerascv_course.training.recipe import Recipe

    hints = typing.get_type_hints(Recipe)
    out: dict[str, type] = {}
    for f in dataclasses.fields(Recipe):
        if f.name in NOT_TUNABLE:
            continue
        hint = hints.get(f.name)
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        base = args[0] if args else hint
        if base in (int, float, str, bool):
            out[f.name] = base
    return out


def builder_args(model: str) -> dict[str, Any]:
    """The tunable keyword arguments of ``model``'s builder, with their default values."""
    from kerascv_course.models import get_spec

    sig = inspect.signature(get_spec(model).builder)
    return {
        name: (None if p.default is inspect.Parameter.empty else p.default)
        for name, p in sig.parameters.items()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and name not in NOT_TUNABLE_ARGS
    }


def resolve_space(
    recipe: Any,
    space: Mapping[str, Any] | str | os.PathLike[str] | None = None,
) -> SearchSpace:
    """The search space of ``recipe.model``: the family table, or a user's ranges checked against it.

    Args:
        recipe: the base :class:`~kerascv_course.training.Recipe` (its values are the defaults
            and the fixed values of everything not searched).
        space: ``None`` for the family table, else a dict of ranges or a JSON/YAML file of them.

    Returns:
        The :class:`SearchSpace`.

    Raises:
        ValueError: for a name the family does not know, a malformed, empty or inverted range, a
            variant value with no model, or a ``when`` condition that can never hold.

    Example:
        >>> resolve_space(Recipe(model="mobilenet", dataset="shapes"),
        ...               {"alpha": {"values": [0.25, 0.5]}, "learning_rate": None}).names
        ['alpha', 'learning_rate']
    """
    table_name, table = family_table(recipe.model)
    user = space is not None
    if user and not isinstance(space, Mapping):
        space = load_space(space)
    entries = dict(space) if user else dict(table)
    if user and not entries:
        raise ValueError(
            "`space` is empty: give at least one hyperparameter range, e.g. "
            '{"learning_rate": {"min": 1e-4, "max": 1e-1, "sampling": "log"}}. Received: space={}'
        )
    recipe_types = recipe_field_types()
    args = builder_args(recipe.model)
    task = dataset_task_or_none(recipe.dataset)
    params: list[HParam] = []
    options: list[tuple[str, Any]] = []
    for name, rng in entries.items():
        if not isinstance(name, str):
            raise ValueError(f"`space` keys must be hyperparameter names. Received: {name!r}")
        if rng is None or (isinstance(rng, Mapping) and not rng):
            if name not in table:
                raise _unknown(name, recipe.model, table_name, table, recipe_types, args,
                               note=" (a name without a range takes the family table's range)")
            rng = table[name]
        if not isinstance(rng, Mapping):
            raise ValueError(
                f"`space[{name!r}]` must be a range dict ({{'min', 'max'}}, {{'values'}} or "
                f"{{'value'}}) or null. Received: {name}={rng!r}"
            )
        models = rng.get("models")
        if models is None and name in table and "models" in table[name]:
            models = table[name]["models"]
        if name.startswith(AUGMENT_PREFIX):
            options.append((name, rng))  # after `augment`, whose choices they depend on
            continue
        if models is not None:
            param = _variant(name, rng, models, recipe, user)
        elif name == "augment":
            param = _augment_policy(rng, recipe, task, user)
        elif name in recipe_types:
            current = getattr(recipe, name)
            param = _parse_range(name, rng, "recipe", recipe_types[name], current)
        elif name in args:
            current = recipe.model_kwargs.get(name, args[name])
            param = _parse_range(name, rng, "model", _type_of(current), current)
        elif not user and name in table:
            log.debug("%s: the family table's %r is not an argument of this builder; left out",
                      recipe.model, name)
            continue
        else:
            raise _unknown(name, recipe.model, table_name, table, recipe_types, args)
        if param is not None:
            params.append(param)
    searched = next((p for p in params if p.name == "augment"), None)
    policies = list(searched.values) if searched is not None and searched.values else [recipe.augment]
    for name, rng in options:
        param = _augment_option(name, rng, policies, searched is not None, recipe, task, user)
        if param is not None:
            params.append(param)
    params = _apply_conditions(params, recipe, user)
    return SearchSpace(model=recipe.model, family_table=table_name, params=tuple(params))


def dataset_task_or_none(dataset: str) -> str | None:
    """The dataset's task, or ``None`` when the name is not a known dataset."""
    from kerascv_course.data import dataset_task

    try:
        return dataset_task(dataset)
    except ValueError:
        return None


def policy_names(task: str | None) -> list[str]:
    """The augmentation policies of ``task`` (segmentation policies move the mask too)."""
    if task == "segmentation":
        from kerascv_course.data.segmentation import list_joint_policies

        return list_joint_policies()
    from kerascv_course.data.augment import list_policies

    return list_policies()


def policy_options(policy: str, task: str | None) -> dict[str, Any]:
    """The options (strength knobs) of an augmentation policy, with their default values."""
    if policy == "none":
        return {}
    if task == "segmentation":
        from kerascv_course.data.segmentation import JointPolicy

        return {f.name: f.default for f in dataclasses.fields(JointPolicy)
                if f.name not in ("name", "output_size", "batched")}
    from kerascv_course.data import augment

    builder = getattr(augment, "_POLICIES", {}).get(policy)
    if builder is None:
        return {}
    return {n: p.default for n, p in inspect.signature(builder).parameters.items()
            if p.kind is p.KEYWORD_ONLY}


def _augment_policy(rng: Mapping[str, Any], recipe: Any, task: str | None, user: bool) -> HParam | None:
    known = policy_names(task)
    rng = dict(rng)
    if "values" in rng and isinstance(rng["values"], (list, tuple)):
        bad = [v for v in rng["values"] if v not in known]
        if bad and user:
            raise ValueError(
                f"`space['augment']`: unknown augmentation polic{'y' if len(bad) == 1 else 'ies'} "
                f"{bad}; valid policies: {', '.join(known)}. Received: augment={list(rng['values'])!r}"
            )
        rng["values"] = [v for v in rng["values"] if v in known]
        if len(rng["values"]) < 2 and not user:
            return None
    return _parse_range("augment", rng, "recipe", str, recipe.augment)


def _augment_option(name: str, rng: Any, policies: list[str], searched: bool, recipe: Any,
                    task: str | None, user: bool) -> HParam | None:
    option = name[len(AUGMENT_PREFIX):]
    having = [p for p in policies if option in policy_options(p, task)]
    if not having:
        if not user:
            return None
        offered = sorted({o for p in policies for o in policy_options(p, task)})
        raise ValueError(
            f"`space[{name!r}]`: no augmentation policy searched ({', '.join(policies)}) has the "
            f"option {option!r}; their options: {', '.join(offered) or 'none'}. Received: {name!r}"
        )
    default = policy_options(having[0], task)[option]
    current = recipe.augment_kwargs.get(option, default) if recipe.augment in having else default
    if isinstance(current, (tuple, list)) and not ("values" in rng or "value" in rng):
        raise ValueError(
            f"`space[{name!r}]` takes pairs like {list(current)}: give its choices as 'values'. "
            f"Received: {name}={dict(rng)!r}"
        )
    param = _parse_range(name, rng, "augment", _type_of(current), current)
    if searched and param.when is None:
        param = dataclasses.replace(param, when=("augment", tuple(having)))
    return param


def _unknown(name: str, model: str, table_name: str | None, table: Mapping[str, Any],
             recipe_types: Mapping[str, type], args: Mapping[str, Any], note: str = "") -> ValueError:
    known = sorted(set(table) | set(recipe_types) | set(args))
    return ValueError(
        f"`space`: unknown hyperparameter {name!r} for {model} (family table "
        f"{table_name or 'default'}){note}. Known names: {', '.join(known)}. Received: {name!r}"
    )


def _type_of(value: Any) -> type | None:
    if isinstance(value, bool):
        return bool
    if isinstance(value, int):
        return int
    if isinstance(value, float):
        return float
    if isinstance(value, str):
        return str
    return None


def _number(name: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"`space[{name!r}][{key!r}]` must be a finite number. Received: {key}={value!r}")
    return value


def _parse_range(name: str, rng: Mapping[str, Any], target: str, typ: type | None,
                 current: Any) -> HParam:
    if "when" not in rng and target == "recipe" and name in IMPLIED_WHEN:
        rng = {**rng, "when": IMPLIED_WHEN[name]}
    unknown = sorted(set(rng) - set(RANGE_KEYS))
    if unknown:
        raise ValueError(
            f"`space[{name!r}]` has unknown key(s) {unknown}; a range takes "
            f"{', '.join(RANGE_KEYS)}. Received: {name}={dict(rng)!r}"
        )
    when = _parse_when(name, rng.get("when"))
    if "value" in rng:
        value = rng["value"]
        return HParam(name, target, "fixed", default=_tuple(value), when=when)
    if "values" in rng:
        values = rng["values"]
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(
                f"`space[{name!r}]['values']` must be a non-empty list of choices (the range is "
                f"empty). Received: {name}={dict(rng)!r}"
            )
        values = tuple(_tuple(v) for v in values)
        kinds = {type(encode_choice(v)) for v in values}
        if len(kinds) > 1 and not kinds <= {int, float}:
            raise ValueError(
                f"`space[{name!r}]['values']` must all have one type. Received: {name}={list(values)!r}"
            )
        if kinds == {int, float} or (typ is float and kinds == {int}):
            values = tuple(float(v) for v in values)
        if len({encode_choice(v) for v in values}) != len(values):
            raise ValueError(f"`space[{name!r}]['values']` repeats a choice. Received: {list(values)!r}")
        default = rng.get("default", _tuple(current))
        if default not in values:
            default = None
        return HParam(name, target, "choice", values=values, default=default, when=when)
    if "min" not in rng or "max" not in rng:
        raise ValueError(
            f"`space[{name!r}]` needs both 'min' and 'max' (or 'values', or 'value'). "
            f"Received: {name}={dict(rng)!r}"
        )
    low, high = _number(name, "min", rng["min"]), _number(name, "max", rng["max"])
    if low > high:
        raise ValueError(
            f"`space[{name!r}]` is inverted: 'min' must be below 'max'. Received: {name}={dict(rng)!r}"
        )
    if low == high:
        raise ValueError(
            f"`space[{name!r}]` is empty: 'min' equals 'max' (use {{'value': {low}}} to fix a value). "
            f"Received: {name}={dict(rng)!r}"
        )
    sampling = rng.get("sampling", "linear")
    if sampling not in SAMPLINGS:
        raise ValueError(
            f"`space[{name!r}]['sampling']` must be one of {', '.join(SAMPLINGS)}. "
            f"Received: sampling={sampling!r}"
        )
    if sampling != "linear" and low <= 0:
        raise ValueError(
            f"`space[{name!r}]` with {sampling} sampling needs 'min' > 0. Received: {name}={dict(rng)!r}"
        )
    step = rng.get("step")
    if step is not None and (_number(name, "step", step) <= 0 or step > high - low):
        raise ValueError(
            f"`space[{name!r}]['step']` must be > 0 and at most max - min. Received: step={step!r}"
        )
    if typ is bool or typ is str:
        raise ValueError(
            f"`space[{name!r}]` is a {typ.__name__}: give its choices as 'values'. "
            f"Received: {name}={dict(rng)!r}"
        )
    integral = all(isinstance(v, int) for v in (rng["min"], rng["max"], step or 1))
    kind = "int" if (typ is int or (typ is None and integral)) else "float"
    if kind == "int" and not integral:
        raise ValueError(
            f"`space[{name!r}]` is an integer hyperparameter: 'min', 'max' and 'step' must be "
            f"integers. Received: {name}={dict(rng)!r}"
        )
    default = rng.get("default", current)
    if isinstance(default, bool) or not isinstance(default, (int, float)) or not low <= default <= high:
        default = None
    elif kind == "float":
        default = float(default)
    return HParam(name, target, kind, min=float(low) if kind == "float" else int(low),
                  max=float(high) if kind == "float" else int(high), step=step, sampling=sampling,
                  default=default, when=when)


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _parse_when(name: str, when: Any) -> tuple[str, tuple[Any, ...]] | None:
    if when is None:
        return None
    if (not isinstance(when, Mapping) or len(when) != 1
            or not isinstance(next(iter(when.values())), (list, tuple))):
        raise ValueError(
            f"`space[{name!r}]['when']` must be one {{parent: [values]}} condition. "
            f"Received: when={when!r}"
        )
    parent, values = next(iter(when.items()))
    return parent, tuple(values)


def _variant(name: str, rng: Mapping[str, Any], models: Any, recipe: Any, user: bool) -> HParam | None:
    from kerascv_course.models import list_models

    registered = set(list_models())
    mapping = {_key(k): v for k, v in dict(models).items()}
    rng = {k: v for k, v in rng.items() if k != "models"}
    values = rng.get("values")
    if values is None:
        raise ValueError(
            f"`space[{name!r}]` picks the model variant: give its choices as 'values' (of "
            f"{', '.join(map(str, mapping))}). Received: {name}={dict(rng)!r}"
        )
    if user:
        bad = [v for v in values if _key(v) not in mapping or mapping[_key(v)] not in registered]
        if bad:
            raise ValueError(
                f"`space[{name!r}]`: no registered model for {bad}; choose among "
                f"{', '.join(str(k) for k, m in mapping.items() if m in registered)}. "
                f"Received: {name}={list(values)!r}"
            )
    values = [v for v in values if mapping.get(_key(v)) in registered]
    if len(values) < 2:
        return None
    current = next((v for v in values if mapping[_key(v)] == recipe.model), None)
    parsed = _parse_range(name, {**rng, "values": values}, "variant", None, current)
    return dataclasses.replace(parsed, models=tuple((v, mapping[_key(v)]) for v in parsed.values))


def _key(value: Any) -> Any:
    return str(value)


def _apply_conditions(params: list[HParam], recipe: Any, user: bool) -> list[HParam]:
    """Resolve each ``when``: keep it where the parent is searched, else test the recipe's value.

    A conditioned hyperparameter is moved after its parent (keras-tuner declares parents first).
    """
    names = {p.name for p in params}
    out: list[HParam] = []
    for p in params:
        if p.when is None or p.when[0] in names:
            out.append(p)
            continue
        if p.when[0] == p.name:
            raise ValueError(f"`space[{p.name!r}]['when']` names itself. Received: when={p.when!r}")
        parent, allowed = p.when
        current = getattr(recipe, parent, recipe.model_kwargs.get(parent))
        if current in allowed:
            out.append(dataclasses.replace(p, when=None))
        elif user:
            raise ValueError(
                f"`space[{p.name!r}]` only acts when {parent} is one of {list(allowed)}, but "
                f"{parent} is fixed at {current!r} and not searched. Search {parent} too, or drop "
                f"{p.name}. Received: {parent}={current!r}"
            )
    ordered: list[HParam] = []
    pending = list(out)
    while pending:
        placed = {q.name for q in ordered}
        ready = [q for q in pending if q.when is None or q.when[0] in placed]
        if not ready:
            raise ValueError(
                f"`space`: the 'when' conditions of {[q.name for q in pending]} form a cycle. "
                f"Received: {[(q.name, q.when) for q in pending]}"
            )
        ordered.append(ready[0])
        pending.remove(ready[0])
    return ordered
