"""Choosing the device and the distribution strategy of a run."""

from __future__ import annotations

import logging
import re

import tensorflow as tf

log = logging.getLogger(__name__)

STRATEGIES = ("auto", "mirrored", "multiworker", "cpu:N")


def get_strategy(name: str = "auto") -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy for ``name``.

    Args:
        name: ``"auto"`` (MirroredStrategy over all GPUs when there are two or more, else the
            default strategy), ``"mirrored"`` (MirroredStrategy over all visible GPUs, or the CPU),
            ``"multiworker"`` (MultiWorkerMirroredStrategy from ``TF_CONFIG``) or ``"cpu:N"``
            (MirroredStrategy over N logical CPU devices; must be chosen before TensorFlow
            initialises its devices).

    Returns:
        The strategy.
    """
    if not isinstance(name, str):
        raise ValueError(f"`strategy` must be one of {STRATEGIES}. Received: strategy={name!r}")
    match = re.fullmatch(r"cpu:(\d+)", name)
    if match:
        n = int(match.group(1))
        if n < 1:
            raise ValueError(f"`strategy` cpu:N needs N >= 1. Received: strategy={name!r}")
        configure_logical_cpus(n)
        devices = [f"/cpu:{i}" for i in range(n)]
        return tf.distribute.MirroredStrategy(devices) if n > 1 else tf.distribute.OneDeviceStrategy(devices[0])
    if name == "auto":
        gpus = tf.config.list_logical_devices("GPU")
        if len(gpus) > 1:
            return tf.distribute.MirroredStrategy()
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"`strategy` must be one of {STRATEGIES}. Received: strategy={name!r}")


def configure_logical_cpus(n: int) -> None:
    """Split the physical CPU into ``n`` logical devices (no-op if already so configured)."""
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
            f"already has {have} logical CPU device(s)). Received: strategy='cpu:{n}'"
        ) from err
