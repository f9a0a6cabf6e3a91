"""BN-Inception (Inception v2) on ImageNet (Ioffe & Szegedy, 2015, arXiv:1502.03167).

Paper (Sec. 4.2): GoogLeNet's training made faster by batch normalisation ("BN-x30"): SGD with
momentum 0.9, batch 32 per replica, the learning rate raised 30 times to 0.045, dropout removed,
L2 weight decay reduced 5 times, the learning-rate decay made 6 times faster (GoogLeNet's 4 % every
8 epochs: 4 % every 1.33 epochs), no local response normalisation, reduced photometric distortions.
GoogLeNet's unstated values come from BVLC's Caffe model (weight decay 2e-4, hence 4e-5); the
length is not given (here 100 epochs). Published: top-1 error 25.2 %, top-5 error 7.82 % (one
network, one crop); 4.9 % top-5 for an ensemble of six networks with multi-crop testing.

    python recipes/bn_inception_imagenet.py --data-dir ~/tensorflow_datasets
    python recipes/bn_inception_imagenet.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="bn_inception",
    dataset="imagenet2012",
    paper="Ioffe & Szegedy 2015, Batch normalization, arXiv:1502.03167, Sec. 4.2.2-4.2.3",
    model_kwargs={"dropout": 0.0},
    image_size=224,
    epochs=100,
    batch_size=32,
    base_batch_size=32,
    optimizer="sgd",
    learning_rate=0.045,
    momentum=0.9,
    weight_decay=4e-5,
    weight_decay_mode="l2",
    schedule="exponential",
    schedule_kwargs={"rate": 0.96, "every_epochs": 8 / 6},
    augment="inception",
    published={"top1_error": 0.252, "top5_error": 0.0782, "top5_error_ensemble": 0.049},
    notes="Weight decay (4e-5) and epochs (100) are not in the paper; asynchronous SGD is synchronous here.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
