"""The training engine: a ``strategy.run`` step loop that works under every ``tf.distribute`` strategy.

Keras 3's ``fit`` fails under ``MultiWorkerMirroredStrategy`` (keras-team/keras#20585). This loop
runs the model's own ``train_step``/``test_step`` (the ones ``fit`` and ``evaluate`` run: the
compiled loss scaled for distribution, the optimizer's all-reduce of the gradients, the compiled
metrics) inside ``strategy.run`` in a ``tf.function``, and drives ordinary Keras callbacks
(progress bar, TensorBoard, the trainer's checkpoints) exactly as ``fit`` does — so one code path
serves one device, ``MirroredStrategy`` over GPUs or logical CPUs, and several workers.

Per-step logs are the mean over replicas of each replica's running metrics; the epoch's logs
(and every evaluation) read the metrics in cross-replica context, which sums their states over
all replicas and workers, so they are the exact values over the whole data.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import keras
import numpy as np
import tensorflow as tf


def _reduce_mean(strategy: tf.distribute.Strategy, values: dict[str, Any]) -> dict[str, Any]:
    if strategy.num_replicas_in_sync == 1:  # one replica in all: its values are the result
        return values
    return {k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None) for k, v in values.items()}


def _to_floats(logs: dict[str, Any]) -> dict[str, float]:
    return {k: float(np.asarray(v)) for k, v in logs.items()}


def release_in_background(holder: list[Any]) -> None:
    """Drop the iterators in ``holder`` (which should hold their last references) in a thread.

    Destroying a ``tf.data`` iterator that has not reached its end waits for its autotuning
    thread to wake up, which measured up to 2 s per epoch in TensorFlow 2.21
    (``tools/bench_training.py``: ResNet-20 trained at 0.76x ``fit``'s speed until this). The
    destructor does not need the main thread, so it runs beside the next epoch instead.
    """
    threading.Thread(target=holder.clear, name="release-iterator", daemon=True).start()


class Engine:
    """Train and evaluate ``model`` under ``strategy`` with a ``strategy.run`` step loop.

    Args:
        model: a compiled Keras model, built (with its optimizer) under ``strategy.scope()``.
        strategy: the ``tf.distribute`` strategy.
        jit_compile: compile the per-step function with XLA.

    Example:
        >>> engine = Engine(model, strategy)
        >>> logs = engine.train_epoch(train_ds, steps=100, callbacks=callback_list)
        >>> engine.evaluate(test_ds)
        {'loss': 0.08, 'accuracy': 0.97, 'top5_accuracy': 1.0}
    """

    def __init__(self, model: keras.Model, strategy: tf.distribute.Strategy, *, jit_compile: bool = False) -> None:
        self.model = model
        self.strategy = strategy
        self.jit_compile = bool(jit_compile)
        self.train_function = self._make_train_function()
        self.test_function = self._make_test_function()
        self.last_epoch_seconds = 0.0

    def _make_train_function(self) -> Any:
        model, strategy = self.model, self.strategy

        def one_step(data: Any) -> dict[str, Any]:
            outputs = strategy.run(model.train_step, args=(data,))
            return _reduce_mean(strategy, outputs)

        if self.jit_compile:
            # XLA compiles the step alone: reading the iterator stays outside the cluster.
            one_step = tf.function(one_step, reduce_retracing=True, jit_compile=True)
        # Without XLA the step is traced into the same graph as next(iterator), as in Keras' fit:
        # a nested tf.function would add a function-call op (and its executor) to every step.

        @tf.function(reduce_retracing=True)
        def train_function(iterator: Any) -> dict[str, Any]:
            return one_step(next(iterator))

        return train_function

    def _make_test_function(self) -> Any:
        model, strategy = self.model, self.strategy

        def test_function(iterator: Any) -> None:
            # The whole pass in one graph; get_next_as_optional also handles the last partial
            # batch across replicas and workers.
            optional = iterator.get_next_as_optional()
            while optional.has_value():
                strategy.run(model.test_step, args=(optional.get_value(),))
                optional = iterator.get_next_as_optional()

        return tf.function(test_function, reduce_retracing=True)

    def distribute(self, dataset: Any) -> Any:
        """The dataset split over the replicas (each global batch into per-replica slices).

        A dataset that is already distributed is returned as it is.
        """
        if isinstance(dataset, tf.data.Dataset):
            return self.strategy.experimental_distribute_dataset(dataset)
        return dataset

    def metrics_result(self) -> dict[str, float]:
        """The model's metrics over every replica and worker, as floats."""
        return _to_floats(self.model.get_metrics_result())

    def train_epoch(
        self,
        dataset: Any,
        *,
        steps: int,
        callbacks: keras.callbacks.CallbackList | None = None,
    ) -> dict[str, float]:
        """Run ``steps`` training steps over ``dataset`` (global batches); the epoch's metrics.

        ``dataset`` is a ``tf.data.Dataset`` or one already distributed by :meth:`distribute`.

        Calls ``on_train_batch_begin/end`` of ``callbacks`` (not the epoch hooks) and stops early
        when a callback sets ``model.stop_training``.
        """
        self.model.reset_metrics()
        holder = [iter(self.distribute(dataset))]  # the iterator's only reference, see below
        started = time.perf_counter()
        for step in range(steps):
            if callbacks is not None:
                callbacks.on_train_batch_begin(step)
            logs = self.train_function(holder[0])
            if callbacks is not None:
                callbacks.on_train_batch_end(step, logs)
            if self.model.stop_training:
                break
        result = self.metrics_result()
        release_in_background(holder)
        self.last_epoch_seconds = time.perf_counter() - started
        return result

    def evaluate(self, dataset: Any, *, steps: int | None = None) -> dict[str, float]:
        """The model's compiled loss and metrics over ``dataset`` (or its first ``steps`` batches).

        ``dataset`` is a ``tf.data.Dataset`` or one already distributed by :meth:`distribute`
        (then ``steps`` must be applied before distributing).
        """
        if steps is not None:
            if not isinstance(dataset, tf.data.Dataset):
                raise ValueError("`steps` needs a tf.data.Dataset, not a distributed one. Received: steps={steps}")
            dataset = dataset.take(steps)
        self.model.reset_metrics()
        self.test_function(iter(self.distribute(dataset)))
        return self.metrics_result()
