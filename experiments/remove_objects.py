"""Object removal on photos without ground truth: crainpaint against OpenCV's inpainting.

The command of ``crainpaint.evaluation.removal`` (whose docstring defines the methods, the
measures and the outputs). The CRA options of the crainpaint method are the shared flags of
``crainpaint.cra_flags``.

Run::

    PYTHONPATH=. TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python experiments/remove_objects.py \\
        --images PHOTOS --masks MASKS --mask_convention black_hole \\
        --methods crainpaint,telea --output_dir /tmp/remove_objects

Smoke (seconds, no generator)::

    python experiments/remove_objects.py --images PHOTOS --masks MASKS --methods telea \\
        --max_long_side 512 --output_dir /tmp/remove_objects_smoke
"""

import os
import shlex
import sys

if __name__ == "__main__":
    # `python experiments/remove_objects.py` puts experiments/ first on sys.path, not the
    # repository.
    _REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if _REPOSITORY_ROOT not in sys.path:
        sys.path.insert(0, _REPOSITORY_ROOT)

from crainpaint import cra_flags  # noqa: E402
from crainpaint.evaluation.removal import METHODS, InputError, RemovalConfig, run  # noqa: E402
from crainpaint.imaging import ImageReadError  # noqa: E402
from crainpaint.pixels import MASK_CONVENTIONS  # noqa: E402


def _define_flags():
    from absl import flags

    flags.DEFINE_string("images", None, "Folder of photos.")
    flags.DEFINE_string("masks", None, "Folder of masks, paired with the photos by file stem.")
    flags.DEFINE_enum("mask_convention", "white_hole", list(MASK_CONVENTIONS),
                      "Mask files: white = hole (white_hole) or black = hole (black_hole).")
    flags.DEFINE_string("output_dir", None, "Where remove_objects.json and the sheets go.")
    flags.DEFINE_list("methods", list(METHODS), f"Comma-separated subset of {METHODS}.")
    flags.DEFINE_string("weights", None, "Generator weights folder (default: bundled).")
    flags.DEFINE_integer("max_long_side", None, "Area-shrink photos and masks to at most N px "
                         "on the long side first (default: their own size).")
    flags.DEFINE_integer("panel_width", 1200, "Width of each top-row panel of the sheets.")
    cra_flags.define_cra_flags()
    flags.adopt_module_key_flags(cra_flags)  # list them under --help
    flags.mark_flags_as_required(["images", "masks", "output_dir"])
    return flags.FLAGS


def main(argv):
    from absl import flags

    del argv
    values = flags.FLAGS
    try:
        config = RemovalConfig(
            images_dir=values.images, masks_dir=values.masks, output_dir=values.output_dir,
            mask_convention=values.mask_convention, methods=tuple(values.methods),
            weights=values.weights, max_long_side=values.max_long_side,
            panel_width=values.panel_width, cra=cra_flags.cra_config_from_flags(values))
    except ValueError as error:  # An invalid flag value.
        raise SystemExit(f"remove_objects: {error}") from None
    try:
        run(config, command=shlex.join([sys.executable] + sys.argv))
    except (InputError, ImageReadError) as error:  # Folders, pairs or files unusable.
        raise SystemExit(f"remove_objects: {error}") from None


if __name__ == "__main__":
    from absl import app

    _define_flags()
    app.run(main)
