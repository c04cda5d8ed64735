"""The inference API: ``crainpaint.inpaint(image, mask, model)`` on numpy arrays.

One traced CRA function per (generator, CRA options) pair, with dynamic height and width, so a
folder of photos of different sizes is traced once.
"""

from __future__ import annotations

import weakref

import numpy as np
import tensorflow as tf

from crainpaint import cra
from crainpaint.imaging import hole_from_mask

_TRACED = weakref.WeakKeyDictionary()


def _traced_inpaint(generator, config):
    per_generator = _TRACED.setdefault(generator, {})
    if config not in per_generator:
        @tf.function(input_signature=[tf.TensorSpec([None, None, 3], tf.uint8),
                                      tf.TensorSpec([None, None, 1], tf.bool)])
        def run(image, hole):
            return cra.inpaint_image(image, hole, generator, config)

        per_generator[config] = run
    return per_generator[config]


def _as_hole(mask, shape, mask_convention):
    mask = np.asarray(mask)
    if mask.dtype in (np.float32, np.float64):
        if mask.ndim == 2:
            mask = mask[..., np.newaxis]
        hole = (mask > 0.5).astype(np.float32)
    else:
        if mask.ndim == 2:
            mask = mask[..., np.newaxis]
        if mask.ndim != 3 or mask.shape[-1] not in (1, 3, 4):
            raise ValueError(f"mask must be [H, W], [H, W, 1], [H, W, 3] or [H, W, 4], got shape "
                             f"{mask.shape}.")
        hole = hole_from_mask(mask, mask_convention).numpy()
    if hole.shape[:2] != shape[:2]:
        raise ValueError(f"mask is {hole.shape[1]}×{hole.shape[0]} but image is "
                         f"{shape[1]}×{shape[0]} (width×height); they must match.")
    return hole


def inpaint(image, mask, model=None, *, mask_convention="white_hole", geometry="tile",
            feather_px=0):
    """Fills the hole of ``image`` with the generator and CRA (Sec. 3.1).

    Args:
        image: RGB array [H, W, 3], uint8 or uint16 (16-bit photos are inpainted at 8-bit
            precision inside the hole; outside it every sample is kept).
        mask: hole map of the image's size: float (> 0.5 = hole), or uint8/uint16/bool gray,
            RGB or RGBA read with ``mask_convention`` (white = hole by default).
        model: a ``crainpaint.models.Generator``; the bundled one when None.
        geometry / feather_px: see ``crainpaint.cra.CRAConfig``.
    Returns:
        An array of the image's shape and dtype; pixels outside the hole are the input's.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"image must be RGB [H, W, 3], got shape {image.shape}.")
    if image.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"image must be uint8 or uint16, got {image.dtype}.")
    if min(image.shape[:2]) < 1:
        raise ValueError(f"image is empty: shape {image.shape}.")
    hole = _as_hole(mask, image.shape, mask_convention)
    if model is None:
        from crainpaint.pretrained import load_pretrained
        model = load_pretrained()
    if not hole.any():
        return image.copy()
    config = cra.CRAConfig(geometry=geometry, feather_px=feather_px)
    run = _traced_inpaint(model, config)
    if image.dtype == np.uint8:
        return run(image, hole > 0.5).numpy()
    # 16-bit: inpaint an 8-bit copy, then paste its hole (and feather band) back at 16 bits.
    eight_bit = np.round(image / 257.0).astype(np.uint8)
    filled = run(eight_bit, hole > 0.5).numpy()
    changed = np.any(filled != eight_bit, axis=-1, keepdims=True) | (hole > 0.5)
    return np.where(changed, filled.astype(np.uint16) * 257, image)
