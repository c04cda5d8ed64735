"""Side-by-side comparison sheets: whole images on a top row, 1:1 crops around the hole below.

Both rows span the full width of the canvas, so no part of a sheet is left blank: the top row's
panels are scaled to equal columns of ``panel_width``, and the bottom row's crop windows are cut
at the photo's own scale with exactly the width of its columns (``column_widths``) and, by
default, the height of the top row. A crop is only rescaled when the photo is smaller than its
window. ``crainpaint.demo`` and ``experiments/remove_objects.py`` draw their sheets with
``comparison_sheet``.
"""

from __future__ import annotations

import cv2
import numpy as np

HOLE_TINT = (255, 0, 0)


def tint_hole(image, hole, colour=HOLE_TINT, strength=0.5):
    """A copy of uint8 RGB ``image`` with the pixels of bool ``hole`` [H, W] mixed with ``colour``
    (``strength`` of the colour, the rest of the pixel)."""
    hole = np.asarray(hole, bool).reshape(image.shape[:2])
    shown = np.array(image, dtype=np.uint8, copy=True)
    mixed = (1.0 - strength) * shown[hole] + strength * np.asarray(colour, np.float64)
    shown[hole] = np.clip(np.round(mixed), 0, 255).astype(np.uint8)
    return shown


def mask_panel(hole):
    """The hole as a white-on-black uint8 RGB image."""
    gray = np.asarray(hole, bool).astype(np.uint8) * 255
    return np.repeat(gray[..., np.newaxis], 3, axis=2)


def column_widths(total_width, count):
    """``count`` integer widths, as equal as possible, summing to ``total_width``."""
    edges = np.round(np.linspace(0, total_width, count + 1)).astype(int)
    return np.diff(edges).tolist()


def _resize(image, width, height):
    if image.shape[:2] == (height, width):
        return image
    shrinking = width <= image.shape[1] and height <= image.shape[0]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)


def fit_row(images, width):
    """Images side by side at one common height, scaled so the row is exactly ``width`` wide.

    Each image keeps its aspect ratio up to the rounding of its width; an image whose size is
    already its place in the row is not resampled.
    """
    ratios = np.array([image.shape[1] / image.shape[0] for image in images], np.float64)
    height = max(1, int(round(width / ratios.sum())))
    edges = np.round(np.concatenate([[0.0], np.cumsum(ratios)]) / ratios.sum() * width)
    widths = np.diff(edges.astype(int))
    return np.concatenate([_resize(image, int(panel_width), height)
                           for image, panel_width in zip(images, widths)], axis=1)


def hole_window(hole, height, width):
    """(top, left, height, width) of a window of at most ``height``×``width`` pixels, inside the
    image, centred on the bounding box of the hole's largest connected region (8-connected);
    centred on the image when there is no hole."""
    hole = np.asarray(hole, bool)
    image_height, image_width = hole.shape[:2]
    count, _, stats, _ = cv2.connectedComponentsWithStats(hole.astype(np.uint8), connectivity=8)
    if count > 1:
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        box_left, box_top, box_width, box_height = stats[largest, :4]
        center_y, center_x = box_top + box_height / 2.0, box_left + box_width / 2.0
    else:
        center_y, center_x = image_height / 2.0, image_width / 2.0
    height, width = min(height, image_height), min(width, image_width)
    top = int(np.clip(round(center_y - height / 2.0), 0, image_height - height))
    left = int(np.clip(round(center_x - width / 2.0), 0, image_width - width))
    return top, left, height, width


def comparison_sheet(panels, hole, crop_panels=None, panel_width=1200, crop_height=None):
    """A two-row uint8 RGB sheet that fills its whole canvas.

    Top row: ``panels`` scaled to columns of ``panel_width`` (canvas width = ``panel_width`` ×
    number of panels). Bottom row: a window around the hole's largest region cut from each of
    ``crop_panels`` at the photo's own scale, as wide as its column of the canvas (the canvas
    width split between the crops) and ``crop_height`` high (default: the top row's height);
    photos smaller than the window are scaled up to fill it.

    Args:
        panels: uint8 RGB images [H, W, 3] of one size.
        hole: bool [H, W] hole map of that size (it places the crop windows).
        crop_panels: the images to crop, of the same size (default: ``panels``).
        panel_width: width of each top-row column in pixels.
        crop_height: height of the crop windows in pixels of the photo.

    Returns:
        uint8 [top height + crop height, panel_width · len(panels), 3].

    Raises:
        ValueError: no panels, or an image or the hole differs in size from the first panel.
    """
    if not panels:
        raise ValueError("comparison_sheet needs at least one panel.")
    crop_panels = panels if crop_panels is None else crop_panels
    size = panels[0].shape[:2]
    hole = np.asarray(hole, bool).reshape(np.asarray(hole).shape[:2])
    for image in (*panels, *crop_panels, hole):
        if image.shape[:2] != size:
            raise ValueError(f"Every panel and the hole must be {size[1]}×{size[0]} "
                             f"(width×height) like the first panel; got {image.shape[1]}×"
                             f"{image.shape[0]}.")
    canvas_width = panel_width * len(panels)
    top_row = fit_row(list(panels), canvas_width)
    window_height = crop_height or top_row.shape[0]
    crops = []
    for image, width in zip(crop_panels, column_widths(canvas_width, len(crop_panels))):
        top, left, height, width = hole_window(hole, window_height, width)
        crops.append(image[top:top + height, left:left + width])
    bottom_row = fit_row(crops, canvas_width)
    return np.concatenate([top_row, bottom_row], axis=0)
