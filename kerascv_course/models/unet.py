"""U-Net (Ronneberger, Fischer & Brox, 2015) and U-Nets over any zoo encoder.

Two ways to build one with :func:`build_unet`:

* ``backbone=None``: the paper's network. A contracting path of two 3x3 convolutions and a 2x2
  max-pooling per level (64, 128, 256, 512 filters, then 1024 at the bottom), an expanding path of
  2x2 up-convolutions, concatenations with the encoder's maps and two 3x3 convolutions, and a 1x1
  convolution to the classes. ``padding="valid"`` is the paper's exact network (unpadded
  convolutions, cropped skip connections: 572x572 in, 388x388 out); ``padding="same"`` (default)
  keeps the input resolution.
* ``backbone="<classification model>"``: that zoo model, built with ``include_top=False`` at the
  U-Net's input shape, is the encoder; its skip connections are the layers declared in its registry
  entry's ``feature_taps`` (``{stride: layer_name}``), never found by searching names. A U-Net
  decoder brings the deepest tap back to the input resolution. Option names follow
  segmentation_models (``encoder_weights``, ``encoder_freeze``, ``decoder_filters``,
  ``decoder_block_type``).
"""

from __future__ import annotations

import os
from typing import Any

import keras

from kerascv_course.models.blocks import conv_bn_act
from kerascv_course.models.common import (
    check_choice,
    check_input_shape,
    check_range,
    load_weight_file,
)
from kerascv_course.models.registry import get_spec, list_models, register_model

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


def _head(x: Any, classes: int, activation: Any) -> Any:
    if activation == "auto":
        activation = "sigmoid" if classes == 1 else "softmax"
    return keras.layers.Conv2D(classes, 1, activation=activation, name="predictions")(x)


# ----------------------------------------------------------------------------- the paper's U-Net


def _plain_unet(
    shape: tuple[Any, Any, int],
    *,
    classes: int,
    padding: str,
    depth: int,
    base_filters: int,
    batch_norm: bool,
    dropout: float,
    block_type: str,
    activation: Any,
    name: str,
) -> keras.Model:
    inputs = keras.Input(shape=shape, name="input_layer")
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
    if dropout:
        x = keras.layers.Dropout(dropout, name="bottleneck_dropout")(x)
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
    return keras.Model(inputs, _head(x, classes, activation), name=name)


# ----------------------------------------------------------------------------- zoo encoders


def _check_backbone(backbone: Any) -> Any:
    eligible = eligible_backbones()
    if not isinstance(backbone, str) or backbone.lower() not in eligible:
        reason = ""
        if isinstance(backbone, str) and backbone.lower() in list_models():
            reason = " (it has no spatial feature maps declared as feature_taps)"
        raise ValueError(
            f"{MODEL}: `backbone` must be None (the paper's U-Net) or a classification model with "
            f"spatial feature maps{reason}; eligible backbones: {', '.join(eligible)}. "
            f"Received: backbone={backbone!r}"
        )
    return get_spec(backbone.lower())


def load_encoder_weights(encoder: keras.Model, path: str) -> None:
    """Load a classification model's weight file into an ``include_top=False`` encoder.

    Args:
        encoder: the backbone built with ``include_top=False``.
        path: a whole-model ``.keras`` file (layers matched by name, the top skipped), a Keras
            ``.weights.h5`` file saved from the same architecture (with or without its top:
            the top comes last and is left unread), or a keras.applications-style legacy ``.h5``
            file (matched by layer name).

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: when the file does not fit the encoder (no layer in common, or a shape
            differs); the message names the layer.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{MODEL}: no weight file at that path. Received: encoder_weights={path!r}"
        )
    if path.endswith(".keras"):
        source = keras.saving.load_model(path, compile=False, safe_mode=True)
        source_layers = {layer.name: layer for layer in source.layers}
        matched = 0
        for layer in encoder.layers:
            if not layer.weights:
                continue
            if layer.name not in source_layers:
                raise ValueError(
                    f"{MODEL}: the encoder layer {layer.name!r} is not in the weight file's model "
                    f"{source.name!r}; `encoder_weights` must come from the same architecture. "
                    f"Received: encoder_weights={path!r}"
                )
            values = source_layers[layer.name].get_weights()
            shapes = [tuple(w.shape) for w in layer.weights]
            if [tuple(v.shape) for v in values] != shapes:
                raise ValueError(
                    f"{MODEL}: the encoder layer {layer.name!r} has weights of shapes {shapes} "
                    f"but the file's have {[tuple(v.shape) for v in values]}. "
                    f"Received: encoder_weights={path!r}"
                )
            layer.set_weights(values)
            matched += 1
        if not matched:
            raise ValueError(
                f"{MODEL}: no encoder layer found in the weight file. "
                f"Received: encoder_weights={path!r}"
            )
    elif path.endswith(".h5") and not path.endswith(".weights.h5"):
        try:
            encoder.load_weights(path, by_name=True)
        except (ValueError, KeyError, OSError) as err:
            raise ValueError(
                f"{MODEL}: the weight file does not fit the encoder: {err} "
                f"Received: encoder_weights={path!r}"
            ) from err
    else:
        load_weight_file(encoder, path, model=MODEL)


def _backbone_unet(
    spec: Any,
    shape: tuple[Any, Any, int] | None,
    *,
    classes: int,
    encoder_weights: Any,
    encoder_freeze: bool,
    decoder_filters: Any,
    block_type: str,
    batch_norm: bool,
    dropout: float,
    activation: Any,
    name: str,
) -> keras.Model:
    builder_weights = encoder_weights if encoder_weights == "imagenet" else None
    encoder = spec.builder(
        input_shape=shape if shape is not None else spec.default_input_shape,
        include_top=False,
        weights=builder_weights,
    )
    if encoder_weights is not None and encoder_weights != "imagenet":
        load_encoder_weights(encoder, encoder_weights)
    taps = sorted(spec.feature_taps.items())  # shallow to deep
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
    for h, w in (m.shape[1:3] for m in maps.values()):
        if h is None or w is None:
            raise ValueError(
                f"{MODEL}: a U-Net over a backbone needs a fixed input size. "
                f"Received: input_shape={shape!r}"
            )
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
    x = maps[strides[-1]]
    if dropout:
        x = keras.layers.Dropout(dropout, name="bottleneck_dropout")(x)
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
    model = keras.Model(encoder.input, _head(x, classes, activation), name=name)
    if encoder_freeze:
        for layer in encoder.layers:
            layer.trainable = False
    return model


# ----------------------------------------------------------------------------- public builder


@register_model(
    MODEL, task="segmentation", family="unet", paper="Ronneberger, Fischer & Brox, 2015",
    year=2015, arxiv="1505.04597", default_input_shape=SAME_INPUT_SHAPE,
    min_input_size=2**PAPER_DEPTH, params=PAPER_PARAMS, test_input_shape=(64, 64, 1),
    paper_input_shape=PAPER_INPUT_SHAPE,
)
def build_unet(
    input_shape: Any = None,
    classes: int = 2,
    backbone: str | None = None,
    padding: str = "same",
    *,
    depth: int = PAPER_DEPTH,
    base_filters: int = PAPER_BASE_FILTERS,
    batch_norm: bool | None = None,
    dropout: float = 0.0,
    decoder_block_type: str = "transpose",
    decoder_filters: Any = None,
    encoder_weights: Any = None,
    encoder_freeze: bool = False,
    classifier_activation: Any = "auto",
    weights: Any = None,
    name: str | None = None,
) -> keras.Model:
    """U-Net ("U-Net: Convolutional networks for biomedical image segmentation", Ronneberger,
    Fischer & Brox, MICCAI 2015, arXiv:1505.04597), plain or over a zoo encoder.

    The default is the paper's network with padded convolutions (output at input resolution):
    64 -> 1024 filters over 4 poolings, 2x2 up-convolutions, 31,030,658 parameters with 2
    classes, at any input whose sides are multiples of 16 (default 512x512x1). With
    ``padding="valid"`` it is the paper's exact network: 572x572x1 in, 388x388x2 out, the same
    31,030,658 parameters.

    Args:
        input_shape: ``(height, width, channels)``. ``None``: 512x512x1 for ``padding="same"``,
            the paper's 572x572x1 for ``"valid"``, the backbone's default input with a backbone.
            ``"same"``: sides must be multiples of ``2**depth`` (``None`` sides allowed).
            ``"valid"``: sides of the form ``2**depth * k + 4 * (2**(depth + 1) - 1)`` (188,
            204, …, 572 at depth 4). With a backbone any size the backbone accepts works; maps
            that are not exactly input/stride are resized to the skip's size.
        classes: output channels; 1 gives a sigmoid (binary) output, more a softmax.
        backbone: ``None`` for the paper's encoder, or the name of a registered classification
            model with declared ``feature_taps`` (:func:`eligible_backbones`).
        padding: ``"same"`` or ``"valid"`` (the paper's unpadded convolutions and cropped skip
            connections; only without a backbone).
        depth: number of poolings of the plain U-Net (4 in the paper).
        base_filters: filters of the plain U-Net's first level (64 in the paper), doubled per
            level.
        batch_norm: batch normalisation after every convolution; ``None``: off for the plain
            U-Net (the paper has none), on for a backbone decoder.
        dropout: dropout rate at the end of the contracting path (the paper uses dropout there).
        decoder_block_type: ``"transpose"`` (transposed convolution, the paper's up-convolution)
            or ``"upsampling"`` (bilinear up-sampling followed by a convolution).
        decoder_filters: with a backbone, the filters of each decoder block from deep to
            shallow; ``None``: (…, 64, 32, 16), one per block.
        encoder_weights: with a backbone: ``None``, ``"imagenet"`` (where keras.applications
            publishes weights), or a classification weight file (``.keras``, ``.weights.h5`` or
            legacy ``.h5``), loaded into the encoder by layer name, the top skipped.
        encoder_freeze: with a backbone, make the encoder's layers non-trainable.
        classifier_activation: ``"auto"`` (sigmoid for 1 class, softmax otherwise), ``None`` for
            logits, or any Keras activation. The zoo's segmentation losses expect probabilities.
        weights: ``None`` or the path of a weight file of this same U-Net configuration.
        name: the model's name (default ``"unet"`` or ``"unet_<backbone>"``).

    Returns:
        A ``keras.Model`` mapping ``(H, W, C)`` images to ``(H', W', classes)`` probabilities
        (``H' = H`` except with ``padding="valid"``).

    Raises:
        ValueError: for an input size the network cannot take (the message says which work), a
            backbone without spatial features (the message lists the eligible ones),
            ``padding="valid"`` with a backbone, or any other argument outside what is allowed.
        FileNotFoundError: when ``weights`` or ``encoder_weights`` is a missing file.

    Example:
        >>> model = build_unet((64, 64, 1), classes=2, base_filters=16, depth=3)
        >>> model.output_shape
        (None, 64, 64, 2)
    """
    check_choice(MODEL, "padding", padding, PADDINGS)
    check_choice(MODEL, "decoder_block_type", decoder_block_type, DECODER_BLOCK_TYPES)
    check_range(MODEL, "classes", classes, low=1, integer=True)
    check_range(MODEL, "dropout", dropout, low=0.0, high=1.0)
    check_choice(MODEL, "encoder_freeze", encoder_freeze, (True, False))
    check_choice(MODEL, "batch_norm", batch_norm, (None, True, False))
    if classifier_activation not in ("auto", None) and not callable(classifier_activation):
        try:
            keras.activations.get(classifier_activation)
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"{MODEL}: `classifier_activation` must be \"auto\", None, a callable or a Keras "
                f"activation name. Received: classifier_activation={classifier_activation!r}"
            ) from err
    if name is not None and not isinstance(name, str):
        raise ValueError(f"{MODEL}: `name` must be a string. Received: name={name!r}")
    if weights is not None:
        weights = os.fspath(weights)
        if not os.path.exists(weights):
            raise FileNotFoundError(
                f"{MODEL}: `weights` must be None or an existing weight file of this U-Net. "
                f"Received: weights={weights!r}"
            )
    if backbone is None:
        for argument, value in (
            ("encoder_weights", encoder_weights), ("decoder_filters", decoder_filters),
        ):
            if value is not None:
                raise ValueError(
                    f"{MODEL}: `{argument}` applies only with a backbone (backbone=None builds "
                    f"the paper's encoder; use base_filters/depth). Received: {argument}={value!r}"
                )
        if encoder_freeze:
            raise ValueError(
                f"{MODEL}: `encoder_freeze` applies only with a backbone. "
                f"Received: encoder_freeze=True"
            )
        check_range(MODEL, "depth", depth, low=1, high=8, integer=True)
        check_range(MODEL, "base_filters", base_filters, low=1, integer=True)
        shape = _check_plain_shape(input_shape, padding, depth)
        net = _plain_unet(
            shape, classes=classes, padding=padding, depth=depth, base_filters=base_filters,
            batch_norm=bool(batch_norm), dropout=dropout, block_type=decoder_block_type,
            activation=classifier_activation, name=name or MODEL,
        )
    else:
        spec = _check_backbone(backbone)
        if padding != "same":
            raise ValueError(
                f"{MODEL}: padding=\"valid\" is the paper's own network and needs backbone=None; "
                f"a backbone's encoder decides its own padding (use padding=\"same\"). "
                f"Received: padding={padding!r}, backbone={backbone!r}"
            )
        for argument, value, default in (
            ("depth", depth, PAPER_DEPTH), ("base_filters", base_filters, PAPER_BASE_FILTERS),
        ):
            if value != default:
                raise ValueError(
                    f"{MODEL}: `{argument}` applies only to the plain U-Net (backbone=None); a "
                    f"backbone's taps set the depth, use decoder_filters for widths. "
                    f"Received: {argument}={value!r}"
                )
        if encoder_weights is not None and not isinstance(encoder_weights, (str, os.PathLike)):
            raise ValueError(
                f"{MODEL}: `encoder_weights` must be None, \"imagenet\" or a weight file path. "
                f"Received: encoder_weights={encoder_weights!r}"
            )
        if encoder_weights is not None:
            encoder_weights = os.fspath(encoder_weights)
            if encoder_weights != "imagenet" and not os.path.exists(encoder_weights):
                raise FileNotFoundError(
                    f"{MODEL}: `encoder_weights` must be None, \"imagenet\" or an existing "
                    f"weight file. Received: encoder_weights={encoder_weights!r}"
                )
        shape = None
        if input_shape is not None:
            shape = check_input_shape(
                input_shape, model=f"{MODEL}({spec.name})", default=spec.default_input_shape,
                min_size=spec.min_input_size,
            )
        net = _backbone_unet(
            spec, shape, classes=classes, encoder_weights=encoder_weights,
            encoder_freeze=encoder_freeze, decoder_filters=decoder_filters,
            block_type=decoder_block_type,
            batch_norm=True if batch_norm is None else batch_norm, dropout=dropout,
            activation=classifier_activation, name=name or f"{MODEL}_{spec.name}",
        )
    if weights is not None:
        load_weight_file(net, weights, model=MODEL)
    return net


def _check_plain_shape(input_shape: Any, padding: str, depth: int) -> tuple[Any, Any, int]:
    if padding == "same":
        step = 2**depth
        shape = check_input_shape(
            input_shape, model=MODEL, default=SAME_INPUT_SHAPE, min_size=step, allow_none=True,
        )
        for side in shape[:2]:
            if side is not None and side % step:
                raise ValueError(
                    f"{MODEL}: with padding=\"same\" and depth={depth}, `input_shape` sides must "
                    f"be multiples of 2**depth = {step}; {side} is not (the nearest that work: "
                    f"{max(step, side // step * step)}, {side // step * step + step}). "
                    f"Received: input_shape={tuple(input_shape)!r}"
                )
        return shape
    shape = check_input_shape(
        input_shape, model=MODEL, default=PAPER_INPUT_SHAPE, min_size=valid_input_sizes(depth)[0],
    )
    for side in shape[:2]:
        if valid_output_size(side, depth) is None:
            sizes = valid_input_sizes(depth)
            raise ValueError(
                f"{MODEL}: with padding=\"valid\" and depth={depth}, `input_shape` sides must be "
                f"{2**depth}*k + {2 * CONVS_PER_LEVEL * (2 ** (depth + 1) - 1)} so every pooling "
                f"sees an even size (e.g. {', '.join(map(str, sizes))}, …"
                f"{', 572' if depth == PAPER_DEPTH else ''}); {side} is not. "
                f"Received: input_shape={tuple(input_shape)!r}"
            )
    return shape
