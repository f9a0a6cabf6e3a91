"""Augmentations from the papers, as tf.data ops with stateless seeds, and the named policies."""

from __future__ import annotations
