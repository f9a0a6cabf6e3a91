"""Model builders: one module per family, all registered in :mod:`.registry`.

Importing this package is light (no TensorFlow): :func:`list_models`, :func:`model_names` and
:func:`model_info` answer from :mod:`.catalog`; the family modules load on first use of a
builder (``build_vgg16``), a spec (:func:`get_spec`) or :func:`get_model` (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import Any

from kerascv_course.models.catalog import ModelInfo, list_models, model_info, model_names

_FROM_REGISTRY = (
    "REGISTRY",
    "ModelSpec",
    "get_model",
    "get_spec",
    "family_modules",
    "import_families",
    "register_model",
)


def builders() -> dict[str, Any]:
    """``{"build_<name>": builder}`` for every registered model (imports every family)."""
    from kerascv_course.models.registry import REGISTRY

    return {f"build_{name}": spec.builder for name, spec in REGISTRY.items()}


def __getattr__(name: str) -> Any:
    if name in _FROM_REGISTRY:
        return getattr(importlib.import_module("kerascv_course.models.registry"), name)
    if name.startswith("build_"):
        found = builders().get(name)
        if found is not None:
            return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_FROM_REGISTRY, *(f"build_{n}" for n in model_names())])


__all__ = [
    "REGISTRY",
    "ModelInfo",
    "ModelSpec",
    "builders",
    "get_model",
    "get_spec",
    "list_models",
    "model_info",
    "model_names",
]
