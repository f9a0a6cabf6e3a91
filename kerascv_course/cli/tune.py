"""``kerascv-course tune``: hyperparameter search with keras-tuner."""

from __future__ import annotations

import argparse
import json

from kerascv_course.cli.command import add_command

EPILOG = """\
examples:
  kerascv-course tune lenet5 --dataset digits --tuner bayesian --max-trials 12 --epochs 5 \\
      --output search-lenet
  kerascv-course tune mobilenet --dataset shapes --space space.json --output search-mobilenet
  kerascv-course tune resnet20 --show-space          # print the family's search space
  kerascv-course train lenet5 --dataset digits --hparams search-lenet/best_hparams.json

space file (JSON; YAML with PyYAML): {"learning_rate": {"min": 1e-4, "max": 1e-1, "sampling": "log"},
  "alpha": {"values": [0.25, 0.5]}, "batch_size": null}   (null: the family table's range)

The same command again continues the search in --output (finished trials are not run again);
--overwrite starts afresh. Distributed search: start the same command on every machine with
KERASTUNER_TUNER_ID (chief on one, tuner0, tuner1, ... on the others), KERASTUNER_ORACLE_IP and
KERASTUNER_ORACLE_PORT (the chief's address); the chief writes the results.
"""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``tune``."""
    p = add_command(
        sub,
        run_tune,
        help="search hyperparameters with keras-tuner and write a search folder",
        epilog=EPILOG,
    )
    from kerascv_course.cli.recipe_args import add_recipe_arguments

    p.add_argument("model", help="registered model name (see `kerascv-course list`)")
    search = p.add_argument_group("search")
    search.add_argument("--tuner", default="random", help="random, hyperband or bayesian (default random)")
    search.add_argument("--max-trials", type=int, default=10, help="most trials in the search (default 10)")
    search.add_argument("--space", default=None, help="JSON (or YAML) file of hyperparameter ranges")
    search.add_argument("--objective", default=None,
                        help="metric to optimise (default val_accuracy; val_mean_iou for segmentation)")
    search.add_argument("--patience", type=int, default=3,
                        help="early-stopping patience per trial in epochs (0: off; default 3)")
    search.add_argument("--factor", type=int, default=3, help="Hyperband's reduction factor (default 3)")
    search.add_argument("--executions-per-trial", type=int, default=1)
    search.add_argument("--no-retrain", action="store_true", help="do not retrain the best trial")
    search.add_argument("--show-space", action="store_true", help="print the search space and exit")
    # Every recipe flag sets the base recipe: values the space does not search, and the trials'
    # --epochs (Hyperband: the largest budget). --output is the search folder.
    add_recipe_arguments(p, hparams=False)


def recipe_from_args(args: argparse.Namespace):
    """The base :class:`~kerascv_course.training.Recipe` the flags describe."""
    from kerascv_course.cli.recipe_args import recipe_from_args as resolve
    from kerascv_course.training.recipe import Recipe

    return resolve(Recipe(model=args.model, dataset=getattr(args, "dataset", None) or "digits"), args)


def show_space(space) -> str:
    """The search space as text, one hyperparameter a line."""
    lines = [f"Search space of {space.model} (table {space.family_table or 'default'}):"]
    for p in space.params:
        if p.kind == "choice":
            rng = "one of " + ", ".join(
                f"{v}->{dict(p.models)[v]}" if p.models else str(list(v) if isinstance(v, tuple) else v)
                for v in p.values
            )
        elif p.kind == "fixed":
            rng = f"fixed at {p.default}"
        else:
            rng = f"{p.kind} in [{p.min:g}, {p.max:g}]" + (f" step {p.step:g}" if p.step else "")
            rng += f", {p.sampling}" if p.sampling != "linear" else ""
        when = f"   (when {p.when[0]} in {list(p.when[1])})" if p.when else ""
        lines.append(f"  {p.name:<20} {p.target:<8} {rng}{when}")
    return "\n".join(lines)


def run_tune(args: argparse.Namespace) -> int:
    """Search the hyperparameters of MODEL on --dataset (the family's search space, or --space)
    and write trials.csv, best_hparams.json, trials.png, hparams.png and the retrained best
    model (best/) into --output. It prints one line as each trial starts and ends (its
    hyperparameters, score, the best so far and the time left).
    """
    from kerascv_course.tuning import resolve_space

    recipe = recipe_from_args(args)
    if args.show_space:
        print(show_space(resolve_space(recipe, args.space)))
        return 0
    if not getattr(args, "dataset", None):
        raise ValueError("`--dataset` is required (unless --show-space). Received: dataset=None")
    from kerascv_course.tuning.search import tune
    from kerascv_course.tuning.trials import format_trials_table

    result = tune(
        recipe,
        tuner=args.tuner,
        max_trials=args.max_trials,
        space=args.space,
        objective=args.objective,
        patience=args.patience,
        retrain=not args.no_retrain,
        factor=args.factor,
        executions_per_trial=args.executions_per_trial,
        verbose=1 if args.verbose else 0,
        progress=lambda line: print(line, flush=True),
    )
    replicas = f"{result.replicas} replica{'s' if result.replicas > 1 else ''} per trial"
    if result.role == "worker":
        print(f"Worker finished ({replicas}); it ran trial(s) "
              f"{', '.join(result.new_trials) or 'none'}.")
        return 0
    print(f"\nSearch folder: {result.output} ({len(result.trials)} trial(s), "
          f"{len(result.new_trials)} run now, {replicas})")
    print(format_trials_table(result.trials, best=result.best_trial))
    if result.best_hparams is None:
        print("No trial finished: see the trial folders' trial.json for the errors.")
        return 1
    print(f"\nBest trial {result.best_trial}: {result.objective} = {result.best_score:.4f}")
    print(json.dumps(result.best_hparams, sort_keys=True))
    for name, path in result.files.items():
        print(f"  {name:<18} {path}")
    if result.best_run is not None:
        m = result.best_run.metrics
        shown = ", ".join(f"{k} {v:.4f}" for k, v in m.items() if k in ("accuracy", "mean_iou", "loss"))
        print(f"Retrained best model: {result.best_run.output} (test {shown})")
    return 0
