"""The photos and holes the evaluation runs on: folders, generated masks in hole-area bins, and
the held-out crops of the bundled photo (``held_out_cases``).

Generated masks: ``data_pipelines.masks.random_mask`` (the training generator, kind "mixed")
at ``square_size``², its hole fraction constrained to the bin (the first bin draws from 0.5 %
to 10 % so that no mask is empty) with up to 400 candidates, so that the masks are the training
distribution conditioned on the bin (the deterministic fallback is then rare: ≈ 2 % of
candidates land in 30–40 %), then resized nearest to the photo's own size. Seeds are
``[--seed, crc32("stem|bin|k")]``, so a mask depends only on the photo's name, its bin and its
index, not on which other photos are evaluated. A mask file's bin is its own-resolution hole
fraction (a 40–100 % bin collects larger holes).
"""

from __future__ import annotations

import os
import zlib

import cv2
import numpy as np
import tensorflow as tf

from crainpaint.image_header import IMAGE_EXTENSIONS
from crainpaint.imaging import read_image, read_mask
from crainpaint.pretrained import PRETRAINED_DIR
from data_pipelines.masks import MaskConfig, random_mask

# Hole-area bins of generated masks: (name, lowest, highest hole fraction).
GENERATED_BINS = (("0-10%", 0.0, 0.1), ("10-20%", 0.1, 0.2), ("20-30%", 0.2, 0.3),
                  ("30-40%", 0.3, 0.4))
# Mask files can hold any hole size: one more bin collects the rest.
FILE_BINS = GENERATED_BINS + (("40-100%", 0.4, 1.0),)
# The first bin's smallest generated hole fraction: no empty masks.
MIN_GENERATED_HOLE_FRACTION = 0.005
# Candidates random_mask draws before its fallback forces the bin (see the module docstring).
MASK_MAX_ATTEMPTS = 400


def list_images(images_dir, max_images=None):
    """Image files of a folder, in name order, the first ``max_images``."""
    images_dir = os.path.expanduser(images_dir)
    if not os.path.isdir(images_dir):
        raise FileNotFoundError(f"No image folder {images_dir}.")
    paths = sorted(os.path.join(images_dir, name) for name in os.listdir(images_dir)
                   if name.lower().endswith(IMAGE_EXTENSIONS))
    if not paths:
        raise FileNotFoundError(f"No images ({', '.join(IMAGE_EXTENSIONS)}) in {images_dir}.")
    return paths[:max_images] if max_images else paths


def pair_masks(image_paths, masks_dir):
    """{image path: mask path} by file stem; every image must have a mask."""
    masks_dir = os.path.expanduser(masks_dir)
    by_stem = {}
    for name in sorted(os.listdir(masks_dir)):
        if name.lower().endswith(IMAGE_EXTENSIONS):
            by_stem.setdefault(os.path.splitext(name)[0], os.path.join(masks_dir, name))
    stems = {path: os.path.splitext(os.path.basename(path))[0] for path in image_paths}
    missing = [os.path.basename(path) for path, stem in stems.items() if stem not in by_stem]
    if missing:
        raise FileNotFoundError(f"No mask with the same stem in {masks_dir} for "
                                f"{len(missing)} image(s): {missing[:5]}.")
    return {path: by_stem[stem] for path, stem in stems.items()}


def resize(image, height, width, interpolation=None):
    """cv2.resize to (height, width): area averaging when shrinking, bilinear when enlarging."""
    if image.shape[:2] == (height, width):
        return image
    if interpolation is None:
        shrinking = height <= image.shape[0] and width <= image.shape[1]
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)


def shrunk_size(height, width, long_side):
    """(height, width) with the long side at most ``long_side`` (aspect kept)."""
    if not long_side or max(height, width) <= long_side:
        return height, width
    scale = long_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def load_photo(path, long_side=None):
    """(uint8 RGB of a photo, area-shrunk to ``long_side`` if given; its original (H, W)).

    16-bit photos are rounded to 8 bits (every method works at 8 bits)."""
    pixels = read_image(path).pixels
    if pixels.dtype == np.uint16:
        pixels = np.round(pixels / 257.0).astype(np.uint8)
    height, width = shrunk_size(*pixels.shape[:2], long_side)
    return np.ascontiguousarray(resize(pixels, height, width)), pixels.shape[:2]


def square_hole_from(hole, size):
    """A hole map area-resized to size², thresholded at 0.5 (mask files at the fixed size)."""
    area = resize(hole.astype(np.float32), size, size)
    return area > 0.5


_MASK_FUNCTIONS = {}


def generated_mask(stem, bin_index, mask_index, seed, size):
    """The bin's seeded ``random_mask`` at size² as bool [size, size], and its seed."""
    name, low, high = GENERATED_BINS[bin_index]
    key = (bin_index, size)
    if key not in _MASK_FUNCTIONS:
        config = MaskConfig(min_hole_fraction=max(low, MIN_GENERATED_HOLE_FRACTION),
                            max_hole_fraction=high, max_attempts=MASK_MAX_ATTEMPTS)
        _MASK_FUNCTIONS[key] = tf.function(
            lambda mask_seed: random_mask(mask_seed, size, size, config),
            input_signature=[tf.TensorSpec([2], tf.int64)])
    mask_seed = [int(seed), zlib.crc32(f"{stem}|{name}|{mask_index}".encode()) & 0x7FFFFFFF]
    mask = _MASK_FUNCTIONS[key](tf.constant(mask_seed, tf.int64)).numpy()[..., 0] > 0.5
    return mask, mask_seed


def resize_nearest(hole, height, width):
    """A bool hole map resized nearest (pixel-centre aligned) to (height, width)."""
    resized = cv2.resize(hole.astype(np.uint8), (width, height),
                         interpolation=cv2.INTER_NEAREST_EXACT)
    return resized > 0


def bin_of(fraction, bins=FILE_BINS):
    """The name of the bin a hole fraction falls into ([low, high), the last one closed)."""
    for index, (name, low, high) in enumerate(bins):
        if low <= fraction < high or (index == len(bins) - 1 and fraction <= high):
            return name
    raise ValueError(f"Hole fraction {fraction} is outside every bin.")


def samples_of(config, image_paths):
    """The list of (image path, mask source) pairs the run evaluates, in order.

    A mask source is ("file", path) or ("generated", bin index, mask index).
    """
    if config.masks_dir:
        masks = pair_masks(image_paths, config.masks_dir)
        return [(path, ("file", masks[path])) for path in image_paths]
    return [(path, ("generated", bin_index, mask_index)) for path in image_paths
            for bin_index in range(len(GENERATED_BINS))
            for mask_index in range(config.masks_per_image)]


def holes_of(config, path, source, height, width, original):
    """(own-resolution hole, square hole, bin name, record) of one sample.

    ``(height, width)`` is the evaluated photo's size, ``original`` its size on disk (a mask
    file must have that size; it is resized nearest with the photo)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    size = config.square_size
    if source[0] == "file":
        hole = read_mask(source[1], config.mask_convention)[..., 0] > 0.5
        if hole.shape != (height, width):
            if hole.shape != tuple(original):
                raise ValueError(f"mask {source[1]} is {hole.shape[1]}x{hole.shape[0]} but image "
                                 f"{path} is {original[1]}x{original[0]} (width x height).")
            hole = resize_nearest(hole, height, width)
        square = square_hole_from(hole, size)
        return hole, square, bin_of(float(hole.mean())), {"mask": source[1]}
    _, bin_index, mask_index = source
    square, mask_seed = generated_mask(stem, bin_index, mask_index, config.seed, size)
    hole = resize_nearest(square, height, width)
    return hole, square, GENERATED_BINS[bin_index][0], {"mask_index": mask_index,
                                                        "mask_seed": mask_seed}


# The bundled photo: a validation photo, never trained on.
DEMO_PHOTO = os.path.join(PRETRAINED_DIR, "demo", "photo.jpg")


def held_out_cases():
    """512² crops of the bundled photo (a validation photo: never trained on) with three
    hand-made holes each — 15 (crop, hole) cases to check that trained weights are loaded."""
    photo = read_image(DEMO_PHOTO).pixels
    photo = cv2.resize(photo, (2048, 1152), interpolation=cv2.INTER_AREA)
    corners = ((0, 0), (0, 700), (600, 200), (600, 1500), (300, 1000))
    rows, cols = np.mgrid[:512, :512]
    holes = [((rows - 256) / 90.0) ** 2 + ((cols - 256) / 130.0) ** 2 <= 1.0,
             (np.abs(rows - 200) < 40) & (cols > 60) & (cols < 450),
             ((rows - 320) / 110.0) ** 2 + ((cols - 180) / 70.0) ** 2 <= 1.0]
    return [(np.ascontiguousarray(photo[top:top + 512, left:left + 512]), hole[..., None])
            for top, left in corners for hole in holes]
