"""One evaluation run: photos × holes × methods → per-sample metrics, tables and JSON.

``evaluate(config)`` runs every method of an ``EvaluationConfig`` on every (photo, hole)
sample at two resolutions (own and square) and returns the JSON-ready result; ``run`` prints
the header, the markdown tables of ``crainpaint.evaluation.report`` and writes the JSON;
``report`` prints the tables of a saved run again. ``experiments/evaluate.py`` is the command.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import sys
import time
from typing import Optional

import cv2
import numpy as np
import tensorflow as tf

from crainpaint import cra, pipeline
from crainpaint.evaluation.cases import (FILE_BINS, GENERATED_BINS, holes_of, list_images,
                                         load_photo, resize, samples_of)
from crainpaint.evaluation.inception import InceptionStatistics, inception_summary
from crainpaint.evaluation.methods import (GENERATOR_METHODS, METHODS, build_methods,
                                           evaluate_sample, warm_up)
from crainpaint.evaluation.report import (ALL_BINS, GROUND_TRUTH, json_ready, markdown_tables,
                                          paired_comparisons, paired_tables, summarize)
from crainpaint.evaluation.texture import texture_ratio
from crainpaint.pixels import MASK_CONVENTIONS
from crainpaint.system_info import cpu_description

DEFAULT_IMAGES_DIR = os.path.join("~", ".cache", "crainpaint", "data", "photos", "validation")


@dataclasses.dataclass(frozen=True)
class EvaluationConfig:
    """Everything one evaluation run depends on (the CLI flags, parsed).

    Attributes:
        images_dir: folder of photos (any format ``crainpaint.imaging.read_image`` reads).
        masks_dir: folder of masks paired with the photos by stem; None = generated masks.
        mask_convention: "white_hole" or "black_hole", for mask files.
        masks_per_image: generated masks per photo and bin.
        seed: first half of every generated mask's seed.
        methods: names from ``METHODS``.
        weights: generator weights directory; None = the bundled weights (or an untrained
            generator, with a warning, when none are bundled).
        max_images: evaluate only the first N photos in name order.
        long_side: area-shrink photos (and masks) so the long side is at most this many pixels
            before anything else; None = the photos' own size.
        square_size: side of the fixed-size evaluation (and of the generated masks).
        inpaint_radius: cv2.inpaint radius of the Telea and Navier–Stokes baselines.
        fullres_max_pixels: largest image (H·W) the full-resolution generator is run on.
        cra: the ``crainpaint.cra.CRAConfig`` of the two crainpaint methods.
        inception_weights: Keras InceptionV3 ``.weights.h5``; None = no FID / IS.
        is_splits: splits of the Inception Score (its mean over splits is reported).
    """

    images_dir: str = DEFAULT_IMAGES_DIR
    masks_dir: Optional[str] = None
    mask_convention: str = "white_hole"
    masks_per_image: int = 1
    seed: int = 0
    methods: tuple = METHODS
    weights: Optional[str] = None
    max_images: Optional[int] = None
    long_side: Optional[int] = None
    square_size: int = 512
    inpaint_radius: int = 3
    fullres_max_pixels: int = 2_100_000
    cra: cra.CRAConfig = cra.CRAConfig()
    inception_weights: Optional[str] = None
    is_splits: int = 1

    def __post_init__(self):
        unknown = [name for name in self.methods if name not in METHODS]
        if unknown or not self.methods:
            raise ValueError(f"methods must be a non-empty subset of {METHODS}, got "
                             f"{list(self.methods)}.")
        if self.mask_convention not in MASK_CONVENTIONS:
            raise ValueError(f"mask_convention must be one of {MASK_CONVENTIONS}, got "
                             f"{self.mask_convention!r}.")
        if not isinstance(self.cra, cra.CRAConfig):
            raise ValueError(f"cra must be a crainpaint.cra.CRAConfig, got {self.cra!r}.")
        for name in ("masks_per_image", "square_size", "inpaint_radius", "fullres_max_pixels",
                     "is_splits"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}.")
        for name in ("max_images", "long_side"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1 or None, got {getattr(self, name)}.")


def _format_duration(seconds):
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def _load_generator(weights):
    generator = pipeline.load_generator(weights)
    metadata = dict(getattr(generator, "pretrained_metadata", {}) or {})
    description = {"directory": os.path.expanduser(weights) if weights else "bundled",
                   "step": metadata.get("step"), "untrained": bool(metadata.get("untrained")),
                   "config": generator.config.to_dict()}
    return generator, description


def evaluate(config, progress=sys.stderr):
    """Runs the whole evaluation; returns the JSON-ready result (samples and summary)."""
    image_paths = list_images(config.images_dir, config.max_images)
    generator, weights = None, None
    if any(name in GENERATOR_METHODS for name in config.methods):
        generator, weights = _load_generator(config.weights)
    methods = build_methods(config.methods, generator, config.inpaint_radius,
                            config.fullres_max_pixels, config.cra)
    inception = (InceptionStatistics(config.inception_weights) if config.inception_weights
                 else None)
    warm_up(methods)
    bins = [name for name, _, _ in (FILE_BINS if config.masks_dir else GENERATED_BINS)]
    samples_todo = samples_of(config, image_paths)
    samples, features = [], {}
    start = time.perf_counter()
    cached_path, target = None, None
    for index, (path, source) in enumerate(samples_todo):
        if path != cached_path:
            cached_path = path
            target, original_size = load_photo(path, config.long_side)
        height, width = target.shape[:2]
        hole, square_hole, bin_name, record = holes_of(config, path, source, height, width,
                                                       original_size)
        record.update(image=os.path.basename(path), size=[height, width],
                      original_size=list(original_size), bin=bin_name)
        if not hole.any() or not square_hole.any():
            print(f"[{index + 1}/{len(samples_todo)}] {record['image']}: empty hole, skipped",
                  file=progress)
            continue
        square_target = resize(target, config.square_size, config.square_size)
        record["hole_fraction"] = {"own": float(hole.mean()), "square": float(square_hole.mean())}
        record["results"], record[GROUND_TRUTH] = {}, {}
        for resolution, image, image_hole in (("own", target, hole),
                                              ("square", square_target, square_hole)):
            results, composites = evaluate_sample(methods, image, image_hole)
            record["results"][resolution] = results
            # The photo's own texture ratio: what a fill should score on this hole.
            record[GROUND_TRUTH][resolution] = {
                "texture_ratio": texture_ratio(image, image_hole)}
            if inception is not None:
                named = dict(composites, ground_truth=image)
                for name, composite in named.items():
                    outputs = inception(composite)
                    for key_bin in (bin_name, ALL_BINS):
                        features.setdefault((resolution, name, key_bin), []).append(outputs)
        samples.append(record)
        elapsed = time.perf_counter() - start
        remaining = elapsed / (index + 1) * (len(samples_todo) - index - 1)
        print(f"[{index + 1}/{len(samples_todo)}] {record['image']} {width}x{height} "
              f"bin {bin_name} (hole {100 * record['hole_fraction']['own']:.1f}%): "
              + ", ".join(f"{name} L1 {result['l1']:.2f} SWD {result['swd']:.0f}"
                          for name, result in record["results"]["own"].items()
                          if "skipped" not in result)
              + f" | elapsed {_format_duration(elapsed)}, ETA {_format_duration(remaining)}",
              file=progress, flush=True)
    summary = summarize(samples, config.methods, bins)
    if inception is not None:
        for resolution, tables in inception_summary(features, config.is_splits, bins).items():
            summary[resolution].update(tables)
    paired = paired_comparisons(samples, bins)
    return {"config": dataclasses.asdict(config), "weights": weights, "bins": bins,
            "methods": list(config.methods), "samples": samples, "summary": summary,
            "paired": paired, "wall_seconds": time.perf_counter() - start}


def write_json(result, path):
    """Writes ``result`` as strict JSON (NaN → null, ±inf → "inf"/"-inf"), atomically."""
    path = os.path.expanduser(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temporary = path + ".tmp"
    with open(temporary, "w") as handle:
        json.dump(json_ready(result), handle, indent=1, allow_nan=False)
    os.replace(temporary, path)


def header(command):
    """The lines printed first: command, CPU, library versions."""
    import keras

    return [f"command: {command}", f"cpu: {cpu_description()}",
            f"versions: python {platform.python_version()}, tensorflow {tf.__version__}, "
            f"keras {keras.__version__}, opencv {cv2.__version__}, numpy {np.__version__}"]


def run(config, command, output_json=None, output=sys.stdout, progress=sys.stderr):
    """Header, evaluation, markdown tables and the optional JSON; returns the result."""
    lines = header(command)
    for line in lines:
        print(line, file=output, flush=True)
    start = time.perf_counter()
    result = evaluate(config, progress=progress)
    result.update(command=command, cpu=cpu_description(), header=lines,
                  total_wall_seconds=time.perf_counter() - start)
    weights = result["weights"]
    if weights is not None:
        state = "UNTRAINED" if weights["untrained"] else f"step {weights['step']}"
        print(f"weights: {weights['directory']} ({state})", file=output)
    print(f"samples: {len(result['samples'])}, wall time "
          f"{_format_duration(result['total_wall_seconds'])}", file=output)
    print("", file=output)
    print(markdown_tables(result["summary"], result["methods"], result["bins"],
                          config.square_size), file=output, flush=True)
    paired = paired_tables(result["paired"], result["bins"])
    if paired:
        print("\n" + paired, file=output, flush=True)
    if output_json:
        write_json(result, output_json)
        print(f"\nwrote {output_json}", file=output)
    return result


# What --report needs from a saved run.
REPORT_KEYS = ("bins", "methods", "samples", "summary", "config", "total_wall_seconds")


def _from_json_value(value):
    """Inverse of ``json_ready`` for numbers: null → NaN, "inf"/"-inf" → ±inf."""
    if isinstance(value, dict):
        return {key: _from_json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_json_value(item) for item in value]
    if value is None:
        return math.nan
    if value in ("inf", "-inf"):
        return math.inf if value == "inf" else -math.inf
    return value


def report(path, output=sys.stdout):
    """Prints the tables of a JSON written by ``--output_json`` again, without re-running.

    The paired comparison is recomputed from the stored samples, so a JSON from before it
    existed gets it too. Returns the loaded result.

    Raises:
        ValueError: ``path`` is not JSON written by ``--output_json`` (names the file).
    """
    with open(os.path.expanduser(path)) as handle:
        try:
            result = json.load(handle)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not JSON: {error}") from None
    missing = [key for key in REPORT_KEYS if not isinstance(result, dict) or key not in result]
    if missing:
        raise ValueError(f"{path} is not a result of evaluate.py --output_json: missing "
                         f"{', '.join(missing)}.")
    bins, methods = result["bins"], result["methods"]
    samples = [dict(sample, results=_from_json_value(sample["results"]))
               for sample in result["samples"]]
    result["paired"] = paired_comparisons(samples, bins)
    square_size = result["config"]["square_size"]
    for line in result.get("header", []):
        print(line, file=output)
    print(f"report of {path}", file=output)
    weights = result.get("weights")
    if weights:
        state = "UNTRAINED" if weights["untrained"] else f"step {weights['step']}"
        print(f"weights: {weights['directory']} ({state})", file=output)
    print(f"samples: {len(samples)}, wall time "
          f"{_format_duration(result['total_wall_seconds'])}", file=output)
    print("", file=output)
    print(markdown_tables(_from_json_value(result["summary"]), methods, bins, square_size),
          file=output)
    paired = paired_tables(result["paired"], bins)
    if paired:
        print("\n" + paired, file=output, flush=True)
    return result
