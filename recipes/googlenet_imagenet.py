"""GoogLeNet (Inception v1) on ImageNet (Szegedy et al., 2014, arXiv:1409.4842).

Paper (Sec. 5-6): asynchronous SGD with momentum 0.9, a fixed schedule decreasing the learning rate
by 4 % every 8 epochs, Polyak averaging for the final model, 40 % dropout before the classifier,
two auxiliary classifiers (on 4a and 4d) whose losses are added with weight 0.3 during training
and which are discarded at inference, patches of 8-100 % of the image area with aspect ratios in
[3/4, 4/3] and photometric distortions. Published: top-5 error 10.07 % (one model, one crop,
Table 5); 6.67 % for 7 models x 144 crops.

The base learning rate, batch size, weight decay and length are not in the paper. All four come
from one file, BVLC Caffe's ``models/bvlc_googlenet/solver.prototxt``: base_lr 0.01, batch 32,
weight_decay 2e-4, gamma 0.96 every 320,000 iterations (8 epochs of 1.28M images at batch 32) and
max_iter 10,000,000 (250 epochs), so the rate anneals to 0.96^31 = 28 % of its start. Polyak
averaging is Keras's ``use_ema`` with momentum 0.9999 (TF-Slim's moving-average decay; the paper
gives none). Not the paper: synchronous SGD on one machine, the auxiliary heads' dropout (0.7) as
in the paper but no separate crop policy per model, and LRN as in the paper.

    python recipes/googlenet_imagenet.py --data-dir ~/tensorflow_datasets
    python recipes/googlenet_imagenet.py --explain           # the resolved run, without training
    python recipes/googlenet_imagenet.py --smoke             # trains with the auxiliary heads
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="googlenet",
    dataset="imagenet2012",
    model_kwargs={"dropout": 0.4, "aux_logits": True},
    aux_loss_weights=[0.3, 0.3],
    image_size=224,
    epochs=250,
    batch_size=32,
    base_batch_size=32,
    optimizer="sgd",
    learning_rate=0.01,
    momentum=0.9,
    weight_decay=2e-4,
    weight_decay_mode="l2",
    schedule="exponential",
    schedule_kwargs={"rate": 0.96, "every_epochs": 8},
    use_ema=True,
    optimizer_kwargs={"ema_momentum": 0.9999},
    augment="inception",
    published={"top5_error": 0.1007, "top5_error_7_models_144_crops": 0.0667},
    paper="Szegedy et al. 2014, Going deeper with convolutions, arXiv:1409.4842, Table 5 (10.07 %) and Table 4",
    notes="Unstated values (base rate, batch, weight decay, 250 epochs) from BVLC's solver.prototxt; "
          "synchronous instead of asynchronous SGD.",
)

# The auxiliary heads' 5x5/3 pooling needs 4a's map to be at least 5x5: 65 px is the smallest input.
SMOKE = {"image_size": 65}

if __name__ == "__main__":
    raise SystemExit(main(RECIPE, smoke=SMOKE))
