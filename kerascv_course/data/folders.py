"""Datasets from folders of the user's own images (one sub-folder per class)."""

from __future__ import annotations
