"""The command line is quiet: no TensorFlow/absl log line and no ANSI escape on a non-TTY."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from kerascv_course.cli.quiet import NOISE

ANSI = re.compile(r"\x1b\[")


def test_noise_pattern_drops_the_library_lines_and_keeps_ours():
    noisy = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1796194297.638111    7676 port.cc:153] oneDNN custom operations are on.",
        "E0000 00:00:1796194297.6 7676 cuda_executor.cc:1228] failed call to cuInit: UNKNOWN ERROR (303)",
        "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild",
        "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
        "fully_quantize: 0, inference_type: 6, input_inference_type: FLOAT32",
    ]
    kept = [
        "kerascv-course train: error: `epochs` must be an integer >= 1. Received: epochs=0",
        "Traceback (most recent call last):",
        "Epoch 1/2",
    ]
    assert all(NOISE.match(line) for line in noisy)
    assert not any(NOISE.match(line) for line in kept)


def test_main_job_on_a_non_tty_prints_one_line_per_epoch_and_no_library_log(tmp_path):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    result = subprocess.run(
        [sys.executable, "-m", "kerascv_course.cli", "train", "lenet5", "--dataset", "digits", "--epochs", "2",
         "--steps-per-epoch", "3", "--output", str(tmp_path / "run")],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout + result.stderr
    assert not ANSI.search(out)
    assert not any(NOISE.match(line) for line in out.splitlines()), out
    assert "oneDNN" not in out and "absl" not in out and "cuInit" not in out
    epochs = [line for line in result.stdout.splitlines() if re.match(r"\d+/\d+ - ", line)]
    assert len(epochs) == 2, result.stdout
    assert "Test top-1 error" in result.stdout
