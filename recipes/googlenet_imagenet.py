"""GoogLeNet (Inception v1) on ImageNet (Szegedy et al., 2014, arXiv:1409.4842).

Paper (Sec. 6): asynchronous SGD with momentum 0.9, a fixed schedule decreasing the learning rate
by 4 % every 8 epochs, Polyak averaging for the final model, 40 % dropout before the classifier,
patches of 8-100 % of the image area with aspect ratios in [3/4, 4/3] and photometric distortions.
The base learning rate, batch size, weight decay and length are not given; here they are those
of the BVLC Caffe reproduction (0.01, 32, 2e-4, 60 epochs). Published: top-5 error 10.07 % (one
model, one crop, Table 5); 6.67 % for 7 models x 144 crops.

    python recipes/googlenet_imagenet.py --data-dir ~/tensorflow_datasets
    python recipes/googlenet_imagenet.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="googlenet",
    dataset="imagenet2012",
    model_kwargs={"dropout": 0.4},
    image_size=224,
    epochs=60,
    batch_size=32,
    base_batch_size=32,
    optimizer="sgd",
    learning_rate=0.01,
    momentum=0.9,
    weight_decay=2e-4,
    weight_decay_mode="l2",
    schedule="exponential",
    schedule_kwargs={"rate": 0.96, "every_epochs": 8},
    augment="inception",
    published={"top5_error": 0.1007, "top5_error_7_models_144_crops": 0.0667},
    notes="No auxiliary classifiers and no Polyak averaging; unstated values from BVLC's Caffe model.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
