"""Fine-tune MobileNet from ImageNet on your own images (a folder of class sub-folders).

Keras's guide "Transfer learning & fine-tuning" (Chollet, keras.io/guides/transfer_learning):
the ImageNet backbone is frozen — batch-norm in inference mode — while a new classifier
(global average pooling, dropout 0.2, dense) trains with Adam at 1e-3 for 20 epochs; then the
whole backbone is unfrozen (batch-norm still in inference mode) and trained with the head for 10
more epochs at 1e-5. MobileNet's ImageNet input is 224x224, scaled to [-1, 1] as its weights were
trained (keras.applications' ``preprocess_input``): the dataset option ``normalization`` with mean
0.5 and std 0.5 gives exactly that, instead of the folder's own statistics. (The guide also flips and rotates the
images at random; add an augmentation policy with --augment if your set needs one.)

    python recipes/finetune_folder.py --dataset folder:/path/to/images
    python recipes/finetune_folder.py --dataset folder:/path/to/images --dataset-kwargs '{"per_class": 30}'
    python recipes/finetune_folder.py --smoke

``weights="imagenet"`` downloads keras.applications' file once into ``~/.keras/models``; offline,
copy that file there (the error says which) or pass ``--weights FILE.h5``. ``--smoke`` runs the
same two phases offline: it first trains a MobileNet briefly on the embedded digits (a run of
this package) and fine-tunes from that run.
"""

import os
import sys

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="mobilenet",
    dataset="folder:images",
    dataset_kwargs={"normalization": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}},  # [-1, 1]
    model_kwargs={"dropout": 0.2},
    weights="imagenet",
    image_size=224,
    epochs=30,
    freeze_epochs=20,
    unfreeze="all",
    batch_size=32,
    optimizer="adam",
    learning_rate=1e-3,
    fine_tune_learning_rate=1e-5,
    lr_scaling="none",
    schedule="constant",
    augment="none",
    notes="Keras transfer-learning guide: frozen backbone 20 epochs at 1e-3, then all unfrozen at 1e-5 "
          "for 10, batch-norm in inference mode throughout.",
)

SMOKE_SOURCE = os.path.join("runs", "smoke-source", "finetune_folder")  # beside runs/smoke, not in it


def smoke_source() -> str:
    """A MobileNet run on the embedded digits: the offline stand-in for the ImageNet weights."""
    from kerascv_course.cli.recipe_args import smoke_recipe
    from kerascv_course.training import train

    source = smoke_recipe(Recipe(model="mobilenet", dataset="digits", model_kwargs={"dropout": 0.2}),
                          {"output": SMOKE_SOURCE})
    train(source, verbose=0)
    return SMOKE_SOURCE


if __name__ == "__main__":
    smoke = None
    if "--smoke" in sys.argv[1:] and not {"-h", "--help", "--print-recipe"} & set(sys.argv[1:]):
        smoke = {"weights": smoke_source(), "epochs": 2, "freeze_epochs": 1}
    raise SystemExit(main(RECIPE, smoke=smoke or {"epochs": 2, "freeze_epochs": 1}))
