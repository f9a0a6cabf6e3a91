"""FractalNet (Larsson, Maire & Shakhnarovich, 2017, arXiv:1605.07648): ultra-deep without residuals.

A fractal block follows the expansion rule ``f_1(z) = conv(z)``,
``f_{C+1}(z) = join(f_C(f_C(z)), conv(z))`` (§2, Fig. 1): ``C`` columns, column ``c`` (1-based)
stacking ``2^(c-1)`` convolutions, the deepest ``2^(C-1)``. Laid out in rows, column ``c``'s
convolutions end every ``2^(C-c)`` rows, and the columns ending at the same row meet in a join,
the element-wise mean (:class:`~kerascv_course.models.layers.FractalJoin`) whose output feeds
them all. Blocks are separated by 2x2 max-pooling; a convolution is 3x3 "same", then dropout (the
authors' Caffe order), batch norm and ReLU. There are no pass-through connections: every signal
crosses a convolution and a nonlinearity.

Drop-path (§3.1) regularises training: a join drops each input with probability 0.15 keeping at
least one (*local*), or, for half of the batches, one column drawn for the whole network is the
only path kept (*global*, :class:`~kerascv_course.models.layers.DropPathSampler`). At inference
every join is the mean of all its inputs.

Layer names: ``block2_col3_conv4_conv`` is the fourth convolution of the third (deepest, for
``C=3``) column of block 2, with ``_dropout``, ``_bn`` and ``_relu``; ``block2_join2`` a join
after row 2, ``block2_out`` a block's last join, ``block2_pool`` its pooling.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from kerascv_course.models.common import (
    check_args,
    classifier_head,
    common_args,
    finish_model,
    model_input,
)
from kerascv_course.models.layers import DropPathSampler, FractalJoin
from kerascv_course.models.registry import register_model
from kerascv_course.utils.checks import check_number

MODEL = "fractalnet"
# The paper's CIFAR network (§4.1/4.2, and the authors' generator gustavla/fractalnet): B = 5
# blocks of C = 3 columns (20 convolutions deep), these filters, and dropout 0/10/20/30/40 % by
# block (``dropout=None``).
FILTERS = (64, 128, 256, 512, 512)
COLUMNS = 3
LOCAL_DROP_PATH = 0.15
GLOBAL_DROP_PATH = 0.5
PARAMS = 33_745_226
TAPS = {1: "block1_out", 2: "block2_out", 4: "block3_out", 8: "block4_out", 16: "block5_out",
        32: "block5_pool"}


def conv_unit(x: Any, filters: int, *, dropout: float, init: Any, name: str) -> Any:
    """3x3 "same" convolution (no bias), dropout, batch norm, ReLU (``{name}_conv`` …)."""
    x = keras.layers.Conv2D(
        filters, 3, padding="same", use_bias=False, kernel_initializer=init, name=f"{name}_conv"
    )(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x)


def fractal_block(
    x: Any,
    control: Any,
    *,
    columns: int,
    filters: int,
    dropout: float = 0.0,
    local_drop_path: float = LOCAL_DROP_PATH,
    seed: int | None = None,
    init: Any = "glorot_uniform",
    name: str,
) -> Any:
    """One fractal block ``f_C`` laid out in ``2^(C-1)`` rows (Fig. 1).

    Args:
        x: the block's input.
        control: :class:`~kerascv_course.models.layers.DropPathSampler`'s output.
        columns: ``C``.
        filters: output channels of every convolution of the block.
        dropout: dropout rate after each convolution.
        local_drop_path: each join's local drop probability.
        seed: base seed of the joins' draws (join ``k`` uses ``seed + k``), or ``None``.
        init: the convolutions' kernel initializer.
        name: prefix of the layer names, e.g. ``"block1"``.

    Returns:
        The last join's output (``{name}_out``).
    """
    rows = 2 ** (columns - 1)
    inputs = [x] * columns  # what each column's next convolution reads (0 = shallowest)
    depth = [0] * columns
    for row in range(1, rows + 1):
        ending = [c for c in range(columns) if row % 2 ** (columns - 1 - c) == 0]
        outputs = []
        for c in ending:
            depth[c] += 1
            outputs.append(conv_unit(
                inputs[c], filters, dropout=dropout, init=init,
                name=f"{name}_col{c + 1}_conv{depth[c]}",
            ))
        if len(ending) == 1:
            inputs[ending[0]] = outputs[0]
            continue
        joined = FractalJoin(
            ending, drop_rate=local_drop_path, seed=None if seed is None else seed + row,
            name=f"{name}_out" if row == rows else f"{name}_join{row}",
        )([*outputs, control])
        for c in ending:
            inputs[c] = joined
    return inputs[-1]


def _per_block(value: Any, blocks: int) -> tuple[float, ...]:
    """A dropout rate for every block: one number for all, one per block, or ``None`` for the
    paper's rates (0, 0.1, 0.2, ... per block: its 0/10/20/30/40 % for five blocks)."""
    if value is None:
        return tuple(min(round(0.1 * b, 2), 0.9) for b in range(blocks))
    rates = tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) else (
        (value,) * blocks
    )
    if len(rates) != blocks or not all(
        isinstance(r, (int, float)) and not isinstance(r, bool) and 0 <= r < 1 for r in rates
    ):
        raise ValueError(
            f"{MODEL}: `dropout` must be None, one rate in [0, 1) or one rate per block "
            f"({blocks}, the length of `filters`). Received: dropout={value!r}"
        )
    return rates


@register_model(
    MODEL, family="fractalnet", paper="Larsson, Maire & Shakhnarovich, 2017", year=2017,
    arxiv="1605.07648", default_input_shape=(32, 32, 3), min_input_size=32, params=PARAMS,
    feature_taps=TAPS, test_input_shape=(32, 32, 3),
)
@common_args(defaults={"classes": 10})
def build_fractalnet(
    *,
    columns: int = COLUMNS,
    filters: Sequence[int] = FILTERS,
    dropout: float | Sequence[float] | None = None,
    local_drop_path: float = LOCAL_DROP_PATH,
    global_drop_path: float = GLOBAL_DROP_PATH,
    seed: int | None = None,
    **common: Any,
) -> keras.Model:
    """FractalNet (Larsson et al., 2017, arXiv:1605.07648), the paper's CIFAR network by default.

    ``len(filters)`` fractal blocks of ``columns`` columns, each followed by 2x2 max-pooling, then
    global average pooling (the 1x1 map of a 32x32 input after five poolings) and the classifier.
    The defaults are the paper's "FractalNet (20 layers)" of Table 1: B = 5, C = 3, filters
    64/128/256/512/512, dropout 0/0.1/0.2/0.3/0.4, local drop-path 0.15 mixed 50/50 with global
    drop-path, Xavier initialisation, on 32x32 CIFAR images with 10 classes.

    33,745,226 parameters in Keras's count (33,724,618 trainable): the sum of the expansion rule's
    3x3 convolutions (33,698,880), batch norm and the classifier. Table 1 lists 38.6M for this
    network; the layout the paper and the authors' Caffe generator describe has 33.7M
    convolution weights, and we could not find the difference.

    Args:
        columns: ``C``, the number of columns (>= 2); the deepest path has ``2^(C-1)``
            convolutions per block.
        filters: output channels of each block's convolutions (one entry per block, ``B``).
        dropout: dropout rate after every convolution: one per block, one for all, or ``None``
            for the paper's 0, 0.1, 0.2, ... per block.
        local_drop_path: the probability that a join drops each of its inputs in training (at
            least one survives).
        global_drop_path: the fraction of training batches that keep a single column, drawn per
            batch, through the whole network.
        seed: seed of the drop-path draws (``None``: Keras's global seed).

    ``kernel_initializer=None`` (the default) is Keras's Glorot uniform: the paper's Xavier
    initialisation.
    """
    check_number("columns", columns, where=MODEL, low=2, integer=True)
    if (
        not isinstance(filters, Sequence) or isinstance(filters, str) or not filters
        or not all(isinstance(f, int) and not isinstance(f, bool) and f > 0 for f in filters)
    ):
        raise ValueError(
            f"{MODEL}: `filters` must be a non-empty sequence of positive integers, one per "
            f"block. Received: filters={filters!r}"
        )
    rates = _per_block(dropout, len(filters))
    check_number("local_drop_path", local_drop_path, where=MODEL, low=0.0, high=1.0)
    check_number("global_drop_path", global_drop_path, where=MODEL, low=0.0, high=1.0)
    if seed is not None:
        check_number("seed", seed, where=MODEL, low=0, integer=True)
    args = check_args(MODEL, min_input_size=2 ** len(filters), **common)
    init = args.kernel_initializer if args.kernel_initializer is not None else "glorot_uniform"
    inputs = model_input(args)
    control = DropPathSampler(columns, global_drop_path, seed=seed, name="drop_path_sampler")(
        inputs
    )
    x = inputs
    for b, (width, rate) in enumerate(zip(filters, rates), start=1):
        x = fractal_block(
            x, control, columns=columns, filters=width, dropout=rate,
            local_drop_path=local_drop_path,
            seed=None if seed is None else seed + 100 * b, init=init, name=f"block{b}",
        )
        x = keras.layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
    return finish_model(inputs, classifier_head(x, args, kernel_initializer=init), args, MODEL)
