"""The model registry: one table of every architecture, read by the API, the CLI, the docs and the tests.

A family module registers each public builder with :func:`register_model`, which stores the builder
together with its metadata (task, paper, default input, minimum input, parameter count, the
keras.applications twin, encoder feature taps) in :data:`REGISTRY`, a
:class:`~kerascv_course.utils.registry.Registry`. Everything else reads it through
:func:`list_models`, :func:`get_model` and :func:`get_spec`.

This module imports no TensorFlow: the family modules (which do) are imported by the registry's
first lookup (:func:`import_families`). What can be answered without building anything (names,
tasks, builder arguments) is in :mod:`kerascv_course.models.catalog`, generated from this registry.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kerascv_course.models.catalog import TASKS, ModelMetadata, check_task
from kerascv_course.models.published import PUBLISHED_IMAGENET
from kerascv_course.utils.checks import check_choice
from kerascv_course.utils.registry import Registry

if TYPE_CHECKING:
    import keras

# The modules of this package that hold no builders. Every other module is a family: it registers
# its builders when imported, and the registry's first lookup imports them all.
HELPERS = frozenset({"blocks", "catalog", "common", "layers", "published", "registry", "transfer"})


@dataclass(frozen=True, kw_only=True)
class ModelSpec(ModelMetadata):
    """One registered model: its :class:`~kerascv_course.models.catalog.ModelMetadata` (name,
    task, family, paper, year, arxiv, default input, minimum input, parameters, keras.applications
    twin, non-square inputs), its builder, and what only code needs.

    Attributes:
        builder: the public ``build_<name>`` function.
        feature_taps: ``{stride: layer_name}`` of the encoder features a U-Net decoder takes
            (names of layers whose *output* is the feature map at that total stride), or ``None``
            for models without spatial features.
        test_input_shape: a small input shape for fast generic tests (defaults to the minimum).
        extra: any further metadata a family declares.
    """

    builder: Callable[..., keras.Model]
    feature_taps: dict[int, str] | None = None
    test_input_shape: tuple[int, int, int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def small_input_shape(self) -> tuple[int, int, int]:
        """Smallest convenient input shape for tests and quick checks."""
        if self.test_input_shape is not None:
            return self.test_input_shape
        channels = self.default_input_shape[-1]
        return (self.min_input_size, self.min_input_size, channels)


def family_modules() -> list[str]:
    """The family modules of :mod:`kerascv_course.models` (every module but :data:`HELPERS`)."""
    package = os.path.dirname(os.path.abspath(__file__))
    return sorted(
        m.name for m in pkgutil.iter_modules([package])
        if not m.ispkg and m.name not in HELPERS and not m.name.startswith("_")
    )


def import_families() -> None:
    """Import every family module (registering its builders); run by the first lookup."""
    for family in family_modules():
        importlib.import_module(f"kerascv_course.models.{family}")


REGISTRY: Registry[ModelSpec] = Registry("model", argument="name", populate=import_families)


def register_model(
    name: str,
    *,
    family: str,
    paper: str,
    year: int,
    default_input_shape: tuple[int, int, int],
    min_input_size: int,
    arxiv: str | None = None,
    task: str = "classification",
    params: int | None = None,
    keras_app: str | None = None,
    feature_taps: dict[int, str] | None = None,
    test_input_shape: tuple[int, int, int] | None = None,
    non_square: bool = True,
    **extra: Any,
) -> Callable[[Callable[..., keras.Model]], Callable[..., keras.Model]]:
    """Decorator that registers a public builder under ``name`` with its metadata.

    Args:
        name: lower-case registry name; registering a name twice raises ``ValueError``.
        family, paper, year, arxiv, default_input_shape, min_input_size, params, keras_app,
        feature_taps, test_input_shape, non_square: see :class:`ModelSpec`. The published
        ImageNet accuracy (``imagenet``) comes from :mod:`kerascv_course.models.published`.
        task: ``"classification"`` or ``"segmentation"``.
        **extra: any further metadata a family wants to declare.

    Returns:
        The decorator, which returns the builder unchanged (with ``model_name`` set).
    """
    check_choice("task", task, TASKS, where=name)

    def decorator(builder: Callable[..., keras.Model]) -> Callable[..., keras.Model]:
        REGISTRY.register(
            name,
            ModelSpec(
                name=name,
                builder=builder,
                task=task,
                family=family,
                paper=paper,
                year=year,
                arxiv=arxiv,
                default_input_shape=tuple(default_input_shape),
                min_input_size=min_input_size,
                params=params,
                keras_app=keras_app,
                feature_taps=dict(feature_taps) if feature_taps else None,
                test_input_shape=tuple(test_input_shape) if test_input_shape else None,
                non_square=non_square,
                imagenet=dict(PUBLISHED_IMAGENET[name]) if name in PUBLISHED_IMAGENET else None,
                extra=extra,
            ),
        )
        builder.model_name = name
        return builder

    return decorator


def list_models(task: str | None = None, pattern: str | None = None) -> list[str]:
    """Sorted names of the registered models (the live registry; imports every family).

    :func:`kerascv_course.models.list_models` gives the same answer from the catalog, without
    TensorFlow.

    Args:
        task: ``None`` for all, or ``"classification"`` / ``"segmentation"``.
        pattern: optional shell-style wildcard, e.g. ``"resnet*"``.

    Returns:
        The sorted list of names.
    """
    check_task(task)
    return REGISTRY.names(pattern, where=None if task is None else lambda s: s.task == task)


def get_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of a registered model (any case).

    Raises:
        TypeError: when ``name`` is not a string.
        ValueError: for an unknown name (the message lists close matches and the known names).
    """
    return REGISTRY.get(name)


def get_model(name: str, **kwargs: Any) -> keras.Model:
    """Build a registered model by name.

    Args:
        name: a name from :func:`list_models` (case-insensitive).
        **kwargs: passed to the model's builder (``input_shape``, ``classes``, …).

    Returns:
        The built ``keras.Model``.

    Raises:
        ValueError: for an unknown name (the message lists close matches) or bad arguments.

    Example:
        >>> model = get_model("resnet20", classes=10)
    """
    return get_spec(name).builder(**kwargs)
