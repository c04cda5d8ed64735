"""Full-resolution inpainting from an exported network file, without TensorFlow.

``python -m crainpaint.export --format onnx`` (or ``tflite``) writes the bare network; this module
wraps it in the CRA pipeline of ``crainpaint.cra`` (Sec. 3.1, 3.2.3 and 4.1), written in numpy:
it imports only numpy, plus onnxruntime or ai_edge_litert when a file of that kind is loaded.
For one photo, hole only:

1. the photo is up-sampled when smaller than the network input, mirror-padded so that the
   attention grid tiles it, and down-sampled by averaging its known pixels (TensorFlow's
   ``area`` resize, reproduced here);
2. the network inpaints the down-sampled photo and returns its attention scores;
3. the context residuals (photo − blurry image) are aggregated into the hole cells (Eq. 4): by
   default each hole cell transplants its best source's residual against the network output
   averaged over 4 × 4 pixels, cross-faded across cell boundaries, the cells on the hole's
   edge choosing among their 8 best sources by their known pixels, as ``CRAConfig()`` does;
   ``PortableConfig.paper()`` sums every source weighted by its score, as ``CRAConfig.paper()``;
4. the fill is rounded and pasted into the hole; every other pixel is the input's, bit for
   bit. With the default Poisson seam (as ``CRAConfig()``) the fill is the network's output
   up-sampled + residual + the membrane interpolation of the mismatch photo − network output
   along the hole's edge; with ``seam="paste"`` (the paper's) it is blurry image + residual.

It computes what ``crainpaint.cra.inpaint_image`` computes for the same ``CRAConfig`` fields
(within 1 grey level, ``tests/test_portable.py``), with one limit of the fixed-size file: the
network input is square, so ``geometry`` is ``"tile"`` (default here) or ``"pad512"``, not
``CRAConfig``'s default ``"aspect"``, and ``feather_px`` is 0.

Use::

    from crainpaint.portable import PortableNetwork, inpaint
    network = PortableNetwork("models/portable/crainpaint_512.onnx")  # or .tflite
    result = inpaint(image, hole, network)  # uint8 [H, W, 3] RGB, hole [H, W] bool
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np

GEOMETRIES = ("tile", "pad512")
SEAMS = ("paste", "poisson")
RESIDUAL_SCALES = (1, 2, 4, 8)
# The defaults of crainpaint.cra (CRAConfig), except the geometry (see the module docstring).
DEFAULT_HOLE_THRESHOLD = 1.0
DEFAULT_RESIDUAL_TOP_K = 1
DEFAULT_RESIDUAL_SHARPNESS = 1.0
DEFAULT_RESIDUAL_BLEND = 0.3
DEFAULT_RESIDUAL_SCALE = 4
DEFAULT_RESIDUAL_CANDIDATES = 8
# A hole cell with fewer known pixels than this fraction keeps its best-scoring source
# (crainpaint.residuals.MATCH_MIN_KNOWN).
_MATCH_MIN_KNOWN = 1.0 / 16.0
# ... compared on every s-th pixel per axis, s = cell side // this (crainpaint.residuals).
_MATCH_SAMPLES = 32
# Known fractions at or below this count as none (as in crainpaint.cra).
_KNOWN_EPSILON = 1e-6
DEFAULT_SEAM = "poisson"
# The membrane of the Poisson seam: longest side solved at full resolution, Jacobi steps per
# pyramid level (crainpaint.cra.MEMBRANE_MAX_SIDE, crainpaint.membrane).
_MEMBRANE_MAX_SIDE = 512
_SMOOTHING_STEPS = 8
# Residual values (float32) the top-k aggregation holds at once: bounds its memory (64 MB) at
# any resolution; a chunk is as many hole cells as fit, at least one.
_CHUNK_VALUES = 1 << 24


@dataclasses.dataclass(frozen=True)
class PortableConfig:
    """The ``CRAConfig`` fields the portable pipeline supports; each means what it means there.

    Attributes:
        geometry: ``"tile"`` (pad to a multiple of the grid, area-resize to the square network
            input) or ``"pad512"`` (mirror-pad to multiples of the network input, the paper's).
        hole_threshold: a network pixel is a hole when more than this fraction of the photo
            pixels it covers are (1 = only when all are).
        seam: ``"poisson"`` (default: the network's output up-sampled + residual + the
            membrane interpolation of the mismatch along the hole's edge) or ``"paste"``
            (blurry image + aggregated residual, the paper's).
        residual_top_k: sources per hole cell in Eq. 4 (0 = every usable one, the paper's).
        residual_sharpness: power the scores are raised to before they are renormalised.
        residual_blend: width in cells of the cross-fade between neighbouring transplants
            (needs ``residual_top_k`` ≥ 1).
        residual_scale: the blurry base is the network output averaged over s × s pixels.
        residual_candidates: a hole cell on the hole's edge takes, of its this many
            best-scoring sources, the ``residual_top_k`` whose residuals agree best with its
            own known pixels (at most ``residual_top_k``: the best-scoring ones).
    """

    geometry: str = "tile"
    hole_threshold: float = DEFAULT_HOLE_THRESHOLD
    seam: str = DEFAULT_SEAM
    residual_top_k: int = DEFAULT_RESIDUAL_TOP_K
    residual_sharpness: float = DEFAULT_RESIDUAL_SHARPNESS
    residual_blend: float = DEFAULT_RESIDUAL_BLEND
    residual_scale: int = DEFAULT_RESIDUAL_SCALE
    residual_candidates: int = DEFAULT_RESIDUAL_CANDIDATES

    @classmethod
    def paper(cls, **overrides):
        """The paper's choices, as ``CRAConfig.paper()``; ``overrides`` replace fields."""
        fields = dict(geometry="pad512", hole_threshold=0.0, seam="paste", residual_top_k=0,
                      residual_sharpness=1.0, residual_blend=0.0, residual_scale=1,
                      residual_candidates=1)
        fields.update(overrides)
        return cls(**fields)

    def __post_init__(self):
        if self.geometry not in GEOMETRIES:
            raise ValueError(f"geometry must be one of {GEOMETRIES} (the exported network has a "
                             f"fixed square input, so 'aspect' needs crainpaint.cra), got "
                             f"{self.geometry!r}.")
        if self.seam not in SEAMS:
            raise ValueError(f"seam must be one of {SEAMS}, got {self.seam!r}.")
        if not 0.0 <= self.hole_threshold <= 1.0:
            raise ValueError(f"hole_threshold must be in [0, 1], got {self.hole_threshold!r}.")
        if type(self.residual_top_k) is not int or self.residual_top_k < 0:  # Not a bool.
            raise ValueError(f"residual_top_k must be an int >= 0, got {self.residual_top_k!r}.")
        if not 0.0 < self.residual_sharpness <= 64.0:
            raise ValueError(f"residual_sharpness must be in (0, 64], got "
                             f"{self.residual_sharpness!r}.")
        if not 0.0 <= self.residual_blend <= 1.0:
            raise ValueError(f"residual_blend must be in [0, 1], got {self.residual_blend!r}.")
        if self.residual_blend and not self.residual_top_k:
            raise ValueError("residual_blend needs residual_top_k >= 1; set residual_top_k "
                             "(e.g. 1) or residual_blend=0.")
        if type(self.residual_candidates) is not int or self.residual_candidates < 1:
            raise ValueError(f"residual_candidates must be an int >= 1, got "
                             f"{self.residual_candidates!r}.")
        if self.residual_scale not in RESIDUAL_SCALES:
            raise ValueError(f"residual_scale must be one of {RESIDUAL_SCALES}, got "
                             f"{self.residual_scale!r}.")


class PortableNetwork:
    """An exported network file (``.onnx`` or ``.tflite``) as a numpy function.

    ``network(image, mask)`` with image float32 [S, S, 3] in [−1, 1] and mask float32
    [S, S, 1] (1 = hole) returns (refined [S, S, 3], scores [cells, cells]).

    Args:
        path: a file written by ``python -m crainpaint.export --format onnx|tflite``.
        threads: CPU threads of the runtime (None: the runtime's default).
    Attributes:
        input_size: S; grid: attention cells per side.
    """

    def __init__(self, path, threads=None):
        extension = os.path.splitext(path)[1].lower()
        if extension == ".onnx":
            self._run = _onnx_runner(path, threads)
        elif extension == ".tflite":
            self._run = _litert_runner(path, threads)
        else:
            raise ValueError(f"Unknown network file {path!r}: expected a .onnx or .tflite file "
                             "written by python -m crainpaint.export --format onnx|tflite.")
        self.input_size, self.grid = self._run.input_size, math.isqrt(self._run.cells)

    def __call__(self, image, mask):
        refined, scores = self._run(image[np.newaxis].astype(np.float32),
                                    mask[np.newaxis].astype(np.float32))
        return refined[0], scores[0]


def _onnx_runner(path, threads):
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError("Running a .onnx network needs onnxruntime: pip install onnxruntime "
                          "(or 'crainpaint[export]').") from error
    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    runtime = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    def run(image, mask):
        return runtime.run(["refined", "scores"], {"image": image, "mask": mask})

    run.input_size = runtime.get_inputs()[0].shape[1]
    run.cells = {output.name: output for output in runtime.get_outputs()}["scores"].shape[1]
    return run


def _litert_runner(path, threads):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as error:
        raise ImportError("Running a .tflite network needs ai-edge-litert: pip install "
                          "ai-edge-litert (or 'crainpaint[export]').") from error
    runner = Interpreter(model_path=path, num_threads=threads).get_signature_runner()

    def run(image, mask):
        outputs = runner(image=image, mask=mask)
        return outputs["refined"], outputs["scores"]

    run.input_size = int(runner.get_input_details()["image"]["shape"][1])
    run.cells = int(runner.get_output_details()["scores"]["shape"][1])
    return run


# ------------------------------------------------------------------------------------------
# Resizing as TensorFlow does it (tf.image.resize "area" and "bilinear", half-pixel centres).
# ------------------------------------------------------------------------------------------


def _area_taps(in_size, out_size):
    """(indices, weights), each [taps, out_size]: output o averages input pixels
    [o·s, (o + 1)·s) with s = in/out, partial pixels weighted by their covered fraction."""
    scale = np.float32(in_size) / np.float32(out_size)
    start = np.arange(out_size, dtype=np.float32) * scale
    end = np.arange(1, out_size + 1, dtype=np.float32) * scale
    first = np.floor(start).astype(np.int64)
    taps = int(np.max(np.ceil(end).astype(np.int64) - first))
    indices = first[np.newaxis] + np.arange(taps)[:, np.newaxis]
    lower = np.maximum(indices.astype(np.float32), start[np.newaxis])
    upper = np.minimum(indices.astype(np.float32) + 1.0, end[np.newaxis])
    weights = np.maximum(upper - lower, 0.0) / scale
    return np.minimum(indices, in_size - 1), weights.astype(np.float32)


def _bilinear_taps(in_size, out_size, positions=None):
    """(lower, upper, fraction) of the output pixels ``positions`` (default: all)."""
    scale = np.float32(in_size) / np.float32(out_size)
    if positions is None:
        positions = np.arange(out_size)
    source = (np.asarray(positions, np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    floor = np.floor(source)
    lower = np.clip(floor, 0, in_size - 1).astype(np.int64)
    upper = np.clip(np.ceil(source), 0, in_size - 1).astype(np.int64)
    return lower, upper, (source - floor).astype(np.float32)


def _resize_axis(image, size, axis, method):
    if image.shape[axis] == size:
        return image.astype(np.float32)
    if method == "area":
        indices, weights = _area_taps(image.shape[axis], size)
        shape = [1] * image.ndim
        shape[axis] = size
        total = 0.0
        for tap_indices, tap_weights in zip(indices, weights):
            taken = np.take(image, tap_indices, axis=axis).astype(np.float32)
            total = total + taken * tap_weights.reshape(shape)
        return total
    lower, upper, fraction = _bilinear_taps(image.shape[axis], size)
    shape = [1] * image.ndim
    shape[axis] = size
    low = np.take(image, lower, axis=axis).astype(np.float32)
    high = np.take(image, upper, axis=axis).astype(np.float32)
    return low + (high - low) * fraction.reshape(shape)


def resize(image, height, width, method):
    """``tf.image.resize(image, [height, width], method)`` for [H, W, C] ("area" or
    "bilinear"); float32, within float rounding of TensorFlow's."""
    return _resize_axis(_resize_axis(image, height, 0, method), width, 1, method)


def to_uint8(values):
    """Rounds half to even and clips to 0..255, NaN to 0 (``crainpaint.pixels.to_uint8``)."""
    values = np.nan_to_num(np.asarray(values, np.float32), nan=0.0)
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


class _Upsampler:
    """The bilinear up-sampling of a small image to the working size, cell by cell."""

    def __init__(self, small, work_height, work_width, grid_width, cell_height, cell_width):
        self.small = small.astype(np.float32)
        self.work_height, self.work_width = work_height, work_width
        self.grid_width, self.cell_height, self.cell_width = grid_width, cell_height, cell_width

    def _values(self, rows, cols):
        """[..., C] at pixel rows [N, a, 1] and cols [N, 1, b] (broadcast)."""
        top, bottom, row_fraction = _bilinear_taps(self.small.shape[0], self.work_height, rows)
        left, right, col_fraction = _bilinear_taps(self.small.shape[1], self.work_width, cols)
        small = self.small
        upper = small[top, left] + (small[top, right] - small[top, left]) * col_fraction[
            ..., np.newaxis]
        lower = small[bottom, left] + (small[bottom, right] - small[bottom, left]) * (
            col_fraction[..., np.newaxis])
        return upper + (lower - upper) * row_fraction[..., np.newaxis]

    def points(self, rows, cols):
        """[N, C] at the pixels (rows[n], cols[n])."""
        return self._values(rows, cols)

    def cells(self, indices):
        """[K, ch, cw, C] of the grid cells ``indices``."""
        rows, cols = _cell_pixels(np.asarray(indices), self.grid_width, self.cell_height,
                                  self.cell_width)
        return self._values(rows, cols)


def _cell_pixels(cells, grid_width, cell_height, cell_width):
    """Row [K, ch, 1] and column [K, 1, cw] indices of the pixels of the grid cells."""
    rows = (cells // grid_width * cell_height)[:, np.newaxis, np.newaxis] + np.arange(
        cell_height)[np.newaxis, :, np.newaxis]
    cols = (cells % grid_width * cell_width)[:, np.newaxis, np.newaxis] + np.arange(
        cell_width)[np.newaxis, np.newaxis, :]
    return rows, cols


def _round_up(value, multiple):
    return (value + multiple - 1) // multiple * multiple


def _pad_to(image, height, width):
    """Mirror-pads [H, W, C] at the bottom/right ('SYMMETRIC', repeated when larger)."""
    return np.pad(image, [[0, height - image.shape[0]], [0, width - image.shape[1]], [0, 0]],
                  mode="symmetric")


def _grow(mask):
    """The 3 × 3 maximum of a 2-D mask (zeros outside it): the cells or pixels touching it."""
    padded = np.pad(mask, 1)
    grown = np.zeros_like(mask)
    for row in range(3):
        for col in range(3):
            grown = np.maximum(grown, padded[row:row + mask.shape[0], col:col + mask.shape[1]])
    return grown


# ------------------------------------------------------------------------------------------
# Residual aggregation (Eq. 4).
# ------------------------------------------------------------------------------------------


def _known_cells(known, cells, grid_width, cell_height, cell_width):
    """[K, ch, cw, 3] float32 pixels of the grid cells of the working image."""
    rows, cols = _cell_pixels(np.asarray(cells), grid_width, cell_height, cell_width)
    return known[rows, cols].astype(np.float32)


def aggregate_residuals(known, upsampler, weights, grid_height, grid_width, cell_height,
                        cell_width):
    """Eq. 4 over every source: [K, ch, cw, 3] = Σ_i w_ji (photo − blurry)_i, grid row by row
    (``crainpaint.cra.aggregate_residuals``)."""
    total = np.zeros([weights.shape[0], cell_height * cell_width * 3], np.float32)
    for row in range(grid_height):
        row_weights = weights[:, row * grid_width:(row + 1) * grid_width]
        if not np.any(row_weights):
            continue
        cells = np.arange(grid_width) + row * grid_width
        residuals = (_known_cells(known, cells, grid_width, cell_height, cell_width)
                     - upsampler.cells(cells))
        total += row_weights @ residuals.reshape(grid_width, -1)
    return total.reshape(-1, cell_height, cell_width, 3)


def _blend_weights(size, offsets, width):
    """[len(offsets), size] cross-fade weights (``crainpaint.cra._blend_weights``)."""
    position = (np.arange(size, dtype=np.float32) + 0.5) / np.float32(size) - 0.5
    own = np.clip(0.5 + (0.5 - np.abs(position)) / np.float32(width), 0.0, 1.0)
    side = np.sign(position)
    return np.stack([own if offset == 0 else (1.0 - own) * (side == offset)
                     for offset in offsets]).astype(np.float32)


def _divide_no_nan(numerator, denominator):
    safe = np.where(denominator == 0, 1.0, denominator)
    return np.where(denominator == 0, 0.0, numerator / safe).astype(np.float32)


def match_known_pixels(known, hole, upsampler, weights, hole_cells, known_fraction,
                       grid_width, cell_height, cell_width, top_k, candidates):
    """([K, top_k] sources, [K, top_k] scores): of each hole cell's ``candidates`` best-scoring
    sources, the ``top_k`` whose residuals differ least (sum of absolute differences on every
    s-th pixel, s = cell side // 32) from the cell's own over its known pixels; cells with
    less than 1/16 known keep the best-scoring ones
    (``crainpaint.residuals.match_known_pixels``)."""
    order = np.argsort(-weights, axis=1, kind="stable")[:, :candidates]
    values = np.take_along_axis(weights, order, axis=1)
    ranks = np.broadcast_to(np.arange(order.shape[1]), order.shape).copy()
    stride = max(min(cell_height, cell_width) // _MATCH_SAMPLES, 1)

    def sample_pixels(cells):
        rows = (cells // grid_width * cell_height)[:, np.newaxis, np.newaxis] + np.arange(
            0, cell_height, stride)[np.newaxis, :, np.newaxis]
        cols = (cells % grid_width * cell_width)[:, np.newaxis, np.newaxis] + np.arange(
            0, cell_width, stride)[np.newaxis, np.newaxis, :]
        return rows, cols

    def residuals(cells):
        rows, cols = sample_pixels(cells)
        return known[rows, cols].astype(np.float32) - upsampler._values(rows, cols)

    for row in np.flatnonzero(known_fraction >= _MATCH_MIN_KNOWN):
        cell = hole_cells[row:row + 1]
        rows, cols = sample_pixels(cell)
        own_known = ~hole[rows, cols][..., np.newaxis]
        difference = (np.abs(residuals(order[row]) - residuals(cell)) * own_known).sum(
            axis=(1, 2, 3))
        ranks[row] = np.argsort(np.where(values[row] > 0.0, difference, np.inf), kind="stable")
    ranks = ranks[:, :top_k]
    return np.take_along_axis(order, ranks, axis=1), np.take_along_axis(values, ranks, axis=1)


def aggregate_top_k(known, upsampler, weights, hole_cells, grid_height, grid_width,
                    cell_height, cell_width, top_k, blend, blend_width=1.0, chosen=None):
    """Eq. 4 with each hole cell's ``top_k`` best sources, optionally cross-faded with its
    neighbours' transplants read at the same offset (``crainpaint.cra.aggregate_top_k``);
    ``chosen`` ([K, top_k] sources and scores) replaces the best-scoring sources."""
    offsets = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)] if blend else [(0, 0)]
    offset_y = np.array([offset[0] for offset in offsets])
    offset_x = np.array([offset[1] for offset in offsets])
    cells = grid_height * grid_width
    hole_count = len(hole_cells)
    top_k = min(top_k, cells)
    if chosen is None:
        sources = np.argpartition(-weights, top_k - 1, axis=1)[:, :top_k]
        values = np.take_along_axis(weights, sources, axis=1)
    else:
        sources, values = chosen

    # Row of each hole cell's neighbour at every offset ([K, O]), -1 when it is no hole cell.
    neighbour_rows = (hole_cells // grid_width)[:, np.newaxis] + offset_y[np.newaxis]
    neighbour_cols = (hole_cells % grid_width)[:, np.newaxis] + offset_x[np.newaxis]
    in_grid = ((neighbour_rows >= 0) & (neighbour_rows < grid_height)
               & (neighbour_cols >= 0) & (neighbour_cols < grid_width))
    row_of_cell = np.full(cells, -1)
    row_of_cell[hole_cells] = np.arange(hole_count)
    neighbour = np.where(in_grid, row_of_cell[np.where(
        in_grid, neighbour_rows * grid_width + neighbour_cols, 0)], -1)

    # The neighbour's sources, read one offset back ([K, O, k]).
    safe = np.maximum(neighbour, 0)
    source, weight = sources[safe], values[safe]
    read_rows = source // grid_width - offset_y[np.newaxis, :, np.newaxis]
    read_cols = source % grid_width - offset_x[np.newaxis, :, np.newaxis]
    readable = ((read_rows >= 0) & (read_rows < grid_height) & (read_cols >= 0)
                & (read_cols < grid_width) & (neighbour >= 0)[..., np.newaxis] & (weight > 0.0))
    weight = np.where(readable, weight, 0.0)
    weight = _divide_no_nan(weight, weight.sum(axis=-1, keepdims=True))
    read = np.where(readable, read_rows * grid_width + read_cols, 0)
    present = (weight.sum(axis=-1) > 0.0).astype(np.float32)  # [K, O]

    blend_y = _blend_weights(cell_height, offset_y, blend_width)  # [O, ch]
    blend_x = _blend_weights(cell_width, offset_x, blend_width)  # [O, cw]
    blend_map = blend_y[:, :, np.newaxis] * blend_x[:, np.newaxis, :]  # [O, ch, cw]
    chunk = max(1, _CHUNK_VALUES // (top_k * cell_height * cell_width * 3))
    parts = []
    for start in range(0, hole_count, chunk):
        end = min(start + chunk, hole_count)
        blended = np.zeros([end - start, cell_height, cell_width, 3], np.float32)
        cover_total = np.zeros([end - start, cell_height, cell_width, 1], np.float32)
        # One offset at a time, skipping offsets without any hole-cell neighbour in the chunk.
        for offset in range(len(offsets)):
            if not present[start:end, offset].any():
                continue
            offset_read = read[start:end, offset].reshape(-1)
            residual = (_known_cells(known, offset_read, grid_width, cell_height, cell_width)
                        - upsampler.cells(offset_read))
            residual = residual.reshape(end - start, top_k, cell_height, cell_width, 3)
            transplant = np.einsum("bk,bkyxc->byxc", weight[start:end, offset], residual)
            cover = (present[start:end, offset, np.newaxis, np.newaxis]
                     * blend_map[offset][np.newaxis])[..., np.newaxis]
            blended += cover * transplant
            cover_total += cover
        parts.append(_divide_no_nan(blended, cover_total))
    return np.concatenate(parts).reshape(hole_count, cell_height, cell_width, 3)


# ------------------------------------------------------------------------------------------
# The Poisson seam (crainpaint.cra.seam_correction and crainpaint.membrane).
# ------------------------------------------------------------------------------------------


def _neighbour_mean(values):
    """Mean of the 4 neighbours, edges replicated."""
    padded = np.pad(values, [[1, 1], [1, 1], [0, 0]], mode="symmetric")
    return np.float32(0.25) * (padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2]
                               + padded[1:-1, 2:])


def _membrane_level(values, weights, level, levels):
    """One level of the pull-push pyramid with Jacobi smoothing (``crainpaint.membrane``)."""
    if level == levels:
        return values
    height, width = values.shape[:2]
    half_height, half_width = (height + 1) // 2, (width + 1) // 2
    pad = [[0, 2 * half_height - height], [0, 2 * half_width - width]]
    weighted = np.pad(values * weights[..., np.newaxis], pad + [[0, 0]])
    weight_sums = np.pad(weights, pad).reshape(half_height, 2, half_width, 2).sum(axis=(1, 3))
    value_sums = weighted.reshape(half_height, 2, half_width, 2, -1).sum(axis=(1, 3))
    coarse = _membrane_level(_divide_no_nan(value_sums, weight_sums[..., np.newaxis]),
                             np.minimum(weight_sums, 1.0), level + 1, levels)
    up = resize(coarse, 2 * half_height, 2 * half_width, "bilinear")[:height, :width]
    pinned = weights[..., np.newaxis]
    result = pinned * values + (1.0 - pinned) * up
    for _ in range(_SMOOTHING_STEPS):
        result = pinned * values + (1.0 - pinned) * _neighbour_mean(result)
    return result.astype(np.float32)


def seam_correction(known, hole, hole_cells, base, grid_height, grid_width, cell_height,
                    cell_width):
    """[K, ch, cw, 3] to add to the hole cells' fill: the membrane interpolation of photo −
    ``base`` from the hole's boundary ring (``crainpaint.cra.seam_correction``)."""
    rows, cols = hole_cells // grid_width, hole_cells % grid_width
    first_row, first_col = max(rows.min() - 1, 0), max(cols.min() - 1, 0)
    top, left = first_row * cell_height, first_col * cell_width
    bottom = min(rows.max() + 2, grid_height) * cell_height
    right = min(cols.max() + 2, grid_width) * cell_width
    height, width = bottom - top, right - left

    box = hole[top:bottom, left:right]
    ring = np.argwhere(_grow(box) & ~box)  # Known pixels 8-adjacent to the hole.
    mismatch = (known[ring[:, 0] + top, ring[:, 1] + left].astype(np.float32)
                - base.points(ring[:, 0] + top, ring[:, 1] + left))
    factor = 1
    while max(height, width) > factor * _MEMBRANE_MAX_SIDE:
        factor *= 2
    coarse_height, coarse_width = -(-height // factor), -(-width // factor)
    blocks = ring // factor
    sums = np.zeros([coarse_height, coarse_width, 3], np.float32)
    counts = np.zeros([coarse_height, coarse_width], np.float32)
    np.add.at(sums, (blocks[:, 0], blocks[:, 1]), mismatch)
    np.add.at(counts, (blocks[:, 0], blocks[:, 1]), 1.0)
    coarse = _membrane_level(_divide_no_nan(sums, counts[..., np.newaxis]),
                             np.minimum(counts, 1.0), 0,
                             (_MEMBRANE_MAX_SIDE - 1).bit_length() + 1)
    local_cells = (rows - first_row) * (width // cell_width) + cols - first_col
    return _Upsampler(coarse, coarse_height * factor, coarse_width * factor,
                      width // cell_width, cell_height, cell_width).cells(local_cells)


# ------------------------------------------------------------------------------------------
# The pipeline.
# ------------------------------------------------------------------------------------------


def inpaint(image, hole, network, config=PortableConfig()):
    """Inpaints one photo with an exported network and the CRA, hole only.

    Args:
        image: uint8 [H, W, 3] RGB.
        hole: [H, W] or [H, W, 1] hole map: nonzero (bool/int) or > 0.5 (float) = hole.
        network: a ``PortableNetwork`` (or any callable with its contract, ``input_size`` and
            ``grid``).
        config: a ``PortableConfig``.
    Returns:
        uint8 [H, W, 3]; pixels outside the hole are the input's, bit for bit.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"image must be uint8 [H, W, 3] RGB, got {image.dtype} {image.shape}.")
    hole = np.asarray(hole)
    hole = hole.reshape(hole.shape[:2]) if hole.ndim == 3 else hole
    if hole.shape != image.shape[:2]:
        raise ValueError(f"hole must be [H, W] of the image's size {image.shape[:2]}, got "
                         f"{hole.shape}.")
    hole = hole > (0.5 if np.issubdtype(hole.dtype, np.floating) else 0)
    if not hole.any():
        return image.copy()
    return _inpaint(image, hole, network, config)


def _inpaint(image, hole, network, config):
    height, width = image.shape[:2]
    size, grid = network.input_size, network.grid
    scaled_height, scaled_width = max(height, size), max(width, size)
    resized = scaled_height > height or scaled_width > width
    multiple = size if config.geometry == "pad512" else grid
    work_height, work_width = _round_up(scaled_height, multiple), _round_up(scaled_width, multiple)
    cell_height, cell_width = work_height // grid, work_width // grid

    if resized:
        # Small photos: zero the hole at their own size, then up-sample.
        known = np.where(hole[..., np.newaxis], 0, image)
        scaled_hole = resize(hole[..., np.newaxis].astype(np.float32), scaled_height,
                             scaled_width, "bilinear")[..., 0] > 0.0
        image_work = to_uint8(resize(known, scaled_height, scaled_width, "bilinear"))
        image_work[scaled_hole] = 0
        hole_work = scaled_hole
    else:
        image_work, hole_work = image, hole
    image_work = _pad_to(image_work, work_height, work_width)
    hole_work = _pad_to(hole_work[..., np.newaxis], work_height, work_width)[..., 0]
    known_work = np.where(hole_work[..., np.newaxis], 0, image_work).astype(np.uint8)

    # Averaging down-sampling over known pixels only (Sec. 4.1).
    hole_area = resize(hole_work[..., np.newaxis].astype(np.float32), size, size, "area")
    small_hole = (hole_area > min(config.hole_threshold, 1.0 - _KNOWN_EPSILON)).astype(
        np.float32)
    network_cell = size // grid
    hole_grid = (hole_area[..., 0] > 0.0).reshape(grid, network_cell, grid, network_cell).any(
        axis=(1, 3)).astype(np.float32)
    hole_cells = np.flatnonzero(hole_grid)
    known_fraction = np.maximum(1.0 - hole_area, 0.0)
    known_fraction = np.where(known_fraction > _KNOWN_EPSILON, known_fraction, 0.0)
    small = _divide_no_nan(resize(known_work, size, size, "area"), known_fraction) * (
        1.0 - small_hole)

    refined, scores = network(small / 127.5 - 1.0, small_hole)
    refined = (refined.astype(np.float32) + 1.0) * 127.5
    composite = refined * small_hole + small * (1.0 - small_hole)
    usable = 1.0 - _grow(hole_grid)  # No hole cell in the 3 × 3 patch (valid_source_mask).
    weights = scores.astype(np.float32)[hole_cells] * usable.reshape(1, -1)

    # Blurry image + residuals aggregated over hole cells (Eq. 4).
    if config.residual_scale > 1:
        coarse = size // config.residual_scale
        composite = resize(composite, coarse, coarse, "area")
        refined = resize(refined, coarse, coarse, "area")
    upsampler = _Upsampler(composite, work_height, work_width, grid, cell_height, cell_width)
    if config.residual_sharpness != 1.0 or config.residual_top_k:
        weights = np.power(weights, np.float32(config.residual_sharpness))
        weights = _divide_no_nan(weights, weights.sum(axis=1, keepdims=True))
    if config.residual_top_k:
        chosen = None
        if config.residual_candidates > config.residual_top_k:
            cell_known = 1.0 - hole_area[..., 0].reshape(grid, network_cell, grid,
                                                         network_cell).mean(axis=(1, 3))
            chosen = match_known_pixels(known_work, hole_work, upsampler, weights, hole_cells,
                                        cell_known.reshape(-1)[hole_cells], grid, cell_height,
                                        cell_width, config.residual_top_k,
                                        config.residual_candidates)
        residuals = aggregate_top_k(known_work, upsampler, weights, hole_cells, grid, grid,
                                    cell_height, cell_width, config.residual_top_k,
                                    blend=config.residual_blend > 0.0,
                                    blend_width=float(config.residual_blend or 1.0),
                                    chosen=chosen)
    else:
        residuals = aggregate_residuals(known_work, upsampler, weights, grid, grid, cell_height,
                                        cell_width)
    if config.seam == "poisson":
        # The network's own output up-sampled, + residuals, + the membrane of photo − that
        # base on the hole's boundary ring, so the fill meets the photo along the hole's edge.
        network_base = _Upsampler(refined, work_height, work_width, grid, cell_height,
                                  cell_width)
        fill = (network_base.cells(hole_cells) + residuals
                + seam_correction(known_work, hole_work, hole_cells, network_base, grid, grid,
                                  cell_height, cell_width))
    else:
        fill = upsampler.cells(hole_cells) + residuals
    filled = to_uint8(fill)

    # Hard paste: only hole pixels change ("simply a copy of the original", Sec. 3.1).
    rows, cols = _cell_pixels(hole_cells, grid, cell_height, cell_width)
    rows, cols = np.broadcast_arrays(rows, cols)
    in_hole = hole_work[rows, cols]
    result = image_work.copy()
    result[rows[in_hole], cols[in_hole]] = filled[in_hole]
    result = result[:scaled_height, :scaled_width]
    if resized:
        small_result = to_uint8(resize(result, height, width, "area"))
        return np.where(hole[..., np.newaxis], small_result, image)
    return result
