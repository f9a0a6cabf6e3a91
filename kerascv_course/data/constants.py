"""Constants of the data package, written once (no TensorFlow here).

Attributes:
    TASKS: the tasks a dataset or an augmentation policy serves.
    SPLITS: the split names every dataset offers (some offer more, e.g. STL-10's ``"unlabelled"``).
    IMAGENET_MEAN, IMAGENET_STD: ImageNet's per-channel RGB statistics in [0, 1] units.
    IMAGENET_PCA: the published ImageNet colour PCA (RGB in [0, 1]; the columns of ``eigvecs`` are
        the components), as released with fb.resnet.torch and used by later ImageNet recipes.
    FILL_MODES: how a warp fills pixels that come from outside the image.
    INTERPOLATIONS: resampling methods of the crops (``"random"``: one of the others per image).
    RESIZE_MODES: how the pipeline brings images to the model's input size: ``"resize"``
        (bilinear, any size) or ``"pad"`` (zero borders, centred; never shrinks an image).
    DIGITS_COUNT, DIGITS_FRACTIONS: scikit-learn's digits and their fixed train/validation/test split.
    SHAPE_NAMES, SHAPES_DEFAULT_SIZE, SHAPES_DEFAULT_EXAMPLES: the embedded ``shapes``.
    CRACKS_CLASSES, CRACKS_DEFAULT_SIZE, CRACKS_DEFAULT_EXAMPLES: the embedded ``cracks``.
"""

from __future__ import annotations

TASKS = ("classification", "segmentation")
SPLITS = ("train", "validation", "test")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGENET_PCA = dict(
    eigvals=(0.2175, 0.0188, 0.0045),
    eigvecs=((-0.5675, 0.7192, 0.4009), (-0.5808, -0.0045, -0.8140), (-0.5836, -0.6948, 0.4203)),
)

FILL_MODES = ("constant", "reflect", "nearest", "wrap")
INTERPOLATIONS = ("bilinear", "nearest", "random")
RESIZE_MODES = ("resize", "pad")

DIGITS_COUNT = 1797  # scikit-learn's load_digits (UCI optical recognition of handwritten digits, test part)
DIGITS_FRACTIONS = (0.7, 0.1, 0.2)

SHAPE_NAMES = ("circle", "square", "triangle", "star", "cross", "ring", "crescent", "semicircle", "heart", "ell")
SHAPES_DEFAULT_SIZE = 32
SHAPES_DEFAULT_EXAMPLES = {"train": 5000, "validation": 1000, "test": 1000}

CRACKS_CLASSES = ("background", "crack")
CRACKS_DEFAULT_SIZE = 64
CRACKS_DEFAULT_EXAMPLES = {"train": 1000, "validation": 200, "test": 200}
