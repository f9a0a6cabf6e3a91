"""Segmentation data: the embedded cracks, folder pairs (segfolder:PATH), Oxford pets trimaps, joint augmentation."""

from __future__ import annotations
