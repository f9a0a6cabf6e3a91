"""dataset_facts: what is known of each dataset before loading it, held to the loaders, tfds and the published sizes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

from kerascv_course.data import catalog
from kerascv_course.data.facts import TFDS_PUBLISHED, dataset_facts

# The published split sizes, from the tfds catalog pages (tensorflow.org/datasets/catalog/<name>)
# and the datasets' own papers/pages, typed here from those sources (not read from the code).
PUBLISHED = {
    "mnist": {"train": 60_000, "test": 10_000},  # LeCun et al. 1998
    "fashion_mnist": {"train": 60_000, "test": 10_000},  # Xiao et al. 2017, Table 1
    "cifar10": {"train": 50_000, "test": 10_000},  # Krizhevsky 2009
    "cifar100": {"train": 50_000, "test": 10_000},
    "stl10": {"train": 5_000, "test": 8_000, "unlabelled": 100_000},  # Coates et al. 2011
    "svhn_cropped": {"train": 73_257, "test": 26_032, "extra": 531_131},  # Netzer et al. 2011
    "oxford_iiit_pet": {"train": 3_680, "test": 3_669},  # tfds 4.0.0 (trainval / test of Parkhi et al.)
    "imagenette": {"train": 9_469, "validation": 3_925},  # fastai/imagenette README, imagenette2
    "imagenet2012": {"train": 1_281_167, "validation": 50_000},  # Russakovsky et al. 2015, Table 2
}


def _tfds_count(expr: str, sizes: dict[str, int]) -> int:
    """How many examples tfds' own split arithmetic gives ``expr`` on splits of ``sizes``."""
    from tensorflow_datasets.core.splits import AbstractSplit

    parts = AbstractSplit.from_spec(expr).to_absolute({k: SimpleNamespace(num_examples=v) for k, v in sizes.items()})
    return sum((sizes[p.splitname] if p.to is None else p.to) - (p.from_ or 0) for p in parts)


def test_facts_import_no_tensorflow_and_answer_at_once():
    script = textwrap.dedent(
        """
        import json, sys, time
        start = time.perf_counter()
        from kerascv_course.data import dataset_facts
        facts = dataset_facts("svhn_cropped", extra=True)
        try:
            dataset_facts("cifar10", extra=True)
        except ValueError as err:
            error = str(err)
        print(json.dumps(dict(seconds=time.perf_counter() - start, train=facts.split_sizes["train"], error=error,
                              tf=sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")))))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["tf"] == [] and result["seconds"] < 1.0
    assert result["train"] == 65_931 + 531_131
    assert result["error"].startswith("Unknown option(s) extra for dataset 'cifar10'; its options: validation_fold, per_class, full_train")


@pytest.mark.parametrize("tfds_name", sorted(PUBLISHED))
def test_published_sizes(tfds_name):
    assert TFDS_PUBLISHED[tfds_name].sizes == PUBLISHED[tfds_name]


@pytest.mark.parametrize("name", sorted(catalog.TFDS_DATASETS))
@pytest.mark.parametrize("fold", [None, 0])
def test_tfds_split_sizes_are_tfds_own_slicing_of_the_published_sizes(name, fold):
    spec = catalog.TFDS_DATASETS[name]
    published = PUBLISHED[spec.tfds_name.split("/")[0]]
    facts = dataset_facts(name, validation_fold=fold)
    assert facts.splits == spec.splits and set(facts.split_sizes) == set(spec.splits)
    for split in spec.splits:
        assert facts.split_sizes[split] == _tfds_count(spec.tfds_split(split, fold), published), split
    assert facts.split_sizes["train"] + facts.split_sizes["validation"] == published[spec.train]
    assert facts.published_sizes == published


def test_imagenet_cifar_and_svhn_as_the_course_counts_them():
    imagenet = dataset_facts("imagenet2012")
    assert imagenet.published_sizes == {"train": 1_281_167, "validation": 50_000}
    assert imagenet.split_sizes == {"train": 1_268_355, "validation": 12_812, "test": 50_000}  # 1 % held out
    assert dataset_facts("cifar10").split_sizes == {"train": 45_000, "validation": 5_000, "test": 10_000}
    svhn = dataset_facts("svhn_cropped", extra=True)  # "600,000 images": train + extra
    expected = _tfds_count("train[:90%]+extra", PUBLISHED["svhn_cropped"])
    assert svhn.split_sizes["train"] == expected == 73_257 - 7_326 + 531_131
    assert svhn.split_sizes["test"] == 26_032 and svhn.split_sources["train"].endswith("'train[:90%]' + 'extra'")
    assert dataset_facts("svhn_cropped").split_sizes["train"] == 65_931


def test_cifar100_coarse_labels():
    fine, coarse = dataset_facts("cifar100"), dataset_facts("cifar100", label="coarse")
    assert (fine.num_classes, fine.class_names) == (100, None)
    assert coarse.num_classes == 20 and len(coarse.class_names) == 20
    # the 20 superclasses of the CIFAR page (cs.toronto.edu/~kriz/cifar.html), in label order
    assert coarse.class_names[:3] == ("aquatic_mammals", "fish", "flowers")
    assert coarse.class_names[-2:] == ("vehicles_1", "vehicles_2") and "people" in coarse.class_names
    with pytest.raises(ValueError, match=r"dataset 'cifar100': `label` must be one of 'fine', 'coarse'\. Received: label='super'"):
        dataset_facts("cifar100", label="super")


@pytest.mark.parametrize("name", sorted(catalog.TFDS_DATASETS))
def test_tfds_classes_and_shapes_agree_with_the_tfds_builders(name):
    import tensorflow_datasets as tfds

    from kerascv_course.data import load_dataset

    facts = dataset_facts(name)
    with tfds.testing.mock_data(num_examples=2):
        features = tfds.builder(catalog.TFDS_DATASETS[name].tfds_name).info.features
        _, info = load_dataset(name, "train")
    assert facts.num_classes == features["label"].num_classes == info.num_classes
    assert facts.image_shape == tuple(features["image"].shape) == tuple(info.image_shape)
    code_names = features["label"].names
    if facts.class_names is not None and not code_names[0].isdigit():  # names in tfds' code, not only in its files
        assert list(facts.class_names) == info.class_names
    if name.startswith("cifar100"):
        coarse = tfds.builder("cifar100").info.features["coarse_label"]
        assert dataset_facts(name, label="coarse").num_classes == coarse.num_classes


@pytest.mark.parametrize("name,options", [
    ("digits", {}),
    ("shapes", {}),
    ("shapes", dict(num_examples={"train": 60, "test": 30}, num_classes=4, image_size=24)),
    ("cracks", {}),
    ("cracks", dict(num_examples=6, channels=1, image_size=32)),
])
def test_embedded_facts_are_what_load_dataset_gives(name, options):
    from kerascv_course.data import load_dataset

    facts = dataset_facts(name, **options)
    for split in facts.splits:
        ds, info = load_dataset(name, split, **options)
        count = int(ds.cardinality())
        assert facts.split_sizes[split] == info.num_examples == count, split
        assert facts.num_classes == info.num_classes and list(facts.class_names) == info.class_names
        assert facts.image_shape == tuple(info.image_shape) == tuple(ds.element_spec[0].shape)
        assert facts.task == info.task
    if name == "digits":
        # 70/10/20 % of scikit-learn's 1,797 digits, by hand: round(179.7) = 180, round(359.4) = 359
        assert facts.split_sizes == {"train": 1258, "validation": 180, "test": 359}


def test_pet_segmentation_facts():
    facts = dataset_facts("oxford_iiit_pet_seg", image_size=96)
    assert facts.image_shape == (96, 96, 3) and facts.class_names == ("pet", "background", "border")
    assert facts.split_sizes == {s: _tfds_count(e, PUBLISHED["oxford_iiit_pet"])
                                 for s, e in {"train": "train[:90%]", "validation": "train[90%:]", "test": "test"}.items()}


def test_folder_facts_are_unknown_until_loaded_and_per_class_is_noted():
    facts = dataset_facts("folder:/data/My Images", validation_fraction=0.2)
    assert facts.task == "classification" and facts.num_classes is None and facts.image_shape is None
    assert facts.split_sizes == {"train": None, "validation": None, "test": None}
    assert "20%" in facts.split_sources["validation"] and "/data/My Images" in facts.source
    assert facts.options == {"validation_fraction": 0.2, "test_fraction": 0.1, "per_class": None}
    few = dataset_facts("cifar10", per_class=10)
    assert few.split_sizes == {"train": None, "validation": 5_000, "test": 10_000}
    assert any("at most 10 images per class, at most 100 images" in n for n in few.notes)
    assert dataset_facts("segfolder:/x").task == "segmentation"
    json.dumps(few.to_dict())  # serialisable for --explain --json
    with pytest.raises(ValueError, match=r"Unknown option\(s\) per_class for dataset 'cracks'; its options: num_examples, channels"):
        dataset_facts("cracks", per_class=3)
