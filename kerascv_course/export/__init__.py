"""Ship: TFLite (and ONNX) export, verification reports, and on-device inference.

Names load lazily, so ``from kerascv_course.export import TFLiteClassifier`` imports only NumPy,
Pillow and LiteRT — no TensorFlow — as a device running the model would. The exporters
(:func:`export_tflite`, :func:`export_onnx`, :func:`export_source`) import TensorFlow when first used.

Example:
    >>> from kerascv_course.export import export_tflite, TFLiteClassifier
    >>> export_tflite(model, "model.tflite", "dynamic")
    >>> TFLiteClassifier("model.tflite").predict("image.png", top_k=3)
"""

from __future__ import annotations

from kerascv_course.utils.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    # no TensorFlow
    "TFLiteClassifier": "inference",
    "Prediction": "inference",
    "read_labels": "inference",
    "labels_path_for": "inference",
    "read_metadata": "tflite_file",
    "list_ops": "tflite_file",
    "OpInfo": "tflite_file",
    # TensorFlow
    "export_tflite": "tflite",
    "with_preprocessing": "preprocessing",
    "Preprocessing": "preprocessing",
    "TFLiteExport": "tflite",
    "QUANTIZATIONS": "tflite",
    "IO_TYPES": "tflite",
    "compare_tflite": "report",
    "keras_latency": "report",
    "format_report": "report",
    "export_source": "pipeline",
    "export_onnx": "onnx",
})
