"""Benchmark TFLite exports of MobileNet: file size and single-image LiteRT latency per quantization.

For each configuration (``--configs alpha/resolution,…``; default 1.0/224 and 0.25/128, ImageNet's
1000 classes, ``weights=None`` — sizes and speed do not depend on the weights' values) it builds
``mobilenet``, exports it with :func:`kerascv_course.export.export_tflite` in every quantization
(int8: full integer, uint8 input and output, calibrated on ``--calibration`` random images — fine
for size and speed, not for accuracy — with per-channel kernel scales, and again per tensor), and
measures

* the ``.tflite`` file size, against float32 (goal: int8 <= 30 %);
* the single-image latency of the LiteRT interpreter (``ai_edge_litert``, ``--threads`` threads,
  XNNPACK), median of ``--runs`` invocations, against float32 TFLite (goal: int8 <= 50 %);
* the Keras model's own single-image latency (a traced ``tf.function`` call, TensorFlow's default
  thread pools), in the same run.

Latencies are measured in ``--repeats`` rounds; each round times every model once, in an order
rotated from round to round, so slow drifts of a shared machine's load hit all models alike; the
table reports the median over rounds of each model's median. Anchor: TFLite's hosted MobileNet v1
1.0/224 files are 16.9 MB (float) and 4.3 MB (quantized).

Example:
    python tools/bench_tflite.py --output docs/benchmarks/tflite.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerascv_course.export import TFLiteClassifier, export_tflite  # noqa: E402
from kerascv_course.export.report import keras_latency  # noqa: E402
from kerascv_course.models import get_model  # noqa: E402

MODES = ("float32", "float16", "dynamic", "int8", "int8-per-tensor")
# Text below this line in --output (measurements of trained models) is kept when the table is rewritten.
KEEP_MARKER = "<!-- bench_tflite.py writes the tables above; the sections below are kept -->"
HOSTED = {"1.0/224": {"float32": 16.9e6, "int8": 4.3e6}}


def _config(text: str) -> tuple[float, int]:
    alpha, _, size = text.partition("/")
    return float(alpha), int(size)


def bench_config(alpha: float, size: int, args: argparse.Namespace, folder: str) -> list[dict]:
    model = get_model("mobilenet", alpha=alpha, input_shape=(size, size, 3), classes=1000)
    rng = np.random.default_rng(0)
    calibration = rng.uniform(0, 255, (args.calibration, size, size, 3)).astype(np.float32)
    rows, runners = [], {}
    for mode in MODES:
        quantization = mode.split("-")[0]
        io = dict(input_type="uint8", output_type="uint8") if quantization == "int8" else {}
        if mode == "int8-per-tensor":
            io["per_channel"] = False
        path = os.path.join(folder, f"mobilenet_{alpha}_{size}_{mode}.tflite")
        started = time.time()
        result = export_tflite(
            model, path, quantization, calibration if quantization == "int8" else None,
            calibration_samples=args.calibration, **io,
        )
        rows.append(dict(mode=mode, size=result.size_bytes, io=f"{result.input_type}->{result.output_type}",
                         seconds=time.time() - started, times=[]))
        runners[mode] = TFLiteClassifier(path, num_threads=args.threads)
    keras_row = dict(mode="keras", size=None, io="float32", seconds=None, times=[])
    order = [*MODES, "keras"]
    for r in range(args.repeats):
        k = r % len(order)
        for mode in order[k:] + order[:k]:
            if mode == "keras":
                keras_row["times"].append(keras_latency(model, runs=args.runs, warmup=3)["median_ms"])
            else:
                row = next(x for x in rows if x["mode"] == mode)
                row["times"].append(runners[mode].measure_latency(runs=args.runs, warmup=3)["median_ms"])
    for row in (*rows, keras_row):
        row["latency"] = statistics.median(row["times"])
    return [keras_row, *rows]


def markdown(results: dict[str, list[dict]], args: argparse.Namespace, wall: float) -> str:
    cmd = "python tools/bench_tflite.py " + " ".join(sys.argv[1:])
    lines = [
        "# TFLite export of MobileNet: size and latency",
        "",
        "MobileNet (`kerascv_course.get_model(\"mobilenet\", alpha=…, classes=1000)`, untrained) exported",
        "with `kerascv_course.export.export_tflite` in each quantization (int8: full integer, uint8",
        f"input/output, calibrated on {args.calibration} random images; per-channel kernel scales, and",
        "per tensor in the `int8 per tensor` row). Latency: one image, LiteRT",
        f"interpreter (`ai_edge_litert`, XNNPACK, {args.threads} thread(s)), median of {args.runs}",
        f"invocations, median over {args.repeats} interleaved rounds; the Keras row is the same model",
        "called through a traced `tf.function` (TensorFlow's default thread pools: all cores).",
        "Goals: int8 file <= 30 % of float32; int8 latency <= 50 % of float32 TFLite.",
        "",
        f"- Command: `{cmd}`",
        f"- Machine: {platform.machine()} CPU, {os.cpu_count()} cores (load average {args.load:.1f} at the start), "
        f"{platform.system()} {platform.release()}; Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, ai-edge-litert {_litert_version()}",
        f"- Wall time of the run: {wall / 60:.1f} min",
        "",
    ]
    for name, rows in results.items():
        f32 = next(r for r in rows if r["mode"] == "float32")
        lines += [
            f"## MobileNet {name}",
            "",
            "| model | I/O | file (MB) | vs float32 | ms / image | vs float32 TFLite | convert (s) |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            size = f"{r['size'] / 1e6:.2f}" if r["size"] else "-"
            ratio = f"{r['size'] / f32['size']:.0%}" if r["size"] else "-"
            conv = f"{r['seconds']:.1f}" if r["seconds"] else "-"
            label = "Keras (TF)" if r["mode"] == "keras" else f"TFLite {r['mode'].replace('-', ' ')}"
            lines.append(
                f"| {label} | {r['io']} | {size} | {ratio} | {r['latency']:.2f} | "
                f"{r['latency'] / f32['latency']:.0%} | {conv} |"
            )
        if name in HOSTED:
            hosted = HOSTED[name]
            lines += ["", f"Anchor, TFLite's hosted MobileNet v1 {name}: {hosted['float32'] / 1e6:.1f} MB float, "
                          f"{hosted['int8'] / 1e6:.1f} MB quantized ({hosted['int8'] / hosted['float32']:.0%})."]
        lines.append("")
        for mode in ("int8", "int8-per-tensor"):
            i8 = next(r for r in rows if r["mode"] == mode)
            lines.append(
                f"Goals, {mode.replace('-', ' ')}: file {i8['size'] / f32['size']:.0%} of float32 (goal <= 30 %: "
                f"{'met' if i8['size'] <= 0.3 * f32['size'] else 'NOT met'}); latency "
                f"{i8['latency'] / f32['latency']:.0%} of float32 TFLite (goal <= 50 %: "
                f"{'met' if i8['latency'] <= 0.5 * f32['latency'] else 'NOT met'})."
            )
        lines.append("")
    return "\n".join(lines)


def _litert_version() -> str:
    from importlib.metadata import version

    return version("ai-edge-litert")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="1.0/224,0.25/128", help="alpha/resolution list")
    parser.add_argument("--threads", type=int, default=1, help="LiteRT interpreter threads (default 1)")
    parser.add_argument("--runs", type=int, default=50, help="timed invocations per measurement")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved measurement rounds")
    parser.add_argument("--calibration", type=int, default=100, help="int8 calibration images")
    parser.add_argument("--output", default=None, help="write the markdown table here")
    args = parser.parse_args(argv)
    started = time.time()
    args.load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for text in args.configs.split(","):
            alpha, size = _config(text)
            name = f"{alpha:g}/{size}" if alpha != 1 else f"1.0/{size}"
            results[name] = bench_config(alpha, size, args, folder)
    text = markdown(results, args, time.time() - started)
    print(text)
    if args.output:
        from kerascv_course.utils.files import write_text

        kept = ""
        if os.path.isfile(args.output):
            with open(args.output, encoding="utf-8") as fh:
                old = fh.read()
            if KEEP_MARKER in old:
                kept = old[old.index(KEEP_MARKER) + len(KEEP_MARKER):]
        write_text(args.output, f"{text}\n{KEEP_MARKER}{kept or chr(10)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
