"""tensorflow-datasets loaders (MNIST, CIFAR, STL-10, SVHN, Oxford pets, Imagenette, ImageNet).

Our split names map onto each dataset's own splits. Where a dataset has no validation split, a
fixed slice of its training split is held out with tfds split slicing (``"train[90%:]"``; tfds
stores examples in a fixed pseudo-random order, so the slice is a random sample, and it is the same
for every run so validation numbers compare). Pass ``validation_fold=k`` to hold out the k-th slice
instead (cross-validation). Where the official validation split is the one papers report on
(Imagenette, ImageNet), it is our ``"test"``.

Nothing is downloaded here: a dataset must already be prepared in ``data_dir`` (default
``~/tensorflow_datasets`` or ``$TFDS_DATA_DIR``). When it is not, :func:`load_dataset` raises
``FileNotFoundError`` at once, saying where it looked and how to prepare it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

import tensorflow as tf

from kerascv_course.data.augment import IMAGENET_PCA
from kerascv_course.data.datasets import DatasetInfo, register_dataset

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Imagenette's WordNet ids, in tfds label order, and their ImageNet class names.
IMAGENETTE_NAMES = {
    "n01440764": "tench", "n02102040": "English springer", "n02979186": "cassette player",
    "n03000684": "chain saw", "n03028079": "church", "n03394916": "French horn",
    "n03417042": "garbage truck", "n03425413": "gas pump", "n03445777": "golf ball",
    "n03888257": "parachute",
}


@dataclass(frozen=True)
class TfdsSpec:
    """How one of our dataset names maps onto tensorflow-datasets.

    Attributes:
        tfds_name: the tfds builder name (with config, e.g. ``"imagenette/160px-v2"``).
        train: tfds split whose slice gives train/validation when ``validation`` is ``None``.
        holdout: percent of ``train`` held out for validation.
        test: tfds split used as our ``"test"``.
        validation: a tfds split used as-is for validation (``None``: carve from ``train``).
        extra_splits: other splits offered under their tfds names (``unlabelled``, ``extra``).
        mean, std: per-channel statistics in [0, 1] units.
        manual: needs files downloaded by hand (ImageNet).
        summary: one line for ``list_datasets``.
    """

    tfds_name: str
    mean: tuple[float, ...]
    std: tuple[float, ...]
    summary: str
    train: str = "train"
    holdout: int = 10
    test: str = "test"
    validation: str | None = None
    extra_splits: tuple[str, ...] = ()
    manual: bool = False
    pca: dict[str, Any] | None = field(default=None)

    @property
    def splits(self) -> tuple[str, ...]:
        return ("train", "validation", "test", *self.extra_splits)

    def tfds_split(self, split: str, fold: int | None = None) -> str:
        """The tfds split expression of our ``split``."""
        if split in self.extra_splits:
            return split
        if split == "test":
            return self.test
        if split == "validation" and self.validation is not None:
            return self.validation
        folds = 100 // self.holdout
        k = folds - 1 if fold is None else fold
        lo, hi = k * self.holdout, (k + 1) * self.holdout
        if split == "validation":
            return f"{self.train}[{lo}%:{hi}%]"
        parts = ([f"{self.train}[:{lo}%]"] if lo > 0 else []) + ([f"{self.train}[{hi}%:]"] if hi < 100 else [])
        return "+".join(parts)


_IMAGENET_STATS = dict(mean=IMAGENET_MEAN, std=IMAGENET_STD, pca=IMAGENET_PCA)

TFDS_DATASETS: dict[str, TfdsSpec] = {
    "mnist": TfdsSpec("mnist", (0.1307,), (0.3081,), "MNIST handwritten digits, 28x28x1, 10 classes"),
    "fashion_mnist": TfdsSpec(
        "fashion_mnist", (0.2860,), (0.3530,), "Fashion-MNIST clothing, 28x28x1, 10 classes"
    ),
    "cifar10": TfdsSpec(
        "cifar10", (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616), "CIFAR-10, 32x32x3, 10 classes"
    ),
    "cifar100": TfdsSpec(
        "cifar100", (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762), "CIFAR-100, 32x32x3, 100 classes"
    ),
    "stl10": TfdsSpec(
        "stl10", (0.4467, 0.4398, 0.4066), (0.2603, 0.2566, 0.2713),
        "STL-10, 96x96x3, 10 classes, plus 100k unlabelled images (split 'unlabelled', label -1)",
        extra_splits=("unlabelled",),
    ),
    "svhn_cropped": TfdsSpec(
        "svhn_cropped", (0.4377, 0.4438, 0.4728), (0.1980, 0.2010, 0.1970),
        "SVHN house-number digits, 32x32x3, 10 classes (+ split 'extra')", extra_splits=("extra",),
    ),
    "oxford_iiit_pet": TfdsSpec(
        "oxford_iiit_pet", summary="Oxford-IIIT pets, 37 breeds, images of varying size", **_IMAGENET_STATS
    ),
    "imagenette": TfdsSpec(
        "imagenette", summary="Imagenette, 10 easy ImageNet classes, full size",
        validation=None, test="validation", **_IMAGENET_STATS,
    ),
    "imagenette/320px-v2": TfdsSpec(
        "imagenette/320px-v2", summary="Imagenette, shorter side 320", test="validation", **_IMAGENET_STATS
    ),
    "imagenette/160px-v2": TfdsSpec(
        "imagenette/160px-v2", summary="Imagenette, shorter side 160", test="validation", **_IMAGENET_STATS
    ),
    "imagenet2012": TfdsSpec(
        "imagenet2012", summary="ImageNet ILSVRC-2012, 1000 classes (manual download)",
        holdout=1, test="validation", manual=True, **_IMAGENET_STATS,
    ),
}


def _default_data_dir() -> str:
    return os.environ.get("TFDS_DATA_DIR", os.path.join(os.path.expanduser("~"), "tensorflow_datasets"))


def how_to_prepare(name: str, builder: Any, data_dir: str | None) -> str:
    """The message of a dataset that is not prepared: where we looked and what to do."""
    spec = TFDS_DATASETS[name]
    root = data_dir or _default_data_dir()
    looked = os.fspath(builder.data_dir)
    head = (
        f"tensorflow-datasets has no prepared copy of {name!r} under data_dir={root!r} "
        f"(looked in {looked!r}), and this loader never downloads."
    )
    if spec.manual:
        return (
            f"{head} ImageNet must be downloaded by hand: get ILSVRC2012_img_train.tar and "
            f"ILSVRC2012_img_val.tar from https://image-net.org (after registering), put them in a "
            f"folder MANUAL and run, once: python -c \"import tensorflow_datasets as tfds; "
            f"tfds.builder('imagenet2012', data_dir={root!r}).download_and_prepare("
            f"download_config=tfds.download.DownloadConfig(manual_dir='MANUAL'))\" (the default "
            f"manual_dir is {os.path.join(root, 'downloads', 'manual')!r}). Then pass the same "
            f"data_dir. Received: name={name!r}"
        )
    return (
        f"{head} On a machine with internet access run: python -c \"import tensorflow_datasets as "
        f"tfds; tfds.builder('{spec.tfds_name}', data_dir='DIR').download_and_prepare()\", then "
        f"copy DIR/{spec.tfds_name.split('/')[0]} into {root!r} (or pass data_dir='DIR' where it "
        f"is). Received: name={name!r}"
    )


def load_tfds(
    name: str,
    split: str,
    *,
    data_dir: str | None = None,
    image_size: Any = None,
    seed: int = 0,
    validation_fold: int | None = None,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """One split of a tensorflow-datasets dataset as ``(uint8 image, int64 label)`` pairs.

    Args:
        name: a key of :data:`TFDS_DATASETS`.
        split: ``"train"``, ``"validation"``, ``"test"`` or one of the dataset's extra splits.
        data_dir: the tfds data folder (``None``: tfds' default).
        image_size: unused (stored images keep their size; the pipeline resizes).
        seed: unused (the split slices are fixed; see ``validation_fold``).
        validation_fold: hold out the k-th ``holdout`` percent slice of train as validation
            (default: the last one).

    Returns:
        ``(dataset, DatasetInfo)``.

    Raises:
        FileNotFoundError: when the dataset is not prepared in ``data_dir`` (says how to).
        ValueError: for a bad ``validation_fold``.
    """
    del image_size, seed
    import tensorflow_datasets as tfds

    spec = TFDS_DATASETS[name]
    folds = 100 // spec.holdout
    if validation_fold is not None and (
        isinstance(validation_fold, bool) or not isinstance(validation_fold, int) or not 0 <= validation_fold < folds
    ):
        raise ValueError(
            f"`validation_fold` must be an integer in [0, {folds - 1}]. Received: validation_fold={validation_fold!r}"
        )
    expr = spec.tfds_split(split, validation_fold)
    builder = tfds.builder(spec.tfds_name, data_dir=data_dir)
    try:
        raw = builder.as_dataset(split=expr, shuffle_files=False)
    except AssertionError:  # tfds' "could not find data" — the dataset is not prepared here
        raise FileNotFoundError(how_to_prepare(name, builder, data_dir)) from None
    features = builder.info.features
    label = features["label"]
    names = list(label.names)
    if name.startswith("imagenette"):
        names = [IMAGENETTE_NAMES.get(n, n) for n in names]
    image_shape = tuple(features["image"].shape)
    try:
        num_examples = int(builder.info.splits[expr].num_examples)
    except (KeyError, ValueError, TypeError):  # split sizes unknown (not prepared, or mocked)
        num_examples = None
    info = DatasetInfo(
        name=name,
        task="classification",
        num_classes=int(label.num_classes),
        class_names=names,
        image_shape=image_shape,
        num_examples=num_examples,
        mean=spec.mean,
        std=spec.std,
        splits=spec.splits,
        description=f"{spec.summary} (tensorflow-datasets {spec.tfds_name}, split {expr!r})",
        extra=dict(
            storage="records",
            tfds_name=spec.tfds_name,
            tfds_split=expr,
            data_dir=data_dir,
            load_args=dict(data_dir=data_dir),
            **({"pca": spec.pca} if spec.pca else {}),
        ),
    )
    ds = raw.map(
        lambda ex: (ex["image"], tf.cast(ex["label"], tf.int64)), num_parallel_calls=tf.data.AUTOTUNE
    )
    return ds, info


def _register(name: str, spec: TfdsSpec) -> None:
    def loader(split: str, **kwargs: Any) -> tuple[tf.data.Dataset, DatasetInfo]:
        return load_tfds(name, split, **kwargs)

    loader.__name__ = f"load_{name.replace('/', '_').replace('-', '_')}"
    loader.__doc__ = f"{spec.summary} — see :func:`load_tfds`."
    register_dataset(name, splits=spec.splits, summary=spec.summary)(loader)


for _name, _spec in TFDS_DATASETS.items():
    _register(_name, _spec)
