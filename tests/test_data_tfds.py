"""tensorflow-datasets loaders: every dataset through tfds' mock, split mapping, offline errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import tensorflow as tf

from kerascv_course.data import list_datasets, load_dataset
from kerascv_course.data.catalog import TFDS_DATASETS

# name -> (image shape, number of classes), from the datasets' published descriptions.
EXPECTED = {
    "mnist": ((28, 28, 1), 10),
    "fashion_mnist": ((28, 28, 1), 10),
    "cifar10": ((32, 32, 3), 10),
    "cifar100": ((32, 32, 3), 100),
    "stl10": ((96, 96, 3), 10),
    "svhn_cropped": ((32, 32, 3), 10),
    "oxford_iiit_pet": ((None, None, 3), 37),
    "imagenette": ((None, None, 3), 10),
    "imagenette/320px-v2": ((None, None, 3), 10),
    "imagenette/160px-v2": ((None, None, 3), 10),
    "imagenet2012": ((None, None, 3), 1000),
}


def test_every_named_tfds_dataset_is_registered():
    assert set(EXPECTED) == set(TFDS_DATASETS)
    assert set(EXPECTED) <= set(list_datasets())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loads_through_mock_data(name):
    import tensorflow_datasets as tfds

    shape, classes = EXPECTED[name]
    with tfds.testing.mock_data(num_examples=3):
        for split in TFDS_DATASETS[name].splits:
            ds, info = load_dataset(name, split)
            assert info.num_classes == classes
            assert len(info.class_names) == classes
            assert tuple(info.image_shape) == shape
            assert len(info.mean) == len(info.std) == shape[-1]
            assert info.extra["storage"] == "records"
            image_spec, label_spec = ds.element_spec
            assert image_spec.dtype == tf.uint8 and label_spec.dtype == tf.int64
            assert tuple(image_spec.shape) == shape
            examples = list(ds.as_numpy_iterator())
            assert len(examples) == 3
            for image, label in examples:
                assert image.ndim == 3 and image.shape[-1] == shape[-1]
                if shape[0] is not None:
                    assert image.shape == shape
                assert 0 <= label < classes


def test_imagenette_class_names_are_readable():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=1):
        _, info = load_dataset("imagenette", "train")
    assert info.class_names[0] == "tench" and "parachute" in info.class_names


def test_split_mapping():
    cifar = TFDS_DATASETS["cifar10"]
    assert [cifar.tfds_split(s) for s in ("train", "validation", "test")] == [
        "train[:90%]", "train[90%:100%]", "test"
    ]
    assert cifar.tfds_split("train", 0) == "train[10%:]"
    assert cifar.tfds_split("train", 4) == "train[:40%]+train[50%:]"
    assert cifar.tfds_split("validation", 4) == "train[40%:50%]"
    assert TFDS_DATASETS["imagenette"].tfds_split("test") == "validation"
    assert TFDS_DATASETS["imagenet2012"].tfds_split("train") == "train[:99%]"
    assert TFDS_DATASETS["stl10"].tfds_split("unlabelled") == "unlabelled"


@pytest.mark.parametrize("name,fold", [("cifar10", None), ("cifar10", 3), ("imagenet2012", None)])
def test_train_and_validation_slices_partition_the_train_split(name, fold):
    from types import SimpleNamespace

    from tensorflow_datasets.core.splits import AbstractSplit

    spec = TFDS_DATASETS[name]
    n = 50_000

    def indices(expr):  # tfds' own reading of the split expression, on a 50,000-example split
        out = set()
        for part in AbstractSplit.from_spec(expr).to_absolute({"train": SimpleNamespace(num_examples=n)}):
            out |= set(range(part.from_ or 0, n if part.to is None else part.to))
        return out

    train = indices(spec.tfds_split("train", fold))
    val = indices(spec.tfds_split("validation", fold))
    assert not train & val
    assert train | val == set(range(n))
    assert len(val) == n * spec.holdout // 100


def test_bad_names_and_splits_list_the_valid_ones():
    with pytest.raises(ValueError, match="cifar10"):
        load_dataset("cifar11")
    with pytest.raises(ValueError, match="'train', 'validation', 'test', 'unlabelled'"):
        load_dataset("stl10", "val")
    with pytest.raises(ValueError, match="validation_fold"):
        load_dataset("cifar10", "train", validation_fold=10)


def test_missing_data_fails_at_once_with_instructions(tmp_path):
    # In a fresh process with a time limit, so that a download attempt or a hang fails the test.
    script = textwrap.dedent(
        f"""
        from kerascv_course.data import load_dataset
        for name in ("cifar10", "imagenet2012"):
            try:
                load_dataset(name, "train", data_dir={str(tmp_path)!r})
            except FileNotFoundError as err:
                print("ERROR", name, err)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("ERROR")]
    assert len(lines) == 2, out.stdout + out.stderr
    cifar, imagenet = lines
    assert "'cifar10'" in cifar and str(tmp_path) in cifar and "download_and_prepare" in cifar
    assert "manual_dir" in imagenet and "ILSVRC2012_img_train.tar" in imagenet
    assert "Traceback" not in out.stderr


def test_cifar100_coarse_labels_are_the_coarse_feature():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=60):
        raw = tfds.builder("cifar100").as_dataset(split="train[:90%]", shuffle_files=False)
        expected = [(int(e["coarse_label"]), int(e["label"])) for e in raw]
        coarse, info = load_dataset("cifar100", "train", label="coarse")
        fine, fine_info = load_dataset("cifar100", "train")
        got = [int(y) for _, y in coarse.as_numpy_iterator()]
        got_fine = [int(y) for _, y in fine.as_numpy_iterator()]
    assert got == [c for c, _ in expected] and got_fine == [f for _, f in expected]
    assert max(f for _, f in expected) >= 20  # the two label sets differ, so the test tells them apart
    assert (info.num_classes, len(info.class_names), fine_info.num_classes) == (20, 20, 100)
    with pytest.raises(ValueError, match=r"cifar10: `label` chooses between kinds of labels"):
        from kerascv_course.data.datasets.tfds import load_tfds

        load_tfds("cifar10", "train", label="coarse")


def test_svhn_extra_joins_the_training_split_only():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=4):
        splits = {s: load_dataset("svhn_cropped", s, extra=True)[1].extra["tfds_split"] for s in ("train", "validation", "test")}
    assert splits == {"train": "train[:90%]+extra", "validation": "train[90%:100%]", "test": "test"}
