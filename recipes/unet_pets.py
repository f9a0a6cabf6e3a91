"""U-Net on Oxford-IIIT Pet trimaps (Ronneberger et al., 2015; Parkhi et al., 2012).

Three classes per pixel — pet, background, border (the trimap's 1/2/3 minus one) — on the
tensorflow-datasets ``oxford_iiit_pet`` images resized to 128x128 with their masks (nearest
neighbour): ``load_dataset("oxford_iiit_pet_seg")``. The model is the paper's U-Net (4 poolings,
2x2 up-convolutions) at half width (32 -> 512 filters) with batch norm; cross-entropy + Dice loss;
Adam with a cosine schedule; horizontal flips, small rotations and scale-crops applied to image and
mask together, brightness/contrast on the image. Train: the first 90 % of tfds ``train``;
validation: the last 10 %; test: tfds ``test``. The U-Net paper has no pets figure.

    python recipes/unet_pets.py --data-dir ~/tensorflow_datasets   # needs the prepared tfds data
    python recipes/unet_pets.py --model-kwargs '{"backbone": "resnet34"}'  # a ResNet-34 encoder
    python recipes/unet_pets.py --smoke                            # seconds, on the embedded cracks
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

RECIPE = Recipe(
    model="unet",
    dataset="oxford_iiit_pet_seg",
    model_kwargs={"base_filters": 32, "depth": 4, "batch_norm": True},
    image_size=128,
    epochs=30,
    batch_size=32,
    optimizer="adam",
    learning_rate=1e-3,
    schedule="cosine",
    loss="ce_dice",
    augment="segmentation",
    notes="Oxford-IIIT Pet trimaps as 3 classes; the U-Net paper reports no pets result.",
)

if __name__ == "__main__":
    raise SystemExit(main(RECIPE))
