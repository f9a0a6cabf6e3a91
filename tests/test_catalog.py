"""The TF-free model catalog: in sync with the live registry, light to import, and what the
builders really accept (the common arguments declared once, misspelt ones refused)."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

import kerascv_course
from kerascv_course.models import catalog, get_spec, list_models, model_info

# keras.applications' common arguments, as its documentation names them.
KERAS_APPLICATIONS_ARGS = {
    "include_top", "weights", "input_shape", "pooling", "classes", "classifier_activation", "name",
}


def _without_tensorflow(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter, then fail if TensorFlow or Keras got imported."""
    check = "\nimport sys\nheavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n" \
            "assert not heavy, heavy\n"
    return subprocess.run(
        [sys.executable, "-c", code + check], capture_output=True, text=True, timeout=120
    )


def test_catalog_file_is_what_the_live_registry_gives():
    with open(catalog.CATALOG_FILE, encoding="utf-8") as fh:
        stored = json.load(fh)
    live = catalog.generate()
    assert stored == live, (
        "kerascv_course/models/catalog.json is out of date with the registry: "
        f"run `{catalog.REGENERATE}` and commit the file"
    )
    assert catalog.dumps(live) == open(catalog.CATALOG_FILE, encoding="utf-8").read()


def test_catalog_import_and_listing_load_no_tensorflow():
    result = _without_tensorflow(
        "import kerascv_course.models.catalog as c, kerascv_course as k\n"
        "assert 'vgg16' in k.list_models() and c.model_info('VGG16').keras_app == 'VGG16'\n"
    )
    assert result.returncode == 0, result.stderr


def test_list_command_runs_without_tensorflow():
    result = _without_tensorflow(
        "from kerascv_course.cli import main\nassert main(['list', 'vgg1*']) == 0\n"
    )
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()[2:]] == [
        "vgg11", "vgg13", "vgg16", "vgg19",
    ]


def test_unknown_names_suggest_close_ones_without_tensorflow():
    result = _without_tensorflow(
        "from kerascv_course.models import model_info\n"
        "try:\n    model_info('resnet5')\nexcept ValueError as err:\n    print(err)\n"
    )
    assert result.returncode == 0, result.stderr
    assert "Did you mean: resnet56, resnet50" in result.stdout
    assert result.stdout.strip().endswith("Received: name='resnet5'")


def test_catalog_lists_the_same_models_as_the_registry():
    from kerascv_course.models import registry

    assert list_models() == registry.list_models()
    for task in catalog.TASKS:
        assert list_models(task) == registry.list_models(task)
    assert list_models(pattern="VGG1*") == ["vgg11", "vgg13", "vgg16", "vgg19"]


@pytest.mark.parametrize("name", list_models("classification"))
def test_every_classifier_takes_the_common_arguments(name):
    spec, info = get_spec(name), model_info(name)
    signature = inspect.signature(spec.builder)
    assert KERAS_APPLICATIONS_ARGS <= set(signature.parameters)
    assert KERAS_APPLICATIONS_ARGS <= set(info.builder_args)
    # The catalog's defaults are the builder's: what a call without the argument uses.
    assert info.builder_args["classes"] == signature.parameters["classes"].default


def test_builder_arguments_carry_the_papers_defaults():
    # He et al. 2015 §4.2: the CIFAR ResNets have 10 classes and option A shortcuts (chosen by
    # shortcut="auto"; None is the plain network); LeNet-5 classifies 10 digits; Howard et al.: alpha 1.0.
    assert model_info("resnet20").builder_args["classes"] == 10
    assert model_info("resnet20").builder_args["shortcut"] == "auto"
    assert model_info("lenet5").builder_args["classes"] == 10
    assert model_info("mobilenet").builder_args["alpha"] == 1.0
    assert model_info("mlp").builder_args["hidden_units"] == (300, 100)
    assert {"backbone", "padding", "depth", "encoder_weights"} <= set(model_info("unet").builder_args)


def test_a_misspelt_or_positional_argument_names_the_right_one():
    with pytest.raises(TypeError, match=r"vgg16: unknown argument `clases`\. Did you mean: classes\?.*Received: clases=10"):
        kerascv_course.build_vgg16(clases=10)
    with pytest.raises(TypeError, match=r"unet: unknown argument `depht`\. Did you mean: depth"):
        kerascv_course.build_unet(depht=3)
    with pytest.raises(TypeError, match="resnet20: too many positional arguments.*Received: 1 positional"):
        kerascv_course.build_resnet20(10)
