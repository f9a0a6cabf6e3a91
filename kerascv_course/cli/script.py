"""The one front end of the recipe scripts in ``recipes/``: parse the flags, run, report, exit.

A recipe script is data plus one call::

    RECIPE = Recipe(model="resnet50", dataset="imagenet2012", epochs=90, ...)

    if __name__ == "__main__":
        raise SystemExit(main(RECIPE))

It gets a flag per :class:`~kerascv_course.training.recipe.Recipe` field (generated from the
schema), ``--hparams FILE.json``, ``--smoke`` (the same code path on embedded data in seconds),
``--print-recipe``, ``--explain [--json]`` (the resolved run, without training), and ``--variant`` when it passes ``{name: recipe}``. With ``export=`` it trains
then exports to TFLite and prints the report; with ``search=`` it runs a hyper-parameter search.
Exit status: 0 done, 1 training diverged or no trial finished, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from kerascv_course.cli.recipe_args import (
    PROGRESS,
    add_explain_arguments,
    add_progress_argument,
    add_recipe_arguments,
    explain_if_asked,
    recipe_from_args,
    summary_lines,
)
from kerascv_course.training.recipe import Recipe
from kerascv_course.utils.files import FolderLockedError, storage_error

#: Errors a user can fix from the command line: reported in one line, exit status 2.
USER_ERRORS = (ValueError, TypeError, FileNotFoundError, FileExistsError, PermissionError, FolderLockedError)
#: What the front ends catch: the user errors, and any ``OSError`` (disk full, read-only,
#: permission denied are answered by :func:`error_line`; other ones are raised again).
CAUGHT = (*USER_ERRORS, OSError)


def error_line(err: BaseException) -> str | None:
    """The one line a front end prints for ``err``, or ``None`` when it is not a user's error
    (the caller raises it again). A disk-full, read-only or permission error anywhere in the
    chain gets :func:`~kerascv_course.utils.files.storage_error`'s line (path, what to do), unless
    the package already raised a user error with its own message."""
    own = isinstance(err, USER_ERRORS) and getattr(err, "errno", None) is None
    storage = None if own else storage_error(err)
    if storage is not None:
        return str(storage)
    if isinstance(err, USER_ERRORS):
        return str(err)
    return None


def progress_verbosity(progress: str) -> int:
    """Keras verbosity of a ``--progress`` choice; ``auto``: a bar on a terminal, else one line
    per epoch (log files and CI get no ANSI progress bars)."""
    value = PROGRESS[progress]
    if value == "auto":
        return 1 if sys.stdout.isatty() else 2
    return int(value)


def run_recipe(recipe: Recipe, *, progress: str = "auto") -> int:
    """Train ``recipe`` and print its summary; the exit status (1: the loss diverged)."""
    from kerascv_course.training.trainer import train

    try:
        result = train(recipe, verbose=progress_verbosity(progress))
    except FloatingPointError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print()
    for line in summary_lines(result, recipe):
        print(line)
    return 0


def _description() -> str | None:
    return (getattr(sys.modules.get("__main__"), "__doc__", None) or "").strip() or None


def main(
    recipe: Recipe | Mapping[str, Recipe],
    *,
    smoke: Mapping[str, Any] | None = None,
    export: Any = None,
    search: Mapping[str, Any] | None = None,
    space: Any = None,
    smoke_search: Mapping[str, Any] | None = None,
    argv: Sequence[str] | None = None,
    description: str | None = None,
) -> int:
    """The ``main`` of a recipe script.

    Args:
        recipe: the paper's recipe, or ``{variant: recipe}`` (``--variant``; the first is the default).
        smoke: the recipe's own changes for ``--smoke`` on top of the generic smoke run.
        export: an :class:`~kerascv_course.export.recipe.ExportSettings`: train, then export the
            run folder to TFLite and print the report (adds the export flags).
        search: keyword arguments of :func:`~kerascv_course.tuning.tune` (tuner, max_trials, …):
            search hyper-parameters over ``space`` instead of training once.
        space: the search space (with ``search``).
        smoke_search: the search's changes under ``--smoke``.
        argv: the arguments (default ``sys.argv[1:]``).
        description: the help text (default: the calling script's docstring).

    Returns:
        The exit status: 0 on success, 1 when training diverged or no trial finished, 2 for bad input.
    """
    parser = argparse.ArgumentParser(description=description or _description(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true",
                        help="run the same code path on embedded data in seconds (1 epoch, 2 steps)")
    parser.add_argument("--print-recipe", action="store_true", help="print the resolved recipe as JSON and exit")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show TensorFlow's and the libraries' own logs")
    variants = dict(recipe) if isinstance(recipe, Mapping) else None
    if variants:
        parser.add_argument("--variant", choices=list(variants), default=next(iter(variants)),
                            help="which variant to train (default: %(default)s)")
    if export is not None:
        add_export_arguments(parser, export)
    add_recipe_arguments(parser)
    add_progress_argument(parser)
    add_explain_arguments(parser)
    args = parser.parse_args(argv)
    if not args.verbose:
        from kerascv_course.cli.quiet import quiet_libraries

        quiet_libraries()
    base = variants[args.variant] if variants else recipe
    try:
        resolved = recipe_from_args(base, args, smoke=dict(smoke or {}) if args.smoke else None)
        if export is not None:
            resolved, settings = export_settings_from_args(resolved, export, args)
        explained = explain_if_asked(resolved, args)
        if explained is not None:
            return explained
        if args.print_recipe:
            print(resolved.to_json())
            if export is not None:
                print(settings)
            return 0
        if search is not None:
            return _search(resolved, space, {**search, **(dict(smoke_search or {}) if args.smoke else {})})
        if export is not None:
            return train_and_export(resolved, settings, verbose=progress_verbosity(args.progress))
        return run_recipe(resolved, progress=args.progress)
    except CAUGHT as err:
        line = error_line(err)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        return 2


def _search(recipe: Recipe, space: Any, search: dict[str, Any]) -> int:
    import json

    from kerascv_course.tuning.search import tune
    from kerascv_course.tuning.trials import format_trials_table

    result = tune(recipe, space=space, **search)
    print(format_trials_table(result.trials, best=result.best_trial))
    if result.best_hparams is None:
        print("No trial finished: see the trial folders' trial.json for the errors.")
        return 1
    print(f"\nBest trial {result.best_trial}: {result.objective} {result.best_score:.4f}, "
          f"{json.dumps(result.best_hparams, sort_keys=True)}")
    print(f"Search folder: {result.output} (trials.csv, best_hparams.json, trials.png, "
          f"hparams.png{', best/' if 'best' in result.files else ''})")
    return 0


def add_export_arguments(parser: argparse.ArgumentParser, export: Any) -> None:
    """The flags of a train-and-export recipe (``--alpha``, ``--resolution`` and the export's)."""
    from kerascv_course.export.recipe import IO_TYPES, QUANTIZATIONS

    parser.add_argument("--alpha", type=float, default=None, help="MobileNet width multiplier (model_kwargs alpha)")
    parser.add_argument("--resolution", type=int, default=None, help="input side (image_size)")
    group = parser.add_argument_group("export")
    group.add_argument("--quantization", "-q", nargs="+", choices=QUANTIZATIONS, default=None,
                       help=f"TFLite modes (default: {' '.join(export.quantizations)})")
    group.add_argument("--input-type", choices=IO_TYPES, default=None, help="int8 model input dtype")
    group.add_argument("--output-type", choices=IO_TYPES, default=None, help="int8 model output dtype")
    group.add_argument("--calibration-samples", type=int, default=None)
    group.add_argument("--eval-samples", type=int, default=None)
    group.add_argument("--latency-runs", type=int, default=None)
    group.add_argument("--threads", type=int, default=None, help="LiteRT interpreter threads")
    group.add_argument("--per-tensor", dest="per_channel", action="store_const", const=False, default=None,
                       help="int8 with one scale per tensor instead of per channel")


def export_settings_from_args(recipe: Recipe, export: Any, args: argparse.Namespace) -> tuple[Recipe, Any]:
    """The recipe with ``--alpha``/``--resolution`` applied, and the export settings the flags give."""
    if args.alpha is not None:
        recipe = recipe.replace(model_kwargs={**recipe.model_kwargs, "alpha": args.alpha})
    if args.resolution is not None:
        recipe = recipe.replace(image_size=args.resolution)
    from kerascv_course.export.recipe import SMOKE_EXPORT

    settings = dataclasses.replace(export, **(SMOKE_EXPORT if args.smoke else {}))
    flags = dict(
        quantizations=tuple(args.quantization) if args.quantization else None,
        input_type=args.input_type, output_type=args.output_type,
        calibration_samples=args.calibration_samples, eval_samples=args.eval_samples,
        latency_runs=args.latency_runs, num_threads=args.threads, per_channel=args.per_channel,
    )
    return recipe, dataclasses.replace(settings, **{k: v for k, v in flags.items() if v is not None})


def train_and_export(recipe: Recipe, settings: Any, *, verbose: int = 2) -> int:
    """Train ``recipe``, export its run folder with ``settings``, print the summary and report."""
    from kerascv_course.export.pipeline import export_source
    from kerascv_course.export.report import format_report
    from kerascv_course.training.trainer import train

    result = train(recipe, verbose=verbose)
    print()
    for line in summary_lines(result, recipe):
        print(line)
    report = export_source(
        result.output,
        quantizations=settings.quantizations,
        input_type=settings.input_type,
        output_type=settings.output_type,
        calibration_samples=settings.calibration_samples,
        eval_samples=settings.eval_samples,
        latency_runs=settings.latency_runs,
        num_threads=settings.num_threads,
        per_channel=settings.per_channel,
    )
    print()
    print(format_report(report))
    print(f"report: {report['report_path']}")
    return 0
