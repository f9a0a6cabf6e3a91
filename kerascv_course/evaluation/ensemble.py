"""Ensembles: average the softmax outputs of several models (Krizhevsky et al. 2012, Sec. 6).

AlexNet's best result averaged the predictions of five (then seven) networks; VGG, GoogLeNet and
ResNet reported ensembles the same way. :func:`average_probabilities` is that average
(``kerascv-course evaluate RUN --ensemble RUN …`` uses it).

Example:
    >>> probs = average_probabilities([model_a.predict(x), model_b.predict(x)])   # (N, classes)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def average_probabilities(
    probabilities: Sequence[Any], weights: Sequence[float] | None = None
) -> np.ndarray:
    """The (weighted) mean of several ``(N, classes)`` probability arrays.

    Args:
        probabilities: one array per model, all of the same shape.
        weights: one non-negative weight per model (``None``: equal weights).

    Returns:
        The ``(N, classes)`` average, a probability distribution per row.

    Raises:
        ValueError: for no arrays, arrays of different shapes, or bad weights.
    """
    if len(probabilities) == 0:
        raise ValueError("`probabilities` must hold at least one array. Received: probabilities=[]")
    arrays = [np.asarray(p, dtype=np.float64) for p in probabilities]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(
            f"Every model's probabilities must have the same shape (the same examples and "
            f"classes). Received shapes: {sorted(shapes)}"
        )
    if weights is None:
        weights = [1.0] * len(arrays)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (len(arrays),) or np.any(w < 0) or not w.sum() > 0:
        raise ValueError(
            f"`weights` must be {len(arrays)} non-negative numbers with a positive sum. "
            f"Received: weights={list(weights)}"
        )
    return np.tensordot(w / w.sum(), np.stack(arrays), axes=1)
