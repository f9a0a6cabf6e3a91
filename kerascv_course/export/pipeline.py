"""Export a trained run end to end: load it, calibrate, convert, verify, report.

:func:`export_source` is what ``kerascv-course export`` and the recipes call. Given a run folder
(``model.keras`` + ``recipe.json``) it knows the dataset, so it folds the dataset's normalisation
into the exported model, takes int8 calibration images from the training pipeline (no
augmentation), stores the class names, and measures every export against the Keras model on the
held-out split; the report goes to ``export_report.json`` beside the files.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from kerascv_course.export.inference import labels_path_for
from kerascv_course.export.manifest import publish, unpublish
from kerascv_course.export.preprocessing import Preprocessing, as_size, with_preprocessing
from kerascv_course.export.report import compare_tflite, keras_latency, keras_probabilities
from kerascv_course.export.tflite import (
    DEFAULT_CALIBRATION_SAMPLES,
    IO_TYPES,
    QUANTIZATIONS,
    _check_choice,
    _output_kind,
    export_tflite,
    publish_mode,
)
from kerascv_course.utils.files import FolderLock, write_json
from kerascv_course.utils.model_card import read_card

log = logging.getLogger(__name__)

FORMATS = ("tflite", "onnx")
REPORT_NAME = "export_report.json"


def resolve_source(source: str | os.PathLike[str]) -> tuple[str, dict[str, Any] | None]:
    """The ``.keras`` file of ``source`` (a run folder or a ``.keras`` file) and its recipe, if any.

    Raises:
        FileNotFoundError: when there is no such folder/file or the folder has no ``model.keras``.
        ValueError: for a file that is not a ``.keras`` model.
    """
    from kerascv_course.training.run_folder import resolve_model_source

    found = resolve_model_source(source)
    return found.model_path, found.recipe.to_dict() if found.recipe is not None else None


def dataset_arrays(
    dataset: str,
    split: str,
    *,
    image_size: tuple[int, int],
    channels: int,
    raw: bool,
    limit: int | None,
    shuffle_seed: int | None = None,
    load_size: int | None = None,
    data_dir: str | None = None,
    seed: int = 0,
    dataset_kwargs: dict[str, Any] | None = None,
    resize_mode: str = "resize",
    preprocessing: Any = None,
) -> tuple[np.ndarray, np.ndarray, Any]:
    """Images and labels of one split through the training pipeline (no augmentation).

    Args:
        dataset, split: what to load.
        image_size: ``(H, W)`` the images are resized to.
        channels: the model's channel count.
        raw: raw pixels ``0..255`` (the pipeline without its final normalisation) instead of the
            normalised images the model was trained on.
        limit: at most this many examples (``None``: all).
        shuffle_seed: shuffle the split with this seed before taking ``limit`` (calibration should
            see every class, whatever order the split is stored in).
        load_size, data_dir, seed, dataset_kwargs: passed to ``load_dataset`` (``load_size`` is the
            ``image_size`` of generated data; ``dataset_kwargs`` e.g. ``num_examples``).
        resize_mode: how images reach ``image_size`` (``"resize"`` or ``"pad"``, as the run trained).
        preprocessing: the model's own normalisation (a :class:`Preprocessing`, from its card),
            used instead of the dataset's when ``raw`` is false.

    Returns:
        ``(images float32 (N, H, W, C), labels (N, ...), info)``.
    """
    from kerascv_course.data import load_dataset, make_pipeline

    ds, info = load_dataset(
        dataset, split, data_dir=data_dir, image_size=load_size, seed=seed, **(dataset_kwargs or {})
    )
    if shuffle_seed is not None:
        ds = ds.shuffle(10_000, seed=shuffle_seed, reshuffle_each_iteration=False)
    if limit is not None:
        ds = ds.take(limit)
    if raw:
        pipe_info = dataclasses.replace(info, mean=None, std=None)
    elif preprocessing is not None:
        pipe_info = dataclasses.replace(info, mean=tuple(preprocessing.mean), std=tuple(preprocessing.std))
    else:
        pipe_info = info
    pipe = make_pipeline(
        ds, pipe_info, training=False, batch_size=256, image_size=tuple(image_size),
        channels=channels, cache=False, resize_mode=resize_mode,
    )
    images, labels = [], []
    for x, y in pipe.as_numpy_iterator():
        images.append(x)
        labels.append(y)
    if not images:
        raise ValueError(f"The {split!r} split of {dataset!r} is empty. Received: split={split!r}")
    x = np.concatenate(images).astype(np.float32)
    if raw:
        x = np.clip(x * 255.0, 0.0, 255.0)
    return x, np.concatenate(labels), info


def _default_output(model_path: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(model_path)), "export")


def export_source(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    quantizations: Sequence[str] = ("float32",),
    *,
    formats: Sequence[str] = ("tflite",),
    dataset: str | None = None,
    split: str | None = None,
    input_type: str = "float32",
    output_type: str = "float32",
    fold_preprocessing: bool = True,
    input_size: int | Sequence[int] | None = None,
    calibration_samples: int = DEFAULT_CALIBRATION_SAMPLES,
    eval_samples: int | None = None,
    latency_runs: int = 50,
    num_threads: int | None = None,
    allow_float_fallback: bool = False,
    per_channel: bool = True,
    data_dir: str | None = None,
    progress: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """Export a trained model (run folder or ``.keras`` file) and write the verification report.

    Args:
        source: a run folder (``model.keras``, ``recipe.json``) or a ``.keras`` file.
        output: folder for the files (default ``<run>/export``), or a ``.tflite`` path when
            exporting one quantization.
        quantizations: TFLite modes to export (see :data:`QUANTIZATIONS`).
        formats: ``"tflite"`` and/or ``"onnx"`` (the ``onnx`` extra).
        dataset: the dataset the model was trained on (default: the run's ``recipe.json``); it
            gives the normalisation, the class names, calibration and held-out images. Without
            one only float exports are possible and the report has no accuracy.
        split: the held-out split (default: the recipe's ``test_split``, else ``"test"``).
        input_type, output_type: int8 model I/O dtypes (``"float32"``, ``"int8"``, ``"uint8"``).
        fold_preprocessing: fold the dataset's normalisation into the model (raw-pixel input).
        input_size: fold a resize from this input size (``int`` or ``(H, W)``).
        calibration_samples: representative images for int8.
        eval_samples: held-out images to evaluate (``None``: the whole split).
        latency_runs: single-image timings per model (0 skips).
        num_threads: LiteRT threads.
        allow_float_fallback: accept int8 models with float operators.
        per_channel: int8 with per-channel kernel scales (default); ``False``: per-tensor.
        data_dir: tensorflow-datasets folder (default: the recipe's).
        progress: called with one short line as each stage starts (reading images, calibrating
            and converting each mode, comparing), e.g. ``print``.

    Returns:
        The report dict (also written to ``export_report.json`` in the output folder).

    Raises:
        ValueError: for unknown modes/formats/types, or int8 without a dataset.
        FileNotFoundError: for a missing source or output folder.
    """
    for q in quantizations:
        _check_choice("quantization", q, QUANTIZATIONS)
    for f in formats:
        _check_choice("format", f, FORMATS)
    _check_choice("input_type", input_type, IO_TYPES)
    _check_choice("output_type", output_type, IO_TYPES)
    if not isinstance(per_channel, bool) or (not per_channel and "int8" not in quantizations):
        raise ValueError(
            "`per_channel` is True or False, and per-tensor scales (per_channel=False) need an int8 "
            f"export. Received: per_channel={per_channel!r}, quantizations={list(quantizations)}"
        )
    if not quantizations and "tflite" in formats:
        raise ValueError("`quantizations` is empty. Received: quantizations=()")
    size = as_size(input_size)
    model_path, recipe = resolve_source(source)
    card = read_card(model_path)
    trained = (card or {}).get("dataset") or {}
    recipe = recipe or {  # a .keras file without its run folder: what its card says
        "dataset": trained.get("name"), "dataset_kwargs": trained.get("kwargs"),
        "image_size": trained.get("image_size"), "seed": trained.get("seed", 0),
        "test_split": trained.get("test_split"), "resize_mode": card["input"]["resize_mode"] if card else None,
    }
    dataset = dataset or recipe.get("dataset")
    split = split or recipe.get("test_split") or "test"
    data_dir = data_dir or recipe.get("data_dir")
    resize_mode = recipe.get("resize_mode") or "resize"
    if "int8" in quantizations and "tflite" in formats and dataset is None:
        raise ValueError(
            "int8 quantization needs representative images: the source has no recipe.json naming "
            "its dataset, so pass `dataset` (--dataset NAME). Received: dataset=None"
        )
    if card is None and dataset is None:
        raise ValueError(
            f"The input normalisation of {model_path!r} is unknown (no model card inside it, no "
            "recipe.json beside it), so an export would be fed the wrong pixels: pass `dataset` "
            "(--dataset NAME, the dataset it was trained on). Received: dataset=None"
        )
    single_file = output is not None and os.fspath(output).endswith(".tflite")
    if single_file and (len(quantizations) != 1 or tuple(formats) != ("tflite",)):
        raise ValueError(
            "A .tflite `output` takes exactly one quantization; give a folder for several. "
            f"Received: output={os.fspath(output)!r}, quantizations={list(quantizations)}"
        )
    folder = os.path.dirname(os.path.abspath(output)) if single_file else os.fspath(output or _default_output(model_path))
    if not single_file:
        parent = os.path.dirname(os.path.abspath(folder))
        if not os.path.isdir(parent):
            raise FileNotFoundError(f"The parent folder of `output` does not exist: {parent!r}. Received: output={folder!r}")
    created = not single_file and not os.path.isdir(folder)
    os.makedirs(folder, exist_ok=True)
    start = time.monotonic()

    def say(line: str) -> None:
        if progress is not None:
            progress(f"{line} [{time.monotonic() - start:.0f} s]")

    try:
        return _export(
            source, output, quantizations, formats=formats, dataset=dataset, split=split,
            input_type=input_type, output_type=output_type, fold_preprocessing=fold_preprocessing,
            size=size, calibration_samples=calibration_samples, eval_samples=eval_samples,
            latency_runs=latency_runs, num_threads=num_threads,
            allow_float_fallback=allow_float_fallback, per_channel=per_channel, data_dir=data_dir,
            model_path=model_path, recipe=recipe, card=card, resize_mode=resize_mode, folder=folder,
            single_file=single_file, say=say,
        )
    except BaseException:
        if created:  # a failed export leaves no half-made folder behind
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _export(source: Any, output: Any, quantizations: Sequence[str], *, formats: Sequence[str],
            dataset: str | None, split: str, input_type: str, output_type: str,
            fold_preprocessing: bool, size: tuple[int, int] | None, calibration_samples: int,
            eval_samples: int | None, latency_runs: int, num_threads: int | None,
            allow_float_fallback: bool, per_channel: bool, data_dir: str | None, model_path: str,
            recipe: dict[str, Any], card: dict[str, Any] | None, resize_mode: str, folder: str,
            single_file: bool, say: Callable[[str], Any]) -> dict[str, Any]:
    """:func:`export_source` once its arguments are checked and ``folder`` exists."""
    # One process writes an export folder: a second export into it is refused with the holder's
    # PID; a lock left by a killed export is taken over.
    with FolderLock(folder, "export folder"):
        from kerascv_course.training.run_folder import load_keras_model

        say(f"Loading {model_path}")
        model = load_keras_model(model_path)
        _, h, w, c = model.input_shape
        info = None
        preprocessing = None
        images = labels = calibration = None
        load_size = recipe.get("image_size")
        seed = int(recipe.get("seed", 0))
        dataset_kwargs = (recipe.get("dataset_kwargs") or {}) if recipe.get("dataset") == dataset else {}
        feed_size = size or (h, w)
        fold = fold_preprocessing
        if card is not None:  # what the model was trained with, whatever data it is measured on
            preprocessing = Preprocessing.from_card(card, input_size=size)
        if dataset is not None:
            say(f"Reading {eval_samples or 'all'} held-out images of {dataset} ({split})")
            images, labels, info = dataset_arrays(
                dataset, split, image_size=feed_size if fold else (h, w), channels=c, raw=fold,
                limit=eval_samples, load_size=load_size, data_dir=data_dir, seed=seed,
                dataset_kwargs=dataset_kwargs, resize_mode=resize_mode,
                preprocessing=None if fold else preprocessing,
            )
            if preprocessing is None:
                preprocessing = Preprocessing.from_info(info, input_size=size, resize_mode=resize_mode)
            if "int8" in quantizations:
                say(f"Reading {calibration_samples} calibration images of {dataset} (train)")
                calibration, _, _ = dataset_arrays(
                    dataset, "train", image_size=feed_size if fold else (h, w), channels=c, raw=fold,
                    limit=calibration_samples, shuffle_seed=seed, load_size=load_size,
                    data_dir=data_dir, seed=seed, dataset_kwargs=dataset_kwargs, resize_mode=resize_mode,
                    preprocessing=None if fold else preprocessing,
                )
        fold = fold and preprocessing is not None
        reference = with_preprocessing(model, preprocessing) if fold else model
        class_names = (card or {}).get("class_names") or (
            list(info.class_names) if info is not None and info.class_names else None
        )
        if class_names is not None and len(class_names) != int(model.output_shape[-1]):
            class_names = None

        output_kind = _output_kind(model)
        keras_probs = keras_probabilities(reference, images, output_kind) if images is not None else None
        report: dict[str, Any] = {
            "title": f"{model.name}: Keras vs LiteRT" + (f" on {dataset} ({split})" if dataset else ""),
            "source": os.fspath(source),
            "model_file": model_path,
            "dataset": dataset,
            "split": split if dataset else None,
            "num_images": int(len(images)) if images is not None else 0,
            "preprocessing_folded": bool(fold),
            "preprocessing": dataclasses.asdict(preprocessing) if preprocessing else None,
            "calibration_samples": int(len(calibration)) if calibration is not None else 0,
            "num_threads": num_threads,
            "keras": {
                "size_bytes": os.path.getsize(model_path),
                "accuracy": (
                    float(np.mean(keras_probs.argmax(-1) == labels.reshape(keras_probs.argmax(-1).shape)))
                    if keras_probs is not None else None
                ),
                "latency_ms": keras_latency(reference, runs=latency_runs)["median_ms"] if latency_runs else None,
            },
            "exports": [],
        }
        # All or nothing: the files about to be written leave the manifest first and join it last.
        planned = [os.path.basename(os.fspath(output)) if single_file else f"model_{q}.tflite" for q in quantizations] if "tflite" in formats else []
        planned += [labels_path_for(name) for name in planned]
        planned += (["model.onnx"] if "onnx" in formats else []) + [REPORT_NAME]
        unpublish(folder, planned)
        if "tflite" in formats:
            for q in quantizations:
                path = os.fspath(output) if single_file else os.path.join(folder, f"model_{q}.tflite")
                io = dict(input_type=input_type, output_type=output_type, per_channel=per_channel) if q == "int8" else {}
                say(f"Converting {q}" + (f" (calibrating on {len(calibration)} images)" if q == "int8" else ""))
                exported = export_tflite(
                    model, path, q, calibration if q == "int8" else None,
                    preprocessing=preprocessing, fold_preprocessing=fold, class_names=class_names,
                    calibration_samples=calibration_samples, allow_float_fallback=allow_float_fallback,
                    metadata={"source": os.fspath(source), "dataset": dataset}, **io,
                )
                say(f"Comparing {os.path.basename(exported.path)} with Keras on "
                    f"{0 if images is None else len(images)} images"
                    + (f" and timing {latency_runs} runs" if latency_runs else ""))
                row = compare_tflite(
                    exported.path, reference, images, labels, keras_probs=keras_probs,
                    latency_runs=latency_runs, num_threads=num_threads,
                )
                row["seconds"] = exported.seconds
                report["exports"].append(row)
        if "onnx" in formats:
            from kerascv_course.export.onnx import export_onnx

            say("Exporting ONNX")
            report["onnx"] = export_onnx(
                reference, os.path.join(folder, "model.onnx"),
                check_data=images[:32] if images is not None else None,
            )
        write_json(os.path.join(folder, REPORT_NAME), report)
        publish_mode(os.path.join(folder, REPORT_NAME))
        publish(folder, [name for name in planned if os.path.isfile(os.path.join(folder, name))])
        report["report_path"] = os.path.join(folder, REPORT_NAME)
        return report
