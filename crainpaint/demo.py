"""The README's first command: inpaint the bundled high-resolution photo with the bundled model.

Writes ``OUT_DIR/demo_result.png`` (the full-resolution result) and ``OUT_DIR/demo.png``: input
with the hole shown in red, the mask and the result side by side, and below them 1:1 crops around
the hole from the input and the result. Run ``python -m crainpaint.demo --output_dir outputs``.
"""

from __future__ import annotations

import os
import sys
import time

import cv2
import numpy as np
from absl import app, flags, logging

from crainpaint.evaluation.sheets import comparison_sheet, mask_panel, tint_hole

DEMO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pretrained", "demo")
PANEL_WIDTH = 1600


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


def side_by_side(image, hole, result):
    """Input (hole tinted red) | mask | result on the first row; below, 1:1 crops around the
    hole's largest region from the input and the result, each half the sheet's width, so the
    sheet has no blank area (``crainpaint.evaluation.sheets.comparison_sheet``)."""
    shown = tint_hole(image, hole)
    return comparison_sheet([shown, mask_panel(hole), result], hole, crop_panels=[shown, result],
                            panel_width=PANEL_WIDTH)


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
