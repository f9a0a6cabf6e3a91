"""The course's practical: the CIFAR-10 classifier of PyTorch's "Deep Learning with PyTorch: A 60
Minute Blitz", with the tutorial's own settings.

The network (``blitz``, :mod:`kerascv_course.models.blitz`): conv 5x5 -> 6, max-pool 2, conv 5x5
-> 16, max-pool 2, fully connected 120, 84, 10, ReLU; 62,006 parameters. The tutorial's training:
cross-entropy, SGD with learning rate 0.001 and momentum 0.9 (constant), batches of 4 images, 2
epochs, no augmentation. It reports about 54 % test accuracy on CIFAR-10's 10,000 test images.

Inputs are normalised as the tutorial's ``transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5,
0.5))`` does, through the dataset option ``normalization`` (instead of CIFAR-10's measured
statistics, which the package uses by default), and the network trains on all 50,000 training
images as the tutorial's does (``full_train``: no validation fold).

    python recipes/cifar10_blitz.py              # CIFAR-10 prepared for tensorflow-datasets (nothing downloads)
    python recipes/cifar10_blitz.py --smoke      # seconds, offline (embedded digits)

The challenge that follows, on STL-10: ``recipes/stl10_blitz.py``.
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="blitz",
    dataset="cifar10",
    dataset_kwargs={"normalization": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},  # the tutorial's
                    "full_train": True},
    validation_split=None,
    image_size=32,
    epochs=2,
    batch_size=4,
    base_batch_size=4,
    optimizer="sgd",
    learning_rate=0.001,
    momentum=0.9,
    weight_decay=0.0,
    schedule="constant",
    loss="crossentropy",
    augment="none",
    published={"top1_error": 0.46},
    notes="PyTorch 60 Minute Blitz: SGD 0.001, momentum 0.9, batch 4, 2 epochs; about 54 % accuracy.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
