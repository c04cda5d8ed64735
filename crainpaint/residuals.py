"""Residual aggregation of the CRA (Sec. 3.1, Eq. 4) and the cell-wise bilinear up-sampler.

The CRA fills a hole at full resolution as blurry image + aggregated residual: the blurry image
is the network's low-resolution output up-sampled bilinearly (``CellUpsampler``, which produces
only the grid cells it is asked for), and the residual of a hole cell is a weighted sum of the
context residuals (photo − blurry image) of the cells the attention points to.
``aggregate_residuals`` is the paper's Eq. 4 over every usable source; ``aggregate_top_k`` keeps
a hole cell's best sources only and can cross-fade neighbouring cells' transplants;
``match_known_pixels`` chooses those sources, for the cells on the hole's edge, by how well
they agree with the cell's own known pixels; ``sharpen_weights`` raises the attention scores to
a power before either.
"""

from __future__ import annotations

import tensorflow as tf

# Hole cells whose transplanted residuals are gathered at once by the top-k aggregation: bounds
# its memory (at 8K a cell is 135² pixels; 16 cells × 9 neighbours × 4 sources ≈ 130 MB).
_TOP_K_CHUNK = 16
# match_known_pixels: a hole cell with fewer known pixels than this fraction keeps its
# best-scoring source (a handful of pixels says little about which source continues them).
MATCH_MIN_KNOWN = 1.0 / 16.0
# match_known_pixels compares cells on every s-th pixel per axis, s = cell side // this (at
# least 1): every pixel up to 63-pixel cells (photos of up to about 2K), a grid of 32-63 per
# axis beyond, so the comparison costs the same per cell at any resolution.
MATCH_SAMPLES = 32


class CellUpsampler:
    """Bilinear up-sampling of the low-resolution composite, one grid cell at a time.

    ``cells(indices)`` equals the cells of ``tf.image.resize(small, work_size, "bilinear")``
    (half-pixel centres, edges clamped) without ever materialising the full-size image: each
    cell is a ``crop_and_resize`` of the edge-padded small image.
    """

    def __init__(self, small, work_height, work_width, grid_width, cell_height, cell_width):
        self.padded = tf.pad(small, [[1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")[tf.newaxis]
        small_shape = tf.cast(tf.shape(small), tf.float32)
        self.scale_y = small_shape[0] / tf.cast(work_height, tf.float32)
        self.scale_x = small_shape[1] / tf.cast(work_width, tf.float32)
        self.norm_y, self.norm_x = small_shape[0] + 1.0, small_shape[1] + 1.0
        self.grid_width = grid_width
        self.cell_height, self.cell_width = cell_height, cell_width

    def _boxes(self, top, left, height, width):
        """crop_and_resize boxes of the output pixels [top, top + height) × [left, ...)."""
        top, left = tf.cast(top, tf.float32), tf.cast(left, tf.float32)
        height, width = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
        # Source coordinate of output pixel p: (p + 0.5)·scale − 0.5, +1 for the padding.
        return tf.stack([((top + 0.5) * self.scale_y + 0.5) / self.norm_y,
                         ((left + 0.5) * self.scale_x + 0.5) / self.norm_x,
                         ((top + height - 0.5) * self.scale_y + 0.5) / self.norm_y,
                         ((left + width - 0.5) * self.scale_x + 0.5) / self.norm_x], axis=-1)

    def cells(self, indices):
        """[K, ch, cw, C] blurry image over the grid cells of the flat ``indices`` [K]."""
        return self.samples(indices, 1, self.cell_height, self.cell_width)

    def samples(self, indices, stride, count_y, count_x):
        """[K, count_y, count_x, C] blurry image at the pixels (i·stride, j·stride) of the grid
        cells of the flat ``indices`` [K] (an evenly spaced grid, one crop per cell)."""
        boxes = self._boxes(indices // self.grid_width * self.cell_height,
                            indices % self.grid_width * self.cell_width,
                            (count_y - 1) * stride + 1, (count_x - 1) * stride + 1)
        return tf.image.crop_and_resize(self.padded, boxes, tf.zeros_like(indices),
                                        tf.stack([count_y, count_x]))

    def points(self, rows, cols):
        """[N, C] values of the blurry image at the output pixels (rows[n], cols[n])."""
        boxes = self._boxes(rows, cols, 1, 1)
        return tf.image.crop_and_resize(self.padded, boxes, tf.zeros_like(rows), [1, 1])[:, 0, 0]


def aggregate_residuals(known, upsampler, weights, grid_height, grid_width, cell_height,
                        cell_width):
    """Eq. 4: R_j = Σ_i s_ij R_i for every hole cell j, one grid row of sources at a time.

    Args:
        known: [gh·ch, gw·cw, 3] working image with the hole zeroed (uint8 or float).
        upsampler: the ``CellUpsampler`` of the blurry image.
        weights: [K, gh·gw] scores of the K hole cells, zero for unusable sources.
    Returns:
        [K, ch, cw, 3] aggregated residuals. Grid rows without usable sources are skipped, so
        the cost grows with the context actually used, not with 1024² × pixels.
    """
    hole_count = tf.shape(weights)[0]
    cell_pixels = cell_height * cell_width * 3

    def body(row, total):
        row_weights = weights[:, row * grid_width:(row + 1) * grid_width]

        def add_row():
            band = known[row * cell_height:(row + 1) * cell_height]
            band = tf.reshape(band, [cell_height, grid_width, cell_width, 3])
            band = tf.cast(tf.transpose(band, [1, 0, 2, 3]), tf.float32)
            blurry = upsampler.cells(tf.range(grid_width) + row * grid_width)
            residuals = tf.reshape(band - blurry, [grid_width, cell_pixels])
            return total + tf.matmul(row_weights, residuals)

        total = tf.cond(tf.reduce_any(row_weights != 0.0), add_row, lambda: total)
        return row + 1, total

    _, total = tf.while_loop(
        lambda row, _: row < grid_height, body,
        (tf.constant(0), tf.zeros([hole_count, cell_pixels])))
    return tf.reshape(total, [hole_count, cell_height, cell_width, 3])


def sharpen_weights(weights, sharpness):
    """Raises [K, N] scores to ``sharpness`` and renormalises each nonzero row to sum to 1."""
    if sharpness != 1.0:
        weights = tf.pow(weights, sharpness)
    return tf.math.divide_no_nan(weights, tf.reduce_sum(weights, axis=1, keepdims=True))


def _blend_weights(size, offsets, width):
    """[len(offsets), size] weight of the cell at offset d for each pixel of a cell.

    A pixel at relative position f = (p + 0.5) / size − 0.5 from its cell's centre (in cells)
    takes o(f) = clip(1/2 + (1/2 − |f|) / width, 0, 1) from its own cell and 1 − o(f) from the
    neighbour on its side: a cross-fade ``width`` cells wide centred on the cell boundary
    (1 = bilinear between the cell centres); the weights sum to 1.
    """
    position = (tf.cast(tf.range(size), tf.float32) + 0.5) / tf.cast(size, tf.float32) - 0.5
    own = tf.clip_by_value(0.5 + (0.5 - tf.abs(position)) / width, 0.0, 1.0)
    side = tf.sign(position)
    rows = [own if offset == 0 else (1.0 - own) * tf.cast(side == offset, tf.float32)
            for offset in offsets]
    return tf.stack(rows)


def _sum_over_offsets(cover, transplant):
    """[B, Y, X, C] Σ_o cover[b, o, y, x] · transplant[b, o, y, x, c].

    The batched matrix product einsum("boyx,boyxc->byxc") lowers to, written out: one 1 × O
    by O × C product per pixel. Spelled this way the same kernel runs over the same operands
    (equal bit for bit) at well under half the einsum's time on an 8K photo.
    """
    shape = tf.shape(transplant)
    batch, offsets, height, width, channels = (shape[0], shape[1], shape[2], shape[3],
                                               shape[4])
    pixels = batch * height * width
    lhs = tf.reshape(tf.transpose(cover, [0, 2, 3, 1]), [pixels, 1, offsets])
    rhs = tf.reshape(tf.transpose(transplant, [0, 2, 3, 1, 4]), [pixels, offsets, channels])
    return tf.reshape(tf.matmul(lhs, rhs), [batch, height, width, channels])


def match_known_pixels(known, hole, upsampler, weights, hole_cells, known_fraction,
                       grid_height, grid_width, cell_height, cell_width, top_k, candidates,
                       min_known=MATCH_MIN_KNOWN):
    """Each hole cell's ``top_k`` sources: of its ``candidates`` best-scoring ones, those whose
    residuals agree best with the cell's own known pixels.

    A hole cell on the hole's edge holds known pixels, and their residual (photo − blurry
    image) is the texture the transplant has to continue. Its ``candidates`` highest-scoring
    sources are ranked by the sum of absolute differences between their residual and that one
    over those pixels (at the same positions in the cell; on every s-th pixel per axis in
    cells of more than 63 pixels, ``MATCH_SAMPLES``), as exemplar-based inpainting matches a
    patch on its known part, and the first ``top_k`` are kept. Cells with less than
    ``min_known`` of their pixels known, which include every cell inside the hole, keep their
    ``top_k`` best-scoring sources; only the edge cells are read, so the cost grows with the
    hole's outline, not its area.

    Args:
        known: [gh·ch, gw·cw, 3] working image with the hole zeroed.
        hole: [gh·ch, gw·cw, 1] hole map of ``known`` (nonzero = hole).
        upsampler: the ``CellUpsampler`` of the blurry image.
        weights: [K, gh·gw] scores of the K hole cells (zero for unusable sources).
        hole_cells: [K] flat grid indices of the hole cells.
        known_fraction: [K] fraction of each hole cell's pixels that are known.
        top_k: sources kept per hole cell (≥ 1, at most ``candidates``).
        candidates: sources compared per hole cell.
    Returns:
        ([K, top_k] source cells, [K, top_k] their scores), for ``aggregate_top_k``.
    """
    values, sources = tf.math.top_k(weights, k=tf.minimum(candidates, grid_height * grid_width))
    edge = tf.cast(tf.where(known_fraction >= min_known)[:, 0], tf.int32)  # rows of K
    edge_count = tf.shape(edge)[0]
    stride = tf.maximum(tf.minimum(cell_height, cell_width) // MATCH_SAMPLES, 1)
    count_y, count_x = (cell_height + stride - 1) // stride, (cell_width + stride - 1) // stride
    offsets = tf.stack(tf.meshgrid(tf.range(count_y) * stride, tf.range(count_x) * stride,
                                   indexing="ij"), axis=-1)  # [ny, nx, 2]

    def sampled(image, cells):
        """[N, ny, nx, C] ``image`` at the comparison's pixels of the grid cells ``cells``."""
        corners = tf.stack([cells // grid_width * cell_height, cells % grid_width * cell_width],
                           axis=-1)
        return tf.gather_nd(image, corners[:, tf.newaxis, tf.newaxis] + offsets[tf.newaxis])

    def residuals(cells):
        return (tf.cast(sampled(known, cells), tf.float32)
                - upsampler.samples(cells, stride, count_y, count_x))

    def rank_chunk(start, ranks):
        """Re-ranks the candidates of the edge cells edge[start:start + chunk]."""
        rows = edge[start:tf.minimum(start + _TOP_K_CHUNK, edge_count)]
        cells = tf.gather(hole_cells, rows)
        own = residuals(cells)  # [b, ny, nx, 3]
        own_known = tf.cast(sampled(hole, cells) == 0, tf.float32)  # [b, ny, nx, 1]
        other = residuals(tf.reshape(tf.gather(sources, rows), [-1]))
        other = tf.reshape(other, tf.stack([tf.shape(rows)[0], -1, count_y, count_x, 3]))
        difference = tf.reduce_sum(tf.abs(other - own[:, tf.newaxis])
                                   * own_known[:, tf.newaxis], axis=[2, 3, 4])  # [b, c]
        # Unusable sources (score 0) last; ties keep the score order (a stable sort).
        difference = tf.where(tf.gather(values, rows) > 0.0, difference, float("inf"))
        return start + _TOP_K_CHUNK, tf.tensor_scatter_nd_update(
            ranks, rows[:, tf.newaxis], tf.argsort(difference, axis=1, stable=True))

    # Candidate ranks per hole cell: the score order, re-ranked on the edge cells.
    ranks = tf.broadcast_to(tf.range(tf.shape(sources)[1])[tf.newaxis], tf.shape(sources))
    _, ranks = tf.while_loop(lambda start, _: start < edge_count, rank_chunk,
                             (tf.constant(0), ranks))
    ranks = ranks[:, :top_k]
    return (tf.gather(sources, ranks, batch_dims=1), tf.gather(values, ranks, batch_dims=1))


def aggregate_top_k(known, upsampler, weights, hole_cells, grid_height, grid_width,
                    cell_height, cell_width, top_k, blend, blend_width=1.0, chosen=None):
    """Eq. 4 with the ``top_k`` best sources of each hole cell, optionally blended across cells.

    Without ``blend``: R_j = Σ_t w_jt R_{i_t} over hole cell j's top-k sources i_t (weights
    renormalised). With ``blend``: a pixel p of hole cell j takes Σ_n b_n(p) T_n(p) / Σ_n b_n(p)
    over j and its eight neighbours n that are hole cells, b_n the bilinear weight of n's
    centre at p and T_n(p) = Σ_t w_nt R(i_nt − (n − j))(p): neighbour n's sources read one
    cell over, i.e. n's source patch continued across the cell boundary, so transplants
    cross-fade instead of meeting at block edges. A usable source's eight neighbours hold no
    hole pixel (``valid_source_mask`` uses 3×3 patches), so every residual read is of context;
    reads that fall off the grid are dropped and the rest renormalised.

    Args:
        known: [gh·ch, gw·cw, 3] working image with the hole zeroed.
        upsampler: the ``CellUpsampler`` of the blurry image.
        weights: [K, gh·gw] scores of the K hole cells (zero for unusable sources), already
            sharpened and normalised.
        hole_cells: [K] flat grid indices of the hole cells (rows of ``weights``).
        top_k: sources per hole cell (≥ 1).
        blend: cross-fade the transplants of neighbouring hole cells.
        blend_width: width of the cross-fade across a cell boundary, in cells (1 = bilinear
            between cell centres; narrower keeps more of each cell a single transplant, whose
            detail an average of two unrelated transplants would halve in the middle).
        chosen: optional ([K, top_k] source cells, [K, top_k] scores) chosen elsewhere
            (``match_known_pixels``), used instead of the ``top_k`` best-scoring sources.
    Returns:
        [K, ch, cw, 3] aggregated residuals.
    """
    offsets = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)] if blend else [(0, 0)]
    offset_y = tf.constant([o[0] for o in offsets], tf.int32)
    offset_x = tf.constant([o[1] for o in offsets], tf.int32)
    cells = grid_height * grid_width
    hole_count = tf.shape(hole_cells)[0]
    single_source = top_k == 1  # A Python int here; a tensor below.
    top_k = tf.minimum(top_k, cells)
    if chosen is None:
        values, sources = tf.math.top_k(weights, k=top_k, sorted=False)  # [K, k]
    else:
        sources, values = chosen

    # Row of each hole cell's neighbour at every offset ([K, O]), -1 when it is no hole cell.
    rows, cols = hole_cells // grid_width, hole_cells % grid_width
    neighbour_rows = rows[:, tf.newaxis] + offset_y[tf.newaxis]
    neighbour_cols = cols[:, tf.newaxis] + offset_x[tf.newaxis]
    in_grid = ((neighbour_rows >= 0) & (neighbour_rows < grid_height)
               & (neighbour_cols >= 0) & (neighbour_cols < grid_width))
    row_of_cell = tf.tensor_scatter_nd_update(tf.fill([cells], -1), hole_cells[:, tf.newaxis],
                                              tf.range(hole_count))
    neighbour = tf.gather(row_of_cell, tf.where(
        in_grid, neighbour_rows * grid_width + neighbour_cols, 0))
    neighbour = tf.where(in_grid, neighbour, -1)

    # The neighbour's sources, read one offset back ([K, O, k]).
    safe = tf.maximum(neighbour, 0)
    source = tf.gather(sources, safe)
    weight = tf.gather(values, safe)
    read_rows = source // grid_width - offset_y[tf.newaxis, :, tf.newaxis]
    read_cols = source % grid_width - offset_x[tf.newaxis, :, tf.newaxis]
    readable = ((read_rows >= 0) & (read_rows < grid_height) & (read_cols >= 0)
                & (read_cols < grid_width) & (neighbour >= 0)[..., tf.newaxis] & (weight > 0.0))
    weight = tf.where(readable, weight, 0.0)
    weight = tf.math.divide_no_nan(weight, tf.reduce_sum(weight, axis=-1, keepdims=True))
    read = tf.where(readable, read_rows * grid_width + read_cols, 0)
    present = tf.cast(tf.reduce_sum(weight, axis=-1) > 0.0, tf.float32)  # [K, O]

    blend_y = _blend_weights(cell_height, [o[0] for o in offsets], blend_width)  # [O, ch]
    blend_x = _blend_weights(cell_width, [o[1] for o in offsets], blend_width)  # [O, cw]
    blend_map = blend_y[:, :, tf.newaxis] * blend_x[:, tf.newaxis, :]  # [O, ch, cw]
    # The photo as rows of cells: [gh·ch, gw, cw·3], so a cell is ch contiguous runs of cw
    # pixels, gathered without transposing the whole frame into cell order first.
    cell_rows = tf.reshape(known, [grid_height * cell_height, grid_width, cell_width * 3])

    def gather_cells(flat_cells):
        """[N, ch, cw, 3] pixels of the grid cells of the flat indices ``flat_cells`` [N]."""
        pixel_rows = (flat_cells // grid_width * cell_height)[:, tf.newaxis] + tf.range(
            cell_height)[tf.newaxis]
        pixel_cols = tf.broadcast_to((flat_cells % grid_width)[:, tf.newaxis],
                                     tf.shape(pixel_rows))
        runs = tf.gather_nd(cell_rows, tf.stack([pixel_rows, pixel_cols], axis=-1))
        return tf.reshape(runs, [-1, cell_height, cell_width, 3])
    offset_count = len(offsets)

    def chunk(start):
        end = tf.minimum(start + _TOP_K_CHUNK, hole_count)
        chunk_read = tf.reshape(read[start:end], [-1])
        residual = (tf.cast(gather_cells(chunk_read), tf.float32)
                    - upsampler.cells(chunk_read))
        residual = tf.reshape(residual, [end - start, offset_count, top_k, cell_height,
                                         cell_width, 3])
        if single_source:
            # One source: the einsum's sum of one product is that product, bit for bit.
            transplant = weight[start:end, :, 0, tf.newaxis, tf.newaxis, tf.newaxis] * residual[
                :, :, 0]
        else:
            transplant = tf.einsum("bok,bokyxc->boyxc", weight[start:end], residual)
        cover = present[start:end, :, tf.newaxis, tf.newaxis] * blend_map[tf.newaxis]
        return tf.math.divide_no_nan(_sum_over_offsets(cover, transplant),
                                     tf.reduce_sum(cover, axis=1)[..., tf.newaxis])

    chunks = (hole_count + _TOP_K_CHUNK - 1) // _TOP_K_CHUNK
    parts = tf.TensorArray(tf.float32, size=chunks, infer_shape=False)
    _, parts = tf.while_loop(
        lambda index, _: index < chunks,
        lambda index, parts: (index + 1, parts.write(index, chunk(index * _TOP_K_CHUNK))),
        (tf.constant(0), parts))
    return tf.reshape(parts.concat(), [hole_count, cell_height, cell_width, 3])
