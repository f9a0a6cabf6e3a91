"""Benchmark: training throughput of the trainer next to plain ``model.fit``, same model and data.

For each case (ResNet-20 on shapes at 32x32, MobileNet on shapes at 128x128), with and without
XLA, this runs

* **trainer** — :func:`kerascv_course.training.train` (the ``strategy.run`` step loop, with its
  per-epoch checkpoint, history and callbacks), and
* **fit** — the same model (``build_model``), compiled the same way (``compile_model``), fed the
  same pipeline (``make_pipeline``), trained by Keras ``model.fit``,

and reports images per second from each epoch's wall time (epoch start to the next epoch's
start, so per-epoch overheads count), as the median over the epochs after the first (which
traces and compiles), and the same per second of process CPU time (all threads) — the steadier
figure on a machine that other jobs share. Both see the same number of steps per epoch; neither
validates. The two loops alternate within one process, ``--repeats`` times, and the best median
of each is kept; the table notes the 1-minute load average.

    python tools/bench_training.py                      # the table of docs/benchmarks/training.md
    python tools/bench_training.py --cases resnet20 --epochs 3 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

CASES = {
    "resnet20": dict(model="resnet20", image_size=32, examples=1280, batch_size=128),
    "mobilenet": dict(model="mobilenet", image_size=128, examples=384, batch_size=32),
}


class EpochTimer(keras.callbacks.Callback):
    """Wall and process-CPU time from each epoch's start to the next one's (or the end)."""

    def __init__(self) -> None:
        super().__init__()
        self.starts: list[tuple[float, float]] = []
        self.end = (0.0, 0.0)

    def on_epoch_begin(self, epoch, logs=None):
        self.starts.append((time.perf_counter(), time.process_time()))

    def on_train_end(self, logs=None):
        self.end = (time.perf_counter(), time.process_time())

    def seconds(self, clock: int = 0) -> list[float]:
        marks = [m[clock] for m in [*self.starts, self.end]]
        return [b - a for a, b in zip(marks, marks[1:])]


def _recipe(case: dict, *, epochs: int, xla: bool, output: str):
    from kerascv_course.training import Recipe

    return Recipe(
        model=case["model"], dataset="shapes", image_size=case["image_size"],
        dataset_kwargs={"num_examples": {"train": case["examples"], "validation": 64, "test": 64}},
        epochs=epochs, batch_size=case["batch_size"], optimizer="sgd", learning_rate=0.01,
        momentum=0.9, schedule="constant", validation_split=None, tensorboard=False,
        jit_compile=xla, output=output, overwrite=True, resume=False,
    )


def _rates(timer: EpochTimer, images: int) -> tuple[float, float]:
    """Images per wall second and per CPU second (medians over the epochs after the first)."""
    out = []
    for clock in (0, 1):
        seconds = timer.seconds(clock)
        steady = seconds[1:] if len(seconds) > 1 else seconds
        out.append(images / statistics.median(steady))
    return out[0], out[1]


def run_trainer(recipe, images: int) -> tuple[float, float]:
    from kerascv_course.training import train

    timer = EpochTimer()
    train(recipe, verbose=0, callbacks=[timer])
    return _rates(timer, images)


def run_fit(recipe, images: int) -> tuple[float, float]:
    from kerascv_course.data import make_pipeline
    from kerascv_course.training.trainer import (
        build_model,
        compile_model,
        load_splits,
        run_settings,
    )

    with run_settings(recipe):
        splits, info = load_splits(recipe)
        model = build_model(recipe, info)
        steps = -(-info.num_examples // recipe.batch_size)
        compile_model(model, recipe, info, steps_per_epoch=steps)
        data = make_pipeline(
            splits["train"], info, training=True, batch_size=recipe.batch_size,
            image_size=recipe.image_size, channels=model.input_shape[-1], seed=recipe.seed,
        )
        timer = EpochTimer()
        model.fit(data, epochs=recipe.epochs, verbose=0, callbacks=[timer])
        keras.backend.clear_session()
    return _rates(timer, images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args()

    import tensorflow as tf

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.cases:
            case = CASES[name]
            for xla in (False, True):
                recipe = _recipe(case, epochs=args.epochs, xla=xla, output=os.path.join(tmp, f"{name}-{xla}"))
                images = case["examples"]  # every image once per epoch (the last batch is partial)
                ours, fit = [], []
                for _ in range(args.repeats):
                    ours.append(run_trainer(recipe, images))
                    fit.append(run_fit(recipe, images))
                best_ours = max(o[0] for o in ours), max(o[1] for o in ours)
                best_fit = max(f[0] for f in fit), max(f[1] for f in fit)
                row = dict(case=f"{name} / shapes-{case['image_size']}", xla=xla, batch=case["batch_size"],
                           trainer=best_ours[0], fit=best_fit[0], ratio=best_ours[0] / best_fit[0],
                           trainer_cpu=best_ours[1], fit_cpu=best_fit[1], ratio_cpu=best_ours[1] / best_fit[1],
                           load=os.getloadavg()[0])
                rows.append(row)
                print(json.dumps(row), flush=True)
    print(f"\nTensorFlow {tf.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPU cores, "
          f"{len(tf.config.list_physical_devices('GPU'))} GPU(s)\n")
    print("| case | XLA | batch | trainer (img/s) | model.fit (img/s) | trainer / fit | trainer / fit, per CPU-second | load |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {'on' if r['xla'] else 'off'} | {r['batch']} | {r['trainer']:.0f} | "
              f"{r['fit']:.0f} | {r['ratio']:.3f} | {r['ratio_cpu']:.3f} | {r['load']:.1f} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
