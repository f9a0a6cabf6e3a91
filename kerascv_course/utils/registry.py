"""One registry shape for everything the package looks up by name.

Models, datasets, augmentation policies and tuning spaces are each a :class:`Registry`: entries are
registered once under a lower-case name, looked up case-insensitively with :meth:`Registry.get`,
listed with :meth:`Registry.names` (shell-style patterns, filters), and an unknown name raises one
``ValueError`` that names the argument, suggests the closest names and lists the known ones.

This module imports nothing heavy: a registry of plain metadata can answer "is this a valid name?"
without TensorFlow. A registry whose entries are registered by modules that do import TensorFlow
takes a ``populate`` callable, run once on first use.

Example:
    >>> COLOURS = Registry("colour")
    >>> COLOURS.register("red", (255, 0, 0))
    (255, 0, 0)
    >>> COLOURS.get("Red")
    (255, 0, 0)
    >>> COLOURS.get("rde")
    Traceback (most recent call last):
    ValueError: Unknown colour 'rde'. Did you mean: red? Known colours: red. Received: colour='rde'
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


def did_you_mean(name: str, known: list[str] | tuple[str, ...], *, n: int = 4) -> str:
    """``" Did you mean: a, b?"`` for the names of ``known`` close to ``name`` (or ``""``)."""
    close = difflib.get_close_matches(str(name).lower(), [k.lower() for k in known], n=n, cutoff=0.5)
    return f" Did you mean: {', '.join(close)}?" if close else ""


class Registry(Generic[T]):
    """Named entries of one kind.

    Args:
        kind: what an entry is, in messages (``"model"``, ``"dataset"``, ``"augmentation policy"``).
        argument: the argument name used in ``Received: argument=value`` (default: ``kind``).
        plural: the plural of ``kind`` (default: ``kind + "s"``).
        populate: called once before the first lookup, to import the modules that register
            entries (so importing the registry itself stays light).
    """

    def __init__(
        self,
        kind: str,
        *,
        argument: str | None = None,
        plural: str | None = None,
        populate: Callable[[], None] | None = None,
    ) -> None:
        self.kind = kind
        self.argument = argument or kind.replace(" ", "_")
        self.plural = plural or f"{kind}s"
        self._entries: dict[str, T] = {}
        self._populate = populate
        self._populating = False

    def _ready(self) -> None:
        if self._populate is not None and not self._populating:
            self._populating = True
            populate, self._populate = self._populate, None
            try:
                populate()
            except BaseException:
                self._populate = populate
                raise
            finally:
                self._populating = False

    def register(self, name: str, entry: T) -> T:
        """Store ``entry`` under ``name`` (lower-case); a second entry of that name is an error."""
        if not isinstance(name, str) or not name or name != name.lower():
            raise ValueError(f"{self.kind} names are non-empty lower-case strings. Received: name={name!r}")
        if name in self._entries:
            raise ValueError(f"A {self.kind} named {name!r} is already registered.")
        self._entries[name] = entry
        return entry

    def unknown(self, name: object, *, extra: str = "") -> ValueError:
        """The error for a name that is not registered (with close matches and the known names)."""
        known = self.names()
        return ValueError(
            f"Unknown {self.kind} {name!r}.{did_you_mean(str(name), known)}{extra} Known "
            f"{self.plural}: {', '.join(known)}. Received: {self.argument}={name!r}"
        )

    def get(self, name: str) -> T:
        """The entry registered as ``name`` (any case).

        Raises:
            TypeError: when ``name`` is not a string.
            ValueError: for an unknown name (close matches and the known names in the message).
        """
        if not isinstance(name, str):
            raise TypeError(f"A {self.kind} name must be a string. Received: {self.argument}={name!r}")
        self._ready()
        entry = self._entries.get(name.lower())
        if entry is None:
            raise self.unknown(name)
        return entry

    def names(self, pattern: str | None = None, where: Callable[[T], bool] | None = None) -> list[str]:
        """Sorted names, optionally matching a shell-style ``pattern`` (any case) and ``where``."""
        self._ready()
        names = sorted(self._entries)
        if pattern is not None:
            names = [n for n in names if fnmatch.fnmatchcase(n, pattern.lower())]
        if where is not None:
            names = [n for n in names if where(self._entries[n])]
        return names

    def items(self) -> list[tuple[str, T]]:
        """``(name, entry)`` pairs, sorted by name."""
        self._ready()
        return sorted(self._entries.items())

    def __contains__(self, name: object) -> bool:
        self._ready()
        return isinstance(name, str) and name.lower() in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self._ready()
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._entries)} entries)"
