"""The numpy array operations of ``crainpaint.portable``: TensorFlow's resizing, the residual
aggregation of Eq. 4 and the Poisson seam, each the twin of its graph version in
``crainpaint.cra``, ``crainpaint.residuals`` and ``crainpaint.membrane``. Imports only numpy.
"""

from __future__ import annotations

import numpy as np

# A hole cell with fewer known pixels than this fraction keeps its best-scoring source
# (crainpaint.residuals.MATCH_MIN_KNOWN).
MATCH_MIN_KNOWN = 1.0 / 16.0
# ... compared on every s-th pixel per axis, s = cell side // this (crainpaint.residuals).
MATCH_SAMPLES = 32
# The membrane of the Poisson seam: longest side solved at full resolution, Jacobi steps per
# pyramid level (crainpaint.cra.MEMBRANE_MAX_SIDE, crainpaint.membrane).
MEMBRANE_MAX_SIDE = 512
SMOOTHING_STEPS = 8
# Residual values (float32) the top-k aggregation holds at once: bounds its memory (64 MB) at
# any resolution; a chunk is as many hole cells as fit, at least one.
CHUNK_VALUES = 1 << 24


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


class Upsampler:
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
        """[..., C] at the pixels (rows, cols), the two index arrays broadcast together."""
        return self._values(rows, cols)

    def cells(self, indices):
        """[K, ch, cw, C] of the grid cells ``indices``."""
        rows, cols = cell_pixels(np.asarray(indices), self.grid_width, self.cell_height,
                                  self.cell_width)
        return self._values(rows, cols)


def cell_pixels(cells, grid_width, cell_height, cell_width):
    """Row [K, ch, 1] and column [K, 1, cw] indices of the pixels of the grid cells."""
    rows = (cells // grid_width * cell_height)[:, np.newaxis, np.newaxis] + np.arange(
        cell_height)[np.newaxis, :, np.newaxis]
    cols = (cells % grid_width * cell_width)[:, np.newaxis, np.newaxis] + np.arange(
        cell_width)[np.newaxis, np.newaxis, :]
    return rows, cols


def grow(mask):
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
    rows, cols = cell_pixels(np.asarray(cells), grid_width, cell_height, cell_width)
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


def divide_no_nan(numerator, denominator):
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
    stride = max(min(cell_height, cell_width) // MATCH_SAMPLES, 1)

    def sample_pixels(cells):
        rows = (cells // grid_width * cell_height)[:, np.newaxis, np.newaxis] + np.arange(
            0, cell_height, stride)[np.newaxis, :, np.newaxis]
        cols = (cells % grid_width * cell_width)[:, np.newaxis, np.newaxis] + np.arange(
            0, cell_width, stride)[np.newaxis, np.newaxis, :]
        return rows, cols

    def residuals(cells):
        rows, cols = sample_pixels(cells)
        return known[rows, cols].astype(np.float32) - upsampler.points(rows, cols)

    for row in np.flatnonzero(known_fraction >= MATCH_MIN_KNOWN):
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
    weight = divide_no_nan(weight, weight.sum(axis=-1, keepdims=True))
    read = np.where(readable, read_rows * grid_width + read_cols, 0)
    present = (weight.sum(axis=-1) > 0.0).astype(np.float32)  # [K, O]

    blend_y = _blend_weights(cell_height, offset_y, blend_width)  # [O, ch]
    blend_x = _blend_weights(cell_width, offset_x, blend_width)  # [O, cw]
    blend_map = blend_y[:, :, np.newaxis] * blend_x[:, np.newaxis, :]  # [O, ch, cw]
    chunk = max(1, CHUNK_VALUES // (top_k * cell_height * cell_width * 3))
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
        parts.append(divide_no_nan(blended, cover_total))
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
    coarse = _membrane_level(divide_no_nan(value_sums, weight_sums[..., np.newaxis]),
                             np.minimum(weight_sums, 1.0), level + 1, levels)
    up = resize(coarse, 2 * half_height, 2 * half_width, "bilinear")[:height, :width]
    pinned = weights[..., np.newaxis]
    result = pinned * values + (1.0 - pinned) * up
    for _ in range(SMOOTHING_STEPS):
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
    ring = np.argwhere(grow(box) & ~box)  # Known pixels 8-adjacent to the hole.
    mismatch = (known[ring[:, 0] + top, ring[:, 1] + left].astype(np.float32)
                - base.points(ring[:, 0] + top, ring[:, 1] + left))
    factor = 1
    while max(height, width) > factor * MEMBRANE_MAX_SIDE:
        factor *= 2
    coarse_height, coarse_width = -(-height // factor), -(-width // factor)
    blocks = ring // factor
    sums = np.zeros([coarse_height, coarse_width, 3], np.float32)
    counts = np.zeros([coarse_height, coarse_width], np.float32)
    np.add.at(sums, (blocks[:, 0], blocks[:, 1]), mismatch)
    np.add.at(counts, (blocks[:, 0], blocks[:, 1]), 1.0)
    coarse = _membrane_level(divide_no_nan(sums, counts[..., np.newaxis]),
                             np.minimum(counts, 1.0), 0,
                             (MEMBRANE_MAX_SIDE - 1).bit_length() + 1)
    local_cells = (rows - first_row) * (width // cell_width) + cols - first_col
    return Upsampler(coarse, coarse_height * factor, coarse_width * factor,
                      width // cell_width, cell_height, cell_width).cells(local_cells)
