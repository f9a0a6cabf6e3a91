"""U-Net (Ronneberger, Fischer & Brox, 2015) and U-Nets over any zoo encoder."""

from __future__ import annotations
