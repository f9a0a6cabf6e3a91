"""DeconvNet (Zeiler & Fergus, 2013, "Visualizing and understanding convolutional networks",
arXiv:1311.2901): a feature map's strongest activation projected back to pixel space.

The chosen activation is kept, every other activation of the layer set to zero, and the signal
is sent back down to the image through the "deconvnet" attached to the network:

- **max-unpooling** through the pooling *switches* (the positions of the maxima recorded in the
  forward pass);
- **rectification**: ReLU applied to the backward signal itself (not masked by the forward
  activation, as a gradient would be);
- **filtering** with the transposed filters of each convolution (biases play no part).

These are the backward rules of backpropagation except at the ReLUs, so the projection is
computed as a gradient of the chosen activation with respect to the input while every ReLU of the
network (``activation="relu"``, ``keras.layers.ReLU``, ReLU6) has its backward rule replaced by
``relu(signal)``. Layers that are linear at inference (batch normalisation, average pooling,
padding, concatenation, additions, …) pass the signal by their transpose, as the paper's
deconvnet would. Layers with another non-linearity (sigmoid or tanh units, squeeze-and-excitation
gates, local response normalisation) have no deconvnet rule in the paper: the signal goes through
their ordinary gradient, and :attr:`Projection.plain_gradient` names them (a warning is logged).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerascv_course.viz.inspect import _save  # noqa: E402

log = logging.getLogger(__name__)

RELU_NAMES = ("relu", "relu6")
LINEAR_NAMES = ("linear", "identity")
# Layers that are linear at inference, or whose backward rule is the deconvnet's (max pooling's
# gradient is the unpooling through its switches); their ``activation``, if any, is checked.
DECONV_LAYERS = frozenset({
    "InputLayer", "Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D",
    "Dense", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
    "ZeroPadding2D", "Cropping2D", "UpSampling2D", "BatchNormalization", "Add", "Subtract", "Average",
    "Concatenate", "Flatten", "Reshape", "Permute", "Dropout", "SpatialDropout2D", "GaussianNoise",
    "Rescaling", "Normalization", "Identity", "Activation", "ReLU", "ConnectionTableConv2D",
    "TrainableSubsampling", "ScaledResidual", "DropPathSampler", "FractalJoin",
})


@dataclass
class Projection:
    """One DeconvNet projection.

    Attributes:
        layer: the layer whose feature map was projected.
        channel: the feature map (channel) of that layer.
        position: ``(row, column)`` of its strongest activation.
        activation: that activation's value.
        image: the projection in pixel space, shaped like the input image ``(H, W, C)``.
        plain_gradient: layers with no deconvnet rule that the signal crossed by their gradient.
    """

    layer: str
    channel: int
    position: tuple[int, int]
    activation: float
    image: np.ndarray
    plain_gradient: tuple[str, ...] = field(default=())


def _deconv_relu(forward: Any) -> Any:
    """``forward`` (a ReLU) with the deconvnet's backward rule: ``relu(signal)``."""

    def apply(x: Any, *args: Any, **kwargs: Any) -> Any:
        @tf.custom_gradient
        def rectified(inputs: Any) -> Any:
            def backward(signal: Any) -> Any:
                return tf.nn.relu(signal)

            return forward(inputs, *args, **kwargs), backward

        return rectified(x)

    return apply


def _layers(model: keras.Model) -> Iterator[keras.layers.Layer]:
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
        else:
            yield layer


@contextlib.contextmanager
def deconvnet_rules(model: keras.Model) -> Iterator[list[str]]:
    """Within the block, every ReLU of ``model`` back-propagates ``relu(signal)``.

    Yields the names of the layers with another non-linearity (no deconvnet rule; their ordinary
    gradient applies). The model is restored on exit.
    """
    undo: list[tuple[Any, str, Any]] = []
    plain: list[str] = []
    try:
        for layer in _layers(model):
            kind = type(layer).__name__
            if kind == "ReLU":
                if float(getattr(layer, "negative_slope", 0.0)) != 0.0:
                    plain.append(layer.name)  # a leaky ReLU: not the paper's unit
                    continue
                undo.append((layer, "call", vars(layer).get("call")))
                layer.call = _deconv_relu(type(layer).call.__get__(layer))
                continue
            activation = getattr(layer, "activation", None)
            name = getattr(activation, "__name__", None)
            if activation is not None and name in RELU_NAMES:
                undo.append((layer, "activation", activation))
                layer.activation = _deconv_relu(activation)
            elif kind not in DECONV_LAYERS or (activation is not None and name not in LINEAR_NAMES):
                plain.append(layer.name)
        yield plain
    finally:
        for layer, attribute, old in reversed(undo):
            if attribute == "call" and old is None:
                del layer.call
            else:
                setattr(layer, attribute, old)


def feature_probe(model: keras.Model, layer: str) -> keras.Model:
    """The model from ``model``'s input to ``layer``'s feature maps.

    Raises:
        ValueError: when ``layer`` is not a layer of ``model`` (closest names suggested) or has no
            spatial output ``(H, W, C)``.
    """
    names = [item.name for item in model.layers]
    if layer not in names:
        import difflib

        close = difflib.get_close_matches(layer, names, n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else " (kerascv-course summary MODEL lists them)"
        raise ValueError(f"`layer` must name a layer of {model.name!r}{hint}. Received: layer={layer!r}")
    output = model.get_layer(layer).output
    if len(output.shape) != 4:
        raise ValueError(
            f"`layer` must name a layer with feature maps (an output of shape (H, W, C)); {layer!r} "
            f"gives {tuple(output.shape)}. Received: layer={layer!r}"
        )
    return keras.Model(model.input, output)


def deconvnet(
    model: keras.Model,
    image: np.ndarray,
    layer: str,
    *,
    top: int = 4,
    channels: Sequence[int] | None = None,
) -> list[Projection]:
    """Project the strongest activation of ``layer``'s ``top`` strongest feature maps (or of the
    given ``channels``) back to pixel space, each on its own.

    Args:
        model: a functional Keras model (any zoo model, or a trained run's).
        image: one image ``(H, W, C)`` as the model eats it (preprocessed).
        layer: the name of a layer with feature maps.
        top: how many feature maps, strongest maximum activation first.
        channels: these feature maps instead of the ``top`` strongest.

    Returns:
        One :class:`Projection` per feature map.

    Example:
        >>> [p.channel for p in deconvnet(model, image, "conv5", top=3)]
        [117, 12, 201]
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(f"`top` must be a positive integer. Received: top={top!r}")
    probe = feature_probe(model, layer)
    x = tf.convert_to_tensor(np.asarray(image, np.float32)[None])
    fmap = np.asarray(probe(x, training=False))[0]
    depth = fmap.shape[-1]
    if channels is None:
        strongest = fmap.reshape(-1, depth).max(axis=0)
        chosen = [int(c) for c in np.argsort(-strongest, kind="stable")[:top]]
    else:
        chosen = [int(c) for c in channels]
        bad = [c for c in chosen if not 0 <= c < depth]
        if bad:
            raise ValueError(f"`channels` must be in [0, {depth}) for {layer!r}. Received: channels={list(channels)}")
    positions = [np.unravel_index(int(np.argmax(fmap[..., c])), fmap.shape[:2]) for c in chosen]
    batch = tf.repeat(x, len(chosen), axis=0)  # one copy per projection: inference mode keeps them apart
    index = tf.constant([[k, int(i), int(j), c] for k, ((i, j), c) in enumerate(zip(positions, chosen))])
    with deconvnet_rules(probe) as plain:
        with tf.GradientTape() as tape:
            tape.watch(batch)
            picked = tf.gather_nd(probe(batch, training=False), index)
            total = tf.reduce_sum(picked)
        projected = np.asarray(tape.gradient(total, batch))
    if plain:
        log.warning("DeconvNet: no deconvnet rule for %s; the signal crossed them by their gradient.",
                    ", ".join(plain))
    return [
        Projection(layer=layer, channel=c, position=(int(i), int(j)), activation=float(fmap[i, j, c]),
                   image=projected[k], plain_gradient=tuple(plain))
        for k, ((i, j), c) in enumerate(zip(positions, chosen))
    ]


def _shown(array: np.ndarray) -> tuple[np.ndarray, str | None]:
    a = np.asarray(array, np.float32)
    a = (a - a.min()) / (a.max() - a.min() + 1e-12)
    return (a, None) if a.shape[-1] == 3 else (a[..., 0], "gray")


def plot_deconvnet(
    model: keras.Model,
    image: np.ndarray,
    path: str | os.PathLike[str],
    *,
    layer: str,
    top: int = 4,
    channels: Sequence[int] | None = None,
) -> str:
    """Save the image next to the DeconvNet projections of ``layer``'s ``top`` strongest feature
    maps (or of the given ``channels``) as a PNG, each projection stretched to its own range, as
    in Zeiler & Fergus, Fig. 2."""
    projections = deconvnet(model, image, layer, top=top, channels=channels)
    fig, axes = plt.subplots(1, len(projections) + 1, figsize=(2.4 * (len(projections) + 1), 2.9), squeeze=False)
    picture, cmap = _shown(image)
    axes[0][0].imshow(picture, cmap=cmap)
    axes[0][0].set_title("input", fontsize=9)
    for ax, p in zip(axes[0][1:], projections):
        picture, cmap = _shown(p.image)
        ax.imshow(picture, cmap=cmap)
        ax.set_title(f"map {p.channel} at {p.position}\nactivation {p.activation:.3g}", fontsize=8)
    for ax in axes[0]:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{model.name}: DeconvNet projections of {layer} (Zeiler & Fergus 2013)", fontsize=10)
    plain = projections[0].plain_gradient
    if plain:
        names = ", ".join(plain[:6]) + (f" and {len(plain) - 6} more" if len(plain) > 6 else "")
        fig.text(0.5, -0.02, f"no deconvnet rule, ordinary gradient through: {names}", ha="center", fontsize=7)
    return _save(fig, path)
