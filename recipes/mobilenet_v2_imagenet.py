"""MobileNetV2 (1.0, 224) on ImageNet (Sandler, Howard, Zhu, Zhmoginov & Chen, 2018, arXiv:1801.04381).

Paper (Sec. 6.1): TensorFlow's RMSPropOptimizer with decay and momentum 0.9, batch normalisation
after every layer, weight decay 4e-5, initial learning rate 0.045 decayed by 0.98 per epoch, 16
asynchronous GPU workers, batch 96. Published (Table 4): top-1 error 28.0 % (72.0 % accuracy).

Not the paper: synchronous training; the length is not given (here 300 epochs, when the rate has
fallen to 0.98^300 = 0.2 % of its start); epsilon 1.0 and the crop floor are TF-Slim's/ours.

    python recipes/mobilenet_v2_imagenet.py --data-dir ~/tensorflow_datasets --strategy mirrored
    python recipes/mobilenet_v2_imagenet.py --explain
    python recipes/mobilenet_v2_imagenet.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="mobilenet_v2",
    dataset="imagenet2012",
    model_kwargs={"alpha": 1.0},
    image_size=224,
    epochs=300,
    batch_size=96,
    base_batch_size=96,
    optimizer="rmsprop",
    optimizer_kwargs={"rho": 0.9, "epsilon": 1.0},
    learning_rate=0.045,
    momentum=0.9,
    weight_decay=4e-5,
    weight_decay_mode="l2",
    schedule="exponential",
    schedule_kwargs={"rate": 0.98, "every_epochs": 1},
    augment="inception",
    augment_kwargs={"scale": (0.35, 1.0)},
    published={"top1_error": 0.280},
    paper="Sandler et al. 2018, MobileNetV2, arXiv:1801.04381, Sec. 6.1 and Table 4",
    notes="Epochs (300), RMSprop epsilon 1.0 and the crop area floor (35 %) are not in the paper.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
