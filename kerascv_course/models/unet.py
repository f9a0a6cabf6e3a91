"""U-Net (Ronneberger, Fischer & Brox, 2015) and U-Nets over any zoo encoder.

Two entry points, and :func:`build_unet` (the registered ``unet``) choosing between them:

* :func:`original_unet` (``build_unet(backbone=None)``): the paper's network. A contracting path
  of two 3x3 convolutions and a 2x2 max-pooling per level (64, 128, 256, 512 filters, then 1024 at
  the bottom), an expanding path of 2x2 up-convolutions, concatenations with the encoder's maps and
  two 3x3 convolutions, and a 1x1 convolution to the classes. ``padding="valid"`` is the paper's
  exact network (unpadded convolutions, cropped skip connections: 572x572 in, 388x388 out);
  ``padding="same"`` (default) keeps the input resolution.
* :func:`backbone_unet` (``build_unet(backbone="<classification model>")``): that zoo model, built
  with ``include_top=False`` at the U-Net's input shape, is the encoder; its skip connections are
  the layers declared in its registry entry's ``feature_taps`` (``{stride: layer_name}``), never
  found by searching names. A U-Net decoder brings the deepest tap back to the input resolution.
  Option names follow segmentation_models (``encoder_weights``, ``encoder_freeze``,
  ``decoder_filters``, ``decoder_block_type``).

Both take the U-Net's shared arguments (:data:`UNET_ARGS`, documented once in
:data:`UNET_ARGS_DOC`) and check them, like every builder, with
:func:`~kerascv_course.models.common.check_args`.
"""

from __future__ import annotations

import inspect
from typing import Any

import keras

from kerascv_course.models.blocks import conv_bn_act
from kerascv_course.models.common import (
    CommonArgs,
    check_args,
    check_weights,
    common_args,
    finish_model,
    keyword,
)
from kerascv_course.models.registry import get_spec, list_models, register_model
from kerascv_course.utils.checks import (
    check_bool,
    check_choice,
    check_number,
    check_probability,
    fail,
)

MODEL = "unet"
PADDINGS = ("same", "valid")
DECODER_BLOCK_TYPES = ("transpose", "upsampling")
# The paper's network: 64 filters at the top level, doubling over 4 poolings to 1024.
PAPER_BASE_FILTERS = 64
PAPER_DEPTH = 4
PAPER_PARAMS = 31_030_658  # 572x572x1 input, 2 classes (any input size: the count is size-free)
PAPER_INPUT_SHAPE = (572, 572, 1)
SAME_INPUT_SHAPE = (512, 512, 1)
CONVS_PER_LEVEL = 2

# The arguments both U-Nets take, after their own (``**common`` in their definitions).
UNET_ARGS: tuple[inspect.Parameter, ...] = (
    keyword("batch_norm", None, "bool | None"),
    keyword("dropout", 0.0, "float"),
    keyword("decoder_block_type", "transpose", "str"),
    keyword("classifier_activation", "auto", "str | Callable | None"),
    keyword("weights", None, "str | os.PathLike | None"),
    keyword("name", None, "str | None"),
    keyword("kernel_initializer", None, "str | dict | keras.initializers.Initializer | None"),
)

UNET_ARGS_DOC = """
    Arguments of both U-Nets:
        batch_norm: batch normalisation after every convolution; ``None``: off for the paper's
            U-Net (the paper has none), on for a backbone decoder.
        dropout: dropout rate at the end of the contracting path (the paper uses dropout there).
        decoder_block_type: ``"transpose"`` (transposed convolution, the paper's up-convolution)
            or ``"upsampling"`` (bilinear up-sampling followed by a convolution).
        classifier_activation: ``"auto"`` (sigmoid for 1 class, softmax otherwise), ``None`` for
            logits, or any Keras activation. The zoo's segmentation losses expect probabilities.
        weights: ``None`` or the path of a weight file of this same U-Net configuration.
        name: the model's name (default ``"unet"`` or ``"unet_<backbone>"``).
        kernel_initializer: ``None`` keeps each layer's own initialisation; otherwise a Keras
            initializer (name, object or config) drawing every convolution kernel (with
            ``encoder_weights``, the decoder's only).

    Returns:
        A ``keras.Model`` mapping ``(H, W, C)`` images to ``(H', W', classes)`` probabilities
        (``H' = H`` except with ``padding="valid"``).

    Raises:
        ValueError: for an input size the network cannot take (the message says which work), a
            backbone without spatial features (the message lists the eligible ones), or any
            other argument outside what is allowed.
        TypeError: for an argument the U-Net does not take (the message names the closest).
        FileNotFoundError: when ``weights`` or ``encoder_weights`` is a missing file.
"""


def eligible_backbones() -> list[str]:
    """Registered classification models with declared spatial feature taps (U-Net encoders)."""
    return [
        n for n in list_models("classification") if get_spec(n).feature_taps is not None
    ]


# ----------------------------------------------------------------------------- size arithmetic


def valid_output_size(size: int, depth: int = PAPER_DEPTH) -> int | None:
    """Output side of a ``padding="valid"`` U-Net for an input side, or ``None`` if it fails.

    Each level's two unpadded 3x3 convolutions take 4 pixels off; each pooling needs an even side.
    ``valid_output_size(572) == 388`` (the paper's Fig. 1).
    """
    for _ in range(depth):
        size -= 2 * CONVS_PER_LEVEL
        if size < 2 or size % 2:
            return None
        size //= 2
    size -= 2 * CONVS_PER_LEVEL
    if size < 1:
        return None
    for _ in range(depth):
        size = size * 2 - 2 * CONVS_PER_LEVEL
        if size < 1:
            return None
    return size


def valid_input_sizes(depth: int = PAPER_DEPTH, count: int = 4) -> list[int]:
    """The smallest ``count`` input sides a ``padding="valid"`` U-Net of ``depth`` accepts."""
    step = 2**depth
    offset = 2 * CONVS_PER_LEVEL * (2 ** (depth + 1) - 1)  # 124 at depth 4
    sizes: list[int] = []
    bottom = 1
    while len(sizes) < count:
        size = step * bottom + offset
        if valid_output_size(size, depth) is not None:
            sizes.append(size)
        bottom += 1
    return sizes


# ----------------------------------------------------------------------------- blocks


def _double_conv(x: Any, filters: int, *, padding: str, batch_norm: bool, name: str) -> Any:
    """Two 3x3 convolutions (+ batch norm) with ReLU: ``{name}_1_conv`` … ``{name}_2_relu``."""
    for i in range(1, CONVS_PER_LEVEL + 1):
        x = conv_bn_act(
            x, filters, 3, padding=padding, batch_norm=batch_norm, use_bias=not batch_norm,
            name=f"{name}_{i}",
        )
    return x


def _up(
    x: Any, filters: int, factor: int, *, block_type: str, batch_norm: bool, act: bool, name: str
) -> Any:
    """Up-sample by ``factor``: a ``factor``x``factor`` transposed convolution (the paper's 2x2
    up-convolution), or bilinear up-sampling followed by a convolution (the paper's "upsampling
    of the feature map followed by a 2x2 convolution"). Both have the same parameter count."""
    if block_type == "transpose":
        x = keras.layers.Conv2DTranspose(
            filters, factor, strides=factor, use_bias=not batch_norm, name=f"{name}_upconv"
        )(x)
    else:
        x = keras.layers.UpSampling2D(factor, interpolation="bilinear", name=f"{name}_upsample")(x)
        x = keras.layers.Conv2D(
            filters, factor, padding="same", use_bias=not batch_norm, name=f"{name}_upconv"
        )(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(name=f"{name}_upconv_bn")(x)
    if act:
        x = keras.layers.Activation("relu", name=f"{name}_upconv_relu")(x)
    return x


def _match_size(x: Any, size: tuple[int, int], name: str) -> Any:
    """Resize the decoder path ``x`` to ``size`` when an encoder map is not exactly input/stride."""
    if tuple(x.shape[1:3]) == tuple(size):
        return x
    return keras.layers.Resizing(size[0], size[1], interpolation="bilinear", name=name)(x)


def _head(x: Any, args: CommonArgs) -> Any:
    activation = args.classifier_activation
    if activation == "auto":
        activation = "sigmoid" if args.classes == 1 else "softmax"
    return keras.layers.Conv2D(args.classes, 1, activation=activation, name="predictions")(x)


def _check_shared(
    *,
    input_shape: Any,
    classes: Any,
    default: tuple[int, int, int],
    min_size: int,
    allow_none: bool,
    batch_norm: Any,
    dropout: Any,
    decoder_block_type: Any,
    **common: Any,
) -> CommonArgs:
    """The one check of both U-Nets' arguments (the common ones through ``check_args``)."""
    check_choice("batch_norm", batch_norm, (None, True, False), where=MODEL)
    check_probability("dropout", dropout, where=MODEL)
    check_choice("decoder_block_type", decoder_block_type, DECODER_BLOCK_TYPES, where=MODEL)
    return check_args(
        MODEL, input_shape=input_shape, classes=classes, default_input_shape=default,
        min_input_size=min_size, allow_none=allow_none, **common,
    )


# ----------------------------------------------------------------------------- the paper's U-Net


@common_args(arguments=UNET_ARGS, arguments_doc=UNET_ARGS_DOC)
def original_unet(
    input_shape: Any = None,
    classes: int = 2,
    padding: str = "same",
    *,
    depth: int = PAPER_DEPTH,
    base_filters: int = PAPER_BASE_FILTERS,
    **common: Any,
) -> keras.Model:
    """The paper's U-Net (Ronneberger, Fischer & Brox, MICCAI 2015, arXiv:1505.04597).

    64 -> 1024 filters over 4 poolings, 2x2 up-convolutions: 31,030,658 parameters with 2
    classes at any input size. ``padding="same"``: output at input resolution, sides multiples of
    16 (default 512x512x1); ``padding="valid"``: the paper's exact network, 572x572x1 in,
    388x388x2 out.

    Args:
        input_shape: ``(height, width, channels)``; ``None``: 512x512x1 for ``"same"``, the
            paper's 572x572x1 for ``"valid"``. ``"same"``: sides must be multiples of
            ``2**depth`` (``None`` sides allowed). ``"valid"``: sides of the form
            ``2**depth * k + 4 * (2**(depth + 1) - 1)`` (188, 204, …, 572 at depth 4).
        classes: output channels; 1 gives a sigmoid (binary) output, more a softmax.
        padding: ``"same"`` or ``"valid"`` (unpadded convolutions and cropped skip connections).
        depth: number of poolings (4 in the paper).
        base_filters: filters of the first level (64 in the paper), doubled per level.

    Example:
        >>> model = original_unet((64, 64, 1), classes=2, base_filters=16, depth=3)
        >>> model.output_shape
        (None, 64, 64, 2)
    """
    check_choice("padding", padding, PADDINGS, where=MODEL)
    check_number("depth", depth, low=1, high=8, integer=True, where=MODEL)
    check_number("base_filters", base_filters, low=1, integer=True, where=MODEL)
    same = padding == "same"
    args = _check_shared(
        input_shape=input_shape, classes=classes, allow_none=same,
        default=SAME_INPUT_SHAPE if same else PAPER_INPUT_SHAPE,
        min_size=2**depth if same else valid_input_sizes(depth)[0], **common,
    )
    _check_plain_sides(args.input_shape, padding, depth)
    batch_norm = bool(common["batch_norm"])
    block_type = common["decoder_block_type"]
    inputs = keras.Input(shape=args.input_shape, name="input_layer")
    x = inputs
    skips = []
    for level in range(depth):
        x = _double_conv(
            x, base_filters * 2**level, padding=padding, batch_norm=batch_norm,
            name=f"enc{level + 1}",
        )
        skips.append(x)
        x = keras.layers.MaxPooling2D(2, strides=2, name=f"enc{level + 1}_pool")(x)
    x = _double_conv(
        x, base_filters * 2**depth, padding=padding, batch_norm=batch_norm, name="bottleneck"
    )
    if common["dropout"]:
        x = keras.layers.Dropout(common["dropout"], name="bottleneck_dropout")(x)
    for level in reversed(range(depth)):
        filters = base_filters * 2**level
        block = f"dec{level + 1}"
        x = _up(
            x, filters, 2, block_type=block_type, batch_norm=batch_norm, act=batch_norm,
            name=block,
        )
        skip = skips[level]
        if padding == "valid":
            dh = skip.shape[1] - x.shape[1]
            dw = skip.shape[2] - x.shape[2]
            skip = keras.layers.Cropping2D(
                ((dh // 2, dh - dh // 2), (dw // 2, dw - dw // 2)), name=f"{block}_crop"
            )(skip)
        x = keras.layers.Concatenate(name=f"{block}_concat")([skip, x])
        x = _double_conv(x, filters, padding=padding, batch_norm=batch_norm, name=block)
    return finish_model(inputs, _head(x, args), args, MODEL)


def _check_plain_sides(shape: tuple[Any, Any, int], padding: str, depth: int) -> None:
    """The paper's U-Net's side rules beyond the minimum (multiples, or the valid sizes)."""
    if padding == "same":
        step = 2**depth
        for side in shape[:2]:
            if side is not None and side % step:
                raise ValueError(
                    f"{MODEL}: with padding=\"same\" and depth={depth}, `input_shape` sides must "
                    f"be multiples of 2**depth = {step}; {side} is not (the nearest that work: "
                    f"{max(step, side // step * step)}, {side // step * step + step}). "
                    f"Received: input_shape={shape!r}"
                )
        return
    for side in shape[:2]:
        if valid_output_size(side, depth) is None:
            sizes = valid_input_sizes(depth)
            raise ValueError(
                f"{MODEL}: with padding=\"valid\" and depth={depth}, `input_shape` sides must be "
                f"{2**depth}*k + {2 * CONVS_PER_LEVEL * (2 ** (depth + 1) - 1)} so every pooling "
                f"sees an even size (e.g. {', '.join(map(str, sizes))}, …"
                f"{', 572' if depth == PAPER_DEPTH else ''}); {side} is not. "
                f"Received: input_shape={shape!r}"
            )


# ----------------------------------------------------------------------------- zoo encoders


def _check_backbone(backbone: Any) -> Any:
    eligible = eligible_backbones()
    if not isinstance(backbone, str) or backbone.lower() not in eligible:
        reason = ""
        if isinstance(backbone, str) and backbone.lower() in list_models():
            reason = " (it has no spatial feature maps declared as feature_taps)"
        raise fail(
            "backbone", backbone,
            f"None (the paper's U-Net) or a classification model with spatial feature maps"
            f"{reason}; eligible backbones: {', '.join(eligible)}",
            where=MODEL,
        )
    return get_spec(backbone.lower())


@common_args(arguments=UNET_ARGS, arguments_doc=UNET_ARGS_DOC)
def backbone_unet(
    backbone: str,
    input_shape: Any = None,
    classes: int = 2,
    *,
    decoder_filters: Any = None,
    encoder_weights: Any = None,
    encoder_freeze: bool = False,
    **common: Any,
) -> keras.Model:
    """A U-Net whose encoder is a zoo classification model (its declared ``feature_taps``).

    Args:
        backbone: the name of a registered classification model with declared
            ``feature_taps`` (:func:`eligible_backbones`).
        input_shape: ``(height, width, channels)``; ``None``: the backbone's default input. Any
            size the backbone accepts works; maps that are not exactly input/stride are resized
            to the skip's size.
        classes: output channels; 1 gives a sigmoid (binary) output, more a softmax.
        decoder_filters: the filters of each decoder block from deep to shallow; ``None``:
            (…, 64, 32, 16), one per block.
        encoder_weights: ``None`` or any ``weights`` SOURCE of the backbone's builder:
            ``"imagenet"`` (where keras.applications publishes weights), a weight file
            (``.keras``, ``.weights.h5`` or legacy ``.h5``) or a classification run folder of
            this package, loaded into the encoder (every layer checked by name and shape, the
            classifier skipped).
        encoder_freeze: make the encoder's layers non-trainable.
    """
    spec = _check_backbone(backbone)
    check_bool("encoder_freeze", encoder_freeze, where=MODEL)
    encoder_weights = check_weights(
        "encoder_weights", encoder_weights, imagenet=spec.keras_app is not None, where=MODEL
    )
    if common["name"] is None:
        common["name"] = f"{MODEL}_{spec.name}"
    args = _check_shared(
        input_shape=input_shape, classes=classes, default=spec.default_input_shape,
        min_size=spec.min_input_size, allow_none=False, **common,
    )
    taps = sorted(spec.feature_taps.items())  # shallow to deep
    strides = [s for s, _ in taps]
    min_stride = strides[0]
    n_blocks = len(strides) - 1 + (1 if min_stride > 1 else 0)
    if decoder_filters is None:
        decoder_filters = tuple(16 * 2 ** (n_blocks - 1 - i) for i in range(n_blocks))
    if (
        not isinstance(decoder_filters, (tuple, list))
        or len(decoder_filters) != n_blocks
        or not all(isinstance(f, int) and not isinstance(f, bool) and f > 0 for f in decoder_filters)
    ):
        raise ValueError(
            f"{MODEL}: `decoder_filters` must be None or {n_blocks} positive integers for "
            f"backbone {spec.name!r} (one per decoder block: its taps are at strides "
            f"{strides}{', plus a last block to stride 1' if min_stride > 1 else ''}). "
            f"Received: decoder_filters={decoder_filters!r}"
        )
    # Any SOURCE of the classification builders (models/transfer.py): the encoder is the
    # backbone's include_top=False model, every layer checked by name and shape.
    encoder = spec.builder(input_shape=args.input_shape, include_top=False, weights=encoder_weights)
    maps = {}
    for stride, layer_name in taps:
        try:
            maps[stride] = encoder.get_layer(layer_name).output
        except ValueError as err:
            raise ValueError(
                f"{MODEL}: the registry declares feature tap {stride}: {layer_name!r} for "
                f"{spec.name!r}, but its include_top=False model has no such layer. "
                f"Received: backbone={spec.name!r}"
            ) from err
    batch_norm = common["batch_norm"] is not False
    block_type = common["decoder_block_type"]
    x = maps[strides[-1]]
    if common["dropout"]:
        x = keras.layers.Dropout(common["dropout"], name="bottleneck_dropout")(x)
    targets = [(s, maps[s]) for s in reversed(strides[:-1])]
    if min_stride > 1:
        targets.append((1, None))
    prev = strides[-1]
    input_hw = tuple(encoder.input.shape[1:3])
    for i, ((stride, skip), filters) in enumerate(zip(targets, decoder_filters), start=1):
        block = f"decoder_stage{i}"
        factor = max(prev // stride, 1)
        if factor > 1:
            x = _up(
                x, filters, factor, block_type=block_type, batch_norm=batch_norm, act=True,
                name=block,
            )
        size = tuple(skip.shape[1:3]) if skip is not None else input_hw
        x = _match_size(x, size, f"{block}_resize")
        if skip is not None:
            x = keras.layers.Concatenate(name=f"{block}_concat")([x, skip])
        x = _double_conv(x, filters, padding="same", batch_norm=batch_norm, name=block)
        prev = stride
    x = _match_size(x, input_hw, "decoder_resize")
    model = finish_model(
        encoder.input, _head(x, args), args, MODEL, keep=encoder.layers if encoder_weights is not None else ()
    )
    if encoder_freeze:
        for layer in encoder.layers:
            layer.trainable = False
    return model


# ----------------------------------------------------------------------------- build_unet


def _entry_arguments() -> tuple[inspect.Parameter, ...]:
    """The keyword arguments of both entry points, each once (a shared one has one default)."""
    merged: dict[str, inspect.Parameter] = {}
    for entry in (original_unet, backbone_unet):
        for p in inspect.signature(entry).parameters.values():
            if p.kind is p.KEYWORD_ONLY:
                if merged.setdefault(p.name, p).default != p.default:
                    raise TypeError(f"original_unet and backbone_unet disagree on {p.name}'s default")
    return tuple(merged.values())


def _only_for(entry: Any, other: Any, options: dict[str, Any], why: str) -> dict[str, Any]:
    """The ``options`` ``entry`` takes; one that only ``other`` takes must keep its default."""
    own = inspect.signature(entry).parameters
    for argument, p in inspect.signature(other).parameters.items():
        if p.kind is p.KEYWORD_ONLY and argument not in own:
            value = options.pop(argument)
            if value != p.default:
                raise fail(argument, value, why, where=MODEL)
    return options


@register_model(
    MODEL, task="segmentation", family="unet", paper="Ronneberger, Fischer & Brox, 2015",
    year=2015, arxiv="1505.04597", default_input_shape=SAME_INPUT_SHAPE,
    min_input_size=2**PAPER_DEPTH, params=PAPER_PARAMS, test_input_shape=(64, 64, 1),
    paper_input_shape=PAPER_INPUT_SHAPE,
)
@common_args(arguments=_entry_arguments(), arguments_doc=UNET_ARGS_DOC)
def build_unet(
    input_shape: Any = None,
    classes: int = 2,
    backbone: str | None = None,
    padding: str = "same",
    **options: Any,
) -> keras.Model:
    """U-Net ("U-Net: Convolutional networks for biomedical image segmentation", Ronneberger,
    Fischer & Brox, MICCAI 2015, arXiv:1505.04597), plain or over a zoo encoder.

    ``backbone=None`` builds :func:`original_unet`, the paper's network (by default with padded
    convolutions, output at input resolution, 31,030,658 parameters with 2 classes at any input
    whose sides are multiples of 16, default 512x512x1; ``padding="valid"`` is the paper's exact
    572x572x1 -> 388x388x2 network). A backbone name builds :func:`backbone_unet` over that zoo
    model. An option of one of them given to the other raises, unless it keeps its default.

    Args:
        input_shape: ``(height, width, channels)``; see the two entry points for what each
            accepts and its default.
        classes: output channels; 1 gives a sigmoid (binary) output, more a softmax.
        backbone: ``None`` for the paper's encoder, or the name of a registered classification
            model with declared ``feature_taps`` (:func:`eligible_backbones`).
        padding: ``"same"`` or ``"valid"`` (only without a backbone).
        depth, base_filters: the paper's U-Net's poolings (4) and first-level filters (64).
        decoder_filters, encoder_weights, encoder_freeze: a backbone U-Net's decoder widths,
            encoder weight file (or ``"imagenet"``) and frozen encoder.

    Example:
        >>> model = build_unet((64, 64, 1), classes=2, base_filters=16, depth=3)
        >>> model.output_shape
        (None, 64, 64, 2)
    """
    check_choice("padding", padding, PADDINGS, where=MODEL)
    if backbone is None:
        options = _only_for(
            original_unet, backbone_unet, options,
            "left at its default without a backbone (it applies only with a backbone; "
            "backbone=None builds the paper's encoder: use base_filters/depth)",
        )
        return original_unet(input_shape, classes, padding, **options)
    if padding != "same":
        raise ValueError(
            f"{MODEL}: padding=\"valid\" is the paper's own network and needs backbone=None; "
            f"a backbone's encoder decides its own padding (use padding=\"same\"). "
            f"Received: padding={padding!r}, backbone={backbone!r}"
        )
    options = _only_for(
        backbone_unet, original_unet, options,
        "left at its default with a backbone (it applies only to the plain U-Net, "
        "backbone=None; a backbone's taps set the depth, use decoder_filters for widths)",
    )
    return backbone_unet(backbone, input_shape, classes, **options)
