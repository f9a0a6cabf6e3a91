"""The trainer across processes: cpu:2 replicas, two MultiWorkerMirrored workers, kill -9 and resume.

Logical CPU devices must be configured before TensorFlow initialises, and each multi-worker task
is a process, so these tests run the trainer in fresh Python processes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest

from kerascv_course.cli import build_parser
from kerascv_course.cli.train import recipe_from_args
from kerascv_course.training import train
from kerascv_course.training.artifacts import read_history_csv

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
BASE = (
    "Recipe(model='lenet5', dataset='digits', epochs=2, steps_per_epoch=3, batch_size=32, optimizer='sgd', "
    "learning_rate=0.05, momentum=0.9, schedule='constant', eval_steps=2, tensorboard=False, overwrite=True)"
)


def _python(script: str, *args: str, env: dict | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args], env=env or ENV,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen,
    )


def _finish(process: subprocess.Popen, timeout: float = 240) -> str:
    out, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, out[-3000:]
    return out


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.gpu
@pytest.mark.slow
def test_two_logical_cpus_match_one_device(tmp_path):
    script = f"""
        import json, sys, numpy as np
        from kerascv_course.training import Recipe, train, get_strategy
        out = sys.argv[1]
        base = {BASE}
        two = train(base.replace(strategy="cpu:2", output=out + "/two"), verbose=0)
        errors = {{}}
        try:
            train(base.replace(strategy="cpu:2", batch_size=33, output=out + "/odd"), verbose=0)
        except ValueError as err:
            errors["batch"] = str(err)
        try:
            get_strategy("cpu:3")
        except ValueError as err:
            errors["late"] = str(err)
        one = train(base.replace(strategy="auto", output=out + "/one"), verbose=0)
        np.savez(out + "/weights.npz", *[v.numpy() for v in two.model.weights], *[v.numpy() for v in one.model.weights])
        json.dump(dict(errors=errors, replicas=[two.metrics["replicas"], one.metrics["replicas"]]), open(out + "/result.json", "w"))
    """
    _finish(_python(script, str(tmp_path)))
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["replicas"] == [2, 1]
    assert "divisible by the 2 replicas" in result["errors"]["batch"]
    assert "before TensorFlow initialises" in result["errors"]["late"]
    arrays = np.load(tmp_path / "weights.npz")
    n = len(arrays.files) // 2
    for i in range(n):
        two, one = arrays[f"arr_{i}"], arrays[f"arr_{i + n}"]
        assert np.abs(two - one).max() <= 1e-4 * np.abs(one).max(), i


@pytest.mark.gpu
@pytest.mark.slow
def test_two_multiworker_processes_train_together_and_only_the_chief_writes(tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    script = f"""
        import json, sys, numpy as np
        from kerascv_course.training import Recipe, train
        out, weights = sys.argv[1], sys.argv[2]
        result = train({BASE}.replace(strategy="multiworker", output=out), verbose=0)
        np.savez(weights, *[v.numpy() for v in result.model.weights])
        json.dump(result.metrics, open(weights + ".json", "w"))
    """
    workers = []
    for index in range(2):
        env = {**ENV, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        workers.append(_python(script, str(tmp_path / f"run{index}"), str(tmp_path / f"w{index}.npz"), env=env))
    for worker in workers:
        _finish(worker)
    chief, other = np.load(tmp_path / "w0.npz"), np.load(tmp_path / "w1.npz")
    for key in chief.files:
        np.testing.assert_array_equal(chief[key], other[key])
    metrics = [json.loads((tmp_path / f"w{i}.npz.json").read_text()) for i in range(2)]
    assert metrics[0]["replicas"] == 2 and metrics[0]["accuracy"] == metrics[1]["accuracy"]
    written = sorted(os.listdir(tmp_path / "run0"))
    assert {"model.keras", "best.keras", "metrics.json", "history.csv", "history.png", "recipe.json"} <= set(written)
    assert not (tmp_path / "run1").exists()
    assert len(read_history_csv(str(tmp_path / "run0" / "history.csv"))["loss"]) == 2


@pytest.mark.slow
def test_kill_9_then_the_same_command_resumes_to_the_same_weights(tmp_path):
    argv = [
        "train", "lenet5", "--dataset", "digits", "--epochs", "8", "--steps-per-epoch", "6", "--batch-size", "32",
        "--eval-steps", "2", "--deterministic", "--no-tensorboard", "--progress", "off", "--output",
    ]
    command = [sys.executable, "-m", "kerascv_course.cli", *argv, str(tmp_path / "run")]
    checkpoint = tmp_path / "run" / "checkpoint"

    def saved_epoch() -> int:  # the newest complete checkpoint state (state-NNNN.json)
        states = sorted(checkpoint.glob("state-*.json")) if checkpoint.exists() else []
        return int(states[-1].name[6:10]) if states else 0

    process = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while time.time() < deadline and process.poll() is None:
        if saved_epoch() >= 1:
            break
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    killed_at = saved_epoch()
    assert 1 <= killed_at < 8 and not (tmp_path / "run" / "metrics.json").exists()

    subprocess.run(command, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=240)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["resumed_from_epoch"] == killed_at and metrics["epochs_completed"] == 8
    assert read_history_csv(str(tmp_path / "run" / "history.csv"))["epoch"] == list(range(8))

    reference = train(recipe_from_args(build_parser().parse_args([*argv, str(tmp_path / "straight")])), verbose=0)
    resumed = keras.saving.load_model(tmp_path / "run" / "model.keras", safe_mode=True)
    for a, b in zip(reference.model.weights, resumed.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert read_history_csv(str(tmp_path / "run" / "history.csv")) == read_history_csv(
        str(tmp_path / "straight" / "history.csv")
    )
