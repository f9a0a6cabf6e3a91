"""Search spaces: the range syntax and its parser (the family tables are in :mod:`.tables`).

A search space is a plain dict ``{name: range}``. A *range* is a small dict:

- ``{"min": 1e-4, "max": 1e-1, "sampling": "log"}`` — a float (or int) interval; optional
  ``"step"`` and ``"sampling"`` (``"linear"``, ``"log"``, ``"reverse_log"``);
- ``{"values": [0.25, 0.5, 0.75]}`` — a choice (a list value such as ``[300, 100]`` is one choice);
- ``{"value": 0.9}`` — a fixed value;
- ``None`` (or ``{}``) — the family table's own range for that name.

Optional keys: ``"default"`` (the value of the first build), ``"when": {"optimizer": ["sgd"]}``
(only active while another hyperparameter takes one of those values; ``momentum`` and
``nesterov`` get theirs by default, :data:`IMPLIED_WHEN`) and, in a family table,
``"models": {20: "resnet20", 32: "resnet32"}`` for a hyperparameter that picks the registered
variant (depth of a CIFAR ResNet, VGG-11/13/16/19, DenseNet-121/169/201).

A name is one of four things, found in this order:

1. a *variant* hyperparameter of the family table (``"depth"``): it sets the recipe's ``model``;
2. ``"augment.<option>"``: an option of the augmentation policy, its *strength*
   (``augment.cutout_size``, ``augment.translate``, ``augment.scale``…), passed through
   ``recipe.augment_kwargs``; while ``augment`` itself is searched, it is only active for the
   policies that have that option;
3. a :class:`~kerascv_course.training.Recipe` field (``learning_rate``, ``batch_size``,
   ``optimizer``, ``momentum``, ``weight_decay``, ``label_smoothing``, ``augment``, ``image_size``…);
4. an argument of the model's builder (``alpha``, ``dropout``, ``growth_rate``, ``hidden_units``…),
   passed through ``recipe.model_kwargs``.

Anything else is an error that lists the names the family knows.

The family tables (:mod:`.tables`, keyed by the model registry's family) are the defaults of
``kerascv-course tune``. A table entry naming a builder argument that a variant of the family does
not take is left out for that variant.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Mapping
from typing import Any

from kerascv_course.tuning.ranges import (  # noqa: F401
    IMPLIED_WHEN,
    SAMPLINGS,
    HParam,
    choice_key,
    decode_choice,
    encode_choice,
    jsonable,
    parse_range,
    parse_when,
    type_of,
)
from kerascv_course.tuning.tables import DEFAULT_SPACE, SPACES, family_table  # noqa: F401

log = logging.getLogger(__name__)

# Builder arguments that size or wire the model to the data: set by the trainer, never tuned.
NOT_TUNABLE_ARGS = frozenset({
    "input_shape", "classes", "include_top", "weights", "pooling", "classifier_activation", "name",
})
#: Prefix of a name that searches an option of the augmentation policy (``"augment.cutout_size"``).
AUGMENT_PREFIX = "augment."

@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """A resolved search space: the hyperparameters of one model, in declaration order.

    Attributes:
        model: the registered model the space was resolved for.
        family_table: the :data:`SPACES` table it came from (``None``: the default table).
        params: the hyperparameters.
    """

    model: str
    family_table: str | None
    params: tuple[HParam, ...]

    @property
    def names(self) -> list[str]:
        """The hyperparameter names, in order."""
        return [p.name for p in self.params]

    def __getitem__(self, name: str) -> HParam:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def declare(self, hp: Any) -> dict[str, Any]:
        """Register every hyperparameter in ``hp``; the active values by name."""
        values: dict[str, Any] = {}
        for p in self.params:
            value = p.declare(hp)
            if value is not None:
                values[p.name] = value
        return values

    def to_hparams(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Hyperparameter values (by name) in the ``best_hparams.json`` format.

        A flat dict of :class:`Recipe` field names (``learning_rate``, ``batch_size``, ``model`` for
        a variant, …) plus a nested ``"model_kwargs"`` dict of builder arguments. Values of names
        that are not in the space (keras-tuner's ``tuner/epochs`` …) are left out.
        """
        out: dict[str, Any] = {}
        kwargs: dict[str, Any] = {}
        augment: dict[str, Any] = {}
        for p in self.params:
            if p.name not in values:
                continue
            value = values[p.name]
            if p.kind in ("choice", "fixed"):
                value = decode_choice(encode_choice(value), p.values or (p.default,))
            if p.target == "variant":
                out["model"] = dict(p.models)[value]
            elif p.target == "recipe":
                out[p.name] = value
            elif p.target == "augment":
                augment[p.name[len(AUGMENT_PREFIX):]] = value
            else:
                kwargs[p.name] = value
        if augment:
            out["augment_kwargs"] = augment
        if kwargs:
            out["model_kwargs"] = kwargs
        return out

    def to_config(self) -> list[dict[str, Any]]:
        """A JSON-serialisable description of every hyperparameter."""
        return [p.to_config() for p in self.params]


# ---------------------------------------------------------------------------------------------
# Reading tables and user spaces.
# ---------------------------------------------------------------------------------------------


def load_space(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a search-space file: JSON always, YAML (``.yaml``/``.yml``) where PyYAML is installed.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: when the file is not a mapping of names to ranges, or is YAML without PyYAML.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Search-space file not found. Received: space={path!r}")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if path.endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError as err:
            raise ValueError(
                "Reading a YAML search space needs PyYAML (`pip install pyyaml`); or write the "
                f"same ranges as JSON. Received: space={path!r}"
            ) from err
        data = yaml.safe_load(text)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"`space` is not valid JSON ({err}). Received: space={path!r}") from err
    if not isinstance(data, dict):
        raise ValueError(
            "`space` must be a mapping of hyperparameter names to ranges, e.g. "
            '{"learning_rate": {"min": 1e-4, "max": 1e-1, "sampling": "log"}}. '
            f"Received: space={path!r} holding a {type(data).__name__}"
        )
    return data


def recipe_field_types() -> dict[str, type]:
    """The scalar type of each tunable :class:`Recipe` field (the schema's ``tunable`` fields)."""
    from kerascv_course.training.recipe import field_types, tunable_fields

    types = field_types()
    return {name: types[name] for name in tunable_fields() if types[name] in (int, float, str, bool)}


def builder_args(model: str) -> dict[str, Any]:
    """The tunable keyword arguments of ``model``'s builder, with their default values."""
    from kerascv_course.models.catalog import NOT_RECORDED, model_info

    return {
        name: None if default is NOT_RECORDED else default
        for name, default in model_info(model).builder_args.items()
        if name not in NOT_TUNABLE_ARGS
    }


def resolve_space(
    recipe: Any,
    space: Mapping[str, Any] | str | os.PathLike[str] | None = None,
) -> SearchSpace:
    """The search space of ``recipe.model``: the family table, or a user's ranges checked against it.

    Args:
        recipe: the base :class:`~kerascv_course.training.Recipe` (its values are the defaults
            and the fixed values of everything not searched).
        space: ``None`` for the family table, else a dict of ranges or a JSON/YAML file of them.

    Returns:
        The :class:`SearchSpace`.

    Raises:
        ValueError: for a name the family does not know, a malformed, empty or inverted range, a
            variant value with no model, or a ``when`` condition that can never hold.

    Example:
        >>> resolve_space(Recipe(model="mobilenet", dataset="shapes"),
        ...               {"alpha": {"values": [0.25, 0.5]}, "learning_rate": None}).names
        ['alpha', 'learning_rate']
    """
    table_name, table = family_table(recipe.model)
    user = space is not None
    if user and not isinstance(space, Mapping):
        space = load_space(space)
    entries = dict(space) if user else dict(table)
    if user and not entries:
        raise ValueError(
            "`space` is empty: give at least one hyperparameter range, e.g. "
            '{"learning_rate": {"min": 1e-4, "max": 1e-1, "sampling": "log"}}. Received: space={}'
        )
    recipe_types = recipe_field_types()
    args = builder_args(recipe.model)
    task = dataset_task_or_none(recipe.dataset)
    params: list[HParam] = []
    options: list[tuple[str, Any]] = []
    for name, rng in entries.items():
        if not isinstance(name, str):
            raise ValueError(f"`space` keys must be hyperparameter names. Received: {name!r}")
        if rng is None or (isinstance(rng, Mapping) and not rng):
            if name not in table:
                raise _unknown(name, recipe.model, table_name, table, recipe_types, args,
                               note=" (a name without a range takes the family table's range)")
            rng = table[name]
        if not isinstance(rng, Mapping):
            raise ValueError(
                f"`space[{name!r}]` must be a range dict ({{'min', 'max'}}, {{'values'}} or "
                f"{{'value'}}) or null. Received: {name}={rng!r}"
            )
        models = rng.get("models")
        if models is None and name in table and "models" in table[name]:
            models = table[name]["models"]
        if name.startswith(AUGMENT_PREFIX):
            options.append((name, rng))  # after `augment`, whose choices they depend on
            continue
        if models is not None:
            param = _variant(name, rng, models, recipe, user)
        elif name == "augment":
            param = _augment_policy(rng, recipe, task, user)
        elif name in recipe_types:
            current = getattr(recipe, name)
            param = parse_range(name, rng, "recipe", recipe_types[name], current)
        elif name in args:
            current = recipe.model_kwargs.get(name, args[name])
            param = parse_range(name, rng, "model", type_of(current), current)
        elif not user and name in table:
            log.debug("%s: the family table's %r is not an argument of this builder; left out",
                      recipe.model, name)
            continue
        else:
            raise _unknown(name, recipe.model, table_name, table, recipe_types, args)
        if param is not None:
            params.append(param)
    searched = next((p for p in params if p.name == "augment"), None)
    policies = list(searched.values) if searched is not None and searched.values else [recipe.augment]
    for name, rng in options:
        param = _augment_option(name, rng, policies, searched is not None, recipe, task, user)
        if param is not None:
            params.append(param)
    params = _apply_conditions(params, recipe, user)
    return SearchSpace(model=recipe.model, family_table=table_name, params=tuple(params))


def dataset_task_or_none(dataset: str) -> str | None:
    """The dataset's task, or ``None`` when the name is not a known dataset."""
    from kerascv_course.data.catalog import dataset_task

    try:
        return dataset_task(dataset)
    except ValueError:
        return None


def policy_names(task: str | None) -> list[str]:
    """The augmentation policies of ``task`` (segmentation policies move the mask too)."""
    from kerascv_course.data.catalog import list_policies

    return list_policies(task or "classification")


def policy_options(policy: str, task: str | None) -> dict[str, Any]:
    """The options (strength knobs) of an augmentation policy, with their default values."""
    from kerascv_course.data.catalog import policy_entry

    try:
        return policy_entry(policy, task or "classification").defaults()
    except ValueError:  # not a policy of this task: it has no options to search
        return {}


def _augment_policy(rng: Mapping[str, Any], recipe: Any, task: str | None, user: bool) -> HParam | None:
    known = policy_names(task)
    rng = dict(rng)
    if "values" in rng and isinstance(rng["values"], (list, tuple)):
        bad = [v for v in rng["values"] if v not in known]
        if bad and user:
            raise ValueError(
                f"`space['augment']`: unknown augmentation polic{'y' if len(bad) == 1 else 'ies'} "
                f"{bad}; valid policies: {', '.join(known)}. Received: augment={list(rng['values'])!r}"
            )
        rng["values"] = [v for v in rng["values"] if v in known]
        if len(rng["values"]) < 2 and not user:
            return None
    return parse_range("augment", rng, "recipe", str, recipe.augment)


def _augment_option(name: str, rng: Any, policies: list[str], searched: bool, recipe: Any,
                    task: str | None, user: bool) -> HParam | None:
    option = name[len(AUGMENT_PREFIX):]
    having = [p for p in policies if option in policy_options(p, task)]
    if not having:
        if not user:
            return None
        offered = sorted({o for p in policies for o in policy_options(p, task)})
        raise ValueError(
            f"`space[{name!r}]`: no augmentation policy searched ({', '.join(policies)}) has the "
            f"option {option!r}; their options: {', '.join(offered) or 'none'}. Received: {name!r}"
        )
    default = policy_options(having[0], task)[option]
    current = recipe.augment_kwargs.get(option, default) if recipe.augment in having else default
    if isinstance(current, (tuple, list)) and not ("values" in rng or "value" in rng):
        raise ValueError(
            f"`space[{name!r}]` takes pairs like {list(current)}: give its choices as 'values'. "
            f"Received: {name}={dict(rng)!r}"
        )
    param = parse_range(name, rng, "augment", type_of(current), current)
    if searched and param.when is None:
        param = dataclasses.replace(param, when=("augment", tuple(having)))
    return param


def _unknown(name: str, model: str, table_name: str | None, table: Mapping[str, Any],
             recipe_types: Mapping[str, type], args: Mapping[str, Any], note: str = "") -> ValueError:
    known = sorted(set(table) | set(recipe_types) | set(args))
    return ValueError(
        f"`space`: unknown hyperparameter {name!r} for {model} (family table "
        f"{table_name or 'default'}){note}. Known names: {', '.join(known)}. Received: {name!r}"
    )


def _variant(name: str, rng: Mapping[str, Any], models: Any, recipe: Any, user: bool) -> HParam | None:
    from kerascv_course.models import list_models

    registered = set(list_models())
    mapping = {choice_key(k): v for k, v in dict(models).items()}
    rng = {k: v for k, v in rng.items() if k != "models"}
    values = rng.get("values")
    if values is None:
        raise ValueError(
            f"`space[{name!r}]` picks the model variant: give its choices as 'values' (of "
            f"{', '.join(map(str, mapping))}). Received: {name}={dict(rng)!r}"
        )
    if user:
        bad = [v for v in values if choice_key(v) not in mapping or mapping[choice_key(v)] not in registered]
        if bad:
            raise ValueError(
                f"`space[{name!r}]`: no registered model for {bad}; choose among "
                f"{', '.join(str(k) for k, m in mapping.items() if m in registered)}. "
                f"Received: {name}={list(values)!r}"
            )
    values = [v for v in values if mapping.get(choice_key(v)) in registered]
    if len(values) < 2:
        return None
    current = next((v for v in values if mapping[choice_key(v)] == recipe.model), None)
    parsed = parse_range(name, {**rng, "values": values}, "variant", None, current)
    return dataclasses.replace(parsed, models=tuple((v, mapping[choice_key(v)]) for v in parsed.values))


def _apply_conditions(params: list[HParam], recipe: Any, user: bool) -> list[HParam]:
    """Resolve each ``when``: keep it where the parent is searched, else test the recipe's value.

    A conditioned hyperparameter is moved after its parent (keras-tuner declares parents first).
    """
    names = {p.name for p in params}
    out: list[HParam] = []
    for p in params:
        if p.when is None or p.when[0] in names:
            out.append(p)
            continue
        if p.when[0] == p.name:
            raise ValueError(f"`space[{p.name!r}]['when']` names itself. Received: when={p.when!r}")
        parent, allowed = p.when
        current = getattr(recipe, parent, recipe.model_kwargs.get(parent))
        if current in allowed:
            out.append(dataclasses.replace(p, when=None))
        elif user:
            raise ValueError(
                f"`space[{p.name!r}]` only acts when {parent} is one of {list(allowed)}, but "
                f"{parent} is fixed at {current!r} and not searched. Search {parent} too, or drop "
                f"{p.name}. Received: {parent}={current!r}"
            )
    ordered: list[HParam] = []
    pending = list(out)
    while pending:
        placed = {q.name for q in ordered}
        ready = [q for q in pending if q.when is None or q.when[0] in placed]
        if not ready:
            raise ValueError(
                f"`space`: the 'when' conditions of {[q.name for q in pending]} form a cycle. "
                f"Received: {[(q.name, q.when) for q in pending]}"
            )
        ordered.append(ready[0])
        pending.remove(ready[0])
    return ordered
