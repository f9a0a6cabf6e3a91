"""ResNet-20/56/110 on CIFAR-10 (He, Zhang, Ren & Sun, 2015, arXiv:1512.03385, Sec. 4.2).

Paper: 45k/5k train/validation split, batch 128, weight decay 1e-4, momentum 0.9, learning rate
0.1 divided by 10 at 32k and 48k iterations, stopping at 64k iterations (182 epochs of 45k
images); 4-pixel padding, random 32x32 crops and flips; weights initialised as in [13] (He et al.,
"Delving deep into rectifiers": ``kernel_initializer="he_normal"``). ResNet-110 warms up at 0.01 until the
training error is below 80 % (about 400 iterations). Published test errors: ResNet-20 8.75 %,
ResNet-56 6.97 %, ResNet-110 6.43 % (best of 5; mean 6.61 %).

    python recipes/resnet_cifar10.py --variant resnet56
    python recipes/resnet_cifar10.py --variant resnet110 --strategy mirrored
    python recipes/resnet_cifar10.py --variant plain56    # the degradation experiment (Fig. 6)
    python recipes/resnet_cifar10.py --smoke

The plain networks (``--variant plain20`` / ``plain56``, ``model_kwargs={"shortcut": None}``) are
the same layers with no shortcut (§4.2, Fig. 6): the paper plots plain-56 above plain-20 in
training *and* test error (the degradation problem), which ResNet-56 below ResNet-20 resolves; it
gives the plain networks' errors only in that figure, so ``published`` is empty for them.
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

HE_INIT = {"kernel_initializer": "he_normal"}
HE_2015_CIFAR = Recipe(
    model="resnet20",
    dataset="cifar10",
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
    model_kwargs=HE_INIT,
)

RECIPES = {
    "resnet20": HE_2015_CIFAR.replace(published={"top1_error": 0.0875}),
    "resnet56": HE_2015_CIFAR.replace(model="resnet56", published={"top1_error": 0.0697}),
    "resnet110": HE_2015_CIFAR.replace(
        model="resnet110",
        schedule_kwargs={"milestone_steps": [32000, 48000], "factor": 0.1, "warmup_steps": 400, "warmup_factor": 0.1},
        published={"top1_error": 0.0643, "top1_error_mean_of_5": 0.0661},
    ),
    "plain20": HE_2015_CIFAR.replace(model_kwargs={"shortcut": None, **HE_INIT}, output="runs/plain20-cifar10", published={}),
    "plain56": HE_2015_CIFAR.replace(
        model="resnet56", model_kwargs={"shortcut": None, **HE_INIT}, output="runs/plain56-cifar10", published={}
    ),
}

if __name__ == "__main__":
    raise SystemExit(main(RECIPES))
