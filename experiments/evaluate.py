"""Quality evaluation of crainpaint against OpenCV and plain up-sampling (paper Table 2).

For a folder of photos and either a folder of masks (paired by file stem, white = hole by
default) or seeded generated masks in hole-area bins (0–10, 10–20, 20–30, 30–40 %), every method
fills every hole and the result is scored per method and per bin, at two resolutions:

* **own**: the photo at its own resolution (after the optional ``--long_side`` shrink);
* **square**: the photo area-resized to ``--square_size``² (512² by default, the aspect ratio is
  NOT kept, as the paper's "we linearly scale images and masks to various dimensions",
  Sec. 4.3), with its mask: a generated mask is drawn at exactly that size, so its own 512²
  draw is used; a mask file is area-resized and thresholded at 0.5. Every method is then run
  on that 512² image.


What is run and measured is the library ``crainpaint.evaluation``: the methods
(``methods``: crainpaint with CRA, crainpaint_upsample, telea, navier_stokes, generator_fullres),
the metrics (``metrics``: in-hole L1, PSNR, MS-SSIM, the texture ratio and energy, SWD;
``inception``: FID / IS with ``--inception_weights``), the photos and masks (``cases``: seeded
generated masks in hole-area bins, or mask files paired by stem) and the run and its tables
(``runner``, ``report``). Their docstrings define every number. The CRA options of the two
crainpaint methods are the shared flags of ``crainpaint.cra_flags`` (``--cra_preset paper`` for
the paper's pipeline).

Run (the numbers of the model card; the lead's measured command)::

    PYTHONPATH=. TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python experiments/evaluate.py \\
        --images ~/.cache/crainpaint/data/photos/validation --max_images 4 \\
        --masks_per_image 1 --long_side 2048 \\
        --methods telea,navier_stokes,crainpaint,crainpaint_upsample \\
        --output_json /tmp/evaluation.json

(16 samples: 5 min on a 2-CPU AMD EPYC shared with a training run, before the texture
metrics; these add 0.9–1.7 s per composite, almost all of it the SWD, from 512² to
2048×1152 on a 2-CPU Xeon shared with a training run: ≈ 3 min more for this command. The
same methods with ``--max_images 2 --long_side 1024``: 8 samples, 4 min there.) Without
``--long_side`` the photos are scored at up to 6028×3391: MS-SSIM alone then takes ≈ 16 s
and 4 GB per 20-Mpx composite.

Smoke (seconds; a tiny generator saved with ``crainpaint.pretrained.save_generator_weights``)::

    python experiments/evaluate.py --images DIR --weights TINY_DIR --max_images 1 \\
        --long_side 256 --square_size 128

Progress (count/total, ETA) goes to stderr; the header (command, CPU, versions, weights) and
one markdown table per metric and resolution (rows: methods, columns: bins) to stdout, then the
paired comparisons: per bin, crainpaint's in-hole L1, then its SWD, minus Telea's and
Navier–Stokes' on the same samples, as mean ± standard error, with the number of samples
crainpaint wins (a gap smaller than its standard error is not a measured difference). The
tables are ``crainpaint.evaluation.report``'s. ``--report FILE.json`` prints all of it again
from a saved run.
"""

import os
import shlex
import sys

if __name__ == "__main__":
    # `python experiments/evaluate.py` puts experiments/ first on sys.path, not the repository.
    _REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if _REPOSITORY_ROOT not in sys.path:
        sys.path.insert(0, _REPOSITORY_ROOT)

from crainpaint import cra_flags  # noqa: E402
from crainpaint.evaluation.methods import METHODS  # noqa: E402
from crainpaint.evaluation.runner import (DEFAULT_IMAGES_DIR, EvaluationConfig,  # noqa: E402
                                          report, run)
from crainpaint.pixels import MASK_CONVENTIONS  # noqa: E402


def _define_flags():
    from absl import flags

    flags.DEFINE_string("images", DEFAULT_IMAGES_DIR, "Folder of photos to evaluate.")
    flags.DEFINE_string("masks", None, "Folder of masks paired with the photos by stem; "
                        "default: seeded generated masks in hole-area bins.")
    flags.DEFINE_enum("mask_convention", "white_hole", list(MASK_CONVENTIONS),
                      "Mask files: white = hole (white_hole) or black = hole (black_hole).")
    flags.DEFINE_integer("masks_per_image", 1, "Generated masks per photo and bin.")
    flags.DEFINE_integer("seed", 0, "Seed of the generated masks.")
    flags.DEFINE_list("methods", list(METHODS), f"Comma-separated subset of {METHODS}.")
    flags.DEFINE_string("weights", None, "Generator weights directory (default: bundled).")
    flags.DEFINE_integer("max_images", None, "Only the first N photos in name order.")
    flags.DEFINE_integer("long_side", None, "Area-shrink photos to at most N px on the long "
                         "side before everything (default: their own size).")
    flags.DEFINE_integer("square_size", 512, "Side of the fixed-size evaluation and of the "
                         "generated masks.")
    flags.DEFINE_integer("inpaint_radius", 3, "cv2.inpaint radius (telea, navier_stokes).")
    flags.DEFINE_integer("fullres_max_pixels", 2_100_000, "Largest H*W generator_fullres runs on.")
    cra_flags.define_cra_flags()
    flags.adopt_module_key_flags(cra_flags)  # list them under --help
    flags.DEFINE_string("output_json", None, "Write every sample and the summary here.")
    flags.DEFINE_string("inception_weights", None, "Keras InceptionV3(include_top=True) "
                        ".weights.h5: enables FID and IS (nothing is downloaded).")
    flags.DEFINE_integer("is_splits", 1, "Splits of the Inception Score.")
    flags.DEFINE_string("report", None, "Print the tables of this --output_json file again "
                        "(with the paired comparison) and exit; nothing is evaluated.")
    return flags.FLAGS


def main(argv):
    from absl import app, flags

    del argv
    values = flags.FLAGS
    if values.report:
        try:
            report(values.report)
        except (OSError, ValueError) as error:
            raise app.UsageError(str(error)) from None
        return
    try:
        config = EvaluationConfig(
            images_dir=values.images, masks_dir=values.masks,
            mask_convention=values.mask_convention, masks_per_image=values.masks_per_image,
            seed=values.seed, methods=tuple(values.methods), weights=values.weights,
            max_images=values.max_images, long_side=values.long_side,
            square_size=values.square_size, inpaint_radius=values.inpaint_radius,
            fullres_max_pixels=values.fullres_max_pixels,
            cra=cra_flags.cra_config_from_flags(values),
            inception_weights=values.inception_weights, is_splits=values.is_splits)
    except ValueError as error:
        raise app.UsageError(str(error)) from None
    command = shlex.join([sys.executable] + sys.argv)
    try:
        run(config, command, output_json=values.output_json)
    except FileNotFoundError as error:  # No photo folder, no photos, a photo without its mask.
        sys.exit(f"evaluate: error: {error}")


if __name__ == "__main__":
    from absl import app

    _define_flags()
    app.run(main)
