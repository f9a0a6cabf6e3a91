"""MobileNet's width/resolution trade-off on the embedded shapes data, found by search.

Howard et al. (2017, arXiv:1704.04861, Sec. 4.2, Tables 6-7) shrink MobileNet with two knobs: the
width multiplier alpha (channels x alpha, cost ~ alpha^2) and the resolution multiplier rho (input
side, cost ~ rho^2); accuracy drops smoothly with both. This recipe searches both knobs (and the
learning rate) on ``shapes``; trials.csv lists accuracy against parameters and input side, and
hparams.png plots the objective against the most important of them.

    python recipes/tune_mobilenet.py            # 12 Bayesian trials of 8 epochs (about an hour, 2 cores)
    python recipes/tune_mobilenet.py --smoke    # 2 tiny trials: seconds
    kerascv-course train mobilenet --dataset shapes \\
        --hparams runs/tune-mobilenet-shapes/best_hparams.json
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="mobilenet",
    dataset="shapes",
    dataset_kwargs={"num_examples": {"train": 5000, "validation": 1000, "test": 1000}},
    epochs=8,
    batch_size=64,
    optimizer="rmsprop",  # the paper trains with RMSprop
    learning_rate=1e-3,
    momentum=0.9,
    weight_decay=4e-5,
    weight_decay_exclude=["conv_dw_"],  # "very little or no weight decay" on depthwise filters
    output="runs/tune-mobilenet-shapes",
    notes="Width (alpha) and resolution (input side) trade-off of MobileNet v1, searched.",
)

SPACE = {
    "alpha": {"values": [0.25, 0.5, 0.75, 1.0]},
    "image_size": {"values": [32, 48, 64]},
    "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
}

SEARCH = dict(tuner="bayesian", max_trials=12, patience=3)

# --smoke: the generic smoke run (embedded digits, 2 steps of 8 images, 1 epoch) and 2 trials.
SMOKE = dict(output="runs/tune-mobilenet-shapes-smoke")
SMOKE_SEARCH = dict(tuner="random", max_trials=2, patience=0)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE, smoke=SMOKE, search=SEARCH, space=SPACE, smoke_search=SMOKE_SEARCH))
