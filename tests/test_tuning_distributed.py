"""Searches as separate processes: killed and resumed, and a chief with a worker on loopback."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

SPACE = {"learning_rate": {"values": [1e-6, 3e-3]}, "hidden_units": {"values": [[32], [64]]}}
TIMEOUT = 240


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="", **extra)
    return env


def _command(space_file, out, *extra: str) -> list[str]:
    return [sys.executable, "-m", "kerascv_course.cli", "tune", "mlp", "--dataset", "digits",
            "--space", str(space_file), "--output", str(out), "--no-retrain", "--patience", "0",
            *extra]


def _status(out, trial: str) -> str | None:
    path = os.path.join(out, "trials", f"trial_{trial}", "trial.json")
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)["status"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return None


def _digest(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _rows(out) -> list[dict[str, str]]:
    with open(os.path.join(out, "trials.csv"), newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_killed_search_resumes_without_redoing_finished_trials(tmp_path):
    space = tmp_path / "space.json"
    space.write_text(json.dumps(SPACE))
    out = str(tmp_path / "search")
    command = _command(space, out, "--max-trials", "3", "--epochs", "3")
    proc = subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + TIMEOUT
    checkpoint_1 = os.path.join(out, "trials", "trial_1", "checkpoint.weights.h5")
    try:
        # Kill (SIGKILL: no clean-up) once trial 0 is finished and trial 1 is part-way through.
        while not (_status(out, "0") == "COMPLETED" and os.path.exists(checkpoint_1)):
            assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
            assert time.time() < deadline, "the search did not reach trial 1 in time"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
    assert _status(out, "1") == "RUNNING", "trial 1 finished before the kill: nothing was cut off"
    assert _status(out, "2") is None
    finished = {name: _digest(os.path.join(out, "trials", "trial_0", name))
                for name in ("trial.json", "checkpoint.weights.h5")}

    rerun = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert "(3 trial(s), 2 run now, 1 replica per trial)" in rerun.stdout
    for name, digest in finished.items():
        assert _digest(os.path.join(out, "trials", "trial_0", name)) == digest, name
    rows = _rows(out)
    assert [(r["trial"], r["status"]) for r in rows] == [
        ("0", "COMPLETED"), ("1", "COMPLETED"), ("2", "COMPLETED")]
    assert all(r["epochs"] == "3" for r in rows)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.gpu
@pytest.mark.slow
def test_chief_and_worker_share_one_oracle(tmp_path):
    space = tmp_path / "space.json"
    space.write_text(json.dumps(SPACE))
    chief_out, worker_out = tmp_path / "chief", tmp_path / "worker"
    common = dict(KERASTUNER_ORACLE_IP="127.0.0.1", KERASTUNER_ORACLE_PORT=str(_free_port()))
    args = ("--max-trials", "2", "--epochs", "1")
    chief = subprocess.Popen(_command(space, chief_out, *args),
                             env=_env(KERASTUNER_TUNER_ID="chief", **common),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # The worker trains each trial under MirroredStrategy over two logical CPUs.
        worker = subprocess.run(_command(space, worker_out, *args, "--strategy", "cpu:2"),
                                env=_env(KERASTUNER_TUNER_ID="tuner0", **common),
                                capture_output=True, text=True, timeout=TIMEOUT)
        chief_log, _ = chief.communicate(timeout=60)
    finally:
        if chief.poll() is None:
            chief.kill()
            chief.communicate()
    assert worker.returncode == 0, worker.stdout[-3000:] + worker.stderr[-3000:]
    assert chief.returncode == 0, chief_log[-3000:]
    assert "Worker finished (2 replicas per trial); it ran trial(s) 0, 1." in worker.stdout
    # The worker trained both trials (its checkpoints); the chief trained none but holds the
    # oracle's record of both, with the metrics the worker reported over gRPC.
    for trial in ("0", "1"):
        assert os.path.exists(worker_out / "trials" / f"trial_{trial}" / "checkpoint.weights.h5")
        assert not os.path.exists(chief_out / "trials" / f"trial_{trial}" / "checkpoint.weights.h5")
    rows = _rows(chief_out)
    assert [(r["trial"], r["status"]) for r in rows] == [("0", "COMPLETED"), ("1", "COMPLETED")]
    assert all(float(r["seconds"]) > 0 and r["epochs"] == "1" for r in rows)
    best = max(rows, key=lambda r: float(r["val_accuracy"]))
    hparams = json.loads((chief_out / "best_hparams.json").read_text())
    assert hparams["learning_rate"] == float(best["learning_rate"])
    assert not os.path.exists(worker_out / "trials.csv")
