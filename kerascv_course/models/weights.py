"""Loading weights into a built model: weight files, keras.applications' ImageNet weights, and a
classification model's weights into a U-Net encoder. Every mismatch is an error naming the layer."""

from __future__ import annotations

import os
from typing import Any

import keras

from kerascv_course.models.registry import get_spec


def load_weight_file(net: keras.Model, path: str, *, model: str, **kwargs: Any) -> None:
    """Load a weight file into ``net``, turning mismatches into an error that names the layer.

    Accepts Keras 3 ``.weights.h5`` files, keras.applications' legacy ``.h5`` files (matched by
    layer order, as keras.applications does) and whole ``.keras`` model files.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"{model}: no weight file at {path!r}. Received: weights={path!r}")
    try:
        if path.endswith(".keras"):
            source = keras.saving.load_model(path, compile=False, safe_mode=True)
            net.set_weights(source.get_weights())
        else:
            net.load_weights(path, **kwargs)
    except (ValueError, KeyError, OSError) as err:
        raise ValueError(
            f"{model}: the weight file does not match this architecture/configuration "
            f"({net.count_params():,} parameters): {err} Received: weights={path!r}"
        ) from err


def load_imagenet_weights(
    net: keras.Model, model: str, *, include_top: bool, app_kwargs: dict[str, Any] | None = None
) -> None:
    """Fetch keras.applications' published ImageNet weights for ``model`` and load them.

    Uses keras.applications' own download path and cache (``~/.keras/models``), so a file already
    cached there loads offline.
    """
    spec = get_spec(model)
    ctor = getattr(keras.applications, spec.keras_app)
    try:
        reference = ctor(
            weights="imagenet",
            include_top=include_top,
            input_shape=tuple(net.input_shape[1:]),
            **(app_kwargs or {}),
        )
    except Exception as err:  # keras.utils.get_file raises a bare Exception when offline
        raise RuntimeError(
            f"{model}: could not fetch keras.applications' ImageNet weights for "
            f"{spec.keras_app} ({err}). Without network access, download the weight file on "
            f"another machine (keras.applications.{spec.keras_app}(weights='imagenet') saves it "
            f"under ~/.keras/models/) and copy it to this machine's ~/.keras/models/, or pass its "
            f"path: weights='/path/to/file.h5'."
        ) from err
    net.set_weights(reference.get_weights())


def load_encoder_weights(encoder: keras.Model, path: str, *, model: str = "unet") -> None:
    """Load a classification model's weight file into an ``include_top=False`` encoder.

    Args:
        encoder: the backbone built with ``include_top=False``.
        path: a whole-model ``.keras`` file (layers matched by name, the top skipped), a Keras
            ``.weights.h5`` file saved from the same architecture (with or without its top:
            the top comes last and is left unread), or a keras.applications-style legacy ``.h5``
            file (matched by layer name).
        model: the model the encoder belongs to, in messages.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: when the file does not fit the encoder (no layer in common, or a shape
            differs); the message names the layer.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{model}: no weight file at that path. Received: encoder_weights={path!r}"
        )
    if path.endswith(".keras"):
        source = keras.saving.load_model(path, compile=False, safe_mode=True)
        source_layers = {layer.name: layer for layer in source.layers}
        matched = 0
        for layer in encoder.layers:
            if not layer.weights:
                continue
            if layer.name not in source_layers:
                raise ValueError(
                    f"{model}: the encoder layer {layer.name!r} is not in the weight file's model "
                    f"{source.name!r}; `encoder_weights` must come from the same architecture. "
                    f"Received: encoder_weights={path!r}"
                )
            values = source_layers[layer.name].get_weights()
            shapes = [tuple(w.shape) for w in layer.weights]
            if [tuple(v.shape) for v in values] != shapes:
                raise ValueError(
                    f"{model}: the encoder layer {layer.name!r} has weights of shapes {shapes} "
                    f"but the file's have {[tuple(v.shape) for v in values]}. "
                    f"Received: encoder_weights={path!r}"
                )
            layer.set_weights(values)
            matched += 1
        if not matched:
            raise ValueError(
                f"{model}: no encoder layer found in the weight file. "
                f"Received: encoder_weights={path!r}"
            )
    elif path.endswith(".h5") and not path.endswith(".weights.h5"):
        try:
            encoder.load_weights(path, by_name=True)
        except (ValueError, KeyError, OSError) as err:
            raise ValueError(
                f"{model}: the weight file does not fit the encoder: {err} "
                f"Received: encoder_weights={path!r}"
            ) from err
    else:
        load_weight_file(encoder, path, model=model)
