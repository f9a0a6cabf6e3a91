"""The perceptron lesson: what Rosenblatt's perceptron learns, what it cannot (XOR), and the MLP.

Three classifiers, trained in NumPy in well under a second (:mod:`kerascv_course.lessons.perceptron`):

1. Rosenblatt's perceptron (sign output, labels ±1, SGD on the criterion
   ``E(w) = sum max(-d <w, x>, 0)``: ``w <- w + gamma d x`` on each misclassified sample) on two
   classes of the embedded ``digits`` (0 and 1), linearly separable: zero training error after a
   few passes — on the 64 pixels, and on the first two principal components, which are drawn.
2. The same perceptron on XOR: no line separates it (Minsky & Papert, 1969), so every pass makes
   mistakes and training stops at the pass limit with errors left.
3. A 2-4-1 multilayer perceptron (tanh, sigmoid output, cross-entropy) trained by
   back-propagation on XOR: zero errors.

It prints each result and draws the three decision boundaries into one PNG.

    python recipes/perceptron_xor.py                       # writes perceptron_xor.png
    python recipes/perceptron_xor.py --output runs/perceptron.png
    python recipes/perceptron_xor.py --smoke               # the same, fewer passes
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--output", default="perceptron_xor.png", help="the PNG to write (default: %(default)s)")
    parser.add_argument("--digits", type=int, nargs=2, default=(0, 1), metavar=("A", "B"),
                        help="the two digit classes (default: 0 1)")
    parser.add_argument("--smoke", action="store_true", help="fewer passes and steps (seconds)")
    args = parser.parse_args(argv)

    from kerascv_course.lessons.perceptron import (
        MLP,
        Perceptron,
        digit_pair,
        plot_decision_boundaries,
        xor_data,
    )

    epochs, steps = (20, 3000) if args.smoke else (100, 5000)
    try:
        a, b = args.digits
        x64, d64 = digit_pair(a, b)
        x2, d2 = digit_pair(a, b, components=2)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    full = Perceptron(epochs=epochs).fit(x64, d64)
    flat = Perceptron(epochs=epochs).fit(x2, d2)
    x, d = xor_data()
    xor = Perceptron(epochs=epochs).fit(x, d)
    t = (d > 0).astype(float)
    mlp = MLP(hidden=4, epochs=steps).fit(x, t)
    print(f"Perceptron, digits {a} vs {b}, 64 pixels: {full.mistakes[-1]} mistakes in pass "
          f"{len(full.mistakes)} ({'converged' if full.converged else 'not converged'}); "
          f"mistakes per pass {full.mistakes}")
    print(f"Perceptron, digits {a} vs {b}, 2 principal components: "
          f"{'converged' if flat.converged else 'not converged'} after {len(flat.mistakes)} passes")
    print(f"Perceptron, XOR: {'converged' if xor.converged else 'not converged'} after {len(xor.mistakes)} "
          f"passes; the last passes made {xor.mistakes[-3:]} mistakes (no line separates XOR)")
    errors = int((mlp.predict(x) != t).sum())
    print(f"MLP 2-4-1, back-propagation, XOR: {errors} errors of 4 after {steps} steps "
          f"(loss {mlp.losses[0]:.3f} -> {mlp.losses[-1]:.4f})")
    folder = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(folder, exist_ok=True)
    plot_decision_boundaries([
        (f"Perceptron: digits {a} (-1) vs {b} (+1), 2 PCA components", flat, x2, d2),
        ("Perceptron: XOR (not linearly separable)", xor, x, d),
        ("MLP 2-4-1 (back-propagation): XOR", mlp, x, t),
    ], args.output)
    print(f"Decision boundaries: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
