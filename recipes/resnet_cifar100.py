"""ResNet-56 on CIFAR-100, fine (100 classes) or coarse (20 superclasses) labels.

He et al.'s CIFAR-10 protocol (arXiv:1512.03385, Sec. 4.2: SGD 0.1, momentum 0.9, batch 128, L2
1e-4, divided by 10 at 32k and 48k iterations of 64k, pad-4 crops and flips) applied to CIFAR-100.
The ResNet paper reports no CIFAR-100 result, so there is no published figure to match; the
``coarse`` variant trains on the 20 superclasses (``dataset_kwargs={"label": "coarse"}``), the
labels CIFAR-100 ships beside the 100 fine classes (Krizhevsky 2009).

    python recipes/resnet_cifar100.py --variant coarse
    python recipes/resnet_cifar100.py --variant coarse --explain
    python recipes/resnet_cifar100.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

FINE = Recipe(
    model="resnet56",
    dataset="cifar100",
    image_size=32,
    epochs=182,
    batch_size=128,
    base_batch_size=128,
    optimizer="sgd",
    learning_rate=0.1,
    momentum=0.9,
    weight_decay=1e-4,
    weight_decay_mode="l2",
    schedule="step",
    schedule_kwargs={"milestone_steps": [32000, 48000], "factor": 0.1},
    augment="cifar",
    paper="He, Zhang, Ren & Sun 2015, arXiv:1512.03385, Sec. 4.2 (its CIFAR-10 protocol; no CIFAR-100 figure)",
    notes="Not a paper's experiment: He et al.'s CIFAR-10 settings on CIFAR-100.",
)

RECIPES = {
    "fine": FINE,
    "coarse": FINE.replace(dataset_kwargs={"label": "coarse"},
                           notes="Not a paper's experiment: the 20 coarse labels, He et al.'s CIFAR-10 settings."),
}

if __name__ == "__main__":
    raise SystemExit(main(RECIPES))
