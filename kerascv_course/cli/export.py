"""``kerascv-course export`` and ``kerascv-course predict``.

``predict`` imports only NumPy, Pillow and LiteRT (never TensorFlow), as on a device.
"""

from __future__ import annotations

import argparse
import json
import sys

from kerascv_course.cli.command import add_command

QUANTIZATIONS = ("float32", "float16", "dynamic", "int8")  # as kerascv_course.export.QUANTIZATIONS
IO_TYPES = ("float32", "int8", "uint8")


def _size(text: str) -> int | tuple[int, int]:
    parts = text.lower().replace(",", "x").split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or HxW, got {text!r}") from None
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return (values[0], values[1])
    raise argparse.ArgumentTypeError(f"expected N or HxW, got {text!r}")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``export`` and ``predict``."""
    p = add_command(
        sub,
        run_export,
        help="export a trained model to TFLite (or ONNX) and verify it against Keras",
    )
    p.add_argument("source", help="run folder (model.keras + recipe.json) or a .keras file")
    p.add_argument("--format", choices=("tflite", "onnx", "both"), default="tflite",
                   help="tflite (default), onnx (needs the onnx extra) or both")
    p.add_argument("--quantization", "-q", nargs="+", choices=QUANTIZATIONS, default=["float32"],
                   help="one or more TFLite modes (default float32)")
    p.add_argument("--output", "-o", default=None,
                   help="output folder (default SOURCE/export) or a .tflite file for one mode")
    p.add_argument("--dataset", default=None,
                   help="dataset the model was trained on (default: from recipe.json or the model card)")
    p.add_argument("--split", default=None, help="held-out split (default: the recipe's test split)")
    p.add_argument("--input-type", choices=IO_TYPES, default="float32",
                   help="int8 model input dtype (uint8 = raw pixels, for NPUs/micro-controllers)")
    p.add_argument("--output-type", choices=IO_TYPES, default="float32", help="int8 model output dtype")
    p.add_argument("--no-fold-preprocessing", dest="fold", action="store_false",
                   help="keep normalisation out of the model (recorded in its metadata instead)")
    p.add_argument("--input-size", type=_size, default=None,
                   help="fold a resize from this input size into the model (N or HxW)")
    p.add_argument("--calibration-samples", type=int, default=300,
                   help="representative training images for int8 (default 300)")
    p.add_argument("--eval-samples", type=int, default=None,
                   help="held-out images to evaluate (default: the whole split)")
    p.add_argument("--latency-runs", type=int, default=50, help="single-image timings (0: skip)")
    p.add_argument("--threads", type=int, default=None, help="LiteRT interpreter threads")
    p.add_argument("--allow-float-fallback", action="store_true",
                   help="accept int8 models that keep some operators in float")
    p.add_argument("--per-tensor", dest="per_channel", action="store_false",
                   help="int8 with one scale per tensor instead of per channel (for accelerators "
                        "without per-channel support; smaller file, but often much less accurate "
                        "for depthwise convolutions: check the report)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = add_command(
        sub,
        run_predict,
        help="classify images with an exported .tflite model (LiteRT only, no TensorFlow)",
    )
    p.add_argument("model", help="an exported .tflite classifier")
    p.add_argument("images", nargs="+", help="image files (PNG, JPEG, …)")
    p.add_argument("--top-k", "-k", type=int, default=5)
    p.add_argument("--labels", default=None, help="labels file (default: the model's metadata)")
    p.add_argument("--threads", type=int, default=None, help="LiteRT interpreter threads")
    p.add_argument("--json", action="store_true", help="print JSON lines")


def run_export(args: argparse.Namespace) -> int:
    """Export SOURCE (a run folder with model.keras and recipe.json, or a .keras file) to TFLite
    in each --quantization, fold the dataset's normalisation into the model so a device feeds raw
    pixels, store the class names, and measure every export through the LiteRT interpreter against
    the Keras model on the held-out split: size, accuracy, top-1 agreement, max |difference| and
    latency. Writes export_report.json, and export_manifest.json last (predict refuses files an
    interrupted export left unlisted). A .keras file alone is enough: its model card holds the
    normalisation, class names and dataset; a file saved by plain Keras, without a card or recipe,
    needs --dataset."""
    from kerascv_course.training.run_folder import resolve_model_source

    resolve_model_source(args.source)  # a missing or unfinished source is answered before TensorFlow loads
    try:
        from kerascv_course.export.pipeline import export_source
        from kerascv_course.export.report import format_report

        formats = ("tflite", "onnx") if args.format == "both" else (args.format,)
        report = export_source(
            args.source,
            args.output,
            tuple(dict.fromkeys(args.quantization)),
            formats=formats,
            dataset=args.dataset,
            split=args.split,
            input_type=args.input_type,
            output_type=args.output_type,
            fold_preprocessing=args.fold,
            input_size=args.input_size,
            calibration_samples=args.calibration_samples,
            eval_samples=args.eval_samples,
            latency_runs=args.latency_runs,
            num_threads=args.threads,
            allow_float_fallback=args.allow_float_fallback,
            per_channel=args.per_channel,
            progress=lambda line: print(line, file=sys.stderr if args.json else sys.stdout, flush=True),
        )
    except ImportError as err:
        print(f"kerascv-course export: error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
        return 0
    print(format_report(report))
    for row in report["exports"]:
        print(f"wrote {row['path']}")
    onnx = report.get("onnx")
    if onnx:
        check = (
            f"onnxruntime max |diff| {onnx['max_abs_diff']:.2e}" if onnx["checked"]
            else "not checked (onnxruntime missing)"
        )
        print(f"wrote {onnx['path']} ({onnx['size_bytes'] / 1e6:.3f} MB, {check})")
    print(f"report: {report['report_path']}")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    """Print the top-k labels and probabilities of each IMAGE under MODEL.tflite. An image that
    cannot be read is reported (stderr; with --json also an {"image", "error"} line) and the others
    are still answered; the exit status is then 1."""
    from kerascv_course.export.inference import TFLiteClassifier

    clf = TFLiteClassifier(args.model, labels=args.labels, num_threads=args.threads)
    if not isinstance(args.top_k, int) or args.top_k < 1:
        raise ValueError(f"`--top-k` must be a positive integer. Received: top_k={args.top_k!r}")
    failed = 0
    for image in args.images:
        try:
            answers = clf.predict(image, top_k=args.top_k)
        except (ValueError, TypeError, OSError) as err:  # one unreadable file: report it, go on
            failed += 1
            print(f"kerascv-course predict: error: {image}: {err}", file=sys.stderr)
            if args.json:
                print(json.dumps({"image": image, "error": str(err)}))
            continue
        if args.json:
            print(json.dumps({"image": image, "top": [
                {"label": a.label, "index": a.index, "probability": a.probability} for a in answers
            ]}))
            continue
        print(image)
        for rank, a in enumerate(answers, 1):
            print(f"  {rank}. {a.label:<20} {a.probability:7.2%}")
    if failed:
        print(f"kerascv-course predict: {failed} of {len(args.images)} image(s) could not be read; "
              "the others are answered above.", file=sys.stderr)
        return 1
    return 0
