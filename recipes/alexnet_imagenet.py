"""AlexNet on ImageNet (Krizhevsky, Sutskever & Hinton, 2012, NeurIPS).

Paper (Sec. 4-5): SGD, batch 128, momentum 0.9, weight decay 0.0005, learning rate 0.01 divided by
10 when the validation error stopped improving (three times in all, about 90 epochs), dropout 0.5
in the first two fully connected layers; random 224x224 patches (227 in this model) of 256x256
images, horizontal reflections and PCA colour noise; test: 10 patches averaged. Published: top-1
error 40.7 %, top-5 error 18.2 % (one network, ILSVRC-2012 validation). The network is the paper's
two-tower one (Fig. 2: conv2, conv4, conv5 see only their own GPU's half of the maps): ``groups=2``
(60,965,224 parameters at 1000 classes; ``build_alexnet()``'s default is one tower).
Initialisation (Sec. 5): weights from a zero-mean Gaussian of standard deviation 0.01, biases 1
in conv2, conv4, conv5 and the two hidden fully connected layers, 0 elsewhere (``paper_biases=True``).

    python recipes/alexnet_imagenet.py --data-dir ~/tensorflow_datasets   # ImageNet, by hand
    kerascv-course evaluate runs/alexnet-imagenet2012 --tta 10crop       # the paper's test
    python recipes/alexnet_imagenet.py --explain          # the resolved run, without training
    python recipes/alexnet_imagenet.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="alexnet",
    dataset="imagenet2012",
    model_kwargs={
        "dropout": 0.5,
        "groups": 2,
        "kernel_initializer": {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.01}},
        "paper_biases": True,
    },
    image_size=227,
    epochs=90,
    batch_size=128,
    base_batch_size=128,
    optimizer="sgd",
    learning_rate=0.01,
    momentum=0.9,
    weight_decay=5e-4,
    weight_decay_mode="l2",
    schedule="plateau",
    schedule_kwargs={"monitor": "val_accuracy", "factor": 0.1, "patience": 5, "max_reductions": 3},
    augment="alexnet",
    published={"top1_error": 0.407, "top5_error": 0.182},
    paper="Krizhevsky, Sutskever & Hinton 2012, ImageNet classification with deep convolutional neural "
          "networks, NeurIPS, Table 1 (one CNN)",
    notes="Plateau patience (5 epochs) is ours: the paper reduced the rate by hand.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
