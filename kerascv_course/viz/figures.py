"""Writing a figure: one PNG, atomically, and the figure closed (every plot of ``viz`` ends here)."""

from __future__ import annotations

import os
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from kerascv_course.utils.files import atomic_path  # noqa: E402


def save_png(fig: Any, path: str | os.PathLike[str], *, dpi: int = 110, **savefig: Any) -> str:
    """Save ``fig`` as a PNG at ``path`` (written to a temporary file, then renamed), close it and
    return the path."""
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", **savefig)
    plt.close(fig)
    return os.fspath(path)
