"""kerascv_course: a Keras 3 model zoo for the classic computer-vision course.

Build every architecture with one call (``build_vgg16()``), list them (``list_models()``), or build
by name (``get_model("resnet50", classes=10)``). Importing this package is instant: TensorFlow and
the model modules load on first use of a builder; ``list_models`` and ``model_info`` answer from
the catalog without TensorFlow.

Example:
    >>> from kerascv_course import build_lenet5, list_models
    >>> model = build_lenet5()
    >>> model.count_params()
    61706
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_MODEL_API = ("list_models", "get_model", "get_spec", "ModelSpec", "model_info", "ModelInfo")


def __getattr__(name: str) -> Any:
    if name in _MODEL_API or name.startswith("build_"):
        models = importlib.import_module("kerascv_course.models")
        if name.startswith("build_"):
            found = models.builders().get(name)
            if found is None:
                raise AttributeError(
                    f"module 'kerascv_course' has no builder {name!r}; "
                    f"known: {', '.join(sorted(models.builders()))}"
                )
            return found
        return getattr(models, name)
    raise AttributeError(f"module 'kerascv_course' has no attribute {name!r}")


def __dir__() -> list[str]:
    models = importlib.import_module("kerascv_course.models")
    return sorted([*globals(), *_MODEL_API, *(f"build_{n}" for n in models.model_names())])
