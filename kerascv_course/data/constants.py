"""Constants of the data package, written once (no TensorFlow here).

Attributes:
    TASKS: the tasks a dataset or an augmentation policy serves.
    SPLITS: the split names every dataset offers (some offer more, e.g. STL-10's ``"unlabelled"``).
    IMAGENET_MEAN, IMAGENET_STD: ImageNet's per-channel RGB statistics in [0, 1] units.
    IMAGENET_PCA: the published ImageNet colour PCA (RGB in [0, 1]; the columns of ``eigvecs`` are
        the components), as released with fb.resnet.torch and used by later ImageNet recipes.
    FILL_MODES: how a warp fills pixels that come from outside the image.
    INTERPOLATIONS: resampling methods of the crops (``"random"``: one of the others per image).
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
