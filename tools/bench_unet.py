"""Benchmark: the zoo's U-Net over a ResNet-34 encoder against the same U-Net written in plain Keras.

Part 1 trains ``build_unet(backbone="resnet34")`` and an equivalent U-Net written here layer by
layer with ``keras.layers`` only (ResNet-34 basic blocks, the same decoder: 2x2 transposed
convolutions with batch norm, concatenated skips, two 3x3 conv-BN-ReLU per stage, a 1x1 softmax
head) on the same in-memory batches, with the same optimizer and loss, in alternating rounds so
both see the same machine load, and reports training images/s and their ratio. The two models
must have the same parameter count (checked).

Part 2 runs ``recipes/unet_cracks.py`` (the full recipe, not the smoke run) through
``kerascv_course.training.train`` and reports its wall time and test mean IoU / Dice.

    python tools/bench_unet.py                         # both parts, writes docs/benchmarks/unet.md
    python tools/bench_unet.py --skip-recipe --rounds 5
    python tools/bench_unet.py --backbone resnet18     # another encoder (compare: zoo only)
"""

from __future__ import annotations

import argparse
import os
import platform
import runpy
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPS = 1.001e-5  # keras.applications' ResNet batch-norm epsilon, as the zoo uses


# ----------------------------------------------------------------------------- plain Keras U-Net


def _conv_bn(x, filters, kernel, *, strides=1, padding="same", relu=True, eps=EPS):
    x = keras.layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False)(x)
    x = keras.layers.BatchNormalization(epsilon=eps)(x)
    return keras.layers.Activation("relu")(x) if relu else x


def _basic_block(x, filters, stride):
    if stride != 1 or x.shape[-1] != filters:
        shortcut = _conv_bn(x, filters, 1, strides=stride, relu=False)
    else:
        shortcut = x
    if stride > 1:
        y = keras.layers.ZeroPadding2D(1)(x)
        y = _conv_bn(y, filters, 3, strides=stride, padding="valid")
    else:
        y = _conv_bn(x, filters, 3)
    y = _conv_bn(y, filters, 3, relu=False)
    return keras.layers.Activation("relu")(keras.layers.Add()([shortcut, y]))


def plain_keras_resnet34_unet(input_shape, classes=2):
    """A U-Net over ResNet-34 written directly with keras.layers (no zoo code)."""
    inputs = keras.Input(input_shape)
    x = keras.layers.ZeroPadding2D(3)(inputs)
    c1 = _conv_bn(x, 64, 7, strides=2, padding="valid")  # stride 2
    x = keras.layers.MaxPooling2D(3, strides=2)(keras.layers.ZeroPadding2D(1)(c1))
    skips = [c1]
    for filters, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for b in range(blocks):
            x = _basic_block(x, filters, stride if b == 0 else 1)
        skips.append(x)  # strides 4, 8, 16, 32
    x = skips.pop()
    for filters, skip in zip((256, 128, 64, 32, 16), [*reversed(skips), None]):
        x = keras.layers.Conv2DTranspose(filters, 2, strides=2, use_bias=False)(x)
        x = keras.layers.Activation("relu")(keras.layers.BatchNormalization()(x))
        if skip is not None:
            x = keras.layers.Concatenate()([x, skip])
        x = _conv_bn(x, filters, 3)
        x = _conv_bn(x, filters, 3)
    outputs = keras.layers.Conv2D(classes, 1, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="plain_keras_unet")


# ----------------------------------------------------------------------------- throughput


def _compile(model):
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        jit_compile=False,
    )


def _timed_fit(model, data, steps):
    """Wall seconds and this process's CPU seconds of ``steps`` training steps."""
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    return time.perf_counter() - start, time.process_time() - cpu


def throughput(backbone, size, batch, steps, rounds):
    from kerascv_course.models.unet import build_unet

    rng = np.random.default_rng(0)
    x = rng.random((batch * 4, size, size, 3), dtype=np.float32)
    y = rng.integers(0, 2, (batch * 4, size, size, 1)).astype(np.int32)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch).repeat().prefetch(2)
    models = {"zoo": build_unet((size, size, 3), classes=2, backbone=backbone)}
    if backbone == "resnet34":
        models["plain"] = plain_keras_resnet34_unet((size, size, 3))
        zoo_params, plain_params = (m.count_params() for m in models.values())
        if zoo_params != plain_params:
            raise SystemExit(f"not the same network: {zoo_params:,} vs {plain_params:,} parameters")
    for model in models.values():
        _compile(model)
        _timed_fit(model, data, 3)  # trace and warm up
    times = {name: [] for name in models}
    for _ in range(rounds):  # alternate, so both see the same load
        for name, model in models.items():
            times[name].append(_timed_fit(model, data, steps))
    result = {
        name: dict(
            images_per_s=batch * steps / statistics.median(w for w, _ in t),
            best=batch * steps / min(w for w, _ in t),
            cpu_ms_per_image=1000 * statistics.median(c for _, c in t) / (batch * steps),
            params=models[name].count_params(),
        )
        for name, t in times.items()
    }
    if "plain" in result:
        result["ratio"] = result["zoo"]["images_per_s"] / result["plain"]["images_per_s"]
        result["cpu_ratio"] = result["plain"]["cpu_ms_per_image"] / result["zoo"]["cpu_ms_per_image"]
    return result


# ----------------------------------------------------------------------------- the recipe


def run_recipe(epochs):
    from kerascv_course.training import train

    recipe = runpy.run_path(os.path.join(ROOT, "recipes", "unet_cracks.py"), run_name="bench")["RECIPE"]
    out = tempfile.mkdtemp(prefix="bench-unet-")
    changes = dict(output=out, overwrite=True, tensorboard=False)
    if epochs:
        changes["epochs"] = epochs
    recipe = recipe.replace(**changes)
    start = time.perf_counter()
    result = train(recipe, verbose=0)
    return recipe, time.perf_counter() - start, result.metrics, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", default="resnet34")
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5, help="training steps per timed round")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per model (median)")
    parser.add_argument("--skip-recipe", action="store_true")
    parser.add_argument("--recipe-epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument("--write", default=os.path.join(ROOT, "docs", "benchmarks", "unet.md"),
                        help="markdown file to write ('' to print only)")
    args = parser.parse_args(argv)
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, TF {tf.__version__}, Keras {keras.__version__}"
    command = "python tools/bench_unet.py " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = ["# U-Net benchmark", "", f"Command: `{command.strip()}`  ", f"Machine: {machine}", ""]
    tp = throughput(args.backbone, args.image_size, args.batch_size, args.steps, args.rounds)
    lines += [
        f"## Training throughput: U-Net over {args.backbone}, {args.image_size}x{args.image_size}x3, "
        f"batch {args.batch_size}, Adam, {args.rounds} alternating rounds of {args.steps} steps (median)",
        "",
        "| model | parameters | images/s (median) | images/s (best) | CPU ms per image (median) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    label = {"zoo": f'`build_unet(backbone="{args.backbone}")`', "plain": "plain Keras (in this script)"}
    for name in ("zoo", "plain"):
        if name in tp:
            r = tp[name]
            lines.append(
                f"| {label[name]} | {r['params']:,} | {r['images_per_s']:.2f} | {r['best']:.2f} | "
                f"{r['cpu_ms_per_image']:.0f} |"
            )
    if "ratio" in tp:
        lines += [
            "",
            f"Ratio zoo / plain: **{tp['ratio']:.3f}** in images/s (wall-clock medians), "
            f"**{tp['cpu_ratio']:.3f}** in CPU time per image (less sensitive to other load).",
        ]
    if not args.skip_recipe:
        recipe, seconds, metrics, out = run_recipe(args.recipe_epochs)
        lines += [
            "",
            "## recipes/unet_cracks.py (full run)",
            "",
            f"Settings: image {recipe.image_size}, epochs {recipe.epochs}, batch {recipe.batch_size}, "
            f"model {recipe.model_kwargs}, augment {recipe.augment!r}, loss {recipe.loss!r}",
            "",
            "| wall time (s) | test mean IoU | test Dice | test pixel accuracy | test loss |",
            "| ---: | ---: | ---: | ---: | ---: |",
            f"| {seconds:.0f} | {metrics['mean_iou']:.4f} | {metrics['dice']:.4f} | "
            f"{metrics['pixel_accuracy']:.4f} | {metrics['loss']:.4f} |",
        ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        os.makedirs(os.path.dirname(args.write), exist_ok=True)
        with open(args.write, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
