"""VGG-16 (configuration D) on ImageNet (Simonyan & Zisserman, 2014, arXiv:1409.1556).

Paper (Sec. 3.1): SGD, batch 256, momentum 0.9, weight decay 5e-4, dropout 0.5 in the first two
fully connected layers, learning rate 0.01 divided by 10 when the validation accuracy stopped
improving (three times; 370K iterations, 74 epochs); scale jittering (shorter side S in
[256, 512]), random 224x224 crops, flips and RGB colour shift. Published: top-1 error 24.8 %,
top-5 error 7.5 % (multi-scale evaluation, Table 4).

Initialisation (Sec. 3.1): the paper trains configuration A (``vgg11``) from weights drawn from a
zero-mean normal of variance 10^-2 (``{"class_name": "RandomNormal", "config": {"stddev": 0.1}}``),
biases 0, then starts D's first four convolutions and three fully connected layers from A's
trained ones. Without that pre-training, a 16-layer network at that scale explodes (each 3x3x512
layer multiplies the signal's variance by about 4608 x 10^-2 / 2 = 23), so for D from scratch the
recipe takes what the paper says works there: "it is possible to initialise the weights without
pre-training by using the random initialisation procedure of Glorot & Bengio (2010)" —
``kernel_initializer="glorot_uniform"``.

    python recipes/vgg16_imagenet.py --data-dir ~/tensorflow_datasets
    kerascv-course evaluate runs/vgg16-imagenet2012 --tta multiscale
    python recipes/vgg16_imagenet.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="vgg16",
    dataset="imagenet2012",
    paper="Simonyan & Zisserman 2014, Very deep convolutional networks, arXiv:1409.1556, Table 4 (multi-scale test)",
    model_kwargs={"dropout": 0.5, "kernel_initializer": "glorot_uniform"},
    image_size=224,
    epochs=74,
    batch_size=256,
    base_batch_size=256,
    optimizer="sgd",
    learning_rate=0.01,
    momentum=0.9,
    weight_decay=5e-4,
    weight_decay_mode="l2",
    schedule="plateau",
    schedule_kwargs={"monitor": "val_accuracy", "factor": 0.1, "patience": 4, "max_reductions": 3},
    augment="vgg",
    published={"top1_error": 0.248, "top5_error": 0.075},
    notes="The paper initialised D from the trained configuration A; here it starts from scratch (Glorot init).",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
