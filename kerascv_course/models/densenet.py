"""DenseNet-BC (Huang et al., 2017)."""

from __future__ import annotations
