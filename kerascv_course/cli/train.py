"""``kerascv-course train`` and ``kerascv-course evaluate``."""

from __future__ import annotations

import argparse
import os

from kerascv_course.cli.command import add_command

TRAIN_EPILOG = """\
examples:
  kerascv-course train lenet5 --dataset digits --epochs 30
  kerascv-course train resnet20 --dataset cifar10 --optimizer sgd --lr 0.1 --momentum 0.9 \\
      --weight-decay 1e-4 --schedule step --schedule-kwargs '{"milestones": [82, 123]}' \\
      --augment cifar --batch-size 128 --epochs 164
  kerascv-course train mobilenet --dataset shapes --strategy cpu:2 --mixed-precision mixed_bfloat16
  kerascv-course train lenet5 --dataset digits --hparams search/best_hparams.json
  kerascv-course train resnet20 --dataset cifar10 --explain     # what would run, without training

Run the same command again after an interruption: training resumes from the last finished
epoch with the same settings (--epochs may grow; --no-resume or --overwrite starts over).
--hparams takes the JSON file tune writes (best_hparams.json): recipe fields, with builder
arguments under "model_kwargs" ({"learning_rate": 0.01, "optimizer": "sgd", "model_kwargs":
{"dropout": 0.3}}); it sets hyper-parameters only, and explicit flags win over it. Multi-worker: the same command on every machine with
--strategy multiworker and each machine's TF_CONFIG; only the chief writes --output.
"""

EVALUATE_EPILOG = """\
examples:
  kerascv-course evaluate runs/lenet5-digits
  kerascv-course evaluate runs/alexnet-imagenet2012 --tta 10crop
  kerascv-course evaluate runs/a --ensemble runs/b runs/c --tta center
  kerascv-course evaluate model.keras --dataset digits --split test --output eval.json
"""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``train`` and ``evaluate``."""
    from kerascv_course.cli.recipe_args import (
        add_explain_arguments,
        add_progress_argument,
        add_recipe_arguments,
    )

    p = add_command(
        sub,
        run_train,
        help="train a model on a dataset and write a run folder",
        epilog=TRAIN_EPILOG,
    )
    p.add_argument("model", help="registered model name (see `kerascv-course list`)")
    add_recipe_arguments(p, required=("dataset",))
    add_progress_argument(p)
    add_explain_arguments(p)

    e = add_command(
        sub,
        run_evaluate,
        help="top-1/top-5 error, per-class accuracy and confusion matrix of saved models",
        epilog=EVALUATE_EPILOG,
    )
    e.add_argument("model", help="a run folder (holding model.keras and recipe.json) or a .keras file")
    e.add_argument("--dataset", default=None, help="dataset name (default: the run's recipe.json)")
    e.add_argument("--split", default=None, help="split to evaluate (default: the run's test split)")
    e.add_argument("--tta", default="none", help="test-time augmentation: none, center, 10crop or multiscale")
    e.add_argument("--ensemble", nargs="+", default=[], metavar="RUN",
                   help="more run folders or .keras files: their softmax outputs are averaged")
    e.add_argument("--resize", type=int, default=None,
                   help="shorter side before center/10crop crops (default: input / 0.875)")
    e.add_argument("--scales", type=int, nargs="+", default=None,
                   help="shorter sides of multiscale (default: 256 288 320 352 scaled to the input)")
    e.add_argument("--image-size", type=int, default=None,
                   help="square size to load images of varying size at (default: the run's)")
    e.add_argument("--batch-size", type=int, default=64)
    e.add_argument("--data-dir", default=None, help="tensorflow-datasets data folder")
    e.add_argument("--max-examples", type=int, default=None, help="evaluate the first N examples only")
    e.add_argument("--output", default=None,
                   help="JSON file to write (default: evaluation[-TTA][-ensemble].json beside the model)")


def recipe_from_args(args: argparse.Namespace):
    """The :class:`~kerascv_course.training.Recipe` that the flags (and ``--hparams``) describe."""
    from kerascv_course.cli.recipe_args import recipe_from_args as resolve
    from kerascv_course.training.recipe import Recipe

    return resolve(Recipe(model=args.model, dataset=args.dataset), args)


def run_train(args: argparse.Namespace) -> int:
    """Train MODEL on --dataset and write model.keras, best.keras, history.csv, history.png,
    metrics.json and recipe.json (and TensorBoard logs) into --output.
    """
    from kerascv_course.cli.script import run_recipe
    from kerascv_course.training.checks import check_recipe

    recipe = recipe_from_args(args)
    check_recipe(recipe)  # answered before TensorFlow loads
    from kerascv_course.cli.recipe_args import explain_if_asked

    explained = explain_if_asked(recipe, args)
    if explained is not None:
        return explained
    return run_recipe(recipe, progress=args.progress)


def default_evaluation_path(model: str, tta: str, ensemble: bool) -> str:
    """``evaluation[-<tta>][-ensemble].json`` in the run folder (or beside the ``.keras`` file)."""
    folder = model if os.path.isdir(model) else os.path.dirname(os.path.abspath(model))
    name = "evaluation" + ("" if tta == "none" else f"-{tta}") + ("-ensemble" if ensemble else "") + ".json"
    return os.path.join(folder, name)


def run_evaluate(args: argparse.Namespace) -> int:
    """Evaluate a saved model (a .keras file or a run folder) on a dataset split, with optional
    test-time augmentation and ensembling; write the metrics as JSON and the confusion matrix as
    a PNG.
    """
    from kerascv_course.evaluation.classification import check_tta

    check_tta(args.tta)
    for name in ("batch_size", "max_examples", "image_size", "resize"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"`--{name.replace('_', '-')}` must be a positive integer. Received: {name}={value}")
    paths = [args.model, *args.ensemble]
    for path in paths:
        if not os.path.exists(path):
            raise FileNotFoundError(f"No model or run folder at {path!r}. Received: model={path!r}")
    output = args.output or default_evaluation_path(args.model, args.tta, bool(args.ensemble))
    folder = os.path.dirname(os.path.abspath(output))
    from kerascv_course.training.run_folder import resolve_model_source

    for path in paths:  # unfinished run folders and non-.keras files are answered here, without TF
        resolve_model_source(path, argument="model")
    from kerascv_course.evaluation.classification import check_ensemble_sources

    check_ensemble_sources(paths)  # members that disagree are refused before TensorFlow loads
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"The folder of --output does not exist. Received: output={output!r}")
    from kerascv_course.evaluation.classification import evaluate_classifier
    from kerascv_course.utils.files import write_json
    from kerascv_course.viz.confusion import plot_confusion_matrix

    report = evaluate_classifier(
        paths, dataset=args.dataset, split=args.split, tta=args.tta, data_dir=args.data_dir,
        image_size=args.image_size, batch_size=args.batch_size, resize=args.resize,
        scales=args.scales, max_examples=args.max_examples,
        progress=(lambda line: print(line, flush=True)) if len(paths) > 1 or args.tta != "none" else None,
    )
    png = os.path.splitext(output)[0] + "-confusion.png"
    what = "ensemble of " + str(len(paths)) if len(paths) > 1 else os.path.basename(os.path.normpath(args.model))
    plot_confusion_matrix(
        report["confusion_matrix"], png, class_names=report["class_names"],
        title=f"{what} on {report['dataset']} {report['split']} (tta {args.tta}): "
              f"top-1 error {report['top1_error']:.2%}",
    )
    report["confusion_png"] = png
    write_json(output, report)
    print(
        f"{report['dataset']} {report['split']} ({report['num_examples']} images, tta {args.tta}, "
        f"{report['views_per_image']} view(s) per image, {len(paths)} model(s)): "
        f"top-1 error {report['top1_error']:.2%}, top-5 error {report['top5_error']:.2%}, "
        f"loss {report['loss']:.4f}"
    )
    worst = sorted((v, k) for k, v in report["per_class_accuracy"].items() if v is not None)[:3]
    if worst:
        print("Lowest per-class accuracy: " + ", ".join(f"{k} {v:.1%}" for v, k in worst))
    print(f"Wrote {output} and {png}")
    return 0
