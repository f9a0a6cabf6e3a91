"""Transforms: small pure functions ``transform(image, seed, **params) -> image`` in TensorFlow ops.

Modules: :mod:`.checks` (sizes, TF-free), :mod:`.sampling` (per-image random values from one
stateless seed, one image or a batch), :mod:`.affine` (the affine maths and warps, written once),
:mod:`.geometric` (flips, crops, affine and elastic distortions), :mod:`.photometric` (brightness,
contrast, saturation, cutout), :mod:`.pca` (AlexNet's PCA lighting) and :mod:`.joint` (image + mask
together, for segmentation). Importing this package imports none of them.
"""
