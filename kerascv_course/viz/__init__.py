"""Look: training curves, filter grids, feature maps, saliency, confusion matrices, segmentation
overlays, the per-layer table, search plots, per-layer gradient norms and DeconvNet projections.

Names load lazily (matplotlib and TensorFlow on first use).

Example:
    >>> from kerascv_course.viz import plot_history, layer_table
"""

from __future__ import annotations

from kerascv_course.utils.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "plot_history": "curves",
    "plot_confusion_matrix": "confusion",
    "image_grid": "grids",
    "plot_filters": "inspect",
    "feature_maps": "inspect",
    "plot_feature_maps": "inspect",
    "saliency_map": "inspect",
    "plot_saliency": "inspect",
    "layer_table": "layers",
    "format_layer_table": "layers",
    "plot_segmentation_samples": "overlays",
    "overlay": "overlays",
    "class_colors": "overlays",
    "plot_trials": "tuning",
    "plot_hparams": "tuning",
    "hparam_importance": "tuning",
    "GradientNorms": "kerascv_course.training.gradients",
    "layer_gradient_norms": "kerascv_course.training.gradients",
    "read_grad_norms_csv": "kerascv_course.training.gradients",
    "plot_grad_norms": "gradients",
    "deconvnet": "deconvnet",
    "plot_deconvnet": "deconvnet",
})
