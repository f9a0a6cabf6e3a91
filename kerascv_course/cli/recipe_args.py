"""Command-line flags generated from the :class:`~kerascv_course.training.recipe.Recipe` schema.

:func:`add_recipe_arguments` adds one flag per recipe field (its group, help, type and spelling
from the field's :class:`~kerascv_course.training.recipe.Setting`); :func:`recipe_from_args` turns
the parsed flags back into a recipe. Precedence, lowest first: the base recipe, ``--smoke``'s
changes, ``--hparams FILE.json``, explicit flags. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kerascv_course.training.recipe import (
    Recipe,
    apply_hparams,
    field_types,
    load_hparams,
    optional_fields,
    settings,
)

GROUP_TITLES = {"data": "data", "model": "model", "optimisation": "optimisation", "run": "run"}
PROGRESS = {"bar": 1, "epochs": 2, "off": 0, "auto": "auto"}
SMOKE_CLASSIFICATION_DATASET = "digits"
SMOKE_SEGMENTATION_DATASET = "cracks"


def flag(name: str) -> str:
    """The flag of field ``name`` (``batch_size`` -> ``--batch-size``)."""
    return "--" + name.replace("_", "-")


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON ({err}): {text!r}") from err
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object like '{{\"alpha\": 0.5}}': {text!r}")
    return value


def _text_list(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            raise argparse.ArgumentTypeError(f"not valid JSON ({err}): {text!r}") from err
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise argparse.ArgumentTypeError(f"must be a JSON list of strings: {text!r}")
        return value
    return [part.strip() for part in text.split(",") if part.strip()]


def _optional(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse_or_none(text: str) -> Any:
        return None if text.strip().lower() in ("none", "") else parse(text)

    parse_or_none.__name__ = getattr(parse, "__name__", "value")
    return parse_or_none


def _parser_of(name: str, kind: Any, optional: bool) -> Callable[[str], Any]:
    spec = settings()[name]
    if spec.parse is not None:
        return spec.parse
    base = {int: int, float: float, str: str, dict: _json_object, list: _text_list}[kind]
    return _optional(base) if optional and kind in (int, float, str) else base


def add_recipe_arguments(
    parser: argparse.ArgumentParser,
    *,
    required: Iterable[str] = (),
    exclude: Iterable[str] = (),
    hparams: bool = True,
) -> None:
    """Add one flag per :class:`Recipe` field (no defaults: an absent flag leaves the field as is).

    Args:
        parser: the parser (``kerascv-course train``/``tune`` or a recipe script's).
        required: fields whose flag is required (``("dataset",)`` for ``train``).
        exclude: fields without a flag here.
        hparams: add ``--hparams FILE.json``.
    """
    required, exclude = set(required), set(exclude)
    types, optional = field_types(), optional_fields()
    groups: dict[str, argparse._ArgumentGroup] = {}
    for name, spec in settings().items():
        if not spec.cli or name in exclude:
            continue
        group = groups.get(spec.group) or groups.setdefault(
            spec.group, parser.add_argument_group(GROUP_TITLES.get(spec.group, spec.group))
        )
        kind = types[name]
        options: dict[str, Any] = dict(dest=name, help=spec.help)
        if name in required:
            options["required"] = True
        else:
            options["default"] = argparse.SUPPRESS
        if kind is bool:
            options["action"] = argparse.BooleanOptionalAction
        else:
            options["type"] = _parser_of(name, kind, name in optional)
            options["metavar"] = spec.metavar or name.upper()
        group.add_argument(flag(name), *spec.flags, **options)
    if hparams:
        groups.setdefault("run", parser.add_argument_group("run")).add_argument(
            "--hparams", default=None, metavar="FILE.json",
            help="hyper-parameters as tune writes them (best_hparams.json); flags win over it",
        )


def add_explain_arguments(parser: argparse.ArgumentParser) -> None:
    """``--explain`` (print the resolved run without training) and ``--json`` (as JSON)."""
    parser.add_argument("--explain", action="store_true",
                        help="print what the run will do (model and parameters, data and splits, "
                             "augmentation, optimizer, learning rate by epoch, decayed variables, "
                             "regularisation, the published result) without training, and exit")
    parser.add_argument("--json", action="store_true", help="with --explain: print it as JSON")


def explain_if_asked(recipe: Recipe, args: argparse.Namespace) -> int | None:
    """Print the explanation when ``--explain`` was given (exit status 0), else ``None``.

    Raises:
        ValueError: for ``--json`` without ``--explain``.
    """
    if not getattr(args, "explain", False):
        if getattr(args, "json", False):
            raise ValueError("`--json` goes with --explain (print the explanation as JSON). Received: --json")
        return None
    from kerascv_course.training.explain import print_explanation

    return print_explanation(recipe, as_json=args.json)


def add_progress_argument(parser: argparse.ArgumentParser, default: str = "auto") -> None:
    """``--progress {auto,bar,epochs,off}`` (auto: a bar on a terminal, one line per epoch otherwise)."""
    parser.add_argument("--progress", choices=list(PROGRESS), default=default,
                        help="progress display: bar, one line per epoch, off, or auto (bar on a terminal)")


def recipe_from_args(base: Recipe, args: argparse.Namespace, *,
                     smoke: Mapping[str, Any] | None = None) -> Recipe:
    """``base`` updated by ``smoke`` (when given), then ``--hparams``, then the explicit flags."""
    recipe = base if smoke is None else smoke_recipe(base, smoke)
    if getattr(args, "hparams", None):
        recipe = apply_hparams(recipe, load_hparams(args.hparams))
    known = settings()
    explicit = {k: v for k, v in vars(args).items() if k in known and k != "model"}
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
    ``overrides`` (a recipe's own ``SMOKE`` data) are applied last. (:func:`recipe_from_args`
    then shortens a cosine warm-up longer than the run to half of it.)
    """
    from kerascv_course.models.catalog import model_info

    info = model_info(recipe.model)
    segmentation = info.task == "segmentation"
    changes: dict[str, Any] = dict(
        dataset=SMOKE_SEGMENTATION_DATASET if segmentation else SMOKE_CLASSIFICATION_DATASET,
        dataset_kwargs={}, data_dir=None, image_size=max(info.min_input_size, 32), epochs=1,
        batch_size=8, steps_per_epoch=2, eval_steps=1, validation_split="validation",
        test_split="test", pseudo_label={}, tensorboard=False, overwrite=True,
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
    if m.get("status", "ok") != "ok" and m.get("warning"):
        lines.append(f"Warning: {m['warning']}")
    return lines
