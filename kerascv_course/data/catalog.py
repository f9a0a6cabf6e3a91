"""What the data package offers, as plain data: datasets and augmentation policies (no TensorFlow).

Everything that answers "is this a valid dataset / policy / option?" is here and imports no
TensorFlow, so a recipe or a command line is checked in milliseconds, before TensorFlow loads:

* **Datasets** (:data:`DATASETS`, :data:`DATASET_PREFIXES`): each :class:`DatasetEntry` holds the
  name, task, splits, a one-line summary and its own options (``dataset_kwargs``: ``per_class``,
  ``extra``, ``label``, ``num_examples``, …), and names its loader as ``"module:function"``,
  imported on first use (:meth:`DatasetEntry.load_function`). :func:`check_dataset_options` is
  the one reader of those options. ``"folder:PATH"`` and ``"segfolder:PATH"`` are prefixes: what
  follows the colon is the loader's first argument and keeps its case; every other name is looked
  up in any case. What is known of each dataset before loading it (sizes, classes, source) is
  :func:`kerascv_course.data.facts.dataset_facts`.
* **Augmentation policies** (:data:`POLICIES`, one registry per task): each :class:`PolicyEntry`
  declares its options with their defaults and checks (:class:`~kerascv_course.data.options.Option`)
  and names its builder.
  :func:`check_policy` is the one reader of a policy's options: the trainer, the tuner and
  :func:`kerascv_course.data.get_policy` all go through it.

Example:
    >>> dataset_task("CIFAR10"), dataset_splits("stl10")
    ('classification', ('train', 'validation', 'test', 'unlabelled'))
    >>> check_policy("cifar", "classification", {"cutout_size": 16})["padding"]
    4
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kerascv_course.data.constants import (
    FILL_MODES,
    IMAGENET_MEAN,
    IMAGENET_PCA,
    IMAGENET_STD,
    INTERPOLATIONS,
    SPLITS,
    TASKS,
)
from kerascv_course.data.options import Option, check_options, choice, number, pair
from kerascv_course.utils.checks import check_bool, check_choice
from kerascv_course.utils.registry import Registry

Loader = Callable[..., Any]


def resolve(target: str | Callable[..., Any]) -> Callable[..., Any]:
    """The function named by ``"package.module:function"`` (imported now), or ``target`` itself."""
    if callable(target):
        return target
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


# ============================================================================================
# Datasets


@dataclass(frozen=True)
class DatasetEntry:
    """One dataset (or one family of ``prefix:PATH`` datasets), without loading anything.

    Attributes:
        name: the registered name (lower-case), or the prefix before ``":"``.
        task: ``"classification"`` or ``"segmentation"``.
        summary: one line for listings.
        loader: ``"module:function"`` (or the function) called as
            ``loader([argument,] split, *, data_dir, image_size, seed, **options)``.
        splits: the split names it offers.
        prefix: names are ``"<name>:<argument>"``; the argument goes to the loader first.
        argument: a fixed first argument of the loader (the tensorflow-datasets name).
        options: the loader's own options (``dataset_kwargs``) with their defaults and checks;
            ``None``: not declared (a registered loader), passed on unchecked.
    """

    name: str
    task: str
    summary: str
    loader: str | Loader
    splits: tuple[str, ...] = SPLITS
    prefix: bool = False
    argument: str | None = None
    options: Mapping[str, Option] | None = None

    @property
    def listed_name(self) -> str:
        """The name as :func:`list_datasets` shows it (``"folder:PATH"`` for a prefix)."""
        return f"{self.name}:PATH" if self.prefix else self.name

    def load_function(self) -> Loader:
        """The loader function (importing its module, and TensorFlow, now)."""
        return resolve(self.loader)


DATASETS: Registry[DatasetEntry] = Registry("dataset", argument="dataset")
DATASET_PREFIXES: Registry[DatasetEntry] = Registry("dataset prefix", argument="dataset")


@dataclass(frozen=True)
class TfdsSpec:
    """How one of our dataset names maps onto tensorflow-datasets.

    Attributes:
        tfds_name: the tfds builder name (with config, e.g. ``"imagenette/160px-v2"``).
        mean, std: per-channel statistics in [0, 1] units.
        summary: one line for ``list_datasets``.
        train: tfds split whose slice gives train/validation when ``validation`` is ``None``.
        holdout: percent of ``train`` held out for validation.
        test: tfds split used as our ``"test"``.
        validation: a tfds split used as-is for validation (``None``: carve from ``train``).
        extra_splits: other splits offered under their tfds names (``unlabelled``, ``extra``).
        manual: needs files downloaded by hand (ImageNet).
        pca: published colour PCA components (ImageNet and its subsets).
        extra_train: a tfds split that the option ``extra=True`` adds to our training split
            (SVHN's ``extra``).
        labels: the values of the option ``label`` and the tfds feature each reads, the first
            the default (CIFAR-100: ``fine`` -> ``label``, ``coarse`` -> ``coarse_label``).
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
    extra_train: str | None = None
    labels: dict[str, str] | None = field(default=None)

    @property
    def splits(self) -> tuple[str, ...]:
        return (*SPLITS, *self.extra_splits)

    def tfds_split(self, split: str, fold: int | None = None) -> str:
        """The tfds split expression of our ``split`` (``fold``: which holdout slice validates)."""
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
        "cifar100", (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762),
        "CIFAR-100, 32x32x3, 100 classes (label='coarse': the 20 superclasses)",
        labels={"fine": "label", "coarse": "coarse_label"},
    ),
    "stl10": TfdsSpec(
        "stl10", (0.4467, 0.4398, 0.4066), (0.2603, 0.2566, 0.2713),
        "STL-10, 96x96x3, 10 classes, plus 100k unlabelled images (split 'unlabelled', label -1)",
        extra_splits=("unlabelled",),
    ),
    "svhn_cropped": TfdsSpec(
        "svhn_cropped", (0.4377, 0.4438, 0.4728), (0.1980, 0.2010, 0.1970),
        "SVHN house-number digits, 32x32x3, 10 classes (extra=True: train + the 531,131 'extra' images)",
        extra_splits=("extra",), extra_train="extra",
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

# The datasets' own options (dataset_kwargs), each with the loader's default and a check.
PER_CLASS = number(None, low=1, integer=True, optional=True)  # the training split keeps <= N per class
_EXAMPLES = number(None, low=1, integer=True, optional=True)
_FRACTION = number(0.1, low=0.0, high=1.0, high_open=True)


def _examples_check(argument: str, value: Any, *, where: str | None = None) -> Any:
    """``num_examples`` of ``shapes``: ``None``, a count, or a count per split."""
    if isinstance(value, Mapping):
        for split, count in value.items():
            check_choice(f"{argument} key", split, SPLITS, where=where)
            _EXAMPLES.check(f"{argument}[{split!r}]", count, where=where)
        return value
    return _EXAMPLES.check(argument, value, where=where)


def tfds_options(spec: TfdsSpec) -> dict[str, Option]:
    """The options of a tensorflow-datasets dataset: ``validation_fold``, ``per_class`` and, where
    the dataset has them, ``extra``, ``label`` and ``full_train`` (train on the whole tfds training
    split, with no validation split: a paper's final protocol)."""
    options = dict(
        validation_fold=number(None, low=0, high=100 // spec.holdout - 1, integer=True, optional=True),
        per_class=PER_CLASS,
    )
    if spec.extra_train:
        options["extra"] = Option(False, check_bool)
    if spec.labels:
        options["label"] = choice(next(iter(spec.labels)), tuple(spec.labels))
    if spec.validation is None:  # validation is carved from train: full_train gives it back
        options["full_train"] = Option(False, check_bool)
    return options


_EMBEDDED = "kerascv_course.data.datasets.embedded"
_TFDS = "kerascv_course.data.datasets.tfds"
_FOLDERS = "kerascv_course.data.datasets.folders"
_SEGFOLDERS = "kerascv_course.data.datasets.segfolders"

for _entry in (
    DatasetEntry("digits", "classification", "scikit-learn's 1,797 real 8x8 handwritten digits, at 32x32",
                 f"{_EMBEDDED}:load_digits", options=dict(per_class=PER_CLASS)),
    DatasetEntry("shapes", "classification", "procedural coloured shapes on textured backgrounds, any size",
                 f"{_EMBEDDED}:load_shapes",
                 options=dict(num_classes=number(10, low=2, high=10, integer=True),
                              num_examples=Option(None, _examples_check), per_class=PER_CLASS)),
    DatasetEntry("cracks", "segmentation", "procedural surface cracks with pixel masks (2 classes), any size, seeded",
                 f"{_EMBEDDED}:load_cracks", options=dict(num_examples=_EXAMPLES, channels=choice(3, (1, 3)))),
    DatasetEntry("oxford_iiit_pet_seg", "segmentation",
                 "Oxford-IIIT Pet trimaps (tfds oxford_iiit_pet): pet / background / border",
                 f"{_TFDS}:load_oxford_pet_seg", options=dict(download=Option(False, check_bool))),
    *(DatasetEntry(_name, "classification", _spec.summary, f"{_TFDS}:load_tfds", _spec.splits, argument=_name,
                   options=tfds_options(_spec))
      for _name, _spec in TFDS_DATASETS.items()),
):
    DATASETS.register(_entry.name, _entry)
for _entry in (
    DatasetEntry("folder", "classification", "your images: one sub-folder per class (or train/ val/ test/)",
                 f"{_FOLDERS}:load_folder", prefix=True,
                 options=dict(validation_fraction=_FRACTION, test_fraction=_FRACTION, per_class=PER_CLASS)),
    DatasetEntry("segfolder", "segmentation",
                 "PATH/images + PATH/masks (same file names), or PATH/{train,validation,test}/...",
                 f"{_SEGFOLDERS}:load_segfolder", prefix=True, options={}),
):
    DATASET_PREFIXES.register(_entry.name, _entry)


def register_dataset(
    name: str, *, task: str = "classification", splits: tuple[str, ...] = SPLITS, summary: str = "",
    options: Mapping[str, Option] | None = None,
) -> Callable[[Loader], Loader]:
    """Register a loader ``fn(split, *, data_dir, image_size, seed, **options) -> (ds, info)`` under ``name``.

    ``options`` declares the loader's own keyword options (checked by
    :func:`check_dataset_options`); without it, options are passed on unchecked.

    Raises:
        ValueError: for a name already taken, a name that is not lower-case, or an unknown task.
    """
    check_choice("task", task, TASKS, where="register_dataset")

    def decorator(fn: Loader) -> Loader:
        DATASETS.register(name, DatasetEntry(name, task, summary, fn, tuple(splits), options=options))
        return fn

    return decorator


def register_prefix(prefix: str, *, task: str = "classification", summary: str = "") -> Callable[[Loader], Loader]:
    """Register a loader for names ``"<prefix>:<argument>"``; it gets the argument first."""
    check_choice("task", task, TASKS, where="register_prefix")

    def decorator(fn: Loader) -> Loader:
        DATASET_PREFIXES.register(prefix, DatasetEntry(prefix, task, summary, fn, prefix=True))
        return fn

    return decorator


def list_datasets(task: str | None = None) -> list[str]:
    """Names accepted by :func:`~kerascv_course.data.load_dataset` (prefixes as ``"folder:PATH"``)."""
    if task is not None:
        check_choice("task", task, TASKS)
    entries = [e for _, e in (*DATASETS.items(), *DATASET_PREFIXES.items())]
    return sorted(e.listed_name for e in entries if task is None or e.task == task)


def resolve_dataset(name: str) -> tuple[DatasetEntry, str | None]:
    """The entry of a dataset name and the loader's first argument (the path of ``folder:PATH``).

    Raises:
        ValueError: for an unknown name (close matches and the known names in the message), or a
            prefix without a path.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"`dataset` must be a dataset name string. Received: dataset={name!r}")
    prefix, colon, argument = name.partition(":")
    if colon and prefix in DATASET_PREFIXES:
        if not argument:
            raise ValueError(
                f"Dataset {name!r} needs a path after '{prefix}:', e.g. "
                f"'{prefix}:/data/my_images'. Received: dataset={name!r}"
            )
        return DATASET_PREFIXES.get(prefix), argument
    if name not in DATASETS:
        own = ", ".join(f"{p}:PATH" for p in DATASET_PREFIXES.names())
        raise DATASETS.unknown(name, extra=f" Your own images: {own}.")
    entry = DATASETS.get(name)
    return entry, entry.argument


def dataset_entry(name: str) -> DatasetEntry:
    """The :class:`DatasetEntry` of a dataset name (see :func:`resolve_dataset`)."""
    return resolve_dataset(name)[0]


def dataset_task(name: str) -> str:
    """The task (``"classification"``/``"segmentation"``) of a dataset name, without loading it."""
    return dataset_entry(name).task


def dataset_splits(name: str) -> tuple[str, ...]:
    """The split names a dataset offers, without loading it."""
    return dataset_entry(name).splits


def dataset_options(name: str) -> dict[str, Any]:
    """A dataset's own options (``dataset_kwargs``) with their default values (``{}``: undeclared)."""
    return {k: o.default for k, o in (dataset_entry(name).options or {}).items()}


def check_dataset_options(name: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check a dataset's name and its options (``dataset_kwargs``) without TensorFlow.

    ``per_class`` (classification datasets) keeps at most that many images of each class in the
    training split, a seeded choice; validation and test are never reduced. ``normalization``
    (every dataset: :func:`check_normalization`) replaces the dataset's per-channel statistics.

    Returns:
        All the dataset's options: the defaults, overridden by ``options`` (for a registered
        loader that declares none, ``options`` as given).

    Raises:
        ValueError: for an unknown dataset or option, or a bad option value (the message names
            the option, what it must be and what arrived).

    Example:
        >>> check_dataset_options("svhn_cropped", {"extra": True})["extra"]
        True
    """
    entry = dataset_entry(name)
    options = dict(options or {})
    normalization = options.pop("normalization", None)
    if normalization is not None:
        check_normalization("normalization", normalization, where=f"dataset {entry.listed_name!r}")
    extra = {} if normalization is None else {"normalization": normalization}
    if entry.options is None:
        return {**options, **extra}
    given = check_options(entry.options, options, owner=f"dataset {entry.listed_name!r}")
    return {**dataset_options(name), **given, **extra}


def check_normalization(argument: str, value: Any, *, where: str | None = None) -> dict[str, Any]:
    """The ``normalization`` option every dataset takes: ``{"mean": [...], "std": [...]}``, per
    channel in [0, 1] units, replacing the dataset's own statistics (``load_dataset`` applies it,
    so training, evaluation, export and pseudo-labelling all normalise alike). For example the
    PyTorch tutorials' ``{"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}``.
    """
    from kerascv_course.utils.checks import fail

    def numbers(key: str, positive: bool) -> list[float] | None:
        items = value.get(key) if isinstance(value, Mapping) else None
        if not isinstance(items, (list, tuple)) or not items or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and (v > 0 if positive else True)
            for v in items
        ):
            return None
        return [float(v) for v in items]

    mean, std = numbers("mean", False), numbers("std", True)
    if (
        not isinstance(value, Mapping) or set(value) != {"mean", "std"} or mean is None or std is None
        or len(mean) != len(std)
    ):
        raise fail(
            argument, value,
            '{"mean": [m, ...], "std": [s, ...]}: one number per channel in [0, 1] units, the same '
            "count in both, every std above 0",
            where=where,
        )
    return {"mean": mean, "std": std}


# ============================================================================================
# Augmentation policies


_FLIP = Option(True, check_bool)
_PCA_STD = number(0.1, low=0.0)


@dataclass(frozen=True)
class PolicyEntry:
    """One named augmentation policy.

    Attributes:
        name: the registered name (lower-case).
        task: ``"classification"`` or ``"segmentation"``.
        summary: the transforms and the paper, in one line.
        options: its options, in the order of the builder's keyword arguments.
        builder: ``"module:function"`` building the policy as
            ``builder(name, size, info, **options)``; ``None``: no augmentation.
        sized: it crops to the model's input size, so it needs one.
    """

    name: str
    task: str
    summary: str
    options: Mapping[str, Option] = field(default_factory=dict)
    builder: str | None = None
    sized: bool = False

    def defaults(self) -> dict[str, Any]:
        """The options with their default values."""
        return {k: o.default for k, o in self.options.items()}


POLICIES: dict[str, Registry[PolicyEntry]] = {
    "classification": Registry("augmentation policy", plural="augmentation policies", argument="augment"),
    "segmentation": Registry(
        "segmentation augmentation policy", plural="segmentation augmentation policies", argument="augment"
    ),
}

_POLICY_MODULE = "kerascv_course.data.policies"
_CROP_OPTIONS = dict(flip=_FLIP, pca_std=_PCA_STD)
_JITTER_OPTIONS = dict(scale_range=pair(None, optional=True), **_CROP_OPTIONS)

# The options every segmentation policy has (fields of transforms.joint.JointPolicy); each
# policy changes some defaults.
JOINT_OPTIONS: dict[str, Option] = dict(
    horizontal_flip=number(0.5, low=0.0, high=1.0),
    vertical_flip=number(0.0, low=0.0, high=1.0),
    rot90=Option(False, check_bool),
    rotation=number(10.0, low=0.0),
    scale=pair((0.9, 1.15)),
    translate=number(0.05, low=0.0),
    brightness=number(0.1, low=0.0),
    contrast=number(0.15, low=0.0, high=1.0, high_open=True),
    fill_mode=choice("reflect", FILL_MODES),
)


def _joint(name: str, summary: str, **defaults: Any) -> PolicyEntry:
    options = {k: dataclasses.replace(o, default=defaults.get(k, o.default)) for k, o in JOINT_OPTIONS.items()}
    return PolicyEntry(name, "segmentation", summary, options, f"{_POLICY_MODULE}:build_joint")


for _policy in (
    PolicyEntry("none", "classification", "no augmentation"),
    PolicyEntry(
        "lenet", "classification",
        "random affine distortions (translation, scaling, squeezing, horizontal shear) and, "
        "optionally, elastic distortions (LeCun et al. 1998; Simard et al. 2003)",
        dict(
            rotation=number(0.0, low=0.0), scale=pair((0.9, 1.1)), squeeze=number(0.1, low=0.0),
            shear=number(10.0, low=0.0), translate=number(0.08, low=0.0), elastic=Option(False, check_bool),
            elastic_alpha=number(34.0, low=0.0), elastic_sigma=number(4.0, low=0.0, low_open=True),
        ),
        f"{_POLICY_MODULE}:build_lenet",
    ),
    PolicyEntry(
        "alexnet", "classification",
        "shorter side to image_size * 256/224, random image_size crop, horizontal flip, PCA colour "
        "augmentation (Krizhevsky et al. 2012)",
        dict(resize=number(None, low=0.0, low_open=True, optional=True), **_CROP_OPTIONS),
        f"{_POLICY_MODULE}:build_alexnet", sized=True,
    ),
    PolicyEntry(
        "vgg", "classification",
        "scale jittering, shorter side S in image_size * [256, 512]/224, random crop, flip, RGB colour "
        "shift (Simonyan & Zisserman 2014, arXiv:1409.1556)",
        _JITTER_OPTIONS, f"{_POLICY_MODULE}:build_scale_jitter", sized=True,
    ),
    PolicyEntry(
        "resnet", "classification",
        "scale augmentation, shorter side in image_size * [256, 480]/224, random crop, flip, standard "
        "colour augmentation (He et al. 2015, arXiv:1512.03385, ImageNet)",
        _JITTER_OPTIONS, f"{_POLICY_MODULE}:build_scale_jitter", sized=True,
    ),
    PolicyEntry(
        "inception", "classification",
        "random-resized crop (8-100 % of the area, aspect 3/4-4/3) with a random interpolation method, "
        "flip, photometric distortions (Szegedy et al. 2014, arXiv:1409.4842; Howard 2013, arXiv:1312.5402)",
        dict(
            scale=pair((0.08, 1.0), high=1.0), ratio=pair((3 / 4, 4 / 3)),
            interpolation=choice("random", INTERPOLATIONS), flip=_FLIP,
            brightness=number(32 / 255, low=0.0), contrast=number(0.5, low=0.0, high=1.0),
            saturation=number(0.5, low=0.0, high=1.0),
        ),
        f"{_POLICY_MODULE}:build_inception", sized=True,
    ),
    PolicyEntry(
        "cifar", "classification",
        "pad by 4 pixels and random crop, flip; optional cutout (He et al. 2015, CIFAR-10; "
        "DeVries & Taylor 2017, arXiv:1708.04552)",
        dict(
            padding=number(4, low=0, integer=True), mode=choice("constant", ("constant", "reflect")),
            flip=_FLIP, cutout_size=number(0, low=0, integer=True),
        ),
        f"{_POLICY_MODULE}:build_cifar",
    ),
    PolicyEntry("none", "segmentation", "no augmentation"),
    _joint("segmentation", "horizontal flip, rotation up to 10 degrees, scale-crop 0.9-1.15, 5 % shift, "
           "brightness 0.1, contrast 0.15: safe for most scenes"),
    _joint("segmentation_rot", "also vertical flips, quarter turns and 15 degrees: orientation-free "
           "textures (cracks, aerial, microscopy)", vertical_flip=0.5, rot90=True, rotation=15.0),
    _joint("segmentation_geometric", "geometry only, no colour change", brightness=0.0, contrast=0.0),
    _joint("unet", "the U-Net paper's spirit (shifts, rotations, grey-value variations) without elastic warps",
           vertical_flip=0.5, rotation=20.0, scale=(0.9, 1.1), translate=0.1),
    PolicyEntry(
        "unet_paper", "segmentation",
        "the U-Net paper's: elastic deformations (random displacements on a coarse 3x3 grid, 10 px "
        "standard deviation, bicubic), then the unet policy's shifts, rotations, flips and grey values "
        "(Ronneberger et al. 2015, arXiv:1505.04597)",
        dict(
            elastic_grid=number(3, low=2, integer=True), elastic_sigma=number(10.0, low=0.0),
            **_joint("unet", "", vertical_flip=0.5, rotation=20.0, scale=(0.9, 1.1), translate=0.1).options,
        ),
        f"{_POLICY_MODULE}:build_unet_paper",
    ),
):
    POLICIES[_policy.task].register(_policy.name, _policy)


def _policies(task: str) -> Registry[PolicyEntry]:
    return POLICIES[check_choice("task", task, TASKS)]


def list_policies(task: str = "classification") -> list[str]:
    """Names accepted by :func:`~kerascv_course.data.get_policy` for ``task`` (``"none"`` included)."""
    return _policies(task).names()


def policy_entry(name: str, task: str = "classification") -> PolicyEntry:
    """The :class:`PolicyEntry` of a policy name (any case) of ``task``."""
    return _policies(task).get(name)


def policy_options(name: str, task: str = "classification") -> dict[str, Any]:
    """A policy's options with their default values."""
    return policy_entry(name, task).defaults()


def check_policy(name: str, task: str = "classification", options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check a policy's name, its option names and the values that can be checked without TensorFlow.

    Args:
        name: a name of :func:`list_policies` (any case).
        task: ``"classification"`` or ``"segmentation"``.
        options: the options given (``recipe.augment_kwargs``).

    Returns:
        All the policy's options: the defaults, overridden by ``options``.

    Raises:
        ValueError: for an unknown task, policy or option, or a bad option value (the message
            names the option, what it must be and what arrived).
    """
    entry = policy_entry(name, task)
    options = check_options(entry.options, options, owner=f"augmentation policy {entry.name!r}")
    return {**entry.defaults(), **options}
