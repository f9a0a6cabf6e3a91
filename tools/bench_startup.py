"""Start-up times of the command line: ``--help``, ``list``, an argument error, ``predict``.

Each command runs ``--repeats`` times as a fresh process (what a user waits for, Python start-up
and imports included); the table gives the median and the range of the wall-clock times.
``predict`` runs on one image with a LeNet-5 ``.tflite`` made once beforehand (not timed).

    python tools/bench_startup.py [--repeats 5] [--write docs/benchmarks/startup.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time


def setup(folder: str) -> tuple[str, str]:
    """A LeNet-5 float32 ``.tflite`` and one 32x32 grey PNG in ``folder``."""
    import numpy as np
    from PIL import Image

    model, image = os.path.join(folder, "lenet5.tflite"), os.path.join(folder, "digit.png")
    code = (
        "import keras; from kerascv_course.models import get_model; "
        f"get_model('lenet5').save({os.path.join(folder, 'lenet5.keras')!r})"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "kerascv_course.cli", "export", os.path.join(folder, "lenet5.keras"),
                    "--quantization", "float32", "--latency-runs", "0", "--output", model],
                   check=True, capture_output=True)
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32), dtype=np.uint8)).save(image)
    return model, image


def timed(argv: list[str], repeats: int, *, expect: int = 0) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "kerascv_course.cli", *argv], capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != expect:
            raise SystemExit(f"{argv} exited {done.returncode}:\n{done.stderr}")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write", default=None, help="Markdown file to write the table to")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        model, image = setup(folder)
        cases = [
            ("kerascv-course --help", ["--help"], 0),
            ("kerascv-course list", ["list"], 0),
            ("kerascv-course train lenet5 --dataset digits --epochs 0 (argument error)",
             ["train", "lenet5", "--dataset", "digits", "--epochs", "0"], 2),
            ("kerascv-course predict lenet5.tflite digit.png (one image)", ["predict", model, image], 0),
        ]
        rows = []
        for name, argv, expect in cases:
            times = timed(argv, args.repeats, expect=expect)
            rows.append(f"| `{name}` | {statistics.median(times):.2f} s | {min(times):.2f}–{max(times):.2f} s |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    text = "\n".join([
        "# Start-up times of the command line",
        "",
        f"`python tools/bench_startup.py --repeats {args.repeats}`: each command as a fresh process, "
        f"wall clock, median and range of {args.repeats} runs. {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, load average {load:.1f} at the end.",
        "",
        "| command | median | range |",
        "|---|---|---|",
        *rows,
        "",
        "`--help`, `list` and argument errors import neither TensorFlow nor Keras (the parser, the",
        "registries' catalogs and the recipe checks are TF-free); `predict` loads the LiteRT",
        "interpreter and Pillow, not TensorFlow.",
        "",
    ])
    print(text)
    if args.write:
        with open(args.write, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
