"""Choosing the devices and the distribution strategy of a run.

=============================== ==============================================================
name                            strategy
=============================== ==============================================================
``auto``                        ``MirroredStrategy`` over all visible GPUs when there are two
                                or more; with one GPU or none, the default strategy
``mirrored``                    ``MirroredStrategy`` over all visible GPUs (the CPU if none)
``mirrored:/gpu:0,/gpu:1``      ``MirroredStrategy`` over the listed devices
``multiworker``                 ``MultiWorkerMirroredStrategy``, cluster from ``TF_CONFIG``
``cpu:N``                       ``MirroredStrategy`` over N logical CPU devices (chosen before
                                TensorFlow initialises its devices: a fresh process)
=============================== ==============================================================

**Batch size and learning rate.** A recipe's ``batch_size`` is the *global* batch: each of the
R replicas gets ``batch_size / R`` examples per step (it must divide evenly), the loss is the
mean over the global batch and the replicas' gradients are summed, so one step is the same step
whatever R is. A learning rate chosen for a batch ``base_batch_size`` is carried to another batch
size by the *linear scaling rule* (Goyal et al. 2017, arXiv:1706.02677): ``lr × batch /
base_batch_size`` (use a warm-up with large batches), or by the square-root rule (Krizhevsky
2014, arXiv:1404.5997); see :func:`scale_learning_rate`.

**Multi-worker.** Every worker runs the same command with its own ``TF_CONFIG``::

    TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]},
                "task": {"type": "worker", "index": 0}}'

Worker 0 (or the task of type ``chief``) is the chief: only it writes the run folder. Keras 3's
``fit`` fails under ``MultiWorkerMirroredStrategy`` (keras-team/keras#20585); the trainer's own
``strategy.run`` step loop (:mod:`kerascv_course.training.engine`) works with every strategy.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from typing import TYPE_CHECKING, Any

from kerascv_course.training.recipe import LR_SCALINGS

if TYPE_CHECKING:
    import tensorflow as tf

log = logging.getLogger(__name__)

STRATEGIES = ("auto", "mirrored", "mirrored:DEVICE,DEVICE,...", "multiworker", "cpu:N")
_TASK_TYPES = ("chief", "worker")


def parse_strategy(name: Any) -> tuple[str, Any]:
    """Validate a strategy name without touching TensorFlow's devices.

    Returns:
        ``(kind, argument)``: ``("auto", None)``, ``("mirrored", None | [devices])``,
        ``("multiworker", None)`` or ``("cpu", N)``.

    Raises:
        ValueError: for an unknown name, ``cpu:N`` with N < 1 or an empty device list.
    """
    if not isinstance(name, str):
        raise ValueError(
            f"`strategy` must be one of {', '.join(STRATEGIES)}. Received: strategy={name!r}"
        )
    if name in ("auto", "multiworker"):
        return name, None
    if name == "mirrored":
        return "mirrored", None
    if name.startswith("mirrored:"):
        devices = [d.strip() for d in name[len("mirrored:"):].split(",") if d.strip()]
        if not devices:
            raise ValueError(
                f"`strategy` 'mirrored:' needs a comma-separated device list, e.g. "
                f"'mirrored:/gpu:0,/gpu:1'. Received: strategy={name!r}"
            )
        return "mirrored", devices
    match = re.fullmatch(r"cpu:(\d+)", name)
    if match:
        n = int(match.group(1))
        if n < 1:
            raise ValueError(f"`strategy` cpu:N needs N >= 1. Received: strategy={name!r}")
        return "cpu", n
    raise ValueError(
        f"`strategy` must be one of {', '.join(STRATEGIES)}. Received: strategy={name!r}"
    )


def get_strategy(name: str = "auto", devices: list[str] | None = None) -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy for ``name`` (see the module's table).

    Args:
        name: ``"auto"``, ``"mirrored"``, ``"mirrored:DEV,DEV"``, ``"multiworker"`` or ``"cpu:N"``.
        devices: for ``"mirrored"``, an explicit device list (same as ``"mirrored:DEV,DEV"``).

    Returns:
        The strategy.

    Raises:
        ValueError: for an unknown name, a malformed ``TF_CONFIG`` (``multiworker``), or ``cpu:N``
            asked for after TensorFlow has initialised fewer logical CPUs.
    """
    import tensorflow as tf

    kind, argument = parse_strategy(name)
    if kind == "cpu":
        n = argument
        configure_logical_cpus(n)
        cpu_devices = [f"/cpu:{i}" for i in range(n)]
        if n == 1:
            return tf.distribute.OneDeviceStrategy(cpu_devices[0])
        return tf.distribute.MirroredStrategy(cpu_devices)
    if kind == "auto":
        gpus = tf.config.list_logical_devices("GPU")
        if len(gpus) > 1:
            return tf.distribute.MirroredStrategy([g.name for g in gpus])
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        chosen = devices or argument
        if chosen:
            return tf.distribute.MirroredStrategy(check_devices(list(chosen)))
        return tf.distribute.MirroredStrategy()
    check_tf_config()
    return tf.distribute.MultiWorkerMirroredStrategy()


def check_devices(devices: list[str]) -> list[str]:
    """``devices`` if each names a device this process has; otherwise ``ValueError`` listing them.

    A device that does not exist would make ``MirroredStrategy`` wait for it for minutes.
    """
    import tensorflow as tf

    present = tf.config.list_logical_devices()
    have = {(d.device_type.upper(), tf.DeviceSpec.from_string(d.name).device_index) for d in present}
    for device in devices:
        try:
            spec = tf.DeviceSpec.from_string(device if "/" in device else f"/{device}")
        except ValueError as err:
            raise ValueError(
                f"`strategy` names a device that cannot be parsed: {device!r} (write /gpu:0 or "
                f"/cpu:0). Received: strategy='mirrored:{','.join(devices)}'"
            ) from err
        key = ((spec.device_type or "").upper(), spec.device_index or 0)
        if key not in have:
            names = ", ".join(f"/{t.lower()}:{i}" for t, i in sorted(have))
            raise ValueError(
                f"`strategy` names {device!r}, which this machine does not have (its devices: "
                f"{names}). Received: strategy='mirrored:{','.join(devices)}'"
            )
    return devices


def check_tf_config(raw: str | None = None) -> dict[str, Any]:
    """Parse and validate ``TF_CONFIG`` for multi-worker training.

    Args:
        raw: the JSON text (default: the ``TF_CONFIG`` environment variable).

    Returns:
        The parsed configuration.

    Raises:
        ValueError: when it is missing, not JSON, lacks ``cluster``/``task``, names a task type
            that is not in the cluster, or an index outside the cluster's list for that type.
    """
    raw = os.environ.get("TF_CONFIG") if raw is None else raw
    if not raw:
        raise ValueError(
            "strategy 'multiworker' needs the TF_CONFIG environment variable, e.g. "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}. Received: TF_CONFIG=None'
        )
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"TF_CONFIG is not valid JSON ({err}). Received: TF_CONFIG={raw!r}") from err
    if not isinstance(config, dict) or not isinstance(config.get("cluster"), dict):
        raise ValueError(
            f"TF_CONFIG must be an object with a 'cluster' object listing the workers' "
            f"'host:port' addresses. Received: TF_CONFIG={raw!r}"
        )
    cluster = config["cluster"]
    for job, addresses in cluster.items():
        if job not in (*_TASK_TYPES, "evaluator", "ps"):
            raise ValueError(
                f"TF_CONFIG cluster job {job!r} is not one of chief, worker. Received: TF_CONFIG={raw!r}"
            )
        if job == "ps":
            raise ValueError(
                f"TF_CONFIG lists parameter servers ('ps'); MultiWorkerMirroredStrategy takes "
                f"chief and worker jobs only. Received: TF_CONFIG={raw!r}"
            )
        if not isinstance(addresses, list) or not addresses or not all(
            isinstance(a, str) and re.fullmatch(r"[^:\s]+:\d+", a) for a in addresses
        ):
            raise ValueError(
                f"TF_CONFIG cluster[{job!r}] must be a non-empty list of 'host:port' strings. "
                f"Received: TF_CONFIG={raw!r}"
            )
    if not any(job in cluster for job in _TASK_TYPES):
        raise ValueError(f"TF_CONFIG cluster has no 'worker' (or 'chief') job. Received: TF_CONFIG={raw!r}")
    task = config.get("task")
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise ValueError(
            f"TF_CONFIG must name this process's task as {{'type': 'worker', 'index': i}}. "
            f"Received: TF_CONFIG={raw!r}"
        )
    task_type, index = task["type"], task["index"]
    if task_type not in cluster:
        raise ValueError(
            f"TF_CONFIG task type {task_type!r} is not a job of the cluster "
            f"({', '.join(cluster)}). Received: TF_CONFIG={raw!r}"
        )
    if task_type not in _TASK_TYPES:
        raise ValueError(
            f"TF_CONFIG task type must be 'chief' or 'worker' for training. Received: TF_CONFIG={raw!r}"
        )
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(cluster[task_type]):
        raise ValueError(
            f"TF_CONFIG task index must be an integer in [0, {len(cluster[task_type])}) for the "
            f"{len(cluster[task_type])} {task_type}(s) of the cluster. Received: TF_CONFIG={raw!r}"
        )
    return config


def configure_logical_cpus(n: int) -> None:
    """Split the physical CPU into ``n`` logical devices (no-op if already so configured).

    Raises:
        ValueError: when TensorFlow has already initialised fewer than ``n`` CPU devices.
    """
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    current = tf.config.get_logical_device_configuration(cpus[0])
    if current is not None and len(current) == n:
        return
    if current is None and n == 1:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
        )
    except RuntimeError as err:
        have = len(tf.config.list_logical_devices("CPU"))
        if have >= n:
            return
        raise ValueError(
            f"cpu:{n} must be chosen before TensorFlow initialises its devices (this process "
            f"already has {have} logical CPU device(s)); start a fresh process. "
            f"Received: strategy='cpu:{n}'"
        ) from err


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run's artifacts (always, except non-chief workers)."""
    import tensorflow as tf

    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and not has_chief


def check_global_batch(batch_size: int, strategy: tf.distribute.Strategy) -> int:
    """The per-replica batch; ``ValueError`` unless ``batch_size`` divides over the replicas."""
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        lower = batch_size - batch_size % replicas
        choices = sorted({max(lower, replicas), lower + replicas})
        raise ValueError(
            f"The global `batch_size` must be divisible by the {replicas} replicas of the strategy "
            f"(each replica gets batch_size / {replicas}); try "
            f"{' or '.join(str(c) for c in choices)}. Received: batch_size={batch_size}"
        )
    return batch_size // replicas


def scale_learning_rate(
    learning_rate: float, batch_size: int, base_batch_size: int | None, rule: str = "linear"
) -> float:
    """The learning rate for ``batch_size`` given one chosen for ``base_batch_size``.

    Args:
        learning_rate: the rate at ``base_batch_size``.
        batch_size: the global batch size of this run.
        base_batch_size: the batch the rate was chosen for (``None``: no scaling).
        rule: ``"linear"`` (× batch/base), ``"sqrt"`` (× sqrt(batch/base)) or ``"none"``.

    Returns:
        The scaled learning rate.

    Example:
        >>> scale_learning_rate(0.1, 1024, 256)  # ResNet-50's 0.1 at 256, at 1024 images
        0.4
    """
    if rule not in LR_SCALINGS:
        raise ValueError(f"`lr_scaling` must be one of {', '.join(LR_SCALINGS)}. Received: lr_scaling={rule!r}")
    if base_batch_size is None or rule == "none":
        return float(learning_rate)
    ratio = batch_size / base_batch_size
    return float(learning_rate * (ratio if rule == "linear" else math.sqrt(ratio)))
