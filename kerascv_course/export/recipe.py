"""Train-then-ship recipes: train a :class:`~kerascv_course.training.Recipe`, export it, report.

A recipe script that ends in a device model is data plus one call::

    RECIPES = {"shapes": Recipe(model="mobilenet", dataset="shapes", ...)}
    EXPORT = ExportSettings(quantizations=("float32", "int8"), input_type="uint8")

    if __name__ == "__main__":
        raise SystemExit(run_export_recipe_cli(RECIPES, EXPORT))

Flags: every training flag of :mod:`kerascv_course.training.runner` (``--smoke``, ``--epochs``,
``--output``, …), ``--alpha`` and ``--resolution`` (MobileNet's width multiplier and input side),
and the export's ``--quantization``, ``--input-type``, ``--output-type``,
``--calibration-samples``, ``--eval-samples``, ``--latency-runs``, ``--threads``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kerascv_course.training.recipe import Recipe
from kerascv_course.training.runner import (
    USER_ERRORS,
    add_recipe_arguments,
    recipe_from_args,
    summary_lines,
)

QUANTIZATIONS = ("float32", "float16", "dynamic", "int8")
IO_TYPES = ("float32", "int8", "uint8")


@dataclass(frozen=True)
class ExportSettings:
    """How a recipe's trained model is exported (see :func:`~kerascv_course.export.export_source`)."""

    quantizations: tuple[str, ...] = ("float32", "int8")
    input_type: str = "uint8"
    output_type: str = "uint8"
    calibration_samples: int = 300
    eval_samples: int | None = None
    latency_runs: int = 50
    num_threads: int | None = None
    per_channel: bool = True


SMOKE_EXPORT = dict(calibration_samples=32, eval_samples=64, latency_runs=5)


def run_export_recipe_cli(
    recipes: Recipe | Mapping[str, Recipe],
    export: ExportSettings = ExportSettings(),
    *,
    smoke: Mapping[str, Any] | None = None,
    argv: Sequence[str] | None = None,
    description: str | None = None,
) -> int:
    """The ``main`` of a train-and-export recipe: train, export each quantization, print the report.

    Args:
        recipes: the recipe, or ``{variant: recipe}`` (chosen with ``--variant``, first by default).
        export: the export settings (flags override them).
        smoke: the recipe's own changes for ``--smoke`` (on top of the runner's smoke run).
        argv: the arguments (default ``sys.argv[1:]``).
        description: help text (default: the calling script's docstring).

    Returns:
        The exit status: 0 on success, 2 for bad input.
    """
    if description is None:
        main = sys.modules.get("__main__")
        description = (getattr(main, "__doc__", None) or "").strip() or None
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="train 2 steps on embedded digits, export, report")
    parser.add_argument("--print-recipe", action="store_true", help="print the resolved recipe and exit")
    variants = dict(recipes) if isinstance(recipes, Mapping) else {"default": recipes}
    parser.add_argument("--variant", choices=list(variants), default=next(iter(variants)),
                        help="which recipe to train (default: %(default)s)")
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
    add_recipe_arguments(parser)
    parser.set_defaults(progress="epochs")
    args = parser.parse_args(argv)
    try:
        recipe = recipe_from_args(variants[args.variant], args, smoke=dict(smoke or {}) if args.smoke else None)
        if args.alpha is not None:
            recipe = recipe.replace(model_kwargs={**recipe.model_kwargs, "alpha": args.alpha})
        if args.resolution is not None:
            recipe = recipe.replace(image_size=args.resolution)
        settings = dataclasses.replace(export, **(SMOKE_EXPORT if args.smoke else {}))
        flags = dict(
            quantizations=tuple(args.quantization) if args.quantization else None,
            input_type=args.input_type, output_type=args.output_type,
            calibration_samples=args.calibration_samples, eval_samples=args.eval_samples,
            latency_runs=args.latency_runs, num_threads=args.threads, per_channel=args.per_channel,
        )
        settings = dataclasses.replace(settings, **{k: v for k, v in flags.items() if v is not None})
        if args.print_recipe:
            print(recipe.to_json())
            print(settings)
            return 0
        return train_and_export(recipe, settings, progress=args.progress)
    except USER_ERRORS as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def train_and_export(recipe: Recipe, settings: ExportSettings, *, progress: str = "epochs") -> int:
    """Train ``recipe``, export its run folder with ``settings``, print the summary and report."""
    from kerascv_course.export.pipeline import export_source
    from kerascv_course.export.report import format_report
    from kerascv_course.training.runner import PROGRESS
    from kerascv_course.training.trainer import train

    result = train(recipe, verbose=PROGRESS.get(progress, 2))
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
