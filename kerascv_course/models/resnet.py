"""ResNets: ImageNet v1 (He et al., 2015), v2 pre-activation (He et al., 2016) and the CIFAR ResNets."""

from __future__ import annotations
