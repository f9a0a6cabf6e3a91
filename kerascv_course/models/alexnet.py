"""AlexNet (Krizhevsky, Sutskever & Hinton, 2012) and ZFNet (Zeiler & Fergus, 2013)."""

from __future__ import annotations

from typing import Any

import keras

from kerascv_course.models.blocks import conv_act_lrn
from kerascv_course.models.common import (
    check_args,
    finish_model,
    flatten_classify,
    model_input,
    public_builder,
)
from kerascv_course.models.registry import register_model
from kerascv_course.utils.checks import check_bool, check_probability, fail

# Each family is data: per convolution (filters, kernel, stride, padding, grouped, lrn, pool).
# ``grouped`` marks the layers that, in the two-GPU AlexNet, only read the maps of their own GPU;
# ``pool`` is the 3x3/2 overlapping max-pooling padding after that layer, or None.
_VARIANTS: dict[str, dict[str, Any]] = {
    "alexnet": dict(
        stem_pad=0,
        convs=(
            (96, 11, 4, "valid", False, True, "valid"),
            (256, 5, 1, "same", True, True, "valid"),
            (384, 3, 1, "same", False, False, None),
            (384, 3, 1, "same", True, False, None),
            (256, 3, 1, "same", True, False, "valid"),
        ),
    ),
    # ZFNet: 7x7/2 first layer and 5x5/2 second (Zeiler & Fergus, Fig. 3), padded so the maps are
    # the paper's 110 -> 55 -> 26 -> 13 -> 13 -> 13 -> 6.
    "zfnet": dict(
        stem_pad=1,
        convs=(
            (96, 7, 2, "valid", False, True, "same"),
            (256, 5, 2, "valid", False, True, "same"),
            (384, 3, 1, "same", False, False, None),
            (384, 3, 1, "same", False, False, None),
            (256, 3, 1, "same", False, False, "valid"),
        ),
    ),
}


# AlexNet §5: "We initialized the neuron biases in the second, fourth, and fifth convolutional
# layers, as well as in the fully-connected hidden layers, with the constant 1."
PAPER_BIAS_ONE = ("conv2", "conv4", "conv5", "fc6", "fc7")


def _alexnet_like(
    model: str, *, groups: int = 1, lrn: bool = True, dropout: float = 0.5, paper_biases: bool = False,
    **common: Any,
) -> keras.Model:
    args = check_args(model, **common)
    check_bool("lrn", lrn, where=model)
    check_bool("paper_biases", paper_biases, where=model)
    if paper_biases and model != "alexnet":
        raise fail("paper_biases", paper_biases, "False: Zeiler & Fergus set every bias to 0", where=model)
    if paper_biases and args.weights is not None:
        raise fail("paper_biases", paper_biases, "False with `weights` (the loaded biases replace them)",
                   where=model)
    check_probability("dropout", dropout, where=model)
    config = _VARIANTS[model]
    grouped_filters = [c[0] for c in config["convs"] if c[4]] + [
        c_prev[0] for c_prev, c in zip(config["convs"], config["convs"][1:]) if c[4]
    ]
    if not isinstance(groups, int) or groups < 1 or any(f % groups for f in grouped_filters):
        raise ValueError(
            f"{model}: `groups` must be a positive integer dividing the channels of every grouped "
            f"layer ({sorted(set(grouped_filters))}); 1 is one tower, 2 the paper's two GPUs. "
            f"Received: groups={groups!r}"
        )
    inputs = model_input(args)
    x = inputs
    if config["stem_pad"]:
        x = keras.layers.ZeroPadding2D(config["stem_pad"], name="conv1_pad")(x)
    for i, (filters, kernel, stride, padding, grouped, use_lrn, pool) in enumerate(
        config["convs"], start=1
    ):
        x = conv_act_lrn(
            x, filters, kernel, strides=stride, padding=padding,
            groups=groups if grouped else 1, lrn=lrn and use_lrn, name=f"conv{i}",
        )
        if pool:
            x = keras.layers.MaxPooling2D(3, strides=2, padding=pool, name=f"pool{i}")(x)
    top = flatten_classify(x, args, hidden=(("fc6", 4096), ("fc7", 4096)), dropout=dropout)
    net = finish_model(inputs, top, args, model)
    if paper_biases:
        for layer in (net.get_layer(n) for n in PAPER_BIAS_ONE if n in [lay.name for lay in net.layers]):
            layer.bias_initializer = keras.initializers.Ones()
            layer.bias.assign(keras.ops.ones(layer.bias.shape))
    return net


_SHARED_ARGS = """
    Args:
        groups: channel groups of the layers that the paper split over two GPUs
            (conv2, conv4, conv5 in AlexNet); 1 = one tower.
        lrn: apply local response normalisation after conv1 and conv2 (the paper's choice).
        dropout: dropout rate of the two 4096-unit layers (0.5 in the paper).
        paper_biases: AlexNet only: biases 1 in conv2, conv4, conv5, fc6 and fc7, 0 elsewhere
            (the paper's §5, "to accelerate the early stages of learning by providing the ReLUs
            with positive inputs"); ``False``: Keras's zeros. The paper's weights are
            ``kernel_initializer={"class_name": "RandomNormal", "config": {"stddev": 0.01}}``.
"""

build_alexnet = register_model(
    "alexnet", family="alexnet", paper="Krizhevsky, Sutskever & Hinton, 2012", year=2012,
    default_input_shape=(227, 227, 3), min_input_size=67, params=62_378_344,
    feature_taps={4: "conv1", 8: "pool1", 16: "conv5", 32: "pool5"},
)(public_builder(_alexnet_like, "alexnet", doc="""AlexNet ("ImageNet classification with deep convolutional neural networks", NIPS 2012).

    Five convolutions (11x11/4, 5x5, 3x3 x3), ReLU, LRN after the first two, overlapping 3x3/2
    max-pooling, two 4096-unit layers with dropout 0.5. The default input is 227x227, where the
    paper's arithmetic works (55 -> 27 -> 13 -> 6). One tower: 62,378,344 parameters at 1000
    classes; ``groups=2`` reproduces the two-GPU connectivity: 60,965,224.
""" + _SHARED_ARGS))

build_zfnet = register_model(
    "zfnet", family="alexnet", paper="Zeiler & Fergus, 2013", year=2013, arxiv="1311.2901",
    default_input_shape=(224, 224, 3), min_input_size=53, params=62_357_608,
    feature_taps={2: "conv1", 4: "pool1", 8: "conv2", 16: "conv5", 32: "pool5"},
)(public_builder(_alexnet_like, "zfnet", doc="""ZFNet ("Visualizing and understanding convolutional networks", Zeiler & Fergus, 2013).

    AlexNet with the first layer changed to 7x7 stride 2 and the second to stride 2, as the
    deconvnet visualisations suggested; one tower, contrast (local response) normalisation after
    the first two layers; maps 110 -> 55 -> 26 -> 13 -> 6 at 224x224.
""" + _SHARED_ARGS))
