"""The model registry's metadata as plain data: which models exist and what their builders accept.

Everything that answers "is this a valid model, a valid builder argument?" reads this module, which
imports no TensorFlow, so a wrong name is answered in well under a second. The data file
``catalog.json`` (shipped with the package) is generated from the live registry
(:mod:`kerascv_course.models.registry`) by ``python tools/model_table.py --write``; a test keeps the
two equal.

Example:
    >>> model_names("segmentation")
    ['unet']
    >>> model_info("resnet20").builder_args["classes"]
    10
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from kerascv_course.utils.checks import check_choice
from kerascv_course.utils.registry import Registry

TASKS = ("classification", "segmentation")
CATALOG_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalog.json")
REGENERATE = "python tools/model_table.py --write"
# Said by the recipe checks (before any work) and by the Sign layer itself when asked to train.
PERCEPTRON_THRESHOLD_UNTRAINABLE = (
    "perceptron: `threshold=True` ends in the sign unit, which has no gradient, so gradient descent "
    "cannot train it: train with threshold=False (softmax), or use Rosenblatt's rule, "
    "kerascv_course.lessons.perceptron.Perceptron (python recipes/perceptron_xor.py)."
)


class _NotRecorded:
    """The default of a builder argument that has none, or none JSON can hold."""

    def __repr__(self) -> str:
        return "NOT_RECORDED"


NOT_RECORDED: Any = _NotRecorded()


@dataclass(frozen=True)
class ModelMetadata:
    """The plain-data metadata of one registered model (what the catalog file holds).

    Attributes:
        name: registered lower-case name, e.g. ``"vgg16"``.
        task: ``"classification"`` or ``"segmentation"``.
        family: module family, e.g. ``"vgg"``.
        paper: short citation with the year, e.g. ``"Simonyan & Zisserman, 2014"``.
        year: publication year.
        arxiv: arXiv id (or ``None`` for papers that have none).
        default_input_shape: input shape of the paper's model, ``(H, W, C)``.
        min_input_size: smallest spatial side the architecture accepts.
        params: parameter count at the default configuration (the figure tests check).
        keras_app: name of the keras.applications constructor with the same layers
            (``"VGG16"``), or ``None`` where keras.applications has no such model.
        non_square: whether the architecture accepts non-square inputs.
        imagenet: the published ImageNet accuracy, ``{"top1": %, "top5": %, "source": text}``
            (:mod:`kerascv_course.models.published`), or ``None``.
    """

    name: str
    task: str
    family: str
    paper: str
    year: int
    arxiv: str | None
    default_input_shape: tuple[int, int, int]
    min_input_size: int
    params: int | None = None
    keras_app: str | None = None
    non_square: bool = True
    imagenet: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class ModelInfo(ModelMetadata):
    """What the catalog knows of one registered model: its :class:`ModelMetadata` and more.

    Attributes:
        has_feature_taps: whether the model declares encoder feature taps (a U-Net backbone).
        builder_args: every keyword argument of the builder, in its signature's order, with its
            default (:data:`NOT_RECORDED` where it has none that JSON holds).
    """

    has_feature_taps: bool = False
    builder_args: Mapping[str, Any] = field(default_factory=dict)


def _tuples(value: Any) -> Any:
    """JSON lists back to the tuples the builders use."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _info(entry: Mapping[str, Any]) -> ModelInfo:
    args = {arg[0]: _tuples(arg[1]) if len(arg) > 1 else NOT_RECORDED for arg in entry["builder_args"]}
    fields = {k: v for k, v in entry.items() if k != "builder_args"}
    fields["default_input_shape"] = tuple(fields["default_input_shape"])
    return ModelInfo(**fields, builder_args=args)


def _load() -> None:
    try:
        with open(CATALOG_FILE, encoding="utf-8") as fh:
            entries = json.load(fh)["models"]
    except FileNotFoundError as err:
        raise FileNotFoundError(
            f"The model catalog {CATALOG_FILE} is missing; generate it with `{REGENERATE}`."
        ) from err
    for entry in entries:
        CATALOG.register(entry["name"], _info(entry))


CATALOG: Registry[ModelInfo] = Registry("model", argument="name", populate=_load)


def check_task(task: str | None) -> str | None:
    """``task`` if it is ``None`` or one of :data:`TASKS`; otherwise ``ValueError``."""
    return check_choice("task", task, (None, *TASKS))


def model_names(task: str | None = None, pattern: str | None = None) -> list[str]:
    """Sorted names of the registered models.

    Args:
        task: ``None`` for all, or ``"classification"`` / ``"segmentation"``.
        pattern: optional shell-style wildcard, e.g. ``"resnet*"``.

    Returns:
        The sorted list of names.

    Raises:
        ValueError: for an unknown ``task``.

    Example:
        >>> model_names(pattern="vgg1*")
        ['vgg11', 'vgg13', 'vgg16', 'vgg19']
    """
    check_task(task)
    return CATALOG.names(pattern, where=None if task is None else lambda i: i.task == task)


list_models = model_names


def model_info(name: str) -> ModelInfo:
    """The :class:`ModelInfo` of a registered model (any case).

    Raises:
        TypeError: when ``name`` is not a string.
        ValueError: for an unknown name (the message lists close matches and the known names).
    """
    return CATALOG.get(name)


# ------------------------------------------------------------------------------ generation


def _jsonable(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    return isinstance(value, (tuple, list)) and all(_jsonable(v) for v in value)


def catalog_entry(spec: Any) -> dict[str, Any]:
    """The catalog's JSON entry of a :class:`~kerascv_course.models.ModelSpec` (read off the spec
    and its builder's signature)."""
    import inspect

    args = []
    for arg, p in inspect.signature(spec.builder).parameters.items():
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
            known = p.default is not p.empty and _jsonable(p.default)
            args.append([arg, p.default] if known else [arg])
    entry = {f.name: getattr(spec, f.name) for f in fields(ModelMetadata)}
    entry.update(has_feature_taps=spec.feature_taps is not None, builder_args=args)
    return json.loads(json.dumps(entry))


def generate() -> dict[str, Any]:
    """The catalog's data as the live registry gives it (imports every family, so TensorFlow)."""
    from kerascv_course.models.registry import REGISTRY

    return {
        "generated_by": REGENERATE,
        "models": [catalog_entry(spec) for _, spec in REGISTRY.items()],
    }


def dumps(data: Mapping[str, Any]) -> str:
    """The catalog file's text: one model per block, one builder argument per line."""
    lines = ["{", f'  "generated_by": {json.dumps(data["generated_by"])},', '  "models": [']
    for i, entry in enumerate(data["models"]):
        fields = [f'      "{k}": {json.dumps(v)}' for k, v in entry.items() if k != "builder_args"]
        args = ",\n".join(f"        {json.dumps(a)}" for a in entry["builder_args"])
        fields.append(f'      "builder_args": [\n{args}\n      ]')
        comma = "," if i < len(data["models"]) - 1 else ""
        lines += ["    {", ",\n".join(fields), f"    }}{comma}"]
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def write(path: str = CATALOG_FILE) -> str:
    """Regenerate the catalog file from the live registry; returns its path."""
    from kerascv_course.utils.files import write_text

    write_text(path, dumps(generate()))
    return path
