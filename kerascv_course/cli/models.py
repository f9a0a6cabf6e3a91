"""``kerascv-course list`` and ``kerascv-course summary``."""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``list`` and ``summary``."""
    p = sub.add_parser("list", help="list the registered models as a table")
    p.add_argument("--task", choices=("classification", "segmentation"), help="only this task")
    p.add_argument("pattern", nargs="?", help="shell wildcard on the name, e.g. 'resnet*'")
    p.set_defaults(handler=run_list)

    p = sub.add_parser(
        "summary",
        help="print a model's layer table (shapes, parameters, MACs, receptive field)",
        description=(
            "Print one row per layer: output shape, parameters, multiply-accumulates and the "
            "receptive field / total stride of its output, with totals."
        ),
    )
    p.add_argument("model", help="registered model name (see `kerascv-course list`)")
    p.add_argument("--input-shape", type=_shape, default=None, help="H,W,C (default: the paper's)")
    p.add_argument("--classes", type=int, default=None, help="number of classes")
    p.add_argument(
        "--weighted-only", action="store_true", help="only layers with parameters"
    )
    p.add_argument(
        "--keras", action="store_true", help="print Keras' own model.summary() instead"
    )
    p.set_defaults(handler=run_summary)


def _shape(text: str) -> tuple[int, int, int]:
    try:
        h, w, c = (int(v) for v in text.split(","))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected H,W,C such as 224,224,3, got {text!r}") from err
    return (h, w, c)


def models_table(task: str | None = None, pattern: str | None = None) -> list[dict[str, object]]:
    """One row per registered model: name, task, paper, year, default input, parameters, weights."""
    from kerascv_course.models import get_spec, list_models

    rows = []
    for name in list_models(task, pattern):
        spec = get_spec(name)
        rows.append(
            dict(
                name=name,
                task=spec.task,
                paper=spec.paper,
                year=spec.year,
                input="x".join(str(v) for v in spec.default_input_shape),
                params=spec.params,
                imagenet=bool(spec.keras_app),
            )
        )
    return rows


def format_table(rows: list[dict[str, object]], columns: list[str]) -> str:
    """Plain-text table with aligned columns."""
    cells = [[_cell(r[c]) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def run_list(args: argparse.Namespace) -> int:
    rows = models_table(args.task, args.pattern)
    print(format_table(rows, ["name", "task", "params", "input", "paper", "year", "imagenet"]))
    return 0


def run_summary(args: argparse.Namespace) -> int:
    from kerascv_course.models import get_model

    kwargs = {}
    if args.input_shape:
        kwargs["input_shape"] = args.input_shape
    if args.classes:
        kwargs["classes"] = args.classes
    model = get_model(args.model, **kwargs)
    if args.keras:
        model.summary(line_length=110, print_fn=lambda line, **_: print(line))
        return 0
    from kerascv_course.viz.layers import format_layer_table, layer_table

    print(f"{model.name}: input {model.input_shape[1:]}")
    print(format_layer_table(layer_table(model), only_weighted=args.weighted_only))
    return 0
