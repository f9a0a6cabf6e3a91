"""``kerascv-course``: the command line over build, feed, train, tune, look and ship.

Each command group lives in its own module (``cli/models.py``, ``cli/train.py``, …) exposing
``add_parsers(subparsers)``, which registers each sub-command with ``cli.command.add_command``:
its handler is a function ``(args) -> int`` whose docstring is the command's ``--help`` text. Heavy
imports (TensorFlow) happen inside the handlers, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# Modules contributing sub-commands, in the order of the help text.
COMMAND_MODULES = ("models", "train", "data", "tune", "export", "compare")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="kerascv-course",
        description=(
            "A Keras 3 model zoo for the classic computer-vision course: list and inspect models, "
            "train them with their papers' recipes, tune, evaluate, export to TFLite and predict."
        ),
    )
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log debug messages, and show TensorFlow's and the converters' own logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"kerascv_course.cli.{name}").add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kerascv-course``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.verbose:
        from kerascv_course.cli.quiet import quiet_libraries

        quiet_libraries()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s" if args.verbose else "%(message)s",
    )
    from kerascv_course.cli.script import CAUGHT, error_line

    try:
        return int(args.handler(args) or 0)
    except CAUGHT as err:  # user errors, disk full, read-only, permission denied: one line
        line = error_line(err)
        if line is None:
            raise
        print(f"kerascv-course {args.command}: error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
