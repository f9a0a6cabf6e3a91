"""keras.applications' weight files load into our builders unchanged and compute the same function.

The tests write the weight files themselves: they build keras.applications' model with
``weights=None``, save its weights in the legacy ``.h5`` layout its published files use, load that
file with ``weights=PATH`` into our builder and compare outputs.
"""

from __future__ import annotations

import math

import h5py
import keras
import numpy as np
import pytest
from keras.src.legacy.saving import legacy_h5_format

from kerascv_course.models import get_spec, list_models

TWINS = [n for n in list_models("classification") if get_spec(n).keras_app]
# Files without the top load by the same code path: check them on the smallest twin of each family.
NO_TOP = sorted(
    min((n for n in TWINS if get_spec(n).family == f), key=lambda n: get_spec(n).params)
    for f in {get_spec(n).family for n in TWINS}
)
CASES = [(n, True) for n in TWINS] + [(n, False) for n in NO_TOP]


def _side(name: str) -> int:
    spec = get_spec(name)
    return max(spec.small_input_shape[0], 32 * math.ceil(spec.min_input_size / 32))


def _save_legacy_h5(model: keras.Model, path) -> None:
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


@pytest.mark.parametrize("name,include_top", CASES, ids=[f"{n}-{'top' if t else 'notop'}" for n, t in CASES])
def test_keras_applications_weight_file_loads_and_matches(name, include_top, tmp_path):
    spec = get_spec(name)
    side = _side(name)
    kwargs = dict(include_top=include_top, input_shape=(side, side, 3))
    if include_top:
        kwargs["classes"] = 10
    reference = getattr(keras.applications, spec.keras_app)(weights=None, **kwargs)
    # Random, non-trivial statistics so batch-norm layers matter.
    rng = np.random.default_rng(0)
    reference.set_weights(
        [w + rng.normal(0, 0.02, w.shape).astype(w.dtype) if w.ndim == 1 else w
         for w in reference.get_weights()]
    )
    path = tmp_path / f"{name}.h5"
    _save_legacy_h5(reference, path)
    ours = spec.builder(weights=str(path), **kwargs)
    x = rng.uniform(-1, 1, size=(2, side, side, 3)).astype("float32")
    np.testing.assert_allclose(
        np.asarray(ours(x, training=False)), np.asarray(reference(x, training=False)),
        rtol=1e-4, atol=1e-4,
    )


def test_a_weight_file_of_another_architecture_names_the_mismatch(tmp_path):
    reference = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    path = tmp_path / "vgg16_notop.h5"
    _save_legacy_h5(reference, path)
    with pytest.raises(ValueError, match="backbone layer 'block3_conv4' is not in"):
        get_spec("vgg19").builder(weights=str(path), include_top=False, input_shape=(32, 32, 3))


def test_own_weight_files_round_trip(tmp_path):
    spec = get_spec("lenet5")
    model = spec.builder()
    path = tmp_path / "lenet.weights.h5"
    model.save_weights(path)
    loaded = spec.builder(weights=str(path))
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
