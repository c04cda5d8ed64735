"""Object removal on photos without ground truth: crainpaint against OpenCV's inpainting.

The library of ``experiments/remove_objects.py`` (the command, with its run lines below).

For every photo of ``--images`` with a mask of the same file stem in ``--masks`` (any image
format; ``--mask_convention`` says whether white or black is the hole; JPEG masks are not
exactly binary and are thresholded at half range, ``crainpaint.imaging.read_mask``), every
method of ``--methods`` fills the hole:

* ``crainpaint``: ``crainpaint.inpaint(image, hole, model)`` with the bundled generator or the
  one in ``--weights`` (CRA with its default ``CRAConfig``).
* ``telea`` / ``navier_stokes``: ``cv2.inpaint`` (INPAINT_TELEA / INPAINT_NS), radius 3.

There is no ground truth, so each result is measured without one:

* ``texture``: ``crainpaint.evaluation.texture.texture_ratio``, the mean Laplacian magnitude in
  the hole's core over the context ring's (≈ 1 for photo-like detail, 0 for a flat fill).
* ``seconds``: the wall time of the fill (every method is run once on a small image first, so
  crainpaint's tracing is not counted).
* for crainpaint, the concentration of the attention the CRA reads over the hole cells
  (``crainpaint.cra.hole_attention`` → ``crainpaint.evaluation.attention``): the median over the
  hole cells of the effective number of sources (exp of the entropy of a row) and of the top
  weight. Many sources with small weights mean aggregated residuals that cancel: a smooth fill.

Output in ``--output_dir``: ``remove_objects.json`` (every photo and the means, written
atomically) and ``<stem>_sheet.jpg`` per photo: the input with the hole tinted red and one
panel per method on the top row, 1:1 crops around the hole's largest region of the same panels
below (``crainpaint.evaluation.sheets``). The per-photo table and its mean row are printed as
markdown; one progress line per photo goes to stderr.

The command is ``experiments/remove_objects.py``; its docstring has the run and smoke commands.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import sys
import tempfile
import time
from typing import Optional

import cv2
import numpy as np

from crainpaint import cra, pipeline
from crainpaint.image_header import IMAGE_EXTENSIONS
from crainpaint.evaluation.attention import attention_statistics
from crainpaint.evaluation.cases import shrunk_size
from crainpaint.evaluation.report import json_ready
from crainpaint.evaluation.sheets import comparison_sheet, tint_hole
from crainpaint.evaluation.texture import texture_ratio
from crainpaint.imaging import read_image, read_mask, write_image
from crainpaint.pixels import MASK_CONVENTIONS

METHODS = ("crainpaint", "telea", "navier_stokes")
INPAINT_RADIUS = 3
RESULT_NAME = "remove_objects.json"
SHEET_SUFFIX = "_sheet.jpg"


class InputError(ValueError):
    """The folders, the pairing of photos and masks, or a mask's size is not usable."""


@dataclasses.dataclass(frozen=True)
class RemovalConfig:
    """What to run: folders, mask convention, methods and sizes.

    Attributes:
        images_dir: folder of photos.
        masks_dir: folder of masks, paired with the photos by file stem.
        output_dir: where the JSON and the sheets go (created if missing).
        mask_convention: ``"white_hole"`` or ``"black_hole"`` (``crainpaint.imaging``).
        methods: a subset of ``METHODS``, in the order of the table and the sheets.
        weights: generator weights folder for ``crainpaint`` (None: the bundled model).
        max_long_side: area-shrink photo and mask to at most this many pixels on the long side
            first (None: their own size).
        panel_width: width of each top-row panel of the sheets, in pixels.
        cra: the ``crainpaint.cra.CRAConfig`` of the crainpaint method.
    """

    images_dir: str
    masks_dir: str
    output_dir: str
    mask_convention: str = "white_hole"
    methods: tuple = METHODS
    weights: Optional[str] = None
    max_long_side: Optional[int] = None
    panel_width: int = 1200
    cra: cra.CRAConfig = cra.CRAConfig()

    def __post_init__(self):
        if self.mask_convention not in MASK_CONVENTIONS:
            raise ValueError(f"mask_convention must be one of {MASK_CONVENTIONS}, got "
                             f"{self.mask_convention!r}.")
        unknown = [name for name in self.methods if name not in METHODS]
        if unknown or not self.methods:
            raise ValueError(f"methods must be a non-empty subset of {METHODS}, got "
                             f"{list(self.methods)}.")
        if len(set(self.methods)) != len(self.methods):
            raise ValueError(f"methods lists a method twice: {list(self.methods)}.")
        if self.max_long_side is not None and self.max_long_side < 1:
            raise ValueError(f"max_long_side must be a positive number of pixels, got "
                             f"{self.max_long_side}.")
        if self.panel_width < 1:
            raise ValueError(f"panel_width must be positive, got {self.panel_width}.")


# --------------------------------------------------------------------------------------------
# Photos and masks.
# --------------------------------------------------------------------------------------------


def _natural_key(text):
    """Sort key that orders "2" before "11"."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def _files_by_stem(directory, kind):
    if not os.path.isdir(directory):
        raise InputError(f"The {kind} folder {directory} does not exist or is not a folder.")
    by_stem = {}
    for name in sorted(os.listdir(directory)):
        if not name.lower().endswith(IMAGE_EXTENSIONS):
            continue
        stem = os.path.splitext(name)[0]
        if stem in by_stem:
            raise InputError(f"Two {kind} files share the stem {stem!r}: "
                             f"{os.path.basename(by_stem[stem])} and {name}; keep one.")
        by_stem[stem] = os.path.join(directory, name)
    return by_stem


def find_pairs(images_dir, masks_dir):
    """Photos and masks paired by file stem, in natural stem order.

    Returns:
        (pairs, unpaired): ``pairs`` a list of (stem, image path, mask path); ``unpaired`` the
        file names of the photos without a mask (they are skipped).

    Raises:
        InputError: a folder is missing, two files of a folder share a stem, or no photo has
            a mask.
    """
    images_dir, masks_dir = os.path.expanduser(images_dir), os.path.expanduser(masks_dir)
    images = _files_by_stem(images_dir, "image")
    masks = _files_by_stem(masks_dir, "mask")
    stems = sorted(set(images) & set(masks), key=_natural_key)
    if not stems:
        raise InputError(
            f"No photo in {images_dir} ({len(images)} images) has a mask with the same file "
            f"stem in {masks_dir} ({len(masks)} masks); extensions read: "
            f"{', '.join(IMAGE_EXTENSIONS)}.")
    unpaired = [os.path.basename(images[stem]) for stem in sorted(set(images) - set(masks),
                                                                  key=_natural_key)]
    return [(stem, images[stem], masks[stem]) for stem in stems], unpaired


def load_pair(image_path, mask_path, convention, max_long_side=None):
    """A photo as uint8 RGB and its hole map, area-shrunk to ``max_long_side`` if given.

    16-bit photos are rounded to 8 bits. The mask is thresholded at half range
    (``read_mask``); when shrunk, a pixel is hole when more than half of what it covers was.

    Returns:
        (image uint8 [H, W, 3], hole bool [H, W], original (height, width)).

    Raises:
        InputError: the mask's size is not the photo's.
        ImageReadError: a file cannot be decoded.
    """
    pixels = read_image(image_path).pixels
    if pixels.dtype == np.uint16:
        pixels = np.round(pixels / 257.0).astype(np.uint8)
    hole = read_mask(mask_path, convention)[..., 0]
    if hole.shape != pixels.shape[:2]:
        raise InputError(f"The mask {mask_path} is {hole.shape[1]}×{hole.shape[0]} but the photo "
                         f"{image_path} is {pixels.shape[1]}×{pixels.shape[0]} (width×height); "
                         f"a mask must have its photo's size.")
    original = pixels.shape[:2]
    height, width = shrunk_size(*original, max_long_side)
    if (height, width) != original:
        pixels = cv2.resize(pixels, (width, height), interpolation=cv2.INTER_AREA)
        hole = cv2.resize(hole, (width, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(pixels), hole > 0.5, original


# --------------------------------------------------------------------------------------------
# Methods and measures.
# --------------------------------------------------------------------------------------------


def _opencv_fill(flag):
    def fill(image, hole):
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        filled = cv2.inpaint(bgr, hole.astype(np.uint8) * 255, INPAINT_RADIUS, flag)
        return cv2.cvtColor(filled, cv2.COLOR_BGR2RGB)
    return fill


def build_fills(methods, generator=None, cra_config=None):
    """{name: fill(image uint8 RGB, hole bool) → uint8 RGB} for ``methods``, in order;
    crainpaint runs with ``cra_config`` (default ``CRAConfig()``)."""
    cra_config = cra_config or cra.CRAConfig()
    fills = {}
    for name in methods:
        if name == "crainpaint":
            if generator is None:
                raise ValueError("The crainpaint method needs a generator.")
            fills[name] = pipeline.pipeline_for(generator, cra_config)
        elif name == "telea":
            fills[name] = _opencv_fill(cv2.INPAINT_TELEA)
        elif name == "navier_stokes":
            fills[name] = _opencv_fill(cv2.INPAINT_NS)
        else:
            raise ValueError(f"Unknown method {name!r}; known: {METHODS}.")
    return fills


def warm_up(fills, size=128):
    """One call per method on a small image, so that traced functions exist before timing."""
    image = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    hole = np.zeros((size, size), bool)
    hole[size // 4:size // 2, size // 4:size // 2] = True
    for fill in fills.values():
        fill(image, hole)


def attention_summary(image, hole, generator, cra_config=None):
    """The attention statistics of crainpaint's CRA on one photo (JSON-ready dict)."""
    started = time.perf_counter()
    cra_config = cra_config or cra.CRAConfig()
    # The pipeline's generator: the one with the configuration's attention scale.
    generator = pipeline.pipeline_for(generator, cra_config).generator
    attention = cra.hole_attention(image, hole, generator, config=cra_config)
    statistics = attention_statistics(attention["weights"])
    return {"median_effective_sources": statistics["median_effective_sources"],
            "median_top_weight": statistics["median_top_weight"],
            "mean_effective_sources": statistics["mean_effective_sources"],
            "mean_top_weight": statistics["mean_top_weight"],
            "hole_cells": statistics["hole_cells"],
            "grid": [int(side) for side in attention["grid"]],
            "seconds": time.perf_counter() - started}


def remove_from_photo(image, hole, fills, generator=None, cra_config=None):
    """Every method on one photo.

    Returns:
        (record, results): ``record`` the JSON-ready measures (``methods``: per method
        ``texture`` and ``seconds``; ``attention`` when crainpaint ran), ``results`` the filled
        images by method.
    """
    record = {"hole_fraction": float(hole.mean()), "methods": {}}
    results = {}
    for name, fill in fills.items():
        started = time.perf_counter()
        result = fill(image, hole)
        seconds = time.perf_counter() - started
        results[name] = result
        record["methods"][name] = {"texture": texture_ratio(result, hole), "seconds": seconds}
    if "crainpaint" in fills and hole.any():
        record["attention"] = attention_summary(image, hole, generator, cra_config)
    return record, results


def photo_sheet(image, hole, results, panel_width=1200):
    """The input (hole tinted red) and each result on the top row; below, 1:1 crops of the same
    panels around the hole's largest region (``comparison_sheet``). Panels are at most the
    photo's own width: a small photo is not enlarged."""
    panels = [tint_hole(image, hole)] + list(results.values())
    return comparison_sheet(panels, hole, panel_width=min(panel_width, image.shape[1]))


# --------------------------------------------------------------------------------------------
# Summary, table and JSON.
# --------------------------------------------------------------------------------------------


def _finite_mean(values):
    finite = [value for value in values if value is not None and math.isfinite(value)]
    return float(np.mean(finite)) if finite else float("nan")


def summarize(photos, methods):
    """Means over the photos (NaN values, e.g. a texture ratio without a ring, left out)."""
    summary = {"methods": {}}
    for name in methods:
        entries = [photo["methods"][name] for photo in photos]
        summary["methods"][name] = {key: _finite_mean([entry[key] for entry in entries])
                                    for key in ("texture", "seconds")}
    attention = [photo["attention"] for photo in photos if "attention" in photo]
    if attention:
        summary["attention"] = {key: _finite_mean([entry[key] for entry in attention])
                                for key in ("median_effective_sources", "median_top_weight",
                                            "seconds")}
    summary["hole_fraction"] = _finite_mean([photo["hole_fraction"] for photo in photos])
    return summary


def _cell(value, form):
    return "–" if value is None or not math.isfinite(value) else form.format(value)


def markdown_table(photos, summary, methods):
    """One row per photo and a mean row: size, hole %, texture ratio and seconds per method,
    crainpaint's attention medians."""
    with_attention = "attention" in summary
    header = (["photo", "size", "hole %"] + [f"texture {name}" for name in methods]
              + [f"s {name}" for name in methods])
    if with_attention:
        header += ["sources (median)", "top weight (median)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]

    def row(label, size, hole_fraction, entries, attention):
        cells = [label, size, _cell(100.0 * hole_fraction, "{:.1f}")]
        cells += [_cell(entries[name]["texture"], "{:.3f}") for name in methods]
        cells += [_cell(entries[name]["seconds"], "{:.2f}") for name in methods]
        if with_attention:
            attention = attention or {}
            cells += [_cell(attention.get("median_effective_sources"), "{:.1f}"),
                      _cell(attention.get("median_top_weight"), "{:.3f}")]
        return "| " + " | ".join(cells) + " |"

    for photo in photos:
        height, width = photo["size"]
        lines.append(row(photo["image"], f"{width}×{height}", photo["hole_fraction"],
                         photo["methods"], photo.get("attention")))
    lines.append(row(f"**mean of {len(photos)}**", "", summary["hole_fraction"],
                     summary["methods"], summary.get("attention")))
    return "\n".join(lines)


def write_json_atomically(result, path):
    """Writes ``result`` as strict JSON (NaN → null) through a temporary file and a rename, so
    a reader never sees a partial file."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp",
                                         dir=directory)
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(json_ready(result), stream, indent=1, allow_nan=False)
            stream.write("\n")
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


# --------------------------------------------------------------------------------------------
# The run.
# --------------------------------------------------------------------------------------------


def _load_generator(weights):
    generator = pipeline.load_generator(weights)
    metadata = dict(getattr(generator, "pretrained_metadata", {}) or {})
    description = {"directory": os.path.expanduser(weights) if weights else "bundled",
                   "step": metadata.get("step"), "untrained": bool(metadata.get("untrained"))}
    return generator, description


def _progress_line(index, total, photo, elapsed):
    height, width = photo["size"]
    parts = [f"{name} texture {_cell(entry['texture'], '{:.3f}')} "
             f"({entry['seconds']:.2f} s)" for name, entry in photo["methods"].items()]
    attention = photo.get("attention")
    if attention:
        parts.append(f"attention {_cell(attention['median_effective_sources'], '{:.1f}')} "
                     f"sources, top {_cell(attention['median_top_weight'], '{:.3f}')}")
    remaining = elapsed / index * (total - index)
    return (f"[{index}/{total}] {photo['image']} {width}x{height} hole "
            f"{100 * photo['hole_fraction']:.1f}%: " + ", ".join(parts)
            + f" | elapsed {elapsed:.0f} s, ETA {remaining:.0f} s")


def remove_objects(config, generator=None, progress=sys.stderr):
    """Runs every method on every pair, writes the sheets and the JSON; returns the result.

    Args:
        config: a ``RemovalConfig``.
        generator: the crainpaint generator (default: loaded from ``config.weights``, only when
            crainpaint is one of the methods).
        progress: where the per-photo progress lines go.

    Returns:
        The dict written to ``OUTPUT_DIR/remove_objects.json`` (where NaN becomes null):
        ``config``, ``weights``, ``photos`` (one record per photo), ``summary`` (means),
        ``unpaired``, ``wall_seconds``.

    Raises:
        InputError: missing folder, no pairs, or a mask of another size than its photo.
        ImageReadError: a photo or mask cannot be decoded.
    """
    pairs, unpaired = find_pairs(config.images_dir, config.masks_dir)
    if unpaired:
        print(f"{len(unpaired)} photo(s) without a mask, skipped: {unpaired[:10]}",
              file=progress, flush=True)
    weights = None
    if "crainpaint" in config.methods:
        if generator is None:
            generator, weights = _load_generator(config.weights)
        else:
            metadata = getattr(generator, "pretrained_metadata", None) or {}
            weights = {"directory": "(generator passed in)", "step": metadata.get("step"),
                       "untrained": bool(metadata.get("untrained"))}
    fills = build_fills(config.methods, generator, config.cra)
    warm_up(fills)
    output_dir = os.path.expanduser(config.output_dir)
    os.makedirs(output_dir, exist_ok=True)
    started = time.perf_counter()
    photos = []
    for index, (stem, image_path, mask_path) in enumerate(pairs, start=1):
        image, hole, original = load_pair(image_path, mask_path, config.mask_convention,
                                          config.max_long_side)
        record, results = remove_from_photo(image, hole, fills, generator, config.cra)
        sheet_path = os.path.join(output_dir, stem + SHEET_SUFFIX)
        write_image(sheet_path, photo_sheet(image, hole, results, config.panel_width),
                    forbidden_paths=(image_path, mask_path))
        photos.append({"image": os.path.basename(image_path),
                       "mask": os.path.basename(mask_path), "size": list(image.shape[:2]),
                       "original_size": list(original), **record, "sheet": sheet_path})
        print(_progress_line(index, len(pairs), photos[-1], time.perf_counter() - started),
              file=progress, flush=True)
    result = {"config": dataclasses.asdict(config), "weights": weights, "photos": photos,
              "summary": summarize(photos, config.methods), "unpaired": unpaired,
              "wall_seconds": time.perf_counter() - started}
    write_json_atomically(result, os.path.join(output_dir, RESULT_NAME))
    return result


def run(config, command="", generator=None, output=sys.stdout, progress=sys.stderr):
    """``remove_objects`` and then the markdown table on ``output``; returns the result."""
    result = remove_objects(config, generator=generator, progress=progress)
    if command:
        print(f"command: {command}", file=output)
    weights = result["weights"]
    if weights:
        state = "UNTRAINED" if weights.get("untrained") else f"step {weights.get('step')}"
        print(f"weights: {weights['directory']} ({state})", file=output)
    print(f"photos: {len(result['photos'])}, wall time {result['wall_seconds']:.0f} s\n",
          file=output)
    print(markdown_table(result["photos"], result["summary"], config.methods), file=output)
    print(f"\nwrote {os.path.join(os.path.expanduser(config.output_dir), RESULT_NAME)} and "
          f"{len(result['photos'])} sheets", file=output, flush=True)
    return result
