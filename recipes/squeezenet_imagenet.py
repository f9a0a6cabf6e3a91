"""SqueezeNet 1.0 on ImageNet (Iandola et al., 2016, arXiv:1602.07360).

The paper refers to its released Caffe solver (SqueezeNet v1.0 ``solver.prototxt``): SGD, batch
512 (32 x 16 accumulated), momentum 0.9, weight decay 2e-4, learning rate 0.04 decayed linearly
("poly", power 1) to 0 over 170K iterations (68 epochs), dropout 0.5 after fire9; Caffe's random
227x227 crops of 256x256 images and mirrors. Published: top-1 error 42.5 %, top-5 error 19.7 %
(57.5 % / 80.3 % accuracy, Table 2).

    python recipes/squeezenet_imagenet.py --data-dir ~/tensorflow_datasets
    python recipes/squeezenet_imagenet.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="squeezenet1_0",
    dataset="imagenet2012",
    paper="Iandola et al. 2016, SqueezeNet, arXiv:1602.07360, Table 2",
    model_kwargs={"dropout": 0.5},
    image_size=227,
    epochs=68,
    batch_size=512,
    base_batch_size=512,
    optimizer="sgd",
    learning_rate=0.04,
    momentum=0.9,
    weight_decay=2e-4,
    weight_decay_mode="l2",
    schedule="poly",
    schedule_kwargs={"power": 1.0, "end": 0.0},
    augment="alexnet",
    published={"top1_error": 0.425, "top5_error": 0.197},
    notes="The alexnet policy adds PCA colour noise, which Caffe's crop-and-mirror did not.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
