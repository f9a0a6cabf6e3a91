"""LeNet-5 on MNIST (LeCun, Bottou, Bengio & Haffner, 1998, Proc. IEEE 86(11)).

Paper (Sec. II-B, II-C, III-C): the 28x28 digits framed in 32x32 images (padding, not resizing);
C1, trainable subsampling S2, C3 with Table I's connection table (each C3 map reads a subset of
S2's maps), S4, C5, F6 and Euclidean RBF output units with fixed +1/-1 prototypes; the squashing
function 1.7159 tanh(2a/3); 20 passes through the 60,000 training images, updating after each
pattern; global learning rates 0.0005 for 2 passes, 0.0002 for 3, 0.0001 for 3, 0.00005 for 4,
then 0.00001. Published test error: 0.95 % without distortions (0.8 % with them).

Here: that network (``c3_connections="paper"``, ``output="rbf"``, ``subsampling="trainable"``,
``scaled_tanh=True``), MNIST padded to 32x32 (``resize_mode="pad"``), one image per update and
the paper's rates by epoch. What is not the paper: (1) its stochastic diagonal Levenberg-Marquardt
method scales each parameter's step by 1/(0.02 + its Hessian estimate); here the global rate drives
plain SGD without that scaling, so the steps are smaller; (2) its loss is the RBF penalty with a
MAP term (eq. 9), here cross-entropy on the softmax of the negative RBF distances (the same
"pull the right prototype, push the others" form); (3) the RBF prototypes are random +1/-1 codes,
not the paper's 7x12 bitmaps; (4) tensorflow-datasets' 54,000/6,000 train/validation split
instead of all 60,000 training images.

    python recipes/lenet5_mnist.py                  # needs MNIST prepared for tensorflow-datasets
    python recipes/lenet5_mnist.py --explain         # the resolved run, without training
    python recipes/lenet5_mnist.py --dataset digits  # the embedded digits, offline
    python recipes/lenet5_mnist.py --smoke           # seconds
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="lenet5",
    dataset="mnist",
    model_kwargs={"c3_connections": "paper", "output": "rbf", "subsampling": "trainable", "scaled_tanh": True},
    image_size=32,
    resize_mode="pad",
    epochs=20,
    batch_size=1,
    base_batch_size=1,
    optimizer="sgd",
    learning_rate=0.0005,
    momentum=0.0,
    weight_decay=0.0,
    schedule="step",
    schedule_kwargs={"milestones": [2, 5, 8, 12], "multipliers": [1.0, 0.4, 0.2, 0.1, 0.02]},
    augment="none",
    published={"top1_error": 0.0095, "top1_error_with_distortions": 0.008},
    paper="LeCun et al. 1998, Gradient-based learning applied to document recognition, Sec. III-C, Fig. 14",
    notes="Plain SGD instead of stochastic diagonal Levenberg-Marquardt; cross-entropy on the RBF "
          "outputs instead of eq. 9; random prototypes; 54k of the 60k training images.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
