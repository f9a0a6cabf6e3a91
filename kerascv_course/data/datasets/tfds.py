"""tensorflow-datasets loaders: MNIST, CIFAR, STL-10, SVHN, Oxford pets (and their trimaps), Imagenette, ImageNet.

Our split names map onto each dataset's own splits (the table is
:data:`kerascv_course.data.catalog.TFDS_DATASETS`). Where a dataset has no validation split, a
fixed slice of its training split is held out with tfds split slicing (``"train[90%:]"``; tfds
stores examples in a fixed pseudo-random order, so the slice is a random sample, and it is the same
for every run so validation numbers compare). Pass ``validation_fold=k`` to hold out the k-th slice
instead (cross-validation). Where the official validation split is the one papers report on
(Imagenette, ImageNet), it is our ``"test"``. ``extra=True`` (SVHN) trains on ``train`` + ``extra``
(the course's 600,000 images, less the held-out slice of ``train``); ``label="coarse"`` (CIFAR-100)
reads the 20 superclasses; ``per_class=N`` keeps at most N training images per class.

Nothing is downloaded here: a dataset must already be prepared in ``data_dir`` (default
``~/tensorflow_datasets`` or ``$TFDS_DATA_DIR``). When it is not, :func:`load_dataset` raises
``FileNotFoundError`` at once, saying where it looked and how to prepare it.

``oxford_iiit_pet_seg`` is the segmentation side of Oxford-IIIT Pet: its trimaps mapped 1/2/3 -> 0
pet, 1 background, 2 border.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
import tensorflow as tf

from kerascv_course.data.catalog import TFDS_DATASETS
from kerascv_course.data.constants import IMAGENET_MEAN, IMAGENET_STD
from kerascv_course.data.datasets.base import DatasetInfo, per_class_indices, per_class_info
from kerascv_course.data.facts import (
    IMAGENETTE_NAMES,
    PET_SEG_CLASSES,
    PET_SEG_DEFAULT_SIZE,
    PET_SEG_SPLITS,
)
from kerascv_course.data.transforms.checks import as_size
from kerascv_course.data.transforms.joint import resize_pair
from kerascv_course.utils.checks import check_choice, check_number

log = logging.getLogger(__name__)


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
    per_class: int | None = None,
    extra: bool = False,
    label: str | None = None,
    full_train: bool = False,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """One split of a tensorflow-datasets dataset as ``(uint8 image, int64 label)`` pairs.

    Args:
        name: a key of :data:`TFDS_DATASETS`.
        split: ``"train"``, ``"validation"``, ``"test"`` or one of the dataset's extra splits.
        data_dir: the tfds data folder (``None``: tfds' default).
        image_size: unused (stored images keep their size; the pipeline resizes).
        seed: seed of the ``per_class`` choice (the split slices are fixed; see ``validation_fold``).
        validation_fold: hold out the k-th ``holdout`` percent slice of train as validation
            (default: the last one).
        per_class: the training split keeps at most this many images of each class, a seeded
            choice made once from the labels (one pass over the split that reads no image);
            other splits are not reduced.
        extra: add the dataset's extra training split (SVHN: ``extra``, 531,131 images) to our
            training split; validation and test stay as they are.
        label: which labels (CIFAR-100: ``"fine"``, 100 classes, or ``"coarse"``, 20 superclasses).
        full_train: train on the whole tfds training split (CIFAR-10: all 50,000 images, as He
            et al. 2015 trained their final models); there is then no validation split.

    Returns:
        ``(dataset, DatasetInfo)``.

    Raises:
        FileNotFoundError: when the dataset is not prepared in ``data_dir`` (says how to).
        ValueError: for a bad ``validation_fold``, or ``extra``/``label`` where the dataset has none.
    """
    del image_size
    import tensorflow_datasets as tfds

    spec = TFDS_DATASETS[name]
    folds = 100 // spec.holdout
    check_number("validation_fold", validation_fold, low=0, high=folds - 1, integer=True, optional=True, where=name)
    if extra and not spec.extra_train:
        raise ValueError(f"{name}: `extra` adds a dataset's extra training split and {name} has none "
                         f"(svhn_cropped has). Received: extra={extra!r}")
    if label is not None and not spec.labels:
        raise ValueError(f"{name}: `label` chooses between kinds of labels and {name} has one "
                         f"(cifar100 has 'fine' and 'coarse'). Received: label={label!r}")
    labels = spec.labels or {"label": "label"}
    label_key = labels[check_choice("label", label or next(iter(labels)), tuple(labels), where=name)]
    if full_train and (spec.validation is not None or validation_fold is not None or split == "validation"):
        raise ValueError(
            f"{name}: `full_train=True` trains on all of tfds '{spec.train}', so there is no validation "
            f"split to load or choose (use validation_split=None). Received: full_train=True, "
            f"split={split!r}, validation_fold={validation_fold!r}"
        )
    expr = spec.train if full_train and split == "train" else spec.tfds_split(split, validation_fold)
    if extra and split == "train":
        expr = f"{expr}+{spec.extra_train}"
    builder = tfds.builder(spec.tfds_name, data_dir=data_dir)
    subset = split == "train" and bool(per_class)
    try:
        raw = builder.as_dataset(
            split=expr, shuffle_files=False,
            decoders={"image": tfds.decode.SkipDecoding()} if subset else None,
        )
    except AssertionError:  # tfds' "could not find data" — the dataset is not prepared here
        raise FileNotFoundError(how_to_prepare(name, builder, data_dir)) from None
    features = builder.info.features
    names = list(features[label_key].names)
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
        num_classes=int(features[label_key].num_classes),
        class_names=names,
        image_shape=image_shape,
        num_examples=num_examples,
        mean=spec.mean,
        std=spec.std,
        splits=spec.splits,
        description=f"{spec.summary} (tensorflow-datasets {spec.tfds_name}, split {expr!r}, {label_key})",
        extra=dict(
            storage="records",
            tfds_name=spec.tfds_name,
            tfds_split=expr,
            data_dir=data_dir,
            load_args=dict(data_dir=data_dir),
            **({"pca": spec.pca} if spec.pca else {}),
        ),
    )
    if subset:
        return _per_class(raw, info, features["image"], label_key, per_class, seed)
    ds = raw.map(
        lambda ex: (ex["image"], tf.cast(ex[label_key], tf.int64)), num_parallel_calls=tf.data.AUTOTUNE
    )
    return ds, info


def _per_class(
    raw: tf.data.Dataset, info: DatasetInfo, image_feature: Any, label_key: str, per_class: int, seed: int
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """The examples of ``raw`` (images still encoded) kept by ``per_class``, decoded."""
    batches = raw.map(lambda ex: ex[label_key], num_parallel_calls=tf.data.AUTOTUNE).batch(8192)
    labels = np.concatenate([np.zeros(0, np.int64), *batches.as_numpy_iterator()])
    keep = per_class_indices(labels, per_class, seed)
    chosen = np.zeros(len(labels), bool)
    chosen[keep] = True
    table = tf.constant(chosen)
    ds = raw.enumerate().filter(lambda i, ex: table[i]).map(
        lambda i, ex: (image_feature.decode_example(ex["image"]), tf.cast(ex[label_key], tf.int64)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    ds = ds.apply(tf.data.experimental.assert_cardinality(len(keep)))
    return ds, per_class_info(info, labels[keep], per_class)


# ============================================================================= Oxford-IIIT Pet trimaps



def trimap_to_classes(trimap: tf.Tensor) -> tf.Tensor:
    """Oxford-IIIT Pet trimap values 1 (pet), 2 (background), 3 (border) to classes 0, 1, 2.

    Any other value (none in the real data) becomes 2, the "not classified" border class.
    """
    trimap = tf.cast(trimap, tf.int32)
    classes = tf.where((trimap >= 1) & (trimap <= 3), trimap - 1, 2)
    return tf.cast(classes, tf.uint8)


def load_oxford_pet_seg(
    split: str,
    *,
    data_dir: str | None = None,
    image_size: Any = None,
    seed: int = 0,
    download: bool = False,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """Oxford-IIIT Pet (Parkhi et al., 2012) segmentation through tensorflow-datasets.

    The trimaps become 3 classes: 0 pet, 1 background, 2 border (``trimap - 1``). Images and
    masks are resized together to ``image_size`` (default 128; masks by nearest neighbour), since
    the photos vary in size. Splits: train = the first 90 % of tfds ``train`` (trainval),
    validation = the last 10 %, test = tfds ``test``.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        data_dir: tensorflow-datasets' data folder.
        image_size: the size to resize to (int or ``(h, w)``; default 128).
        seed: unused (the splits are fixed).
        download: let tensorflow-datasets download and prepare the data (needs network access).

    Returns:
        ``(dataset of (uint8 image, uint8 mask), DatasetInfo)``.
    """
    import tensorflow_datasets as tfds

    size = as_size(PET_SEG_DEFAULT_SIZE if image_size is None else image_size, "image_size", where="oxford_iiit_pet_seg")
    try:
        ds, tfds_info = tfds.load(
            "oxford_iiit_pet", split=PET_SEG_SPLITS[split], data_dir=data_dir, with_info=True,
            download=download,
        )
    except (AssertionError, FileNotFoundError, tfds.core.registered.DatasetNotFoundError) as err:
        raise FileNotFoundError(
            f"oxford_iiit_pet_seg: tensorflow-datasets has no prepared 'oxford_iiit_pet' in "
            f"data_dir={data_dir!r} ({err}). Prepare it once where the network is reachable "
            f"(tfds.load('oxford_iiit_pet', data_dir=...)) and pass that data_dir."
        ) from err

    def to_pair(example: dict[str, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor]:
        image = example["image"][..., :3]
        mask = trimap_to_classes(example["segmentation_mask"])
        return resize_pair(image, mask, size)

    ds = ds.map(to_pair, num_parallel_calls=tf.data.AUTOTUNE)
    num = None
    try:
        num = int(tfds_info.splits[PET_SEG_SPLITS[split]].num_examples)
    except (KeyError, ValueError, TypeError, AttributeError):
        num = None
    info = DatasetInfo(
        name="oxford_iiit_pet_seg",
        task="segmentation",
        num_classes=3,
        class_names=list(PET_SEG_CLASSES),
        image_shape=(size[0], size[1], 3),
        num_examples=num,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        description="Oxford-IIIT Pet photos with trimaps (Parkhi et al., 2012), via tfds",
        extra={"storage": "records", "tfds_name": "oxford_iiit_pet"},
    )
    return ds, info
