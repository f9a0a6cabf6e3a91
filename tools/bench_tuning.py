"""Overhead of the search machinery: a RandomSearch against plain training runs of the same trials.

Runs, in one process and alternating, ``--repeats`` times:

- **search**: :func:`kerascv_course.tuning.tune` with ``--trials`` trials (random search, no early
  stopping, no retraining): data loading, the objective check, keras-tuner's oracle and
  checkpoints, the trials table and the plots included;
- **plain fit**: the same trials' hyperparameters, each built, compiled and fitted with Keras
  directly (same ``build_model``/``compile_model``/pipelines, data loaded once);
- **train()**: the same trials through the trainer (which also evaluates the test split and writes
  its run folder), for reference.

The overhead is search / plain fit (goal: <= 1.10), in wall-clock seconds (and, less sensitive to
other processes on a shared machine, in CPU seconds of this process), after a warm-up.

    python tools/bench_tuning.py                      # lenet5 on digits, 4 trials x 3 epochs
    python tools/bench_tuning.py --model mlp --epochs 2 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SPACE = {
    "learning_rate": {"values": [3e-4, 1e-3, 3e-3, 1e-2]},
    "batch_size": {"values": [32, 64]},
}


def plain_fit(recipe, splits, info) -> float:
    """Seconds to build, compile and fit ``recipe`` with Keras alone."""
    import keras

    from kerascv_course.data import make_pipeline
    from kerascv_course.training.trainer import build_model, compile_model, label_encoder

    started = time.perf_counter()
    keras.backend.clear_session()
    keras.utils.set_random_seed(recipe.seed)
    model = build_model(recipe, info)
    compile_model(model, recipe, info)
    encode = label_encoder(recipe, info)
    size = tuple(model.input_shape[1:3])
    pipe = dict(info=info, batch_size=recipe.batch_size, image_size=size,
                channels=model.input_shape[-1], seed=recipe.seed)
    model.fit(encode(make_pipeline(splits["train"], training=True, **pipe)),
              validation_data=encode(make_pipeline(splits[recipe.validation_split], training=False, **pipe)),
              epochs=recipe.epochs, verbose=0, shuffle=False)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    from kerascv_course.training import Recipe, train
    from kerascv_course.training.trainer import load_splits
    from kerascv_course.tuning import apply_hparams, tune

    base = Recipe(model=args.model, dataset=args.dataset, epochs=args.epochs, tensorboard=False)
    splits, info = load_splits(base)
    plain_fit(base.replace(epochs=1), splits, info)  # warm-up: TensorFlow's first-use costs
    wall: dict[str, list[float]] = {"search": [], "plain fit": [], "train()": []}
    cpu: dict[str, list[float]] = {k: [] for k in wall}

    def timed(name, fn):
        started, cpu_started = time.perf_counter(), time.process_time()
        out = fn()
        wall[name].append(time.perf_counter() - started)
        cpu[name].append(time.process_time() - cpu_started)
        return out

    def plain(trials):
        splits_again, info_again = load_splits(base)  # the search loads its data too
        for recipe in trials:
            plain_fit(recipe, splits_again, info_again)

    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            result = timed("search", lambda rep=rep: tune(
                base.replace(output=os.path.join(tmp, f"search{rep}")), tuner="random",
                max_trials=args.trials, space=SPACE, patience=0, retrain=False))
            trials = [apply_hparams(base, {k: r[k] for k in SPACE}) for r in result.trials]
            assert len(trials) == args.trials, result.trials
            timed("plain fit", lambda trials=trials: plain(trials))
            timed("train()", lambda trials=trials, rep=rep: [
                train(r.replace(output=os.path.join(tmp, f"train{rep}-{i}")), verbose=0)
                for i, r in enumerate(trials)])
    med = {k: statistics.median(v) for k, v in wall.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"{args.trials} trials of {args.model} on {args.dataset}, {args.epochs} epochs each, "
          f"median of {args.repeats}; wall seconds per repeat: "
          + "; ".join(f"{k} {', '.join(f'{t:.1f}' for t in v)}" for k, v in wall.items()))
    print("| run | wall s | ratio | CPU s | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name in wall:
        print(f"| {name} | {med[name]:.1f} | {med[name] / med['plain fit']:.2f}x | "
              f"{med_cpu[name]:.1f} | {med_cpu[name] / med_cpu['plain fit']:.2f}x |")
    print(f"\nsearch overhead: {med['search'] / med['plain fit']:.2f}x wall, "
          f"{med_cpu['search'] / med_cpu['plain fit']:.2f}x CPU (goal <= 1.10x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
