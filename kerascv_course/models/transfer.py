"""Transfer learning: a model's backbone from a weight source, its head new (or the source's).

One path for every builder (:func:`~kerascv_course.models.common.finish_model` calls
:func:`load_source`). A SOURCE is one of

- ``"imagenet"``: keras.applications' published weights for the architecture (its own download
  path and cache, ``~/.keras/models``);
- a keras.applications legacy ``.h5`` file, full or ``notop`` (layers matched by name, or by
  order where the names differ, as keras.applications loads them);
- a Keras 3 ``.weights.h5`` file saved from the same architecture (layers matched by their place
  in the file, the only name that format keeps);
- a ``.keras`` model file or a run folder of this package (its ``model.keras``), layers matched by
  name.

**Backbone and head.** The backbone of a classification model is what its builder gives with
``include_top=False`` (layers of the same names); the head is the rest: global pooling, flatten,
the hidden fully-connected layers of the classic networks (LeNet, AlexNet, VGG), MobileNet's and
SqueezeNet's convolutional classifiers, the classifier. A model built with ``include_top=False``,
or a segmentation model, is all backbone. Every backbone layer with weights must be in the source
with the same shapes (the error names the first that is not) and receives exactly the source's
values; a source layer that the model lacks in one of its blocks (another depth) is refused too. The head takes the source's values only when every head layer is in the source with the same
shapes (the same classes: keras.applications' behaviour with ``classes=1000``); otherwise it keeps
the builder's own initialisation.

**Blocks.** The blocks of a backbone (what ``--unfreeze K`` counts from the top) are named by
their layers' name up to its first number: ``conv5`` in ResNet-50 (its stages), ``conv_dw_13`` in
MobileNet, ``block5`` in VGG, ``conv4`` in DenseNet (:func:`block_names`).
"""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

import keras
import numpy as np

RUN_MODEL = "model.keras"  # kerascv_course.training.run_folder.RunFolder.MODEL (models may not import training)


# ----------------------------------------------------------------------------- backbone and head


#: While a public builder with ``include_top=True`` loads ``weights``: a function building the same
#: model with ``include_top=False`` (set by :func:`~kerascv_course.models.common.common_args`).
HEADLESS: contextvars.ContextVar[Callable[[], keras.Model] | None] = contextvars.ContextVar(
    "headless", default=None)


def headless_call(fn: Callable[..., keras.Model], arguments: dict[str, Any]) -> Callable[[], keras.Model]:
    """``fn`` called with ``arguments`` but ``include_top=False, pooling=None`` and no weights."""

    def build() -> keras.Model:
        token = HEADLESS.set(None)
        try:
            return fn(**{**arguments, "include_top": False, "pooling": None, "weights": None})
        finally:
            HEADLESS.reset(token)

    return build


def split_backbone(net: keras.Model, headless: keras.Model | None = None) -> tuple[list[Any], list[Any]]:
    """``(backbone layers, head layers)`` of ``net`` in its layer order.

    The backbone is the layers of ``headless`` (the builder's ``include_top=False`` model, whose
    layer names the full model shares); without it, the whole model (a feature extractor or a
    segmentation model).
    """
    if headless is None:
        return list(net.layers), []
    names = {layer.name for layer in headless.layers}
    backbone = [layer for layer in net.layers if layer.name in names]
    return backbone, [layer for layer in net.layers if layer.name not in names]


def block_key(name: str) -> str:
    """The block a layer belongs to: its name up to and including its first token with a digit."""
    tokens = name.split("_")
    for i, token in enumerate(tokens):
        if re.search(r"\d", token):
            return "_".join(tokens[: i + 1])
    return name


def block_names(backbone: Iterable[Any]) -> list[str]:
    """The blocks with weights of the ``backbone`` layers, first to last (see :func:`block_key`)."""
    out: list[str] = []
    for layer in backbone:
        if layer.weights and block_key(layer.name) not in out:
            out.append(block_key(layer.name))
    return out


# ----------------------------------------------------------------------------- reading a source


def _h5py() -> Any:
    import h5py  # keras' own dependency for .h5 files

    return h5py


def _text(value: Any) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def read_legacy_h5(path: str) -> dict[str, list[np.ndarray]]:
    """``{layer name: [arrays]}`` of a legacy ``.h5`` file (keras.applications' weight files, or a
    whole model saved by ``model.save("x.h5")``)."""
    with _h5py().File(path, "r") as f:
        group = f["model_weights"] if "model_weights" in f else f
        if "layer_names" not in group.attrs:
            raise ValueError(f"{path!r} is not a legacy Keras .h5 weight file (no layer_names)")
        out = {}
        for name in (_text(n) for n in group.attrs["layer_names"]):
            names = [_text(w) for w in group[name].attrs.get("weight_names", [])]
            out[name] = [np.asarray(group[name][w]) for w in names]
        return out


def _snake(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def weights_h5_keys(layers: Iterable[Any]) -> dict[str, str]:
    """``{layer name: its key in a .weights.h5 file}``: Keras 3 names each layer of a functional
    model by its class in snake case, numbered in layer order (``conv2d``, ``conv2d_1``, …)."""
    used: dict[str, int] = {}
    out = {}
    for layer in layers:
        key = _snake(type(layer).__name__)
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        out[layer.name] = key
    return out


def read_weights_h5(path: str, net: keras.Model) -> dict[str, list[np.ndarray]]:
    """``{layer name of net: [arrays]}`` of a Keras 3 ``.weights.h5`` file, matched by place."""
    keys = weights_h5_keys(net.layers)
    with _h5py().File(path, "r") as f:
        if "layers" not in f:
            raise ValueError(f"{path!r} is not a Keras 3 .weights.h5 file of a functional model")
        group = f["layers"]
        stored = {}
        for key in group:
            vars_ = group[key].get("vars")
            values = [np.asarray(vars_[str(i)]) for i in range(len(vars_))] if vars_ is not None else []
            stored[key] = values
    by_name = {name: stored.pop(key) for name, key in keys.items() if key in stored}
    by_name.update({f"<{key} in the file>": values for key, values in stored.items()})
    return by_name


def read_model(path: str) -> dict[str, list[np.ndarray]]:
    """``{layer name: [arrays]}`` of a ``.keras`` model file (loaded with ``safe_mode=True``)."""
    source = keras.saving.load_model(path, compile=False, safe_mode=True)
    return {layer.name: [np.asarray(v) for v in layer.get_weights()] for layer in source.layers}


def read_imagenet(net: keras.Model, model: str, *, include_top: bool,
                  app_kwargs: dict[str, Any] | None) -> dict[str, list[np.ndarray]]:
    """keras.applications' ImageNet weights for ``model`` (through its cache) by layer name.

    Raises:
        RuntimeError: when they cannot be fetched (offline), saying what to do.
    """
    from kerascv_course.models.registry import get_spec

    spec = get_spec(model)
    ctor = getattr(keras.applications, spec.keras_app)
    shape = tuple(net.input_shape[1:])
    try:
        reference = ctor(weights="imagenet", include_top=include_top,
                         input_shape=shape if None not in shape else None, **(app_kwargs or {}))
    except Exception as err:  # keras.utils.get_file raises a bare Exception when offline
        raise RuntimeError(
            f"{model}: could not fetch keras.applications' ImageNet weights for {spec.keras_app} "
            f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); offline, run "
            f"keras.applications.{spec.keras_app}(weights='imagenet'"
            f"{', include_top=False' if not include_top else ''}) on a machine with network access "
            f"and copy ~/.keras/models/ here, or pass that .h5 file's path as weights."
        ) from err
    return {layer.name: [np.asarray(v) for v in layer.get_weights()] for layer in reference.layers}


def describe_source(source: str) -> str:
    return "keras.applications' ImageNet weights" if source == "imagenet" else repr(source)


def read_source(source: str, net: keras.Model, model: str, *, argument: str = "weights",
                imagenet_top: bool = False,
                app_kwargs: dict[str, Any] | None = None) -> dict[str, list[np.ndarray]]:
    """The weights of ``source`` as ``{layer name: [arrays]}`` (see the module's text).

    Raises:
        FileNotFoundError: for a path that does not exist or a folder without ``model.keras``.
        ValueError: for a file of another kind.
    """
    if source == "imagenet":
        return read_imagenet(net, model, include_top=imagenet_top, app_kwargs=app_kwargs)
    path = os.fspath(source)
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, RUN_MODEL)):
            raise FileNotFoundError(
                f"{model}: the folder {path!r} has no {RUN_MODEL}; `{argument}` takes a finished "
                f"run folder of this package. Received: {argument}={path!r}"
            )
        return read_model(os.path.join(path, RUN_MODEL))
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{model}: no weight file or run folder at {path!r}. Received: {argument}={path!r}")
    try:
        if path.endswith(".keras"):
            return read_model(path)
        if path.endswith(".weights.h5"):
            return read_weights_h5(path, net)
        if path.endswith(".h5"):
            return read_legacy_h5(path)
    except (OSError, KeyError) as err:
        raise ValueError(f"{model}: cannot read {path!r} ({err}). Received: {argument}={path!r}") from err
    raise ValueError(
        f"{model}: `{argument}` must be \"imagenet\", a .h5, .weights.h5 or .keras file or a run "
        f"folder. Received: {argument}={path!r}"
    )


# ----------------------------------------------------------------------------- loading


def _shapes(values: Iterable[Any]) -> list[tuple[int, ...]]:
    return [tuple(v.shape) for v in values]


def _fits(layer: Any, values: list[np.ndarray] | None) -> bool:
    return values is not None and _shapes(layer.weights) == _shapes(values)


def match_by_order(net: keras.Model, weights: dict[str, list[np.ndarray]]) -> dict[str, list[np.ndarray]]:
    """The source's layers with weights given, in order, to ``net``'s layers with weights
    (keras.applications' own rule for its legacy files, for twins whose layer names differ)."""
    ours = [layer for layer in net.layers if layer.weights]
    theirs = [values for values in weights.values() if values]
    return {layer.name: values for layer, values in zip(ours, theirs)}


def transfer_weights(net: keras.Model, weights: dict[str, list[np.ndarray]], *, model: str,
                     source: str, argument: str = "weights",
                     headless: keras.Model | None = None, ordered: bool = False) -> dict[str, Any]:
    """Give ``net``'s backbone the source's weights (and its head, when the head fits).

    Layers are matched by name; with ``ordered`` (keras.applications' files and ImageNet
    weights) a source whose names differ from the model's is matched by layer order instead,
    as keras.applications loads its own files — the shapes are still checked layer by layer.

    Returns:
        ``{"backbone_layers": n, "head": "source" | "new" | "none"}``.

    Raises:
        ValueError: naming the first backbone layer that is not in the source or whose shapes
            differ, or a layer of the source's backbone that this model lacks (another depth or
            architecture).
    """
    where = describe_source(source)
    backbone, head = split_backbone(net, headless)
    by_order = ordered and any(layer.weights and layer.name not in weights for layer in backbone)
    if by_order:
        count = sum(1 for values in weights.values() if values)
        needed = sum(1 for layer in backbone if layer.weights)
        first = next(layer.name for layer in backbone if layer.weights and layer.name not in weights)
        if count < needed:
            raise ValueError(
                f"{model}: the backbone layer {first!r} is not in {where}, which has {count} layers "
                f"with weights where this backbone has {needed} (another depth or architecture?). "
                f"Received: {argument}={source!r}"
            )
        weights = match_by_order(net, weights)
    loaded = 0
    for layer in backbone:
        if not layer.weights:
            continue
        values = weights.get(layer.name)
        if values is None:
            raise ValueError(
                f"{model}: the backbone layer {layer.name!r} is not in {where}; the source must be "
                f"the same architecture and configuration. Received: {argument}={source!r}"
            )
        if not _fits(layer, values):
            raise ValueError(
                f"{model}: the backbone layer {layer.name!r} has weights of shapes "
                f"{_shapes(layer.weights)} but {where} has {_shapes(values)} (another width, "
                f"input channels or configuration?). Received: {argument}={source!r}"
            )
        loaded += 1
    # A source layer the model lacks, in one of the backbone's blocks, means another depth
    # (ResNet-101 into ResNet-50); layers outside them (the source's classifier) are skipped.
    names = {layer.name for layer in net.layers}
    blocks = set(block_names(backbone))
    extra = [name for name, values in weights.items()
             if values and name not in names and block_key(name) in blocks and not by_order]
    if extra:
        raise ValueError(
            f"{model}: {where} has layer {extra[0]!r} in block {block_key(extra[0])!r} that this "
            f"model lacks (another depth?); the source must be the same architecture. "
            f"Received: {argument}={source!r}"
        )
    for layer in backbone:
        if layer.weights:
            layer.set_weights(weights[layer.name])
    weighted_head = [layer for layer in head if layer.weights]
    head_state = "none"
    if weighted_head:
        if all(_fits(layer, weights.get(layer.name)) for layer in weighted_head):
            for layer in weighted_head:
                layer.set_weights(weights[layer.name])
            head_state = "source"
        else:
            head_state = "new"
    return {"backbone_layers": loaded, "head": head_state}


def load_source(net: keras.Model, source: str, *, model: str, include_top: bool, classes: int,
                argument: str = "weights", app_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read ``source`` and load it into ``net`` (:func:`read_source`, :func:`transfer_weights`)."""
    build_headless = HEADLESS.get() if include_top else None
    headless = build_headless() if build_headless is not None else None
    weights = read_source(source, net, model, argument=argument,
                          imagenet_top=include_top and classes == 1000, app_kwargs=app_kwargs)
    ordered = source == "imagenet" or (os.fspath(source).endswith(".h5")
                                      and not os.fspath(source).endswith(".weights.h5"))
    return transfer_weights(net, weights, model=model, source=source, argument=argument,
                            headless=headless, ordered=ordered)
