"""The run's data: its splits, their pipelines, and the labels the loss wants.

:class:`RunData` loads a recipe's train / validation / test splits (with the teacher's
pseudo-labels when the recipe asks for them) and makes their pipelines for a given model: a fresh,
``(seed, epoch)``-seeded training pipeline per epoch, so a resumed run sees the same batches as an
uninterrupted one. Training, tuning and evaluation all take their batches from here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from kerascv_course.data import load_dataset, make_pipeline
from kerascv_course.training.recipe import Recipe


def epoch_seed(seed: int, epoch: int) -> int:
    """The data seed of one epoch (shuffling and augmentation), a function of ``(seed, epoch)``."""
    return int(np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1)[0] & 0x7FFFFFFF)


def dataset_kwargs(recipe: Recipe) -> dict[str, Any]:
    """The :func:`~kerascv_course.data.load_dataset` options of the recipe."""
    return dict(data_dir=recipe.data_dir, image_size=recipe.image_size, seed=recipe.seed, **recipe.dataset_kwargs)


def load_splits(recipe: Recipe) -> tuple[dict[str, tf.data.Dataset], Any]:
    """The train, validation and test splits of the recipe's dataset and the train split's info.

    With ``recipe.pseudo_label`` the teacher's confident pseudo-labelled images are appended to
    the training split, and ``info.extra["pseudo_label"]`` summarises them.
    """
    splits: dict[str, tf.data.Dataset] = {}
    info = None
    for split in ("train", recipe.validation_split, recipe.test_split):
        if split is None or split in splits:
            continue
        ds, split_info = load_dataset(recipe.dataset, split, **dataset_kwargs(recipe))
        splits[split] = ds
        info = info or split_info
    if recipe.pseudo_label:
        from kerascv_course.training.pseudo import pseudo_labelled

        extra, summary = pseudo_labelled(recipe, info, splits["train"].element_spec[1].dtype, dataset_kwargs(recipe))
        splits["train"] = splits["train"].concatenate(extra)
        total = None if info.num_examples is None else info.num_examples + summary["pseudo_labelled_examples"]
        info = dataclasses.replace(info, num_examples=total, extra={**info.extra, "pseudo_label": summary})
    return splits, info


def label_encoder(recipe: Recipe, info: Any) -> Callable[[tf.data.Dataset], tf.data.Dataset]:
    """What batches need before the loss: one-hot labels under label smoothing (else nothing).

    Example:
        >>> train = label_encoder(recipe, info)(make_pipeline(ds, info, training=True, batch_size=64))
    """
    if info.task != "classification" or not recipe.label_smoothing:
        return lambda ds: ds
    depth = info.num_classes

    def encode(ds: tf.data.Dataset) -> tf.data.Dataset:
        return ds.map(lambda x, y: (x, tf.one_hot(tf.cast(y, tf.int32), depth)), num_parallel_calls=tf.data.AUTOTUNE)

    return encode


def model_input_size(model: Any, recipe: Recipe) -> tuple[tuple[int, int] | None, int]:
    """``((H, W) or None, channels)`` the pipelines must produce for ``model``."""
    shape = model.input_shape
    if None not in shape[1:3]:
        size = tuple(shape[1:3])
    elif recipe.image_size is not None:
        size = (recipe.image_size, recipe.image_size)
    else:
        size = None
    return size, shape[-1]


class RunData:
    """A recipe's splits and their pipelines, sized for one model.

    Args:
        recipe: the run's settings.
        splits, info: from :func:`load_splits` (loaded once, shared by every trial of a search).
        model: the model the batches feed (its input size and channels).
        strategy: the distribution strategy (``None``: no sharding hints).
    """

    def __init__(self, recipe: Recipe, splits: dict[str, tf.data.Dataset], info: Any, model: Any,
                 strategy: Any = None) -> None:
        from kerascv_course.data import get_policy

        self.recipe, self.info, self.strategy = recipe, info, strategy
        self.size, self.channels = model_input_size(model, recipe)
        self.augment = get_policy(
            recipe.augment, task=info.task, image_size=self.size, info=info, **recipe.augment_kwargs
        )
        self.encode = label_encoder(recipe, info)
        self.train_raw = splits["train"].cache()
        self.splits = splits

    def train(self, epoch: int) -> tf.data.Dataset:
        """Epoch ``epoch``'s training batches: shuffled and augmented with :func:`epoch_seed`."""
        ds = make_pipeline(
            self.train_raw, self.info, training=True, batch_size=self.recipe.batch_size,
            image_size=self.size, channels=self.channels, augment=self.augment,
            seed=epoch_seed(self.recipe.seed, epoch), cache=False, strategy=self.strategy,
            resize_mode=self.recipe.resize_mode,
        )
        return self.encode(ds)

    def evaluation(self, split: str) -> tf.data.Dataset:
        """The batches of a validation or test split (capped at ``eval_steps``)."""
        ds = make_pipeline(
            self.splits[split], self.info, training=False, batch_size=self.recipe.batch_size,
            image_size=self.size, channels=self.channels, seed=self.recipe.seed, strategy=self.strategy,
            resize_mode=self.recipe.resize_mode,
        )
        ds = self.encode(ds)
        return ds.take(self.recipe.eval_steps) if self.recipe.eval_steps else ds

    def steps_per_epoch(self) -> int:
        """Global batches per epoch (capped at ``recipe.steps_per_epoch``)."""
        n = int(self.train_raw.cardinality())
        if n < 0:  # unknown: count the examples once
            n = int(self.train_raw.reduce(np.int64(0), lambda count, _: count + 1))
        if n == 0:
            raise ValueError(
                f"The training split of {self.recipe.dataset!r} is empty. Received: dataset={self.recipe.dataset!r}"
            )
        from kerascv_course.training.optimizer import batches_per_epoch

        return batches_per_epoch(n, self.recipe)
