"""Squeeze-and-excitation networks (Hu et al., 2018)."""

from __future__ import annotations
