"""U-Net on the embedded cracks (Ronneberger, Fischer & Brox, 2015, arXiv:1505.04597).

The course's crack-detection example: procedural concrete-like surfaces with thin branching cracks
and their pixel masks (``kerascv_course.data.load_dataset("cracks")``, 2 classes), so it runs
offline. The paper's U-Net shape at a CPU-sized width: 4 poolings, 16 filters at the top level
(doubling to 256 at the bottom), batch norm, transposed-convolution up-sampling; cross-entropy +
Dice loss; Adam with a cosine schedule; flips, quarter turns, small rotations, scale-crops and
brightness/contrast applied jointly to images and masks. The paper reports no crack figure:
docs/benchmarks/unet.md has this recipe's measured mean IoU and wall time.

    python recipes/unet_cracks.py                 # about 2-4 minutes on a 2-core CPU
    python recipes/unet_cracks.py --image-size 128 --epochs 20
    python recipes/unet_cracks.py --smoke         # seconds
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="unet",
    dataset="cracks",
    model_kwargs={"base_filters": 16, "depth": 4, "batch_norm": True},
    image_size=64,
    epochs=8,
    batch_size=16,
    optimizer="adam",
    learning_rate=3e-3,
    schedule="cosine",
    loss="ce_dice",
    augment="segmentation_rot",
    notes="Procedural cracks (1,000 training images); the paper has no crack benchmark.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
