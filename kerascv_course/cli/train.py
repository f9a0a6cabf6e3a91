"""``kerascv-course train``."""

from __future__ import annotations

import argparse
import json


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``train``."""
    p = sub.add_parser(
        "train",
        help="train a model on a dataset and write a run folder",
        description=(
            "Train MODEL on --dataset and write model.keras, history.csv, history.png, "
            "metrics.json and recipe.json into --output."
        ),
    )
    p.add_argument("model", help="registered model name (see `kerascv-course list`)")
    p.add_argument("--dataset", required=True, help="dataset name, e.g. digits, cifar10, folder:PATH")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64, help="global batch size")
    p.add_argument("--optimizer", default="adam", help="sgd, adam, adamw or rmsprop")
    p.add_argument("--learning-rate", "--lr", type=float, default=1e-3)
    p.add_argument("--image-size", type=int, default=None, help="resize images to this side")
    p.add_argument("--strategy", default="auto", help="auto, mirrored, multiworker or cpu:N")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="tensorflow-datasets data folder")
    p.add_argument("--output", default=None, help="run folder (default: a new folder under runs/)")
    p.add_argument("--overwrite", action="store_true", help="replace a finished run in --output")
    p.add_argument(
        "--model-kwargs", type=json.loads, default={},
        help='JSON dict of builder arguments, e.g. \'{"variant": "modern"}\'',
    )
    p.set_defaults(handler=run_train)


def recipe_from_args(args: argparse.Namespace):
    """The :class:`~kerascv_course.training.Recipe` that the flags describe."""
    from kerascv_course.training import Recipe

    return Recipe(
        model=args.model,
        dataset=args.dataset,
        model_kwargs=args.model_kwargs,
        image_size=args.image_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        strategy=args.strategy,
        seed=args.seed,
        data_dir=args.data_dir,
        output=args.output,
        overwrite=args.overwrite,
    )


def run_train(args: argparse.Namespace) -> int:
    from kerascv_course.training import train

    result = train(recipe_from_args(args))
    m = result.metrics
    print(f"\nRun folder: {result.output}")
    print(
        f"Test top-1 error: {m['top1_error']:.2%} (accuracy {m['accuracy']:.2%}), "
        f"top-5 error: {m['top5_error']:.2%}, loss {m['loss']:.4f}, "
        f"trained in {result.seconds:.0f} s"
    )
    return 0
