"""Contextual Residual Aggregation (CRA, Sec. 3.1, 3.2.3 and 4.1) as TensorFlow graph ops.

Pipeline for one photo at its own resolution (no Python in the loop, dynamic height and width):

1. the hole pixels are zeroed first, so nothing under the hole reaches any later step;
2. the photo is padded a little (or up-sampled when smaller than the network input) so that the
   attention grid tiles it exactly, and down-sampled by averaging the known pixels (``area``);
   a low-resolution pixel is a hole for the network when more than ``hole_threshold`` of the
   photo pixels it covers are (by default: all of them); the others keep the mean of their
   known pixels, and every grid cell holding any hole pixel is filled at full resolution in
   steps 4–6;
3. the generator inpaints the low-resolution image and returns the attention scores;
4. the low-resolution composite is up-sampled bilinearly: the large blurry image;
5. context residuals (photo − blurry image) are aggregated into every hole cell with the scores
   (Eq. 4), over non-overlapping cells of (H/32)×(W/32) pixels that tile the photo; only rows of
   hole cells and columns of usable context cells are computed;
6. the fill is rounded, clipped and pasted into the original: every pixel outside the hole is
   a bit-exact copy of the input ("simply a copy of the original raw input", Sec. 3.1). With
   ``seam="paste"`` (the paper's) the fill is blurry image + aggregated residual; with
   ``seam="poisson"`` (the default, an addition, see ``CRAConfig``) it is Poisson-blended: the
   network's own output up-sampled + aggregated residual + the membrane interpolation of photo
   − up-sampled network output on the known pixels touching the hole (``crainpaint.membrane``).
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from crainpaint.imaging import to_uint8
from crainpaint.layers.attention import grid_hole_mask, valid_source_mask
from crainpaint.membrane import boundary_ring, membrane_interpolation

GEOMETRIES = ("tile", "pad512", "aspect")
# Lower in-hole L1 than "tile" in every hole-area bin of the validation photos
# (python experiments/evaluate.py --geometry aspect|tile; model card, "by CRA geometry").
DEFAULT_GEOMETRY = "aspect"
# A network pixel is a hole when more than this fraction of the photo pixels it covers are;
# 1 = only when all are. In-hole L1 on the validation photos fell in every bin from 0 (any
# hole pixel) through 0.25, 0.5, 0.75, 0.9 to 0.99
# (python experiments/evaluate.py --hole_threshold T; model card, "by hole threshold").
DEFAULT_HOLE_THRESHOLD = 1.0
# "paste": the paper's hard paste of blurry image + residual; "poisson": a Poisson blend of
# the network's up-sampled output + residual (CRAConfig.seam). "poisson" gave lower in-hole L1
# than "paste" in every bin of the validation photos, at their size and at 512²
# (python experiments/evaluate.py --seam paste|poisson; model card, "by seam"), for 0.1 s more
# at 8K (README, "Scaling").
SEAMS = ("paste", "poisson")
DEFAULT_SEAM = "poisson"
# Known fractions at or below this count as none (area resizing leaves rounding residue).
_KNOWN_EPSILON = 1e-6
# Longest side of the grid the Poisson seam's membrane is solved on (seam_correction): larger
# boxes are solved on blocks of pixels and up-sampled, so its cost stops growing with the photo.
MEMBRANE_MAX_SIDE = 512
# Longest side of the attention grid in "aspect" geometry, as a multiple of the short side's.
MAX_ASPECT_CELLS_FACTOR = 4


@dataclasses.dataclass(frozen=True)
class CRAConfig:
    """Options of the full-resolution pipeline.

    Attributes:
        geometry: how the photo is mapped onto the network input.
            ``"aspect"`` (default): keep the aspect ratio with a grid of 32×k square cells
            (k = 32 × long side / short side, at most 128; a non-square network input);
            ``"tile"``: pad to a multiple of the 32×32 grid (at most 31 pixels per axis) and
            area-resize each axis to the network input, squeezing a non-square photo;
            ``"pad512"``: the paper's literal mirrored padding to multiples of the network
            input (Sec. 3.1).
        feather_px: width of an outward blend into the context around the hole (0 = hard
            paste, the paper's and the default). Hole pixels are never blended with the input.
        hole_threshold: a pixel of the network input is a hole when more than this fraction
            of the photo pixels it covers are hole: 0 = any hole pixel, 0.5 ≈ the author's
            nearest-neighbour mask resize (without its leak), 1 (default) = only when every
            one is. The others keep the mean of their known pixels. The hole is filled at
            full resolution in every case: hole pixels of a network pixel that is not a hole
            take the up-sampled mean of the known pixels around them plus the aggregated
            residual.
        seam: ``"paste"``: the paper's pipeline, blurry image + aggregated residual pasted
            as it is (Sec. 3.1). ``"poisson"`` (default; an addition, gradient-domain
            compositing after Pérez et al. 2003): the hole cells take the network's own output
            up-sampled (not composited with the known pixels) + aggregated residual, plus the
            membrane interpolation of photo − up-sampled network output from the known pixels
            touching the hole, so the fill meets the photo along its edge and the network's
            local colour error, measured there, is corrected inside, fading with distance.
    """

    geometry: str = DEFAULT_GEOMETRY
    feather_px: int = 0
    hole_threshold: float = DEFAULT_HOLE_THRESHOLD
    seam: str = DEFAULT_SEAM

    def __post_init__(self):
        if self.geometry not in GEOMETRIES:
            raise ValueError(f"geometry must be one of {GEOMETRIES}, got {self.geometry!r}.")
        if not isinstance(self.feather_px, int) or self.feather_px < 0:
            raise ValueError(f"feather_px must be an int >= 0, got {self.feather_px!r}.")
        if (isinstance(self.hole_threshold, bool)
                or not isinstance(self.hole_threshold, (int, float))
                or not 0.0 <= self.hole_threshold <= 1.0):
            raise ValueError(f"hole_threshold must be a number in [0, 1], got "
                             f"{self.hole_threshold!r}.")
        if self.seam not in SEAMS:
            raise ValueError(f"seam must be one of {SEAMS}, got {self.seam!r}.")


def _round_up(value, multiple):
    return (value + multiple - 1) // multiple * multiple


def working_geometry(height, width, generator_config, geometry=DEFAULT_GEOMETRY):
    """Sizes (int32 tensors) of the working image, the attention grid and the network input.

    Returns (work_height, work_width, grid_height, grid_width, resized) where the working image
    is the photo up-sampled (``resized`` true) when smaller than the network input, then padded
    to a multiple of the grid. The network input is ``grid × cell_size`` pixels per axis.
    """
    grid = generator_config.attention_grid
    size = generator_config.input_size
    height = tf.cast(height, tf.int32)
    width = tf.cast(width, tf.int32)
    if geometry == "aspect":
        short = tf.minimum(height, width)
        long_cells = tf.cast(tf.round(grid * tf.cast(tf.maximum(height, width), tf.float32)
                                      / tf.cast(short, tf.float32)), tf.int32)
        long_cells = tf.clip_by_value(long_cells, grid, MAX_ASPECT_CELLS_FACTOR * grid)
        grid_height = tf.where(height >= width, long_cells, grid)
        grid_width = tf.where(height >= width, grid, long_cells)
    else:
        grid_height = tf.constant(grid)
        grid_width = tf.constant(grid)
    cell = generator_config.cell_size
    scaled_height = tf.maximum(height, grid_height * cell)
    scaled_width = tf.maximum(width, grid_width * cell)
    resized = tf.logical_or(scaled_height > height, scaled_width > width)
    if geometry == "pad512":
        work_height = _round_up(scaled_height, size)
        work_width = _round_up(scaled_width, size)
    else:
        work_height = _round_up(scaled_height, grid_height)
        work_width = _round_up(scaled_width, grid_width)
    return work_height, work_width, grid_height, grid_width, resized, scaled_height, scaled_width


def _pad_to(image, height, width):
    """Mirror-pads [H, W, C] at the bottom/right to (height, width)."""
    # 'SYMMETRIC' allows pads as large as the image (REFLECT needs them strictly smaller);
    # repeated passes cover pads larger than the image (pad512 on small photos).
    def body(current):
        shape = tf.shape(current)
        step_height = tf.minimum(height - shape[0], shape[0])
        step_width = tf.minimum(width - shape[1], shape[1])
        return (tf.pad(current, [[0, step_height], [0, step_width], [0, 0]], mode="SYMMETRIC"),)

    def condition(current):
        shape = tf.shape(current)
        return tf.logical_or(shape[0] < height, shape[1] < width)

    return tf.while_loop(condition, body, (image,),
                         shape_invariants=(tf.TensorShape([None, None, image.shape[-1]]),))[0]


class _Upsampler:
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
        boxes = self._boxes(indices // self.grid_width * self.cell_height,
                            indices % self.grid_width * self.cell_width,
                            self.cell_height, self.cell_width)
        return tf.image.crop_and_resize(
            self.padded, boxes, tf.zeros_like(indices), tf.stack([self.cell_height,
                                                                   self.cell_width]))

    def points(self, rows, cols):
        """[N, C] values of the blurry image at the output pixels (rows[n], cols[n])."""
        boxes = self._boxes(rows, cols, 1, 1)
        return tf.image.crop_and_resize(self.padded, boxes, tf.zeros_like(rows), [1, 1])[:, 0, 0]


def aggregate_residuals(known, upsampler, weights, grid_height, grid_width, cell_height,
                        cell_width):
    """Eq. 4: R_j = Σ_i s_ij R_i for every hole cell j, one grid row of sources at a time.

    Args:
        known: [gh·ch, gw·cw, 3] working image with the hole zeroed (uint8 or float).
        upsampler: the ``_Upsampler`` of the blurry image.
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


def _feather(result, image, hole, feather_px):
    """Blends ``result`` into ``image`` over ``feather_px`` context pixels around the hole.

    Weight (f + 1 − d) / (f + 1) at chessboard distance d ≤ f from the hole, 1 inside it, so
    hole pixels always take the inpainted value and far context keeps the original. Inpainted
    values exist only in the grid cells holding hole pixels, so the band stops at their edges.
    """
    reach = tf.cast(hole, tf.float32)[tf.newaxis]
    total = reach
    for _ in range(feather_px):
        reach = tf.nn.max_pool2d(reach, 3, 1, "SAME")
        total += reach
    alpha = (total / (feather_px + 1.0))[0]
    blended = alpha * tf.cast(result, tf.float32) + (1.0 - alpha) * tf.cast(image, tf.float32)
    return to_uint8(blended)


def inpaint_image(image, hole, generator, config=CRAConfig()):
    """Inpaints one photo with the generator and CRA; graph-compatible, no batch dimension.

    Args:
        image: uint8 [H, W, 3] RGB (any H, W ≥ 1).
        hole: [H, W, 1] hole map: nonzero (bool/int) or > 0.5 (float) = hole.
        generator: a ``crainpaint.models.Generator`` (or anything with its call contract and a
            ``config`` holding ``attention_grid``, ``input_size`` and ``cell_size``).
        config: a ``CRAConfig``.
    Returns:
        uint8 [H, W, 3]; pixels outside the hole (and outside the feather band, if any) are the
        input's, bit for bit.
    """
    image = tf.convert_to_tensor(image)
    if image.dtype != tf.uint8:
        raise TypeError(f"image must be uint8, got {image.dtype}.")
    hole = tf.convert_to_tensor(hole)
    if hole.dtype != tf.bool:
        hole = hole > (0.5 if hole.dtype.is_floating else 0)
    result = tf.cond(tf.reduce_any(hole),
                     lambda: _inpaint(image, hole, generator, config,
                                      hole_only=not config.feather_px),
                     lambda: image)
    if config.feather_px:
        return _feather(result, image, hole, config.feather_px)
    return result


def seam_correction(known, hole, hole_cells, base, grid_height, grid_width, cell_height,
                    cell_width, max_side=None):
    """The Poisson seam: [K, ch, cw, 3] to add to the fill of the K hole cells (outside the
    hole, which only ``feather_px`` reads, the membrane's smooth continuation of the ring).

    The mismatch photo − ``base`` (an ``_Upsampler``) is read on the boundary ring only (known
    pixels touching the hole) and interpolated into the hole as a membrane
    (``crainpaint.membrane``) over the hole cells' bounding box grown by one cell, which holds
    every ring pixel. A box wider or taller than ``max_side`` (default ``MEMBRANE_MAX_SIDE``)
    is solved on blocks of F × F pixels (F a power of two; a block is pinned to the mean
    mismatch of its ring pixels) and up-sampled bilinearly, cell by cell, so the cost stays
    bounded at any resolution.
    """
    max_side = max_side or MEMBRANE_MAX_SIDE
    rows, cols = hole_cells // grid_width, hole_cells % grid_width
    first_row, first_col = tf.maximum(tf.reduce_min(rows) - 1, 0), tf.maximum(
        tf.reduce_min(cols) - 1, 0)
    top, left = first_row * cell_height, first_col * cell_width
    bottom = tf.minimum(tf.reduce_max(rows) + 2, grid_height) * cell_height
    right = tf.minimum(tf.reduce_max(cols) + 2, grid_width) * cell_width
    height, width = bottom - top, right - left

    ring = tf.cast(tf.where(boundary_ring(hole[top:bottom, left:right])), tf.int32)
    mismatch = (tf.cast(tf.gather_nd(known, ring + tf.stack([top, left])), tf.float32)
                - base.points(ring[:, 0] + top, ring[:, 1] + left))

    # The smallest power of two that brings the box within max_side (odd block sizes, which
    # the pyramid's 2 × 2 reductions do not nest into, were less accurate).
    factor = tf.while_loop(lambda f: tf.maximum(height, width) > f * max_side,
                           lambda f: (2 * f,), (tf.constant(1),))[0]
    coarse_height, coarse_width = (height + factor - 1) // factor, (width + factor - 1) // factor
    blocks = ring // factor
    sums = tf.scatter_nd(blocks, mismatch, tf.stack([coarse_height, coarse_width, 3]))
    counts = tf.scatter_nd(blocks, tf.ones_like(mismatch[:, 0]),
                           tf.stack([coarse_height, coarse_width]))
    coarse = membrane_interpolation(tf.math.divide_no_nan(sums, counts[..., tf.newaxis]),
                                    tf.minimum(counts, 1.0),
                                    levels=(max_side - 1).bit_length() + 1)

    # Block (i, j) covers pixels [iF, iF + F) × [jF, jF + F): up-sampling it as an image of
    # (coarse · F) pixels puts its value at the block's centre, as the pooling did.
    local_cells = (rows - first_row) * (width // cell_width) + cols - first_col
    return _Upsampler(coarse, coarse_height * factor, coarse_width * factor,
                      width // cell_width, cell_height, cell_width).cells(local_cells)


def _cell_pixel_indices(cells, grid_width, cell_height, cell_width):
    """[K, ch, cw, 2] (row, col) of every pixel of the given grid cells."""
    top = cells // grid_width * cell_height
    left = cells % grid_width * cell_width
    rows = top[:, None, None] + tf.range(cell_height)[None, :, None] + 0 * tf.range(
        cell_width)[None, None, :]
    cols = left[:, None, None] + tf.range(cell_width)[None, None, :] + 0 * tf.range(
        cell_height)[None, :, None]
    return tf.stack([rows, cols], axis=-1)


def _inpaint(image, hole, generator, config, hole_only=True):
    """CRA for a photo with at least one hole pixel; returns the pasted uint8 result.

    With ``hole_only`` false, every pixel of the hole cells takes the inpainted value (for the
    feather blend, which decides per pixel); pixels of other cells are always the input's.

    Full-resolution work is limited to a few streaming passes (two area resizes, one copy, the
    per-row residual aggregation); everything per pixel of the hole happens on the hole cells.
    """
    generator_config = generator.config
    cell = generator_config.cell_size
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    (work_height, work_width, grid_height, grid_width, resized, scaled_height,
     scaled_width) = working_geometry(height, width, generator_config, config.geometry)
    hole_bytes = tf.cast(hole, tf.uint8)

    def upscale():
        # Small photos: zero the hole at the photo's own size first, then up-sample, so no hole
        # pixel is ever mixed into a neighbour.
        known = tf.where(hole, tf.zeros_like(image), image)
        size = tf.stack([scaled_height, scaled_width])
        scaled_hole = tf.image.resize(tf.cast(hole, tf.float32), size, "bilinear") > 0.0
        scaled = to_uint8(tf.image.resize(known, size, "bilinear"))
        scaled = tf.where(scaled_hole, tf.zeros_like(scaled), scaled)
        return scaled, tf.cast(scaled_hole, tf.uint8)

    image_work, hole_work = tf.cond(resized, upscale, lambda: (image, hole_bytes))
    image_work = _pad_to(image_work, work_height, work_width)
    hole_work = _pad_to(hole_work, work_height, work_width)

    # The network's mask: pixels more than hole_threshold hole (at 1: no known pixel). The
    # cells filled at full resolution (and kept out of the attention's sources) are every cell
    # with a hole pixel.
    network_size = tf.stack([grid_height * cell, grid_width * cell])
    hole_area = tf.image.resize(hole_work, network_size, "area")
    small_hole = tf.cast(hole_area > min(config.hole_threshold, 1.0 - _KNOWN_EPSILON),
                         tf.float32)
    hole_grid = grid_hole_mask(tf.cast(hole_area > 0.0, tf.float32)[tf.newaxis],
                               tf.stack([grid_height, grid_width]))
    hole_cells = tf.cast(tf.where(tf.reshape(hole_grid, [-1]) > 0.5)[:, 0], tf.int32)
    cell_height, cell_width = work_height // grid_height, work_width // grid_width
    indices = tf.reshape(_cell_pixel_indices(hole_cells, grid_width, cell_height, cell_width),
                         [-1, 2])
    original = tf.gather_nd(image_work, indices)
    in_hole = tf.gather_nd(hole_work, indices) > 0

    # Step 1: zero the hole before anything else reads the image (only hole cells hold any).
    known_work = tf.tensor_scatter_nd_update(
        image_work, indices, tf.where(in_hole, tf.zeros_like(original), original))

    # Step 2: averaging down-sampling over known pixels only (Sec. 4.1): a cell half in the hole
    # gets the mean of its known half, not a mean darkened by the zeroed hole.
    known_sum = tf.image.resize(known_work, network_size, "area")
    known_fraction = tf.maximum(1.0 - hole_area, 0.0)
    known_fraction = tf.where(known_fraction > _KNOWN_EPSILON, known_fraction, 0.0)
    small = tf.math.divide_no_nan(known_sum, known_fraction) * (1.0 - small_hole)

    # Step 3: the network at low resolution.
    _, refined, scores = generator(
        (small[tf.newaxis] / 127.5 - 1.0, small_hole[tf.newaxis]), training=False)
    refined = (tf.cast(refined[0], tf.float32) + 1.0) * 127.5
    composite = refined * small_hole + small * (1.0 - small_hole)

    # Steps 4-5: blurry image + residuals aggregated over hole cells (Eq. 4).
    usable = tf.reshape(valid_source_mask(hole_grid), [1, -1])
    weights = tf.gather(tf.cast(scores[0], tf.float32), hole_cells) * usable
    upsampler = _Upsampler(composite, work_height, work_width, grid_width, cell_height,
                           cell_width)
    residuals = aggregate_residuals(known_work, upsampler, weights, grid_height, grid_width,
                                    cell_height, cell_width)
    if config.seam == "poisson":
        # Poisson blend (an addition): the network's own output, up-sampled, is the fill's
        # base everywhere in the hole cells, and the membrane of photo − that base on the
        # hole's boundary ring is added, so the fill meets the photo along the hole's edge.
        network = _Upsampler(refined, work_height, work_width, grid_width, cell_height,
                             cell_width)
        fill = (network.cells(hole_cells) + residuals
                + seam_correction(known_work, hole_work[..., 0] > 0, hole_cells, network,
                                  grid_height, grid_width, cell_height, cell_width))
    else:
        fill = upsampler.cells(hole_cells) + residuals
    filled = tf.reshape(to_uint8(fill), [-1, 3])

    # Step 6: hard paste: only hole pixels change ("simply a copy of the original", Sec. 3.1).
    updates = tf.where(in_hole, filled, original) if hole_only else filled
    result = tf.tensor_scatter_nd_update(image_work, indices, updates)
    result = result[:scaled_height, :scaled_width]

    def downscale():
        small_result = to_uint8(tf.image.resize(result, [height, width], "area"))
        return tf.where(hole, small_result, image) if hole_only else small_result

    return tf.cond(resized, downscale, lambda: result)
