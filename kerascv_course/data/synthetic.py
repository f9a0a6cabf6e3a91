"""Procedural embedded datasets for classification: shapes."""

from __future__ import annotations
