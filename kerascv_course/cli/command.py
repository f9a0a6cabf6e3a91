"""The one way a module of ``cli/`` registers a sub-command."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]


def add_command(
    sub: argparse._SubParsersAction,
    handler: Handler,
    *,
    help: str,
    name: str | None = None,
    epilog: str | None = None,
) -> argparse.ArgumentParser:
    """Register ``handler`` as a sub-command and return its parser for the arguments.

    The name is the handler's without ``run_`` (underscores become dashes) unless ``name`` is
    given; ``--help``'s description is the handler's docstring, so it is written once.
    """
    description = inspect.cleandoc(handler.__doc__ or help).replace("\n", " ")
    parser = sub.add_parser(
        name or handler.__name__.removeprefix("run_").replace("_", "-"),
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser
