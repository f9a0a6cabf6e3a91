"""The course's challenge: "adapt the tutorial to the STL10 database (larger images)".

STL-10: 96x96 colour images of the same kind of 10 classes as CIFAR-10, but only 500 labelled
training images per class (5,000; the package holds a validation fold out of them), 8,000 test
images and 100,000 unlabelled ones (split ``unlabelled``, usable by self-training:
``--pseudo-label``). Two variants, trained with the tutorial's settings (SGD 0.001, momentum 0.9,
batch 4, cross-entropy, inputs normalised with mean 0.5 and std 0.5, no augmentation) for 20 epochs, the tutorial's number of updates (2 epochs
of 50,000 images = 20 epochs of 5,000, 25,000 steps of 4 images):

``--variant blitz`` — what 96x96 *forces* to change and nothing else: the tutorial's network
(``blitz``) at 96x96. The two unpadded conv 5x5 + pool 2 stages leave a 16x21x21 map (96 -> 92 ->
46 -> 42 -> 21), so the first fully connected layer has 7,056 inputs instead of 16x5x5 = 400:
860,726 parameters, 846,840 of them in that one layer.

``--variant adapted`` — what a student reaches for (``blitz_stl10``): four conv 5x5 ("same") ->
ReLU -> pool 2 stages (16, 32, 64, 128 filters: 96 -> 48 -> 24 -> 12 -> 6) and global average
pooling before the tutorial's 120-84-10 head; 296,734 parameters. The reasoning: (1) at 96x96 an
object spans far more pixels, and the tutorial's last map sees 16x16-pixel windows — too small to
take in a bird or a car; two more stages bring the receptive field to 76 pixels. (2) Flattening a
21x21 map puts 98 % of the weights in one layer that 5,000 images cannot constrain (it memorises
them); global pooling removes that layer's dependence on the image size. (3) Doubling the filters
at each halving keeps the work per stage roughly constant, as VGG and ResNet do. No published
figure exists for either network on STL-10.

    python recipes/stl10_blitz.py                       # downloads STL-10 (2.6 GB)
    python recipes/stl10_blitz.py --variant adapted
    python recipes/stl10_blitz.py --smoke               # seconds, offline (embedded digits)
"""

from kerascv_course.cli.script import main
from kerascv_course.training import Recipe

TUTORIAL = Recipe(
    model="blitz",
    dataset="stl10",
    dataset_kwargs={"normalization": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}},  # the tutorial's
    image_size=96,
    epochs=20,
    batch_size=4,
    base_batch_size=4,
    optimizer="sgd",
    learning_rate=0.001,
    momentum=0.9,
    weight_decay=0.0,
    schedule="constant",
    loss="crossentropy",
    augment="none",
    published={},
)

RECIPES = {
    "blitz": TUTORIAL.replace(notes="The 60 Minute Blitz network at 96x96: a 16x21x21 map flattened."),
    "adapted": TUTORIAL.replace(
        model="blitz_stl10",
        notes="The Blitz network with 4 conv stages and global average pooling for 96x96 STL-10.",
    ),
}

if __name__ == "__main__":
    raise SystemExit(main(RECIPES))
