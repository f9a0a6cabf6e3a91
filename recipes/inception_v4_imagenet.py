"""Inception-v4 and Inception-ResNet-v1/v2 on ImageNet (Szegedy, Ioffe, Vanhoucke & Alemi, 2016,
arXiv:1602.07261).

Paper (Sec. 4): RMSProp with decay 0.9 and epsilon 1.0, learning rate 0.045 decayed every two
epochs by an exponential rate of 0.94, 20 replicas; evaluation with a running average of the
parameters (here ``use_ema``); dropout keeping 0.8 before the classifier; 299x299 inputs with Inception-v3's
preprocessing. The batch size and length are not given (here Inception-v3's 32 per replica and
100 epochs). Published (single model, single crop, Table 2): Inception-v4 top-1 error 20.0 %,
top-5 5.0 %; Inception-ResNet-v1 21.3 % / 5.5 %; Inception-ResNet-v2 19.9 % / 4.9 %. An ensemble
of three Inception-ResNet-v2 and one Inception-v4 reaches 3.08 % top-5 error on the test set.

    python recipes/inception_v4_imagenet.py --data-dir ~/tensorflow_datasets
    python recipes/inception_v4_imagenet.py --variant inception_resnet_v2 --strategy mirrored
    python recipes/inception_v4_imagenet.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

SZEGEDY_2016 = Recipe(
    model="inception_v4",
    dataset="imagenet2012",
    paper="Szegedy, Ioffe, Vanhoucke & Alemi 2016, Inception-v4, arXiv:1602.07261, Table 2",
    model_kwargs={"dropout": 0.2},
    image_size=299,
    epochs=100,
    batch_size=32,
    base_batch_size=32,
    optimizer="rmsprop",
    optimizer_kwargs={"rho": 0.9, "epsilon": 1.0, "ema_momentum": 0.9999},
    use_ema=True,
    learning_rate=0.045,
    momentum=0.9,
    schedule="exponential",
    schedule_kwargs={"rate": 0.94, "every_epochs": 2},
    augment="inception",
    notes="The running average is Keras's use_ema at 0.9999 (TF-Slim's decay; the paper gives none); "
          "batch size and epochs are not in the paper.",
)

RECIPES = {
    "inception_v4": SZEGEDY_2016.replace(published={"top1_error": 0.200, "top5_error": 0.050}),
    "inception_resnet_v2": SZEGEDY_2016.replace(
        model="inception_resnet_v2",
        published={"top1_error": 0.199, "top5_error": 0.049, "top5_error_ensemble_test": 0.0308},
    ),
    "inception_resnet_v1": SZEGEDY_2016.replace(
        model="inception_resnet_v1", published={"top1_error": 0.213, "top5_error": 0.055},
    ),
}

if __name__ == "__main__":
    raise SystemExit(main(RECIPES))
