"""ResNet-50 on ImageNet (He, Zhang, Ren & Sun, 2015, arXiv:1512.03385).

Paper (Sec. 3.4): SGD, batch 256, learning rate 0.1 divided by 10 when the error plateaus, up to
600K iterations (120 epochs), weight decay 1e-4, momentum 0.9, no dropout; shorter side randomly
in [256, 480], 224x224 crops, flips, standard colour augmentation; 10-crop testing. Published:
top-1 error 22.85 %, top-5 error 6.71 % (10-crop, Table 3). Initialisation: "as in [13]" (He et
al., 2015, "Delving deep into rectifiers"): zero-mean Gaussian, std sqrt(2 / fan-in) —
``kernel_initializer="he_normal"``.

    python recipes/resnet50_imagenet.py --data-dir ~/tensorflow_datasets
    python recipes/resnet50_imagenet.py --strategy mirrored --batch-size 1024   # lr scales to 0.4
    kerascv-course evaluate runs/resnet50-imagenet2012 --tta 10crop
    python recipes/resnet50_imagenet.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="resnet50",
    dataset="imagenet2012",
    paper="He, Zhang, Ren & Sun 2015, Deep residual learning, arXiv:1512.03385, Table 3 (10-crop)",
    model_kwargs={"kernel_initializer": "he_normal"},
    image_size=224,
    epochs=120,
    batch_size=256,
    base_batch_size=256,
    optimizer="sgd",
    learning_rate=0.1,
    momentum=0.9,
    weight_decay=1e-4,
    weight_decay_mode="l2",
    schedule="plateau",
    schedule_kwargs={"monitor": "val_accuracy", "factor": 0.1, "patience": 5, "max_reductions": 3},
    augment="resnet",
    published={"top1_error": 0.2285, "top5_error": 0.0671},
    notes="Plateau patience is ours; the common fixed alternative is milestones 30/60/90 of 90 epochs.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
