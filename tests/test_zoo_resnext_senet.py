"""ResNeXt and the squeeze-and-excitation networks against published counts and the papers' tables.

Parameter counts are checked twice: against the published figure (torchvision / timm for
ResNeXt, Cadene's pretrainedmodels for the SE networks: PyTorch counts trainable parameters,
batch norm's moving statistics are buffers there) and against a count made here from the papers'
tables (ResNeXt Table 1, SENet Table 1 and §6.1's description of SENet-154). SE-ResNet-18/34 have
no published count we trust: the table count is their only reference.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import trainable_count

from kerascv_course import (
    build_resnext50_32x4d,
    build_se_resnet18,
    build_se_resnext50_32x4d,
    build_senet154,
    get_model,
    get_spec,
)


def _table_count(blocks, *, basic=False, reduce=64, width=64, groups=1, se=None, deep_stem=False,
                 down=1, classes=1000):
    """(trainable, Keras count) of a ResNet-shaped network from its table: bias-free convolutions
    each with a batch norm (2 trainable numbers per channel, 2 moving statistics), stage outputs
    256 x 2^s (64 x 2^s for basic blocks), projections where the shape changes, the SE block's two
    FC layers with biases on each block's output, the classifier."""
    weights, bn = 0, 0

    def conv(cin, cout, k, g=1):
        nonlocal weights, bn
        weights += k * k * (cin // g) * cout
        bn += cout

    if deep_stem:
        conv(3, 64, 3)
        conv(64, 64, 3)
        conv(64, 128, 3)
        cin = 128
    else:
        conv(3, 64, 7)
        cin = 64
    for s, n in enumerate(blocks):
        out = (64 if basic else 256) * 2**s
        for b in range(n):
            stride = 2 if s > 0 and b == 0 else 1
            if stride > 1 or cin != out:
                conv(cin, out, down if stride > 1 else 1)
            if basic:
                conv(cin, out, 3)
                conv(out, out, 3)
            else:
                conv(cin, reduce * 2**s, 1)
                conv(reduce * 2**s, width * 2**s, 3, groups)
                conv(width * 2**s, out, 1)
            if se:
                weights += 2 * out * (out // se) + out // se + out
            cin = out
    weights += cin * classes + classes
    return weights + 2 * bn, weights + 4 * bn


# name: (published trainable count or None, table description)
COUNTS = {
    # torchvision's ResNeXt50_32X4D_Weights / ResNeXt101_64X4D_Weights num_params; timm's
    # resnext101_32x4d.
    "resnext50_32x4d": (25_028_904, dict(blocks=(3, 4, 6, 3), reduce=128, width=128, groups=32)),
    "resnext101_32x4d": (44_177_704, dict(blocks=(3, 4, 23, 3), reduce=128, width=128, groups=32)),
    "resnext101_64x4d": (83_455_272, dict(blocks=(3, 4, 23, 3), reduce=256, width=256, groups=64)),
    # Cadene's pretrainedmodels (the authors' Caffe models converted).
    "se_resnet18": (None, dict(blocks=(2, 2, 2, 2), basic=True, se=16)),
    "se_resnet34": (None, dict(blocks=(3, 4, 6, 3), basic=True, se=16)),
    "se_resnet50": (28_088_024, dict(blocks=(3, 4, 6, 3), se=16)),
    "se_resnet101": (49_326_872, dict(blocks=(3, 4, 23, 3), se=16)),
    "se_resnet152": (66_821_848, dict(blocks=(3, 8, 36, 3), se=16)),
    "se_resnext50_32x4d": (27_559_896, dict(blocks=(3, 4, 6, 3), reduce=128, width=128,
                                            groups=32, se=16)),
    "se_resnext101_32x4d": (48_955_416, dict(blocks=(3, 4, 23, 3), reduce=128, width=128,
                                             groups=32, se=16)),
    "senet154": (115_088_984, dict(blocks=(3, 8, 36, 3), reduce=128, width=256, groups=64, se=16,
                                   deep_stem=True, down=3)),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(COUNTS))
def test_parameter_counts_match_published_figures_and_tables(name):
    published, table = COUNTS[name]
    model = get_model(name, input_shape=(32, 32, 3))
    trainable, keras_count = _table_count(**table)
    assert (trainable_count(model), model.count_params()) == (trainable, keras_count)
    assert get_spec(name).params == keras_count
    if published is not None:
        assert trainable == published


def _grouped_reference(x, kernel, groups):
    """Split the channels into ``groups``, convolve each slice with its own kernel slice ("same"
    3x3, stride 1, in NumPy), concatenate."""
    cin, cout = x.shape[-1], kernel.shape[-1]
    n_in, n_out = cin // groups, cout // groups
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    h, w = x.shape[1:3]
    parts = []
    for g in range(groups):
        xs = padded[..., g * n_in:(g + 1) * n_in]
        ks = kernel[..., g * n_out:(g + 1) * n_out]  # (3, 3, n_in, n_out)
        out = np.zeros((x.shape[0], h, w, n_out), np.float64)
        for i in range(3):
            for j in range(3):
                out += np.einsum("bhwc,cd->bhwd", xs[:, i:i + h, j:j + w, :], ks[i, j])
        parts.append(out)
    return np.concatenate(parts, axis=-1)


def test_grouped_convolution_equals_split_and_concatenate():
    """ResNeXt's 3x3 is one ``Conv2D(groups=32)`` whose output is the aggregated transform's
    definition: 32 convolutions on 4-channel slices, concatenated (Fig. 3c = Fig. 3a)."""
    model = build_resnext50_32x4d(input_shape=(32, 32, 3), classes=10)
    layer = model.get_layer("conv2_block1_2_conv")
    assert layer.groups == 32 and layer.filters == 128 and tuple(layer.kernel.shape) == (3, 3, 4, 128)
    x = np.random.default_rng(3).normal(size=(2, 5, 6, 128)).astype("float32")
    expected = _grouped_reference(x.astype(np.float64), np.asarray(layer.kernel, np.float64), 32)
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-4, atol=1e-4)
    # The same check on a layer with fewer, wider groups, and a single-op graph.
    conv = keras.layers.Conv2D(12, 3, padding="same", groups=3, use_bias=False)
    y = np.random.default_rng(4).normal(size=(1, 4, 4, 6)).astype("float32")
    got = np.asarray(conv(y))
    np.testing.assert_allclose(
        got, _grouped_reference(y.astype(np.float64), np.asarray(conv.kernel, np.float64), 3),
        rtol=1e-4, atol=1e-4,
    )


def test_resnext_puts_the_stride_on_the_grouped_3x3_and_se_resnet_on_the_1x1():
    resnext = build_se_resnext50_32x4d(input_shape=(32, 32, 3), classes=10)
    assert resnext.get_layer("conv3_block1_1_conv").strides == (1, 1)
    assert resnext.get_layer("conv3_block1_2_conv").strides == (2, 2)
    assert resnext.get_layer("conv3_block1_2_pad").padding == ((1, 1), (1, 1))
    se_resnet50 = get_model("se_resnet50", input_shape=(32, 32, 3), classes=10)
    assert se_resnet50.get_layer("conv3_block1_1_conv").strides == (2, 2)
    assert se_resnet50.get_layer("conv3_block1_2_conv").strides == (1, 1)
    # SE on the residual branch of every block, before the addition.
    gates = [layer.name for layer in resnext.layers if layer.name.endswith("_se_excite")]
    assert len(gates) == 16 and resnext.get_layer("conv5_block3_se_reduce").filters == 2048 // 16


def test_se_resnet18_uses_basic_blocks_with_a_gate():
    model = build_se_resnet18(input_shape=(40, 40, 3), classes=10)
    assert [layer.name for layer in model.layers if layer.name.endswith("_se_excite")] == [
        f"conv{s}_block{b}_se_excite" for s in (2, 3, 4, 5) for b in (1, 2)]
    assert model.get_layer("conv2_block2_se_reduce").filters == 64 // 16
    assert "conv2_block1_0_conv" not in {layer.name for layer in model.layers}  # identity
    assert model.get_layer("conv3_block1_0_conv").kernel_size == (1, 1)
    assert model.get_layer("conv5_block2_out").output.shape[1:] == (2, 2, 512)


@pytest.mark.slow
def test_senet154_has_the_papers_stem_downsampling_and_dropout():
    """§6.1 / Appendix: three 3x3 stem convolutions, 3x3 stride-2 projection shortcuts, 64
    groups with the first 1x1 reducing to half the grouped width, dropout 0.2."""
    model = build_senet154(input_shape=(32, 32, 3), classes=10)
    stem = [model.get_layer(f"conv1_{i}_conv") for i in (1, 2, 3)]
    assert [(c.kernel_size, c.strides, c.filters) for c in stem] == [
        ((3, 3), (2, 2), 64), ((3, 3), (1, 1), 64), ((3, 3), (1, 1), 128)]
    assert "conv1_conv" not in {layer.name for layer in model.layers}
    assert model.get_layer("conv2_block1_0_conv").kernel_size == (1, 1)  # stride 1: 1x1
    for stage in (3, 4, 5):
        shortcut = model.get_layer(f"conv{stage}_block1_0_conv")
        assert (shortcut.kernel_size, shortcut.strides) == ((3, 3), (2, 2))
    grouped = model.get_layer("conv2_block1_2_conv")
    assert (grouped.groups, grouped.filters) == (64, 256)
    assert model.get_layer("conv2_block1_1_conv").filters == 128
    assert model.get_layer("top_dropout").rate == 0.2
    assert len([n for n in (layer.name for layer in model.layers) if n.endswith("_se_excite")]) == 50


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="Received: reduction=0"):
        build_senet154(reduction=0)
    with pytest.raises(ValueError, match="Received: kernel_initializer=3"):
        build_resnext50_32x4d(kernel_initializer=3)
    with pytest.raises(TypeError):
        build_resnext50_32x4d(reduction=16)  # no SE gate to size


def test_reduction_and_kernel_initializer_apply():
    model = build_se_resnet18(input_shape=(32, 32, 3), classes=10, reduction=4,
                              kernel_initializer="ones")
    assert model.get_layer("conv2_block1_se_reduce").filters == 16
    kernels = [layer.kernel for layer in model.layers if hasattr(layer, "kernel")]
    assert all(np.all(np.asarray(k) == 1.0) for k in kernels)
