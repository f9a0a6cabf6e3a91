"""Model builders: one module per family, all registered in :mod:`.registry`.

Importing this package imports every family module, which registers its builders.
"""

from __future__ import annotations

import importlib

from kerascv_course.models.registry import REGISTRY, ModelSpec, get_model, get_spec, list_models

# Family modules, in the course's order. Each registers its builders on import.
FAMILIES = (
    "perceptron",
    "lenet",
    "alexnet",
    "vgg",
    "inception",
    "bn_inception",
    "inception_v4",
    "resnet",
    "densenet",
    "mobilenet",
    "xception",
    "squeezenet",
    "resnext",
    "senet",
    "fractalnet",
    "unet",
)

for _family in FAMILIES:
    importlib.import_module(f"kerascv_course.models.{_family}")


def builders() -> dict[str, object]:
    """``{"build_<name>": builder}`` for every registered model."""
    return {f"build_{name}": spec.builder for name, spec in REGISTRY.items()}


__all__ = ["REGISTRY", "ModelSpec", "builders", "get_model", "get_spec", "list_models"]
