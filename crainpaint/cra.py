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
   (Eq. 4), over cells of (H/32)×(W/32) pixels that tile the photo. The paper sums every
   usable source weighted by its score over non-overlapping cells (``CRAConfig.paper()``); by
   default each hole cell transplants its best source's residual, taken against a blurrier
   base (the network output averaged over 4 × 4 pixels), cross-faded with its neighbours'
   transplants across cell boundaries; a cell on the hole's edge takes, of its 8 best-scoring
   sources, the one that agrees best with its own known pixels (``CRAConfig.residual_*``;
   ``crainpaint.residuals``);
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

from crainpaint.pixels import from_network_range, to_network_range, to_uint8
from crainpaint.layers.attention import grid_hole_mask, valid_source_mask
from crainpaint.membrane import boundary_ring, membrane_interpolation
from crainpaint.residuals import (CellUpsampler, aggregate_residuals, aggregate_top_k,
                                  match_known_pixels, sharpen_weights)

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
# (python experiments/evaluate.py --seam paste|poisson; model card, "by seam"), at a small
# extra cost (README, "Scaling").
SEAMS = ("paste", "poisson")
DEFAULT_SEAM = "poisson"
# Residual aggregation (CRAConfig.residual_*). The paper's Eq. 4 sums the residuals of every
# usable source weighted by the ACM's scores; with scores spread over tens of sources those
# residuals cancel and the fill stays blurry. The defaults transplant each hole cell's best
# source (top 1), taken against the network output averaged over 4 × 4 of its pixels, with a
# 0.3-cell cross-fade between neighbouring cells' transplants: on the original release's 11
# object-removal photos the mean texture ratio rose from 0.32 to 0.93
# (python experiments/remove_objects.py --mask_convention black_hole; model card, "Texture").
# CRAConfig.paper() keeps every source, the scores as they are and the network's own blur.
RESIDUAL_SCALES = (1, 2, 4, 8)
DEFAULT_RESIDUAL_TOP_K = 1
DEFAULT_RESIDUAL_SHARPNESS = 1.0
DEFAULT_RESIDUAL_BLEND = 0.3
DEFAULT_RESIDUAL_SCALE = 4
# A hole cell on the hole's edge takes, of its 8 best-scoring sources, the one whose residual
# agrees best with its own known pixels: in-hole L1 fell in every bin of the validation photos,
# at their own size and at 512², keeping most of the texture (SWD up by 6-12 at their size)
# (python experiments/evaluate.py --residual_candidates N; model card, "Texture").
DEFAULT_RESIDUAL_CANDIDATES = 8
# The ACM's softmax scale in the paper's (the author's) code, and the largest
# CRAConfig.attention_scale: logits of at most ±1000 stay finite in float16.
PAPER_ATTENTION_SCALE = 10.0
MAX_ATTENTION_SCALE = 1000.0
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
        residual_top_k: sources aggregated per hole cell in Eq. 4. 0 (the paper's): every
            usable context cell, weighted by its score. k ≥ 1: only the k best-scoring ones,
            their weights renormalised to sum to 1, so one patch's detail is transplanted
            instead of cancelling out in an average of many.
        residual_sharpness: the scores are raised to this power before they are used and
            renormalised to sum to 1 (1 = the paper's scores as they are; p is the same as
            multiplying the ACM's softmax scale of 10 by p).
        residual_blend: with top-k sources, the width (in cells, up to 1) of a cross-fade
            across each boundary between hole cells: there a pixel mixes its own cell's
            transplant with the neighbouring hole cell's, whose source is read at the same
            offset (the neighbour's source patch continued across the boundary), so the hole
            shows no cell-sized blocks; 1 = bilinear between cell centres. 0 (the paper's):
            each cell takes its own aggregate over its own pixels.
        residual_scale: the blurry image of Eq. 4 (the base the residuals are measured from
            and added to) is the network's output up-sampled (1, the paper's) or first averaged
            over s × s of its pixels (2, 4 or 8), so the residuals, and what a hole cell
            transplants from its source, hold structure up to s network pixels across, not
            only what is finer than the network's resolution. Needed for texture where the
            photo is close to the network's size and its residuals are nearly empty.
        residual_candidates: with top-k sources, a hole cell on the hole's edge takes, of its
            this many best-scoring sources, the k whose residuals agree best with its own
            known pixels (``crainpaint.residuals.match_known_pixels``), so the transplant
            continues the texture it meets. At most k (1, the paper's, or with
            ``residual_top_k=0``): the best-scoring sources, as the attention ranks them.
        attention_scale: the ACM's softmax scale (logits = scale · cosine similarity, Eq. 2) at
            inference. None (default): the generator's own, the value it was trained with (10,
            the author's, for the bundled model). A larger scale makes the refine network's
            attention transfer copy fewer context patches per hole patch: more texture in its
            own fill, at a small cost in L1 (model card, "Texture"). Applied by
            ``crainpaint.pipeline`` (a copy of the generator with the same weights), the
            entry point of every binary.
    """

    geometry: str = DEFAULT_GEOMETRY
    feather_px: int = 0
    hole_threshold: float = DEFAULT_HOLE_THRESHOLD
    seam: str = DEFAULT_SEAM
    residual_top_k: int = DEFAULT_RESIDUAL_TOP_K
    residual_sharpness: float = DEFAULT_RESIDUAL_SHARPNESS
    residual_blend: float = DEFAULT_RESIDUAL_BLEND
    residual_scale: int = DEFAULT_RESIDUAL_SCALE
    residual_candidates: int = DEFAULT_RESIDUAL_CANDIDATES
    attention_scale: float | None = None

    @classmethod
    def paper(cls, **overrides):
        """Every option at the paper's choice (Sec. 3.1, 4.1): mirrored padding to multiples of
        the network input, a network pixel is a hole when any photo pixel it covers is, Eq. 4
        over every source with the scores as they are, non-overlapping cells, hard paste of
        blurry image + residual, the ACM's softmax scale of 10. ``overrides`` replace single
        fields."""
        fields = dict(geometry="pad512", feather_px=0, hole_threshold=0.0, seam="paste",
                      residual_top_k=0, residual_sharpness=1.0, residual_blend=0.0,
                      residual_scale=1, residual_candidates=1,
                      attention_scale=PAPER_ATTENTION_SCALE)
        fields.update(overrides)
        return cls(**fields)

    def __post_init__(self):
        if self.geometry not in GEOMETRIES:
            raise ValueError(f"geometry must be one of {GEOMETRIES}, got {self.geometry!r}.")
        if not isinstance(self.feather_px, int) or self.feather_px < 0:
            raise ValueError(f"feather_px must be an int >= 0, got {self.feather_px!r}.")
        if not _is_number(self.hole_threshold) or not 0.0 <= self.hole_threshold <= 1.0:
            raise ValueError(f"hole_threshold must be a number in [0, 1], got "
                             f"{self.hole_threshold!r}.")
        if self.seam not in SEAMS:
            raise ValueError(f"seam must be one of {SEAMS}, got {self.seam!r}.")
        if (isinstance(self.residual_top_k, bool) or not isinstance(self.residual_top_k, int)
                or self.residual_top_k < 0):
            raise ValueError(f"residual_top_k must be an int >= 0 (0 = every source, the "
                             f"paper's), got {self.residual_top_k!r}.")
        if not _is_number(self.residual_sharpness) or not 0.0 < self.residual_sharpness <= 64.0:
            raise ValueError(f"residual_sharpness must be a number in (0, 64] (1 = the "
                             f"paper's scores), got {self.residual_sharpness!r}.")
        if not _is_number(self.residual_blend) or not 0.0 <= self.residual_blend <= 1.0:
            raise ValueError(f"residual_blend must be a number in [0, 1] (0 = no cross-fade, "
                             f"the paper's), got {self.residual_blend!r}.")
        if isinstance(self.residual_scale, bool) or self.residual_scale not in RESIDUAL_SCALES:
            raise ValueError(f"residual_scale must be one of {RESIDUAL_SCALES} (1 = the "
                             f"paper's), got {self.residual_scale!r}.")
        if (isinstance(self.residual_candidates, bool)
                or not isinstance(self.residual_candidates, int) or self.residual_candidates < 1):
            raise ValueError(f"residual_candidates must be an int >= 1 (at most residual_top_k: "
                             f"the best-scoring sources), got {self.residual_candidates!r}.")
        if self.attention_scale is not None and (
                not _is_number(self.attention_scale)
                or not 0.0 < self.attention_scale <= MAX_ATTENTION_SCALE):
            raise ValueError(f"attention_scale must be None (the generator's own) or a number "
                             f"in (0, {MAX_ATTENTION_SCALE:g}] ({PAPER_ATTENTION_SCALE:g} = the "
                             f"paper's), got {self.attention_scale!r}.")
        if self.residual_blend and self.residual_top_k == 0:
            raise ValueError("residual_blend needs residual_top_k >= 1: the blended aggregation "
                             "reads a few sources per hole cell; set residual_top_k (e.g. 4) "
                             "or residual_blend=0.")


def _is_number(value):
    """An int or float that is not a bool (True would pass as 1)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
    # Each pass appends the last rows, then the last columns, in reverse order: the
    # 'SYMMETRIC' mirror pad, for pads as large as the image; repeated passes cover pads larger
    # than the image (pad512 on small photos). A concatenation of reversed slices is a plain
    # copy, where MirrorPad walked every pixel of an 8K frame one index at a time (~0.5 s).
    def body(current):
        shape = tf.shape(current)
        step_height = tf.minimum(height - shape[0], shape[0])
        current = tf.concat([current, tf.reverse(current[shape[0] - step_height:], [0])], 0)
        step_width = tf.minimum(width - shape[1], shape[1])
        return (tf.concat([current, tf.reverse(current[:, shape[1] - step_width:], [1])], 1),)

    def condition(current):
        shape = tf.shape(current)
        return tf.logical_or(shape[0] < height, shape[1] < width)

    return tf.while_loop(condition, body, (image,),
                         shape_invariants=(tf.TensorShape([None, None, image.shape[-1]]),))[0]


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


def _check_attention_scale(generator, config):
    """Raises ValueError when ``config.attention_scale`` is set and not the generator's."""
    own_scale = getattr(getattr(generator, "config", None), "softmax_scale", None)
    if config.attention_scale is not None and config.attention_scale != own_scale:
        raise ValueError(f"attention_scale={config.attention_scale:g} differs from the "
                         f"generator's softmax scale ({own_scale}); go through "
                         "crainpaint.pipeline.pipeline_for(generator, config), which applies it.")


# The pipeline holds no Python control flow on tensors (tf.cond / tf.while_loop throughout), so
# AutoGraph has nothing to convert; skipping it halves the tracing of the first call (rewriting
# every function called inside, the Keras layers included) and leaves the graph op for op the same.
@tf.autograph.experimental.do_not_convert
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
    _check_attention_scale(generator, config)
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

    The mismatch photo − ``base`` (a ``CellUpsampler``) is read on the boundary ring only
    (known pixels touching the hole) and interpolated into the hole as a membrane
    (``crainpaint.membrane``) over the hole cells' bounding box grown by one cell, which holds
    every ring pixel. A box wider or taller than ``max_side`` (default ``MEMBRANE_MAX_SIDE``)
    is solved on blocks of F × F pixels (F a power of two; a block is pinned to the mean
    mismatch of its ring pixels) and up-sampled bilinearly, cell by cell, so the cost stays
    bounded at any resolution. ``hole`` is the [H, W] hole map of ``known``: bool, or nonzero
    = hole (read on that box only).
    """
    max_side = max_side or MEMBRANE_MAX_SIDE
    rows, cols = hole_cells // grid_width, hole_cells % grid_width
    first_row, first_col = tf.maximum(tf.reduce_min(rows) - 1, 0), tf.maximum(
        tf.reduce_min(cols) - 1, 0)
    top, left = first_row * cell_height, first_col * cell_width
    bottom = tf.minimum(tf.reduce_max(rows) + 2, grid_height) * cell_height
    right = tf.minimum(tf.reduce_max(cols) + 2, grid_width) * cell_width
    height, width = bottom - top, right - left

    hole_box = hole[top:bottom, left:right]
    if hole_box.dtype != tf.bool:
        hole_box = hole_box > 0  # Read on the box only, not on the whole frame.
    ring = tf.cast(tf.where(boundary_ring(hole_box)), tf.int32)
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
    return CellUpsampler(coarse, coarse_height * factor, coarse_width * factor,
                      width // cell_width, cell_height, cell_width).cells(local_cells)


def _cell_rows(image, grid_width, cell_width):
    """[H, gw·cw, C] → [H, gw, cw·C]: each grid cell's pixel row is one run of cw pixels."""
    shape = tf.shape(image)
    return tf.reshape(image, tf.stack([shape[0], grid_width, cell_width * shape[2]]))


def _cell_row_indices(cells, grid_width, cell_height):
    """[K·ch, 2] (pixel row, grid column) of every pixel row of the given grid cells, in the
    ``_cell_rows`` view: gathering or scattering these moves runs of cw pixels, one index per
    run instead of one per pixel (at 8K, 135 times fewer)."""
    rows = (cells // grid_width * cell_height)[:, tf.newaxis] + tf.range(cell_height)[
        tf.newaxis]
    cols = tf.broadcast_to((cells % grid_width)[:, tf.newaxis], tf.shape(rows))
    return tf.reshape(tf.stack([rows, cols], axis=-1), [-1, 2])


def _network_pass(image, hole, generator, config):
    """Steps 1-3 for a photo with at least one hole pixel: the working image, its hole cells
    and the generator's output; a dict of the tensors the later steps read."""
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
    # The hole cells' pixels, [K·ch·cw, C] in cell, row, column order.
    indices = _cell_row_indices(hole_cells, grid_width, cell_height)
    original = tf.reshape(tf.gather_nd(_cell_rows(image_work, grid_width, cell_width), indices),
                          [-1, 3])
    in_hole = tf.reshape(tf.gather_nd(_cell_rows(hole_work, grid_width, cell_width), indices),
                         [-1, 1]) > 0

    # Step 1: zero the hole before anything else reads the image (only hole cells hold any).
    known_work = tf.reshape(tf.tensor_scatter_nd_update(
        _cell_rows(image_work, grid_width, cell_width), indices,
        tf.reshape(tf.where(in_hole, tf.zeros_like(original), original), [-1, cell_width * 3])),
        tf.shape(image_work))

    # Step 2: averaging down-sampling over known pixels only (Sec. 4.1): a cell half in the hole
    # gets the mean of its known half, not a mean darkened by the zeroed hole.
    known_sum = tf.image.resize(known_work, network_size, "area")
    known_fraction = tf.maximum(1.0 - hole_area, 0.0)
    known_fraction = tf.where(known_fraction > _KNOWN_EPSILON, known_fraction, 0.0)
    small = tf.math.divide_no_nan(known_sum, known_fraction) * (1.0 - small_hole)

    # Step 3: the network at low resolution.
    _, refined, scores = generator(
        (to_network_range(small[tf.newaxis]), small_hole[tf.newaxis]), training=False)
    refined = from_network_range(refined[0])
    composite = refined * small_hole + small * (1.0 - small_hole)
    usable = tf.reshape(valid_source_mask(hole_grid), [1, -1])
    weights = tf.gather(tf.cast(scores[0], tf.float32), hole_cells) * usable
    return dict(height=height, width=width, work_height=work_height, work_width=work_width,
                grid_height=grid_height, grid_width=grid_width, resized=resized,
                scaled_height=scaled_height, scaled_width=scaled_width, image_work=image_work,
                hole_work=hole_work, hole_area=hole_area, hole_cells=hole_cells,
                cell_height=cell_height, cell_width=cell_width, indices=indices,
                original=original, in_hole=in_hole, known_work=known_work, refined=refined,
                composite=composite, weights=weights)


def hole_attention(image, hole, generator, config=CRAConfig()):
    """The attention the CRA reads for one photo, for diagnostics (runs eagerly).

    Args:
        image: uint8 [H, W, 3] RGB.
        hole: [H, W] or [H, W, 1] hole map (nonzero / > 0.5 = hole).
        generator: a ``crainpaint.models.Generator``.
        config: a ``CRAConfig`` (its geometry and hole threshold decide the grid).
    Returns:
        A dict of numpy arrays: ``weights`` [K, N] float32, the ACM's scores of the K hole
        cells over the N = gh·gw grid cells, zero for sources Eq. 4 cannot use (before
        ``residual_sharpness`` / ``residual_top_k``); ``hole_cells`` [K] their flat grid
        indices; ``grid`` (gh, gw). K = 0 when the hole is empty.
    """
    _check_attention_scale(generator, config)
    image = tf.convert_to_tensor(image, tf.uint8)
    hole = tf.convert_to_tensor(hole)
    if hole.shape.rank == 2:
        hole = hole[..., tf.newaxis]
    if hole.dtype != tf.bool:
        hole = hole > (0.5 if hole.dtype.is_floating else 0)
    if not bool(tf.reduce_any(hole)):
        return {"weights": tf.zeros([0, 0]).numpy(), "hole_cells": tf.zeros([0], tf.int32).numpy(),
                "grid": (0, 0)}
    state = _network_pass(image, hole, generator, config)
    return {"weights": state["weights"].numpy(), "hole_cells": state["hole_cells"].numpy(),
            "grid": (int(state["grid_height"]), int(state["grid_width"]))}


def _inpaint(image, hole, generator, config, hole_only=True):
    """CRA for a photo with at least one hole pixel; returns the pasted uint8 result.

    With ``hole_only`` false, every pixel of the hole cells takes the inpainted value (for the
    feather blend, which decides per pixel); pixels of other cells are always the input's.

    Full-resolution work is limited to a few streaming passes (two area resizes, one copy, the
    per-row residual aggregation); everything per pixel of the hole happens on the hole cells.
    """
    state = _network_pass(image, hole, generator, config)
    (height, width, work_height, work_width, grid_height, grid_width, resized, scaled_height,
     scaled_width, image_work, hole_work, hole_area, hole_cells, cell_height, cell_width,
     indices, original, in_hole, known_work, refined, composite, weights) = (
        state[name] for name in (
            "height", "width", "work_height", "work_width", "grid_height", "grid_width",
            "resized", "scaled_height", "scaled_width", "image_work", "hole_work", "hole_area",
            "hole_cells", "cell_height", "cell_width", "indices", "original", "in_hole",
            "known_work", "refined", "composite", "weights"))

    # Steps 4-5: blurry image + residuals aggregated over hole cells (Eq. 4).
    if config.residual_scale > 1:
        coarse_size = tf.stack([tf.shape(refined)[0], tf.shape(refined)[1]]) // (
            config.residual_scale)
        composite = tf.image.resize(composite, coarse_size, "area")
        refined = tf.image.resize(refined, coarse_size, "area")
    upsampler = CellUpsampler(composite, work_height, work_width, grid_width, cell_height,
                           cell_width)
    if config.residual_sharpness != 1.0 or config.residual_top_k:
        weights = sharpen_weights(weights, float(config.residual_sharpness))
    if config.residual_top_k:
        chosen = None
        if config.residual_candidates > config.residual_top_k:
            # Each hole cell's hole fraction: the network-size hole map averaged over the cell.
            cell_hole = tf.image.resize(hole_area, tf.stack([grid_height, grid_width]), "area")
            chosen = match_known_pixels(
                known_work, hole_work, upsampler, weights, hole_cells,
                1.0 - tf.gather(tf.reshape(cell_hole, [-1]), hole_cells), grid_height,
                grid_width, cell_height, cell_width, config.residual_top_k,
                config.residual_candidates)
        residuals = aggregate_top_k(known_work, upsampler, weights, hole_cells, grid_height,
                                    grid_width, cell_height, cell_width, config.residual_top_k,
                                    blend=config.residual_blend > 0.0,
                                    blend_width=float(config.residual_blend or 1.0),
                                    chosen=chosen)
    else:
        residuals = aggregate_residuals(known_work, upsampler, weights, grid_height, grid_width,
                                        cell_height, cell_width)
    if config.seam == "poisson":
        # Poisson blend (an addition): the network's own output, up-sampled, is the fill's
        # base everywhere in the hole cells, and the membrane of photo − that base on the
        # hole's boundary ring is added, so the fill meets the photo along the hole's edge.
        network = CellUpsampler(refined, work_height, work_width, grid_width, cell_height,
                             cell_width)
        fill = (network.cells(hole_cells) + residuals
                + seam_correction(known_work, hole_work[..., 0], hole_cells, network,
                                  grid_height, grid_width, cell_height, cell_width))
    else:
        fill = upsampler.cells(hole_cells) + residuals
    filled = tf.reshape(to_uint8(fill), [-1, 3])

    # Step 6: hard paste: only hole pixels change ("simply a copy of the original", Sec. 3.1).
    updates = tf.where(in_hole, filled, original) if hole_only else filled
    result = tf.reshape(tf.tensor_scatter_nd_update(
        _cell_rows(image_work, grid_width, cell_width), indices,
        tf.reshape(updates, [-1, cell_width * 3])), tf.shape(image_work))
    result = result[:scaled_height, :scaled_width]

    def downscale():
        small_result = to_uint8(tf.image.resize(result, [height, width], "area"))
        return tf.where(hole, small_result, image) if hole_only else small_result

    return tf.cond(resized, downscale, lambda: result)
