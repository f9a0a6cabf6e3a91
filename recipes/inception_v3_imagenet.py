"""Inception v3 on ImageNet (Szegedy, Vanhoucke, Ioffe, Shlens & Wojna, 2015, arXiv:1512.00567).

Paper (Sec. 7-8): RMSProp with decay 0.9 and epsilon 1.0, learning rate 0.045 decayed every two
epochs by an exponential rate of 0.94, gradient clipping at 2.0, batch 32 on each of 50 replicas,
100 epochs; label smoothing 0.1; 299x299 inputs; evaluation with a running average of the
parameters (here Keras's ``use_ema``, momentum 0.9999, TF-Slim's decay); an auxiliary classifier
with batch normalisation on the 17x17 grid ("BN-auxiliary"). Published (Table 3, single crop):
top-1 error 21.2 %, top-5 error 5.6 %.

Not the paper: the package's Inception v3 is keras.applications' network, which has no auxiliary
classifier, so none is trained; weight decay is not stated in the paper (TF-Slim's 4e-5 here);
the batch is 32 on one replica (the learning rate is the paper's per-replica rate).

    python recipes/inception_v3_imagenet.py --data-dir ~/tensorflow_datasets --strategy mirrored
    python recipes/inception_v3_imagenet.py --explain
    python recipes/inception_v3_imagenet.py --smoke
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="inception_v3",
    dataset="imagenet2012",
    image_size=299,
    epochs=100,
    batch_size=32,
    base_batch_size=32,
    optimizer="rmsprop",
    optimizer_kwargs={"rho": 0.9, "epsilon": 1.0, "ema_momentum": 0.9999},
    learning_rate=0.045,
    momentum=0.9,
    weight_decay=4e-5,
    weight_decay_mode="l2",
    schedule="exponential",
    schedule_kwargs={"rate": 0.94, "every_epochs": 2},
    clipnorm=2.0,
    label_smoothing=0.1,
    use_ema=True,
    augment="inception",
    published={"top1_error": 0.212, "top5_error": 0.056},
    paper="Szegedy et al. 2015, Rethinking the Inception architecture, arXiv:1512.00567, Table 3",
    notes="No auxiliary classifier (keras.applications' network); weight decay 4e-5 from TF-Slim.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
