"""Sub-commands of this group (filled in by its sub-package's issue)."""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register this group's sub-commands (none yet)."""
