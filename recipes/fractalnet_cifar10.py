"""FractalNet (20 layers) on CIFAR-10 (Larsson, Maire & Shakhnarovich, 2017, arXiv:1605.07648).

Paper (Sec. 4.1/4.2): B = 5 blocks of C = 3 columns, filters 64/128/256/512/512, dropout
0/10/20/30/40 % by block, local drop-path 15 % mixed 50/50 with global drop-path, Xavier
initialisation; SGD with momentum 0.9, batch 100, learning rate 0.02 divided by 10 each time the
remaining epochs halve (epochs 200, 300, 350, 375 of 400); "+": translations and flips. Published
test error (Table 1, "FractalNet (20 layers) + drop-path + dropout"): 4.60 % on C10+ (7.33 % without
augmentation; 4.68 % for its deepest column alone).

    python recipes/fractalnet_cifar10.py
    python recipes/fractalnet_cifar10.py --model-kwargs '{"global_drop_path": 0.0}'
    python recipes/fractalnet_cifar10.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="fractalnet",
    dataset="cifar10",
    paper="Larsson, Maire & Shakhnarovich 2017, FractalNet, arXiv:1605.07648, Table 1 (C10+)",
    model_kwargs={"columns": 3, "local_drop_path": 0.15, "global_drop_path": 0.5},
    image_size=32,
    epochs=400,
    batch_size=100,
    base_batch_size=100,
    optimizer="sgd",
    learning_rate=0.02,
    momentum=0.9,
    schedule="step",
    schedule_kwargs={"milestones": [200, 300, 350, 375], "factor": 0.1},
    augment="cifar",
    published={"top1_error": 0.0460, "top1_error_no_augmentation": 0.0733},
    notes="The paper states no weight decay; none is used here.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
