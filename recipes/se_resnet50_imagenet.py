"""SE-ResNet-50 on ImageNet (Hu, Shen, Albanie, Sun & Wu, 2018, arXiv:1709.01507).

Paper (Sec. 6.1): SGD with momentum 0.9, batch 1024, learning rate 0.6 divided by 10 every 30
epochs, 100 epochs, reduction ratio 16; random-size cropping to 224x224 and flips; the weight
decay of the ResNet baseline (1e-4). Published: top-1 error 23.29 %, top-5 error 6.62 % (single
224 crop, Table 2; the re-implemented ResNet-50 baseline: 24.80 % / 7.48 %).

    python recipes/se_resnet50_imagenet.py --data-dir ~/tensorflow_datasets --strategy mirrored
    python recipes/se_resnet50_imagenet.py --batch-size 256            # lr scales to 0.15
    python recipes/se_resnet50_imagenet.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="se_resnet50",
    dataset="imagenet2012",
    paper="Hu, Shen, Albanie, Sun & Wu 2018, Squeeze-and-excitation networks, arXiv:1709.01507, Table 2",
    model_kwargs={"reduction": 16},
    image_size=224,
    epochs=100,
    batch_size=1024,
    base_batch_size=1024,
    optimizer="sgd",
    learning_rate=0.6,
    momentum=0.9,
    weight_decay=1e-4,
    weight_decay_mode="l2",
    schedule="step",
    schedule_kwargs={"milestones": [30, 60, 90], "factor": 0.1},
    augment="inception",
    published={"top1_error": 0.2329, "top5_error": 0.0662},
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
