"""Xception on ImageNet (Chollet, 2017, arXiv:1610.02357).

Paper (Sec. 4.3): SGD, momentum 0.9, learning rate 0.045 decayed by 0.94 every 2 epochs, weight
decay 1e-5, dropout 0.5 before the classifier, no auxiliary tower, Inception-v3's preprocessing
at 299x299, Polyak averaging at inference (here ``use_ema``); 60 GPUs, synchronous. The batch size and length are not
given (here 256 images and 100 epochs). Published: top-1 error 21.0 %, top-5 error 5.5 %
(79.0 % / 94.5 % accuracy, single crop, Table 1).

    python recipes/xception_imagenet.py --data-dir ~/tensorflow_datasets --strategy mirrored
    python recipes/xception_imagenet.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="xception",
    dataset="imagenet2012",
    model_kwargs={"dropout": 0.5},
    image_size=299,
    epochs=100,
    batch_size=256,
    base_batch_size=256,
    optimizer="sgd",
    learning_rate=0.045,
    momentum=0.9,
    weight_decay=1e-5,
    weight_decay_mode="l2",
    schedule="exponential",
    schedule_kwargs={"rate": 0.94, "every_epochs": 2},
    use_ema=True,
    optimizer_kwargs={"ema_momentum": 0.9999},
    augment="inception",
    published={"top1_error": 0.210, "top5_error": 0.055},
    paper="Chollet 2017, Xception, arXiv:1610.02357, Table 1 (single crop)",
    notes="Polyak averaging is Keras's use_ema at momentum 0.9999 (the paper gives no decay); "
          "batch size and epochs are not in the paper.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
