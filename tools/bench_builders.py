"""Benchmark our builders against their keras.applications twins: build time and forward speed.

For every registered model with a ``keras_app`` twin (read from the registry at run time), builds
ours and keras.applications' model (``weights=None``, same input, 1000 classes) and measures

* build time: seconds to construct the ``keras.Model`` (after one untimed build of each);
* forward throughput: images/s of ``predict_on_batch`` on a batch of ``--batch-size`` images
  (after warm-up calls, so the compiled predict function is timed), ``--iters`` batches per run.

Each measurement is taken ``--repeats`` times as a *pair*, ours and theirs back to back, alternating
who goes first. A shared machine's load drifts slowly, so the two halves of a pair run under nearly
the same load; the reported ratio is the median over pairs of the per-pair speed ratio, ours
relative to theirs (>= 1: ours at least as fast; the goal is >= 0.95): build
``t_theirs / t_ours``, throughput ``ips_ours / ips_theirs``. Absolute figures are the best runs.

With ``--grouped-conv`` it also times ResNeXt's grouped 3x3 convolution two ways on the same
kernel: Keras's ``Conv2D(groups=G)`` (one op, what the zoo builds) against a Python loop that
slices the input into ``G`` channel groups, convolves each with its own ``Conv2D`` and
concatenates (the definition, G ops); the ratio is ``img/s groups= / img/s loop`` (> 1: one op is
faster), with the same pairing and medians.

Example:
    python tools/bench_builders.py --models mobilenet,densenet121 --input-size 128 --repeats 9 \\
        --output docs/benchmarks/builders.md
    python tools/bench_builders.py --models inception_resnet_v2 --grouped-conv --repeats 7
"""

from __future__ import annotations

import argparse
import fnmatch
import gc
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerascv_course.models import get_spec, list_models  # noqa: E402


@dataclass
class Row:
    """Measurements of one model: one entry per pair for each list."""

    name: str
    keras_app: str
    side: int
    params_ours: int
    params_theirs: int
    same_outputs: bool
    build_ours: list[float]
    build_theirs: list[float]
    ips_ours: list[float]
    ips_theirs: list[float]

    @property
    def build_ratio(self) -> float:
        """Median over pairs of ``t_theirs / t_ours``."""
        return statistics.median(t / o for o, t in zip(self.build_ours, self.build_theirs))

    @property
    def ips_ratio(self) -> float:
        """Median over pairs of ``ips_ours / ips_theirs``."""
        return statistics.median(o / t for o, t in zip(self.ips_ours, self.ips_theirs))


def twins(patterns: str | None) -> list[str]:
    """Registered models with a keras.applications twin, optionally filtered by names/wildcards."""
    names = [n for n in list_models("classification") if get_spec(n).keras_app]
    if not patterns:
        return names
    wanted = [p.strip().lower() for p in patterns.split(",") if p.strip()]
    chosen = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in wanted)]
    unknown = [p for p in wanted if not any(fnmatch.fnmatchcase(n, p) for n in names)]
    if unknown:
        raise SystemExit(
            f"--models: no model with a keras.applications twin matches {unknown}; "
            f"choose from {', '.join(names)}"
        )
    return chosen


def _builders(name: str, side: int):
    spec = get_spec(name)
    shape = (side, side, 3)
    app = getattr(keras.applications, spec.keras_app)
    return (
        lambda: spec.builder(input_shape=shape, weights=None),
        lambda: app(input_shape=shape, weights=None),
    )


def _timed_build(build) -> tuple[float, keras.Model]:
    start = time.perf_counter()
    model = build()
    return time.perf_counter() - start, model


def _throughput(model: keras.Model, batch: np.ndarray, iters: int) -> float:
    start = time.perf_counter()
    for _ in range(iters):
        model.predict_on_batch(batch)
    return iters * len(batch) / (time.perf_counter() - start)


def bench(name: str, *, side: int, batch_size: int, repeats: int, iters: int) -> Row:
    """Measure one model (see the module docstring)."""
    spec = get_spec(name)
    side = max(side, spec.min_input_size)
    build_ours, build_theirs = _builders(name, side)
    times: dict[str, list[float]] = {"ours": [], "theirs": []}
    sides = (("ours", build_ours), ("theirs", build_theirs))
    for _, build in sides:  # untimed warm-up: first-use costs of each layer type, either side
        keras.backend.clear_session()
        build()
    for i in range(repeats):
        for key, build in sides if i % 2 == 0 else sides[::-1]:  # alternate who goes first
            keras.backend.clear_session()
            gc.collect()
            seconds, _ = _timed_build(build)
            times[key].append(seconds)
    keras.backend.clear_session()
    gc.collect()
    ours, theirs = build_ours(), build_theirs()
    batch = np.random.default_rng(0).uniform(-1, 1, (batch_size, side, side, 3)).astype("float32")
    try:
        theirs.set_weights(ours.get_weights())  # same numbers flow through both
        same = bool(np.allclose(
            ours.predict_on_batch(batch), theirs.predict_on_batch(batch), rtol=1e-4, atol=1e-5
        ))
    except ValueError:  # weight lists that do not line up: report it, still time both
        same = False
    for model in (ours, theirs):  # warm-up beyond the first (tracing) call
        model.predict_on_batch(batch)
    ips: dict[str, list[float]] = {"ours": [], "theirs": []}
    models = (("ours", ours), ("theirs", theirs))
    for i in range(repeats):
        for key, model in models if i % 2 == 0 else models[::-1]:
            ips[key].append(_throughput(model, batch, iters))
    return Row(
        name=name, keras_app=spec.keras_app, side=side,
        params_ours=ours.count_params(), params_theirs=theirs.count_params(), same_outputs=same,
        build_ours=times["ours"], build_theirs=times["theirs"],
        ips_ours=ips["ours"], ips_theirs=ips["theirs"],
    )


@dataclass
class GroupedRow:
    """Throughput of one grouped-convolution shape, ``groups=`` against the loop of slices."""

    side: int
    channels: int
    groups: int
    same_outputs: bool
    ips_grouped: list[float]
    ips_loop: list[float]

    @property
    def ratio(self) -> float:
        """Median over pairs of ``ips_grouped / ips_loop``."""
        return statistics.median(g / lo for g, lo in zip(self.ips_grouped, self.ips_loop))


def grouped_conv_pair(side: int, channels: int, groups: int) -> tuple[keras.Model, keras.Model]:
    """A 3x3 "same" grouped convolution as one ``Conv2D(groups=)`` and as a loop of slices, the
    loop's kernels cut from the grouped layer's kernel (so both compute the same function)."""
    per_group = channels // groups
    x = keras.Input((side, side, channels))
    grouped = keras.layers.Conv2D(channels, 3, padding="same", groups=groups, use_bias=False,
                                  name="grouped")
    one_op = keras.Model(x, grouped(x))
    y = keras.Input((side, side, channels))
    convs = [keras.layers.Conv2D(per_group, 3, padding="same", use_bias=False, name=f"group{g}")
             for g in range(groups)]
    parts = [conv(y[..., g * per_group:(g + 1) * per_group]) for g, conv in enumerate(convs)]
    loop = keras.Model(y, keras.layers.Concatenate()(parts))
    kernel = grouped.get_weights()[0]  # (3, 3, per_group, channels): group g owns a column slice
    for g, conv in enumerate(convs):
        conv.set_weights([kernel[..., g * per_group:(g + 1) * per_group]])
    return one_op, loop


def bench_grouped(
    side: int, channels: int, groups: int, *, batch_size: int, repeats: int, iters: int
) -> GroupedRow:
    """Time one grouped-convolution shape (see the module docstring)."""
    keras.backend.clear_session()
    one_op, loop = grouped_conv_pair(side, channels, groups)
    batch = np.random.default_rng(0).normal(size=(batch_size, side, side, channels)).astype(
        "float32")
    same = bool(np.allclose(one_op.predict_on_batch(batch), loop.predict_on_batch(batch),
                            rtol=1e-4, atol=1e-4))
    for model in (one_op, loop):
        model.predict_on_batch(batch)
    ips: dict[str, list[float]] = {"grouped": [], "loop": []}
    models = (("grouped", one_op), ("loop", loop))
    for i in range(repeats):
        for key, model in models if i % 2 == 0 else models[::-1]:
            ips[key].append(_throughput(model, batch, iters))
    return GroupedRow(side, channels, groups, same, ips["grouped"], ips["loop"])


GROUPED_HEADER = (
    "| input (side x side x channels) | groups | same outputs | img/s groups= | img/s loop "
    "| ratio groups= / loop |"
)


def grouped_table(rows: list[GroupedRow]) -> str:
    """The Markdown table of the grouped-convolution measurements."""
    lines = [GROUPED_HEADER, "|" + "---|" * 6]
    for r in rows:
        lines.append(
            f"| {r.side}x{r.side}x{r.channels} | {r.groups} | {'yes' if r.same_outputs else 'NO'} "
            f"| {max(r.ips_grouped):.1f} | {max(r.ips_loop):.1f} | {r.ratio:.2f} |"
        )
    return "\n".join(lines)


# ResNeXt-50 32x4d's grouped 3x3 convolutions at stages 2 and 4 (strides 4 and 16).
GROUPED_SHAPES = ((4, 128, 32), (16, 512, 32))


HEADER = (
    "| model | keras.applications | input | params equal | same outputs | build ours (s) "
    "| build theirs (s) | build ratio | img/s ours | img/s theirs | throughput ratio |"
)


def table(rows: list[Row]) -> str:
    """The Markdown table of the measurements (best absolute runs, median paired ratios)."""
    lines = [HEADER, "|" + "---|" * 11]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.keras_app} | {r.side} | "
            f"{'yes' if r.params_ours == r.params_theirs else 'NO'} ({r.params_ours:,}) | "
            f"{'yes' if r.same_outputs else 'NO'} | "
            f"{min(r.build_ours):.2f} | {min(r.build_theirs):.2f} | {r.build_ratio:.2f} | "
            f"{max(r.ips_ours):.1f} | {max(r.ips_theirs):.1f} | {r.ips_ratio:.2f} |"
        )
    return "\n".join(lines)


def machine() -> str:
    """One line describing the machine and the library versions."""
    return (
        f"{platform.machine()} CPU, {os.cpu_count()} cores ({platform.processor() or 'unknown'}), "
        f"{platform.system()} {platform.release()}; Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}; "
        f"GPUs: {len(tf.config.list_physical_devices('GPU'))}"
    )


def markdown(rows: list[Row], args: argparse.Namespace, seconds: float) -> str:
    """The whole report: command, machine, table, how to read it."""
    command = "python tools/bench_builders.py " + " ".join(sys.argv[1:])
    slow = [r.name for r in rows if min(r.ips_ratio, r.build_ratio) < 0.95]
    verdict = (
        "All ratios are >= 0.95." if not slow
        else f"Below 0.95 in this run: {', '.join(slow)} (see the notes on noise)."
    )
    return f"""# Builders vs keras.applications

Our builders against their keras.applications twins (same layers, `weights=None`, 1000 classes):
time to build the `keras.Model`, and forward throughput of `predict_on_batch` on a batch of
{args.batch_size} images ({args.iters} batches per run, after warm-up). Every measurement is taken
{args.repeats} times as a pair, ours and theirs back to back, alternating who goes first; a ratio is
the median over the pairs of the per-pair speed ratio, ours relative to theirs (>= 1: ours at
least as fast; goal >= 0.95): build `t_theirs / t_ours`, throughput `img/s ours / img/s theirs`.
The absolute columns are the best runs. Theirs gets ours' weights ("same outputs": equal
predictions on the timed batch).

- Command: `{command}`
- Machine: {machine()}
- Wall time of the run: {seconds / 60:.1f} min

{table(rows)}

{verdict}

Notes: the two models of a row compute the same graph with the same TensorFlow kernels, so the
throughput ratio is expected to be 1 within noise; the build ratio measures Python-side
construction. The machine is shared (other jobs run beside the benchmark), so single runs vary by
tens of percent; pairing the runs and taking medians keeps most of that out of the ratios, not all.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", help="comma-separated names or wildcards (default: all twins)")
    parser.add_argument("--input-size", type=int, default=128,
                        help="input side (raised to a model's minimum), default 128")
    parser.add_argument("--repeats", type=int, default=9, help="timed pairs, default 9")
    parser.add_argument("--iters", type=int, default=3, help="batches per throughput run")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--grouped-conv", action="store_true",
                        help="also time Conv2D(groups=) against a loop of per-group slices")
    parser.add_argument("--output", help="write the Markdown report here")
    args = parser.parse_args(argv)
    for flag in ("input_size", "repeats", "iters", "batch_size"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be >= 1")
    names = twins(args.models)
    start = time.perf_counter()
    rows = []
    print(HEADER.split(" | img")[0] + " | ...", flush=True)
    for name in names:
        row = bench(name, side=args.input_size, batch_size=args.batch_size,
                    repeats=args.repeats, iters=args.iters)
        rows.append(row)
        print(table([row]).splitlines()[-1], flush=True)
    grouped = []
    if args.grouped_conv:
        for stride, channels, groups in GROUPED_SHAPES:
            grouped.append(bench_grouped(
                max(args.input_size // stride, 1), channels, groups, batch_size=args.batch_size,
                repeats=args.repeats, iters=args.iters,
            ))
            print(grouped_table(grouped[-1:]).splitlines()[-1], flush=True)
    report = markdown(rows, args, time.perf_counter() - start)
    if grouped:
        report += (
            "\n## Grouped convolution: `Conv2D(groups=)` against a loop of slices\n\n"
            f"ResNeXt-50 32x4d's grouped 3x3 at strides 4 and 16 of a {args.input_size}-pixel "
            f"input, batch {args.batch_size}; the loop's kernels are cut from the grouped "
            "layer's, so both compute the same function.\n\n" + grouped_table(grouped) + "\n"
        )
    print()
    print(table(rows))
    if grouped:
        print()
        print(grouped_table(grouped))
    if args.output:
        from kerascv_course.utils.files import write_text

        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        write_text(args.output, report)
        os.chmod(args.output, 0o644)  # a document, readable like the rest of docs/
        print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
