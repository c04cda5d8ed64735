"""Measures how fast the input pipeline delivers masks and batches (single process, CPU).

Prints the CPU model (absolute timings depend on it: state it with any figure), then masks/s
of `random_mask` inside `tf.data` for each kind, and batches/s of `make_dataset` over a folder of
synthetic 1024×768 JPEG photos (or `--data_dir`), at each `--sizes`:

    .venv/bin/python -m data_pipelines.benchmark --sizes 256 512 --batch_size 8
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import cv2
import numpy as np
import tensorflow as tf

from crainpaint.system_info import cpu_description
from data_pipelines.masks import MASK_KINDS, MaskConfig, random_mask
from data_pipelines.sources import DataConfig, make_dataset


def _items_per_second(
    dataset: tf.data.Dataset, items_per_element: int, warmup: int, measured: int
) -> float:
    iterator = iter(dataset)
    for _ in range(warmup):
        next(iterator)
    start = time.perf_counter()
    for _ in range(measured):
        next(iterator)
    return measured * items_per_element / (time.perf_counter() - start)


def masks_per_second(size: int, kind: str, count: int = 64) -> float:
    """Masks/s of `random_mask` at size² inside a parallel `tf.data` map."""
    config = MaskConfig(kind=kind)
    dataset = tf.data.Dataset.range(10**9).map(
        lambda index: random_mask(tf.stack([index, 0]), size, size, config),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    dataset = dataset.batch(8).prefetch(2)
    return _items_per_second(dataset, 8, warmup=2, measured=max(1, count // 8))


def write_synthetic_photos(
    directory: str, count: int = 24, height: int = 768, width: int = 1024
) -> None:
    """Smooth random colour images saved as JPEG (realistic decode cost, no data set needed)."""
    random_state = np.random.RandomState(0)
    for index in range(count):
        small = random_state.randint(0, 256, (height // 32, width // 32, 3)).astype(np.uint8)
        image = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
        noise = random_state.randint(-12, 13, image.shape)
        image = np.clip(image.astype(np.int32) + noise, 0, 255).astype(np.uint8)
        cv2.imwrite(
            os.path.join(directory, f"photo_{index:03d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90]
        )


def batches_per_second(data_dir: str, size: int, batch_size: int, count: int = 12) -> float:
    """Batches/s of `make_dataset` (folder source, mixed masks) at size²."""
    config = DataConfig(
        dataset="folder", data_dir=data_dir, image_size=size, global_batch_size=batch_size
    )
    return _items_per_second(make_dataset(config), 1, warmup=3, measured=count)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument(
        "--data_dir", default=None, help="Image folder (default: synthetic JPEG photos)."
    )
    arguments = parser.parse_args(argv)
    print("CPU:", cpu_description())
    with tempfile.TemporaryDirectory() as synthetic:
        data_dir = arguments.data_dir
        if data_dir is None:
            write_synthetic_photos(synthetic)
            data_dir = synthetic
        for size in arguments.sizes:
            for kind in MASK_KINDS:
                print(f"{size}²  masks/s ({kind}): {masks_per_second(size, kind):.1f}")
            rate = batches_per_second(data_dir, size, arguments.batch_size)
            print(
                f"{size}²  batches/s (batch {arguments.batch_size}, mixed masks): {rate:.2f} "
                f"= {rate * arguments.batch_size:.1f} examples/s"
            )


if __name__ == "__main__":
    main()
