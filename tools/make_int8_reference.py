"""Train the small MobileNet whose int8 export the test suite checks against its float model.

``tests/test_export_pipeline.py::test_shapes_mobilenet_int8_matches_float`` needs a MobileNet that
has *learned* ``shapes`` — agreement between an int8 and a float model only means something when
the float model is confident — and training one to that point takes this 2-core machine far longer
than a test may run (MobileNet 0.25/64 reached 80 % after 64k training images, about 4 minutes).
So it is trained once with this script, through the package's own trainer, and the weights are
kept in ``tests/data/`` (``<name>.keras``, saved without optimizer state, loadable with
``safe_mode=True``, and ``<name>.recipe.json``, the run's recipe). The test writes them into a run
folder and runs :func:`kerascv_course.export.export_source` on it, as ``kerascv-course export``
would.

Example:
    python tools/make_int8_reference.py            # about 25 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from kerascv_course.training import Recipe  # noqa: E402
from kerascv_course.training.trainer import train  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "mobilenet025_shapes64"


def _course_recipe() -> Recipe:
    """The shapes recipe of ``recipes/mobilenet_tflite.py`` (its optimizer, schedule and batch),
    narrowed to the reference model: alpha 0.25, 4 classes, 16,000 training images, 24 epochs."""
    spec = importlib.util.spec_from_file_location("mobilenet_tflite", os.path.join(REPO, "recipes", "mobilenet_tflite.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.RECIPES["shapes"].replace(
        model_kwargs={"alpha": 0.25},
        dataset_kwargs={"num_classes": 4, "num_examples": {"train": 16000, "validation": 500, "test": 1000}},
        epochs=24,
        tensorboard=False,
        output=None,
        notes="int8 reference model for the test suite (tools/make_int8_reference.py)",
    )


RECIPE = _course_recipe()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default=os.path.join(REPO, "tests", "data"), help="folder for the two files")
    parser.add_argument("--epochs", type=int, default=RECIPE.epochs)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        recipe = RECIPE.replace(epochs=args.epochs, output=os.path.join(folder, "run"))
        result = train(recipe, verbose=2)
        model = keras.saving.load_model(os.path.join(result.output, "model.keras"), compile=False, safe_mode=True)
        os.makedirs(args.output, exist_ok=True)
        target = os.path.join(args.output, f"{NAME}.keras")
        model.save(target + ".tmp.keras")
        shutil.move(target + ".tmp.keras", target)
        with open(os.path.join(result.output, "metrics.json")) as fh:
            metrics = json.load(fh)
        saved = recipe.replace(output=None).to_dict()
        with open(os.path.join(args.output, f"{NAME}.recipe.json"), "w") as fh:
            json.dump(saved, fh, indent=2, sort_keys=True)
    print(f"wrote {target} ({os.path.getsize(target) / 1e6:.2f} MB); test metrics: "
          + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items() if isinstance(v, float)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
