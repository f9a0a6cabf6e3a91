"""ZFNet on ImageNet (Zeiler & Fergus, 2013, arXiv:1311.2901).

Paper (Sec. 3): AlexNet's recipe — 256x256 images, 224x224 crops and flips, SGD with batch 128,
learning rate 0.01 annealed by hand when the validation error plateaus, momentum 0.9, dropout 0.5
in layers 6 and 7, 70 epochs; filters whose RMS exceeds 0.1 are renormalised (not reproduced).
Published: top-1 error 38.4 %, top-5 error 16.5 % (one network, "our model (a)", ILSVRC-2012
validation, 10 crops).

    python recipes/zfnet_imagenet.py --data-dir ~/tensorflow_datasets
    python recipes/zfnet_imagenet.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="zfnet",
    dataset="imagenet2012",
    paper="Zeiler & Fergus 2013, Visualizing and understanding convolutional networks, arXiv:1311.2901, Table 2",
    model_kwargs={"dropout": 0.5},
    image_size=224,
    epochs=70,
    batch_size=128,
    base_batch_size=128,
    optimizer="sgd",
    learning_rate=0.01,
    momentum=0.9,
    weight_decay=5e-4,
    weight_decay_mode="l2",
    schedule="plateau",
    schedule_kwargs={"monitor": "val_accuracy", "factor": 0.1, "patience": 5, "max_reductions": 3},
    augment="alexnet",
    published={"top1_error": 0.384, "top5_error": 0.165},
    notes="Weight decay 5e-4 is AlexNet's (the paper does not state one); no filter renormalisation.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
