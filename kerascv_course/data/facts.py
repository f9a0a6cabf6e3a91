"""What is known of each dataset without loading or downloading it (no TensorFlow): :func:`dataset_facts`.

For an ``--explain`` of a run: the task, the classes, the stored image shape, the splits with their
sizes and where each comes from, and the source to cite. tensorflow-datasets sizes are the
published ones (:data:`TFDS_PUBLISHED`, the tfds catalog's split tables, which agree with the
papers), sliced the way our splits slice them (tfds' own rounding: ``round(percent * n / 100)``);
the embedded sets' sizes are those their loaders make at the options given. Sizes are ``None``
where they cannot be known before loading (``folder:PATH``, a training split reduced by
``per_class``).

Example:
    >>> facts = dataset_facts("svhn_cropped", extra=True)
    >>> facts.split_sizes["train"], facts.split_sizes["test"]
    (597062, 26032)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from kerascv_course.data.catalog import (
    TFDS_DATASETS,
    TfdsSpec,
    check_dataset_options,
    resolve_dataset,
)
from kerascv_course.data.constants import (
    CRACKS_CLASSES,
    CRACKS_DEFAULT_EXAMPLES,
    CRACKS_DEFAULT_SIZE,
    DIGITS_COUNT,
    DIGITS_FRACTIONS,
    SHAPE_NAMES,
    SHAPES_DEFAULT_EXAMPLES,
    SHAPES_DEFAULT_SIZE,
    SPLITS,
)
from kerascv_course.data.datasets.base import split_counts
from kerascv_course.data.transforms.checks import as_size, square_side

_DIGITS = tuple(str(i) for i in range(10))

# Imagenette's WordNet ids, in tfds label order, and their ImageNet class names.
IMAGENETTE_NAMES = {
    "n01440764": "tench", "n02102040": "English springer", "n02979186": "cassette player",
    "n03000684": "chain saw", "n03028079": "church", "n03394916": "French horn",
    "n03417042": "garbage truck", "n03425413": "gas pump", "n03445777": "golf ball",
    "n03888257": "parachute",
}
PET_SEG_CLASSES = ("pet", "background", "border")
PET_SEG_DEFAULT_SIZE = 128
PET_SEG_SPLITS = {"train": "train[:90%]", "validation": "train[90%:]", "test": "test"}


@dataclass(frozen=True)
class Published:
    """A tensorflow-datasets dataset as published.

    Attributes:
        sizes: examples per tfds split.
        shape: the stored image shape (``None`` sides vary).
        num_classes, class_names: of the default labels (names ``None`` where long or only in
            the downloaded files).
        source: the dataset, its paper and where it lives.
        labels: other labels (``label`` option value -> ``(num_classes, class_names)``).
    """

    sizes: dict[str, int]
    shape: tuple[int | None, int | None, int]
    num_classes: int
    class_names: tuple[str, ...] | None
    source: str
    labels: dict[str, tuple[int, tuple[str, ...] | None]] = field(default_factory=dict)


_IMAGENETTE = Published(
    {"train": 9469, "validation": 3925}, (None, None, 3), 10, tuple(IMAGENETTE_NAMES.values()),
    "Imagenette v2, 10 easy ImageNet classes (J. Howard, 2019, github.com/fastai/imagenette); tfds",
)
_CIFAR100_COARSE = (
    "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
    "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
    "large_man-made_outdoor_things", "large_natural_outdoor_scenes", "large_omnivores_and_herbivores",
    "medium_mammals", "non-insect_invertebrates", "people", "reptiles", "small_mammals", "trees",
    "vehicles_1", "vehicles_2",
)
_PETS = (
    "Abyssinian", "american_bulldog", "american_pit_bull_terrier", "basset_hound", "beagle", "Bengal",
    "Birman", "Bombay", "boxer", "British_Shorthair", "chihuahua", "Egyptian_Mau",
    "english_cocker_spaniel", "english_setter", "german_shorthaired", "great_pyrenees", "havanese",
    "japanese_chin", "keeshond", "leonberger", "Maine_Coon", "miniature_pinscher", "newfoundland",
    "Persian", "pomeranian", "pug", "Ragdoll", "Russian_Blue", "saint_bernard", "samoyed",
    "scottish_terrier", "shiba_inu", "Siamese", "Sphynx", "staffordshire_bull_terrier",
    "wheaten_terrier", "yorkshire_terrier",
)
_PET_SOURCE = "Oxford-IIIT Pet (Parkhi, Vedaldi, Zisserman & Jawahar, CVPR 2012); tfds oxford_iiit_pet"

# Keyed by tfds builder name; sizes from the tfds catalog (tensorflow.org/datasets/catalog).
TFDS_PUBLISHED: dict[str, Published] = {
    "mnist": Published({"train": 60_000, "test": 10_000}, (28, 28, 1), 10, _DIGITS,
                       "MNIST (LeCun, Bottou, Bengio & Haffner, 1998; yann.lecun.com/exdb/mnist); tfds"),
    "fashion_mnist": Published(
        {"train": 60_000, "test": 10_000}, (28, 28, 1), 10,
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        "Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017, arXiv:1708.07747); tfds"),
    "cifar10": Published(
        {"train": 50_000, "test": 10_000}, (32, 32, 3), 10,
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
        "CIFAR-10 (Krizhevsky, 2009, Learning Multiple Layers of Features from Tiny Images); tfds"),
    "cifar100": Published(
        {"train": 50_000, "test": 10_000}, (32, 32, 3), 100, None,
        "CIFAR-100 (Krizhevsky, 2009, Learning Multiple Layers of Features from Tiny Images); tfds",
        labels={"coarse": (20, _CIFAR100_COARSE)}),
    "stl10": Published(
        {"train": 5_000, "test": 8_000, "unlabelled": 100_000}, (96, 96, 3), 10,
        ("airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"),
        "STL-10 (Coates, Ng & Lee, AISTATS 2011); tfds"),
    "svhn_cropped": Published(
        {"train": 73_257, "test": 26_032, "extra": 531_131}, (32, 32, 3), 10, _DIGITS,
        "SVHN cropped digits (Netzer et al., NIPS workshop 2011; ufldl.stanford.edu/housenumbers); tfds"),
    "oxford_iiit_pet": Published({"train": 3_680, "test": 3_669}, (None, None, 3), 37, _PETS, _PET_SOURCE),
    "imagenette": _IMAGENETTE,
    "imagenette/320px-v2": _IMAGENETTE,
    "imagenette/160px-v2": _IMAGENETTE,
    "imagenet2012": Published(
        {"train": 1_281_167, "validation": 50_000}, (None, None, 3), 1000, None,
        "ImageNet ILSVRC-2012 (Russakovsky et al., IJCV 2015); tfds imagenet2012, manual download"),
}


@dataclass(frozen=True)
class DatasetFacts:
    """What is known of a dataset before it is loaded.

    Attributes:
        name: the dataset name as given.
        task: ``"classification"`` or ``"segmentation"``.
        num_classes: number of classes (``None``: known once loaded).
        class_names: the class names where short and known.
        image_shape: the stored ``(H, W, C)`` (``None`` sides vary; ``None``: known once loaded).
        splits: the split names.
        split_sizes: examples per split (``None``: not known before loading).
        split_sources: where each split comes from, in words.
        source: the data and its citation, in one line.
        options: the dataset's options in effect (defaults and those given).
        notes: anything else the sizes depend on.
        published_sizes: the sizes of the source's own splits (tfds: the published ones, e.g.
            SVHN train 73,257, extra 531,131, test 26,032), which ours are cut from.
    """

    name: str
    task: str
    num_classes: int | None
    class_names: tuple[str, ...] | None
    image_shape: tuple[int | None, int | None, int | None] | None
    splits: tuple[str, ...]
    split_sizes: dict[str, int | None]
    split_sources: dict[str, str]
    source: str
    options: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    published_sizes: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return dataclasses.asdict(self)


def _pct(boundary: int, n: int) -> int:
    """tfds' percent boundary (rounding ``"closest"``): ``round(boundary * n / 100)``."""
    return int(round(boundary * n / 100.0))


def _tfds_splits(spec: TfdsSpec, sizes: dict[str, int], options: dict[str, Any]) -> tuple[dict, dict]:
    """Our splits' sizes and tfds expressions, from the published tfds sizes."""
    fold = options.get("validation_fold")
    out: dict[str, int | None] = {}
    where: dict[str, str] = {}
    n = sizes[spec.train]
    if spec.validation is None:
        k = 100 // spec.holdout - 1 if fold is None else fold
        held = _pct((k + 1) * spec.holdout, n) - _pct(k * spec.holdout, n)
        out["train"], out["validation"] = n - held, held
    else:
        out["train"], out["validation"] = n, sizes[spec.validation]
    out["test"] = sizes[spec.test]
    out.update({s: sizes[s] for s in spec.extra_splits})
    for split in out:
        where[split] = f"tfds {spec.tfds_name} '{spec.tfds_split(split, fold)}'"
    if options.get("full_train"):
        out["train"], out["validation"] = n, 0
        where["train"] = f"tfds {spec.tfds_name} '{spec.train}' (all of it)"
        where["validation"] = "none (full_train=True)"
    if options.get("extra"):
        out["train"] += sizes[spec.extra_train]
        where["train"] += f" + '{spec.extra_train}'"
    return out, where


def _per_class(facts: DatasetFacts) -> DatasetFacts:
    limit = facts.options.get("per_class")
    if not limit:
        return facts
    most = f", at most {limit * facts.num_classes:,} images" if facts.num_classes else ""
    return dataclasses.replace(
        facts,
        split_sizes={**facts.split_sizes, "train": None},
        split_sources={**facts.split_sources, "train": facts.split_sources["train"] + f", at most {limit} per class"},
        notes=(*facts.notes, f"train: at most {limit} images per class{most}, a seeded choice; "
                             f"validation and test are not reduced"),
    )


def _tfds_facts(name: str, options: dict[str, Any]) -> DatasetFacts:
    spec = TFDS_DATASETS[name]
    published = TFDS_PUBLISHED[spec.tfds_name]
    sizes, where = _tfds_splits(spec, published.sizes, options)
    num_classes, class_names = published.num_classes, published.class_names
    label = options.get("label")
    if label in published.labels:
        num_classes, class_names = published.labels[label]
    notes = (f"validation: {spec.holdout} % of tfds '{spec.train}', held out",) if spec.validation is None else ()
    if options.get("full_train"):
        notes = (f"full_train: all of tfds '{spec.train}' is trained on; no validation split",)
    return DatasetFacts(name, "classification", num_classes, class_names, published.shape, spec.splits, sizes,
                        where, published.source, options, notes, dict(published.sizes))


def _embedded_facts(name: str, image_size: Any, options: dict[str, Any]) -> DatasetFacts:
    if name == "digits":
        sizes = split_counts(DIGITS_COUNT, DIGITS_FRACTIONS)
        return DatasetFacts(
            name, "classification", 10, _DIGITS, (32, 32, 1), SPLITS, dict(sizes),
            {s: f"{round(f * 100)} % of the {DIGITS_COUNT:,} digits (a fixed split)" for s, f in zip(SPLITS, DIGITS_FRACTIONS)},
            "scikit-learn's digits: UCI Optical Recognition of Handwritten Digits (Alpaydin & Kaynak, 1998), "
            "8x8 scaled to 28x28 and padded to 32x32", options, published_sizes={"all": DIGITS_COUNT})
    if name == "shapes":
        side = square_side(image_size, SHAPES_DEFAULT_SIZE, where="shapes")
        given = options["num_examples"]
        counts = {s: (given.get(s, n) if isinstance(given, dict) else given or n) for s, n in SHAPES_DEFAULT_EXAMPLES.items()}
        n = options["num_classes"]
        return DatasetFacts(
            name, "classification", n, SHAPE_NAMES[:n], (side, side, 3), SPLITS, counts,
            {s: f"generated from the seed (split stream {s!r})" for s in SPLITS},
            "procedural coloured shapes on textured backgrounds (kerascv_course, embedded)", options)
    if name == "cracks":
        side = square_side(image_size, CRACKS_DEFAULT_SIZE, where="cracks")
        given = options["num_examples"]
        counts = {s: given or n for s, n in CRACKS_DEFAULT_EXAMPLES.items()}
        return DatasetFacts(
            name, "segmentation", 2, CRACKS_CLASSES, (side, side, options["channels"]), SPLITS, counts,
            {"train": "generated from the seed", "validation": "generated, fixed", "test": "generated, fixed"},
            "procedural concrete-like surfaces with cracks and pixel masks (kerascv_course, embedded)", options)
    # oxford_iiit_pet_seg
    h, w = as_size(PET_SEG_DEFAULT_SIZE if image_size is None else image_size, "image_size", where=name)
    n = TFDS_PUBLISHED["oxford_iiit_pet"].sizes
    sizes = {"train": _pct(90, n["train"]), "validation": n["train"] - _pct(90, n["train"]), "test": n["test"]}
    return DatasetFacts(
        name, "segmentation", 3, PET_SEG_CLASSES, (h, w, 3), SPLITS, sizes,
        {s: f"tfds oxford_iiit_pet '{e}'" for s, e in PET_SEG_SPLITS.items()},
        _PET_SOURCE + ", trimaps 1/2/3 -> pet/background/border", options, published_sizes=dict(n))


def _folder_facts(name: str, prefix: str, path: str, options: dict[str, Any]) -> DatasetFacts:
    if prefix == "folder":
        val, test = options["validation_fraction"], options["test_fraction"]
        where = {"train": "PATH/train/<class>/, or the rest of each class",
                 "validation": f"PATH/val/<class>/, or {val:.0%} of each class (seeded)",
                 "test": f"PATH/test/<class>/, or {test:.0%} of each class (seeded)"}
        return DatasetFacts(name, "classification", None, None, None, SPLITS, dict.fromkeys(SPLITS), where,
                            f"your images in {path} (one sub-folder per class)", options)
    where = {s: f"PATH/{s}/images + masks/, or {round(f * 100)} % of PATH/images (seeded)"
             for s, f in zip(SPLITS, (0.8, 0.1, 0.1))}
    return DatasetFacts(name, "segmentation", None, None, None, SPLITS, dict.fromkeys(SPLITS), where,
                        f"your images and masks in {path}", options)


def dataset_facts(name: str, *, image_size: int | tuple[int, int] | None = None, **options: Any) -> DatasetFacts:
    """What is known of a dataset (at these options) without loading or downloading anything.

    Args:
        name: a dataset name (any case), ``"folder:PATH"`` or ``"segfolder:PATH"``.
        image_size: the ``image_size`` given to :func:`~kerascv_course.data.load_dataset` (the
            size of generated or resized data).
        **options: the dataset's options (``dataset_kwargs``), checked as ``load_dataset`` checks them.

    Returns:
        The :class:`DatasetFacts`.

    Raises:
        ValueError: for an unknown name or option, or a bad option value.

    Example:
        >>> dataset_facts("cifar100", label="coarse").num_classes
        20
    """
    entry, argument = resolve_dataset(name)
    options = check_dataset_options(name, options)
    if entry.prefix:
        facts = _folder_facts(name, entry.name, argument or "", options)
    elif entry.argument in TFDS_DATASETS:
        facts = _tfds_facts(entry.argument, options)
    elif entry.name in ("digits", "shapes", "cracks", "oxford_iiit_pet_seg"):
        facts = _embedded_facts(entry.name, image_size, options)
    else:  # a registered loader: only what the catalog knows
        facts = DatasetFacts(name, entry.task, None, None, None, entry.splits, dict.fromkeys(entry.splits),
                             {}, entry.summary, options)
    return _per_class(facts)
