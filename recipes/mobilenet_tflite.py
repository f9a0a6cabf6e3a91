"""MobileNet from training to the device: train, export to TFLite (float32 and int8), verify.

MobileNet (Howard et al., 2017, arXiv:1704.04861) was designed for phones; this recipe ends where
the paper's model ends up: a ``.tflite`` file run by LiteRT. It trains MobileNet (``--alpha``
width multiplier, ``--resolution`` input side) on the embedded ``shapes`` data — or, at full scale,
MobileNet 1.0/224 on the tensorflow-datasets ``imagenette`` (``--variant imagenette``) — then
exports the run folder in float32 and full-integer int8 (uint8 raw-pixel input and uint8 output,
the dataset's normalisation folded into the model, int8 calibrated on 300 training images without
augmentation), and writes ``export/export_report.json``: file size, accuracy on the test split
through the LiteRT interpreter next to the Keras model's, top-1 agreement, max |difference| of the
probabilities and single-image latency.

    python recipes/mobilenet_tflite.py                           # shapes, MobileNet 0.5 at 64x64
    python recipes/mobilenet_tflite.py --alpha 0.25 --resolution 96
    python recipes/mobilenet_tflite.py --variant imagenette --data-dir ~/tensorflow_datasets
    python recipes/mobilenet_tflite.py --smoke                   # seconds, embedded digits
    kerascv-course predict runs/mobilenet-shapes/export/model_int8.tflite image.png
"""

from kerascv_course.cli.script import main
from kerascv_course.export.recipe import ExportSettings
from kerascv_course.training import Recipe

RECIPES = {
    "shapes": Recipe(
        model="mobilenet",
        dataset="shapes",
        model_kwargs={"alpha": 0.5},
        image_size=64,
        dataset_kwargs={"num_examples": {"train": 10000, "validation": 1000, "test": 1000}},
        epochs=30,
        batch_size=64,
        optimizer="sgd",
        learning_rate=0.05,
        momentum=0.9,
        nesterov=True,
        weight_decay=4e-5,
        weight_decay_exclude=["conv_dw_"],
        schedule="cosine",
        output="runs/mobilenet-shapes",
        notes="Course settings (not the paper's): SGD+Nesterov, cosine decay, no augmentation.",
    ),
    "imagenette": Recipe(
        model="mobilenet",
        dataset="imagenette/160px-v2",
        model_kwargs={"alpha": 1.0},
        image_size=224,
        epochs=60,
        batch_size=64,
        optimizer="sgd",
        learning_rate=0.1,
        momentum=0.9,
        nesterov=True,
        weight_decay=4e-5,
        weight_decay_exclude=["conv_dw_"],
        schedule="cosine",
        augment="inception",
        test_split="validation",
        validation_split="validation",
        output="runs/mobilenet-imagenette",
        notes="MobileNet 1.0/224 on the 10-class ImageNet subset (imagenette has no test split).",
    ),
}

EXPORT = ExportSettings(quantizations=("float32", "int8"), input_type="uint8", output_type="uint8")

if __name__ == "__main__":
    raise SystemExit(main(RECIPES, export=EXPORT))
