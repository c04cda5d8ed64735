"""Object-shape mask templates (paper Sec. 3.5.2): where they live, loading them, placing one.

The templates are our own silhouettes (drawn by `make_shapes.py`, shipped as 1-bit PNGs in
`shapes/`). `load_shape_templates` reads them once per process into one constant tensor;
`place_template` scales, rotates, mirrors and positions one of them on a canvas in graph ops, so
`masks.object_mask` can draw random object masks inside `tf.data`.
"""

from __future__ import annotations

import functools
import os

import cv2
import numpy as np
import tensorflow as tf

SHAPES_DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shapes")


@functools.lru_cache(maxsize=None)
def _load_template_array(directory: str) -> np.ndarray:
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"Shape-template folder {directory!r} does not exist; "
            "run `python -m data_pipelines.make_shapes`."
        )
    names = sorted(name for name in os.listdir(directory) if name.lower().endswith(".png"))
    if not names:
        raise FileNotFoundError(
            f"No .png shape templates in {directory!r}; run `python -m data_pipelines.make_shapes`."
        )
    templates = []
    for name in names:
        image = cv2.imread(os.path.join(directory, name), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise ValueError(f"Shape template {os.path.join(directory, name)!r} cannot be decoded.")
        if image.shape[0] != image.shape[1] or (templates and image.shape != templates[0].shape):
            raise ValueError(
                f"Shape templates must be square and all of one size; {name} is {image.shape}, "
                f"expected {templates[0].shape if templates else 'square'}."
            )
        templates.append((image > 127).astype(np.uint8))
    stacked = np.stack(templates)
    stacked.setflags(write=False)
    return stacked


def load_shape_templates(directory: str | None = None) -> tf.Tensor:
    """The object-shape templates of `shapes/` as one constant tensor (paper Sec. 3.5.2).

    The PNG files are read once per process (cached); each call returns a constant made from the
    cached array, so it can be used eagerly or while tracing a `tf.function`/`tf.data` map.

    Args:
        directory: folder of square binary PNGs (white = object); defaults to the `shapes` folder
            next to this module.

    Returns:
        uint8 [templates, size, size] with 1 = object (hole), 0 = background, in file-name order.
    """
    return tf.constant(_load_template_array(os.path.abspath(directory or SHAPES_DIRECTORY)))


@tf.autograph.experimental.do_not_convert
def place_template(
    template: tf.Tensor,
    height: int,
    width: int,
    scale: tf.Tensor,
    angle: tf.Tensor,
    flip: tf.Tensor,
    center: tf.Tensor,
) -> tf.Tensor:
    """Scales, rotates, mirrors and positions one template on a height×width canvas.

    The inverse transform (output pixel -> template pixel) is given to
    `tf.raw_ops.ImageProjectiveTransformV3` with bilinear sampling, and the result is thresholded
    at 0.5, which keeps the edges of up-scaled templates smooth and the output binary. Pixels that
    map outside the template are background.

    Args:
        template: [size, size] template, 1 = object (any numeric dtype).
        height: output height (Python int).
        width: output width (Python int).
        scale: scalar, output pixels per template pixel.
        angle: scalar rotation in radians (positive = counter-clockwise on screen).
        flip: scalar bool, mirror the template left-right before rotating.
        center: float32 [2] (x, y) output position of the template's centre, in pixels.

    Returns:
        float32 [height, width, 1], 1 = hole.
    """
    template = tf.cast(template, tf.float32)
    size = tf.cast(tf.shape(template)[0], tf.float32)
    template_center = (size - 1.0) / 2.0
    scale = tf.cast(scale, tf.float32)
    angle = tf.cast(angle, tf.float32)
    center = tf.cast(center, tf.float32)
    mirror = tf.where(tf.cast(flip, tf.bool), -1.0, 1.0)
    cosine = tf.cos(angle) / scale
    sine = tf.sin(angle) / scale
    # Output (x, y) -> template (u, v): undo the translation, the rotation (image y points down, so
    # a counter-clockwise rotation on screen is a clockwise one in these coordinates), the scale
    # and finally the mirror.
    a0, a1 = mirror * cosine, -mirror * sine
    b0, b1 = sine, cosine
    a2 = template_center - a0 * center[0] - a1 * center[1]
    b2 = template_center - b0 * center[0] - b1 * center[1]
    transform = tf.stack([a0, a1, a2, b0, b1, b2, 0.0, 0.0])[None, :]
    placed = tf.raw_ops.ImageProjectiveTransformV3(
        images=template[None, :, :, None],
        transforms=transform,
        output_shape=tf.constant([height, width], tf.int32),
        fill_value=tf.constant(0.0),
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    return tf.cast(placed[0] > 0.5, tf.float32)
