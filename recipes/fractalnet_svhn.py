"""FractalNet (20 layers) on SVHN, train + extra (Larsson, Maire & Shakhnarovich, 2017, arXiv:1605.07648).

SVHN as the course describes it: the 73,257 ``train`` and 531,131 ``extra`` digits (about 600,000
images; ``dataset_kwargs={"extra": True}``), tested on the 26,032 ``test`` digits. Paper (Sec. 4):
the CIFAR network (B = 5 blocks of C = 3 columns, dropout 0/10/20/30/40 % by block, local drop-path
15 % mixed 50/50 with global), SGD with momentum 0.9, batch 100, learning rate 0.02 divided by 10
each time the remaining epochs halve, 20 epochs on SVHN, no augmentation. Published test error
(Table 1, FractalNet 20 layers + drop-path + dropout): 1.87 %.

Not the paper: tensorflow-datasets' validation split (10 % of ``train``) is held out, so training
sees 65,931 + 531,131 = 597,062 images; the paper states no weight decay, and none is used.

    python recipes/fractalnet_svhn.py --data-dir ~/tensorflow_datasets
    python recipes/fractalnet_svhn.py --explain
    python recipes/fractalnet_svhn.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="fractalnet",
    dataset="svhn_cropped",
    dataset_kwargs={"extra": True},
    model_kwargs={"columns": 3, "local_drop_path": 0.15, "global_drop_path": 0.5},
    image_size=32,
    epochs=20,
    batch_size=100,
    base_batch_size=100,
    optimizer="sgd",
    learning_rate=0.02,
    momentum=0.9,
    schedule="step",
    schedule_kwargs={"milestones": [10, 15, 17.5, 18.75], "factor": 0.1},
    augment="none",
    published={"top1_error": 0.0187},
    paper="Larsson, Maire & Shakhnarovich 2017, FractalNet, arXiv:1605.07648, Table 1 (SVHN)",
    notes="Train + extra less tfds' 10 % validation slice of train; no weight decay (none stated).",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
