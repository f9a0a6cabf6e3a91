"""U-Net trained on the embedded cracks through the trainer: the held-out mean IoU and the artifacts."""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import pytest
from PIL import Image

from kerascv_course.training import Recipe, train


@pytest.mark.slow
def test_unet_learns_the_cracks(tmp_path):
    recipe = Recipe(
        model="unet",
        dataset="cracks",
        dataset_kwargs={"num_examples": 256},
        image_size=64,
        model_kwargs={"base_filters": 16, "depth": 3, "batch_norm": True},
        epochs=4,
        batch_size=8,
        learning_rate=3e-3,
        schedule="constant",
        tensorboard=False,
        output=str(tmp_path / "run"),
    )
    result = train(recipe, verbose=0)
    metrics = json.loads(open(os.path.join(result.output, "metrics.json")).read())
    # held-out (fixed) test split; all-background prediction would score a mean IoU of about 0.47
    assert metrics["mean_iou"] >= 0.70, metrics
    assert metrics["dice"] >= 0.80 and metrics["loss"] < 0.6
    for artifact in ("model.keras", "history.csv", "history.png", "recipe.json"):
        assert os.path.isfile(os.path.join(result.output, artifact)), artifact
    pngs = [f for f in os.listdir(result.output) if f.endswith(".png") and f != "history.png"]
    assert pngs, os.listdir(result.output)  # the overlay of test samples
    with Image.open(os.path.join(result.output, pngs[0])) as png:
        assert png.size[1] > png.size[0]
    model = keras.saving.load_model(os.path.join(result.output, "model.keras"), safe_mode=True)
    x = np.zeros((1, 64, 64, 3), np.float32)
    assert model.predict(x, verbose=0).shape == (1, 64, 64, 2)
