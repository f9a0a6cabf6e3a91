"""Best-hyperparameter files: the format ``kerascv-course tune`` writes and ``train --hparams`` reads.

``best_hparams.json`` is a flat JSON object whose keys are
:class:`~kerascv_course.training.Recipe` field names, plus nested ``"model_kwargs"`` (builder
arguments) and ``"augment_kwargs"`` (options of the augmentation policy) objects::

    {
      "learning_rate": 0.0123,
      "batch_size": 64,
      "optimizer": "sgd",
      "momentum": 0.9,
      "weight_decay": 0.0001,
      "augment": "cifar",
      "augment_kwargs": {"cutout_size": 8},
      "model": "resnet32",
      "model_kwargs": {"width": 32}
    }

``"model"`` appears only when the search picked the variant (the depth of a CIFAR ResNet, …).
Fields that say *where* or *on what* a run happens (``dataset``, ``output``, ``strategy``,
``seed``, …) are not hyperparameters and are refused. The trainer's reader
(:func:`kerascv_course.training.recipe.apply_hparams`) also takes builder arguments at the top
level and ignores ``_``-prefixed metadata keys; this package writes the nested form.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from kerascv_course.tuning.spaces import RUN_FIELDS


def check_hparams(hparams: Mapping[str, Any], recipe: Any = None) -> None:
    """Validate a best-hyperparameters dict before it is applied.

    Refuses the Recipe fields that say where or on what a run happens (``dataset``, ``output``,
    ``strategy``, ``seed``, …), nested values that are not dicts, and (given ``recipe``) a
    ``model`` of another family than ``recipe.model``'s.

    Raises:
        TypeError: when ``hparams`` (or a nested ``*_kwargs``) is not a dict.
        ValueError: for a refused key or a model of another family.
    """
    if not isinstance(hparams, Mapping):
        raise TypeError(
            f"`hparams` must be a dict of Recipe fields. Received: hparams of type "
            f"{type(hparams).__name__}"
        )
    refused = sorted((set(hparams) & RUN_FIELDS) - {"model"})
    if refused:
        raise ValueError(
            f"`hparams` may not set {', '.join(refused)}: they describe where and on what a run "
            f"happens, not how it trains. Received: {refused}"
        )
    for key in ("model_kwargs", "augment_kwargs", "schedule_kwargs", "optimizer_kwargs"):
        if key in hparams and not isinstance(hparams[key], Mapping):
            raise TypeError(f"`hparams[{key!r}]` must be a dict. Received: {key}={hparams[key]!r}")
    if recipe is not None and "model" in hparams and hparams["model"] != recipe.model:
        from kerascv_course.models import get_spec

        new, old = get_spec(hparams["model"]), get_spec(recipe.model)
        if new.family != old.family:
            raise ValueError(
                f"`hparams['model']` must be a variant of {recipe.model}'s family ({old.family}); "
                f"these hyperparameters were tuned for another model. Received: "
                f"model={hparams['model']!r}"
            )


def apply_hparams(recipe: Any, hparams: Mapping[str, Any]) -> Any:
    """A copy of ``recipe`` with the hyperparameters of ``hparams`` applied.

    The trainer's own :func:`kerascv_course.training.recipe.apply_hparams` does the work (Recipe
    fields replaced, builder arguments merged into ``model_kwargs``, ``_``-keys ignored), after
    :func:`check_hparams`. Policy options in ``augment_kwargs`` are merged into the recipe's own
    while the policy stays the same, and dropped when the policy changes.

    Args:
        recipe: a :class:`~kerascv_course.training.Recipe`.
        hparams: a dict in the ``best_hparams.json`` format (see the module docstring).

    Returns:
        The new recipe (``recipe`` itself is unchanged).

    Raises:
        ValueError: for a refused or unknown key, or a ``model`` of another family.

    Example:
        >>> best = load_hparams("search/best_hparams.json")
        >>> train(apply_hparams(Recipe(model="mobilenet", dataset="shapes"), best))
    """
    from kerascv_course.training.recipe import apply_hparams as apply_to_recipe

    check_hparams(hparams, recipe)
    changes = dict(hparams)
    if changes.get("augment", recipe.augment) == recipe.augment:
        if "augment_kwargs" in changes:
            changes["augment_kwargs"] = {**recipe.augment_kwargs, **changes["augment_kwargs"]}
    elif "augment_kwargs" not in changes:
        changes["augment_kwargs"] = {}
    for key in ("batch_size", "epochs", "image_size"):
        value = changes.get(key)
        if isinstance(value, float) and value.is_integer():
            changes[key] = int(value)
    return apply_to_recipe(recipe, changes)


def load_hparams(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a ``best_hparams.json`` file.

    Raises:
        FileNotFoundError: when the file does not exist.
        ValueError: when it is not JSON or has keys that are not tunable Recipe fields.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Hyperparameter file not found. Received: hparams={path!r}")
    with open(path, encoding="utf-8") as fh:
        try:
            data = json.load(fh)
        except json.JSONDecodeError as err:
            raise ValueError(f"`hparams` is not valid JSON ({err}). Received: hparams={path!r}") from err
    try:
        check_hparams(data)
    except TypeError as err:
        raise ValueError(f"{err} (file {path!r})") from err
    return data
