"""tools/gpu_check.py: its CPU dry run writes every part with figures, and a part past its time box
is stopped and recorded, so the GPU check cannot rot between the rare runs on a GPU."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "gpu_check.py"
PARTS = ["machine", "resnet50", "trainer_vs_fit", "pipeline", "gpu_tests", "main_jobs"]
TITLES = ["1. ResNet-50 through the trainer", "2. The trainer next to plain model.fit",
          "3. The input pipeline feeding the GPU", "4. The GPU tests (pytest -m gpu)",
          "5. The main job and a CIFAR ResNet-20"]


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def _gpu_marked() -> set[str]:
    """Every test whose decorators include ``@pytest.mark.gpu``, found in the test sources."""
    pattern = re.compile(r"^@pytest\.mark\.gpu\n(?:@.*\n)*def (test_\w+)", re.MULTILINE)
    return {f"tests/{path.name}::{name}" for path in (ROOT / "tests").glob("test_*.py")
            for name in pattern.findall(path.read_text(encoding="utf-8"))}


@pytest.mark.slow
def test_dry_run_writes_every_part_with_figures(tmp_path):
    done = _run("--dry-run", "--output", str(tmp_path), "--budget-seconds", "900", timeout=1200)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "gpu.json").read_text(encoding="utf-8"))
    parts = report["parts"]
    assert report["mode"] == "dry-run" and set(parts) == set(PARTS)
    assert {name: p["status"] for name, p in parts.items()} == dict.fromkeys(PARTS, "ok"), \
        {name: p.get("error") for name, p in parts.items()}

    machine = parts["machine"]["result"]
    assert machine["cpu_cores"] == os.cpu_count() and machine["tf_gpus"] == []  # CUDA hidden above

    resnet = parts["resnet50"]["result"]
    # The probe starts at --max-batch 16, meets the dry run's simulated out-of-memory, halves to 8.
    assert resnet["batch_probe"] == {"16": "out of memory (simulated)", "8": "fits"} and resnet["batch"] == 8
    runs = {run["mode"]: run for run in resnet["runs"]}
    fp32 = runs.pop("float32")
    assert fp32["status"] == "ok" and (fp32["batch"], fp32["images_per_epoch"], fp32["replicas"]) == (8, 16, 1)
    # Both figures leave out the first (tracing) epoch of the two, and the epoch timer's window (epoch
    # begin to end) holds the trainer's own (its step loop, without making the epoch's iterator), so
    # the timer's rate can only be lower.
    assert len(fp32["epoch_seconds"]) == 2
    assert 0 < fp32["images_per_second"] <= fp32["trainer_metric_images_per_second"] * (1 + 1e-9)
    assert {"mixed_float16", "mixed_float16 + XLA", "float32 + XLA", "mixed_bfloat16"} <= set(runs)
    assert all(run["status"] == "skipped" and "dry-run" in run["reason"] for run in runs.values())

    versus = parts["trainer_vs_fit"]["result"]
    assert versus["batch"] == 8 and versus["fit"]["images_per_epoch"] == 16
    assert versus["trainer"]["images_per_second"] == fp32["images_per_second"]
    assert versus["ratio"] == pytest.approx(fp32["images_per_second"] / versus["fit"]["images_per_second"])

    pipeline = parts["pipeline"]["result"]
    assert pipeline["policy"] == "resnet" and pipeline["batch"] == 8
    assert pipeline["pipeline_only"]["images_per_second"] > 0
    assert 0 < pipeline["pipeline_only"]["cpu_cores_busy"] <= os.cpu_count() + 0.5
    rates = {k: pipeline[k][0]["images_per_second"] for k in ("pipeline", "tensors")}
    assert min(rates.values()) > 0 and pipeline["ratio"] == pytest.approx(rates["pipeline"] / rates["tensors"])

    tests = parts["gpu_tests"]["result"]
    assert set(tests["collected"]) == _gpu_marked() and tests["count"] == len(_gpu_marked())
    assert "tests/test_training.py::test_mixed_precision_and_xla_switches" in tests["collected"]

    for job, model in (("lenet5_digits", "lenet5"), ("resnet20_shapes", "resnet20")):
        result = parts["main_jobs"]["result"][job]
        assert result["status"] == "ok" and result["command"].startswith(f"kerascv-course train {model} ")
        assert result["epochs"] == 1 and 0.0 <= result["test_accuracy"] <= 1.0
        assert result["wall_seconds"] > result["train_seconds"] > 0

    page = (tmp_path / "gpu.md").read_text(encoding="utf-8")
    assert "Dry run on CPU" in page and all(f"### {title}" in page for title in TITLES)


def test_a_part_past_its_time_box_is_stopped_and_recorded(tmp_path):
    start = time.monotonic()
    done = _run("--dry-run", "--output", str(tmp_path), "--parts", "resnet50", "--budget-seconds", "3", timeout=300)
    elapsed = time.monotonic() - start
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "gpu.json").read_text(encoding="utf-8"))
    assert set(report["parts"]) == {"machine", "resnet50"}  # the machine part always runs
    resnet50 = report["parts"]["resnet50"]
    assert resnet50["status"] == "timed_out" and "time box" in resnet50["error"]
    assert elapsed < 3 + 20  # importing TensorFlow and training take longer than 3 s on any CPU
    assert "Status: **timed_out**" in (tmp_path / "gpu.md").read_text(encoding="utf-8")


def test_the_committed_page_describes_the_script():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = (ROOT / "docs" / "benchmarks" / "gpu.md").read_text(encoding="utf-8")
    assert page.startswith("# GPU check\n") and module.static_sections() in page
    assert list(module.PARTS) == PARTS
