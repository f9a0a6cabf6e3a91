"""``kerascv-course compare``: the zoo (and your runs) side by side, as Canziani et al. (2016) did."""

from __future__ import annotations

import argparse
import os

from kerascv_course.cli.command import add_command

COMPARE_EPILOG = """\
examples:
  kerascv-course compare --models 'resnet*' vgg16 mobilenet --output compare
  kerascv-course compare --models squeezenet1_0 mobilenet --image-size 64 --repeats 3
  kerascv-course compare --models 'resnet*' --runs runs/resnet20-cifar10 runs/lenet5-digits

Writes compare.csv, compare.md and compare.png into --output. Parameters and multiply-accumulates
are those of `kerascv-course summary`; latency (batch 1) and throughput (--batch-size) are measured
on this machine with random weights; accuracies are the published ImageNet figures the registry
carries (with their source), and for --runs the run's test accuracy on its own dataset.
--image-size measures every model at that size (fast), while the published accuracies are at
each paper's input: compare the costs with each other, not with the papers'.
"""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``compare``."""
    p = add_command(
        sub,
        run_compare,
        help="table and chart of accuracy vs operations, parameters, latency and throughput",
        epilog=COMPARE_EPILOG,
    )
    p.add_argument("--models", nargs="+", default=["*"], metavar="PATTERN",
                   help="registered classification models or shell patterns (default: all)")
    p.add_argument("--runs", nargs="+", default=[], metavar="RUN",
                   help="finished classification run folders to add (their test accuracy)")
    p.add_argument("--image-size", type=int, default=None,
                   help="measure every zoo model at this square size (default: each paper's input)")
    p.add_argument("--batch-size", type=int, default=32, help="batch of the throughput figure (default 32)")
    p.add_argument("--repeats", type=int, default=5, help="timed passes per figure (median; default 5)")
    p.add_argument("--no-timing", action="store_true", help="parameters and operations only")
    p.add_argument("--output", default="compare", help="folder for compare.csv/.md/.png (default: compare)")


def _zoo_names(patterns: list[str]) -> list[str]:
    """The classification models the patterns name, in order, each once (TF-free)."""
    from kerascv_course.models.catalog import model_names

    names: list[str] = []
    for pattern in patterns:
        if pattern.lower() in ("none", ""):
            continue
        found = model_names("classification", pattern.lower())
        if not found:
            all_names = model_names()
            hint = (" (a segmentation model: compare takes classification models)"
                    if pattern.lower() in all_names else " (kerascv-course list shows the names)")
            raise ValueError(f"`--models` pattern {pattern!r} matches no classification model{hint}. "
                             f"Received: --models {pattern}")
        names += [n for n in found if n not in names]
    return names


def check_compare_args(args: argparse.Namespace) -> tuple[list[str], list[tuple[str, dict, object]]]:
    """Every argument checked before TensorFlow loads: the model names, sizes, run folders."""
    from kerascv_course.models.catalog import model_info
    from kerascv_course.training.run_folder import RunFolder

    for flag, value in (("--batch-size", args.batch_size), ("--repeats", args.repeats)):
        if value < 1:
            raise ValueError(f"`{flag}` must be a positive integer. Received: {flag} {value}")
    names = _zoo_names(args.models)
    if args.image_size is not None:
        if args.image_size < 1:
            raise ValueError(f"`--image-size` must be a positive integer. Received: --image-size {args.image_size}")
        small = [(n, model_info(n).min_input_size) for n in names if model_info(n).min_input_size > args.image_size]
        if small:
            listed = ", ".join(f"{n} ({m})" for n, m in small[:6])
            raise ValueError(
                f"`--image-size` {args.image_size} is below the smallest input of {listed}; give "
                f"--image-size {max(m for _, m in small)} or more, or leave them out of --models. "
                f"Received: --image-size {args.image_size}"
            )
    runs = []
    for path in args.runs:
        run = RunFolder(path)
        if not run.finished:
            raise FileNotFoundError(f"`--runs` takes finished run folders (with metrics.json); {path!r} is "
                                    f"not one. Received: --runs {path}")
        metrics = run.read_metrics() or {}
        if "accuracy" not in metrics:
            raise ValueError(f"`--runs` takes classification runs (a test accuracy); {path!r} has none. "
                             f"Received: --runs {path}")
        recipe = run.read_recipe()
        runs.append((path, metrics, recipe))
    if not names and not runs:
        raise ValueError("Nothing to compare: give --models patterns or --runs. Received: --models none")
    if os.path.exists(args.output) and not os.path.isdir(args.output):
        raise ValueError(f"`--output` must be a folder. Received: --output {args.output}")
    return names, runs


def run_compare(args: argparse.Namespace) -> int:
    """Compare architectures in the manner of Canziani, Paszke & Culurciello (2016): published
    ImageNet top-1/top-5, multiply-accumulates, parameters, latency at batch 1 and throughput
    measured here; the accuracy-vs-operations chart with bubble size = parameters; your run
    folders added with their own test accuracy.
    """
    names, runs = check_compare_args(args)
    import keras

    from kerascv_course.models import get_model, model_info
    from kerascv_course.training.run_folder import resolve_model_source
    from kerascv_course.viz.compare import (
        markdown_table,
        plot_compare,
        progress_line,
        run_row,
        write_csv,
        zoo_row,
    )

    os.makedirs(args.output, exist_ok=True)
    total = len(names) + len(runs)
    timing = dict(batch_size=args.batch_size, repeats=args.repeats, timing=not args.no_timing)
    rows = []
    for index, name in enumerate(names, start=1):
        info = model_info(name)
        kwargs = {}
        if args.image_size is not None:
            kwargs["input_shape"] = (args.image_size, args.image_size, info.default_input_shape[-1])
        row = zoo_row(name, get_model(name, **kwargs), info.imagenet, **timing)
        rows.append(row)
        print(progress_line(index, total, row), flush=True)
        keras.backend.clear_session()
    for index, (path, metrics, recipe) in enumerate(runs, start=len(names) + 1):
        model = resolve_model_source(path, argument="--runs").load()
        label = os.path.basename(os.path.normpath(path))
        row = run_row(label, model, recipe.dataset if recipe else "?", metrics, **timing)
        rows.append(row)
        print(progress_line(index, total, row), flush=True)
        keras.backend.clear_session()
    size = f"{args.image_size}x{args.image_size}" if args.image_size else "each paper's input"
    written = [write_csv(rows, os.path.join(args.output, "compare.csv"))]
    from kerascv_course.utils.files import write_text

    md = os.path.join(args.output, "compare.md")
    write_text(md, f"Operations and timing at {size}; accuracies as published (ImageNet) or measured "
                   f"on the run's test split.\n\n" + markdown_table(rows))
    written.append(md)
    if any(r.top1 is not None for r in rows):
        written.append(plot_compare(rows, os.path.join(args.output, "compare.png"),
                                    title=f"Comparing architectures (costs at {size}; Canziani et al. 2016)"))
    else:
        print("compare.png not drawn: none of these models has a published top-1 accuracy")
    for path in written:
        print(path)
    return 0
