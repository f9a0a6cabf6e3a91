"""tensorflow-datasets loaders (MNIST, CIFAR, STL-10, SVHN, Oxford pets, Imagenette, ImageNet)."""

from __future__ import annotations
