"""Inpaint photos of any size from the command line (HiFill generator + CRA, Sec. 3.1).

One photo:
  crainpaint --image photo.jpg --mask mask.png --output filled.png

A folder (masks paired by file stem, or one --mask for every image):
  crainpaint --input_dir photos --mask_dir masks --output_dir filled

(`python -m crainpaint` is the same command.)

Masks are white = hole by default; --mask_convention=black_hole reads the original HiFill
release's masks (black = hole). Outputs are lossless PNG unless --output names another format;
pixels outside the hole are copied from the input, 16-bit samples and alpha are kept, and no
existing file is replaced without --overwrite (an input never). How the hole is filled is set by
the CRA flags: --cra_preset=paper for the paper's pipeline (Sec. 3.1), each other CRA flag
replaces one option. The exit status is the number of files that failed (at most 125; 0 = all
written). See docs/cli.md.
"""
# The docstring above is also the command's --help text. This module only turns flags into
# calls of the flag-free `crainpaint.batch` (one file, folders, progress bar), which is what
# tests and scripts use. Flags are defined in `run`, not at import, see `define_flags`.

from __future__ import annotations

import sys
import warnings

from absl import app
from absl import flags

from crainpaint import batch
from crainpaint import cra_flags
from crainpaint import pipeline
from crainpaint import pixels
from crainpaint.image_header import DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS


def _error(message: str) -> None:
    sys.stderr.write(f"crainpaint: error: {message}\n")
    sys.stderr.flush()


def _format_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings of the library (e.g. ``MaskWarning``) as one line for the command's user."""
    del filename, lineno, line  # Where in our code it was raised means nothing here.
    return f"crainpaint: {category.__name__}: {message}\n"


def _warn_if_untrained(model) -> None:
    """Repeats the library's untrained-weights warning at the end, where it is not scrolled
    away by the progress bar."""
    metadata = getattr(model, "pretrained_metadata", None) or {}
    if metadata.get("untrained"):
        sys.stderr.write("WARNING: the generator weights are UNTRAINED (none are bundled and no "
                         "--weights was given): the fills are meaningless.\n")
        sys.stderr.flush()


def define_flags(flag_values=None) -> None:
    """Defines the command's flags. Called by `run`, not at import, so that importing this
    module never claims global flag names that another entry point (train, export) may define
    too."""
    flag_values = flag_values if flag_values is not None else flags.FLAGS
    flags.DEFINE_string("image", None, "Photo to inpaint (single-file mode).",
                        flag_values=flag_values)
    flags.DEFINE_string("mask", None, "Mask of --image; in folder mode, one mask for every image "
                        "(instead of --mask_dir).", flag_values=flag_values)
    flags.DEFINE_string("output", None, "Output file of single-file mode; the extension picks the "
                        "format: .png (lossless, default choice), .tif/.tiff, .webp (lossless, "
                        "8-bit), .jpg (lossy).", flag_values=flag_values)
    flags.DEFINE_string("input_dir", None, "Folder of photos to inpaint (folder mode).",
                        flag_values=flag_values)
    flags.DEFINE_string("mask_dir", None, "Folder of masks, paired with the photos by file stem "
                        "(photo.jpg <-> photo.png).", flag_values=flag_values)
    flags.DEFINE_string("output_dir", None, "Folder for the results of folder mode, written as "
                        "<stem>.png; created if missing.", flag_values=flag_values)
    flags.DEFINE_string("weights", None, "Folder with generator.npz + generator.json (see "
                        "crainpaint.pretrained.save_generator_weights); default: the bundled "
                        "weights.", flag_values=flag_values)
    flags.DEFINE_enum("mask_convention", pixels.DEFAULT_MASK_CONVENTION,
                      list(pixels.MASK_CONVENTIONS),
                      "white_hole: white = hole (default); black_hole: black = hole, white = "
                      "keep (the original HiFill release's masks).", flag_values=flag_values)
    flags.DEFINE_integer("dilate_px", 0, "Grow the hole by this many pixels (covers soft mask "
                         "edges).", lower_bound=0, flag_values=flag_values)
    flags.DEFINE_integer("max_pixels", None, "Largest photo (height x width) to read, checked "
                         "from the file header before decoding; 0 = no limit; default: "
                         f"$CRAINPAINT_MAX_PIXELS or {DEFAULT_MAX_PIXELS:,} (docs/limits.md).",
                         lower_bound=0, flag_values=flag_values)
    flags.DEFINE_bool("verbose", False, "Show TensorFlow's own start-up and log lines (hidden "
                      "by default unless TF_CPP_MIN_LOG_LEVEL is set).", flag_values=flag_values)
    cra_flags.define_cra_flags(flag_values)
    # Listed by --help with this command's own flags (absl's short help shows only the main
    # module's key flags).
    flags.adopt_module_key_flags(cra_flags, flag_values=flag_values)
    flags.DEFINE_bool("overwrite", False, "Replace existing output files (never an input).",
                      flag_values=flag_values)


def _check_flag_combination(flag_values) -> None:
    single = flag_values.image is not None
    folder = flag_values.input_dir is not None
    if single == folder:
        raise app.UsageError("Give either --image (with --mask and --output) or --input_dir "
                             "(with --mask_dir or --mask, and --output_dir).")
    if single:
        missing = [name for name in ("mask", "output") if flag_values[name].value is None]
        extra = [name for name in ("mask_dir", "output_dir") if flag_values[name].value is not None]
        if missing:
            raise app.UsageError(f"--image needs {' and '.join('--' + n for n in missing)}.")
        if extra:
            raise app.UsageError(f"{', '.join('--' + n for n in extra)} belong(s) to folder mode "
                                 "(--input_dir), not --image.")
    else:
        if flag_values.output_dir is None:
            raise app.UsageError("--input_dir needs --output_dir.")
        if flag_values.output is not None:
            raise app.UsageError("--output is for --image; folder mode writes "
                                 "<output_dir>/<stem>.png.")
        if (flag_values.mask_dir is None) == (flag_values.mask is None):
            raise app.UsageError("--input_dir needs exactly one of --mask_dir (masks paired by "
                                 "file stem) and --mask (one mask for every image).")


def _load_model(weights):
    # load_pretrained warns loudly (UntrainedWeightsWarning) when it falls back to untrained
    # weights; Python shows UserWarnings on stderr by default.
    return pipeline.load_generator(weights)


def _main_single(flag_values, options: batch.InpaintOptions) -> int:
    try:
        # Everything that can be wrong with the files is checked before the model is loaded.
        inputs = batch.read_inputs(flag_values.image, flag_values.mask, flag_values.output,
                                   options)
        model = _load_model(flag_values.weights)
        file_result = batch.inpaint_loaded(inputs, model, options)
    except (ValueError, OSError) as error:
        _error(batch.describe_error(error))
        return batch.exit_status(1)
    for note in file_result.notes:
        sys.stderr.write(f"note: {note}\n")
    sys.stderr.write(f"Wrote {file_result.output_path} ({100 * file_result.hole_fraction:.1f}% "
                     "of the image inpainted).\n")
    _warn_if_untrained(model)
    return 0


def _main_folder(flag_values, options: batch.InpaintOptions) -> int:
    try:
        items = batch.plan_batch(flag_values.input_dir, flag_values.output_dir,
                                 mask_dir=flag_values.mask_dir, mask_path=flag_values.mask)
    except ValueError as error:
        _error(str(error))
        return batch.exit_status(1)
    if not items:
        _error(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in {flag_values.input_dir}.")
        return batch.exit_status(1)
    if flag_values.mask_dir is not None:
        for mask in batch.unused_masks(items, flag_values.mask_dir):
            sys.stderr.write(f"note: mask {mask} matches no image in {flag_values.input_dir}\n")
    try:
        model = _load_model(flag_values.weights)
    except (ValueError, OSError) as error:
        _error(batch.describe_error(error))
        return batch.exit_status(len(items))
    result = batch.run_batch(items, model, options)
    _warn_if_untrained(model)
    return result.exit_status


def main(argv) -> int:
    """The absl entry point: flags → `batch.InpaintOptions` → `crainpaint.batch`.

    Returns:
        The exit status: the number of files that failed (capped at 125), 1 for a single file
        that failed or a folder that cannot be read, 130 after Ctrl-C.
    """
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}; every option is a "
                             "--flag.")
    flag_values = flags.FLAGS
    _check_flag_combination(flag_values)
    try:
        # An invalid CRA combination fails here, with CRAConfig's message naming the fix,
        # before any file is read or weights are loaded.
        options = batch.InpaintOptions(
            mask_convention=flag_values.mask_convention, dilate_px=flag_values.dilate_px,
            cra=cra_flags.cra_config_from_flags(flag_values), overwrite=flag_values.overwrite,
            max_pixels=flag_values.max_pixels)
    except ValueError as error:
        raise app.UsageError(str(error)) from None
    try:
        if flag_values.image is not None:
            return _main_single(flag_values, options)
        return _main_folder(flag_values, options)
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        return batch.INTERRUPTED_EXIT_STATUS


def run() -> None:
    """The command's entry point: `crainpaint` (setup.py's console script), `python -m
    crainpaint` and `python -m crainpaint.inpaint`."""
    # absl's --help shows the __main__ module's docstring; a console script's has none.
    main_module = sys.modules.get("__main__")
    if main_module is not None and not getattr(main_module, "__doc__", None):
        main_module.__doc__ = __doc__
    warnings.formatwarning = _format_warning
    define_flags()
    # absl's short --help lists the key flags of the main module, which absl names by
    # sys.argv[0] (`python -m crainpaint`, the console script): make this module's its own.
    for flag in flags.FLAGS.get_key_flags_for_module(__name__):
        flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)
    app.run(main)
