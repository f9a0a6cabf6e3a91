"""BN-Inception, a.k.a. Inception v2 (Ioffe & Szegedy, 2015, arXiv:1502.03167).

GoogLeNet with batch normalisation before every ReLU and the changes of the paper's Appendix
(Fig. 5): each 5x5 convolution replaced by two consecutive 3x3 convolutions, a third 28x28
module, average or max pooling inside the modules, no pooling layer between modules but stride-2
convolutions and pooling inside the modules 3c and 4e (whose pooling branch is passed through
without projection), no local response normalisation. The ten modules are rows of
:data:`MODULES`; one function builds a module from its row.

Layer names follow the authors' Caffe model as the zoo's GoogLeNet does: ``conv1_7x7_s2``,
``inception_3a_1x1``, ``inception_3a_3x3_reduce``, ``inception_3a_double_3x3_1`` …, each a
convolution ``{unit}_conv``, batch norm ``{unit}_bn`` and ReLU ``{unit}_relu``;
``inception_3a_output`` is a module's concatenation.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import keras

from kerascv_course.models.blocks import conv_bn_act
from kerascv_course.models.common import (
    check_args,
    classifier_head,
    common_args,
    finish_model,
    model_input,
)
from kerascv_course.models.registry import register_model
from kerascv_course.utils.checks import check_number


class Module(NamedTuple):
    """One row of the paper's Fig. 5 table.

    ``pool`` is ``"avg"`` or ``"max"``; ``proj`` the pooling branch's 1x1 projection (0: the
    pooled input passes through); ``stride`` 2 for the grid-reducing modules (no 1x1 branch).
    """

    name: str
    n1x1: int
    reduce3: int
    n3x3: int
    reduce_d: int
    n_double: int
    pool: str
    proj: int
    stride: int = 1


# Output channels: 256, 320, 576 (28 -> 14), 576 x 4, 1024 (14 -> 7), 1024, 1024. The values are
# those of TF-Slim's inception_v2, whose concatenations have the widths of the paper's table.
MODULES: tuple[Module, ...] = (
    Module("inception_3a", 64, 64, 64, 64, 96, "avg", 32),
    Module("inception_3b", 64, 64, 96, 64, 96, "avg", 64),
    Module("inception_3c", 0, 128, 160, 64, 96, "max", 0, stride=2),
    Module("inception_4a", 224, 64, 96, 96, 128, "avg", 128),
    Module("inception_4b", 192, 96, 128, 96, 128, "avg", 128),
    Module("inception_4c", 160, 128, 160, 128, 160, "avg", 96),
    Module("inception_4d", 96, 128, 192, 160, 192, "avg", 96),
    Module("inception_4e", 0, 128, 192, 192, 256, "max", 0, stride=2),
    Module("inception_5a", 352, 192, 320, 160, 224, "avg", 128),
    Module("inception_5b", 352, 192, 320, 192, 224, "max", 128),
)
PARAMS = 11_214_888
TAPS = {2: "conv1_7x7_s2_relu", 4: "conv2_3x3_relu", 8: "inception_3b_output",
        16: "inception_4d_output", 32: "inception_5b_output"}


def bn_inception_module(x: Any, row: Module, *, init: Any = "glorot_uniform") -> Any:
    """One BN-Inception module (Fig. 5): 1x1; 1x1 -> 3x3; 1x1 -> 3x3 -> 3x3; pool -> 1x1.

    Every convolution is followed by batch norm and ReLU. In a stride-2 module the last 3x3 of
    both 3x3 branches and the 3x3 max-pool carry the stride, the 1x1 branch is absent and the
    pooled input is concatenated as it is.

    Args:
        x: the input feature map.
        row: the module's widths.
        init: the convolutions' kernel initializer.

    Returns:
        The concatenated map (``{row.name}_output``).
    """

    def unit(y: Any, filters: int, kernel: int, suffix: str, stride: int = 1) -> Any:
        return conv_bn_act(
            y, filters, kernel, strides=stride, kernel_initializer=init,
            name=f"{row.name}_{suffix}",
        )

    branches = []
    if row.n1x1:
        branches.append(unit(x, row.n1x1, 1, "1x1"))
    b3 = unit(x, row.reduce3, 1, "3x3_reduce")
    branches.append(unit(b3, row.n3x3, 3, "3x3", row.stride))
    bd = unit(x, row.reduce_d, 1, "double_3x3_reduce")
    bd = unit(bd, row.n_double, 3, "double_3x3_1")
    branches.append(unit(bd, row.n_double, 3, "double_3x3_2", row.stride))
    pool = keras.layers.AveragePooling2D if row.pool == "avg" else keras.layers.MaxPooling2D
    bp = pool(3, strides=row.stride, padding="same", name=f"{row.name}_pool")(x)
    if row.proj:
        bp = unit(bp, row.proj, 1, "pool_proj")
    branches.append(bp)
    return keras.layers.Concatenate(name=f"{row.name}_output")(branches)


@register_model(
    "bn_inception", family="inception", paper="Ioffe & Szegedy, 2015", year=2015,
    arxiv="1502.03167", default_input_shape=(224, 224, 3), min_input_size=32, params=PARAMS,
    feature_taps=TAPS, test_input_shape=(32, 32, 3),
)
@common_args
def build_bn_inception(*, dropout: float = 0.0, **common: Any) -> keras.Model:
    """BN-Inception / Inception v2 (Ioffe & Szegedy, 2015, arXiv:1502.03167, Appendix, Fig. 5).

    7x7/2 convolution (64), 3x3/2 max-pool, 1x1 (64) and 3x3 (192) convolutions, 3x3/2 max-pool,
    the modules 3a, 3b, 3c (stride 2), 4a-4d, 4e (stride 2), 5a, 5b, global average pooling and
    the classifier; batch norm before every ReLU and "same" padding throughout, so
    224 -> 112 -> 56 -> 28 -> 14 -> 7. TF-Slim calls this network ``inception_v2``.

    11,214,888 parameters at 224x224 and 1000 classes in Keras's count (batch norm's moving
    statistics included); 11,194,984 trainable.

    Args:
        dropout: dropout rate before the classifier. The paper removes GoogLeNet's dropout from
            the batch-normalised network (§4.2.1), hence 0.
    """
    model = "bn_inception"
    args = check_args(model, **common)
    check_number("dropout", dropout, where=model, low=0.0, high=1.0)
    init = args.kernel_initializer if args.kernel_initializer is not None else "glorot_uniform"
    inputs = model_input(args)
    x = conv_bn_act(inputs, 64, 7, strides=2, kernel_initializer=init, name="conv1_7x7_s2")
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool1_3x3_s2")(x)
    x = conv_bn_act(x, 64, 1, kernel_initializer=init, name="conv2_3x3_reduce")
    x = conv_bn_act(x, 192, 3, kernel_initializer=init, name="conv2_3x3")
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool2_3x3_s2")(x)
    for row in MODULES:
        x = bn_inception_module(x, row, init=init)
    outputs = classifier_head(x, args, dropout=dropout, kernel_initializer=init)
    return finish_model(inputs, outputs, args, model)
