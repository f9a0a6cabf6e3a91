"""GoogLeNet / Inception v1 (Szegedy et al., 2014) and Inception v3 (Szegedy et al., 2015)."""

from __future__ import annotations
