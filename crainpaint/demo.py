"""The README's first command: inpaint the bundled high-resolution photo with the bundled model.

Writes ``OUT_DIR/demo_result.png`` (the full-resolution result) and ``OUT_DIR/demo.png``: input
with the hole shown in red, the mask and the result side by side, and below them 1:1 crops around
the hole from the input and the result. Run ``python -m crainpaint.demo --output_dir outputs``;
the CRA flags of ``crainpaint.cra_flags`` (e.g. ``--cra_preset=paper``) choose how the hole is
filled, as in the ``crainpaint`` command.
"""

from __future__ import annotations

import os
import sys
import time

from absl import app, flags, logging

from crainpaint import cra_flags
from crainpaint.evaluation.sheets import comparison_sheet, mask_panel, tint_hole

DEMO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pretrained", "demo")
PANEL_WIDTH = 1600


def side_by_side(image, hole, result):
    """Input (hole tinted red) | mask | result on the first row; below, 1:1 crops around the
    hole's largest region from the input and the result, each half the sheet's width, so the
    sheet has no blank area (``crainpaint.evaluation.sheets.comparison_sheet``)."""
    shown = tint_hole(image, hole)
    return comparison_sheet([shown, mask_panel(hole), result], hole, crop_panels=[shown, result],
                            panel_width=PANEL_WIDTH)


def run_demo(output_dir, weights=None, config=None):
    """Inpaints the bundled photo with the CRA ``config`` (default ``CRAConfig()``); returns
    (result path, side-by-side path, seconds)."""
    from crainpaint import pipeline
    from crainpaint.imaging import read_image, read_mask, write_image
    image = read_image(os.path.join(DEMO_DIR, "photo.jpg")).pixels
    hole = read_mask(os.path.join(DEMO_DIR, "mask.png"))[..., 0] > 0.5
    model = pipeline.load_generator(weights)
    step = getattr(model, "pretrained_metadata", {}).get("step")
    logging.info("Inpainting the bundled %d×%d photo (hole %.1f%%) with weights at step %s.",
                 image.shape[1], image.shape[0], 100 * hole.mean(), step)
    start = time.perf_counter()
    result = pipeline.pipeline_for(model, config)(image, hole)
    seconds = time.perf_counter() - start
    result_path = os.path.join(output_dir, "demo_result.png")
    grid_path = os.path.join(output_dir, "demo.png")
    write_image(result_path, result)
    write_image(grid_path, side_by_side(image, hole, result))
    return result_path, grid_path, seconds


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}; every option is a "
                             "--flag.")
    try:
        config = cra_flags.cra_config_from_flags(flags.FLAGS)
    except ValueError as error:
        raise app.UsageError(str(error)) from None
    result_path, grid_path, seconds = run_demo(flags.FLAGS.output_dir, flags.FLAGS.weights,
                                               config)
    print(f"Inpainted in {seconds:.1f} s (first call, tracing included).")
    print(f"Full-resolution result: {result_path}")
    print(f"Side by side (input | mask | result, 1:1 crops below): {grid_path}")


def define_flags():
    """The demo's flags: output folder, weights and the shared CRA flags."""
    flags.DEFINE_string("output_dir", "outputs", "Where demo.png and demo_result.png go.")
    flags.DEFINE_string("weights", None, "Generator weights directory (default: bundled).")
    cra_flags.define_cra_flags(flags.FLAGS)
    flags.adopt_module_key_flags(cra_flags)  # Listed by --help with the flags above.


def run():
    define_flags()
    app.run(main)


if __name__ == "__main__":
    sys.exit(run())
