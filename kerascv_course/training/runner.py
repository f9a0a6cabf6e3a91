"""The command-line front end shared by ``kerascv-course train`` and the recipe scripts.

A recipe script (``recipes/*.py``) is data plus one call::

    RECIPE = Recipe(model="resnet50", dataset="imagenet2012", epochs=90, ...)

    if __name__ == "__main__":
        raise SystemExit(run_recipe_cli(RECIPE))

and gets these flags for free: ``--smoke`` (the same code path on embedded data in seconds),
``--epochs``, ``--batch-size``, ``--output``, ``--strategy``, ``--hparams FILE.json`` and one flag per
:class:`~kerascv_course.training.recipe.Recipe` field (``--print-recipe`` shows the result).
Precedence, lowest first: the recipe's data, ``--smoke``'s changes, ``--hparams``, explicit flags.

This module imports no TensorFlow until a run starts. Its ``run_*`` functions are command-line
entry points: they print the run's summary and return an exit status.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from kerascv_course.training.recipe import Recipe, apply_hparams, load_hparams

SMOKE_CLASSIFICATION_DATASET = "digits"
SMOKE_SEGMENTATION_DATASET = "cracks"
PROGRESS = {"bar": 1, "epochs": 2, "off": 0}
# Errors a user can fix from the command line: reported in one line, exit status 2.
USER_ERRORS = (ValueError, TypeError, FileNotFoundError, FileExistsError, PermissionError)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON ({err}): {text!r}") from err
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object like '{{\"alpha\": 0.5}}': {text!r}")
    return value


def _optional_split(text: str) -> str | None:
    return None if text.lower() in ("none", "") else text


def _precision(text: str) -> str | None:
    return None if text.lower() in ("off", "none", "float32") else text


def add_recipe_arguments(parser: argparse.ArgumentParser, *, dataset_required: bool = False) -> None:
    """Add one flag per :class:`Recipe` field (no defaults: an absent flag leaves the field as is).

    Args:
        parser: the parser (``kerascv-course train`` or a recipe script's).
        dataset_required: make ``--dataset`` required (the ``train`` command).
    """
    s = argparse.SUPPRESS
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", required=dataset_required, default=s,
                      help="dataset name: digits, shapes, cracks, a tfds name (cifar10, …), folder:PATH")
    data.add_argument("--dataset-kwargs", type=_json_object, default=s, help="JSON object of dataset options")
    data.add_argument("--data-dir", default=s, help="tensorflow-datasets data folder")
    data.add_argument("--image-size", type=int, default=s, help="resize images to this side")
    data.add_argument("--augment", default=s,
                      help="augmentation policy: none, lenet, alexnet, vgg, inception, resnet, cifar")
    data.add_argument("--augment-kwargs", type=_json_object, default=s, help="JSON object of policy options")
    data.add_argument("--validation-split", type=_optional_split, default=s,
                      help="split validated on after each epoch ('none': no validation)")
    data.add_argument("--test-split", default=s, help="split evaluated at the end (default test)")
    data.add_argument("--pseudo-label", type=_json_object, default=s,
                      help='self-training on unlabelled images: JSON object such as \'{"teacher": '
                           '"runs/stl10", "split": "unlabelled", "threshold": 0.95}\'')

    opt = parser.add_argument_group("optimisation")
    opt.add_argument("--epochs", type=int, default=s)
    opt.add_argument("--batch-size", type=int, default=s, help="global batch size (all replicas)")
    opt.add_argument("--optimizer", default=s, help="sgd, adam, adamw or rmsprop")
    opt.add_argument("--optimizer-kwargs", type=_json_object, default=s,
                     help='JSON object of optimizer options, e.g. \'{"epsilon": 1.0, "rho": 0.9}\'')
    opt.add_argument("--learning-rate", "--lr", type=float, default=s, help="base (peak) learning rate")
    opt.add_argument("--base-batch-size", type=int, default=s,
                     help="the batch size --learning-rate is for; scaled to --batch-size by --lr-scaling")
    opt.add_argument("--lr-scaling", default=s, help="linear (Goyal et al. 2017), sqrt or none")
    opt.add_argument("--momentum", type=float, default=s, help="SGD/RMSprop momentum")
    opt.add_argument("--nesterov", action=argparse.BooleanOptionalAction, default=s, help="Nesterov momentum (SGD)")
    opt.add_argument("--weight-decay", type=float, default=s, help="weight decay coefficient")
    opt.add_argument("--weight-decay-mode", default=s,
                     help="l2 (the papers' penalty), decoupled (AdamW-style) or auto")
    opt.add_argument("--schedule", default=s,
                     help="learning-rate schedule: constant, step, exponential, cosine, poly, plateau")
    opt.add_argument("--schedule-kwargs", type=_json_object, default=s,
                     help='JSON object of schedule options, e.g. \'{"milestones": [30, 60]}\'')
    opt.add_argument("--label-smoothing", type=float, default=s)
    opt.add_argument("--clipnorm", type=float, default=s, help="clip the gradients' global norm")
    opt.add_argument("--clipvalue", type=float, default=s, help="clip each gradient element")
    opt.add_argument("--loss", default=s, help="auto, or a segmentation loss (dice, ce_dice, focal, …)")

    model = parser.add_argument_group("model")
    model.add_argument("--model-kwargs", type=_json_object, default=s,
                       help='JSON object of builder arguments, e.g. \'{"alpha": 0.5}\'')

    run = parser.add_argument_group("run")
    run.add_argument("--hparams", default=None, metavar="FILE.json",
                     help="flat JSON of recipe fields and builder arguments (tune's best_hparams.json)")
    run.add_argument("--strategy", default=s, help="auto, mirrored, mirrored:DEV,DEV, multiworker or cpu:N")
    run.add_argument("--mixed-precision", type=_precision, default=s,
                     help="mixed_float16, mixed_bfloat16 or off")
    run.add_argument("--jit-compile", action=argparse.BooleanOptionalAction, default=s,
                     help="compile the training step with XLA")
    run.add_argument("--deterministic", action=argparse.BooleanOptionalAction, default=s,
                     help="TensorFlow op determinism (reproducible, slower)")
    run.add_argument("--seed", type=int, default=s)
    run.add_argument("--output", default=s, help="run folder (default runs/<model>-<dataset>)")
    run.add_argument("--overwrite", action="store_true", default=s, help="replace a finished run in --output")
    run.add_argument("--resume", action=argparse.BooleanOptionalAction, default=s,
                     help="continue an interrupted run in --output (default on)")
    run.add_argument("--steps-per-epoch", type=int, default=s, help="cap on training steps per epoch")
    run.add_argument("--eval-steps", type=int, default=s, help="cap on batches per evaluation")
    run.add_argument("--checkpoint-monitor", default=s, help="quantity best.keras tracks (default auto)")
    run.add_argument("--tensorboard", action=argparse.BooleanOptionalAction, default=s,
                     help="TensorBoard logs in <output>/logs (default on)")
    run.add_argument("--progress", choices=list(PROGRESS), default="bar",
                     help="progress display: bar, one line per epoch, or off")


def recipe_from_args(base: Recipe, args: argparse.Namespace, *, smoke: Mapping[str, Any] | None = None) -> Recipe:
    """``base`` updated by ``smoke`` (when given), then ``--hparams``, then the explicit flags."""
    recipe = base if smoke is None else _smoked(base, smoke)
    if getattr(args, "hparams", None):
        recipe = apply_hparams(recipe, load_hparams(args.hparams))
    fields = {f for f in recipe.to_dict() if f != "model"}
    explicit = {k: v for k, v in vars(args).items() if k in fields}
    recipe = recipe.replace(**explicit)
    return _fit_warmup(recipe) if smoke is not None else recipe


def _fit_warmup(recipe: Recipe) -> Recipe:
    """Shorten a cosine warm-up that is as long as the (smoke) run to half the run."""
    warmup = recipe.schedule_kwargs.get("warmup_epochs", 0) if recipe.schedule == "cosine" else 0
    if warmup and warmup >= recipe.epochs:
        return recipe.replace(schedule_kwargs={**recipe.schedule_kwargs, "warmup_epochs": recipe.epochs / 2})
    return recipe


def smoke_recipe(recipe: Recipe, overrides: Mapping[str, Any] | None = None) -> Recipe:
    """The same recipe, shrunk to run in seconds on embedded data (the ``--smoke`` run).

    The model, optimizer, schedule, augmentation policy and every other setting stay; the data
    become the embedded ``digits`` (``cracks`` for segmentation) at the model's smallest input
    size (at least 32), with 2 training steps of 8 images, one evaluation batch and one epoch.
    A cosine warm-up longer than the run is shortened to half of it. ``overrides`` (a recipe's own
    ``SMOKE`` data) are applied last.
    """
    return _fit_warmup(_smoked(recipe, overrides))


def _smoked(recipe: Recipe, overrides: Mapping[str, Any] | None) -> Recipe:
    from kerascv_course.models import get_spec

    spec = get_spec(recipe.model)
    segmentation = spec.task == "segmentation"
    changes: dict[str, Any] = dict(
        dataset=SMOKE_SEGMENTATION_DATASET if segmentation else SMOKE_CLASSIFICATION_DATASET,
        dataset_kwargs={},
        data_dir=None,
        image_size=max(spec.min_input_size, 32),
        epochs=1,
        batch_size=8,
        steps_per_epoch=2,
        eval_steps=1,
        validation_split="validation",
        test_split="test",
        pseudo_label={},
        tensorboard=False,
        overwrite=True,
        output=os.path.join("runs", "smoke", f"{recipe.model}-{recipe.dataset}".replace(":", "_").replace("/", "_")),
    )
    changes.update(overrides or {})
    return recipe.replace(**changes)


def summary_lines(result: Any, recipe: Recipe) -> list[str]:
    """Human-readable lines about a finished run (its folder, test metrics, the paper's figure)."""
    m = result.metrics
    lines = [f"Run folder: {result.output}"]
    if "top1_error" in m:
        lines.append(
            f"Test top-1 error: {m['top1_error']:.2%} (accuracy {m['accuracy']:.2%}), "
            f"top-5 error: {m['top5_error']:.2%}, loss {m['loss']:.4f}, "
            f"trained in {result.seconds:.0f} s"
        )
    else:
        shown = ", ".join(f"{k} {m[k]:.4f}" for k in ("mean_iou", "dice", "loss") if k in m)
        lines.append(f"Test {shown}, trained in {result.seconds:.0f} s")
    if recipe.published:
        paper = ", ".join(
            f"{k} {v:.2%}" if isinstance(v, float) and v < 1 else f"{k} {v}" for k, v in recipe.published.items()
        )
        lines.append(f"Published: {paper}")
    return lines


def run_recipe(recipe: Recipe, *, progress: str = "bar") -> int:
    """Train ``recipe`` and print its summary; the exit status (2: bad input, 1: diverged)."""
    from kerascv_course.training.trainer import train

    try:
        result = train(recipe, verbose=PROGRESS[progress])
    except FloatingPointError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print()
    for line in summary_lines(result, recipe):
        print(line)
    return 0


def run_recipe_cli(
    recipe: Recipe | Mapping[str, Recipe],
    *,
    smoke: Mapping[str, Any] | None = None,
    argv: Sequence[str] | None = None,
    description: str | None = None,
) -> int:
    """The ``main`` of a recipe script: parse the flags, then train (or print) the recipe.

    Args:
        recipe: the paper's recipe, or ``{variant_name: recipe}`` for a family of variants
            (chosen with ``--variant``; the first is the default).
        smoke: the recipe's own changes for ``--smoke`` on top of :func:`smoke_recipe`'s.
        argv: the arguments (default ``sys.argv[1:]``).
        description: the help text (default: the calling script's docstring).

    Returns:
        The exit status: 0 on success, 2 for bad input, 1 when training diverged.
    """
    if description is None:
        main = sys.modules.get("__main__")
        description = (getattr(main, "__doc__", None) or "").strip() or None
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true",
                        help="run the same code path on embedded data in seconds (1 epoch, 2 steps)")
    parser.add_argument("--print-recipe", action="store_true", help="print the resolved recipe as JSON and exit")
    variants = dict(recipe) if isinstance(recipe, Mapping) else None
    if variants:
        parser.add_argument("--variant", choices=list(variants), default=next(iter(variants)),
                            help="which variant to train (default: %(default)s)")
    add_recipe_arguments(parser)
    args = parser.parse_args(argv)
    base = variants[args.variant] if variants else recipe
    try:
        resolved = recipe_from_args(base, args, smoke=dict(smoke or {}) if args.smoke else None)
        if args.print_recipe:
            print(resolved.to_json())
            return 0
        return run_recipe(resolved, progress=args.progress)
    except USER_ERRORS as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
