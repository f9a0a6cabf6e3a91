"""What a recipe will do, without training: ``--explain`` (text) and ``--explain --json``.

:func:`explain` resolves a :class:`~kerascv_course.training.recipe.Recipe` through the same run kit
the trainer uses — :func:`~kerascv_course.data.facts.dataset_facts` for the splits and their sizes,
:func:`~kerascv_course.training.model.build_model` for the model (auxiliary heads included),
:func:`~kerascv_course.training.optimizer.make_optimizer` for the optimizer and its schedule,
:func:`~kerascv_course.training.optimizer.decayed_variables` for weight decay — and reports:

- the model, its builder arguments and parameter count (and without auxiliary heads);
- the dataset, its splits with their sizes and sources, the input size;
- the augmentation policy with all its options;
- the optimizer and its arguments, the learning rate at the start of every epoch and at the last
  step (a ``plateau`` schedule depends on validation: its rule is given instead);
- the variables that get weight decay and those that do not (counts, name patterns, paths);
- regularisation: dropout layers, label smoothing, auxiliary losses, weight averaging;
- the published result and its source.

Nothing is trained and no data are read. ``build=False`` leaves the model out (no TensorFlow
model is built; parameter counts and the decayed set are then ``None``).
"""

from __future__ import annotations

import json
import re
import types
from collections import Counter
from typing import Any

from kerascv_course.training.checks import check_recipe, weight_decay_mode
from kerascv_course.training.recipe import Recipe

#: Above this many distinct learning-rate runs, the text shows a few epochs instead of every run.
MAX_RUNS_SHOWN = 12


def _pattern(path: str) -> str:
    """A variable path with its numbers as ``*`` (``conv_dw_3/kernel`` -> ``conv_dw_*/kernel``)."""
    return re.sub(r"\d+", "*", path)


def _variables(paths: list[str]) -> dict[str, Any]:
    return {
        "count": len(paths),
        "by_name": dict(sorted(Counter(p.rsplit("/", 1)[-1] for p in paths).items())),
        "patterns": dict(sorted(Counter(_pattern(p) for p in paths).items())),
        "paths": paths,
    }


def _input_shape(recipe: Recipe, facts: Any, default: tuple[int, int, int]) -> tuple[int, int, int]:
    shape = facts.image_shape or (None, None, None)
    h, w, c = shape
    if recipe.image_size is not None:
        h = w = recipe.image_size
    return (h or default[0], w or default[1], c or default[2])


def _dataset(recipe: Recipe, facts: Any) -> dict[str, Any]:
    splits = {
        name: {"size": facts.split_sizes.get(name), "source": facts.split_sources.get(name)}
        for name in facts.splits
    }
    return {
        "name": recipe.dataset, "source": facts.source, "classes": facts.num_classes,
        "options": facts.options, "splits": splits, "published_sizes": facts.published_sizes,
        "train_split": "train", "validation_split": recipe.validation_split, "test_split": recipe.test_split,
        "notes": list(facts.notes),
    }


def _schedule(recipe: Recipe, steps: int | None) -> dict[str, Any]:
    from kerascv_course.training.optimizer import learning_rate, learning_rate_schedule
    from kerascv_course.training.schedules import learning_rate_at, schedule_options

    options = schedule_options(recipe.schedule, recipe.schedule_kwargs)
    out: dict[str, Any] = {
        "name": recipe.schedule, "options": options, "epochs": recipe.epochs,
        "steps_per_epoch": steps, "total_steps": None if steps is None else steps * recipe.epochs,
        "base_learning_rate": recipe.learning_rate, "learning_rate": learning_rate(recipe),
        "lr_scaling": recipe.lr_scaling, "base_batch_size": recipe.base_batch_size,
        "lr_at_epoch": None, "lr_last_step": None, "rule": None,
    }
    if recipe.schedule == "plateau":
        out["rule"] = (
            f"start at {learning_rate(recipe):g}; multiply by {options['factor']:g} when "
            f"{options['monitor']} has not improved for {options['patience']} epochs"
            + (f", at most {options['max_reductions']} times" if options["max_reductions"] else "")
            + " (depends on validation: not known before training)"
        )
        return out
    if steps is None and recipe.schedule != "constant":
        out["rule"] = "the training split's size is known only once loaded: the epoch boundaries are not placed"
        return out
    schedule = learning_rate_schedule(recipe, steps or 1)
    per_epoch = steps or 1
    points = [e * per_epoch for e in range(recipe.epochs)] + [recipe.epochs * per_epoch - 1]
    values = [float(v) for v in learning_rate_at(schedule, points)]
    out["lr_at_epoch"], out["lr_last_step"] = values[:-1], values[-1]
    return out


def _optimizer(optimizer: Any, recipe: Recipe) -> dict[str, Any]:
    config = optimizer.get_config()
    keep = {k: v for k, v in config.items() if k not in ("name", "learning_rate") and v is not None}
    return {"name": recipe.optimizer, "class": type(optimizer).__name__,
            "arguments": json.loads(json.dumps(keep, default=str))}


def explain(recipe: Recipe, *, build: bool = True) -> dict[str, Any]:
    """The resolved run of ``recipe``, as a JSON-serialisable dict (see the module docstring).

    Args:
        recipe: the run's settings (checked first, as the trainer checks them).
        build: build the model (parameter counts, dropout layers, the decayed-variable set).

    Raises:
        ValueError: for a recipe the trainer would refuse (same messages).
    """
    from kerascv_course.data.catalog import check_policy, dataset_task
    from kerascv_course.data.facts import dataset_facts
    from kerascv_course.models.catalog import model_info

    check_recipe(recipe)
    info = model_info(recipe.model)
    facts = dataset_facts(recipe.dataset, image_size=recipe.image_size, **recipe.dataset_kwargs)
    task = dataset_task(recipe.dataset)
    shape = _input_shape(recipe, facts, tuple(info.default_input_shape))
    train_size = facts.split_sizes.get("train")
    from kerascv_course.training.optimizer import batches_per_epoch, make_optimizer

    steps = batches_per_epoch(train_size, recipe) if train_size else recipe.steps_per_epoch
    optimizer = make_optimizer(recipe, steps_per_epoch=steps or 1)
    report: dict[str, Any] = {
        "recipe": {"model": recipe.model, "dataset": recipe.dataset, "epochs": recipe.epochs,
                   "batch_size": recipe.batch_size, "seed": recipe.seed},
        "model": {
            "name": recipe.model, "family": info.family, "paper": info.paper,
            "arguments": {**info.builder_args, **recipe.model_kwargs, "input_shape": list(shape),
                          "classes": facts.num_classes},
            "params": None, "trainable_params": None, "inference_params": None,
        },
        "dataset": _dataset(recipe, facts),
        "input": {"shape": list(shape), "resize_mode": recipe.resize_mode},
        "augmentation": {"policy": recipe.augment, "options": check_policy(recipe.augment, task, recipe.augment_kwargs)},
        "optimizer": _optimizer(optimizer, recipe),
        "schedule": _schedule(recipe, steps),
        "weight_decay": {
            "coefficient": recipe.weight_decay, "mode": weight_decay_mode(recipe),
            "exclude": list(recipe.weight_decay_exclude), "decayed": None, "not_decayed": None,
        },
        "regularisation": {
            "dropout": None, "label_smoothing": recipe.label_smoothing,
            "aux_loss_weights": list(recipe.aux_loss_weights),
            "ema": {"use_ema": recipe.use_ema,
                    "ema_momentum": optimizer.ema_momentum if recipe.use_ema else None},
            "clipnorm": recipe.clipnorm, "clipvalue": recipe.clipvalue,
        },
        "published": dict(recipe.published), "paper": recipe.paper, "notes": recipe.notes,
    }
    if build:
        _model_facts(report, recipe, facts, task, shape)
    return report


def _model_facts(report: dict[str, Any], recipe: Recipe, facts: Any, task: str, shape: tuple[int, int, int]) -> None:
    import keras

    from kerascv_course.training.model import build_model, inference_model
    from kerascv_course.training.optimizer import decayed_variables, variable_path

    info = types.SimpleNamespace(  # what build_model reads; explain reads no data, so no statistics
        name=recipe.dataset, task=task, image_shape=shape, num_classes=facts.num_classes,
        class_names=getattr(facts, "class_names", None), mean=None, std=None,
    )
    model = build_model(recipe, info)
    trainable = [variable_path(v) for v in model.trainable_variables]
    decayed = [variable_path(v) for v in decayed_variables(model, recipe)] if recipe.weight_decay else []
    kept = set(decayed)
    report["model"].update(
        params=int(model.count_params()),
        trainable_params=int(sum(int(v.numpy().size) for v in model.trainable_variables)),
        inference_params=int(inference_model(model).count_params()),
    )
    report["weight_decay"].update(decayed=_variables(decayed),
                                  not_decayed=_variables([p for p in trainable if p not in kept]))
    report["regularisation"]["dropout"] = [
        {"layer": layer.name, "rate": float(layer.rate)}
        for layer in _layers(model) if isinstance(layer, keras.layers.Dropout)
    ]
    keras.backend.clear_session()


def _layers(model: Any) -> list[Any]:
    """Every layer of ``model``, nested models' layers included."""
    out = []
    for layer in getattr(model, "layers", []):
        out += [layer, *_layers(layer)]
    return out


def _lr_runs(values: list[float]) -> list[tuple[int, int, float]]:
    runs: list[tuple[int, int, float]] = []
    for epoch, value in enumerate(values):
        if runs and abs(runs[-1][2] - value) <= 1e-12 * max(1.0, abs(value)):
            runs[-1] = (runs[-1][0], epoch, value)
        else:
            runs.append((epoch, epoch, value))
    return runs


def format_explanation(report: dict[str, Any]) -> str:
    """The report of :func:`explain` as text for a student."""
    m, d, s, o, wd, reg = (report[k] for k in ("model", "dataset", "schedule", "optimizer", "weight_decay",
                                                "regularisation"))
    r = report["recipe"]
    lines = [f"Run: {r['model']} on {r['dataset']}, {r['epochs']} epochs, batch {r['batch_size']}, seed {r['seed']}"]
    params = "" if m["params"] is None else f", {m['params']:,} parameters"
    if m["params"] is not None and m["inference_params"] != m["params"]:
        params += f" ({m['inference_params']:,} without the auxiliary heads, as saved)"
    args = ", ".join(f"{k}={v!r}" for k, v in m["arguments"].items() if k not in ("weights", "name"))
    lines += [f"Model: {m['name']} ({m['paper']}){params}", f"  arguments: {args}"]
    lines.append(f"Dataset: {d['name']} — {d['source']}; {d['classes']} classes; options {d['options']}")
    for name, split in d["splits"].items():
        size = "?" if split["size"] is None else f"{split['size']:,}"
        role = {"train": " (trained on)", d["validation_split"]: " (validated on)",
                d["test_split"]: " (tested on)"}.get(name, "")
        lines.append(f"  {name}{role}: {size} images — {split['source']}")
    lines.append(f"Input: {tuple(report['input']['shape'])}, resize_mode {report['input']['resize_mode']}")
    a = report["augmentation"]
    lines.append(f"Augmentation: {a['policy']}" + (f" {a['options']}" if a["options"] else ""))
    lines.append(f"Optimizer: {o['class']} {o['arguments']}")
    scaled = "" if s["learning_rate"] == s["base_learning_rate"] else (
        f" ({s['base_learning_rate']:g} at batch {s['base_batch_size']}, {s['lr_scaling']} scaling)")
    lines.append(f"Learning rate: {s['learning_rate']:g}{scaled}; schedule {s['name']} {s['options']}; "
                 f"{s['steps_per_epoch']} steps per epoch")
    if s["rule"]:
        lines.append(f"  {s['rule']}")
    if s["lr_at_epoch"] is not None:
        runs = _lr_runs(s["lr_at_epoch"])
        if len(runs) <= MAX_RUNS_SHOWN:
            for first, last, value in runs:
                span = f"epoch {first}" if first == last else f"epochs {first}-{last}"
                lines.append(f"  {span}: {value:.6g}")
        else:
            n = len(s["lr_at_epoch"])
            for epoch in sorted({0, n // 4, n // 2, 3 * n // 4, n - 1}):
                lines.append(f"  epoch {epoch}: {s['lr_at_epoch'][epoch]:.6g}")
        lines.append(f"  last step: {s['lr_last_step']:.6g}")
    lines.append(f"Weight decay: {wd['coefficient']:g} ({wd['mode']})"
                 + (f", excluding {wd['exclude']}" if wd["exclude"] else ""))
    for key, title in (("decayed", "decayed"), ("not_decayed", "not decayed")):
        group = wd[key]
        if group is not None and not group["count"]:
            lines.append(f"  {title}: none")
        elif group is not None:
            shown = ", ".join(f"{p} ×{n}" for p, n in list(group["patterns"].items())[:8])
            more = f", … ({len(group['patterns'])} patterns)" if len(group["patterns"]) > 8 else ""
            lines.append(f"  {title}: {group['count']} variables {group['by_name']}: {shown}{more}")
    drop = reg["dropout"]
    lines.append(
        "Regularisation: dropout "
        + ("(model not built)" if drop is None else ", ".join(f"{x['layer']} {x['rate']:g}" for x in drop) or "none")
        + f"; label smoothing {reg['label_smoothing']:g}"
        + f"; auxiliary losses {reg['aux_loss_weights'] or 'none'}"
        + ("; Polyak averaging (EMA, momentum " + f"{reg['ema']['ema_momentum']:g})" if reg["ema"]["use_ema"]
           else "; no weight averaging")
    )
    if report["published"]:
        lines.append(f"Published: {report['published']}" + (f" — {report['paper']}" if report["paper"] else ""))
    elif report["paper"]:
        lines.append(f"Paper: {report['paper']}")
    if report["notes"]:
        lines.append(f"Notes: {report['notes']}")
    return "\n".join(lines)


def print_explanation(recipe: Recipe, *, as_json: bool = False) -> int:
    """Print the explanation of ``recipe`` (text, or JSON with ``as_json``); exit status 0."""
    report = explain(recipe)
    print(json.dumps(report, indent=2, sort_keys=False) if as_json else format_explanation(report))
    return 0
