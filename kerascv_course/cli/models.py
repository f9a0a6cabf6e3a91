"""``kerascv-course list`` and ``kerascv-course summary``."""

from __future__ import annotations

import argparse
import sys

from kerascv_course.cli.command import add_command


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``list`` and ``summary``."""
    p = add_command(sub, run_list, help="list the registered models as a table")
    p.add_argument("--task", choices=("classification", "segmentation"), help="only this task")
    p.add_argument("pattern", nargs="?", help="shell wildcard on the name, e.g. 'resnet*'")

    p = add_command(
        sub,
        run_summary,
        help="print a model's layer table (shapes, parameters, MACs, receptive field)",
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

    _add_inspect(sub)


def _add_inspect(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        run_inspect,
        help="look inside a model: first-layer filters, feature maps, saliency, DeconvNet (PNGs)",
    )
    p.add_argument("source", help="run folder, .keras file or registered model name")
    p.add_argument("--image", default=None, help="an image file to explain")
    p.add_argument("--dataset", default=None, help="take the first test image of this dataset")
    p.add_argument("--layers", default=None, help="comma-separated layer names for feature maps")
    p.add_argument("--deconvnet", default=None, metavar="LAYER",
                   help="also write deconvnet.png: DeconvNet projections of this layer's feature maps")
    p.add_argument("--top", type=int, default=4, help="how many feature maps --deconvnet projects (default 4)")
    p.add_argument("--channels", type=_channels, default=None, metavar="C,C,…",
                   help="project these feature maps of the --deconvnet layer instead of the strongest")
    p.add_argument("--output", required=True, help="folder for the PNGs")


def _channels(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected channel numbers such as 0,5,17, got {text!r}") from err
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"channel numbers are 0 or more, got {text!r}")
    return values


def _shape(text: str) -> tuple[int, int, int]:
    try:
        h, w, c = (int(v) for v in text.split(","))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected H,W,C such as 224,224,3, got {text!r}") from err
    return (h, w, c)


def models_table(task: str | None = None, pattern: str | None = None) -> list[dict[str, object]]:
    """One row per registered model: name, task, paper (with its year), default input, parameters,
    weights; read from the catalog (no TensorFlow)."""
    from kerascv_course.models.catalog import model_info, model_names

    rows = []
    for name in model_names(task, pattern):
        info = model_info(name)
        rows.append(
            dict(
                name=name,
                task=info.task,
                paper=info.paper,
                input="x".join(str(v) for v in info.default_input_shape),
                params=info.params,
                imagenet=bool(info.keras_app),
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
    """List the registered models as a table: name, task, parameters, input, paper, ImageNet weights."""
    rows = models_table(args.task, args.pattern)
    if not rows:
        print(no_match_message(args.task, args.pattern), file=sys.stderr)
        return 1
    print(format_table(rows, ["name", "task", "params", "input", "paper", "imagenet"]))
    return 0


def no_match_message(task: str | None, pattern: str | None) -> str:
    """What ``list`` says when no model matches: the families to try, and the plain command."""
    from kerascv_course.models.catalog import model_info, model_names

    families = sorted({model_info(n).family for n in model_names(task)})
    what = f"{pattern!r}" + (f" among the {task} models" if task else "")
    return (f"No model matches {what}. Families: {', '.join(families)}; try a pattern such as "
            f"'{families[0]}*', or `kerascv-course list` for every model.")


def run_summary(args: argparse.Namespace) -> int:
    """Print one row per layer: output shape, parameters, multiply-accumulates and the receptive
    field / total stride of its output, with totals.
    """
    from kerascv_course.models import get_model, model_info

    model_info(args.model)  # an unknown name is answered before TensorFlow loads

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


def _load_source(source: str):
    """(model, dataset name or None) from a run folder, a .keras file or a registered name."""
    import os

    from kerascv_course.models import get_model, model_names
    from kerascv_course.training.run_folder import resolve_model_source

    if os.path.exists(source) or source.endswith(".keras"):
        found = resolve_model_source(source)
        return found.load(), found.recipe.dataset if found.recipe is not None else None
    if source.lower() in model_names():
        return get_model(source), None
    raise ValueError(
        f"`source` must be a run folder, a .keras file or a registered model name. "
        f"Received: source={source!r}"
    )


def run_inspect(args: argparse.Namespace) -> int:
    """Write filters.png, features.png and saliency.png for a trained run folder, a .keras
    file or a registered model name (random weights); with --deconvnet LAYER also deconvnet.png,
    the strongest activations of LAYER's strongest feature maps projected back to pixels (Zeiler
    & Fergus 2013). The image comes from --image or is the first test image of --dataset
    (default: the run's dataset)."""
    import os
    import types

    import numpy as np
    import tensorflow as tf

    from kerascv_course.data import load_dataset
    from kerascv_course.data.pipeline import match_channels, normalize, to_float
    from kerascv_course.utils.model_card import model_card
    from kerascv_course.viz.inspect import plot_feature_maps, plot_filters, plot_saliency

    if args.top < 1:
        raise ValueError(f"`--top` must be a positive integer. Received: --top={args.top}")
    model, run_dataset = _load_source(args.source)
    if args.deconvnet:
        from kerascv_course.viz.deconvnet import feature_probe

        probe = feature_probe(model, args.deconvnet)  # an unknown or flat layer: answered before any data loads
        depth = probe.output.shape[-1]
        if args.channels and max(args.channels) >= depth:
            raise ValueError(f"`--channels` must be below {depth}, the feature maps of {args.deconvnet!r}. "
                             f"Received: --channels {','.join(map(str, args.channels))}")
    elif args.channels:
        raise ValueError("`--channels` chooses feature maps of the --deconvnet layer; give --deconvnet LAYER. "
                         f"Received: --channels {','.join(map(str, args.channels))}")
    dataset = args.dataset or run_dataset
    h, w, c = model.input_shape[1:]
    info = true = None
    if args.image:
        if not os.path.exists(args.image):
            raise FileNotFoundError(f"No image at {args.image!r}. Received: --image={args.image!r}")
        raw = tf.io.decode_image(tf.io.read_file(args.image), expand_animations=False)
        if dataset:
            _, info = load_dataset(dataset, "test")
    elif dataset:
        ds, info = load_dataset(dataset, "test")
        raw, true = next(iter(ds))
    else:
        raw = tf.constant(np.random.default_rng(0).integers(0, 256, (h or 64, w or 64, c)), tf.uint8)
    # Prepared as the model was trained: its card (resize mode, normalisation) first, else the
    # dataset's statistics.
    spec = (model_card(model) or {}).get("input") or {}
    image = match_channels(to_float(raw), c)
    size = (h or image.shape[0], w or image.shape[1])
    if spec.get("resize_mode") == "pad" and image.shape[0] <= size[0] and image.shape[1] <= size[1]:
        image = tf.image.resize_with_crop_or_pad(image, *size)
    else:
        image = tf.image.resize(image, size)
    if spec.get("mean") is not None and spec.get("std") is not None:
        image = normalize(image, types.SimpleNamespace(mean=tuple(spec["mean"]), std=tuple(spec["std"])))
    elif info is not None:
        image = normalize(image, info)
    image = np.asarray(image)
    made = not os.path.exists(args.output)
    os.makedirs(args.output, exist_ok=True)
    layers = args.layers.split(",") if args.layers else None
    names = info.class_names if info is not None else None
    true_index = int(np.asarray(true).reshape(-1)[0]) if true is not None and np.asarray(true).size == 1 else None
    try:
        written = [
            plot_filters(model, os.path.join(args.output, "filters.png")),
            plot_feature_maps(model, image, os.path.join(args.output, "features.png"), layers=layers),
        ]
        if len(model.output_shape) == 2:
            written.append(plot_saliency(model, image, os.path.join(args.output, "saliency.png"),
                                         class_names=names, true_index=true_index))
        if args.deconvnet:
            from kerascv_course.viz.deconvnet import plot_deconvnet

            written.append(plot_deconvnet(model, image, os.path.join(args.output, "deconvnet.png"),
                                          layer=args.deconvnet, top=args.top, channels=args.channels))
    except BaseException:
        if made:  # a failed inspect leaves no half-made folder
            import shutil

            shutil.rmtree(args.output, ignore_errors=True)
        raise
    for path in written:
        print(path)
    return 0
