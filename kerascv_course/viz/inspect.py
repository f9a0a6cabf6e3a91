"""Looking inside a network: first-layer filters, feature maps and saliency maps.

The figures the course shows for AlexNet/ZFNet (Zeiler & Fergus, 2013) and for gradient saliency
(Simonyan, Vedaldi & Zisserman, 2013, arXiv:1312.6034), for any zoo model or trained run.
"""

from __future__ import annotations

import math
import os
from typing import Any

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerascv_course.viz.figures import save_png  # noqa: E402

#: Figures narrower than this (inches) are scaled up: LeNet-5's 6 filters were a 252-pixel thumbnail.
MIN_FIGURE_WIDTH = 6.0


def _save(fig: Any, path: str | os.PathLike[str]) -> str:
    return save_png(fig, path, bbox_inches="tight")


def first_conv_layer(model: keras.Model) -> keras.layers.Layer:
    """The first ``Conv2D`` of ``model`` (raises ``ValueError`` if it has none)."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D) and len(layer.kernel.shape) == 4:
            return layer
    raise ValueError(f"Model {model.name!r} has no Conv2D layer whose filters could be shown.")


def plot_filters(
    model: keras.Model, path: str | os.PathLike[str], *, layer: str | None = None, max_filters: int = 64
) -> str:
    """Save a grid of a convolution's filters (the first one by default) as a PNG.

    RGB filters (3 input channels) are shown in colour, others as their first input channel;
    each filter is scaled to its own range, as in Krizhevsky et al. (2012), Fig. 3.
    """
    conv = model.get_layer(layer) if layer else first_conv_layer(model)
    if not isinstance(conv, keras.layers.Conv2D):
        raise ValueError(f"`layer` must name a Conv2D layer. Received: layer={layer!r}")
    kernel = np.asarray(conv.kernel)  # (kh, kw, cin, cout)
    count = min(kernel.shape[-1], max_filters)
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    cell = max(0.9, MIN_FIGURE_WIDTH / cols)  # a few filters get big cells, not a thumbnail
    fig, axes = plt.subplots(rows, cols, figsize=(cols * cell, rows * cell + 0.6), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= count:
            continue
        ax.set_title(str(i), fontsize=8 if cell < 1.5 else 10)
        w = kernel[..., i]
        w = w if w.shape[-1] == 3 else w[..., :1]
        w = (w - w.min()) / (w.max() - w.min() + 1e-12)
        ax.imshow(w if w.shape[-1] == 3 else w[..., 0], cmap=None if w.shape[-1] == 3 else "gray",
                  interpolation="nearest")
    shown_as = "RGB" if kernel.shape[2] == 3 else "input channel 0, grey"
    fig.suptitle(f"{model.name}: {conv.name}, {count} filters {kernel.shape[0]}x{kernel.shape[1]}\n"
                 f"({shown_as}; each scaled to its own range: dark negative, light positive)",
                 fontsize=10)
    return _save(fig, path)


def feature_maps(model: keras.Model, image: np.ndarray, layers: list[str]) -> dict[str, np.ndarray]:
    """The activations of ``layers`` for one preprocessed ``image`` (H, W, C)."""
    missing = [n for n in layers if n not in {layer.name for layer in model.layers}]
    if missing:
        raise ValueError(f"`layers` names layers the model does not have: {missing}. Received: layers={layers}")
    probe = keras.Model(model.input, [model.get_layer(n).output for n in layers])
    outs = probe(np.asarray(image, np.float32)[None], training=False)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return {n: np.asarray(o)[0] for n, o in zip(layers, outs)}


def default_feature_layers(model: keras.Model, count: int = 4) -> list[str]:
    """Up to ``count`` convolution outputs spread from the input to the deepest spatial layer."""
    spatial = [
        layer.name for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D)
        and len(layer.output.shape) == 4
        and (layer.output.shape[1] or 2) > 1
    ]
    if not spatial:
        raise ValueError(f"Model {model.name!r} has no convolution whose feature maps could be shown.")
    picks = np.linspace(0, len(spatial) - 1, num=min(count, len(spatial))).round().astype(int)
    return [spatial[i] for i in sorted(set(picks))]


def plot_feature_maps(
    model: keras.Model,
    image: np.ndarray,
    path: str | os.PathLike[str],
    *,
    layers: list[str] | None = None,
    channels: int = 8,
) -> str:
    """Save the first ``channels`` feature maps of each of ``layers`` for one image as a PNG."""
    layers = layers or default_feature_layers(model)
    maps = feature_maps(model, image, layers)
    fig, axes = plt.subplots(len(layers), channels + 1, figsize=(1.3 * (channels + 1), 1.4 * len(layers) + 0.6),
                             squeeze=False)
    shown = np.asarray(image, np.float32)
    shown = (shown - shown.min()) / (shown.max() - shown.min() + 1e-12)
    for row, name in zip(axes, layers):
        row[0].imshow(shown if shown.shape[-1] == 3 else shown[..., 0], cmap="gray")
        row[0].set_ylabel(f"{name}\n{'x'.join(str(v) for v in maps[name].shape)}", fontsize=7)
        for j, ax in enumerate(row[1:]):
            fmap = maps[name]
            if j < fmap.shape[-1]:
                ax.imshow(fmap[..., j], cmap="viridis")
                ax.set_title(f"channel {j}", fontsize=7)
            else:
                ax.axis("off")
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0][0].set_title("input", fontsize=7)
    fig.suptitle(f"{model.name}: feature maps (each map scaled to its own range, yellow high)", fontsize=10)
    return _save(fig, path)


def saliency_map(model: keras.Model, image: np.ndarray, class_index: int | None = None) -> tuple[np.ndarray, int]:
    """Gradient saliency: ``max_c |d score / d pixel|`` for the predicted (or given) class.

    Returns:
        The ``(H, W)`` map scaled to [0, 1] and the class it explains.
    """
    x = tf.convert_to_tensor(np.asarray(image, np.float32)[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = model(x, training=False)
        out = out[0] if isinstance(out, (list, tuple)) else out
        if class_index is None:
            class_index = int(tf.argmax(out[0]))
        score = out[0, class_index]
    grad = np.abs(np.asarray(tape.gradient(score, x))[0]).max(axis=-1)
    return grad / (grad.max() + 1e-12), class_index


def plot_saliency(
    model: keras.Model,
    image: np.ndarray,
    path: str | os.PathLike[str],
    *,
    class_index: int | None = None,
    class_names: list[str] | None = None,
    true_index: int | None = None,
) -> str:
    """Save the image next to its gradient saliency map as a PNG.

    The title says what the map explains: ``predicted <name> (<probability>) / true <name>``
    (the true class when ``true_index`` is given), or ``class <name>`` for a chosen
    ``class_index``; the map has a colour bar.
    """
    sal, index = saliency_map(model, image, class_index)
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.8))
    axes[0].imshow(_displayable(image), cmap="gray")
    axes[0].set_title("input")
    shown = axes[1].imshow(sal, cmap="hot", vmin=0.0, vmax=1.0)
    axes[1].set_title("saliency |d score / d pixel|")
    fig.colorbar(shown, ax=axes[1], fraction=0.046, pad=0.04, label="gradient (scaled to max 1)")
    for ax in axes:
        ax.axis("off")
    fig.suptitle(saliency_title(model, image, index, class_index=class_index,
                                class_names=class_names, true_index=true_index), fontsize=11)
    return _save(fig, path)


def class_label(index: int, class_names: list[str] | None) -> str:
    """``"<name>"`` (with ``" (class k)"`` when the name is not the index) or ``"class k"``."""
    if class_names and 0 <= index < len(class_names):
        name = str(class_names[index])
        return name if name == str(index) else f"{name} (class {index})"
    return f"class {index}"


def saliency_title(model: keras.Model, image: np.ndarray, index: int, *, class_index: int | None = None,
                   class_names: list[str] | None = None, true_index: int | None = None) -> str:
    """``"predicted X (p = 0.93) / true Y"``: what a saliency map explains."""
    out = model(np.asarray(image, np.float32)[None], training=False)
    out = np.asarray(out[0] if isinstance(out, (list, tuple)) else out)[0].astype(np.float64)
    if out.min() < 0 or abs(out.sum() - 1.0) > 1e-3:  # logits: softmax them
        out = np.exp(out - out.max())
        out /= out.sum()
    what = "class" if class_index is not None else "predicted"
    title = f"{what} {class_label(index, class_names)} (p = {out[index]:.2f})"
    if true_index is not None:
        title += f" / true {class_label(int(true_index), class_names)}"
    return title


def _displayable(image: np.ndarray) -> np.ndarray:
    shown = np.asarray(image, np.float32)
    shown = (shown - shown.min()) / (shown.max() - shown.min() + 1e-12)
    return shown if shown.shape[-1] == 3 else shown[..., 0]
