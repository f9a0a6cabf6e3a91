"""MobileNet (1.0, 224) on ImageNet (Howard et al., 2017, arXiv:1704.04861).

Paper (Sec. 3.2): RMSprop with asynchronous gradient descent as for Inception-v3, less
regularisation and augmentation than large models (no side heads, no label smoothing, smaller
crops limited), "very little or no weight decay on the depthwise filters". The numbers are
Inception-v3's (Szegedy et al. 2015, arXiv:1512.00567): RMSprop decay 0.9, epsilon 1.0, learning
rate 0.045 decayed by 0.94 every 2 epochs, batch 32 per replica; weight decay 4e-5 (TF-Slim's
MobileNet, not on depthwise filters). Published: top-1 error 29.4 % (70.6 % accuracy, Table 8).

    python recipes/mobilenet_imagenet.py --data-dir ~/tensorflow_datasets
    python recipes/mobilenet_imagenet.py --model-kwargs '{"alpha": 0.5}'   # 0.5 MobileNet-224
    python recipes/mobilenet_imagenet.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="mobilenet",
    dataset="imagenet2012",
    paper="Howard et al. 2017, MobileNets, arXiv:1704.04861, Table 8",
    model_kwargs={"alpha": 1.0},
    image_size=224,
    epochs=100,
    batch_size=32,
    base_batch_size=32,
    optimizer="rmsprop",
    optimizer_kwargs={"rho": 0.9, "epsilon": 1.0},
    learning_rate=0.045,
    momentum=0.9,
    weight_decay=4e-5,
    weight_decay_mode="l2",
    weight_decay_exclude=["conv_dw_"],
    schedule="exponential",
    schedule_kwargs={"rate": 0.94, "every_epochs": 2},
    augment="inception",
    augment_kwargs={"scale": (0.35, 1.0)},
    published={"top1_error": 0.294},
    notes="Epochs (100) and the crop area floor (35 %) are not in the paper.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
