"""``kerascv-course show-augment``: look at what an augmentation policy does to a dataset."""

from __future__ import annotations

import argparse
import json
from typing import Any

from kerascv_course.cli.command import add_command


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``show-augment``."""
    p = add_command(
        sub,
        run_show_augment,
        help="save a PNG grid of original vs augmented samples of a dataset",
    )
    p.add_argument("policy", help="augmentation policy name")
    p.add_argument("--dataset", required=True, help="dataset name, e.g. shapes, digits, cifar10, folder:PATH")
    p.add_argument("--output", default=None, help="PNG file (default: augment-POLICY-DATASET.png)")
    p.add_argument("--n", type=int, default=8, help="number of samples (columns)")
    p.add_argument("--repeats", type=int, default=3, help="augmented draws per sample (rows)")
    p.add_argument("--image-size", type=int, default=None, help="model input side (default: the dataset's)")
    p.add_argument("--split", default="train", help="dataset split")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="tensorflow-datasets data folder")
    p.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE",
        help="policy option, VALUE as JSON (e.g. --option cutout_size=16 --option 'scale_range=[36,73]')",
    )


def parse_options(items: list[str]) -> dict[str, Any]:
    """``["k=v", ...]`` to a dict, each value parsed as JSON when it is JSON (else a string)."""
    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--option must look like KEY=VALUE. Received: --option {item!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
        if isinstance(options[key], list):
            options[key] = tuple(options[key])
    return options


def show_augment(
    policy: str,
    dataset: str,
    output: str,
    *,
    n: int = 8,
    repeats: int = 3,
    image_size: int | None = None,
    split: str = "train",
    seed: int = 0,
    data_dir: str | None = None,
    options: dict[str, Any] | None = None,
) -> str:
    """Save the original-vs-augmented grid of ``policy`` on ``dataset`` and return its path."""
    import numpy as np
    import tensorflow as tf

    from kerascv_course.data import load_dataset
    from kerascv_course.data.policies import get_policy
    from kerascv_course.viz.grids import image_grid

    for name, value, low in (("n", n, 1), ("repeats", repeats, 1)):
        if value < low:
            raise ValueError(f"`--{name}` must be >= {low}. Received: {name}={value}")
    ds, info = load_dataset(dataset, split, data_dir=data_dir, image_size=image_size, seed=seed)
    augment = get_policy(policy, task=info.task, image_size=image_size, info=info, **(options or {}))
    size = image_size
    if size is None and None in tuple(info.image_shape[:2]):
        size = 224 if getattr(augment, "output_size", None) is None else None
    samples = list(ds.take(n).as_numpy_iterator())
    if not samples:
        raise ValueError(f"The {split!r} split of {dataset!r} is empty. Received: dataset={dataset!r}")
    segmentation = info.task == "segmentation"

    def original(image: np.ndarray) -> tf.Tensor:
        x = tf.image.convert_image_dtype(image, tf.float32)
        return tf.image.resize(x, (size, size)) if size and getattr(augment, "output_size", None) is None else x

    def as_mask(mask: Any) -> np.ndarray:
        m = np.asarray(mask, np.float32)
        return m / max(1, info.num_classes - 1)

    rows: list[list[np.ndarray]] = [[original(x).numpy() for x, _ in samples]]
    labels: list[str] = ["original"]
    if segmentation:
        rows.append([as_mask(y) for _, y in samples])
        labels.append("mask")
    for k in range(repeats):
        images, masks = [], []
        for i, (x, y) in enumerate(samples):
            image, target = original(x), tf.convert_to_tensor(y)
            if segmentation and size and y.ndim >= 2:  # masks follow their resized images
                mask = target[..., None] if y.ndim == 2 else target
                target = tf.image.resize(mask, (size, size), method="nearest")
                target = target[..., 0] if y.ndim == 2 else target
            if augment is not None:
                image, target = augment(image, target, tf.constant([seed + k, i], tf.int64))
            images.append(np.asarray(image))
            masks.append(as_mask(target) if segmentation else None)
        rows.append(images)
        labels.append(f"augmented {k + 1}")
        if segmentation:
            rows.append(masks)
            labels.append("mask")
    titles = None if segmentation else [info.class_names[int(y)] for _, y in samples]
    return image_grid(rows, output, row_labels=labels, column_titles=titles, title=f"augmentation policy {policy!r} on {dataset}")


def run_show_augment(args: argparse.Namespace) -> int:
    """Draw --n samples of --dataset and save a grid: the originals on the first row, then
    --repeats augmented versions of each (POLICY: none, lenet, alexnet, vgg, inception, resnet,
    cifar; segmentation datasets take their own policies).
    """
    output = args.output or f"augment-{args.policy}-{args.dataset.replace(':', '_').replace('/', '_')}.png"
    path = show_augment(
        args.policy, args.dataset, output, n=args.n, repeats=args.repeats, image_size=args.image_size,
        split=args.split, seed=args.seed, data_dir=args.data_dir, options=parse_options(args.option),
    )
    print(f"Saved {path}")
    return 0
