"""The data catalog: TF-free, in step with the loaders and policy builders it names, the one option reader."""

from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys
import textwrap

import pytest

from kerascv_course.data import catalog
from kerascv_course.utils.registry import Registry

POLICIES = [(task, name) for task in catalog.TASKS for name in catalog.list_policies(task)]
DATASETS = catalog.DATASETS.names()


def test_checking_names_and_options_imports_no_tensorflow():
    # In a fresh process: the catalog, the package's TF-free names and a failed check load no TensorFlow.
    script = textwrap.dedent(
        """
        import json, sys, time
        start = time.perf_counter()
        from kerascv_course.data import DatasetInfo, check_policy, dataset_task, list_datasets, register_dataset
        from kerascv_course.data.catalog import dataset_splits, list_policies, policy_options
        errors = []
        for call in (lambda: dataset_task("cifr10"), lambda: check_policy("cifar", "classification", {"padding": -1})):
            try:
                call()
            except ValueError as err:
                errors.append(str(err))
        print(json.dumps(dict(
            seconds=time.perf_counter() - start, errors=errors, task=dataset_task("Cracks"),
            tf=sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")),
        )))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["tf"] == []
    assert result["task"] == "segmentation"
    assert "Did you mean: cifar10" in result["errors"][0]
    assert "`padding` must be an integer >= 0. Received: padding=-1" in result["errors"][1]
    assert result["seconds"] < 1.0


@pytest.mark.parametrize("task,name", POLICIES)
def test_declared_options_are_what_the_builder_accepts(task, name):
    entry = catalog.policy_entry(name, task)
    if entry.builder is None:  # "none": nothing to build, nothing to set
        assert entry.options == {}
        return
    builder = catalog.resolve(entry.builder)
    params = inspect.signature(builder).parameters
    assert list(params)[:3] == ["name", "size", "info"]
    keyword = [p for p in params.values() if p.kind is p.KEYWORD_ONLY]
    if keyword:  # the builder names each option, and leaves its default to the catalog
        assert [p.name for p in keyword] == list(entry.options)
        assert all(p.default is p.empty for p in keyword)
    else:  # segmentation: the options are JointPolicy's fields
        from kerascv_course.data.transforms.joint import JointPolicy

        pipeline_attributes = ("output_size", "batched")  # what every policy tells the pipeline
        fields = [f.name for f in dataclasses.fields(JointPolicy) if f.name not in pipeline_attributes]
        assert fields == ["name", *entry.options]
    # every default passes its own check
    assert catalog.check_policy(name, task, entry.defaults()) == entry.defaults()


@pytest.mark.parametrize("task,name", POLICIES)
def test_every_policy_builds_with_its_defaults(task, name):
    import tensorflow as tf

    from kerascv_course.data import DatasetInfo, get_policy
    from kerascv_course.data.constants import IMAGENET_PCA

    info = DatasetInfo("shapes", task, 3, list("abc"), (40, 40, 3), mean=(0.5,) * 3, std=(0.25,) * 3,
                       extra=dict(pca=IMAGENET_PCA))
    policy = get_policy(name.upper(), task=task, image_size=32, info=info)  # any case
    if name == "none":
        assert policy is None
        return
    assert policy.name == name
    images = tf.random.stateless_uniform([2, 40, 40, 3] if policy.output_size else [2, 32, 32, 3], [1, 2])
    labels = tf.zeros([2, 32, 32, 1], tf.uint8) if task == "segmentation" else tf.constant([0, 1])
    out, _ = policy(images, labels, tf.constant([3, 4]))
    assert out.shape == (2, 32, 32, 3)


def test_defaults_are_the_papers_settings():
    # Independent references: the numbers each paper gives for its augmentation.
    opts = catalog.policy_options
    assert opts("cifar")["padding"] == 4  # He et al. 2015, Sec. 4.2: "4 pixels are padded on each side"
    assert opts("alexnet")["pca_std"] == 0.1  # Krizhevsky et al. 2012, Sec. 4.1: "standard deviation 0.1"
    assert opts("inception")["scale"] == (0.08, 1.0)  # Szegedy et al. 2014: "between 8% and 100%"
    assert opts("inception")["ratio"] == (3 / 4, 4 / 3)  # "aspect ratio constrained to [3/4, 4/3]"
    assert (opts("lenet")["elastic_alpha"], opts("lenet")["elastic_sigma"]) == (34.0, 4.0)  # Simard et al. 2003
    # each segmentation policy changes the shared defaults where its table says so
    assert opts("unet", "segmentation")["vertical_flip"] == 0.5
    assert opts("segmentation", "segmentation")["vertical_flip"] == 0.0
    assert opts("segmentation_geometric", "segmentation")["contrast"] == 0.0


def test_the_one_option_reader():
    assert catalog.check_policy("CIFAR", options={"cutout_size": 16}) == dict(
        padding=4, mode="constant", flip=True, cutout_size=16
    )
    with pytest.raises(ValueError, match=r"Unknown option\(s\) cutout for augmentation policy 'cifar'; "
                                         r"its options: padding, mode, flip, cutout_size\. Received: cutout=16"):
        catalog.check_policy("cifar", options={"cutout": 16})
    with pytest.raises(ValueError, match=r"'none'; it takes no options\. Received: p=1"):
        catalog.check_policy("none", options={"p": 1})
    with pytest.raises(ValueError, match=r"Did you mean: cifar\?.*Received: augment='cifr'"):
        catalog.check_policy("cifr")
    with pytest.raises(ValueError, match=r"Known segmentation augmentation policies: none, segmentation"):
        catalog.check_policy("cifar", "segmentation")
    with pytest.raises(ValueError, match=r"`task` must be one of 'classification', 'segmentation'"):
        catalog.list_policies("detection")
    bad = [
        ("inception", {"scale": (0.5, 1.5)}, r"`scale` must be \(min, max\) with 0 < min <= max <= 1\.0"),
        ("inception", {"interpolation": "cubic"}, r"`interpolation` must be one of 'bilinear', 'nearest', 'random'"),
        ("vgg", {"flip": 1}, r"`flip` must be True or False\. Received: flip=1"),
        ("lenet", {"elastic_sigma": 0}, r"`elastic_sigma` must be a number > 0\.0"),
    ]
    for name, options, message in bad:
        with pytest.raises(ValueError, match=rf"augmentation policy '{name}': {message}"):
            catalog.check_policy(name, options=options)
    with pytest.raises(ValueError, match=r"`fill_mode` must be one of 'constant', 'reflect', 'nearest', 'wrap'"):
        catalog.check_policy("unet", "segmentation", {"fill_mode": "mirror"})


def test_the_tuner_reads_the_catalog():
    from kerascv_course.tuning.spaces import dataset_task_or_none, policy_names, policy_options

    assert policy_names(None) == catalog.list_policies("classification")
    assert policy_names("segmentation") == catalog.list_policies("segmentation")
    assert policy_options("unet", "segmentation")["vertical_flip"] == 0.5  # the policy's own default
    assert policy_options("cifar", None)["cutout_size"] == 0
    assert policy_options("segmentation", None) == {}  # not a classification policy
    assert dataset_task_or_none("CRACKS") == "segmentation" and dataset_task_or_none("nope") is None


def test_dataset_names_tasks_and_splits():
    assert catalog.dataset_task("Digits") == "classification"
    assert catalog.dataset_splits("STL10") == ("train", "validation", "test", "unlabelled")
    entry, path = catalog.resolve_dataset("FOLDER:/Data/My Images")
    assert (entry.name, entry.task, path) == ("folder", "classification", "/Data/My Images")  # the path keeps its case
    assert catalog.resolve_dataset("segfolder:C:/masks")[1] == "C:/masks"
    assert set(catalog.list_datasets("segmentation")) == {"cracks", "oxford_iiit_pet_seg", "segfolder:PATH"}
    assert {"digits", "shapes", "folder:PATH", "cifar10"} <= set(catalog.list_datasets("classification"))
    with pytest.raises(ValueError, match=r"Unknown dataset 'cifar11'\. Did you mean: cifar10.*folder:PATH.*Received: dataset='cifar11'"):
        catalog.dataset_task("cifar11")
    with pytest.raises(ValueError, match="needs a path after 'folder:'"):
        catalog.dataset_task("folder:")
    assert set(catalog.TFDS_DATASETS) == {n for n in DATASETS if catalog.dataset_entry(n).argument}


@pytest.mark.parametrize("name", DATASETS)
def test_every_catalog_dataset_loads_through_load_dataset(name):
    import tensorflow_datasets as tfds

    from kerascv_course.data import load_dataset

    entry = catalog.dataset_entry(name)
    split = entry.splits[-1]
    generated = "num_examples" in inspect.signature(entry.load_function()).parameters
    options = dict(num_examples=3, image_size=32) if generated else {}
    with tfds.testing.mock_data(num_examples=3):
        ds, info = load_dataset(name.upper(), split, **options)
    assert (info.name, info.task) == (name, entry.task)
    assert len(list(ds.take(3).as_numpy_iterator())) == 3


@pytest.mark.parametrize("prefix", catalog.DATASET_PREFIXES.names())
def test_prefix_loaders_take_the_path_then_the_split(prefix):
    loader = catalog.DATASET_PREFIXES.get(prefix).load_function()
    assert list(inspect.signature(loader).parameters)[:5] == ["path", "split", "data_dir", "image_size", "seed"]


def test_registered_datasets_are_listed_and_loaded(monkeypatch):
    from kerascv_course.data import DatasetInfo, load_dataset, register_dataset

    registry = Registry("dataset", argument="name")
    for key, value in catalog.DATASETS.items():
        registry.register(key, value)
    monkeypatch.setattr(catalog, "DATASETS", registry)

    @register_dataset("my_data", task="segmentation", splits=("train", "test"))
    def load(split, *, data_dir=None, image_size=None, seed=0):
        return [split, seed], DatasetInfo("my_data", "segmentation", 2, ["a", "b"], (4, 4, 3))

    assert "my_data" in catalog.list_datasets("segmentation")
    assert catalog.dataset_task("My_Data") == "segmentation"
    assert load_dataset("MY_DATA", "test", seed=5)[0] == ["test", 5]
    with pytest.raises(ValueError, match=r"dataset 'my_data': `split` must be one of 'train', 'test'"):
        load_dataset("my_data", "validation")
    with pytest.raises(ValueError, match="already registered"):
        register_dataset("my_data")(load)


ENTRIES = [catalog.DATASETS.get(n) for n in DATASETS] + [catalog.DATASET_PREFIXES.get(p) for p in catalog.DATASET_PREFIXES.names()]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_declared_dataset_options_are_the_loaders_keyword_arguments(entry):
    params = inspect.signature(entry.load_function()).parameters
    common = ("path", "name", "split", "data_dir", "image_size", "seed")
    loader = {n: p.default for n, p in params.items() if n not in common}
    declared = {k: o.default for k, o in entry.options.items()}
    if entry.argument:  # one tfds loader serves every tfds dataset: each declares what it has
        spec = catalog.TFDS_DATASETS[entry.argument]
        assert set(declared) <= set(loader)
        assert ("extra" in declared) == bool(spec.extra_train) and ("label" in declared) == bool(spec.labels)
        loader["label"] = next(iter(spec.labels)) if spec.labels else None  # the loader's None: the first label
    else:
        assert list(declared) == list(loader)
    assert declared == {k: loader[k] for k in declared}
    # every default passes its own check
    assert catalog.check_dataset_options(entry.listed_name.replace("PATH", "/x"), declared) == declared


def test_the_one_dataset_option_reader():
    assert catalog.check_dataset_options("SVHN_CROPPED", {"extra": True}) == dict(
        validation_fold=None, per_class=None, extra=True, full_train=False
    )
    assert catalog.dataset_options("cifar100") == dict(validation_fold=None, per_class=None, label="fine",
                                                       full_train=False)
    bad = [
        ("cifar10", {"extra": True}, r"Unknown option\(s\) extra for dataset 'cifar10'; its options: "
                                     r"validation_fold, per_class, full_train\. Received: extra=True"),
        ("svhn_cropped", {"extra": "yes"}, r"dataset 'svhn_cropped': `extra` must be True or False"),
        ("cifar100", {"label": "super"}, r"`label` must be one of 'fine', 'coarse'\. Received: label='super'"),
        ("imagenet2012", {"validation_fold": 100}, r"`validation_fold` must be an integer >= 0 and <= 99 or None"),
        ("shapes", {"num_examples": {"training": 5}}, r"`num_examples key` must be one of 'train', 'validation', 'test'"),
        ("shapes", {"num_examples": {"train": 0}}, r"`num_examples\['train'\]` must be an integer >= 1"),
        ("folder:/x", {"validation_fraction": 1.0}, r"dataset 'folder:PATH': `validation_fraction` must be a number >= 0\.0 and < 1\.0"),
        ("segfolder:/x", {"per_class": 2}, r"for dataset 'segfolder:PATH'; it takes no options"),
        ("digits", {"per_class": 2.5}, r"`per_class` must be an integer >= 1 or None"),
    ]
    for name, options, message in bad:
        with pytest.raises(ValueError, match=message):
            catalog.check_dataset_options(name, options)
