"""What every builder shares: the common arguments and their checks, the pooled head, weight loading.

The common arguments are keras.applications' (``include_top, weights, input_shape, pooling,
classes, classifier_activation, name``). They are declared once, in :data:`COMMON_ARGS`, and
documented once, in :data:`COMMON_ARGS_DOC`. A builder written ``def _vgg(model, *, batch_norm=…,
**common)`` receives them as ``**common`` and validates them once with ``check_args(model,
**common)``; :func:`common_args` (a decorator) and :func:`public_builder` (for variants of a generic
builder) give the public ``build_<name>`` function the full signature, so ``inspect.signature``,
``help()`` and the catalog list every argument it accepts, and a misspelt one is refused with the
closest names. :func:`pool_or_classify` / :func:`pool_features` end the network and
:func:`finish_model` wraps the graph in a ``keras.Model`` and loads ``weights``.

Every check here has the package's one shape (:mod:`kerascv_course.utils.checks`):
``(argument, value, …, where=model)``, raising ``model: `argument` must be … Received: argument=value``.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import keras

from kerascv_course.models.blocks import dense_dropout
from kerascv_course.models.registry import get_spec
from kerascv_course.models.transfer import HEADLESS, headless_call, load_source
from kerascv_course.utils.checks import check_bool, check_choice, check_positive_int, fail
from kerascv_course.utils.registry import did_you_mean

POOLINGS = (None, "avg", "max")


def keyword(name: str, default: Any, annotation: str = "Any") -> inspect.Parameter:
    """A keyword-only parameter, for declaring shared builder arguments as data."""
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


COMMON_ARGS: tuple[inspect.Parameter, ...] = (
    keyword("include_top", True, "bool"),
    keyword("weights", None, "str | os.PathLike | None"),
    keyword("input_shape", None, "tuple[int | None, int | None, int] | None"),
    keyword("pooling", None, "str | None"),
    keyword("classes", 1000, "int"),
    keyword("classifier_activation", "softmax", "str | Callable | None"),
    keyword("name", None, "str | None"),
    keyword("kernel_initializer", None, "str | dict | keras.initializers.Initializer | None"),
)

COMMON_ARGS_DOC = """
    Common arguments (keras.applications' meanings):
        include_top: whether to include the classifier on top of the features.
        weights: ``None`` (random initialisation), ``"imagenet"`` where keras.applications
            publishes ImageNet weights for this architecture, a weight file (keras.applications'
            legacy ``.h5``, full or notop; Keras ``.weights.h5``; a ``.keras`` model) or a run
            folder of this package. The backbone gets the source's weights (every layer checked
            by name and shape); the classifier is the source's when it fits (same classes),
            else new, so any ``classes`` works (kerascv_course.models.transfer).
        input_shape: ``(height, width, channels)``; defaults to the paper's input. Spatial sides
            may be ``None`` when ``include_top=False``.
        pooling: with ``include_top=False``: ``None`` (4D feature map), ``"avg"`` or ``"max"``
            (global pooling to a 2D tensor).
        classes: number of classes of the classifier (``include_top=True``).
        classifier_activation: activation of the last layer (``"softmax"``, ``None`` for
            logits, or any Keras activation name).
        name: the model's name.
        kernel_initializer: ``None`` keeps the architecture's own initialisation; otherwise a
            Keras initializer (a name such as ``"he_normal"``, an initializer or its config)
            that draws every convolution, depthwise, pointwise and dense kernel (biases, batch
            norm and fixed weights untouched). Not with ``weights``, which replace every kernel.

    Returns:
        A ``keras.Model``.

    Raises:
        ValueError: for an argument outside what the architecture allows; the message names the
            argument, what is allowed and the value received.
        TypeError: for an argument the builder does not take (the message names the closest).
        FileNotFoundError: when ``weights`` is a path that does not exist.
"""


def add_common_doc(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Append :data:`COMMON_ARGS_DOC` to a builder's docstring (as keras.applications does)."""
    fn.__doc__ = (fn.__doc__ or "").rstrip() + "\n" + COMMON_ARGS_DOC
    return fn


# ----------------------------------------------------------------------------- signatures


def with_arguments(
    fn: Callable[..., Any], arguments: Sequence[inspect.Parameter], defaults: Mapping[str, Any] | None = None
) -> inspect.Signature:
    """The signature of ``fn(…, **common)`` with ``**common`` replaced by ``arguments``.

    Args:
        fn: a builder whose signature ends in ``**common``.
        arguments: the keyword-only parameters ``**common`` stands for.
        defaults: per-builder defaults of some of ``arguments`` (e.g. ``{"classes": 10}``).
    """
    own = list(inspect.signature(fn).parameters.values())
    if not own or own[-1].kind is not inspect.Parameter.VAR_KEYWORD:
        raise TypeError(f"{fn!r} must take the shared arguments as **common")
    names = {p.name for p in arguments}
    defaults = dict(defaults or {})
    if set(defaults) - names or names & {p.name for p in own}:
        raise TypeError(
            f"{fn!r}: `defaults` must name shared arguments ({', '.join(sorted(names))}) that the "
            f"builder does not declare itself. Received: defaults={defaults!r}"
        )
    shared = [p.replace(default=defaults.get(p.name, p.default)) for p in arguments]
    return inspect.Signature([*own[:-1], *shared])


def bind_arguments(
    where: str, signature: inspect.Signature, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    """``{argument: value}`` of a call against ``signature``, defaults applied.

    Raises:
        TypeError: for an argument ``signature`` does not take (naming the closest ones), or too
            many positional arguments.
    """
    unknown = [k for k in kwargs if k not in signature.parameters]
    if unknown:
        name = unknown[0]
        raise TypeError(
            f"{where}: unknown argument `{name}`.{did_you_mean(name, list(signature.parameters))} "
            f"Arguments: {', '.join(signature.parameters)}. Received: {name}={kwargs[name]!r}"
        )
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as err:
        raise TypeError(
            f"{where}: {err}; its arguments are {', '.join(signature.parameters)}. "
            f"Received: {len(args)} positional argument(s)"
        ) from None
    bound.apply_defaults()
    return dict(bound.arguments)


def common_args(
    fn: Callable[..., Any] | None = None,
    *,
    defaults: Mapping[str, Any] | None = None,
    arguments: Sequence[inspect.Parameter] = COMMON_ARGS,
    arguments_doc: str = COMMON_ARGS_DOC,
    doc: str | None = None,
) -> Any:
    """Decorator: a builder ``fn(…, **common)`` becomes a builder whose signature lists ``arguments``.

    The returned function binds each call against the full signature (defaults applied, unknown
    names refused with the closest ones) and calls ``fn`` with every argument by keyword; its
    docstring is ``doc`` (default: ``fn``'s) followed by ``arguments_doc``.

    Args:
        fn: the builder (``@common_args`` or ``@common_args(defaults=…)``).
        defaults: per-builder defaults of shared arguments, e.g. ``{"classes": 10}``.
        arguments: the shared arguments (default: the classification builders' :data:`COMMON_ARGS`).
        arguments_doc: their documentation, appended to the docstring.
        doc: the docstring (default: ``fn.__doc__``).

    Example:
        >>> @common_args(defaults={"classes": 10})
        ... def build_tiny(*, width: int = 8, **common):
        ...     args = check_args("tiny", **common)
    """
    if fn is None:
        return functools.partial(
            common_args, defaults=defaults, arguments=arguments, arguments_doc=arguments_doc, doc=doc
        )
    signature = with_arguments(fn, arguments, defaults)

    def builder(*args: Any, **kwargs: Any) -> Any:
        where = getattr(builder, "model_name", builder.__name__)
        bound = bind_arguments(where, signature, args, kwargs)
        if bound.get("weights") is None or bound.get("include_top") is not True:
            return fn(**bound)
        # Loading weights into a model with its head: finish_model needs the backbone, which is
        # what this builder gives with include_top=False (models/transfer.py).
        token = HEADLESS.set(headless_call(fn, bound))
        try:
            return fn(**bound)
        finally:
            HEADLESS.reset(token)

    builder.__signature__ = signature
    builder.__name__ = builder.__qualname__ = getattr(fn, "__name__", "builder")
    builder.__module__ = getattr(fn, "__module__", None) or builder.__module__
    builder.__doc__ = (doc if doc is not None else fn.__doc__ or "").rstrip() + "\n" + arguments_doc
    return builder


def public_builder(
    generic: Callable[..., Any], variant: str, *args: Any, doc: str, defaults: Mapping[str, Any] | None = None
) -> Callable[..., Any]:
    """``build_<variant>``: the generic builder ``generic(variant, *args, …, **common)`` as one line.

    Args:
        generic: the family's generic builder; its first argument is the registered name.
        variant: the registered name.
        *args: further leading arguments of ``generic`` (e.g. the variant's configuration).
        doc: the public builder's docstring (the common arguments' text is appended).
        defaults: per-variant defaults of common arguments (``{"classes": 10}``).
    """
    builder = common_args(functools.partial(generic, variant, *args), defaults=defaults, doc=doc)
    builder.__name__ = builder.__qualname__ = f"build_{variant}"
    builder.__module__ = generic.__module__
    return builder


# ----------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class CommonArgs:
    """The validated common arguments of a builder."""

    input_shape: tuple[int | None, int | None, int]
    include_top: bool
    classes: int
    pooling: str | None
    classifier_activation: Any
    weights: str | None
    name: str
    kernel_initializer: Any = None


def check_input_shape(
    argument: str,
    value: Any,
    *,
    default: tuple[int, int, int],
    min_size: int,
    allow_none: bool = False,
    channels: int | None = None,
    where: str | None = None,
) -> tuple[int | None, int | None, int]:
    """Validate an ``(H, W, C)`` input shape against what an architecture accepts.

    Args:
        argument: the argument's name in messages (``"input_shape"``).
        value: the shape given by the user, or ``None`` for ``default``.
        default: the shape used when ``value`` is ``None``.
        min_size: the smallest spatial side the network accepts.
        allow_none: whether ``None`` spatial sides are allowed (fully convolutional use).
        channels: the required channel count, or ``None`` for any positive count.
        where: the model's name, in front of the message.

    Returns:
        The shape as a tuple.
    """
    if value is None:
        return tuple(default)
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise fail(argument, value, "a tuple (height, width, channels)", where=where)
    shape = tuple(value)
    for side in shape[:2]:
        if side is None:
            if not allow_none:
                raise fail(
                    argument, shape,
                    "fully specified when include_top=True (None sides need include_top=False)",
                    where=where,
                )
        elif not isinstance(side, int) or isinstance(side, bool) or side < 1:
            raise fail(argument, shape, "positive integer sides", where=where)
        elif side < min_size:
            raise fail(
                argument, shape,
                f"at least {min_size}x{min_size} pixels (the smallest input the network's "
                f"strides and pooling accept)",
                where=where,
            )
    c = shape[2]
    if not isinstance(c, int) or isinstance(c, bool) or c < 1:
        raise fail(argument, shape, "a positive channel count last", where=where)
    if channels is not None and c != channels:
        raise fail(argument, shape, f"{channels} channel(s) last", where=where)
    return shape


def check_weights(argument: str, value: Any, *, imagenet: bool, where: str | None = None) -> str | None:
    """``None``, ``"imagenet"`` (where ``imagenet``: keras.applications publishes weights) or the
    path of an existing file, as a string.

    Raises:
        ValueError: for another type, or ``"imagenet"`` where no such weights exist.
        FileNotFoundError: for a path where no file exists.
    """
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise fail(argument, value, 'None, "imagenet" or the path of a weight file', where=where)
    value = os.fspath(value)
    if value == "imagenet":
        if not imagenet:
            raise fail(
                argument, value,
                "None or a weight file: keras.applications publishes no ImageNet weights for "
                "this architecture",
                where=where,
            )
    elif not os.path.exists(value) or (
            os.path.isdir(value) and not os.path.isfile(os.path.join(value, "model.keras"))):
        prefix = f"{where}: " if where else ""
        raise FileNotFoundError(
            f"{prefix}`{argument}` must be None, \"imagenet\", an existing weight file or a "
            f"finished run folder (with model.keras); there is none at that path. "
            f"Received: {argument}={value!r}"
        )
    return value


def check_activation(argument: str, value: Any, *, extra: tuple[str, ...] = (), where: str | None = None) -> Any:
    """``value`` if it is ``None``, a callable, one of ``extra`` or a Keras activation name."""
    if value is None or callable(value) or (isinstance(value, str) and value in extra):
        return value
    try:
        keras.activations.get(value)
    except (ValueError, TypeError) as err:
        allowed = "".join(f'"{e}", ' for e in extra)
        raise fail(
            argument, value,
            f'{allowed}None, a callable or a Keras activation name such as "softmax"', where=where,
        ) from err
    return value


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
    kernel_initializer: Any = None,
    default_input_shape: tuple[int, int, int] | None = None,
    min_input_size: int | None = None,
    channels: int | None = None,
    imagenet_shape: tuple[int, int, int] | None = None,
    allow_none: bool | None = None,
) -> CommonArgs:
    """Validate the common keras.applications-style arguments of a builder (the one check path).

    Defaults for the input shape and minimum size come from the registry entry of ``model``; a
    segmentation model also accepts ``classifier_activation="auto"``.

    Args:
        model: the registered name; its spec gives the default and minimum input.
        input_shape, include_top, classes, pooling, classifier_activation, weights, name,
            kernel_initializer: the user's arguments (see :data:`COMMON_ARGS_DOC`).
        default_input_shape, min_input_size: override the registry's values.
        channels: required channel count, if the architecture fixes it.
        imagenet_shape: the input shape the ImageNet classifier needs with ``include_top=True``
            (for Flatten-headed networks such as VGG); ``None`` when any size works.
        allow_none: whether spatial sides may be ``None`` (default: with ``include_top=False``).

    Returns:
        The validated :class:`CommonArgs`.
    """
    spec = get_spec(model)
    check_bool("include_top", include_top, where=model)
    weights = check_weights("weights", weights, imagenet=spec.keras_app is not None, where=model)
    if weights == "imagenet":
        channels = 3
    shape = check_input_shape(
        "input_shape", input_shape,
        default=default_input_shape or spec.default_input_shape,
        min_size=min_input_size or spec.min_input_size,
        allow_none=not include_top if allow_none is None else allow_none,
        channels=channels,
        where=model,
    )
    if (weights == "imagenet" and include_top and classes == 1000 and imagenet_shape
            and shape != tuple(imagenet_shape)):
        raise fail(
            "input_shape", shape,
            f'{tuple(imagenet_shape)} with weights="imagenet", include_top=True and classes=1000 '
            "(ImageNet's classifier needs its input; other classes get a new classifier)",
            where=model,
        )
    if include_top:
        check_positive_int("classes", classes, where=model)
    check_choice("pooling", pooling, POOLINGS, where=model)
    auto = ("auto",) if spec.task == "segmentation" else ()
    check_activation("classifier_activation", classifier_activation, extra=auto, where=model)
    if name is not None and not isinstance(name, str):
        raise fail("name", name, "a string", where=model)
    if kernel_initializer is not None:
        check_kernel_initializer(model, kernel_initializer)
        if weights is not None:
            raise ValueError(
                f"{model}: `kernel_initializer` draws new kernels, but `weights` replaces every "
                f"kernel with loaded values: pass one of them. Received: "
                f"kernel_initializer={kernel_initializer!r}, weights={weights!r}"
            )
    return CommonArgs(
        shape, include_top, classes, pooling, classifier_activation, weights, name or model, kernel_initializer
    )


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


def flatten_classify(
    x: Any, args: CommonArgs, *, hidden: Sequence[tuple[str, int]], dropout: float
) -> Any:
    """The classic end of a network (LeNet to VGG): flatten, fully connected layers, classifier.

    Each ``(name, units)`` of ``hidden`` is a ReLU layer followed by dropout (``{name}_dropout``);
    the classifier is ``predictions``. With ``include_top=False`` applies ``args.pooling`` instead.
    """
    if not args.include_top:
        return pool_features(x, args.pooling)
    x = keras.layers.Flatten(name="flatten")(x)
    for layer, units in hidden:
        x = dense_dropout(x, units, dropout=dropout, name=layer)
    return keras.layers.Dense(args.classes, activation=args.classifier_activation, name="predictions")(x)


def model_input(args: CommonArgs, name: str = "input_layer") -> Any:
    """The ``keras.Input`` for ``args.input_shape``."""
    return keras.Input(shape=args.input_shape, name=name)


def finish_model(
    inputs: Any,
    outputs: Any,
    args: CommonArgs,
    model: str,
    app_kwargs: dict[str, Any] | None = None,
    *,
    keep: Sequence[Any] = (),
) -> keras.Model:
    """Wrap the graph in a ``keras.Model`` named ``args.name``, draw its kernels from
    ``args.kernel_initializer`` (when given) and load ``args.weights``.

    ``app_kwargs`` are the keras.applications constructor's architecture arguments (e.g.
    ``{"alpha": 0.5}`` for MobileNet) that select which ImageNet file ``"imagenet"`` fetches.
    ``keep``: layers whose kernels stay as they are (a pretrained encoder).
    """
    net = keras.Model(inputs, outputs, name=args.name)
    if args.kernel_initializer is not None:
        initialize_kernels(net, args.kernel_initializer, keep=keep)
    if args.weights is not None:
        load_source(net, args.weights, model=model, include_top=args.include_top,
                    classes=args.classes, app_kwargs=app_kwargs)
    return net


# The kernels a layer may hold, each with the attribute(s) naming its initializer (Conv and Dense:
# ``kernel``/``kernel_initializer``; DepthwiseConv2D: ``kernel``/``depthwise_initializer``;
# SeparableConv2D: ``depthwise_kernel`` and ``pointwise_kernel``).
KERNELS = (
    ("kernel", ("kernel_initializer", "depthwise_initializer")),
    ("depthwise_kernel", ("depthwise_initializer",)),
    ("pointwise_kernel", ("pointwise_initializer",)),
)


def _layers(model: Any) -> list[Any]:
    found = []
    for layer in model.layers:
        found.append(layer)
        if isinstance(layer, keras.Model):
            found.extend(_layers(layer))
    return found


def _fresh(initializer: Any) -> Any:
    """A new initializer object for ``initializer`` (a name, a config or an object)."""
    init = keras.initializers.get(initializer)
    if init is initializer:  # an object: one copy per kernel, as Keras layers each hold their own
        init = type(init).from_config(init.get_config())
    return init


def initialize_kernels(model: keras.Model, initializer: Any, *, keep: Sequence[Any] = ()) -> int:
    """Draw every convolution, depthwise, pointwise and dense kernel of ``model`` from ``initializer``.

    Each kernel gets its own initializer object (recorded on the layer, so the model's config says
    how it was drawn); biases, batch norm and weights without a kernel role (LeNet's fixed RBF
    prototypes, LeNet-5's subsampling coefficients) are untouched, as are the layers of ``keep``.

    Returns:
        The number of kernels drawn.
    """
    kept = {id(layer) for layer in keep}
    count = 0
    for layer in _layers(model):
        if id(layer) in kept:
            continue
        for weight, attributes in KERNELS:
            variable = getattr(layer, weight, None)
            if not isinstance(variable, keras.Variable):
                continue
            init = _fresh(initializer)
            variable.assign(init(tuple(variable.shape), dtype=variable.dtype))
            for attribute in attributes:
                if hasattr(layer, attribute):
                    setattr(layer, attribute, init)
                    break
            count += 1
    return count


def check_kernel_initializer(model: str, value: Any) -> Any:
    """Raise unless ``value`` is something ``keras.initializers.get`` accepts; return it unchanged.

    The value itself (a name, an initializer or its config) is what the layers receive, so each
    layer draws its own weights and the model's config keeps what the user wrote.
    """
    try:
        if value is None:
            raise ValueError("None")
        keras.initializers.get(value)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"{model}: `kernel_initializer` must be a Keras initializer: a name such as "
            f'"glorot_uniform" or "he_normal", an initializer object or its config. '
            f"Received: kernel_initializer={value!r}"
        ) from err
    return value


def classifier_head(
    x: Any,
    args: CommonArgs,
    *,
    dropout: float = 0.0,
    kernel_initializer: Any = "glorot_uniform",
) -> Any:
    """Global average pooling, optional dropout and the classifier, its kernel drawn by
    ``kernel_initializer`` (layers ``avg_pool``, ``top_dropout``, ``predictions``).

    With ``include_top=False`` applies ``args.pooling`` instead (``avg_pool``/``max_pool``).
    """
    if not args.include_top:
        return pool_features(x, args.pooling)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="top_dropout")(x)
    return keras.layers.Dense(
        args.classes, activation=args.classifier_activation,
        kernel_initializer=kernel_initializer, name="predictions",
    )(x)
