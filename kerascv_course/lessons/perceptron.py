"""Rosenblatt's perceptron, the XOR problem, and back-propagation (the course's first lesson).

**The perceptron** (Rosenblatt, 1958) computes ``y = sign(<w, x>)`` on an input ``x`` extended
with a constant 1 (so ``w[0]`` is the bias), for labels ``d`` in ``{-1, +1}``. It is trained by
minimising the *perceptron criterion*

    E(w) = sum_i max(-d_i <w, x_i>, 0),

zero exactly when every sample is on its side of the hyperplane. Its gradient on a misclassified
sample is ``-d x``, so stochastic gradient descent with step ``gamma`` is Rosenblatt's rule:
``w <- w + gamma d x`` for each misclassified sample (``d <w, x> <= 0``: a sample on the boundary
counts as misclassified, else ``w = 0`` would be a fixed point). On linearly separable data the
rule stops after finitely many mistakes (Novikoff, 1962); on data that are not, such as XOR
(Minsky & Papert, 1969), no epoch is free of mistakes.

**The multilayer perceptron** (Rumelhart, Hinton & Williams, 1986) replaces the sign by a smooth
activation and stacks layers; the gradient of its loss is computed by back-propagation.
:class:`MLP` is one tanh hidden layer and a sigmoid output trained on the binary cross-entropy by
full-batch gradient descent, enough to solve XOR.

Everything is NumPy: ``python recipes/perceptron_xor.py`` trains the three cases and draws their
decision boundaries.

Example:
    >>> import numpy as np
    >>> x, d = xor_data()
    >>> Perceptron(epochs=100).fit(x, d).converged
    False
    >>> (MLP(hidden=4, seed=0).fit(x, (d > 0).astype(float)).predict(x) == (d > 0)).all()
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kerascv_course.utils.checks import check_number, check_positive_int, fail


def _features(x: Any, where: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0 or not np.all(np.isfinite(x)):
        raise fail("x", f"an array of shape {x.shape}", "a finite 2-D array (samples, features)", where=where)
    return x


def _signed_labels(d: Any, n: int, where: str) -> np.ndarray:
    d = np.asarray(d, dtype=np.float64).reshape(-1)
    if d.shape[0] != n or not np.all(np.isin(d, (-1.0, 1.0))):
        raise fail(
            "d", f"{np.unique(d)[:5]} ({d.shape[0]} labels)",
            f"{n} labels in {{-1, +1}} (the perceptron's sign output; map classes a, b to -1, +1)",
            where=where,
        )
    return d


def with_bias(x: np.ndarray) -> np.ndarray:
    """``x`` with a column of ones in front: ``<w, with_bias(x)>`` is ``w[0] + <w[1:], x>``."""
    return np.concatenate([np.ones((x.shape[0], 1)), x], axis=1)


@dataclass
class Perceptron:
    """Rosenblatt's perceptron trained by stochastic gradient descent on the perceptron criterion.

    Attributes:
        learning_rate: the step ``gamma`` of ``w <- w + gamma d x``.
        epochs: the most passes over the data; training stops at the first pass without mistakes.
        seed: seed of the order in which each pass visits the samples.
        weights: ``w`` (``weights[0]`` the bias), set by :meth:`fit`.
        mistakes: the number of updates in each pass, set by :meth:`fit`.
        criteria: ``E(w)`` at the end of each pass, set by :meth:`fit`.
    """

    learning_rate: float = 1.0
    epochs: int = 100
    seed: int = 0
    weights: np.ndarray | None = None
    mistakes: list[int] = field(default_factory=list)
    criteria: list[float] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        """Whether the last pass made no mistake (zero training error)."""
        return bool(self.mistakes) and self.mistakes[-1] == 0

    def fit(self, x: Any, d: Any) -> Perceptron:
        """Train on ``x`` (samples, features) and labels ``d`` in ``{-1, +1}``; returns ``self``."""
        where = "Perceptron"
        check_number("learning_rate", self.learning_rate, low=0.0, low_open=True, where=where)
        check_positive_int("epochs", self.epochs, where=where)
        x = with_bias(_features(x, where))
        d = _signed_labels(d, x.shape[0], where)
        rng = np.random.default_rng(self.seed)
        w = np.zeros(x.shape[1])
        self.mistakes, self.criteria = [], []
        for _ in range(self.epochs):
            mistakes = 0
            for i in rng.permutation(x.shape[0]):
                if d[i] * (x[i] @ w) <= 0:  # misclassified (or on the boundary)
                    w = w + self.learning_rate * d[i] * x[i]  # -gamma * grad of max(-d<w,x>, 0)
                    mistakes += 1
            self.weights = w
            self.mistakes.append(mistakes)
            self.criteria.append(perceptron_criterion(w, x, d, biased=True))
            if mistakes == 0:
                break
        return self

    def decision_function(self, x: Any) -> np.ndarray:
        """``<w, (1, x)>`` for each sample."""
        if self.weights is None:
            raise ValueError("Perceptron: call fit(x, d) before decision_function or predict.")
        return with_bias(_features(x, "Perceptron")) @ self.weights

    def predict(self, x: Any) -> np.ndarray:
        """``sign(<w, (1, x)>)`` in ``{-1, +1}`` (+1 on the boundary)."""
        return np.where(self.decision_function(x) >= 0, 1.0, -1.0)


def perceptron_criterion(w: np.ndarray, x: np.ndarray, d: np.ndarray, *, biased: bool = False) -> float:
    """``E(w) = sum_i max(-d_i <w, x_i>, 0)``; ``x`` already has its column of ones when ``biased``."""
    x = x if biased else with_bias(np.asarray(x, dtype=np.float64))
    return float(np.sum(np.maximum(-np.asarray(d) * (x @ w), 0.0)))


@dataclass
class MLP:
    """A two-layer perceptron (tanh hidden layer, sigmoid output) trained by back-propagation.

    Full-batch gradient descent on the mean binary cross-entropy; targets in ``{0, 1}``.

    Attributes:
        hidden: hidden units.
        learning_rate: gradient-descent step.
        epochs: gradient steps.
        seed: seed of the initial weights (uniform in ``±1/sqrt(fan_in)``).
        params: ``{"w1", "b1", "w2", "b2"}`` after :meth:`fit`.
        losses: the loss before each step.
    """

    hidden: int = 4
    learning_rate: float = 0.5
    epochs: int = 5000
    seed: int = 0
    params: dict[str, np.ndarray] = field(default_factory=dict)
    losses: list[float] = field(default_factory=list)

    def init(self, n_inputs: int) -> dict[str, np.ndarray]:
        """Fresh weights for ``n_inputs`` features."""
        rng = np.random.default_rng(self.seed)
        a1, a2 = 1 / np.sqrt(n_inputs), 1 / np.sqrt(self.hidden)
        return {
            "w1": rng.uniform(-a1, a1, (n_inputs, self.hidden)), "b1": np.zeros(self.hidden),
            "w2": rng.uniform(-a2, a2, (self.hidden, 1)), "b2": np.zeros(1),
        }

    @staticmethod
    def forward(params: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(hidden activations, output probabilities)``."""
        h = np.tanh(x @ params["w1"] + params["b1"])
        z = h @ params["w2"] + params["b2"]
        return h, 1.0 / (1.0 + np.exp(-z[:, 0]))

    @staticmethod
    def loss(params: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> float:
        """Mean binary cross-entropy."""
        _, p = MLP.forward(params, x)
        p = np.clip(p, 1e-12, 1 - 1e-12)
        return float(-np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)))

    @staticmethod
    def gradients(params: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Back-propagation: the loss's gradient with respect to each parameter."""
        h, p = MLP.forward(params, x)
        dz = ((p - t) / x.shape[0])[:, None]  # d loss / d output pre-activation (sigmoid + BCE)
        dh = (dz @ params["w2"].T) * (1.0 - h**2)  # through w2, then tanh'
        return {"w2": h.T @ dz, "b2": dz.sum(0), "w1": x.T @ dh, "b1": dh.sum(0)}

    def fit(self, x: Any, t: Any) -> MLP:
        """Train on ``x`` (samples, features) and targets ``t`` in ``{0, 1}``; returns ``self``."""
        where = "MLP"
        check_positive_int("hidden", self.hidden, where=where)
        check_positive_int("epochs", self.epochs, where=where)
        check_number("learning_rate", self.learning_rate, low=0.0, low_open=True, where=where)
        x = _features(x, where)
        t = np.asarray(t, dtype=np.float64).reshape(-1)
        if t.shape[0] != x.shape[0] or not np.all(np.isin(t, (0.0, 1.0))):
            raise fail("t", f"{np.unique(t)[:5]} ({t.shape[0]} targets)", f"{x.shape[0]} targets in {{0, 1}}",
                       where=where)
        params = self.init(x.shape[1])
        self.losses = []
        for _ in range(self.epochs):
            self.losses.append(self.loss(params, x, t))
            grads = self.gradients(params, x, t)
            params = {k: v - self.learning_rate * grads[k] for k, v in params.items()}
        self.params = params
        return self

    def decision_function(self, x: Any) -> np.ndarray:
        """The output probability of class 1."""
        if not self.params:
            raise ValueError("MLP: call fit(x, t) before decision_function or predict.")
        return self.forward(self.params, _features(x, "MLP"))[1]

    def predict(self, x: Any) -> np.ndarray:
        """``1`` where the probability is at least 0.5, else ``0``."""
        return (self.decision_function(x) >= 0.5).astype(np.float64)


def xor_data() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points in ``{0, 1}^2`` and their labels in ``{-1, +1}`` (+1 where they differ)."""
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return x, np.array([-1.0, 1.0, 1.0, -1.0])


def digit_pair(a: int = 0, b: int = 1, *, components: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two classes of scikit-learn's 8x8 ``digits`` (the package's embedded ``digits``), labels ±1.

    Args:
        a, b: the digits labelled -1 and +1.
        components: ``None`` for the 64 pixels (in [0, 1]); ``n`` for the first ``n`` principal
            components of the two classes' pixels (to draw a 2-D decision boundary).

    Returns:
        ``(x, d)``: features (samples, 64 or ``components``) and labels in ``{-1, +1}``.
    """
    from sklearn.datasets import load_digits

    for argument, value in (("a", a), ("b", b)):
        check_number(argument, value, low=0, high=9, integer=True, where="digit_pair")
    if a == b:
        raise fail("b", b, f"a digit other than a={a}", where="digit_pair")
    data = load_digits()
    keep = np.isin(data.target, (a, b))
    x = data.data[keep] / 16.0
    d = np.where(data.target[keep] == b, 1.0, -1.0)
    if components is not None:
        check_number("components", components, low=1, high=x.shape[1], integer=True, where="digit_pair")
        centred = x - x.mean(0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        x = centred @ vt[:components].T
    return x, d


def plot_decision_boundaries(panels: list[tuple[str, Any, np.ndarray, np.ndarray]], path: str) -> str:
    """Draw each 2-D classifier's decision regions and its samples, side by side, into ``path``.

    Args:
        panels: ``(title, model, x, labels)``: a fitted model with ``predict`` (two features), its
            samples and their labels (any two values).
        path: the PNG to write.

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.8), squeeze=False)
    for ax, (title, model, x, labels) in zip(axes[0], panels):
        pad = 0.15 * (x.max(0) - x.min(0)) + 1e-9
        lo, hi = x.min(0) - pad, x.max(0) + pad
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 300), np.linspace(lo[1], hi[1], 300))
        grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
        regions = model.predict(grid).reshape(gx.shape)
        ax.contourf(gx, gy, regions, levels=1, colors=["#f4c7c3", "#c6dbef"], alpha=0.8)
        ax.contour(gx, gy, regions, levels=1, colors="k", linewidths=1.2)
        classes = np.unique(labels)
        for value, colour, marker in zip(classes, ("#c0392b", "#2166ac"), ("o", "s")):
            pts = x[labels == value]
            ax.scatter(pts[:, 0], pts[:, 1], c=colour, marker=marker, edgecolors="k", s=40,
                       label=f"class {value:g}")
        errors = int(np.sum(model.predict(x) != labels))
        ax.set_title(f"{title}\ntraining errors: {errors} of {len(labels)}", fontsize=11)
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        ax.legend(loc="best", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
