"""Xception (Chollet, 2017)."""

from __future__ import annotations
