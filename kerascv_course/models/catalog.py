"""TEMPORARY shim until the models redesign lands (imports the registry)."""

from __future__ import annotations

import inspect
from types import SimpleNamespace


def model_info(name):
    from kerascv_course.models import get_spec

    spec = get_spec(name)
    args = tuple(inspect.signature(spec.builder).parameters)
    return SimpleNamespace(name=spec.name, task=spec.task, family=spec.family,
                           min_input_size=spec.min_input_size, builder_args=args)
