"""The search spaces of the zoo: one table per model family, as data.

Each table is keyed by a family of the model registry (``kerascv_course.models.catalog``:
``model_info(name).family``), so a model's table follows from the registry: nothing here lists
models. A family with no table searches the training hyper-parameters only (:data:`DEFAULT_SPACE`).
The ranges follow what each paper tuned or reported (SGD with momentum for AlexNet/VGG/ResNet,
RMSprop for the MobileNets and Xception, width and resolution multipliers for MobileNet, growth
rate and compression for DenseNet, the SE reduction ratio for SENet, drop-path rates for FractalNet…); the range syntax is
:mod:`kerascv_course.tuning.spaces`'.

Training blocks first (shared by the families of one era), then one table per family.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kerascv_course.utils.registry import Registry

# LeCun-era nets on small images: plain SGD or Adam, small batches, LeNet's affine distortions.
_CLASSIC_TRAINING: dict[str, Any] = {
    "learning_rate": {"min": 1e-4, "max": 3e-1, "sampling": "log"},
    "optimizer": {"values": ["sgd", "adam"]},
    "momentum": {"min": 0.0, "max": 0.95},
    "batch_size": {"values": [16, 32, 64, 128]},
    "weight_decay": {"min": 1e-6, "max": 1e-3, "sampling": "log"},
    "augment": {"values": ["none", "lenet"]},
    "augment.translate": {"min": 0.0, "max": 0.15, "step": 0.05},
    "augment.rotation": {"min": 0.0, "max": 15.0, "step": 5.0},
}

# 2012-2014 ImageNet nets (AlexNet, ZFNet, VGG, GoogLeNet, SqueezeNet): SGD + momentum 0.9,
# weight decay 5e-4, learning rate around 1e-2, scale-jittered crops, flips and colour PCA.
_IMAGENET_2012_TRAINING: dict[str, Any] = {
    "learning_rate": {"min": 1e-3, "max": 1e-1, "sampling": "log"},
    "optimizer": {"values": ["sgd", "adam"]},
    "momentum": {"min": 0.8, "max": 0.95},
    "weight_decay": {"min": 1e-5, "max": 1e-3, "sampling": "log"},
    "batch_size": {"values": [32, 64, 128, 256]},
    "label_smoothing": {"min": 0.0, "max": 0.2, "step": 0.05},
    "augment": {"values": ["none", "cifar", "alexnet", "vgg"]},
    "augment.pca_std": {"min": 0.0, "max": 0.2, "step": 0.05},
}

# Residual-era nets (ResNet, DenseNet, SENet): SGD + (Nesterov) momentum, weight decay 1e-4,
# larger learning rates thanks to batch norm, cosine or step schedules, label smoothing,
# pad-and-crop (CIFAR) or scale augmentation (ImageNet), cutout as the strength knob.
_RESIDUAL_TRAINING: dict[str, Any] = {
    "learning_rate": {"min": 1e-2, "max": 5e-1, "sampling": "log"},
    "optimizer": {"values": ["sgd", "adamw"]},
    "momentum": {"min": 0.85, "max": 0.95},
    "nesterov": {"values": [False, True]},
    "weight_decay": {"min": 1e-5, "max": 1e-3, "sampling": "log"},
    "batch_size": {"values": [64, 128, 256]},
    "label_smoothing": {"min": 0.0, "max": 0.2, "step": 0.05},
    "schedule": {"values": ["constant", "cosine", "step"]},
    "augment": {"values": ["none", "cifar", "resnet"]},
    "augment.cutout_size": {"values": [0, 8, 16]},
}

# Mobile nets (MobileNet, Xception): RMSprop as in the papers, little weight decay on the thin
# depthwise filters, "less regularisation and data augmentation" for small models: the smallest
# crop area of Inception-style crops is the strength knob.
_MOBILE_TRAINING: dict[str, Any] = {
    "learning_rate": {"min": 1e-4, "max": 1e-1, "sampling": "log"},
    "optimizer": {"values": ["rmsprop", "sgd", "adam"]},
    "momentum": {"min": 0.8, "max": 0.95},
    "weight_decay": {"min": 1e-6, "max": 1e-4, "sampling": "log"},
    "batch_size": {"values": [32, 64, 128, 256]},
    "label_smoothing": {"min": 0.0, "max": 0.2, "step": 0.05},
    "schedule": {"values": ["constant", "cosine"]},
    "augment": {"values": ["none", "cifar", "inception"]},
    "augment.scale": {"values": [[0.08, 1.0], [0.25, 1.0], [0.5, 1.0]]},
}

_TABLES: dict[str, dict[str, Any]] = {
    "perceptron": {
        "space": {
            **_CLASSIC_TRAINING,
            "hidden_units": {"values": [[100], [300, 100], [500, 150], [1000, 500, 100]]},
            "activation": {"values": ["relu", "tanh", "sigmoid"]},
            "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
        },
    },
    # The 60 Minute Blitz network and its STL-10 adaptation: the tutorial's small-batch SGD
    # around 1e-3, flips and crops, and the challenge's own question (flatten or pool).
    "blitz": {
        "space": {
            "learning_rate": {"min": 1e-4, "max": 1e-1, "sampling": "log"},
            "optimizer": {"values": ["sgd", "adam"]},
            "momentum": {"min": 0.0, "max": 0.95},
            "batch_size": {"values": [4, 16, 32, 64, 128]},
            "weight_decay": {"min": 1e-6, "max": 1e-3, "sampling": "log"},
            "augment": {"values": ["none", "cifar"]},
            "global_pooling": {"values": [False, True]},
        },
    },
    "lenet": {
        "space": {
            **_CLASSIC_TRAINING,
            "variant": {"values": ["classic", "modern"]},
            "subsampling": {"values": ["average", "trainable"]},
            "c3_connections": {"values": ["full", "paper"]},
        },
    },
    "alexnet": {
        "space": {
            **_IMAGENET_2012_TRAINING,
            "dropout": {"min": 0.0, "max": 0.7, "step": 0.1},
            "lrn": {"values": [True, False]},
        },
    },
    # TensorFlow 1's CIFAR-10 tutorial CNN (tf_cifar10_tutorial) (after cuda-convnet): the 2012
    # training block, with the tutorial's own knobs.
    "course": {
        "space": {
            **_IMAGENET_2012_TRAINING,
            "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
            "lrn": {"values": [True, False]},
            "filters": {"values": [32, 64, 128]},
        },
    },
    "vgg": {
        "space": {
            **_IMAGENET_2012_TRAINING,
            "depth": {"values": [11, 13, 16, 19],
                      "models": {11: "vgg11", 13: "vgg13", 16: "vgg16", 19: "vgg19"}},
            "batch_norm": {"values": [False, True]},
            "dropout": {"min": 0.0, "max": 0.7, "step": 0.1},
        },
    },
    "inception": {
        "space": {
            **_IMAGENET_2012_TRAINING,
            "augment": {"values": ["none", "cifar", "inception"]},
            "augment.scale": {"values": [[0.08, 1.0], [0.25, 1.0], [0.5, 1.0]]},
            "dropout": {"min": 0.2, "max": 0.6, "step": 0.1},
            "lrn": {"values": [True, False]},
        },
    },
    "resnet": {
        "space": {
            **_RESIDUAL_TRAINING,
            # Blocks per stage: (2,2,2,2), (3,4,6,3), then bottleneck stacks.
            "depth": {"values": [18, 34, 50, 101],
                      "models": {18: "resnet18", 34: "resnet34", 50: "resnet50",
                                 101: "resnet101"}},
        },
    },
    "resnet_cifar": {
        "space": {
            **_RESIDUAL_TRAINING,
            "augment": {"values": ["none", "cifar"]},
            "augment.padding": {"values": [2, 4, 6]},
            # 6n + 2 layers: n = 3, 5, 7, 9 residual blocks per stage.
            "depth": {"values": [20, 32, 44, 56],
                      "models": {20: "resnet20", 32: "resnet32", 44: "resnet44", 56: "resnet56",
                                 110: "resnet110"}},
            # Option A (zero-padded identity, the paper's CIFAR choice) or B (projection).
            "shortcut": {"values": ["A", "B"]},
        },
    },
    "densenet": {
        "space": {
            **_RESIDUAL_TRAINING,
            "depth": {"values": [121, 169, 201],
                      "models": {121: "densenet121", 169: "densenet169", 201: "densenet201"}},
            "growth_rate": {"values": [12, 24, 32, 48]},
            "compression": {"min": 0.5, "max": 1.0, "step": 0.25},
        },
    },
    "mobilenet": {
        "space": {
            **_MOBILE_TRAINING,
            # The paper's width multiplier alpha and resolution multiplier rho (input side).
            "alpha": {"values": [0.25, 0.5, 0.75, 1.0]},
            "image_size": {"values": [128, 160, 192, 224]},
            "depth_multiplier": {"values": [1, 2]},
            "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
        },
    },
    "mobilenet_v2": {
        "space": {
            **_MOBILE_TRAINING,
            "alpha": {"values": [0.35, 0.5, 0.75, 1.0, 1.4]},
            "image_size": {"values": [96, 128, 160, 192, 224]},
        },
    },
    "xception": {
        "space": {
            **_MOBILE_TRAINING,
            "image_size": {"values": [71, 96, 128, 160, 224, 299]},
            "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
        },
    },
    "squeezenet": {
        "space": {
            **_IMAGENET_2012_TRAINING,
            "version": {"values": ["1_0", "1_1"],
                        "models": {"1_0": "squeezenet1_0", "1_1": "squeezenet1_1"}},
            "dropout": {"min": 0.0, "max": 0.7, "step": 0.1},
        },
    },
    "resnext": {
        "space": dict(_RESIDUAL_TRAINING),
    },
    "senet": {
        "space": {
            **_RESIDUAL_TRAINING,
            # The squeeze-and-excitation reduction ratio r (16 in the paper).
            "reduction": {"values": [4, 8, 16, 32]},
        },
    },
    "fractalnet": {
        "space": {
            **_RESIDUAL_TRAINING,
            "augment": {"values": ["none", "cifar"]},
            # Drop-path: each join's local rate (0.15 in the paper), the share of global batches.
            "local_drop_path": {"min": 0.0, "max": 0.3, "step": 0.05},
            "global_drop_path": {"min": 0.0, "max": 1.0, "step": 0.25},
        },
    },
    "unet": {
        "space": {
            "learning_rate": {"min": 1e-5, "max": 1e-2, "sampling": "log"},
            "optimizer": {"values": ["adam", "sgd"]},
            "momentum": {"min": 0.9, "max": 0.99},
            "weight_decay": {"min": 1e-6, "max": 1e-4, "sampling": "log"},
            "batch_size": {"values": [4, 8, 16, 32]},
            "loss": {"values": ["ce_dice", "dice", "focal"]},
            "augment": {"values": ["none", "segmentation", "segmentation_rot", "unet"]},
            "augment.rotation": {"min": 0.0, "max": 20.0, "step": 5.0},
            # Base filters (64 in the paper), doubling per level, and the number of levels.
            "base_filters": {"values": [16, 32, 64]},
            "depth": {"values": [3, 4, 5]},
            "batch_norm": {"values": [False, True]},
            "decoder_block_type": {"values": ["transpose", "upsampling"]},
            "dropout": {"min": 0.0, "max": 0.5, "step": 0.1},
        },
    },
}

# A family with no table of its own still gets the training hyperparameters.
DEFAULT_SPACE: dict[str, Any] = dict(_IMAGENET_2012_TRAINING)


@dataclass(frozen=True)
class SpaceTable:
    """The search space of one model family: ``{name: range}`` (see :mod:`.spaces`)."""

    family: str
    space: dict[str, Any]


#: One table per registry family (``SPACES.get(family)``, ``SPACES.names()``).
SPACES: Registry[SpaceTable] = Registry("search space", argument="family", plural="search spaces")
for _family, _entry in _TABLES.items():
    SPACES.register(_family, SpaceTable(family=_family, space=_entry["space"]))


def family_table(model: str) -> tuple[str | None, dict[str, Any]]:
    """The family and space dict of ``model``'s table (``(None, DEFAULT_SPACE)`` without one)."""
    from kerascv_course.models.catalog import model_info

    family = model_info(model).family
    if family in SPACES:
        return family, SPACES.get(family).space
    return None, DEFAULT_SPACE
