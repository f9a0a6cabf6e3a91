"""Train-then-ship recipes: the export settings a recipe script passes to the scripts' front end.

A recipe script that ends in a device model is data plus one call::

    RECIPES = {"shapes": Recipe(model="mobilenet", dataset="shapes", ...)}
    EXPORT = ExportSettings(quantizations=("float32", "int8"), input_type="uint8")

    if __name__ == "__main__":
        raise SystemExit(main(RECIPES, export=EXPORT))      # kerascv_course.cli.script.main

Beyond the training flags it gets ``--alpha`` and ``--resolution`` (MobileNet's width multiplier
and input side) and the export's ``--quantization``, ``--input-type``, ``--output-type``,
``--calibration-samples``, ``--eval-samples``, ``--latency-runs``, ``--threads``, ``--per-tensor``
(:mod:`kerascv_course.cli.script`).
"""

from __future__ import annotations

from dataclasses import dataclass

QUANTIZATIONS = ("float32", "float16", "dynamic", "int8")
IO_TYPES = ("float32", "int8", "uint8")


@dataclass(frozen=True)
class ExportSettings:
    """How a recipe's trained model is exported (see :func:`~kerascv_course.export.export_source`)."""

    quantizations: tuple[str, ...] = ("float32", "int8")
    input_type: str = "uint8"
    output_type: str = "uint8"
    calibration_samples: int = 300
    eval_samples: int | None = None
    latency_runs: int = 50
    num_threads: int | None = None
    per_channel: bool = True


SMOKE_EXPORT = dict(calibration_samples=32, eval_samples=64, latency_runs=5)
