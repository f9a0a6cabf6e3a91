"""DenseNet-121 on ImageNet (Huang, Liu, van der Maaten & Weinberger, 2017, arXiv:1608.06993).

Paper (Sec. 4.2): SGD with Nesterov momentum 0.9 (no dampening), batch 256, 90 epochs, learning
rate 0.1 divided by 10 at epochs 30 and 60, weight decay 1e-4, no dropout on ImageNet; the data
augmentation of fb.resnet.torch (scale and aspect-ratio crops, flips, colour and lighting).
Published: top-1 error 25.02 %, top-5 error 7.71 % (single 224 crop, Table 3; 10-crop:
23.61 % / 6.66 %).

    python recipes/densenet121_imagenet.py --data-dir ~/tensorflow_datasets
    python recipes/densenet121_imagenet.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="densenet121",
    dataset="imagenet2012",
    paper="Huang, Liu, van der Maaten & Weinberger 2017, Densely connected networks, arXiv:1608.06993, Table 3",
    image_size=224,
    epochs=90,
    batch_size=256,
    base_batch_size=256,
    optimizer="sgd",
    learning_rate=0.1,
    momentum=0.9,
    nesterov=True,
    weight_decay=1e-4,
    weight_decay_mode="l2",
    schedule="step",
    schedule_kwargs={"milestones": [30, 60], "factor": 0.1},
    augment="inception",
    published={"top1_error": 0.2502, "top5_error": 0.0771, "top1_error_10crop": 0.2361, "top5_error_10crop": 0.0666},
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
