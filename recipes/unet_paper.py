"""U-Net trained as the paper trained it (Ronneberger, Fischer & Brox, 2015, arXiv:1505.04597).

The paper's training protocol (Section 3, 3.1), on the embedded cracks so it runs offline:

* loss: pixel-wise softmax cross-entropy weighted by the border weight map
  ``w = w_c + w0 exp(-(d1 + d2)^2 / (2 sigma^2))``, w0 = 10, sigma = 5 px, ``w_c`` balancing the
  class frequencies (``loss="weighted_ce"``, :mod:`kerascv_course.training.weight_map`);
* augmentation: elastic deformations, random displacements on a coarse 3x3 grid with 10 px
  standard deviation, bicubic, plus shifts, rotations and grey values (``augment="unet_paper"``);
* dropout at the end of the contracting path (``model_kwargs["dropout"]``; the paper gives no
  rate, 0.5 here);
* SGD with momentum 0.99 and batch 1 ("we favor large input tiles over a large batch size ...
  a high momentum (0.99) such that a large number of the previously seen training samples
  determine the update");
* prediction: overlap-tile with mirrored borders, for images of any size
  (:func:`kerascv_course.evaluation.tiling.predict_tiled`).

Where it departs (docs/recipes.md): the network is 16 -> 256 filters wide instead of 64 -> 1024
and uses padded convolutions (the cracks are 64x64; the unpadded network needs 188x188 at least),
Keras's Glorot initialisation instead of the paper's Gaussian sqrt(2/N), and a constant learning
rate of 1e-3 (the paper states none). The paper has no crack figure (its ISBI 2012 EM result:
warping error 0.000353, Rand error 0.0382).

    python recipes/unet_paper.py                 # 10 epochs of 1,000 steps of batch 1 (~2 min each, 2-core CPU)
    python recipes/unet_paper.py --smoke         # seconds
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="unet",
    dataset="cracks",
    model_kwargs={"base_filters": 16, "depth": 4, "dropout": 0.5, "padding": "same"},
    image_size=64,
    epochs=10,
    batch_size=1,
    optimizer="sgd",
    learning_rate=1e-3,
    momentum=0.99,
    schedule="constant",
    loss="weighted_ce",
    augment="unet_paper",
    notes="The U-Net paper's training (weighted CE with border weights, elastic deformations, "
          "dropout, SGD momentum 0.99, batch 1) on the procedural cracks; the paper has no crack figure.",
)

#: --smoke keeps the paper's batch of 1 (2 steps).
SMOKE = {"batch_size": 1}

if __name__ == "__main__":
    raise SystemExit(main(RECIPE, smoke=SMOKE))
