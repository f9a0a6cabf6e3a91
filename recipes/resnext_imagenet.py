"""ResNeXt-50 (32x4d) and ResNeXt-101 (32x4d, 64x4d) on ImageNet (Xie, Girshick, Dollar, Tu & He,
2017, arXiv:1611.05431).

Paper (Sec. 4): fb.resnet.torch's training: 224x224 crops with scale and aspect-ratio
augmentation, SGD with batch 256 (8 GPUs x 32), weight decay 1e-4, momentum 0.9, learning rate 0.1
divided by 10 three times (epochs 30, 60 and 90 here; the length is fb.resnet.torch's, not in the
paper). Published (224x224 single crop): ResNeXt-50 top-1 error 22.2 % (Table 3), ResNeXt-101
32x4d 21.2 % (Table 4), ResNeXt-101 64x4d 20.4 % top-1 and 5.3 % top-5 (Table 5).

    python recipes/resnext_imagenet.py --data-dir ~/tensorflow_datasets
    python recipes/resnext_imagenet.py --variant resnext101_64x4d --strategy mirrored
    python recipes/resnext_imagenet.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

XIE_2017 = Recipe(
    model="resnext50_32x4d",
    dataset="imagenet2012",
    paper="Xie, Girshick, Dollar, Tu & He 2017, Aggregated residual transformations, arXiv:1611.05431",
    image_size=224,
    epochs=100,
    batch_size=256,
    base_batch_size=256,
    optimizer="sgd",
    learning_rate=0.1,
    momentum=0.9,
    weight_decay=1e-4,
    weight_decay_mode="l2",
    schedule="step",
    schedule_kwargs={"milestones": [30, 60, 90], "factor": 0.1},
    augment="inception",
    notes="Epochs and milestones are fb.resnet.torch's; the paper says 'divided by 10 three times'.",
)

RECIPES = {
    "resnext50_32x4d": XIE_2017.replace(published={"top1_error": 0.222}),
    "resnext101_32x4d": XIE_2017.replace(model="resnext101_32x4d", published={"top1_error": 0.212}),
    "resnext101_64x4d": XIE_2017.replace(
        model="resnext101_64x4d", published={"top1_error": 0.204, "top5_error": 0.053},
    ),
}

if __name__ == "__main__":
    raise SystemExit(main(RECIPES))
