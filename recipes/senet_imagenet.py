"""SE-ResNet, SE-ResNeXt and SENet-154 on ImageNet (Hu, Shen, Albanie, Sun & Wu, 2018,
arXiv:1709.01507); SE-ResNet-50 has its own script, se_resnet50_imagenet.py.

Paper (Sec. 6.1): SGD with momentum 0.9, batch 1024, learning rate 0.6 divided by 10 every 30
epochs, 100 epochs from scratch, reduction ratio 16; random-size cropping to 224x224 and flips; the
ResNet baselines' weight decay 1e-4. Published (single 224 crop, Table 2): SE-ResNet-101 top-1
error 22.38 % / top-5 6.07 %, SE-ResNet-152 21.57 % / 5.73 %, SE-ResNeXt-50 21.10 % / 5.49 %,
SE-ResNeXt-101 20.70 % / 5.01 %; SENet-154 18.68 % / 4.47 % (Table 8), and the ILSVRC 2017
winning entry, an ensemble around SENet-154, 2.251 % top-5 error on the test set.

    python recipes/senet_imagenet.py --data-dir ~/tensorflow_datasets --strategy mirrored
    python recipes/senet_imagenet.py --variant senet154 --batch-size 256   # lr scales to 0.15
    python recipes/senet_imagenet.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

HU_2018 = Recipe(
    model="se_resnext50_32x4d",
    dataset="imagenet2012",
    paper="Hu, Shen, Albanie, Sun & Wu 2018, Squeeze-and-excitation networks, arXiv:1709.01507, Tables 2 and 8",
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
)

RECIPES = {
    "se_resnext50_32x4d": HU_2018.replace(published={"top1_error": 0.2110, "top5_error": 0.0549}),
    "se_resnext101_32x4d": HU_2018.replace(
        model="se_resnext101_32x4d", published={"top1_error": 0.2070, "top5_error": 0.0501},
    ),
    "se_resnet101": HU_2018.replace(
        model="se_resnet101", published={"top1_error": 0.2238, "top5_error": 0.0607},
    ),
    "se_resnet152": HU_2018.replace(
        model="se_resnet152", published={"top1_error": 0.2157, "top5_error": 0.0573},
    ),
    "senet154": HU_2018.replace(
        model="senet154",
        published={"top1_error": 0.1868, "top5_error": 0.0447, "top5_error_ilsvrc2017_test": 0.02251},
        notes="The winning entry also used label smoothing, larger crops and an ensemble.",
    ),
    "se_resnet18": HU_2018.replace(model="se_resnet18"),
    "se_resnet34": HU_2018.replace(model="se_resnet34"),
}

if __name__ == "__main__":
    raise SystemExit(main(RECIPES))
