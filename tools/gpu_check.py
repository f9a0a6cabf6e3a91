"""The GPU check: one command that measures the package on a GPU and writes docs/benchmarks/gpu.md.

A machine check, then the five parts of ``PARTS`` (ResNet-50 through the trainer, the trainer next
to ``model.fit``, the input pipeline, ``pytest -m gpu``, the main jobs), each with its share of the
time budget in a process of its own: a process past its time is killed, its part recorded as
``timed_out`` with what it finished, and the next part runs. ``gpu.json`` and ``gpu.md`` are
rewritten after every process. The page (``static_sections``) says what each part measures and
what the dry run (one process, toy sizes: the test suite runs it) leaves out.

    python tools/gpu_check.py                   # about 8 minutes; writes docs/benchmarks/gpu.md and gpu.json
    python tools/gpu_check.py --dry-run --output /tmp/gpu-check   # CPU, tiny sizes (the test suite runs this)
    python tools/gpu_check.py --parts resnet50 pipeline --budget-seconds 300
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks"
sys.path.insert(0, str(ROOT))  # this checkout's package, installed or not

from kerascv_course.utils.files import write_json, write_text  # noqa: E402  (no TensorFlow)

NVIDIA_REFERENCE = dict(
    source="NVIDIA DeepLearningExamples, TensorFlow ResNet-50 v1.5, training performance table "
           "(TensorFlow/Classification/ConvNets/resnet50v1.5/README.md)",
    url="https://github.com/NVIDIA/DeepLearningExamples/tree/master/TensorFlow/Classification/ConvNets/resnet50v1.5",
    gpu="A100 40GB (1 GPU of a DGX A100)", batch=256, amp_xla_images_per_second=2375, tf32_xla_images_per_second=909,
    software="TensorFlow 20.06-tf1-py3 NGC container",
)


class PartInfo(NamedTuple):
    title: str
    measures: str
    share: float  # of the time budget; time a part leaves unused goes to the parts after it


PARTS = {
    "machine": PartInfo("Machine", "GPU model, driver and memory (nvidia-smi), the CUDA and cuDNN versions "
                        "TensorFlow was built with, the GPUs TensorFlow sees and their compute capability, CPU "
                        "model and cores.", 0.04),
    "resnet50": PartInfo(
        "1. ResNet-50 through the trainer", "ResNet-50 at 224x224 on generated `shapes` images through "
        "`kerascv_course.training.train` (the code of `kerascv-course train`, `--strategy auto`): steady "
        "images/s in float32 (batch: the largest of `--max-batch`, /2, /4, ... that fits), `mixed_float16` + "
        "XLA, `mixed_float16`, float32 + XLA, `mixed_bfloat16` (compute capability >= 8.0) and `mixed_float16` "
        "under `--strategy mirrored`, next to NVIDIA's published figures.", 0.40),
    "trainer_vs_fit": PartInfo(
        "2. The trainer next to plain model.fit", "The same recipe (model, data, batch, `mixed_float16`) "
        "through plain `model.fit`, with the model, loss, metrics, optimizer and training pipeline that the "
        "trainer's own kit builds (`build_model`, `compile_model`, `RunData`): trainer images/s over fit "
        "images/s (goal >= 0.95).", 0.14),
    "pipeline": PartInfo(
        "3. The input pipeline feeding the GPU", "The trainer's training pipeline (`RunData`, `make_pipeline`) "
        "with the `resnet` policy (scale jitter, crop, flip, colour lighting) on `shapes` at 224 feeding "
        "ResNet-50 (`model.fit`, `mixed_float16`) against one pre-materialised batch repeated: images/s of "
        "each and their ratio, the pipeline alone, and the CPU cores it kept busy (process CPU-seconds per "
        "wall second).", 0.12),
    "gpu_tests": PartInfo("4. The GPU tests (pytest -m gpu)", "`pytest -m gpu`: the strategy, mixed-precision "
                          "and XLA tests of the suite, on the GPU machine; passed, failed, skipped.", 0.12),
    "main_jobs": PartInfo(
        "5. The main job and a CIFAR ResNet-20", "`kerascv-course train lenet5 --dataset digits --epochs 30` "
        "and `kerascv-course train resnet20 --dataset shapes --epochs 5 --augment cifar ...` as commands: wall "
        "time (process start to exit), training seconds and test accuracy.", 0.18),
}
NOT_RUN = "Not yet run on a GPU: no device was lent to this project."


class Sizes(NamedTuple):
    """How big each part's work is: full on a GPU, tiny for ``--dry-run``."""

    model: str
    image_size: int
    max_batch: int
    min_batch: int
    memory_batch: int | None  # dry run: a larger batch raises a simulated out-of-memory
    epochs: int
    images_per_epoch: int
    min_steps: int
    pipeline_images: int
    pipeline_steps: int
    jobs: dict[str, str]
    budget_seconds: float


GPU_SIZES = Sizes(
    model="resnet50", image_size=224, max_batch=1024, min_batch=32, memory_batch=None, epochs=3,
    images_per_epoch=6144, min_steps=4, pipeline_images=2048, pipeline_steps=8, budget_seconds=480,
    jobs={"lenet5_digits": "lenet5 --dataset digits --epochs 30",
          "resnet20_shapes": "resnet20 --dataset shapes --epochs 5 --batch-size 128 --optimizer sgd --lr 0.1 "
                             "--momentum 0.9 --weight-decay 1e-4 --augment cifar"},
)
DRY_SIZES = Sizes(
    model="lenet5", image_size=32, max_batch=16, min_batch=4, memory_batch=8, epochs=2, images_per_epoch=16,
    min_steps=2, pipeline_images=16, pipeline_steps=2, budget_seconds=600,
    jobs={"lenet5_digits": "lenet5 --dataset digits --epochs 1 --steps-per-epoch 2 --eval-steps 2",
          "resnet20_shapes": "resnet20 --dataset shapes --epochs 1 --batch-size 32 --optimizer sgd --lr 0.1 "
                             "--momentum 0.9 --weight-decay 1e-4 --augment cifar --eval-steps 1 --dataset-kwargs "
                             '{"num_examples":{"train":64,"validation":32,"test":32}}'},
)

# Part 1's runs in order of priority: (label, mixed_precision, XLA, strategy or None for --strategy).
GPU_MODES = (
    ("float32", None, False, None),
    ("mixed_float16 + XLA", "mixed_float16", True, None),
    ("mixed_float16", "mixed_float16", False, None),
    ("float32 + XLA", None, True, None),
    ("mixed_bfloat16", "mixed_bfloat16", False, None),
    ("mixed_float16, --strategy mirrored", "mixed_float16", False, "mirrored"),
)
DRY_SKIPPED = "dry-run: not run on CPU (float16 is emulated there and XLA compiles slowly); " \
              "the same train() call with another mixed_precision / jit_compile / strategy"
COMPARE_MODE = "mixed_float16"  # the precision of parts 2 and 3 on a GPU (float32 in a dry run)
# SGD with momentum at a small constant rate: throughput does not depend on it, and a from-scratch
# ResNet-50 stays far from the trainer's NaN guard.
LEARNING_RATE = 0.001


# ---------------------------------------------------------------------------------------------
# Helpers


def _tail(text: str, n: int = 1500) -> str:
    return text[-n:] if text else ""


def _env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else ""),
            "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}


def _share(names: list[str], remaining: list[str], left: float) -> float:
    """Seconds for parts ``names`` out of the ``left`` that they share with the ``remaining`` parts."""
    return max(1.0, left * sum(PARTS[n].share for n in names) / sum(PARTS[n].share for n in remaining))


class Part:
    """A part's record, written to disk after every step (the parent reads it even after a kill)."""

    def __init__(self, path: Path, budget: float) -> None:
        self.path, self.deadline = path, time.time() + budget
        self.data = {"status": "running", "result": {}, "notes": [], "budget_seconds": round(budget, 1),
                     "started": time.time()}
        self.save()

    @property
    def result(self) -> dict[str, Any]:
        return self.data["result"]

    def save(self, **changes: Any) -> None:
        self.data.update(changes)
        write_json(self.path, self.data)

    def left(self) -> float:
        return self.deadline - time.time()

    def fits(self, estimate: float | None) -> bool:
        return estimate is None or self.left() > estimate


def _epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Seconds of each epoch, from its start to its end (the same for train() and fit)."""

        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    return EpochTimer()


def _rate(images: int, seconds: list[float]) -> float | None:
    """Images per second, summarised as the trainer summarises its own (median after the first epoch)."""
    from kerascv_course.training.loop import median_rate

    return median_rate([images / s for s in seconds])


def _gpu_memory(reset: bool = False) -> float | None:
    """Peak GPU memory in GiB since the last reset (``None`` without a GPU); ``reset`` starts anew."""
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        with contextlib.suppress(ValueError, RuntimeError):
            if reset:
                return tf.config.experimental.reset_memory_stats("GPU:0")
            return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**30
    return None


def _release() -> None:
    import keras

    keras.backend.clear_session()
    gc.collect()


def _recipe(sizes: Sizes, batch: int, images: int, mixed_precision: str | None, strategy: str, *,
            jit: bool = False, augment: str = "none", output: str | None = None):
    """The runs' recipe: ``sizes.model`` on ``images`` generated ``shapes`` images, SGD at a constant rate."""
    from kerascv_course.training import Recipe

    return Recipe(
        model=sizes.model, dataset="shapes", image_size=sizes.image_size,
        dataset_kwargs={"num_examples": {"train": images, "validation": batch, "test": batch}},
        epochs=sizes.epochs, batch_size=batch, optimizer="sgd", learning_rate=LEARNING_RATE, momentum=0.9,
        schedule="constant", augment=augment, mixed_precision=mixed_precision, jit_compile=jit,
        strategy=strategy, eval_steps=1, validation_split=None, tensorboard=False, output=output,
        overwrite=True, resume=False, seed=0,
    )


@contextlib.contextmanager
def _compiled(recipe):
    """``(model, data, steps)`` for ``recipe``, built by the trainer's kit as ``train()`` builds them."""
    from kerascv_course.training import get_strategy
    from kerascv_course.training.model import build_model, compile_model, run_settings
    from kerascv_course.training.run_data import RunData, load_splits

    strategy = get_strategy(recipe.strategy)
    with run_settings(recipe):
        splits, info = load_splits(recipe)
        with strategy.scope():
            model = build_model(recipe, info)
        data = RunData(recipe, splits, info, model, strategy)
        steps = data.steps_per_epoch()
        with strategy.scope():
            compile_model(model, recipe, info, steps_per_epoch=steps)
        try:
            yield model, data, steps
        finally:
            del model
            _release()


def run_trainer(recipe) -> dict[str, Any]:
    """``recipe`` through ``train()``: steady images/s by the epoch timer, and the trainer's own figure."""
    from kerascv_course.training import train

    timer = _epoch_timer()
    _gpu_memory(reset=True)
    start = time.perf_counter()
    try:
        metrics = train(recipe, verbose=0, callbacks=[timer]).metrics
    finally:
        shutil.rmtree(recipe.output, ignore_errors=True)
        _release()
    images = metrics["steps_per_epoch"] * recipe.batch_size
    return dict(images_per_second=_rate(images, timer.seconds), epoch_seconds=timer.seconds,
                trainer_metric_images_per_second=metrics.get("train_images_per_second"),
                run_seconds=time.perf_counter() - start, batch=recipe.batch_size, images_per_epoch=images,
                replicas=metrics.get("replicas"), peak_gpu_memory_gib=_gpu_memory(), final_loss=metrics.get("loss"))


def run_fit(recipe) -> dict[str, Any]:
    """``recipe`` through plain ``model.fit``: the trainer's model, compilation and training pipeline."""
    timer = _epoch_timer()
    _gpu_memory(reset=True)
    start = time.perf_counter()
    with _compiled(recipe) as (model, data, steps):
        model.fit(data.train(0), epochs=recipe.epochs, verbose=0, callbacks=[timer])
        peak = _gpu_memory()
    images = steps * recipe.batch_size
    return dict(images_per_second=_rate(images, timer.seconds), epoch_seconds=timer.seconds,
                run_seconds=time.perf_counter() - start, batch=recipe.batch_size, images_per_epoch=images,
                peak_gpu_memory_gib=peak)


# ---------------------------------------------------------------------------------------------
# The parts: part_<name>(part, sizes, context), the context being the report so far


def part_machine(part: Part, sizes: Sizes, context: dict[str, Any]) -> None:
    import platform

    import keras
    import tensorflow as tf

    r = part.result
    build = dict(tf.sysconfig.get_build_info())
    r.update(python=platform.python_version(), tensorflow=tf.__version__, keras=keras.__version__,
             tf_built_with_cuda=bool(build.get("is_cuda_build")), tf_cuda_version=build.get("cuda_version"),
             tf_cudnn_version=build.get("cudnn_version"), cpu_cores=os.cpu_count(),
             cpu_cores_usable=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
             tf32=bool(tf.config.experimental.tensor_float_32_execution_enabled()), nvidia_smi=[], tf_gpus=[])
    with contextlib.suppress(OSError):
        names = re.findall(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        r["cpu_model"] = names[0].strip() if names else platform.processor()
    with contextlib.suppress(OSError, IndexError, ValueError):
        kib = int(re.findall(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.MULTILINE)[0])
        r["memory_gib"] = round(kib / 2**20, 1)
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        capability = details.get("compute_capability")
        r["tf_gpus"].append(dict(name=details.get("device_name", device.name),
                                 compute_capability=".".join(map(str, capability)) if capability else None))
    if shutil.which("nvidia-smi"):
        done = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=max(1.0, min(20.0, part.left())))
        rows = [[c.strip() for c in line.split(",")] for line in done.stdout.strip().splitlines()]
        r["nvidia_smi"] = [dict(name=row[0], driver=row[1], memory=row[2]) for row in rows if len(row) == 3]
    part.save(status="ok")


def _result(context: dict[str, Any], name: str) -> dict[str, Any]:
    return context["parts"].get(name, {}).get("result", {})


def _dry(context: dict[str, Any]) -> bool:
    return context["mode"] == "dry-run"


def _images(sizes: Sizes, batch: int) -> int:
    """Training images per epoch: whole batches, at least ``min_steps`` of them."""
    return batch * max(sizes.min_steps, sizes.images_per_epoch // batch)


def part_resnet50(part: Part, sizes: Sizes, context: dict[str, Any]) -> None:
    import tensorflow as tf

    r = part.result
    r.update(model=sizes.model, image_size=sizes.image_size, epochs=sizes.epochs, runs=[], batch_probe={},
             data="shapes generated at the input size, whole batches, uint8 in memory; augment none")
    gpu = (_result(context, "machine").get("tf_gpus") or [{}])[0]
    capability = gpu.get("compute_capability") or "0.0"
    candidates = [b for b in (sizes.max_batch >> k for k in range(32)) if b >= max(1, sizes.min_batch)]
    tmp = tempfile.mkdtemp(prefix="gpu_check-resnet50-")
    batch = None
    last = {False: None, True: None}  # seconds of the last run without / with XLA
    for label, mixed_precision, jit, strategy in GPU_MODES:
        strategy = strategy or context["strategy"]
        entry = dict(mode=label, mixed_precision=mixed_precision or "float32", xla=jit, strategy=strategy)
        r["runs"].append(entry)
        estimate = last[jit] or (2 * last[False] if last[False] else None)
        reason = (DRY_SKIPPED if _dry(context) and label != "float32" else
                  "no batch: the float32 run (the batch probe) did not finish" if not batch and label != "float32" else
                  f"compute capability {capability} < 8.0: no bfloat16 tensor cores"
                  if mixed_precision == "mixed_bfloat16" and int(capability.split(".")[0]) < 8 else
                  f"out of time: needs ~{estimate:.0f} s, {part.left():.0f} s left" if not part.fits(estimate) else None)
        if reason:
            entry.update(status="skipped", reason=reason)
            part.save()
            continue
        entry.update(status="failed", error=f"no batch of {candidates} fits in memory")
        for b in [batch] if batch else candidates:
            start = time.time()
            try:
                if sizes.memory_batch and b > sizes.memory_batch:  # the dry run's way into the probe's path
                    raise tf.errors.ResourceExhaustedError(None, None, f"simulated: batch {b} > {sizes.memory_batch}")
                measured = run_trainer(_recipe(sizes, b, _images(sizes, b), mixed_precision, strategy, jit=jit,
                                               output=os.path.join(tmp, "run")))
            except Exception as err:  # recorded; the next batch or mode still runs
                _release()
                oom = isinstance(err, tf.errors.ResourceExhaustedError) or re.search(
                    r"\bOOM\b|out of memory|RESOURCE_EXHAUSTED|ALLOC_FAILED", str(err), re.IGNORECASE)
                if batch is None and oom:
                    r["batch_probe"][str(b)] = "out of memory" + (" (simulated)" if sizes.memory_batch else "")
                    part.save()
                    continue
                entry.update(status="failed", error=f"{type(err).__name__}: {_tail(str(err), 600)}")
                break
            last[jit] = time.time() - start
            if batch is None:
                batch = r["batch"] = b
                r["batch_probe"][str(b)] = "fits"
            del entry["error"]
            entry.update(status="ok", **measured)
            break
        part.save()
    shutil.rmtree(tmp, ignore_errors=True)
    expected = ("dry-run", "compute capability")  # skips that more time would not have avoided
    done = all(run["status"] == "ok" or run.get("reason", "").startswith(expected) for run in r["runs"])
    part.save(status="ok" if done else "partial")


def _chosen_batch(context: dict[str, Any], sizes: Sizes) -> tuple[int, str]:
    batch = _result(context, "resnet50").get("batch")
    if batch:
        return int(batch), "part 1's batch"
    fallback = min(256, sizes.max_batch)
    return fallback, f"part 1 found no batch: fallback {fallback}"


def part_trainer_vs_fit(part: Part, sizes: Sizes, context: dict[str, Any]) -> None:
    mode = None if _dry(context) else COMPARE_MODE
    batch, why = _chosen_batch(context, sizes)
    part.result.update(model=sizes.model, mixed_precision=mode or "float32", batch=batch, batch_source=why, xla=False)
    tmp = tempfile.mkdtemp(prefix="gpu_check-fit-")
    recipe = _recipe(sizes, batch, _images(sizes, batch), mode, context["strategy"], output=os.path.join(tmp, "run"))
    part.result["fit"] = fit = run_fit(recipe)
    part.save()
    same = [r for r in _result(context, "resnet50").get("runs", [])
            if r.get("status") == "ok" and r["mixed_precision"] == (mode or "float32") and not r["xla"]
            and r["strategy"] == context["strategy"] and r["batch"] == batch]
    part.result["trainer_source"] = "part 1 (same recipe)" if same else "this part (part 1 has no run of this recipe)"
    trainer = same[0] if same else run_trainer(recipe)
    shutil.rmtree(tmp, ignore_errors=True)
    part.result["trainer"] = {k: trainer[k] for k in ("images_per_second", "epoch_seconds", "batch", "images_per_epoch")}
    ok = fit["images_per_second"] and trainer["images_per_second"]
    part.result["ratio"] = trainer["images_per_second"] / fit["images_per_second"] if ok else None
    part.save(status="ok")


def part_pipeline(part: Part, sizes: Sizes, context: dict[str, Any]) -> None:
    import tensorflow as tf

    mode = None if _dry(context) else COMPARE_MODE
    batch, why = _chosen_batch(context, sizes)
    r = part.result
    steps, images = sizes.pipeline_steps, batch * max(1, sizes.pipeline_images // batch)
    r.update(model=sizes.model, policy="resnet", image_size=sizes.image_size, batch=batch, batch_source=why,
             mixed_precision=mode or "float32", source_images=images, steps_per_measure=steps, cpu_cores=os.cpu_count())
    with _compiled(_recipe(sizes, batch, images, mode, context["strategy"], augment="resnet")) as (model, data, _):
        real = data.train(0).repeat()
        # The pipeline alone: batches per wall second, and the CPU it burns doing it.
        iterator = iter(real)
        for _ in range(2):
            next(iterator)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(2 * steps):
            next(iterator)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        del iterator
        r["pipeline_only"] = dict(images_per_second=2 * steps * batch / wall, cpu_cores_busy=cpu / wall)
        part.save()
        # The pipeline feeding the model, against one pre-materialised batch repeated.
        feeds = {"pipeline": real, "tensors": tf.data.Dataset.from_tensors(next(iter(real))).repeat()}
        for name in ("pipeline", "tensors") * (1 if _dry(context) else 2):
            timer = _epoch_timer()
            wall, cpu = time.perf_counter(), time.process_time()
            model.fit(feeds[name], epochs=sizes.epochs, steps_per_epoch=steps, verbose=0, callbacks=[timer])
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            r.setdefault(name, []).append(dict(images_per_second=_rate(steps * batch, timer.seconds),
                                               epoch_seconds=timer.seconds, cpu_cores_busy=cpu / wall))
            part.save()
            # The next run compiles nothing: its epochs cost about what the last one did.
            if not part.fits(1.5 * sizes.epochs * timer.seconds[-1]):
                part.data["notes"].append("stopped after this run: out of time for another")
                break
    best = {name: max(run["images_per_second"] for run in r[name]) for name in feeds if r.get(name)}
    if len(best) == 2:
        r["ratio"] = best["pipeline"] / best["tensors"]
    fastest = max((run.get("images_per_second") or 0 for run in _result(context, "resnet50").get("runs", [])), default=0)
    if fastest:
        r["fastest_trainer_images_per_second"] = fastest
        r["pipeline_only_over_fastest_trainer"] = r["pipeline_only"]["images_per_second"] / fastest
    part.save(status="ok" if len(best) == 2 else "partial")


def part_gpu_tests(part: Part, sizes: Sizes, context: dict[str, Any]) -> None:
    """``pytest -m gpu`` in a process of its own (a dry run only collects), read from pytest's output."""
    options = ["--collect-only"] if _dry(context) else ["-rfE"]
    with contextlib.suppress(ImportError):
        import xdist  # noqa: F401

        if not _dry(context):  # a handful of slow tests
            options += ["-n", str(max(1, min(8, (os.cpu_count() or 2) // 2)))]
    part.result["command"] = " ".join(["pytest -m gpu", *options, "tests"])
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "gpu", *options,
                               "tests"], cwd=ROOT, env={**_env(), "TF_FORCE_GPU_ALLOW_GROWTH": "true"},
                              capture_output=True, text=True, timeout=max(1.0, part.left() - 2))
    except subprocess.TimeoutExpired as err:
        part.save(status="timed_out", error=f"pytest -m gpu ran past this part's time ({err.timeout:.0f} s)")
        return
    lines = done.stdout.strip().splitlines() or [""]
    counts = {"count" if "collected" in word else word.rstrip("s"): int(n) for n, word in
              re.findall(r"(\d+)(?:/\d+)? (passed|failed|skipped|errors?|deselected|tests? collected)", lines[-1])}
    part.result.update(counts, seconds=time.perf_counter() - start, returncode=done.returncode, summary=lines[-1])
    if _dry(context):
        part.result.update(collected=[line.strip() for line in lines if "::" in line],
                           note="dry-run: collected only (the marked tests run on CPU in the ordinary suite)")
    else:
        part.result["failed_tests"] = [line.split()[1] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    if done.returncode != 0 or not counts:
        part.save(status="failed", error=_tail(done.stdout + done.stderr), output_tail=_tail(done.stdout, 3000))
    else:
        part.save(status="ok")


def part_main_jobs(part: Part, sizes: Sizes, context: dict[str, Any]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gpu_check-jobs-"))
    for name, line in sizes.jobs.items():
        job = part.result[name] = dict(command=f"kerascv-course train {line}", status="ok")
        command = [sys.executable, "-m", "kerascv_course.cli", "train", *line.split(), "--output", str(tmp / name),
                   "--overwrite", "--progress", "off"]
        start = time.perf_counter()
        try:
            if part.left() < 5:
                raise subprocess.TimeoutExpired(command, 0)
            done = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True,
                                  timeout=max(1.0, part.left() - 1))
        except subprocess.TimeoutExpired:
            job.update(status="timed_out", error=f"out of this part's time ({part.left():.0f} s left)")
            continue
        job["wall_seconds"] = time.perf_counter() - start
        if done.returncode != 0:
            job.update(status="failed", error=_tail(done.stderr or done.stdout))
        else:
            metrics = json.loads((tmp / name / "metrics.json").read_text(encoding="utf-8"))
            job.update(train_seconds=metrics["train_seconds"], test_accuracy=metrics.get("accuracy"),
                       epochs=metrics["epochs_completed"], train_images_per_second=metrics.get("train_images_per_second"))
        part.save()
    shutil.rmtree(tmp, ignore_errors=True)
    part.save(status="ok" if all(job["status"] == "ok" for job in part.result.values()) else "partial")


# ---------------------------------------------------------------------------------------------
# The processes: the parent time-boxes children that run the parts


def run_child(folder: Path) -> None:
    """Run the parts that ``folder/context.json`` names, each with its share of the time left before its
    deadline, writing each part's record to ``folder/<part>.json``."""
    context = json.loads((folder / "context.json").read_text(encoding="utf-8"))
    names, deadline = context.pop("child")
    for i, name in enumerate(names):
        part = Part(folder / f"{name}.json", _share([name], names[i:], deadline - time.time()))
        try:
            globals()[f"part_{name}"](part, Sizes(**context["sizes"]), context)
        except Exception as err:  # recorded; the next part still runs
            part.save(status="failed", error=f"{type(err).__name__}: {_tail(str(err), 800)}",
                      traceback=_tail(traceback.format_exc(), 3000))
        part.save(seconds=round(time.time() - part.data["started"], 1))
        context["parts"][name] = part.data


def run_group(names: list[str], budget: float, report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Run parts ``names`` in one child process, killed after ``budget`` seconds; their records."""
    folder = Path(tempfile.mkdtemp(prefix="gpu_check-part-"))
    write_json(folder / "context.json", {**report, "child": [names, time.time() + budget]})
    log = folder / "child.log"
    with open(log, "w", encoding="utf-8") as fh:
        process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", str(folder)], cwd=ROOT,
                                   env=_env(), stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            process.wait(timeout=max(1.0, budget))
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the child and what it started (pytest, training)
            process.wait()
            timed_out = True
    records = {}
    for name in names:
        record: dict[str, Any] = {"status": "running", "result": {}, "notes": []}
        with contextlib.suppress(OSError, json.JSONDecodeError):
            record = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
        started = record.pop("started", None)
        if record["status"] == "running":
            record["seconds"] = round(time.time() - started, 1) if started else 0.0
            if timed_out:
                record.update(status="timed_out", error=f"stopped at the {budget:.0f} s time box of its process; "
                              "the results above are what it finished")
            else:
                record.update(status="failed", error=f"its process ended (exit code {process.returncode}) without a "
                              f"final status: {_tail(log.read_text(encoding='utf-8', errors='replace'))}")
        elif timed_out and name == names[-1]:
            record["notes"].append(f"finished, then its process was stopped at its {budget:.0f} s time box while exiting")
        records[name] = record
    shutil.rmtree(folder, ignore_errors=True)
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="on CPU with tiny sizes: checks the script (CI runs it)")
    parser.add_argument("--output", default=None,
                        help="folder for gpu.json and gpu.md (default: docs/benchmarks; with --dry-run a new temporary folder)")
    parser.add_argument("--budget-seconds", type=float, default=None,
                        help=f"total time budget (default {GPU_SIZES.budget_seconds:.0f} s; dry run {DRY_SIZES.budget_seconds:.0f} s)")
    parser.add_argument("--parts", nargs="+", choices=list(PARTS), default=list(PARTS), help="run only these parts")
    parser.add_argument("--strategy", default="auto", help="the trainer's --strategy (default auto)")
    parser.add_argument("--max-batch", type=int, default=None,
                        help=f"the first batch part 1 tries, halved on out-of-memory (default {GPU_SIZES.max_batch}; "
                             f"dry run {DRY_SIZES.max_batch})")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args.child)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # the records are on disk: skip TensorFlow's slow teardown, which the time box counts
    if args.max_batch is not None and args.max_batch < 1:
        parser.error(f"--max-batch must be a positive integer. Received: --max-batch={args.max_batch}")
    sizes = DRY_SIZES if args.dry_run else GPU_SIZES
    if args.max_batch is not None:
        sizes = sizes._replace(max_batch=args.max_batch, min_batch=min(sizes.min_batch, args.max_batch))
    budget = args.budget_seconds if args.budget_seconds is not None else sizes.budget_seconds
    if budget <= 0:
        parser.error(f"--budget-seconds must be > 0. Received: --budget-seconds={budget}")
    out = Path(args.output) if args.output else (
        Path(tempfile.mkdtemp(prefix="gpu_check-dry-run-")) if args.dry_run else DEFAULT_OUTPUT)
    out.mkdir(parents=True, exist_ok=True)
    started, commit = time.time(), None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                timeout=10).stdout.strip() or None
    report: dict[str, Any] = dict(
        tool="tools/gpu_check.py", mode="dry-run" if args.dry_run else "gpu",
        command=" ".join(["python", os.path.relpath(__file__, ROOT), *sys.argv[1:]]), commit=commit,
        started=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        budget_seconds=budget, sizes=sizes._asdict(), strategy=args.strategy, reference=NVIDIA_REFERENCE, parts={},
    )
    json_path, md_path = out / "gpu.json", out / "gpu.md"
    selected = [p for p in PARTS if p == "machine" or p in args.parts]
    # On a GPU each part has a process of its own (a fresh device, its memory freed at exit); a dry
    # run spares the TensorFlow start-ups with one process for all.
    for group in [selected] if args.dry_run else [[p] for p in selected]:
        seconds = _share(group, selected[selected.index(group[0]):], started + budget - time.time())
        print(f"[gpu_check] {', '.join(group)}: up to {seconds:.0f} s", flush=True)
        report["parts"].update(run_group(group, seconds, report))  # the parts read the report so far
        report["elapsed_seconds"] = round(time.time() - started, 1)
        for name in group:
            print(f"[gpu_check] {name}: {report['parts'][name]['status']} in {report['parts'][name]['seconds']:.0f} s")
        machine = report["parts"]["machine"]
        if group == ["machine"] and not args.dry_run and not machine["result"].get("tf_gpus"):
            r = machine["result"]
            why = (f"TensorFlow {r['tensorflow']} sees no GPU (built with CUDA: {r.get('tf_built_with_cuda')})"
                   if "tensorflow" in r else f"the machine check {machine['status']}: {machine.get('error')}")
            print(f"gpu_check: {why}; nothing was written. Without a GPU run `python tools/gpu_check.py --dry-run`; "
                  "on a GPU machine install TensorFlow with CUDA (`pip install tensorflow[and-cuda]`). "
                  "Received: no GPU", file=sys.stderr)
            return 2
        write_json(json_path, report)
        write_text(md_path, render_markdown(report))
    print(f"[gpu_check] wrote {json_path} and {md_path} in {time.time() - started:.0f} s", flush=True)
    return 0


# ---------------------------------------------------------------------------------------------
# The page


def _f(value: Any, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}{suffix}" if isinstance(value, float) else f"{value}{suffix}"


def _seconds(values: list[float] | None) -> str:
    return ", ".join(f"{s:.2f}" for s in values or []) or "—"


def static_sections() -> str:
    """How to run the check, what each part measures and the published reference (every rendering)."""
    ref = NVIDIA_REFERENCE
    lines = [
        "## How to run", "",
        "On a machine with one NVIDIA GPU and TensorFlow built with CUDA (`pip install tensorflow[and-cuda]`):", "",
        "```", *(line.strip() for line in __doc__.splitlines() if line.startswith("    python")), "```", "",
        "`--help` lists the options (time budget, a subset of parts, strategy, first batch). Each part runs in "
        "its own process with its share of the budget; a part that runs out of time is stopped and recorded as "
        "`timed_out` with what it finished, and the next part runs. Both files are rewritten after every part. "
        "Without a GPU seen by TensorFlow the full check refuses to run and writes nothing. The dry run runs "
        "every part's code at toy sizes in one process: LeNet-5 at 32x32 stands in for ResNet-50, the batch "
        "probe meets a simulated out-of-memory above batch 8, part 1 runs its float32 row only, part 4 only "
        "collects the tests, and part 5's jobs run one short epoch.", "",
        "## What each part measures", "",
        *(f"- **{info.title}** — {info.measures}" for info in PARTS.values()), "",
        "Images per second are the steady training rate: one epoch-timer callback, the same for the trainer "
        "and for `model.fit`, times each epoch from start to end, and the figure is the median over the "
        "epochs after the first (which traces and compiles), as for the trainer's own `train_images_per_second` "
        "(which times its step loop alone, so it reads higher, the more so the shorter the epoch). The data of "
        "parts 1 and 2 is `shapes` generated at 224x224 (a fixed, seeded set of whole batches, kept in memory as "
        "uint8) without augmentation: the trainer's real input path (per-epoch shuffle, normalisation, "
        "host-to-device copy) at its cheapest. Part 3 puts a price on a real augmentation policy.", "",
        "## Reference", "",
        f"{ref['source']}, {ref['url']}: on one {ref['gpu']}, batch {ref['batch']}, "
        f"**{ref['amp_xla_images_per_second']:,} img/s** with mixed precision (AMP) + XLA and "
        f"{ref['tf32_xla_images_per_second']:,} img/s in TF32 + XLA ({ref['software']}, averaged over a "
        "training epoch). Their model is ResNet-50 v1.5 (stride 2 in the 3x3 convolutions, about 5 % slower "
        "than v1 by NVIDIA's account); ours is keras.applications' v1. The GPU used here is named in the "
        "machine table: a different GPU moves the comparison.", "",
    ]
    return "\n".join(lines)


def render_markdown(report: dict[str, Any] | None) -> str:
    """The page: a status line, the static sections, then one section per part that ran."""
    parts = (report or {}).get("parts", {})
    head = ["# GPU check", ""]
    if not parts:
        head.append(NOT_RUN)
    else:
        gpus = parts.get("machine", {}).get("result", {}).get("tf_gpus") or []
        kind = ("**Dry run on CPU with tiny sizes**: these figures check the script, not a GPU. "
                if report.get("mode") == "dry-run" else "")
        head.append(f"{kind}Run of `{report.get('command')}` on {gpus[0]['name'] if gpus else 'CPU only'}, "
                    f"{report.get('started')} (commit {report.get('commit')}): {_f(report.get('elapsed_seconds'), 0)} s "
                    f"of a {_f(report.get('budget_seconds'), 0)} s budget.")
    body = [*head, "", static_sections()]
    if parts:
        body.append("## Results\n")
    for name, record in ((name, parts[name]) for name in PARTS if name in parts):
        lines = [f"### {PARTS[name].title}", "", f"Status: **{record.get('status')}** ({_f(record.get('seconds'), 0)} s "
                 f"of {_f(record.get('budget_seconds'), 0)} s)."]
        error = (record.get("error") or "").strip()
        if error:
            lines.append(f"Error: `{error.splitlines()[-1][:300]}`")
        r = record.get("result", {})
        body += [*lines, "", *globals()[f"_render_{name}"](r), *(f"- {n}" for n in record.get("notes", [])), ""]
    return "\n".join(body).rstrip() + "\n"


def _render_machine(r: dict[str, Any]) -> list[str]:
    smi, gpus = r.get("nvidia_smi") or [], r.get("tf_gpus") or []
    rows = [
        ("GPU (nvidia-smi)", ", ".join(f"{g['name']} ({g['memory']})" for g in smi) or "—"),
        ("driver", ", ".join(sorted({g["driver"] for g in smi})) or "—"),
        ("GPUs TensorFlow sees", ", ".join(f"{g['name']} (compute capability {g['compute_capability']})" for g in gpus) or "none"),
        ("CUDA / cuDNN (TensorFlow's build)", f"{_f(r.get('tf_cuda_version'))} / {_f(r.get('tf_cudnn_version'))}"),
        ("TF32 for float32 matmuls and convolutions", _f(r.get("tf32"))),
        ("TensorFlow / Keras / Python", f"{_f(r.get('tensorflow'))} / {_f(r.get('keras'))} / {_f(r.get('python'))}"),
        ("CPU", f"{_f(r.get('cpu_model'))}, {_f(r.get('cpu_cores'))} cores ({_f(r.get('cpu_cores_usable'))} usable), "
                f"{_f(r.get('memory_gib'), 1)} GiB"),
    ]
    return ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]


def _render_resnet50(r: dict[str, Any]) -> list[str]:
    amp = NVIDIA_REFERENCE["amp_xla_images_per_second"]
    probe = ", ".join(f"{b}: {outcome}" for b, outcome in (r.get("batch_probe") or {}).items()) or "—"
    lines = [f"`{r.get('model')}`, batch {_f(r.get('batch'))} (probe: {probe}), {_f(r.get('image_size'))}x"
             f"{_f(r.get('image_size'))}, {_f(r.get('epochs'))} epochs per run; data: {r.get('data', '—')}.", "",
             f"| mode | strategy | images/s | trainer's own metric | / NVIDIA A100 AMP+XLA ({amp:,}) | epoch seconds | "
             "peak GPU memory (GiB) | status |", "|---|---|---|---|---|---|---|---|"]
    for run in r.get("runs", []):
        rate, why = run.get("images_per_second"), run.get("reason") or run.get("error")
        lines.append(f"| {run['mode']} | {run.get('strategy')} | {_f(rate)} | {_f(run.get('trainer_metric_images_per_second'))} | "
                     f"{_f(rate / amp if rate else None, 2)} | {_seconds(run.get('epoch_seconds'))} | "
                     f"{_f(run.get('peak_gpu_memory_gib'), 1)} | {run.get('status')}{f': {why}' if why else ''} |")
    return lines


def _render_trainer_vs_fit(r: dict[str, Any]) -> list[str]:
    trainer, fit, ratio = r.get("trainer", {}), r.get("fit", {}), r.get("ratio")
    verdict = "" if ratio is None else (" (goal >= 0.95: met)" if ratio >= 0.95 else " (goal >= 0.95: **not met**)")
    return [f"`{r.get('model')}`, {r.get('mixed_precision')}, batch {_f(r.get('batch'))}; trainer figure from "
            f"{r.get('trainer_source', '—')}.", "", "| loop | images/s | epoch seconds |", "|---|---|---|",
            f"| `train()` | {_f(trainer.get('images_per_second'))} | {_seconds(trainer.get('epoch_seconds'))} |",
            f"| `model.fit` | {_f(fit.get('images_per_second'))} | {_seconds(fit.get('epoch_seconds'))} |",
            "", f"Trainer / fit: **{_f(ratio, 3)}**{verdict}."]


def _render_pipeline(r: dict[str, Any]) -> list[str]:
    only = r.get("pipeline_only", {})
    lines = [f"`resnet` policy on `shapes` at {_f(r.get('image_size'))} through the trainer's pipeline feeding "
             f"`{r.get('model')}`, batch {_f(r.get('batch'))}, {r.get('mixed_precision')}, {_f(r.get('source_images'))} "
             f"source images, {_f(r.get('cpu_cores'))} CPU cores on the machine.", "",
             "| feed | images/s (best run) | CPU cores busy |", "|---|---|---|",
             f"| the pipeline alone (no model) | {_f(only.get('images_per_second'))} | {_f(only.get('cpu_cores_busy'), 1)} |"]
    for key, label in (("pipeline", "pipeline feeding the model"), ("tensors", "one batch repeated feeding the model")):
        runs = r.get(key, [])
        lines.append(f"| {label} | {_f(max((x['images_per_second'] for x in runs), default=None))} | "
                     f"{_f(max((x['cpu_cores_busy'] for x in runs), default=None), 1)} |")
    return [*lines, "", f"Pipeline / repeated batch: **{_f(r.get('ratio'), 3)}** (goal >= 0.95). The pipeline alone "
            f"over the fastest trainer rate of part 1 ({_f(r.get('fastest_trainer_images_per_second'))} images/s): "
            f"{_f(r.get('pipeline_only_over_fastest_trainer'), 2)}."]


def _render_gpu_tests(r: dict[str, Any]) -> list[str]:
    if "collected" in r:
        return [f"{r.get('note')}: {_f(r.get('count'))} tests.", "", *(f"- `{t}`" for t in r["collected"])]
    lines = [f"`{r.get('command', 'pytest -m gpu')}`: {_f(r.get('passed', 0))} passed, {_f(r.get('failed', 0))} failed, "
             f"{_f(r.get('error', 0))} errors, {_f(r.get('skipped', 0))} skipped in {_f(r.get('seconds'), 0)} s."]
    return [*lines, *(f"- failed: `{t}`" for t in r.get("failed_tests", []))]


def _render_main_jobs(r: dict[str, Any]) -> list[str]:
    lines = ["| command | wall seconds | training seconds | test accuracy | status |", "|---|---|---|---|---|"]
    for job in r.values():
        accuracy, why = job.get("test_accuracy"), (job.get("error") or "").strip()
        status = job["status"] + (f": {why.splitlines()[-1]}" if why else "")
        lines.append(f"| `{job['command']}` | {_f(job.get('wall_seconds'), 1)} | {_f(job.get('train_seconds'), 1)} | "
                     f"{_f(accuracy * 100 if accuracy is not None else None, 1, ' %')} | {status} |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
