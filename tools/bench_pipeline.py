"""Benchmark the input pipeline: augmentation throughput and training-step overhead.

Two tables, printed as Markdown:

1. images/s of each augmentation policy through :func:`make_pipeline` (shuffle, augment,
   normalise, batch), applied per batch (vectorised, the default) and per image, next to the
   closest stack of Keras preprocessing layers in the same pipeline, applied per batch (where
   Keras' ``RandomCrop`` draws one offset for the whole batch) and per image (each image its
   own crop, as the papers and our policies do).
2. training steps/s of LeNet-5 on digits, ResNet-20 on shapes 32x32 and MobileNet on shapes
   128x128, fed by the real pipeline (with augmentation) and by one pre-materialised batch repeated
   (no input cost at all); the ratio is how close the real pipeline comes to free input. It is
   the median, over ``--pairs`` back-to-back (real, pre-materialised) runs, of each pair's ratio,
   with its quartiles: the two runs of a pair share the load of the moment.

Every figure is given twice: per wall-clock second, and per CPU-second of this process (all
threads). On a machine shared with other work the wall-clock figures swing with the load; the
CPU-time figures measure the work itself and move less. The policy figures are the median of
``--repeats`` runs.

Usage::

    python tools/bench_pipeline.py                 # default run (about 7 minutes on 2 idle cores)
    python tools/bench_pipeline.py --quick         # smaller, for a smoke test
    python tools/bench_pipeline.py --sizes 32 --repeats 5 --skip-training
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerascv_course.data import load_dataset, make_pipeline  # noqa: E402
from kerascv_course.data.policies import get_policy  # noqa: E402
from kerascv_course.training.engine import release_in_background  # noqa: E402

POLICIES = ("none", "cifar", "lenet", "alexnet", "vgg", "resnet", "inception")


class KerasLayersAugment:
    """A batched ``augment`` that runs a stack of Keras preprocessing layers."""

    batched = True
    output_size = None

    def __init__(self, layers: list[keras.layers.Layer], output_size: tuple[int, int] | None = None):
        self.model = keras.Sequential(layers)
        self.output_size = output_size

    def __call__(self, image, label, seed):
        if image.shape.rank == 3:  # one image (the per-image pipeline): its own random draws
            return self.model(image[tf.newaxis], training=True)[0], label
        return self.model(image, training=True), label


def keras_equivalent(name: str, size: int) -> KerasLayersAugment | None:
    """The closest Keras-preprocessing-layer stack to each policy (Keras has no PCA lighting,
    scale jitter or random-resized crop: the nearest layers stand in, as noted)."""
    L = keras.layers
    flip = L.RandomFlip("horizontal", seed=1)
    if name == "cifar":
        return KerasLayersAugment([L.ZeroPadding2D(4), L.RandomCrop(size, size, seed=1), flip])
    if name == "lenet":
        return KerasLayersAugment([
            L.RandomTranslation(0.08, 0.08, fill_mode="constant", seed=1),
            L.RandomZoom(0.1, fill_mode="constant", seed=2),
            L.RandomShear(x_factor=0.18, fill_mode="constant", seed=3),
        ])
    if name == "alexnet":  # resize + random crop + flip (no PCA lighting layer)
        side = round(size * 256 / 224)
        return KerasLayersAugment([L.Resizing(side, side), L.RandomCrop(size, size, seed=1), flip], (size, size))
    if name in ("vgg", "resnet"):  # one fixed scale instead of jitter, + crop + flip
        side = round(size * (384 if name == "vgg" else 368) / 224)
        return KerasLayersAugment([L.Resizing(side, side), L.RandomCrop(size, size, seed=1), flip], (size, size))
    if name == "inception":  # zoom instead of random-resized crop, + flip + colour jitter
        return KerasLayersAugment([
            L.RandomZoom((-0.6, 0.0), seed=1), flip,
            L.RandomColorJitter(value_range=(0, 1), brightness_factor=0.125, contrast_factor=0.5,
                                saturation_factor=(0.25, 0.75), seed=2),
        ], (size, size))
    return None


def _images_per_second(pipe: tf.data.Dataset, images: int, repeats: int, epochs: int = 2) -> tuple[float, float]:
    """Median ``(images per wall-clock second, images per CPU-second of this process)`` over
    ``repeats`` runs of ``epochs`` epochs each, after a warm-up epoch that fills the cache and
    traces the functions. CPU time counts every thread, so the second figure barely moves when
    other processes share the machine."""
    for _ in pipe:
        pass
    wall, cpu = [], []
    for _ in range(repeats):
        holder = [iter(pipe.repeat(epochs))]  # the iterator's only reference, see below
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in holder[0]:
            pass
        wall.append(epochs * images / (time.perf_counter() - start))
        cpu.append(epochs * images / (time.process_time() - start_cpu))
        # Destroying a tf.data iterator can wait up to ~2 s for its autotuner thread (TF 2.21):
        # a fixed cost per run that capped every slow cell near the same figure. It is not the
        # pipeline's throughput (the trainer pays it off its main thread too), so it is left out.
        release_in_background(holder)
    return statistics.median(wall), statistics.median(cpu)


def bench_policies(sizes: list[int], count: dict[int, int], batch: int, repeats: int) -> list[str]:
    rows = ["| policy | size | vectorised | per image | Keras layers | Keras layers, per image |", "|---|---|---|---|---|---|"]
    print("images/s wall clock / per CPU-second (all threads)\n")
    print("\n".join(rows), flush=True)
    nan = (float("nan"), float("nan"))
    for size in sizes:
        ds, info = load_dataset("shapes", "train", image_size=size, num_examples=count[size])
        n = count[size]
        for name in POLICIES:
            policy = get_policy(name, info=info, image_size=size)
            common = dict(training=True, batch_size=batch, image_size=size, augment=policy)
            vec = _images_per_second(make_pipeline(ds, info, vectorize=True, **common), n, repeats)
            per = _images_per_second(make_pipeline(ds, info, vectorize=False, **common), n, repeats) if policy else vec
            layers = keras_equivalent(name, size)
            kl, kl_per = (
                _images_per_second(make_pipeline(ds, info, vectorize=v, **{**common, "augment": layers}), n, repeats)
                if layers else nan
                for v in (True, False)
            )
            rows.append(f"| {name} | {size} | {_fmt(vec)} | {_fmt(per)} | {_fmt(kl)} | {_fmt(kl_per)} |")
            print(rows[-1], flush=True)
    return rows


def _fmt(rates: tuple[float, float]) -> str:
    wall, cpu = rates
    return "—" if math.isnan(wall) else f"{wall:,.0f} / {cpu:,.0f}"


class _StepTimer(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.times: list[tuple[float, float]] = []

    def on_train_batch_end(self, batch, logs=None):
        self.times.append((time.perf_counter(), time.process_time()))


def _steps_per_second(model: keras.Model, ds: tf.data.Dataset, steps: int, skip: int = 3) -> tuple[float, float]:
    """``(steps per wall-clock second, steps per CPU-second)`` of ``model.fit`` on ``ds``."""
    timer = _StepTimer()
    model.fit(ds, epochs=1, steps_per_epoch=steps + skip, verbose=0, callbacks=[timer])
    t = timer.times
    n = len(t) - 1 - skip
    return n / (t[-1][0] - t[skip][0]), n / (t[-1][1] - t[skip][1])


TRAINING_CASES = {
    # label: (model, builder kwargs, dataset, dataset kwargs, policy, image size, batch)
    "LeNet-5 / digits 32x32": ("lenet5", {}, "digits", {}, "lenet", 32, 64),
    "LeNet-5 / digits 32x32, no augmentation": ("lenet5", {}, "digits", {}, "none", 32, 64),
    "ResNet-20 / shapes 32x32": ("resnet20", {}, "shapes", dict(num_examples=4096), "cifar", 32, 128),
    "MobileNet / shapes 128x128": ("mobilenet", {}, "shapes", dict(num_examples=1024, image_size=128), "inception", 128, 32),
}


def bench_training(cases: list[str], steps: dict[str, int], pairs: int) -> list[str]:
    """One row per case: median steps/s of the real pipeline and of the pre-materialised batch,
    and the median over ``pairs`` back-to-back (real, pre-materialised) runs of their ratio, with
    its quartiles. Each pair shares the machine's load of the moment, so the paired ratio is
    steadier than the ratio of the two medians (a 2-core machine swings a LeNet-5 step by 30 %
    from one run to the next); the order within a pair alternates."""
    from kerascv_course.models import get_model, list_models

    rows = ["| model / data | batch | policy | real pipeline (steps/s) | pre-materialised (steps/s) "
            "| ratio, wall clock (quartiles) | ratio, CPU time |", "|---|---|---|---|---|---|---|"]
    print("\n".join(rows), flush=True)
    for label in cases:
        name, kwargs, dataset, ds_kwargs, policy_name, size, batch = TRAINING_CASES[label]
        if name not in list_models():
            rows.append(f"| {label} | {batch} | {policy_name} | model {name!r} not registered | | | |")
            print(rows[-1], flush=True)
            continue
        ds, info = load_dataset(dataset, "train", **ds_kwargs)
        keras.utils.set_random_seed(0)
        model = get_model(name, input_shape=(size, size, info.image_shape[-1]), classes=info.num_classes, **kwargs)
        model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy")
        policy = get_policy(policy_name, info=info, image_size=size)
        real = make_pipeline(ds, info, training=True, batch_size=batch, image_size=size, augment=policy).repeat()
        x, y = next(iter(real))
        fixed = tf.data.Dataset.from_tensors((x, y)).repeat()
        _steps_per_second(model, fixed, 3, skip=0)  # compile the train step once
        _steps_per_second(model, real, 3, skip=0)  # and for the real pipeline's batch shape
        real_rates, fixed_rates = [], []
        for i in range(pairs):
            for which in ((real, real_rates), (fixed, fixed_rates))[:: 1 if i % 2 == 0 else -1]:
                which[1].append(_steps_per_second(model, which[0], steps[label]))
        wall = [r[0] / f[0] for r, f in zip(real_rates, fixed_rates)]
        cpu = [r[1] / f[1] for r, f in zip(real_rates, fixed_rates)]
        q1, _, q3 = statistics.quantiles(wall, n=4) if pairs > 1 else (wall[0],) * 3
        rows.append(
            f"| {label} | {batch} | {policy_name} | {statistics.median(r[0] for r in real_rates):.2f} "
            f"| {statistics.median(f[0] for f in fixed_rates):.2f} | {statistics.median(wall):.0%} "
            f"({q1:.0%}–{q3:.0%}) | {statistics.median(cpu):.0%} |"
        )
        print(rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 128], help="image sides for the policy table")
    parser.add_argument("--batch", type=int, default=128, help="batch size of the policy table")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per figure (median reported)")
    parser.add_argument("--pairs", type=int, default=8, help="(real, pre-materialised) run pairs per training case")
    parser.add_argument("--cases", nargs="+", default=None, metavar="TEXT",
                        help="training cases whose label contains one of these (default: all)")
    parser.add_argument("--quick", action="store_true", help="small counts and steps (smoke test)")
    parser.add_argument("--skip-policies", action="store_true")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args(argv)
    # 2048 images at 32x32, fewer for bigger images (at least 8 batches)
    count = {s: max(8 * args.batch, 2048 * 32 * 32 // (s * s)) // (4 if args.quick else 1) for s in args.sizes}
    # steps per timed run: a few seconds each (a LeNet-5 step is ~7 ms, a MobileNet-128 one ~0.5 s)
    full = {"LeNet": 300, "ResNet": 20, "MobileNet": 8}
    steps = {label: 4 if args.quick else next(v for k, v in full.items() if label.startswith(k)) for label in TRAINING_CASES}
    started = time.perf_counter()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPU cores, "
          f"load average {load:.1f} at start\n")
    repeats = 1 if args.quick else args.repeats
    if not args.skip_policies:
        bench_policies(args.sizes, count, args.batch, repeats)
        print()
    if not args.skip_training:
        cases = [c for c in TRAINING_CASES if args.cases is None or any(t.lower() in c.lower() for t in args.cases)]
        if not cases:
            parser.error(f"--cases matches no training case; the cases are: {', '.join(TRAINING_CASES)}")
        bench_training(cases, steps, 1 if args.quick else args.pairs)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n(total {time.perf_counter() - started:.0f} s, load average {load:.1f} at the end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
