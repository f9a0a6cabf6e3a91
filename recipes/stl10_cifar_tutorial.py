"""TensorFlow 1's CIFAR-10 tutorial network on STL-10 (96x96): a stronger baseline for the challenge.

Not the course's practical (PyTorch's 60 Minute Blitz network: ``recipes/cifar10_blitz.py``, its
STL-10 challenge: ``recipes/stl10_blitz.py``). The network (``tf_cifar10_tutorial``, registered by
:mod:`kerascv_course.models.course`) is TensorFlow 1's ``cifar10.py`` tutorial CNN —
conv 5x5x64, max-pool, LRN, conv 5x5x64, LRN, max-pool, dense 384, dense 192 — at STL-10's full
96x96 resolution. The tutorial's recipe: SGD at 0.1, batch 128, L2 weight
decay 0.004 on the dense layers only, random crops and flips; its learning rate is cut by 10 only
after 350 epochs, which a 5,000-image training set never reaches, so here it is cut at epochs 60
and 90 of 100. STL-10 has 500 labelled training images per class (10 % held out for validation
here) and 800 test images per class. Its 100,000 unlabelled images (split ``unlabelled``) are
used optionally, by self-training with pseudo-labels (Lee 2013; ``Recipe.pseudo_label``): train
once on the labelled images, then run again with the first run as the teacher — its predictions
with at least 95 % confidence join the labelled images. The tutorial reported about 86 % accuracy
on CIFAR-10; there is no published STL-10 figure for this network.

    python recipes/stl10_cifar_tutorial.py                   # downloads STL-10 (2.6 GB)
    python recipes/stl10_cifar_tutorial.py --output runs/stl10-self-trained \\
        --pseudo-label '{"teacher": "runs/tf_cifar10_tutorial-stl10", "threshold": 0.95}'
    python recipes/stl10_cifar_tutorial.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="tf_cifar10_tutorial",
    dataset="stl10",
    image_size=96,
    epochs=100,
    batch_size=128,
    base_batch_size=128,
    optimizer="sgd",
    learning_rate=0.1,
    momentum=0.0,
    weight_decay=0.004,
    weight_decay_mode="l2",
    weight_decay_exclude=["conv"],
    schedule="step",
    schedule_kwargs={"milestones": [60, 90], "factor": 0.1},
    augment="cifar",
    augment_kwargs={"padding": 12},
    published={},
    notes="CIFAR-10 tutorial settings (SGD 0.1, wd 0.004 on dense layers); 96x96 STL-10 input.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
