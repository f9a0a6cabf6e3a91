"""Lazy package exports (PEP 562): a package names its public objects, their modules load on use.

Importing a package of this project is instant and imports no TensorFlow; the module that defines
a name is imported the first time the name is used.

Example (a package's ``__init__.py``)::

    from kerascv_course.utils.lazy import lazy_exports

    __getattr__, __dir__, __all__ = lazy_exports(__name__, {"train": "trainer", "Recipe": "recipe"})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, names: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package`` exporting ``{name: submodule}``.

    A submodule is relative to ``package`` (``"trainer"``) or absolute (``"kerascv_course.x"``).
    A name, once loaded, is stored in the package so later uses cost nothing.
    """
    table = dict(names)

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        path = module if module.startswith("kerascv_course.") else f"{package}.{module}"
        value = getattr(importlib.import_module(path), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *table})

    return __getattr__, __dir__, sorted(table)
