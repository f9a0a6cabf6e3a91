"""ResNet-20/32/44/56/110 on CIFAR-10 (He, Zhang, Ren & Sun, 2015, arXiv:1512.03385, Sec. 4.2).

Paper: batch 128, weight decay 1e-4 (an L2 penalty), momentum 0.9, learning rate 0.1 divided by 10
at 32k and 48k iterations, stopping at 64k iterations; 4-pixel padding, random 32x32 crops and
flips; option A shortcuts (zero-padding identity); weights initialised as in [13] (He et al.,
"Delving deep into rectifiers": ``kernel_initializer="he_normal"``). ResNet-110 warms up at 0.01 until the training
error is below 80 % (about 400 iterations). Two protocols: the analysis trains on 45k images and
validates on 5k; the published test errors (Table 6) come from training on all 50k images
("we train on the 50k training set"). Published test errors: ResNet-20 8.75 %, ResNet-32 7.51 %,
ResNet-44 7.17 %, ResNet-56 6.97 %, ResNet-110 6.43 % (best of 5 runs; mean 6.61 ± 0.16 %).

The variants train on the 45k/5k split (182 epochs of 45k = 64k iterations). The ``*_50k``
variants follow the paper's final protocol: ``dataset_kwargs={"full_train": True}`` trains on all
50,000 images without a validation split (164 epochs of 50k ≈ 64k iterations).

    python recipes/resnet_cifar10.py --variant resnet56
    python recipes/resnet_cifar10.py --variant resnet110_50k --strategy mirrored
    python recipes/resnet_cifar10.py --variant plain56    # the degradation experiment (Fig. 6)
    python recipes/resnet_cifar10.py --variant resnet32 --explain   # the resolved run
    python recipes/resnet_cifar10.py --smoke

The plain networks (``--variant plain20`` / ``plain56``, ``model_kwargs={"shortcut": None}``) are
the same layers with no shortcut (§4.2, Fig. 6): the paper plots plain-56 above plain-20 in
training *and* test error (the degradation problem), which ResNet-56 below ResNet-20 resolves; it
gives the plain networks' errors only in that figure, so ``published`` is empty for them.
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

PAPER = "He, Zhang, Ren & Sun 2015, Deep residual learning for image recognition, arXiv:1512.03385, Table 6"

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
    paper=PAPER,
    model_kwargs=HE_INIT,
)

WARMUP_110 = {"milestone_steps": [32000, 48000], "factor": 0.1, "warmup_steps": 400, "warmup_factor": 0.1}
PUBLISHED = {
    "resnet20": {"top1_error": 0.0875},
    "resnet32": {"top1_error": 0.0751},
    "resnet44": {"top1_error": 0.0717},
    "resnet56": {"top1_error": 0.0697},
    "resnet110": {"top1_error": 0.0643, "top1_error_mean_of_5": 0.0661},
}

RECIPES = {}
for _name, _published in PUBLISHED.items():
    _recipe = HE_2015_CIFAR.replace(
        model=_name, published=_published,
        schedule_kwargs=WARMUP_110 if _name == "resnet110" else HE_2015_CIFAR.schedule_kwargs,
    )
    RECIPES[_name] = _recipe.replace(
        notes="45k/5k split (the paper's analysis protocol); the published figure trained on all 50k.")
for _name in PUBLISHED:
    RECIPES[f"{_name}_50k"] = RECIPES[_name].replace(
        dataset_kwargs={"full_train": True}, validation_split=None, epochs=164,
        notes="The paper's final protocol: all 50k training images, no validation split.")
RECIPES["plain20"] = RECIPES["resnet20"].replace(
    model_kwargs={"shortcut": None, **HE_INIT}, output="runs/plain20-cifar10", published={},
    notes="Plain network (no shortcuts), Fig. 6; the paper gives its error only in the figure.")
RECIPES["plain56"] = RECIPES["resnet56"].replace(
    model_kwargs={"shortcut": None, **HE_INIT}, output="runs/plain56-cifar10", published={},
    notes="Plain network (no shortcuts), Fig. 6; the paper gives its error only in the figure.")

if __name__ == "__main__":
    raise SystemExit(main(RECIPES))
