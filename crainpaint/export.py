"""Exports the generator and the whole CRA pipeline as a SavedModel that TF Serving can run.

Run::

    python -m crainpaint.export --checkpoint_dir runs/places2 --export_dir models/crainpaint
    python -m crainpaint.export --weights path/to/weights_dir --export_dir models/crainpaint
    python -m crainpaint.export --export_dir models/crainpaint            # bundled weights
    python -m crainpaint.export --format onnx --export_dir models/portable   # or --format tflite

This writes ``<export_dir>/<version>/`` (``saved_model.pb``, ``variables/``, ``assets.extra/``),
the layout TF Serving watches. The version is the next free integer unless ``--version`` is
given; it is written to a hidden temporary folder beside it and renamed into place, so a server
polling ``export_dir`` never sees a half-written model. An existing version is only replaced
with ``--overwrite``.

Signatures (all pure graph ops: no ``tf.py_function``, nothing that needs Python at serving
time):

* ``serving_default``: ``image`` uint8 [1, H, W, 3] and ``mask`` uint8 [1, H, W, 1] (also
  [1, H, W, 3|4]; white = hole by default, the rule of ``crainpaint.pixels.hole_from_mask``;
  ``--mask_convention=black_hole`` for the original HiFill masks) → ``inpainted`` uint8
  [1, H, W, 3], rounded and clipped by the library's ``to_uint8``. The inputs are declared
  with unknown rank so that a wrong rank reaches the graph's own check (TF Serving does not
  check request shapes against the signature) and fails with a message saying what was
  expected.
* ``inpaint_bytes``: ``image_bytes`` and ``mask_bytes`` string [N] (encoded JPEG/PNG/GIF/BMP,
  typically N = 1) → ``inpainted_bytes`` string [N] of PNG files. TF Serving's REST API
  base64-encodes outputs whose names end in ``_bytes``.
* ``inpaint_512``: the bare network at its input size S (512 for the paper's model; the name
  stays ``inpaint_512`` for smaller test models): ``image`` uint8 [B, S, S, 3] and ``mask``
  uint8 [B, S, S, 1] → ``inpainted`` uint8 [B, S, S, 3] (network
  output pasted into the hole) and ``attention`` float32 [B, cells, cells] (cells = grid², the
  scores of Eq. 2, row = in-hole target cell, column = source cell).

The EXIF orientation of encoded inputs is NOT applied inside the graph (``tf.io.decode_image``
ignores it): clients must send upright pixels. 16-bit PNGs are reduced to 8 bits.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import uuid

import keras
import tensorflow as tf

from crainpaint.batch import check_output_folder
from crainpaint.cra import CRAConfig
from crainpaint.image_header import DEFAULT_MAX_PIXELS, declared_size
from crainpaint.pipeline import InpaintPipeline, load_generator, with_attention_scale
from crainpaint.pixels import DEFAULT_MASK_CONVENTION, MASK_CONVENTIONS

# Largest photo (height × width) the full-resolution signatures accept: the pixel budget of
# every entry point (docs/limits.md); an 8K photo is 33.2 MP.
MAX_PIXELS = DEFAULT_MAX_PIXELS

SERVING_SIGNATURE = "serving_default"
BYTES_SIGNATURE = "inpaint_bytes"
NETWORK_SIGNATURE = "inpaint_512"
METADATA_PATH = os.path.join("assets.extra", "crainpaint_export.json")

# Messages of the in-graph checks; tests and docs/serving.md quote them.
IMAGE_RANK_MESSAGE = "`image` must have shape [1, height, width, 3] (rank 4)"
MASK_RANK_MESSAGE = "`mask` must have shape [1, height, width, 1] (rank 4)"
BATCH_MESSAGE = "`image` and `mask` must hold exactly one photo (batch size 1)"
IMAGE_CHANNELS_MESSAGE = "`image` must have 3 channels (RGB)"
MASK_CHANNELS_MESSAGE = "`mask` must have 1 (gray), 3 (RGB) or 4 (RGBA) channels"
SIZE_MISMATCH_MESSAGE = "`image` and `mask` must have the same height and width"
EMPTY_MESSAGE = "the photo must be at least 1x1 pixels"
TOO_LARGE_MESSAGE = "photo too large: height x width must be at most {max_pixels} pixels"
BYTES_RANK_MESSAGE = "`image_bytes` and `mask_bytes` must be 1-D string tensors [N]"
BYTES_COUNT_MESSAGE = "`image_bytes` and `mask_bytes` must hold the same number of files"



@dataclasses.dataclass(frozen=True)
class ExportOptions:
    """What the exported signatures bake in besides the generator's weights.

    Attributes:
        max_pixels: largest height × width the full-resolution signatures accept.
        mask_convention: ``"white_hole"`` (the library default) or ``"black_hole"`` (the
            original HiFill release's masks); see ``crainpaint.pixels.hole_from_mask``.
        cra_config: the ``crainpaint.cra.CRAConfig`` of the full-resolution signatures.
    """

    max_pixels: int = MAX_PIXELS
    mask_convention: str = DEFAULT_MASK_CONVENTION
    cra_config: CRAConfig = CRAConfig()

    def __post_init__(self):
        if (isinstance(self.max_pixels, bool) or not isinstance(self.max_pixels, int)
                or self.max_pixels < 1):
            raise ValueError(f"max_pixels must be a positive integer, got {self.max_pixels!r}.")
        if self.mask_convention not in MASK_CONVENTIONS:
            raise ValueError(f"mask_convention must be one of {MASK_CONVENTIONS}, got "
                             f"{self.mask_convention!r}.")
        if not isinstance(self.cra_config, CRAConfig):
            raise TypeError(f"cra_config must be a crainpaint.cra.CRAConfig, got "
                            f"{type(self.cra_config).__name__}.")

    def to_dict(self):
        return {"max_pixels": self.max_pixels, "mask_convention": self.mask_convention,
                "cra_config": dataclasses.asdict(self.cra_config)}


# ------------------------------------------------------------------------------------------
# Graph functions behind the signatures.
# ------------------------------------------------------------------------------------------


def _check_photo_pair(image, mask, max_pixels):
    """Asserts on one photo [H, W, 3] and its mask [H, W, C]; returns them gated on the checks."""
    image_shape = tf.shape(image, out_type=tf.int64)
    mask_shape = tf.shape(mask, out_type=tf.int64)
    checks = [
        tf.debugging.Assert(tf.equal(image_shape[2], 3),
                            [IMAGE_CHANNELS_MESSAGE + "; got", image_shape[2]]),
        tf.debugging.Assert(tf.reduce_any(tf.equal(mask_shape[2], [1, 3, 4])),
                            [MASK_CHANNELS_MESSAGE + "; got", mask_shape[2]]),
        tf.debugging.Assert(tf.reduce_all(tf.equal(image_shape[:2], mask_shape[:2])),
                            [SIZE_MISMATCH_MESSAGE + "; image", image_shape[:2], "mask",
                             mask_shape[:2]]),
    ]
    checks.append(_size_check(image_shape[0], image_shape[1], max_pixels))
    with tf.control_dependencies(checks):
        return tf.identity(image), tf.identity(mask)


def _size_check(height, width, max_pixels):
    """One assert: 1 <= height, width and height·width <= max_pixels (int64, no overflow)."""
    height = tf.cast(height, tf.int64)
    width = tf.cast(width, tf.int64)
    empty = tf.debugging.Assert(tf.logical_and(height >= 1, width >= 1),
                                [EMPTY_MESSAGE + "; got height, width", height, width])
    with tf.control_dependencies([empty]):
        return tf.debugging.Assert(
            height * width <= max_pixels,
            [TOO_LARGE_MESSAGE.format(max_pixels=max_pixels) + "; got height, width",
             height, width])


def _inpaint_photo(image, mask, inpaint_pipeline, options):
    """uint8 image [H, W, 3] + uint8 mask [H, W, 1|3|4] → uint8 [H, W, 3], with checks."""
    image, mask = _check_photo_pair(image, mask, options.max_pixels)
    image = tf.ensure_shape(image, [None, None, 3])
    return inpaint_pipeline.inpaint_mask_graph(image, mask, options.mask_convention)


def _serve_tensors(image, mask, inpaint_pipeline, options):
    """``serving_default``: image [1, H, W, 3], mask [1, H, W, 1|3|4] (any rank at the input)."""
    rank_checks = [
        tf.debugging.Assert(tf.equal(tf.rank(image), 4),
                            [IMAGE_RANK_MESSAGE + "; got shape", tf.shape(image)]),
        tf.debugging.Assert(tf.equal(tf.rank(mask), 4),
                            [MASK_RANK_MESSAGE + "; got shape", tf.shape(mask)]),
    ]
    # Shapes are only read once the ranks are known to be right, so a rank-3 input fails here
    # with the message above, not in a strided slice further down.
    with tf.control_dependencies(rank_checks):
        image_shape = tf.shape(image)
        mask_shape = tf.shape(mask)
    batch_check = tf.debugging.Assert(
        tf.logical_and(tf.equal(image_shape[0], 1), tf.equal(mask_shape[0], 1)),
        [BATCH_MESSAGE + "; got", image_shape[0], mask_shape[0]])
    with tf.control_dependencies([batch_check]):
        # Explicit components give the photo a static rank of 3 for the pipeline below.
        photo = tf.reshape(image, [image_shape[1], image_shape[2], image_shape[3]])
        photo_mask = tf.reshape(mask, [mask_shape[1], mask_shape[2], mask_shape[3]])
    inpainted = _inpaint_photo(photo, photo_mask, inpaint_pipeline, options)
    return {"inpainted": tf.ensure_shape(inpainted[tf.newaxis], [1, None, None, 3])}


def _decode_pair(image_data, mask_data, max_pixels):
    """Encoded image and mask → uint8 image [H, W, 3] and mask [H, W, 1|3|4]."""
    declared_checks = []
    for data in (image_data, mask_data):
        size = declared_size(data)
        declared_checks.append(_size_check(size[0], size[1], max_pixels))
    with tf.control_dependencies(declared_checks):
        # channels=3 turns gray into RGB and drops alpha, as crainpaint.imaging.read_image does.
        image = tf.io.decode_image(image_data, channels=3, dtype=tf.uint8,
                                   expand_animations=False)
        mask = tf.io.decode_image(mask_data, channels=0, dtype=tf.uint8,
                                  expand_animations=False)
    # Gray + alpha masks: the alpha channel is ignored, as by crainpaint.imaging.read_mask.
    mask_channels = tf.shape(mask)[2]
    mask = mask[:, :, :tf.where(tf.equal(mask_channels, 2), 1, mask_channels)]
    return image, mask


def _serve_bytes(image_bytes, mask_bytes, inpaint_pipeline, options):
    """``inpaint_bytes``: string [N] encoded images and masks → string [N] PNG files."""
    # The signature declares [N]; TF Serving does not enforce declared shapes, so a scalar can
    # still arrive (e.g. a columnar REST request without the list brackets).
    rank_check = tf.debugging.Assert(
        tf.logical_and(tf.equal(tf.rank(image_bytes), 1), tf.equal(tf.rank(mask_bytes), 1)),
        [BYTES_RANK_MESSAGE])
    with tf.control_dependencies([rank_check]):
        count_check = tf.debugging.Assert(
            tf.equal(tf.size(image_bytes), tf.size(mask_bytes)),
            [BYTES_COUNT_MESSAGE + "; got", tf.size(image_bytes), tf.size(mask_bytes)])
    with tf.control_dependencies([count_check]):
        image_bytes = tf.identity(image_bytes)
        mask_bytes = tf.identity(mask_bytes)

    def inpaint_one(pair):
        image, mask = _decode_pair(pair[0], pair[1], options.max_pixels)
        inpainted = _inpaint_photo(image, mask, inpaint_pipeline, options)
        return tf.io.encode_png(inpainted)

    # One photo at a time: at 8K each one already needs a few GiB.
    encoded = tf.map_fn(inpaint_one, (image_bytes, mask_bytes), parallel_iterations=1,
                        fn_output_signature=tf.TensorSpec([], tf.string))
    return {"inpainted_bytes": encoded}


def _serve_network(image, mask, inpaint_pipeline, options):
    """``inpaint_512``: the generator at its input size, network output pasted into the hole."""
    inpainted, attention = inpaint_pipeline.network_graph(image, mask, options.mask_convention)
    return {"inpainted": inpainted, "attention": attention}


# ------------------------------------------------------------------------------------------
# Export directory handling.
# ------------------------------------------------------------------------------------------


def existing_versions(export_dir):
    """Integer-named sub-folders of ``export_dir`` (the versions TF Serving would see), sorted."""
    if not os.path.isdir(export_dir):
        return []
    return sorted(int(name) for name in os.listdir(export_dir)
                  if name.isdigit() and os.path.isdir(os.path.join(export_dir, name)))


def next_version(export_dir):
    """1 for a new ``export_dir``, else one more than the largest existing version."""
    versions = existing_versions(export_dir)
    return versions[-1] + 1 if versions else 1


def _build_archive(generator, options):
    """A ``keras.export.ExportArchive`` with the three signatures.

    ExportArchive (not a plain ``tf.Module``) because Keras 3 variables are not ``tf.Variable``s:
    a module would not track them, and TF Serving's TF1 SignatureDef loader would fail with
    "Could not find variable ..." (see docs/serving.md).
    """
    size = generator.config.input_size
    # The whole CRAConfig, passed on as it is: the pipeline owns the pre- and post-processing.
    inpaint_pipeline = InpaintPipeline(generator, options.cra_config)
    archive = keras.export.ExportArchive()
    # No archive.track(generator): the archive already saves every variable the endpoints
    # capture (the underlying tf.Variables, which the TF1 loader restores); tracking the model
    # as well would store each weight a second time under `variables/` (22 MB instead of 11 MB
    # for the paper's model) and only serves `.variables` on the object tf.saved_model.load
    # revives.

    def serving_default(image, mask):
        return _serve_tensors(image, mask, inpaint_pipeline, options)

    def inpaint_bytes(image_bytes, mask_bytes):
        return _serve_bytes(image_bytes, mask_bytes, inpaint_pipeline, options)

    def inpaint_512(image, mask):
        return _serve_network(image, mask, inpaint_pipeline, options)

    # The first endpoint becomes serving_default; unknown rank (shape=None) so that the graph's
    # own rank check can run (see the module docstring).
    archive.add_endpoint(SERVING_SIGNATURE, serving_default, input_signature=[
        tf.TensorSpec(None, tf.uint8, name="image"),
        tf.TensorSpec(None, tf.uint8, name="mask")])
    archive.add_endpoint(BYTES_SIGNATURE, inpaint_bytes, input_signature=[
        tf.TensorSpec([None], tf.string, name="image_bytes"),
        tf.TensorSpec([None], tf.string, name="mask_bytes")])
    archive.add_endpoint(NETWORK_SIGNATURE, inpaint_512, input_signature=[
        tf.TensorSpec([None, size, size, 3], tf.uint8, name="image"),
        tf.TensorSpec([None, size, size, 1], tf.uint8, name="mask")])
    return archive


def export_saved_model(generator, export_dir, version=None, overwrite=False,
                       max_pixels=MAX_PIXELS, options=None):
    """Writes ``export_dir/<version>/`` atomically: a SavedModel with the three signatures.

    Args:
        generator: a built ``crainpaint.models.Generator``.
        export_dir: the model's base folder (the one TF Serving's ``--model_base_path`` or
            ``base_path`` names); created when missing.
        version: positive integer version; the next free one when None.
        overwrite: replace an existing version instead of failing.
        max_pixels: largest height × width the full-resolution signatures accept
            (shorthand for ``ExportOptions(max_pixels=...)``; ignored when ``options`` is given).
        options: an ``ExportOptions`` (mask convention, the whole ``CRAConfig``, size limit).

    Returns:
        The path of the written version folder.

    Raises:
        FileExistsError: the version exists and ``overwrite`` is false (checked before any work).
        ValueError: a version that is not a positive integer, or invalid options.
    """
    if version is None:
        version = next_version(export_dir)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"version must be a positive integer (TF Serving only loads "
                         f"integer-named folders), got {version!r}.")
    if options is None:
        options = ExportOptions(max_pixels=max_pixels)
    elif max_pixels != MAX_PIXELS and max_pixels != options.max_pixels:
        raise ValueError(f"max_pixels={max_pixels} contradicts options.max_pixels="
                         f"{options.max_pixels}; give the limit in one place.")
    target = os.path.join(export_dir, str(version))
    if os.path.exists(target) and not overwrite:
        raise FileExistsError(f"Version {version} already exists at {target}; pass "
                              "overwrite=True (--overwrite) to replace it, or choose another "
                              "version.")

    os.makedirs(export_dir, exist_ok=True)
    # Hidden and not an integer: TF Serving ignores it while it is being written.
    temporary = os.path.join(export_dir, f".tmp-{version}-{uuid.uuid4().hex[:8]}")
    try:
        archive = _build_archive(generator, options)
        archive.write_out(temporary, verbose=False)
        _write_metadata(temporary, generator, options, version)
        _move_into_place(temporary, target, overwrite)
    finally:
        if os.path.exists(temporary):
            shutil.rmtree(temporary, ignore_errors=True)
    return target


def _write_metadata(saved_model_dir, generator, options, version):
    metadata = {
        "generator_config": generator.config.to_dict(),
        **options.to_dict(),
        "version": version,
        "signatures": [SERVING_SIGNATURE, BYTES_SIGNATURE, NETWORK_SIGNATURE],
        "weights": {key: value for key, value in
                    getattr(generator, "pretrained_metadata", {}).items()
                    if key in ("step", "untrained", "dtype")},
    }
    # Set by crainpaint.weights.restore_generator.
    if getattr(generator, "restored_step", None) is not None:
        metadata["weights"]["step"] = int(generator.restored_step)
    path = os.path.join(saved_model_dir, METADATA_PATH)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(metadata, handle, indent=2, sort_keys=True)


def _move_into_place(temporary, target, overwrite):
    """Renames ``temporary`` to ``target``; with ``overwrite`` the old version is moved aside
    first and deleted after, or put back when the rename fails."""
    if not os.path.exists(target):
        try:
            os.rename(temporary, target)
        except OSError as error:
            # Another exporter won the race for the same version.
            raise FileExistsError(f"Could not create {target}: {error}") from error
        return
    if not overwrite:
        raise FileExistsError(f"Version folder {target} appeared during the export; pass "
                              "overwrite=True to replace it.")
    aside = f"{os.path.dirname(target)}{os.sep}.old-{os.path.basename(target)}-" \
            f"{uuid.uuid4().hex[:8]}"
    os.rename(target, aside)
    try:
        os.rename(temporary, target)
    except OSError:
        os.rename(aside, target)
        raise
    shutil.rmtree(aside, ignore_errors=True)


# ------------------------------------------------------------------------------------------
# Command line.
# ------------------------------------------------------------------------------------------


def check_export_target(export_dir, version=None, overwrite=False):
    """Refuses an export that would fail after the work: checked before the weights load.

    Raises:
        ValueError: ``export_dir`` (or a parent of it) is a file or cannot be written, or the
            version folder exists and ``overwrite`` is false. The message names the path and
            the fix.
    """
    export_dir = os.fspath(export_dir)
    if os.path.lexists(export_dir) and not os.path.isdir(export_dir):
        raise ValueError(f"--export_dir {export_dir} is a file, not a folder; give a folder "
                         "(it is created when missing).")
    check_output_folder(export_dir)
    if version is not None and not overwrite:
        target = os.path.join(export_dir, str(version))
        if os.path.exists(target):
            raise ValueError(f"Version {version} already exists at {target}; pass --overwrite "
                             "to replace it, or choose another --version (default: the next "
                             "free one).")


def main(argv):
    from absl import app, flags
    from crainpaint import cra_flags
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}; every option is a "
                             "--flag.")
    values = flags.FLAGS
    try:
        # Before the weights are loaded: an invalid CRA combination fails in seconds, with
        # CRAConfig's message naming the fix.
        options = ExportOptions(max_pixels=values.max_pixels,
                                mask_convention=values.mask_convention,
                                cra_config=cra_flags.cra_config_from_flags(values))
    except ValueError as error:
        raise app.UsageError(str(error)) from None
    try:
        # User errors end in one line on stderr and exit status 1, not in a traceback.
        if values.format == "saved_model":
            check_export_target(values.export_dir, values.version, values.overwrite)
        # The attention scale is the network's: the file and the metadata carry it.
        generator = with_attention_scale(load_generator(values.weights, values.checkpoint_dir),
                                         options.cra_config.attention_scale)
        if values.format != "saved_model":
            from crainpaint import export_formats
            target = os.path.join(values.export_dir, export_formats.network_file_name(
                generator.config.input_size, values.format))
            if os.path.exists(target) and not values.overwrite:
                raise ValueError(f"{target} exists; pass --overwrite to replace it.")
            path = export_formats.export_network(generator, values.export_dir, values.format)
            print(f"Exported the network (image, mask → refined, scores) to {path}")
            return
        path = export_saved_model(generator, values.export_dir, version=values.version,
                                  overwrite=values.overwrite, options=options)
    except (ValueError, OSError) as error:
        sys.exit(f"crainpaint.export: error: {error}")
    print(f"Exported {SERVING_SIGNATURE}, {BYTES_SIGNATURE} and {NETWORK_SIGNATURE} to {path}")


def _define_flags():
    from absl import flags
    from crainpaint import cra_flags, export_formats
    flags.DEFINE_string("checkpoint_dir", None, "Training folder to restore the generator from "
                        "(the latest checkpoint's weights and generator_config.json; for the "
                        "run's weight average give --weights MODEL_DIR/generator_weights_average).")
    flags.DEFINE_string("weights", None, "Folder written by save_generator_weights "
                        "(generator.npz + generator.json). Default: the bundled weights.")
    flags.DEFINE_string("export_dir", None, "Model base folder; the SavedModel goes to "
                        "<export_dir>/<version>/.")
    flags.DEFINE_enum("format", "saved_model", list(export_formats.FORMATS),
                      "saved_model: the versioned SavedModel for TF Serving (whole CRA); onnx / "
                      "tflite: the bare network as <export_dir>/crainpaint_<size>.onnx|.tflite "
                      "(docs/portable.md).")
    flags.DEFINE_integer("version", None, "Version number (default: next free integer).",
                         lower_bound=1)
    flags.DEFINE_bool("overwrite", False, "Replace an existing version.")
    flags.DEFINE_integer("max_pixels", MAX_PIXELS, "Largest height x width accepted.",
                         lower_bound=1)
    flags.DEFINE_enum("mask_convention", DEFAULT_MASK_CONVENTION, list(MASK_CONVENTIONS),
                      "Which mask pixels are holes: white_hole (white = hole) or black_hole "
                      "(the original HiFill release's masks).")
    # The whole CRAConfig baked into the full-resolution signatures: --cra_preset and one flag
    # per field, shared with the other binaries.
    cra_flags.define_cra_flags(flags.FLAGS)
    flags.adopt_module_key_flags(cra_flags)  # Listed by --help with the flags above.
    flags.mark_flag_as_required("export_dir")


if __name__ == "__main__":
    from absl import app
    _define_flags()
    app.run(main)
