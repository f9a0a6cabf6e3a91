"""What every classification builder shares: argument checks, the pooled head, weight loading.

Builders call :func:`check_args` once at the top of their generic builder (never in the thin public
``build_<name>`` functions), :func:`pool_or_classify` / :func:`pool_features` for the end of the
network, and :func:`finish_model` to wrap the graph in a ``keras.Model`` and load ``weights``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras

from kerascv_course.models.registry import get_spec

log = logging.getLogger(__name__)

POOLINGS = (None, "avg", "max")

COMMON_ARGS_DOC = """
    Common arguments (keras.applications' meanings):
        include_top: whether to include the classifier on top of the features.
        weights: ``None`` (random initialisation), the path of a weight file (Keras
            ``.weights.h5`` or keras.applications' legacy ``.h5``), or ``"imagenet"`` where
            keras.applications publishes ImageNet weights for this architecture.
        input_shape: ``(height, width, channels)``; defaults to the paper's input. Spatial sides
            may be ``None`` when ``include_top=False``.
        pooling: with ``include_top=False``: ``None`` (4D feature map), ``"avg"`` or ``"max"``
            (global pooling to a 2D tensor).
        classes: number of classes of the classifier (``include_top=True``).
        classifier_activation: activation of the last layer (``"softmax"``, ``None`` for
            logits, or any Keras activation name).
        name: the model's name.

    Returns:
        A ``keras.Model``.

    Raises:
        ValueError: for an argument outside what the architecture allows; the message names the
            argument, what is allowed and the value received.
        FileNotFoundError: when ``weights`` is a path that does not exist.
"""


def add_common_doc(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Append :data:`COMMON_ARGS_DOC` to a builder's docstring (as keras.applications does)."""
    fn.__doc__ = (fn.__doc__ or "").rstrip() + "\n" + COMMON_ARGS_DOC
    return fn


@dataclass(frozen=True)
class CommonArgs:
    """The validated common arguments of a classification builder."""

    input_shape: tuple[int | None, int | None, int]
    include_top: bool
    classes: int
    pooling: str | None
    classifier_activation: Any
    weights: str | None
    name: str


def _fail(argument: str, value: Any, allowed: str, model: str) -> ValueError:
    return ValueError(f"{model}: `{argument}` must be {allowed}. Received: {argument}={value!r}")


def check_input_shape(
    input_shape: Any,
    *,
    model: str,
    default: tuple[int, int, int],
    min_size: int,
    allow_none: bool = False,
    channels: int | None = None,
    multiple_of: int | None = None,
    argument: str = "input_shape",
) -> tuple[int | None, int | None, int]:
    """Validate an ``(H, W, C)`` input shape against what an architecture accepts.

    Args:
        input_shape: the shape given by the user, or ``None`` for ``default``.
        model: the model's name, used in error messages.
        default: the shape used when ``input_shape`` is ``None``.
        min_size: the smallest spatial side the network accepts.
        allow_none: whether ``None`` spatial sides are allowed (fully convolutional use).
        channels: the required channel count, or ``None`` for any positive count.
        multiple_of: if set, each spatial side must be a multiple of it (e.g. U-Net strides).
        argument: the argument's name in messages.

    Returns:
        The shape as a tuple.
    """
    if input_shape is None:
        return tuple(default)
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise _fail(argument, input_shape, "a tuple (height, width, channels)", model)
    h, w, c = input_shape
    for side in (h, w):
        if side is None:
            if not allow_none:
                raise _fail(
                    argument, tuple(input_shape),
                    "fully specified when include_top=True (None sides need include_top=False)",
                    model,
                )
            continue
        if not isinstance(side, int) or isinstance(side, bool) or side < 1:
            raise _fail(argument, tuple(input_shape), "positive integer sides", model)
        if side < min_size:
            raise _fail(
                argument, tuple(input_shape),
                f"at least {min_size}x{min_size} pixels (the smallest input the network's "
                f"strides and pooling accept)",
                model,
            )
        if multiple_of and side % multiple_of:
            raise _fail(
                argument, tuple(input_shape),
                f"a size whose sides are multiples of {multiple_of} "
                f"(e.g. {max(multiple_of, min_size - min_size % multiple_of)} or "
                f"{max(multiple_of, min_size - min_size % multiple_of) + multiple_of})",
                model,
            )
    if not isinstance(c, int) or isinstance(c, bool) or c < 1:
        raise _fail(argument, tuple(input_shape), "a positive channel count last", model)
    if channels is not None and c != channels:
        raise _fail(argument, tuple(input_shape), f"{channels} channel(s) last", model)
    return (h, w, c)


def check_args(
    model: str,
    *,
    input_shape: Any = None,
    include_top: bool = True,
    classes: int = 1000,
    pooling: str | None = None,
    classifier_activation: Any = "softmax",
    weights: Any = None,
    name: str | None = None,
    default_input_shape: tuple[int, int, int] | None = None,
    min_input_size: int | None = None,
    channels: int | None = None,
    imagenet_shape: tuple[int, int, int] | None = None,
) -> CommonArgs:
    """Validate the common keras.applications-style arguments of a classification builder.

    Defaults for the input shape and minimum size come from the registry entry of ``model``.

    Args:
        model: the registered name; its spec gives the default and minimum input.
        input_shape, include_top, classes, pooling, classifier_activation, weights, name: the
            user's arguments (see :data:`COMMON_ARGS_DOC`).
        default_input_shape, min_input_size: override the registry's values.
        channels: required channel count, if the architecture fixes it.
        imagenet_shape: the input shape the ImageNet classifier needs with ``include_top=True``
            (for Flatten-headed networks such as VGG); ``None`` when any size works.

    Returns:
        The validated :class:`CommonArgs`.
    """
    spec = get_spec(model)
    default = default_input_shape or spec.default_input_shape
    min_size = min_input_size or spec.min_input_size
    if not isinstance(include_top, bool):
        raise _fail("include_top", include_top, "True or False", model)
    if weights is not None and not isinstance(weights, (str, os.PathLike)):
        raise _fail("weights", weights, 'None, "imagenet" or the path of a weight file', model)
    if weights is not None:
        weights = os.fspath(weights)
        if weights != "imagenet" and not os.path.exists(weights):
            raise FileNotFoundError(
                f"{model}: `weights` must be None, \"imagenet\" or an existing weight file; "
                f"no file exists at that path. Received: weights={weights!r}"
            )
    if weights == "imagenet":
        if spec.keras_app is None:
            raise _fail(
                "weights", weights,
                "None or a weight file: keras.applications publishes no ImageNet weights "
                "for this architecture",
                model,
            )
        if include_top and classes != 1000:
            raise _fail(
                "classes", classes,
                '1000 with weights="imagenet" and include_top=True (use include_top=False '
                "to put your own classifier on the ImageNet features)",
                model,
            )
        channels = 3
    shape = check_input_shape(
        input_shape,
        model=model,
        default=default,
        min_size=min_size,
        allow_none=not include_top,
        channels=channels,
    )
    if weights == "imagenet" and include_top and imagenet_shape and shape != tuple(imagenet_shape):
        raise _fail(
            "input_shape", shape,
            f'{tuple(imagenet_shape)} with weights="imagenet" and include_top=True', model,
        )
    if include_top:
        if not isinstance(classes, int) or isinstance(classes, bool) or classes < 1:
            raise _fail("classes", classes, "an integer >= 1", model)
    if pooling not in POOLINGS:
        raise _fail("pooling", pooling, 'None, "avg" or "max"', model)
    if classifier_activation is not None and not callable(classifier_activation):
        try:
            keras.activations.get(classifier_activation)
        except (ValueError, TypeError) as err:
            raise _fail(
                "classifier_activation", classifier_activation,
                'None, a callable or a Keras activation name such as "softmax"', model,
            ) from err
    if name is not None and not isinstance(name, str):
        raise _fail("name", name, "a string", model)
    return CommonArgs(
        input_shape=shape,
        include_top=include_top,
        classes=classes,
        pooling=pooling,
        classifier_activation=classifier_activation,
        weights=weights,
        name=name or model,
    )


def check_choice(model: str, argument: str, value: Any, allowed: tuple[Any, ...]) -> Any:
    """Raise unless ``value`` is one of ``allowed``; return it."""
    if value not in allowed:
        raise _fail(argument, value, "one of " + ", ".join(repr(a) for a in allowed), model)
    return value


def check_range(
    model: str,
    argument: str,
    value: Any,
    *,
    low: float,
    high: float | None = None,
    integer: bool = False,
    low_inclusive: bool = True,
) -> Any:
    """Raise unless ``low <= value (<= high)``; with ``integer`` the value must be an int."""
    kind = int if integer else (int, float)
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok:
        ok = value >= low if low_inclusive else value > low
        if high is not None:
            ok = ok and value <= high
    if not ok:
        bound = f"{'>=' if low_inclusive else '>'} {low}" + (
            f" and <= {high}" if high is not None else ""
        )
        raise _fail(argument, value, f"{'an integer' if integer else 'a number'} {bound}", model)
    return value


def pool_features(x: Any, pooling: str | None) -> Any:
    """Global pooling of a feature map for ``include_top=False`` (keras.applications' names)."""
    if pooling == "avg":
        return keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def pool_or_classify(
    x: Any,
    args: CommonArgs,
    *,
    dropout: float = 0.0,
    pool_name: str = "avg_pool",
    dense_name: str = "predictions",
) -> Any:
    """The usual end of a modern network: global average pooling then a dense classifier.

    With ``include_top=False`` applies ``args.pooling`` instead.
    """
    if not args.include_top:
        return pool_features(x, args.pooling)
    x = keras.layers.GlobalAveragePooling2D(name=pool_name)(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="top_dropout")(x)
    return keras.layers.Dense(
        args.classes, activation=args.classifier_activation, name=dense_name
    )(x)


def model_input(args: CommonArgs, name: str = "input_layer") -> Any:
    """The ``keras.Input`` for ``args.input_shape``."""
    return keras.Input(shape=args.input_shape, name=name)


def finish_model(
    inputs: Any,
    outputs: Any,
    args: CommonArgs,
    model: str,
    app_kwargs: dict[str, Any] | None = None,
) -> keras.Model:
    """Wrap the graph in a ``keras.Model`` named ``args.name`` and load ``args.weights``.

    ``app_kwargs`` are the keras.applications constructor's architecture arguments (e.g.
    ``{"alpha": 0.5}`` for MobileNet) that select which ImageNet file ``"imagenet"`` fetches.
    """
    net = keras.Model(inputs, outputs, name=args.name)
    if args.weights == "imagenet":
        load_imagenet_weights(net, model, include_top=args.include_top, app_kwargs=app_kwargs)
    elif args.weights is not None:
        load_weight_file(net, args.weights, model=model)
    return net


def load_weight_file(net: keras.Model, path: str, *, model: str, **kwargs: Any) -> None:
    """Load a weight file into ``net``, turning mismatches into an error that names the layer.

    Accepts Keras 3 ``.weights.h5`` files, keras.applications' legacy ``.h5`` files (matched by
    layer order, as keras.applications does) and whole ``.keras`` model files.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"{model}: no weight file at {path!r}. Received: weights={path!r}")
    try:
        if path.endswith(".keras"):
            source = keras.saving.load_model(path, compile=False, safe_mode=True)
            net.set_weights(source.get_weights())
        else:
            net.load_weights(path, **kwargs)
    except (ValueError, KeyError, OSError) as err:
        raise ValueError(
            f"{model}: the weight file does not match this architecture/configuration "
            f"({net.count_params():,} parameters): {err} Received: weights={path!r}"
        ) from err


def load_imagenet_weights(
    net: keras.Model, model: str, *, include_top: bool, app_kwargs: dict[str, Any] | None = None
) -> None:
    """Fetch keras.applications' published ImageNet weights for ``model`` and load them.

    Uses keras.applications' own download path and cache (``~/.keras/models``), so a file already
    cached there loads offline.
    """
    spec = get_spec(model)
    ctor = getattr(keras.applications, spec.keras_app)
    try:
        reference = ctor(
            weights="imagenet",
            include_top=include_top,
            input_shape=tuple(net.input_shape[1:]),
            **(app_kwargs or {}),
        )
    except Exception as err:  # keras.utils.get_file raises a bare Exception when offline
        raise RuntimeError(
            f"{model}: could not fetch keras.applications' ImageNet weights for "
            f"{spec.keras_app} ({err}). Without network access, download the weight file on "
            f"another machine (keras.applications.{spec.keras_app}(weights='imagenet') saves it "
            f"under ~/.keras/models/) and copy it to this machine's ~/.keras/models/, or pass its "
            f"path: weights='/path/to/file.h5'."
        ) from err
    net.set_weights(reference.get_weights())
