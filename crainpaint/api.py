"""The inference API: ``crainpaint.inpaint(image, mask, model)`` on numpy arrays.

A thin front of ``crainpaint.pipeline``: the arguments are checked, the ``CRAConfig`` is
resolved (the optional per-field overrides applied), and the cached ``InpaintPipeline`` of the
generator and config inpaints the photo (one traced function per mask kind, with dynamic height
and width, so a folder of photos of different sizes is traced once).
"""

from __future__ import annotations

import dataclasses

from crainpaint import cra
from crainpaint import pipeline
from crainpaint.image_header import check_pixel_budget


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
    image = pipeline.check_image(image)
    pipeline.check_mask_convention(mask_convention)
    check_pixel_budget(image.shape[0], image.shape[1], max_pixels)
    mask = pipeline.as_mask(mask, image.shape, mask_convention)
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
        model = pipeline.load_generator()
    return pipeline.pipeline_for(model, config)(image, mask, mask_convention)
