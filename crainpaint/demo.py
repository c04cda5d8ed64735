"""The README's first command: inpaint the bundled high-resolution photo with the bundled model.

Writes ``OUT_DIR/demo_result.png`` (the full-resolution result) and ``OUT_DIR/demo.png``: input
with the hole shown in red, the mask, the result, and a 1:1 crop around the hole from the input
and the result, side by side. Run ``python -m crainpaint.demo --output_dir outputs``.
"""

from __future__ import annotations

import os
import sys
import time

import cv2
import numpy as np
from absl import app, flags, logging

DEMO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pretrained", "demo")
PANEL_WIDTH = 1600
CROP_SIZE = 800


def held_out_cases():
    """512² crops of the bundled photo (a validation photo: never trained on) with three
    hand-made holes each — 15 (crop, hole) cases to check that trained weights are loaded."""
    from crainpaint.imaging import read_image
    photo = read_image(os.path.join(DEMO_DIR, "photo.jpg")).pixels
    photo = cv2.resize(photo, (2048, 1152), interpolation=cv2.INTER_AREA)
    corners = ((0, 0), (0, 700), (600, 200), (600, 1500), (300, 1000))
    rows, cols = np.mgrid[:512, :512]
    holes = [((rows - 256) / 90.0) ** 2 + ((cols - 256) / 130.0) ** 2 <= 1.0,
             (np.abs(rows - 200) < 40) & (cols > 60) & (cols < 450),
             ((rows - 320) / 110.0) ** 2 + ((cols - 180) / 70.0) ** 2 <= 1.0]
    return [(np.ascontiguousarray(photo[top:top + 512, left:left + 512]), hole[..., None])
            for top, left in corners for hole in holes]


def _panel(image, width=PANEL_WIDTH):
    height = round(image.shape[0] * width / image.shape[1])
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def _hole_crop(image, hole, size=CROP_SIZE):
    """A size×size window at 1:1 scale centred on the hole's largest region."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(hole.astype(np.uint8))
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])) if count > 1 else 0
    ys, xs = np.nonzero(labels == largest)
    center_y, center_x = int(ys.mean()), int(xs.mean())
    top = int(np.clip(center_y - size // 2, 0, max(image.shape[0] - size, 0)))
    left = int(np.clip(center_x - size // 2, 0, max(image.shape[1] - size, 0)))
    return image[top:top + size, left:left + size]


def side_by_side(image, hole, result):
    """Input (hole tinted red) | mask | result on the first row; 1:1 crops on the second."""
    shown = image.copy()
    shown[hole] = (0.5 * shown[hole] + [127, 0, 0]).astype(np.uint8)
    mask_rgb = np.repeat((hole * 255).astype(np.uint8)[..., None], 3, axis=2)
    top = np.concatenate([_panel(shown), _panel(mask_rgb), _panel(result)], axis=1)
    crops = [_hole_crop(shown, hole), _hole_crop(result, hole)]
    bottom = np.concatenate(crops, axis=1)
    canvas = np.full((top.shape[0] + bottom.shape[0], top.shape[1], 3), 255, np.uint8)
    canvas[:top.shape[0]] = top
    canvas[top.shape[0]:, :bottom.shape[1]] = bottom
    return canvas


def run_demo(output_dir, weights=None):
    """Inpaints the bundled photo; returns (result path, side-by-side path, seconds)."""
    import crainpaint
    from crainpaint.imaging import read_image, read_mask, write_image
    image = read_image(os.path.join(DEMO_DIR, "photo.jpg")).pixels
    hole = read_mask(os.path.join(DEMO_DIR, "mask.png"))[..., 0] > 0.5
    model = crainpaint.load_pretrained(weights)
    step = getattr(model, "pretrained_metadata", {}).get("step")
    logging.info("Inpainting the bundled %d×%d photo (hole %.1f%%) with weights at step %s.",
                 image.shape[1], image.shape[0], 100 * hole.mean(), step)
    start = time.perf_counter()
    result = crainpaint.inpaint(image, hole, model)
    seconds = time.perf_counter() - start
    result_path = os.path.join(output_dir, "demo_result.png")
    grid_path = os.path.join(output_dir, "demo.png")
    write_image(result_path, result)
    write_image(grid_path, side_by_side(image, hole, result))
    return result_path, grid_path, seconds


def main(argv):
    del argv
    result_path, grid_path, seconds = run_demo(flags.FLAGS.output_dir, flags.FLAGS.weights)
    print(f"Inpainted in {seconds:.1f} s (first call, tracing included).")
    print(f"Full-resolution result: {result_path}")
    print(f"Side by side (input | mask | result, 1:1 crops below): {grid_path}")


def run():
    flags.DEFINE_string("output_dir", "outputs", "Where demo.png and demo_result.png go.")
    flags.DEFINE_string("weights", None, "Generator weights directory (default: bundled).")
    app.run(main)


if __name__ == "__main__":
    sys.exit(run())
