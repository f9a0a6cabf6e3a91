"""The per-layer table: MACs and receptive fields against independent figures."""

from __future__ import annotations

from kerascv_course import build_alexnet, build_lenet5, build_vgg16
from kerascv_course.viz.layers import format_layer_table, layer_table


def test_vgg16_macs_and_receptive_field():
    rows = {r.name: r for r in layer_table(build_vgg16())}
    # Independent count: 3x3 convolutions at their resolutions, then the three dense layers.
    convs = [(224, 3, 64), (224, 64, 64), (112, 64, 128), (112, 128, 128)]
    convs += [(56, 128, 256), (56, 256, 256), (56, 256, 256)]
    convs += [(28, 256, 512), (28, 512, 512), (28, 512, 512)] + [(14, 512, 512)] * 3
    expected = sum(s * s * 9 * cin * cout for s, cin, cout in convs)
    expected += 7 * 7 * 512 * 4096 + 4096 * 4096 + 4096 * 1000
    assert sum(r.macs for r in rows.values()) == expected
    # Published receptive fields (Araujo, Norris & Sim, Distill 2019): VGG-16 212, AlexNet 195.
    assert (rows["block5_pool"].receptive_field, rows["block5_pool"].stride) == (212, 32)
    assert rows["fc1"].receptive_field is None


def test_alexnet_and_lenet_receptive_fields():
    alex = {r.name: r for r in layer_table(build_alexnet())}
    assert (alex["pool5"].receptive_field, alex["pool5"].stride) == (195, 32)
    lenet = {r.name: r for r in layer_table(build_lenet5())}
    assert lenet["c5"].receptive_field == 32  # C5 sees the whole 32x32 input


def test_table_text_has_totals_matching_the_model():
    model = build_lenet5()
    text = format_layer_table(layer_table(model))
    assert text.splitlines()[-1].split()[1] == f"{model.count_params():,}"
    assert "c3" in text and "Conv2D" in text
