"""GoogLeNet / Inception v1 (Szegedy et al., 2014) and Inception v3 (Szegedy et al., 2015).

Both networks are data: GoogLeNet's nine modules are the rows of the paper's Table 1
(:data:`GOOGLENET_MODULES`), and Inception v3's eleven ``mixed`` modules are lists of branches
(:data:`INCEPTION_V3_MODULES`) run by one branch executor.

Inception v3's layer names and order are keras.applications.InceptionV3's, including the automatic
names (``conv2d_5``, ``batch_normalization_5``, ``activation_5`` …) exactly as a fresh Keras
session assigns them, so its published weight files load unchanged.
"""

from __future__ import annotations

import collections
from typing import Any

import keras

from kerascv_course.models.common import (
    check_args,
    common_args,
    finish_model,
    model_input,
    pool_or_classify,
)
from kerascv_course.models.layers import LocalResponseNormalization
from kerascv_course.models.registry import register_model
from kerascv_course.utils.checks import check_bool, check_probability

# ---------------------------------------------------------------------------------------------
# GoogLeNet
# ---------------------------------------------------------------------------------------------

# Table 1 of Szegedy et al. (2014): per module #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5,
# pool proj; "pool" is a 3x3/2 max-pool between stages.
GOOGLENET_MODULES: tuple[tuple[str, tuple[int, ...]] | str, ...] = (
    ("inception_3a", (64, 96, 128, 16, 32, 32)),
    ("inception_3b", (128, 128, 192, 32, 96, 64)),
    "pool3",
    ("inception_4a", (192, 96, 208, 16, 48, 64)),
    ("inception_4b", (160, 112, 224, 24, 64, 64)),
    ("inception_4c", (128, 128, 256, 24, 64, 64)),
    ("inception_4d", (112, 144, 288, 32, 64, 64)),
    ("inception_4e", (256, 160, 320, 32, 128, 128)),
    "pool4",
    ("inception_5a", (256, 160, 320, 32, 128, 128)),
    ("inception_5b", (384, 192, 384, 48, 128, 128)),
)
# The auxiliary classifiers sit on the outputs of 4a and 4d (§5).
GOOGLENET_AUX = {"inception_4a": "aux1", "inception_4d": "aux2"}
GOOGLENET_PARAMS = 6_998_552
GOOGLENET_AUX_PARAMS = 13_378_280
# Smallest input where 4a's map (stride 16) is at least the auxiliary 5x5 pooling window.
GOOGLENET_AUX_MIN_SIZE = 65


def _conv_relu(x: Any, filters: int, kernel: int, *, strides: int = 1, name: str) -> Any:
    return keras.layers.Conv2D(
        filters, kernel, strides=strides, padding="same", activation="relu", name=name
    )(x)


def inception_module(x: Any, widths: tuple[int, ...], *, name: str) -> Any:
    """GoogLeNet's Inception module with dimension reductions (Szegedy et al., 2014, Fig. 2b).

    Four parallel branches concatenated along channels: 1x1; 1x1 reduce -> 3x3; 1x1 reduce ->
    5x5; 3x3/1 max-pool -> 1x1 projection. Every convolution has a bias and a ReLU.

    Args:
        x: the input feature map.
        widths: ``(#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)`` as in Table 1.
        name: prefix of the layer names (``{name}_1x1`` … ``{name}_output``, Caffe's names).

    Returns:
        The concatenated map, ``#1x1 + #3x3 + #5x5 + pool proj`` channels.
    """
    n1, r3, n3, r5, n5, proj = widths
    b1 = _conv_relu(x, n1, 1, name=f"{name}_1x1")
    b3 = _conv_relu(x, r3, 1, name=f"{name}_3x3_reduce")
    b3 = _conv_relu(b3, n3, 3, name=f"{name}_3x3")
    b5 = _conv_relu(x, r5, 1, name=f"{name}_5x5_reduce")
    b5 = _conv_relu(b5, n5, 5, name=f"{name}_5x5")
    bp = keras.layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    bp = _conv_relu(bp, proj, 1, name=f"{name}_pool_proj")
    return keras.layers.Concatenate(name=f"{name}_output")([b1, b3, b5, bp])


def _aux_classifier(x: Any, args: Any, *, name: str) -> Any:
    """An auxiliary classifier (§5): 5x5/3 average pool, 1x1 conv 128, FC 1024, dropout 0.7, FC."""
    x = keras.layers.AveragePooling2D(5, strides=3, name=f"{name}_avg_pool")(x)
    x = _conv_relu(x, 128, 1, name=f"{name}_conv")
    x = keras.layers.Flatten(name=f"{name}_flatten")(x)
    x = keras.layers.Dense(1024, activation="relu", name=f"{name}_fc")(x)
    x = keras.layers.Dropout(0.7, name=f"{name}_dropout")(x)
    return keras.layers.Dense(
        args.classes, activation=args.classifier_activation, name=f"{name}_predictions"
    )(x)


@register_model(
    "googlenet", family="inception", paper="Szegedy et al., 2014", year=2014, arxiv="1409.4842",
    default_input_shape=(224, 224, 3), min_input_size=32, params=GOOGLENET_PARAMS,
    feature_taps={
        2: "conv1_7x7_s2", 4: "conv2_3x3", 8: "inception_3b_output",
        16: "inception_4e_output", 32: "inception_5b_output",
    },
    test_input_shape=(32, 32, 3),
)
@common_args
def build_googlenet(
    *, aux_logits: bool = False, lrn: bool = True, dropout: float = 0.4, **common: Any
) -> keras.Model:
    """GoogLeNet / Inception v1 (Szegedy et al., 2014, arXiv:1409.4842).

    "Going deeper with convolutions", Table 1 of the paper: 7x7/2 convolution, 3x3/2 max-pool, LRN, 1x1 and 3x3 convolutions, LRN,
    3x3/2 max-pool, nine Inception modules (3a-b, pool, 4a-e, pool, 5a-b), global average pool,
    dropout 0.4 and the classifier. Convolutions have biases and ReLU, no batch norm; every
    padding is "same", so 224 -> 112 -> 56 -> 28 -> 14 -> 7. Layer names follow the authors'
    Caffe model (``conv1_7x7_s2``, ``inception_3a_3x3_reduce`` …), the head is ``avg_pool``,
    ``top_dropout``, ``predictions``.

    Parameters at 224x224 and 1000 classes: 6,998,552 (Table 1's column sum, biases included:
    conv layers 124,416, the nine modules 5,849,136, classifier 1,025,000). With
    ``aux_logits=True`` the two auxiliary classifiers add 3,188,840 (on 4a, 512 channels) and
    3,190,888 (on 4d, 528 channels): 13,378,280.

    Args:
        aux_logits: if True, the model has three outputs for training: the main classifier and
            the two auxiliary classifiers of §5 (on 4a and 4d: 5x5/3 average pool, 1x1
            convolution of 128, FC 1024, dropout 0.7, FC ``classes``), named ``predictions``,
            ``aux1_predictions``, ``aux2_predictions``; the paper weights their losses by 0.3.
            Needs ``include_top=True`` and inputs of at least 65x65. The default (False) is the
            single-output inference model.
        lrn: local response normalisation after the first pooling and after conv2 (the
            paper's choice).
        dropout: dropout rate before the classifier (0.4 in the paper).
    """
    model = "googlenet"
    check_bool("aux_logits", aux_logits, where=model)
    args = check_args(model, **common, min_input_size=GOOGLENET_AUX_MIN_SIZE if aux_logits else None)
    check_bool("lrn", lrn, where=model)
    check_probability("dropout", dropout, where=model)
    if aux_logits and not args.include_top:
        raise ValueError(
            f"{model}: `aux_logits=True` adds classifiers, so it needs include_top=True. "
            f"Received: aux_logits=True, include_top={args.include_top!r}"
        )
    inputs = model_input(args)
    x = _conv_relu(inputs, 64, 7, strides=2, name="conv1_7x7_s2")
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool1_3x3_s2")(x)
    if lrn:
        x = LocalResponseNormalization(name="pool1_norm1")(x)
    x = _conv_relu(x, 64, 1, name="conv2_3x3_reduce")
    x = _conv_relu(x, 192, 3, name="conv2_3x3")
    if lrn:
        x = LocalResponseNormalization(name="conv2_norm2")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool2_3x3_s2")(x)
    aux_outputs = []
    for module in GOOGLENET_MODULES:
        if isinstance(module, str):
            x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name=f"{module}_3x3_s2")(x)
            continue
        module_name, widths = module
        x = inception_module(x, widths, name=module_name)
        if aux_logits and module_name in GOOGLENET_AUX:
            aux_outputs.append(_aux_classifier(x, args, name=GOOGLENET_AUX[module_name]))
    x = pool_or_classify(x, args, dropout=dropout)
    return finish_model(inputs, [x, *aux_outputs] if aux_outputs else x, args, model)


# ---------------------------------------------------------------------------------------------
# Inception v3
# ---------------------------------------------------------------------------------------------

# A branch is a sequence of steps: ``(filters, rows, cols)`` a "same" convolution,
# ``(filters, rows, cols, 2)`` a strided "valid" one, "avg" a 3x3/1 "same" average pool, "max" a
# 3x3/2 "valid" max-pool, and ``("split", name, (f, r, c), (f, r, c))`` two parallel convolutions
# concatenated (named ``name``, or automatically when ``None``). The branch order and the names
# are keras.applications.InceptionV3's; the modules follow Fig. 5-7 and Table 1 of the paper.


def _module_a(pool: int) -> tuple:  # Fig. 5, 35x35
    return (
        ((64, 1, 1),),
        ((48, 1, 1), (64, 5, 5)),
        ((64, 1, 1), (96, 3, 3), (96, 3, 3)),
        ("avg", (pool, 1, 1)),
    )


def _module_b(width: int) -> tuple:  # Fig. 6, 17x17, factorised 7x7
    return (
        ((192, 1, 1),),
        ((width, 1, 1), (width, 1, 7), (192, 7, 1)),
        ((width, 1, 1), (width, 7, 1), (width, 1, 7), (width, 7, 1), (192, 1, 7)),
        ("avg", (192, 1, 1)),
    )


def _module_c(index: int) -> tuple:  # Fig. 7, 8x8, expanded filter banks
    split = ((384, 1, 3), (384, 3, 1))
    return (
        ((320, 1, 1),),
        ((384, 1, 1), ("split", f"mixed9_{index}", *split)),
        ((448, 1, 1), (384, 3, 3), ("split", None, *split)),
        ("avg", (192, 1, 1)),
    )


INCEPTION_V3_STEM: tuple = ((32, 3, 3, 2), (32, 3, 3, 1), (64, 3, 3), "max", (80, 1, 1, 1),
                            (192, 3, 3, 1), "max")
INCEPTION_V3_MODULES: tuple[tuple, ...] = (
    _module_a(32),
    _module_a(64),
    _module_a(64),
    (  # grid reduction 35 -> 17
        ((384, 3, 3, 2),),
        ((64, 1, 1), (96, 3, 3), (96, 3, 3, 2)),
        ("max",),
    ),
    _module_b(128),
    _module_b(160),
    _module_b(160),
    _module_b(192),
    (  # grid reduction 17 -> 8
        ((192, 1, 1), (320, 3, 3, 2)),
        ((192, 1, 1), (192, 1, 7), (192, 7, 1), (192, 3, 3, 2)),
        ("max",),
    ),
    _module_c(0),
    _module_c(1),
)
INCEPTION_V3_PARAMS = 23_851_784


class _KerasNames:
    """Keras's automatic layer names as a fresh session gives them: ``conv2d``, ``conv2d_1`` …"""

    def __init__(self) -> None:
        self._count: collections.Counter[str] = collections.Counter()

    def __call__(self, prefix: str) -> str:
        n = self._count[prefix]
        self._count[prefix] += 1
        return prefix if n == 0 else f"{prefix}_{n}"


def _v3_step(x: Any, step: Any, names: _KerasNames) -> Any:
    if step == "avg":
        return keras.layers.AveragePooling2D(
            3, strides=1, padding="same", name=names("average_pooling2d")
        )(x)
    if step == "max":
        return keras.layers.MaxPooling2D(3, strides=2, name=names("max_pooling2d"))(x)
    if step[0] == "split":
        _, name, *convs = step
        parts = [_v3_step(x, conv, names) for conv in convs]
        return keras.layers.Concatenate(name=name or names("concatenate"))(parts)
    # (filters, rows, cols): "same"; a fourth entry is the stride of a "valid" convolution.
    filters, rows, cols, *stride = step
    x = keras.layers.Conv2D(
        filters, (rows, cols), strides=stride[0] if stride else 1,
        padding="valid" if stride else "same", use_bias=False, name=names("conv2d"),
    )(x)
    x = keras.layers.BatchNormalization(scale=False, name=names("batch_normalization"))(x)
    return keras.layers.Activation("relu", name=names("activation"))(x)


@register_model(
    "inception_v3", family="inception", paper="Szegedy et al., 2015", year=2015,
    arxiv="1512.00567", default_input_shape=(299, 299, 3), min_input_size=75,
    params=INCEPTION_V3_PARAMS, keras_app="InceptionV3",
    feature_taps={2: "activation_2", 4: "activation_4", 8: "mixed2", 16: "mixed7", 32: "mixed10"},
    test_input_shape=(75, 75, 3),
)
@common_args
def build_inception_v3(**common: Any) -> keras.Model:
    """Inception v3 (Szegedy et al., 2015, arXiv:1512.00567).

    "Rethinking the Inception architecture for computer vision". The stem of "valid" 3x3 convolutions and two 3x3/2 max-pools (299 -> 35), three 35x35
    modules (``mixed0-2``, Fig. 5), a grid reduction (``mixed3``), four 17x17 modules with
    factorised 7x7 convolutions (``mixed4-7``, Fig. 6), a second reduction (``mixed8``), two 8x8
    modules with expanded filter banks (``mixed9``, ``mixed10``, Fig. 7), global average pool and
    the classifier. Every convolution is bias-free, followed by batch norm (no scale) and ReLU.
    keras.applications.InceptionV3's layers, names and order (no auxiliary classifier):
    23,851,784 parameters at 299x299 and 1000 classes.

    Args:
        (only the common arguments below; the default input is 299x299x3, the smallest 75x75.)
    """
    model = "inception_v3"
    args = check_args(model, **common)
    names = _KerasNames()
    inputs = model_input(args)
    x = inputs
    for step in INCEPTION_V3_STEM:
        x = _v3_step(x, step, names)
    for index, branches in enumerate(INCEPTION_V3_MODULES):
        outputs = []
        for branch in branches:
            y = x
            for step in branch:
                y = _v3_step(y, step, names)
            outputs.append(y)
        x = keras.layers.Concatenate(name=f"mixed{index}")(outputs)
    return finish_model(inputs, pool_or_classify(x, args), args, model)
