"""The GPU check: one command that measures the package on a GPU and writes docs/benchmarks/gpu.md.

Five parts, each in its own process with its own share of the time budget (a part that runs out
of time is killed and recorded as such, with whatever it finished; the next part still runs).
After every part the results are written to ``gpu.json`` and rendered into ``gpu.md``, so a run
that is cut short still leaves what it measured.

1. ResNet-50 at 224x224 through :func:`kerascv_course.training.train` (the code behind
   ``kerascv-course train``), ``--strategy auto``: float32 (the batch probed from ``--max-batch``
   down, halving on out-of-memory), ``mixed_float16``, ``mixed_float16`` + XLA, float32 + XLA,
   ``mixed_bfloat16`` where the GPU has bfloat16 (compute capability 8.0 or newer), and
   ``mixed_float16`` under ``--strategy mirrored``, in that order of priority.
2. The same model, data and batch through plain ``model.fit`` (``mixed_float16``): the trainer's
   images/s over ``fit``'s (goal >= 0.95).
3. The input pipeline: ``make_pipeline`` with the ``resnet`` policy on ``shapes`` at 224 feeding
   ResNet-50 (``model.fit``, ``mixed_float16``), against one pre-materialised batch repeated; the
   pipeline alone, and the CPU cores it kept busy.
4. The GPU tests: ``pytest -m gpu`` (the strategy, mixed-precision and XLA tests).
5. The main job, ``kerascv-course train lenet5 --dataset digits --epochs 30``, and a CIFAR
   ResNet-20 on ``shapes`` for 5 epochs, as commands: wall time and test accuracy.

Data: ``shapes`` generated at 224x224 (a fixed, seeded set of ``steps x batch`` images, kept in
memory as uint8), with no augmentation in parts 1 and 2, so the figure is the model's training
rate through the trainer's real input path (per-epoch shuffle, normalisation, host-to-device
copy); part 3 prices a real augmentation policy against no input at all. Images per second are
measured by one epoch-timer callback, the same for the trainer and ``fit``: each epoch from its
start to its end, the median over the epochs after the first (which traces and compiles).

    python tools/gpu_check.py                          # on a GPU: about 8 minutes, writes docs/benchmarks/
    python tools/gpu_check.py --dry-run --output /tmp/x   # on CPU, tiny sizes: checks the script
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
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks"

NVIDIA_REFERENCE = {
    "source": "NVIDIA DeepLearningExamples, TensorFlow ResNet-50 v1.5, training performance table "
              "(TensorFlow/Classification/ConvNets/resnet50v1.5/README.md)",
    "url": "https://github.com/NVIDIA/DeepLearningExamples/tree/master/TensorFlow/Classification/ConvNets/resnet50v1.5",
    "gpu": "A100 40GB (1 GPU of a DGX A100)",
    "batch": 256,
    "amp_xla_images_per_second": 2375,
    "tf32_xla_images_per_second": 909,
    "software": "TensorFlow 20.06-tf1-py3 NGC container",
}

# Share of the time budget of each part; time a part leaves unused goes to the parts after it.
SHARES = {"machine": 0.04, "resnet50": 0.40, "trainer_vs_fit": 0.14, "pipeline": 0.12, "gpu_tests": 0.12,
          "main_jobs": 0.18}
PARTS = tuple(SHARES)
TITLES = {
    "machine": "Machine",
    "resnet50": "1. ResNet-50 through the trainer",
    "trainer_vs_fit": "2. The trainer next to plain model.fit",
    "pipeline": "3. The input pipeline feeding the GPU",
    "gpu_tests": "4. The GPU tests (pytest -m gpu)",
    "main_jobs": "5. The main job and a CIFAR ResNet-20",
}
MEASURES = {
    "machine": "GPU model, driver and memory (nvidia-smi), the CUDA and cuDNN versions TensorFlow was "
               "built with, the GPUs TensorFlow sees and their compute capability, CPU model and cores.",
    "resnet50": "ResNet-50 at 224x224 on generated `shapes` images through `kerascv_course.training.train` "
                "(the code of `kerascv-course train`, `--strategy auto`): steady images/s in float32 "
                "(batch: the largest of `--max-batch`, /2, /4, ... that fits), `mixed_float16`, "
                "`mixed_float16` + XLA, float32 + XLA, `mixed_bfloat16` (compute capability >= 8.0) and "
                "`mixed_float16` under `--strategy mirrored`, next to NVIDIA's published figures.",
    "trainer_vs_fit": "The same model, data, batch and precision (`mixed_float16`) through plain "
                      "`model.fit`: trainer images/s over fit images/s (goal >= 0.95).",
    "pipeline": "`make_pipeline` with the `resnet` policy (scale jitter, crop, flip, colour lighting) on "
                "`shapes` at 224 feeding ResNet-50 (`model.fit`, `mixed_float16`) against one "
                "pre-materialised batch repeated: images/s of each and their ratio, the pipeline "
                "alone, and the CPU cores it kept busy (process CPU-seconds per wall second).",
    "gpu_tests": "`pytest -m gpu`: the strategy, mixed-precision and XLA tests of the suite, on the GPU "
                 "machine; passed, failed, skipped.",
    "main_jobs": "`kerascv-course train lenet5 --dataset digits --epochs 30` and `kerascv-course train "
                 "resnet20 --dataset shapes --epochs 5 --augment cifar ...` as commands: wall time "
                 "(process start to exit), training seconds and test accuracy.",
}
NOT_RUN = "Not yet run on a GPU: no device was lent to this project."


class Sizes(NamedTuple):
    """How big each part's work is: full on a GPU, tiny for ``--dry-run``."""

    image_size: int
    max_batch: int
    min_batch: int
    epochs: int
    images_per_epoch: int
    min_steps: int
    pipeline_images: int
    pipeline_steps: int
    lenet_epochs: int
    resnet20_epochs: int
    resnet20_examples: dict[str, int] | None
    budget_seconds: float


GPU_SIZES = Sizes(image_size=224, max_batch=1024, min_batch=32, epochs=3, images_per_epoch=6144, min_steps=4,
                  pipeline_images=2048, pipeline_steps=8, lenet_epochs=30, resnet20_epochs=5,
                  resnet20_examples=None, budget_seconds=480)
DRY_SIZES = Sizes(image_size=32, max_batch=8, min_batch=4, epochs=2, images_per_epoch=16, min_steps=2,
                  pipeline_images=32, pipeline_steps=2, lenet_epochs=1, resnet20_epochs=1,
                  resnet20_examples={"train": 256, "validation": 64, "test": 64}, budget_seconds=600)

# Part 1's runs in order of priority: (label, mixed_precision, XLA, strategy or None for --strategy).
GPU_MODES = (
    ("float32", None, False, None),
    ("mixed_float16 + XLA", "mixed_float16", True, None),
    ("mixed_float16", "mixed_float16", False, None),
    ("float32 + XLA", None, True, None),
    ("mixed_bfloat16", "mixed_bfloat16", False, None),
    ("mixed_float16, --strategy mirrored", "mixed_float16", False, "mirrored"),
)
DRY_SKIPPED = "dry-run: not run on CPU (float16 is emulated there and XLA compiles ResNet-50 for ~40 s); " \
              "the same train() call with another mixed_precision / jit_compile / strategy"
COMPARE_MODE = "mixed_float16"  # the precision of parts 2 and 3 on a GPU
# SGD with momentum at a small constant rate, in train() and fit alike: throughput does not depend
# on it, and a from-scratch ResNet-50 stays far from the trainer's NaN guard.
LEARNING_RATE = 0.001


# ---------------------------------------------------------------------------------------------
# Small helpers (no TensorFlow)


def _now() -> float:
    return time.time()


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _median_rate(images: int, seconds: list[float]) -> float | None:
    """Images per second from per-epoch seconds: the median over the epochs after the first."""
    steady = seconds[1:] if len(seconds) > 1 else seconds
    return images / statistics.median(steady) if steady else None


def _tail(text: str, n: int = 1500) -> str:
    return text[-n:] if text else ""


def _env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else ""),
            "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}


class Clock:
    """A part's deadline: what is left, and whether a step of a given estimate still fits."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def left(self) -> float:
        return self.deadline - _now()

    def fits(self, estimate: float | None) -> bool:
        return estimate is None or self.left() > estimate


class Part:
    """A child process's record of its part, written to disk after every step."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"status": "running", "result": {}, "notes": []}

    def save(self, **changes: Any) -> None:
        self.data.update(changes)
        _write_json(self.path, self.data)

    @property
    def result(self) -> dict[str, Any]:
        return self.data["result"]

    def note(self, text: str) -> None:
        self.data["notes"].append(text)


# ---------------------------------------------------------------------------------------------
# TensorFlow-side helpers (imported inside the child processes only)


def _epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Seconds of each epoch, from its start to its end (the same for train() and fit)."""

        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []
            self._start = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    return EpochTimer()


def _is_oom(err: BaseException) -> bool:
    import tensorflow as tf

    text = str(err)
    return isinstance(err, tf.errors.ResourceExhaustedError) or bool(
        re.search(r"\bOOM\b|out of memory|RESOURCE_EXHAUSTED|ALLOC_FAILED", text, re.IGNORECASE)
    )


def _gpu_memory_reset() -> None:
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        with contextlib.suppress(ValueError, RuntimeError):
            tf.config.experimental.reset_memory_stats("GPU:0")


def _gpu_peak_gib() -> float | None:
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        return None
    try:
        return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**30
    except (ValueError, RuntimeError):
        return None


def _release() -> None:
    import keras

    keras.backend.clear_session()
    gc.collect()


def _shapes_kwargs(train: int, batch: int) -> dict[str, Any]:
    return {"num_examples": {"train": train, "validation": batch, "test": batch}}


def _images(sizes: Sizes, batch: int) -> int:
    """Training images per epoch: whole batches, at least ``min_steps`` of them."""
    return batch * max(sizes.min_steps, sizes.images_per_epoch // batch)


def run_trainer(sizes: Sizes, *, batch: int, mixed_precision: str | None, jit: bool, strategy: str,
                output: str) -> dict[str, Any]:
    """ResNet-50 on shapes through ``train()``; steady images/s by the epoch timer."""
    from kerascv_course.training import Recipe, train

    images = _images(sizes, batch)
    recipe = Recipe(
        model="resnet50", dataset="shapes", image_size=sizes.image_size,
        dataset_kwargs=_shapes_kwargs(images, batch), epochs=sizes.epochs, batch_size=batch,
        optimizer="sgd", learning_rate=LEARNING_RATE, momentum=0.9, schedule="constant", augment="none",
        mixed_precision=mixed_precision, jit_compile=jit, strategy=strategy, eval_steps=1,
        validation_split=None, tensorboard=False, output=output, overwrite=True, resume=False, seed=0,
    )
    timer = _epoch_timer()
    _gpu_memory_reset()
    start = time.perf_counter()
    try:
        result = train(recipe, verbose=0, callbacks=[timer])
    finally:
        shutil.rmtree(output, ignore_errors=True)
    return dict(
        images_per_second=_median_rate(images, timer.seconds),
        trainer_metric_images_per_second=result.metrics.get("train_images_per_second"),
        epoch_seconds=timer.seconds, run_seconds=time.perf_counter() - start, batch=batch,
        images_per_epoch=images, replicas=result.metrics.get("replicas"),
        peak_gpu_memory_gib=_gpu_peak_gib(), final_loss=result.metrics.get("loss"),
    )


@contextlib.contextmanager
def _dtype_policy(name: str | None):
    import keras

    previous = keras.config.dtype_policy()
    if name:
        keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _plain_model(sizes: Sizes, classes: int, mixed_precision: str | None, jit: bool):
    """ResNet-50 compiled as the trainer compiles it (SGD, cross-entropy, accuracy and top-5),
    with a float32 output under mixed precision (the Keras mixed-precision guide's advice)."""
    import keras

    from kerascv_course import get_model

    model = get_model("resnet50", input_shape=(sizes.image_size, sizes.image_size, 3), classes=classes)
    if mixed_precision:
        output = keras.layers.Activation("linear", dtype="float32", name="output_float32")(model.outputs[0])
        model = keras.Model(model.inputs, output, name=model.name)
    model.compile(
        optimizer=keras.optimizers.SGD(LEARNING_RATE, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
                 keras.metrics.SparseTopKCategoricalAccuracy(k=5, name="top5_accuracy")],
        jit_compile=jit,
    )
    return model


def run_fit(sizes: Sizes, *, batch: int, mixed_precision: str | None, jit: bool, strategy: str) -> dict[str, Any]:
    """The same model, data and batch as :func:`run_trainer`, through plain ``model.fit``."""
    import keras

    from kerascv_course.data import load_dataset, make_pipeline
    from kerascv_course.training import get_strategy

    images = _images(sizes, batch)
    keras.utils.set_random_seed(0)
    _gpu_memory_reset()
    start = time.perf_counter()
    with _dtype_policy(mixed_precision):
        ds, info = load_dataset("shapes", "train", image_size=sizes.image_size, seed=0,
                                **_shapes_kwargs(images, batch))
        with get_strategy(strategy).scope():
            model = _plain_model(sizes, info.num_classes, mixed_precision, jit)
        data = make_pipeline(ds, info, training=True, batch_size=batch, image_size=sizes.image_size,
                             channels=3, seed=0)
        timer = _epoch_timer()
        model.fit(data, epochs=sizes.epochs, verbose=0, callbacks=[timer])
    out = dict(images_per_second=_median_rate(images, timer.seconds), epoch_seconds=timer.seconds,
               run_seconds=time.perf_counter() - start, batch=batch, images_per_epoch=images,
               peak_gpu_memory_gib=_gpu_peak_gib())
    del model
    _release()
    return out


# ---------------------------------------------------------------------------------------------
# The parts (each runs in a child process)


def part_machine(part: Part, clock: Clock, sizes: Sizes, context: dict[str, Any], args: argparse.Namespace) -> None:
    import platform

    import keras
    import tensorflow as tf

    r = part.result
    r["python"] = platform.python_version()
    r["tensorflow"] = tf.__version__
    r["keras"] = keras.__version__
    build = dict(tf.sysconfig.get_build_info())
    r["tf_built_with_cuda"] = bool(build.get("is_cuda_build"))
    r["tf_cuda_version"] = build.get("cuda_version")
    r["tf_cudnn_version"] = build.get("cudnn_version")
    r["cpu_cores"] = os.cpu_count()
    r["cpu_cores_usable"] = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with contextlib.suppress(OSError):
        names = re.findall(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        r["cpu_model"] = names[0].strip() if names else platform.processor()
    with contextlib.suppress(OSError, IndexError, ValueError):
        kib = int(re.findall(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.MULTILINE)[0])
        r["memory_gib"] = round(kib / 2**20, 1)
    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        capability = details.get("compute_capability")
        gpus.append(dict(name=details.get("device_name", device.name),
                         compute_capability=".".join(map(str, capability)) if capability else None))
    r["tf_gpus"] = gpus
    r["tf32"] = bool(tf.config.experimental.tensor_float_32_execution_enabled())
    smi = shutil.which("nvidia-smi")
    if smi:
        done = subprocess.run([smi, "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=max(1.0, min(20.0, clock.left())))
        rows = [[c.strip() for c in line.split(",")] for line in done.stdout.strip().splitlines() if line.strip()]
        r["nvidia_smi"] = [dict(name=row[0], driver=row[1], memory=row[2]) for row in rows if len(row) == 3]
    else:
        r["nvidia_smi"] = []
    part.save(status="ok")


def _bf16_supported(context: dict[str, Any]) -> tuple[bool, str]:
    gpus = context.get("parts", {}).get("machine", {}).get("result", {}).get("tf_gpus") or []
    if not gpus:
        return False, "no GPU seen by TensorFlow"
    capability = gpus[0].get("compute_capability") or "0.0"
    major = int(capability.split(".")[0])
    if major < 8:
        return False, f"compute capability {capability} < 8.0: no bfloat16 tensor cores"
    return True, ""


def _strategy_note(context: dict[str, Any], args: argparse.Namespace) -> str:
    gpus = len(context.get("parts", {}).get("machine", {}).get("result", {}).get("tf_gpus") or [])
    if args.strategy != "auto":
        return f"--strategy {args.strategy}"
    if gpus > 1:
        return f"--strategy auto on {gpus} GPUs: MirroredStrategy over all of them"
    return (f"--strategy auto on {gpus} GPU{'s' if gpus != 1 else ''}: TensorFlow's default (one-device) strategy; "
            "the `--strategy mirrored` row runs MirroredStrategy")


def _skip_reason(label: str, mixed_precision: str | None, estimate: float | None, clock: Clock,
                 context: dict[str, Any], args: argparse.Namespace) -> str | None:
    if args.dry_run and label != "float32":
        return DRY_SKIPPED
    if mixed_precision == "mixed_bfloat16":
        ok, why = _bf16_supported(context)
        if not ok:
            return why
    if not clock.fits(estimate):
        return f"out of time: needs ~{estimate:.0f} s, {clock.left():.0f} s left"
    return None


def part_resnet50(part: Part, clock: Clock, sizes: Sizes, context: dict[str, Any], args: argparse.Namespace) -> None:
    r = part.result
    r.update(image_size=sizes.image_size, epochs=sizes.epochs, strategy_note=_strategy_note(context, args),
             data="shapes generated at the input size, whole batches, uint8 in memory; augment none")
    runs = r.setdefault("runs", [])
    probe = r.setdefault("batch_probe", {})
    tmp = tempfile.mkdtemp(prefix="gpu_check-resnet50-")
    batch = None
    last = {False: None, True: None}  # seconds of the last run without / with XLA
    incomplete = False
    for label, mixed_precision, jit, strategy in GPU_MODES:
        entry: dict[str, Any] = dict(mode=label, mixed_precision=mixed_precision or "float32", xla=jit,
                                     strategy=strategy or args.strategy)
        runs.append(entry)
        if batch is None and label != "float32":
            entry.update(status="skipped", reason="no batch: the float32 run (the batch probe) did not finish")
            part.save()
            continue
        estimate = last[jit] or (2 * last[False] if last[False] else None)
        reason = _skip_reason(label, mixed_precision, estimate, clock, context, args)
        if reason:
            entry.update(status="skipped", reason=reason)
            incomplete |= reason.startswith("out of time")
            part.save()
            continue
        candidates = [batch] if batch else _batch_candidates(sizes)
        for b in candidates:
            start = _now()
            try:
                measured = run_trainer(sizes, batch=b, mixed_precision=mixed_precision, jit=jit,
                                       strategy=strategy or args.strategy, output=os.path.join(tmp, "run"))
            except Exception as err:  # recorded; the next mode still runs
                _release()
                if batch is None and _is_oom(err):
                    probe[str(b)] = "out of memory"
                    part.save()
                    continue
                entry.update(status="failed", error=f"{type(err).__name__}: {_tail(str(err), 600)}")
                break
            last[jit] = _now() - start
            if batch is None:
                batch = b
                probe[str(b)] = "fits"
                r["batch"] = b
            entry.update(status="ok", **measured)
            _release()
            break
        else:
            entry.update(status="failed", error=f"no batch of {candidates} fits in memory")
        incomplete |= entry["status"] != "ok"
        part.save()
    shutil.rmtree(tmp, ignore_errors=True)
    part.save(status="partial" if incomplete else "ok")


def _batch_candidates(sizes: Sizes) -> list[int]:
    out, b = [], sizes.max_batch
    while b >= sizes.min_batch:
        out.append(b)
        b //= 2
    return out


def _chosen_batch(context: dict[str, Any], sizes: Sizes) -> tuple[int, str]:
    batch = context.get("parts", {}).get("resnet50", {}).get("result", {}).get("batch")
    if batch:
        return int(batch), "part 1's batch"
    fallback = min(256, sizes.max_batch)
    return fallback, f"part 1 found no batch: fallback {fallback}"


def _fit_mode(args: argparse.Namespace) -> str | None:
    """Part 2's precision: part 1's run to compare with (float32 in a dry run, the only one there)."""
    return None if args.dry_run else COMPARE_MODE


def _pipeline_mode(args: argparse.Namespace) -> str:
    """Part 3's precision (bfloat16 in a dry run: float16 is emulated on CPU, and this exercises the
    mixed-precision model of :func:`_plain_model`)."""
    return "mixed_bfloat16" if args.dry_run else COMPARE_MODE


def part_trainer_vs_fit(part: Part, clock: Clock, sizes: Sizes, context: dict[str, Any], args: argparse.Namespace) -> None:
    mode = _fit_mode(args)
    batch, why = _chosen_batch(context, sizes)
    part.result.update(mixed_precision=mode or "float32", batch=batch, batch_source=why, xla=False)
    runs = context.get("parts", {}).get("resnet50", {}).get("result", {}).get("runs", [])
    same = [r for r in runs if r.get("status") == "ok" and r.get("mixed_precision") == (mode or "float32") and not r.get("xla")
            and r.get("strategy") == args.strategy and r.get("batch") == batch]
    part.result["fit"] = run_fit(sizes, batch=batch, mixed_precision=mode, jit=False, strategy=args.strategy)
    part.save()
    if same:
        trainer = same[0]
        part.result["trainer_source"] = "part 1 (same model, data, batch and precision)"
    else:
        estimate = part.result["fit"]["run_seconds"] * 1.2
        if not clock.fits(estimate):
            part.save(status="partial", error=f"no trainer run in {mode} to compare with, and no time left "
                                              f"for one (needs ~{estimate:.0f} s, {clock.left():.0f} s left)")
            return
        tmp = tempfile.mkdtemp(prefix="gpu_check-fit-")
        trainer = run_trainer(sizes, batch=batch, mixed_precision=mode, jit=False, strategy=args.strategy,
                              output=os.path.join(tmp, "run"))
        shutil.rmtree(tmp, ignore_errors=True)
        part.result["trainer_source"] = "this part (part 1 has no run in this precision and batch)"
    part.result["trainer"] = {k: trainer.get(k) for k in ("images_per_second", "epoch_seconds", "batch", "images_per_epoch")}
    fit_rate, trainer_rate = part.result["fit"]["images_per_second"], trainer["images_per_second"]
    part.result["ratio"] = trainer_rate / fit_rate if fit_rate and trainer_rate else None
    part.save(status="ok")


def part_pipeline(part: Part, clock: Clock, sizes: Sizes, context: dict[str, Any], args: argparse.Namespace) -> None:
    import keras
    import tensorflow as tf
    from kerascv_course.data.augment import get_policy

    from kerascv_course.data import load_dataset, make_pipeline

    mode = _pipeline_mode(args)
    batch, why = _chosen_batch(context, sizes)
    size, steps = sizes.image_size, sizes.pipeline_steps
    count = max(sizes.pipeline_images, batch)
    part.result.update(policy="resnet", image_size=size, batch=batch, batch_source=why, mixed_precision=mode,
                       source_images=count, steps_per_measure=steps, cpu_cores=os.cpu_count())
    ds, info = load_dataset("shapes", "train", image_size=size, seed=0, num_examples=count)
    policy = get_policy("resnet", info=info, image_size=size)
    real = make_pipeline(ds, info, training=True, batch_size=batch, image_size=size, channels=3, augment=policy,
                         seed=0, drop_remainder=True).repeat()
    # The pipeline alone: batches per wall second, and the CPU it burns doing it.
    iterator = iter(real)
    for _ in range(2):
        next(iterator)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(2 * steps):
        next(iterator)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    del iterator
    part.result["pipeline_only"] = dict(images_per_second=2 * steps * batch / wall, cpu_cores_busy=cpu / wall)
    part.save()
    # The pipeline feeding ResNet-50, against one pre-materialised batch repeated.
    x, y = next(iter(real))
    fixed = tf.data.Dataset.from_tensors((x, y)).repeat()
    keras.utils.set_random_seed(0)
    with _dtype_policy(mode):
        with _strategy_scope(args.strategy):
            model = _plain_model(sizes, info.num_classes, mode, jit=False)
        feeds = {"pipeline": real, "tensors": fixed}
        for name in ("pipeline", "tensors", "pipeline", "tensors")[: 4 if not args.dry_run else 2]:
            timer = _epoch_timer()
            wall, cpu = time.perf_counter(), time.process_time()
            model.fit(feeds[name], epochs=sizes.epochs, steps_per_epoch=steps, verbose=0, callbacks=[timer])
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            part.result.setdefault(name, []).append(dict(
                images_per_second=_median_rate(steps * batch, timer.seconds), epoch_seconds=timer.seconds,
                cpu_cores_busy=cpu / wall))
            part.save()
            # The next run compiles nothing: its epochs cost about what these steady ones did.
            if not clock.fits(1.5 * sizes.epochs * statistics.median(timer.seconds[1:] or timer.seconds)):
                part.note("stopped after this run: out of time for another")
                break
    best = {name: max(r["images_per_second"] for r in part.result[name]) for name in feeds if part.result.get(name)}
    if len(best) == 2:
        part.result["ratio"] = best["pipeline"] / best["tensors"]
    fastest = [r.get("images_per_second") for r in context.get("parts", {}).get("resnet50", {}).get("result", {}).get("runs", [])
               if r.get("status") == "ok" and r.get("images_per_second")]
    if fastest:
        part.result["fastest_trainer_images_per_second"] = max(fastest)
        part.result["pipeline_only_over_fastest_trainer"] = part.result["pipeline_only"]["images_per_second"] / max(fastest)
    del model
    _release()
    part.save(status="ok" if len(best) == 2 else "partial")


@contextlib.contextmanager
def _strategy_scope(name: str):
    from kerascv_course.training import get_strategy

    with get_strategy(name).scope():
        yield


def part_gpu_tests(part: Part, clock: Clock, sizes: Sizes, context: dict[str, Any], args: argparse.Namespace) -> None:
    env = {**_env(), "TF_FORCE_GPU_ALLOW_GROWTH": "true"}  # parallel test workers share the GPU
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "gpu"]
    start = time.perf_counter()
    if args.dry_run:
        part.result["note"] = "dry-run: collected only (the marked tests run on CPU in the ordinary suite)"
        done = subprocess.run([*pytest, "--collect-only", "tests"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=max(1.0, clock.left() - 1))
        collected = [line.strip() for line in done.stdout.splitlines() if "::" in line]
        part.result.update(collected=collected, count=len(collected), seconds=time.perf_counter() - start,
                           returncode=done.returncode)
        if done.returncode != 0 or not collected:
            part.save(status="failed", error=_tail(done.stdout + done.stderr))
        else:
            part.save(status="ok")
        return
    workers: list[str] = []
    with contextlib.suppress(ImportError):
        import xdist  # noqa: F401

        workers = ["-n", str(max(1, min(8, (os.cpu_count() or 2) // 2)))]  # a handful of slow tests
    report = Path(tempfile.mkdtemp(prefix="gpu_check-pytest-")) / "junit.xml"
    command = [*pytest, *workers, f"--junitxml={report}", "tests"]
    part.result["command"] = "pytest " + " ".join(command[3:-2] + ["tests"])
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=max(1.0, clock.left() - 2))
    except subprocess.TimeoutExpired as err:
        part.save(status="timed_out", error=f"pytest -m gpu ran past this part's time ({err.timeout:.0f} s)")
        return
    part.result.update(seconds=time.perf_counter() - start, returncode=done.returncode)
    if not report.exists():
        part.save(status="failed", error=_tail(done.stdout + done.stderr))
        return
    root = ElementTree.parse(report).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    failed = [f"{case.get('classname')}::{case.get('name')}" for case in suite.iter("testcase")
              if case.find("failure") is not None or case.find("error") is not None]
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    part.result.update(counts, passed=counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"],
                       failed_tests=failed)
    shutil.rmtree(report.parent, ignore_errors=True)
    if failed:
        part.result["output_tail"] = _tail(done.stdout, 3000)
    part.save(status="ok" if done.returncode == 0 else "failed")


def _cli_train(argv: list[str], output: Path, clock: Clock) -> dict[str, Any]:
    command = [sys.executable, "-m", "kerascv_course.cli", "train", *argv, "--output", str(output), "--overwrite",
               "--progress", "off"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=max(1.0, clock.left() - 1))
    wall = time.perf_counter() - start
    shown = "kerascv-course train " + " ".join(argv)
    if done.returncode != 0:
        return dict(command=shown, status="failed", wall_seconds=wall, error=_tail(done.stderr or done.stdout))
    metrics = json.loads((output / "metrics.json").read_text(encoding="utf-8"))
    return dict(command=shown, status="ok", wall_seconds=wall, train_seconds=metrics.get("train_seconds"),
                test_accuracy=metrics.get("accuracy"), epochs=metrics.get("epochs_completed"),
                train_images_per_second=metrics.get("train_images_per_second"))


def part_main_jobs(part: Part, clock: Clock, sizes: Sizes, context: dict[str, Any], args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gpu_check-jobs-"))
    resnet20 = ["resnet20", "--dataset", "shapes", "--epochs", str(sizes.resnet20_epochs), "--batch-size", "128",
                "--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.9", "--weight-decay", "1e-4",
                "--augment", "cifar"]
    if sizes.resnet20_examples:
        resnet20 += ["--dataset-kwargs", json.dumps({"num_examples": sizes.resnet20_examples})]
    jobs = {"lenet5_digits": ["lenet5", "--dataset", "digits", "--epochs", str(sizes.lenet_epochs)],
            "resnet20_shapes": resnet20}
    incomplete = False
    for name, argv in jobs.items():
        if clock.left() < 5:
            part.result[name] = dict(status="skipped", reason=f"out of time ({clock.left():.0f} s left)")
            incomplete = True
            continue
        try:
            part.result[name] = _cli_train(argv, tmp / name, clock)
        except subprocess.TimeoutExpired as err:
            part.result[name] = dict(status="timed_out", error=f"ran past this part's time ({err.timeout:.0f} s)")
        incomplete |= part.result[name]["status"] != "ok"
        part.save()
    shutil.rmtree(tmp, ignore_errors=True)
    part.save(status="partial" if incomplete else "ok")


PART_FUNCTIONS = {
    "machine": part_machine, "resnet50": part_resnet50, "trainer_vs_fit": part_trainer_vs_fit,
    "pipeline": part_pipeline, "gpu_tests": part_gpu_tests, "main_jobs": part_main_jobs,
}


def _sizes(args: argparse.Namespace) -> Sizes:
    sizes = DRY_SIZES if args.dry_run else GPU_SIZES
    if args.max_batch is not None:
        sizes = sizes._replace(max_batch=args.max_batch, min_batch=min(sizes.min_batch, args.max_batch))
    return sizes


def run_child(args: argparse.Namespace) -> int:
    """Run one part in this process (the parent's child), writing its record to ``args.state``."""
    sizes = _sizes(args)
    part = Part(Path(args.state))
    part.save()
    context = json.loads(Path(args.context).read_text(encoding="utf-8")) if args.context else {}
    try:
        PART_FUNCTIONS[args.part](part, Clock(args.deadline), sizes, context, args)
    except Exception as err:  # the parent records it and goes on with the next part
        import traceback

        part.save(status="failed", error=f"{type(err).__name__}: {_tail(str(err), 800)}",
                  traceback=_tail(traceback.format_exc(), 3000))
        return 1
    return 0


# ---------------------------------------------------------------------------------------------
# The parent: time boxes, the record, the page


def run_part(name: str, budget: float, args: argparse.Namespace, report_path: Path) -> dict[str, Any]:
    """Run part ``name`` in a child process for at most ``budget`` seconds; its record."""
    state = Path(tempfile.mkdtemp(prefix="gpu_check-part-")) / f"{name}.json"
    deadline = _now() + budget
    command = [sys.executable, str(Path(__file__).resolve()), "--part", name, "--deadline", repr(deadline),
               "--state", str(state), "--context", str(report_path), "--strategy", args.strategy,
               *(["--dry-run"] if args.dry_run else []),
               *(["--max-batch", str(args.max_batch)] if args.max_batch is not None else [])]
    log = state.with_suffix(".log")
    start = _now()
    with open(log, "w", encoding="utf-8") as fh:
        process = subprocess.Popen(command, cwd=ROOT, env=_env(), stdout=fh, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            process.wait(timeout=max(1.0, budget))
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the child and what it started (pytest, training)
            process.wait()
            timed_out = True
    record: dict[str, Any] = {"status": "running", "result": {}, "notes": []}
    if state.exists():
        with contextlib.suppress(json.JSONDecodeError):
            record = json.loads(state.read_text(encoding="utf-8"))
    if timed_out and record.get("status") == "running":
        record["status"] = "timed_out"
        record["error"] = f"ran past its {budget:.0f} s time box and was stopped; results above are what it finished"
    elif timed_out:
        record.setdefault("notes", []).append(f"finished, then was stopped at its {budget:.0f} s time box while exiting")
    elif process.returncode != 0 and "error" not in record:
        record["status"] = "failed"
        record["error"] = f"exit code {process.returncode}: {_tail(log.read_text(encoding='utf-8', errors='replace'))}"
    elif record.get("status") == "running":
        record["status"] = "failed"
        record["error"] = "the part ended without a final status"
    record.update(seconds=round(_now() - start, 1), budget_seconds=round(budget, 1))
    shutil.rmtree(state.parent, ignore_errors=True)
    return record


def _git_commit() -> str | None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        return done.stdout.strip() or None
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="on CPU with tiny sizes: checks the script (CI runs it)")
    parser.add_argument("--output", default=None,
                        help="folder for gpu.json and gpu.md (default: docs/benchmarks; with --dry-run a new temporary folder)")
    parser.add_argument("--budget-seconds", type=float, default=None,
                        help=f"total time budget (default {GPU_SIZES.budget_seconds:.0f} s; dry run {DRY_SIZES.budget_seconds:.0f} s)")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="run only these parts")
    parser.add_argument("--strategy", default="auto", help="the trainer's --strategy (default auto)")
    parser.add_argument("--max-batch", type=int, default=None,
                        help=f"the first batch part 1 tries, halved on out-of-memory (default {GPU_SIZES.max_batch}; "
                             f"dry run {DRY_SIZES.max_batch})")
    parser.add_argument("--part", help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    parser.add_argument("--context", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.max_batch is not None and args.max_batch < 1:
        parser.error(f"--max-batch must be a positive integer. Received: --max-batch={args.max_batch}")
    if args.part:
        code = run_child(args)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # the record is on disk: skip TensorFlow's slow teardown, which the time box counts
    sizes = _sizes(args)
    budget = args.budget_seconds if args.budget_seconds is not None else sizes.budget_seconds
    if budget <= 0:
        parser.error(f"--budget-seconds must be > 0. Received: --budget-seconds={budget}")
    if args.output:
        out = Path(args.output)
    elif args.dry_run:
        out = Path(tempfile.mkdtemp(prefix="gpu_check-dry-run-"))
    else:
        out = DEFAULT_OUTPUT
    out.mkdir(parents=True, exist_ok=True)
    started = _now()
    report: dict[str, Any] = dict(
        tool="tools/gpu_check.py", mode="dry-run" if args.dry_run else "gpu",
        command=" ".join(["python", os.path.relpath(__file__, ROOT), *sys.argv[1:]]),
        commit=_git_commit(), started=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        budget_seconds=budget, sizes=sizes._asdict(), strategy=args.strategy, reference=NVIDIA_REFERENCE, parts={},
    )
    json_path, md_path = out / "gpu.json", out / "gpu.md"
    # The parts read the report so far (part 1's batch, the GPU's capability) from a scratch copy,
    # so that the machine check below can refuse a GPU run without touching docs/.
    scratch = Path(tempfile.mkdtemp(prefix="gpu_check-context-")) / "context.json"
    selected = [p for p in PARTS if p == "machine" or p in args.parts]
    for name in selected:
        left = started + budget - _now()
        shares = sum(SHARES[p] for p in selected[selected.index(name):])
        part_budget = max(1.0, left * SHARES[name] / shares)
        print(f"[gpu_check] {name}: up to {part_budget:.0f} s", flush=True)
        _write_json(scratch, report)
        record = run_part(name, part_budget, args, scratch)
        report["parts"][name] = record
        report["elapsed_seconds"] = round(_now() - started, 1)
        print(f"[gpu_check] {name}: {record['status']} in {record['seconds']:.0f} s", flush=True)
        machine = record.get("result", {})
        if name == "machine" and not args.dry_run and not machine.get("tf_gpus"):
            why = (f"TensorFlow {machine['tensorflow']} sees no GPU (built with CUDA: {machine.get('tf_built_with_cuda')})"
                   if "tensorflow" in machine else f"the machine check {record['status']}: {record.get('error')}")
            print(f"gpu_check: {why}; nothing was written. Without a GPU run `python tools/gpu_check.py --dry-run`; "
                  "on a GPU machine install TensorFlow with CUDA (`pip install tensorflow[and-cuda]`). "
                  "Received: no GPU", file=sys.stderr)
            return 2
        _write_json(json_path, report)
        md_path.write_text(render_markdown(report), encoding="utf-8")
    shutil.rmtree(scratch.parent, ignore_errors=True)
    print(f"[gpu_check] wrote {json_path} and {md_path} in {_now() - started:.0f} s", flush=True)
    return 0


# ---------------------------------------------------------------------------------------------
# The page


def _f(value: Any, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{suffix}"
    return f"{value}{suffix}"


def static_sections() -> str:
    """How to run the check, what each part measures and the published reference (every rendering)."""
    ref = NVIDIA_REFERENCE
    lines = [
        "## How to run",
        "",
        "On a machine with one NVIDIA GPU and TensorFlow built with CUDA (`pip install tensorflow[and-cuda]`):",
        "",
        "```",
        "python tools/gpu_check.py                  # about 8 minutes; writes docs/benchmarks/gpu.md and gpu.json",
        "python tools/gpu_check.py --dry-run --output /tmp/gpu-check   # CPU, tiny sizes (the test suite runs this)",
        "```",
        "",
        "Options: `--budget-seconds` (default 480), `--parts` (a subset), `--strategy` (default `auto`), "
        "`--max-batch` (the first batch part 1 tries, default 1024). Each "
        "part runs in its own process with its share of the budget; a part that runs out of time is stopped "
        "and recorded as `timed_out` with what it finished, and the next part runs. Both files are rewritten "
        "after every part. Without a GPU seen by TensorFlow the full check refuses to run and writes nothing.",
        "",
        "## What each part measures",
        "",
    ]
    lines += [f"- **{TITLES[p]}** — {MEASURES[p]}" for p in PARTS]
    lines += [
        "",
        "Images per second are the steady training rate: one epoch-timer callback, the same for the trainer "
        "and for `model.fit`, times each epoch from start to end, and the figure is the median over the "
        "epochs after the first (which traces and compiles). The data of parts 1 and 2 is `shapes` generated "
        "at 224x224 (a fixed, seeded set of whole batches, kept in memory as uint8) without augmentation: the "
        "trainer's real input path (per-epoch shuffle, normalisation, host-to-device copy) at its cheapest. "
        "Part 3 puts a price on a real augmentation policy.",
        "",
        "## Reference",
        "",
        f"{ref['source']}, {ref['url']}: on one {ref['gpu']}, batch {ref['batch']}, "
        f"**{ref['amp_xla_images_per_second']:,} img/s** with mixed precision (AMP) + XLA and "
        f"{ref['tf32_xla_images_per_second']:,} img/s in TF32 + XLA ({ref['software']}, averaged over a "
        "training epoch). Their model is ResNet-50 v1.5 (stride 2 in the 3x3 convolutions, about 5 % slower "
        "than v1 by NVIDIA's account); ours is keras.applications' v1. The GPU used here is named in the "
        "machine table: a different GPU moves the comparison.",
        "",
    ]
    return "\n".join(lines)


def render_markdown(report: dict[str, Any] | None) -> str:
    """The page: a status line, the static sections, then one section per part that ran."""
    parts = (report or {}).get("parts", {})
    head = ["# GPU check", ""]
    if not parts:
        head.append(NOT_RUN)
    else:
        machine = parts.get("machine", {}).get("result", {})
        gpus = machine.get("tf_gpus") or []
        where = gpus[0]["name"] if gpus else "CPU only"
        kind = ("**Dry run on CPU with tiny sizes**: these figures check the script, not a GPU. "
                if report.get("mode") == "dry-run" else "")
        head.append(f"{kind}Run of `{report.get('command')}` on {where}, {report.get('started')} (commit "
                    f"{report.get('commit')}): {_f(report.get('elapsed_seconds'), 0)} s of a "
                    f"{_f(report.get('budget_seconds'), 0)} s budget.")
    head.append("")
    body = [static_sections()]
    if parts:
        body.append("## Results\n")
        for name in PARTS:
            if name in parts:
                body.append(_render_part(name, parts[name], report))
    return "\n".join(head + body).rstrip() + "\n"


def _render_part(name: str, record: dict[str, Any], report: dict[str, Any]) -> str:
    r = record.get("result", {})
    lines = [f"### {TITLES[name]}", "",
             f"Status: **{record.get('status')}** ({_f(record.get('seconds'), 0)} s of {_f(record.get('budget_seconds'), 0)} s)."]
    error = (record.get("error") or "").strip()
    if error:
        lines.append(f"Error: `{error.splitlines()[-1][:300]}`")
    lines.append("")
    lines += RENDERERS[name](r, report)
    lines += [f"- {n}" for n in record.get("notes", [])]
    lines.append("")
    return "\n".join(lines)


def _render_machine(r: dict[str, Any], report: dict[str, Any]) -> list[str]:
    smi = r.get("nvidia_smi") or []
    gpus = r.get("tf_gpus") or []
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
    return ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]


def _render_resnet50(r: dict[str, Any], report: dict[str, Any]) -> list[str]:
    amp = NVIDIA_REFERENCE["amp_xla_images_per_second"]
    probe = ", ".join(f"{b}: {outcome}" for b, outcome in (r.get("batch_probe") or {}).items()) or "—"
    lines = [f"Batch {_f(r.get('batch'))} (probe: {probe}), {_f(r.get('image_size'))}x"
             f"{_f(r.get('image_size'))}, {_f(r.get('epochs'))} epochs per run; data: {r.get('data', '—')}; "
             f"{r.get('strategy_note', '')}.", "",
             "| mode | strategy | images/s | trainer's own metric | / NVIDIA A100 AMP+XLA (2,375) | epoch seconds | "
             "peak GPU memory (GiB) | status |",
             "|---|---|---|---|---|---|---|---|"]
    for run in r.get("runs", []):
        rate = run.get("images_per_second")
        status = run.get("status", "—")
        if run.get("reason") or run.get("error"):
            status += f": {run.get('reason') or run.get('error')}"
        seconds = ", ".join(f"{s:.2f}" for s in run.get("epoch_seconds", [])) or "—"
        lines.append(f"| {run['mode']} | {run.get('strategy')} | {_f(rate)} | {_f(run.get('trainer_metric_images_per_second'))} | "
                     f"{_f(rate / amp if rate else None, 2)} | {seconds} | {_f(run.get('peak_gpu_memory_gib'), 1)} | {status} |")
    return lines


def _render_trainer_vs_fit(r: dict[str, Any], report: dict[str, Any]) -> list[str]:
    trainer, fit = r.get("trainer", {}), r.get("fit", {})
    ratio = r.get("ratio")
    verdict = "" if ratio is None else (" (goal >= 0.95: met)" if ratio >= 0.95 else " (goal >= 0.95: **not met**)")
    return [f"ResNet-50, {r.get('mixed_precision')}, batch {_f(r.get('batch'))}; trainer figure from "
            f"{r.get('trainer_source', '—')}.", "",
            "| loop | images/s | epoch seconds |", "|---|---|---|",
            f"| `train()` | {_f(trainer.get('images_per_second'))} | {', '.join(f'{s:.2f}' for s in trainer.get('epoch_seconds', []))} |",
            f"| `model.fit` | {_f(fit.get('images_per_second'))} | {', '.join(f'{s:.2f}' for s in fit.get('epoch_seconds', []))} |",
            "", f"Trainer / fit: **{_f(ratio, 3)}**{verdict}."]


def _render_pipeline(r: dict[str, Any], report: dict[str, Any]) -> list[str]:
    only = r.get("pipeline_only", {})
    best = {k: max((x["images_per_second"] for x in r.get(k, [])), default=None) for k in ("pipeline", "tensors")}
    lines = [f"`resnet` policy on `shapes` at {_f(r.get('image_size'))}, batch {_f(r.get('batch'))}, "
             f"{r.get('mixed_precision')}, {_f(r.get('source_images'))} source images, "
             f"{_f(r.get('cpu_cores'))} CPU cores on the machine.", "",
             "| feed | images/s (best run) | CPU cores busy |", "|---|---|---|",
             f"| the pipeline alone (no model) | {_f(only.get('images_per_second'))} | {_f(only.get('cpu_cores_busy'), 1)} |"]
    for key, label in (("pipeline", "pipeline feeding ResNet-50"), ("tensors", "one batch repeated feeding ResNet-50")):
        runs = r.get(key, [])
        busy = max((x["cpu_cores_busy"] for x in runs), default=None)
        lines.append(f"| {label} | {_f(best[key])} | {_f(busy, 1)} |")
    lines += ["", f"Pipeline / repeated batch: **{_f(r.get('ratio'), 3)}** (goal >= 0.95). The pipeline alone over the "
              f"fastest trainer rate of part 1 ({_f(r.get('fastest_trainer_images_per_second'))} images/s): "
              f"{_f(r.get('pipeline_only_over_fastest_trainer'), 2)}."]
    return lines


def _render_gpu_tests(r: dict[str, Any], report: dict[str, Any]) -> list[str]:
    if "collected" in r:
        return [f"{r.get('note')}: {r.get('count')} tests.", ""] + [f"- `{t}`" for t in r["collected"]]
    lines = [f"`{r.get('command', 'pytest -m gpu')}`: {_f(r.get('passed'))} passed, {_f(r.get('failures'))} failed, "
             f"{_f(r.get('errors'))} errors, {_f(r.get('skipped'))} skipped of {_f(r.get('tests'))} "
             f"in {_f(r.get('seconds'), 0)} s."]
    lines += [f"- failed: `{t}`" for t in r.get("failed_tests", [])]
    return lines


def _render_main_jobs(r: dict[str, Any], report: dict[str, Any]) -> list[str]:
    lines = ["| command | wall seconds | training seconds | test accuracy | status |", "|---|---|---|---|---|"]
    for name in ("lenet5_digits", "resnet20_shapes"):
        job = r.get(name)
        if not job:
            continue
        accuracy = job.get("test_accuracy")
        status = job.get("status", "—") + (f": {job.get('reason') or job.get('error')}" if job.get("reason") or job.get("error") else "")
        lines.append(f"| `{job.get('command', name)}` | {_f(job.get('wall_seconds'), 1)} | {_f(job.get('train_seconds'), 1)} | "
                     f"{_f(accuracy * 100 if accuracy is not None else None, 1, ' %')} | {status.splitlines()[-1] if status else ''} |")
    return lines


RENDERERS = {
    "machine": _render_machine, "resnet50": _render_resnet50, "trainer_vs_fit": _render_trainer_vs_fit,
    "pipeline": _render_pipeline, "gpu_tests": _render_gpu_tests, "main_jobs": _render_main_jobs,
}


if __name__ == "__main__":
    sys.exit(main())
