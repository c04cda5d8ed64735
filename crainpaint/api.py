"""The inference API: ``crainpaint.inpaint(image, mask, model)`` on numpy arrays.

One traced CRA function per (generator, CRA options, mask kind), with dynamic height and width,
so a folder of photos of different sizes is traced once. Masks are checked and turned into hole
maps by ``pixels.validate_mask`` (integer masks by ``pixels.hole_from_mask``, the rule the
SavedModel export uses too) before any work.
"""

from __future__ import annotations

import dataclasses
import weakref

import numpy as np
import tensorflow as tf

from crainpaint import cra
from crainpaint.image_header import check_pixel_budget
from crainpaint.pixels import MASK_CONVENTIONS, hole_from_mask, validate_mask

_TRACED = weakref.WeakKeyDictionary()


def _traced_inpaint(generator, config, mask_dtype, convention):
    """A tf.function (image uint8 [H, W, 3], mask [H, W, C]) → uint8 [H, W, 3]."""
    key = (config, np.dtype(mask_dtype).name, convention)
    per_generator = _TRACED.setdefault(generator, {})
    if key not in per_generator:
        @tf.function(input_signature=[tf.TensorSpec([None, None, 3], tf.uint8),
                                      tf.TensorSpec([None, None, None], tf.as_dtype(mask_dtype))])
        def run(image, mask):
            if mask.dtype == tf.bool:
                hole = mask[..., :1]
            else:
                hole = hole_from_mask(mask, convention) > 0.5
            return cra.inpaint_image(image, hole, generator, config)

        per_generator[key] = run
    return per_generator[key]


def _as_mask(mask, image_shape, convention):
    """The mask as a bool hole map [H, W, 1], by the rules of ``pixels.validate_mask``."""
    return validate_mask(mask, image_shape, convention)


def inpaint(image, mask, model=None, *, mask_convention="white_hole", config=None,
            geometry=None, feather_px=None, hole_threshold=None, seam=None, max_pixels=None):
    """Fills the hole of ``image`` with the generator and CRA (Sec. 3.1).

    Args:
        image: RGB array [H, W, 3], uint8 or uint16 (16-bit photos are inpainted at 8-bit
            precision inside the hole; outside it every sample is kept).
        mask: the image's size; a float hole map [H, W(, 1)] (> 0.5 = hole; NaN refused), a
            bool hole map (True = hole; several channels must agree), or a uint8/uint16 gray,
            RGB or RGBA mask read with ``mask_convention`` (white = hole by default),
            thresholded at half range. An integer mask of only 0 and 1 is read as black and
            white (1 = white) with a ``crainpaint.pixels.MaskWarning``; an RGBA mask of one flat
            colour is read from its alpha (opaque = hole); a mask with no hole, or with nothing
            but hole, warns too (see ``crainpaint.pixels.validate_mask``).
        model: a ``crainpaint.models.Generator``; the bundled one when None.
        config: a ``crainpaint.cra.CRAConfig`` (default: ``CRAConfig()``; the paper's
            pipeline: ``CRAConfig.paper()``).
        geometry / feather_px / hole_threshold / seam: when given, replace that field of
            ``config`` (see ``crainpaint.cra.CRAConfig``).
        max_pixels: the pixel budget (height × width), checked before any work; None: the
            ``CRAINPAINT_MAX_PIXELS`` environment variable or
            ``crainpaint.image_header.DEFAULT_MAX_PIXELS``; 0: no limit (docs/limits.md).
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
    if mask_convention not in MASK_CONVENTIONS:
        raise ValueError(f"mask_convention must be one of {MASK_CONVENTIONS}, got "
                         f"{mask_convention!r}.")
    check_pixel_budget(image.shape[0], image.shape[1], max_pixels)
    mask = _as_mask(mask, image.shape, mask_convention)
    if config is None:
        config = cra.CRAConfig()
    if not isinstance(config, cra.CRAConfig):
        raise TypeError(f"config must be a crainpaint.cra.CRAConfig, got {type(config).__name__}.")
    overrides = {name: value for name, value in (
        ("geometry", geometry), ("feather_px", feather_px), ("hole_threshold", hole_threshold),
        ("seam", seam)) if value is not None}
    if overrides:
        config = dataclasses.replace(config, **overrides)
    if model is None:
        from crainpaint.pretrained import load_pretrained
        model = load_pretrained()
    run = _traced_inpaint(model, config, mask.dtype, mask_convention)
    if image.dtype == np.uint8:
        return run(image, mask).numpy()
    # 16-bit: inpaint an 8-bit copy, then paste what changed (hole and feather band) back at
    # 16 bits; every other sample is the input's.
    eight_bit = np.round(image / 257.0).astype(np.uint8)
    filled = run(eight_bit, mask).numpy()
    if mask.dtype == np.bool_:
        hole = mask[..., :1]
    else:
        hole = hole_from_mask(mask, mask_convention).numpy() > 0.5
    # Hole pixels always take the inpainted value, even where it equals the 8-bit input.
    changed = np.any(filled != eight_bit, axis=-1, keepdims=True) | hole
    return np.where(changed, filled.astype(np.uint16) * 257, image)
