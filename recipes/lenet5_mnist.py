"""LeNet-5 on MNIST (LeCun, Bottou, Bengio & Haffner, 1998, Proc. IEEE 86(11)).

Paper (Sec. II-C, III-C): 32x32 inputs (28x28 digits framed to 32), 60,000 training images,
20 passes; the learning rate of its stochastic diagonal Levenberg-Marquardt method is 0.0005 for
2 passes, 0.0002 for 3, 0.0001 for 3, 0.00005 for 4, then 0.00001. Published test error: 0.95 %
without distortions (0.8 % with them: ``--augment lenet``).

Here: plain SGD with momentum (the course's optimizer; second-order scaling is not reproduced) at
a practical base rate, with the paper's schedule *shape* — the same boundaries (epochs 2, 5, 8, 12)
and the same ratios (1, 0.4, 0.2, 0.1, 0.02). MNIST is resized from 28 to 32 by the pipeline.

    python recipes/lenet5_mnist.py                  # downloads MNIST through tensorflow-datasets
    python recipes/lenet5_mnist.py --dataset digits  # the embedded digits, offline
    python recipes/lenet5_mnist.py --smoke           # seconds
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="lenet5",
    dataset="mnist",
    image_size=32,
    epochs=20,
    batch_size=32,
    base_batch_size=32,
    optimizer="sgd",
    learning_rate=0.01,
    momentum=0.9,
    weight_decay=0.0,
    schedule="step",
    schedule_kwargs={"milestones": [2, 5, 8, 12], "multipliers": [1.0, 0.4, 0.2, 0.1, 0.02]},
    augment="none",
    published={"top1_error": 0.0095, "top1_error_with_distortions": 0.008},
    notes="SGD+momentum instead of the paper's diagonal Levenberg-Marquardt; its schedule's shape.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
