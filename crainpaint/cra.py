"""Contextual Residual Aggregation (CRA, Sec. 3.1, 3.2.3 and 4.1) as TensorFlow graph ops.

Pipeline for one photo at its own resolution (no Python in the loop, dynamic height and width):

1. the hole pixels are zeroed first, so nothing under the hole reaches any later step;
2. the photo is padded a little (or up-sampled when smaller than the network input) so that the
   attention grid tiles it exactly, and down-sampled by averaging the known pixels (``area``);
   the low-resolution mask is a max-pool of the full one, so thin strokes survive;
3. the generator inpaints the low-resolution image and returns the attention scores;
4. the low-resolution composite is up-sampled bilinearly: the large blurry image;
5. context residuals (photo − blurry image) are aggregated into every hole cell with the scores
   (Eq. 4), over non-overlapping cells of (H/32)×(W/32) pixels that tile the photo; only rows of
   hole cells and columns of usable context cells are computed;
6. blurry image + aggregated residual is rounded, clipped and pasted into the original: every
   pixel outside the hole is a bit-exact copy of the input ("simply a copy of the original raw
   input", Sec. 3.1).
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from crainpaint.imaging import to_uint8
from crainpaint.layers.attention import grid_hole_mask, valid_source_mask

GEOMETRIES = ("tile", "pad512", "aspect")
# Longest side of the attention grid in "aspect" geometry, as a multiple of the short side's.
MAX_ASPECT_CELLS_FACTOR = 4


@dataclasses.dataclass(frozen=True)
class CRAConfig:
    """Options of the full-resolution pipeline.

    Attributes:
        geometry: how the photo is mapped onto the network input.
            ``"tile"`` (default): pad to a multiple of the grid (at most 31 pixels per axis) and
            area-resize each axis to the network input; ``"pad512"``: the paper's literal
            mirrored padding to multiples of the network input (Sec. 3.1); ``"aspect"``: keep
            the aspect ratio with a grid of 32×k cells (non-square network input).
        feather_px: width of an outward blend into the context around the hole (0 = hard
            paste, the paper's and the default). Hole pixels are never blended with the input.
    """

    geometry: str = "tile"
    feather_px: int = 0

    def __post_init__(self):
        if self.geometry not in GEOMETRIES:
            raise ValueError(f"geometry must be one of {GEOMETRIES}, got {self.geometry!r}.")
        if not isinstance(self.feather_px, int) or self.feather_px < 0:
            raise ValueError(f"feather_px must be an int >= 0, got {self.feather_px!r}.")


def _round_up(value, multiple):
    return (value + multiple - 1) // multiple * multiple


def working_geometry(height, width, generator_config, geometry="tile"):
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


def _to_cells(image, grid_height, grid_width):
    """[H, W, C] → [gh·gw, (H/gh)·(W/gw)·C], one row per grid cell (row-major)."""
    shape = tf.shape(image)
    cells = tf.reshape(image, [grid_height, shape[0] // grid_height, grid_width,
                               shape[1] // grid_width, shape[2]])
    cells = tf.transpose(cells, [0, 2, 1, 3, 4])
    return tf.reshape(cells, [grid_height * grid_width, -1])


def _from_cells(cells, grid_height, grid_width, height, width, channels):
    """Inverse of ``_to_cells``."""
    image = tf.reshape(cells, [grid_height, grid_width, height // grid_height,
                               width // grid_width, channels])
    image = tf.transpose(image, [0, 2, 1, 3, 4])
    return tf.reshape(image, [height, width, channels])


def _pad_to(image, height, width):
    """Mirror-pads [H, W, C] at the bottom/right to (height, width)."""
    shape = tf.shape(image)
    pad_height, pad_width = height - shape[0], width - shape[1]
    # 'SYMMETRIC' allows pads as large as the image (REFLECT needs them strictly smaller);
    # repeated passes cover pads larger than the image (pad512 on small photos).
    def body(current):
        current_shape = tf.shape(current)
        step_height = tf.minimum(height - current_shape[0], current_shape[0])
        step_width = tf.minimum(width - current_shape[1], current_shape[1])
        return (tf.pad(current, [[0, step_height], [0, step_width], [0, 0]], mode="SYMMETRIC"),)

    def condition(current):
        current_shape = tf.shape(current)
        return tf.logical_or(current_shape[0] < height, current_shape[1] < width)

    del pad_height, pad_width
    return tf.while_loop(condition, body, (image,),
                         shape_invariants=(tf.TensorShape([None, None, image.shape[-1]]),))[0]


def aggregate_residuals(residual_cells, scores, hole_cells, source_cells):
    """Eq. 4, only where needed: R_j = Σ_i s_ij R_i for hole cells j over context cells i.

    Args:
        residual_cells: [cells, P] residuals, one row per grid cell.
        scores: [cells, cells] attention (target, source).
        hole_cells: int indices of the hole cells (rows wanted).
        source_cells: int indices of the usable context cells (columns).
    Returns:
        [len(hole_cells), P] aggregated residuals.
    """
    weights = tf.gather(tf.gather(scores, hole_cells), source_cells, axis=1)
    return tf.matmul(weights, tf.gather(residual_cells, source_cells))


def inpaint_image(image, hole, generator, config=CRAConfig()):
    """Inpaints one photo with the generator and CRA; graph-compatible, no batch dimension.

    Args:
        image: uint8 [H, W, 3] RGB (any H, W ≥ 1).
        hole: [H, W, 1] hole map, 1 (or any value > 0.5) = hole.
        generator: a ``crainpaint.models.Generator``.
        config: a ``CRAConfig``.
    Returns:
        uint8 [H, W, 3]; pixels outside the hole are the input's, bit for bit.
    """
    image = tf.convert_to_tensor(image)
    hole = tf.cast(tf.convert_to_tensor(hole) > 0.5, tf.float32)
    filled = inpaint_float(tf.cast(image, tf.float32), hole, generator, config)
    return tf.where(hole > 0.5, to_uint8(filled), image)


def inpaint_float(image, hole, generator, config=CRAConfig()):
    """The CRA pipeline on a float image on the 0..255 scale; returns float32 [H, W, 3].

    Values outside the hole are undefined (callers paste the original there); inside they are
    blurry image + aggregated residual, before rounding.
    """
    generator_config = generator.config
    cell = generator_config.cell_size
    hole = tf.cast(hole, tf.float32)
    known = image * (1.0 - hole)
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    (work_height, work_width, grid_height, grid_width, resized, scaled_height,
     scaled_width) = working_geometry(height, width, generator_config, config.geometry)

    def upscale():
        scaled_known = tf.image.resize(known, [scaled_height, scaled_width], "bilinear")
        scaled_hole = tf.cast(tf.image.resize(hole, [scaled_height, scaled_width], "bilinear")
                              > 0.0, tf.float32)
        return scaled_known * (1.0 - scaled_hole), scaled_hole

    known_work, hole_work = tf.cond(resized, upscale, lambda: (known, hole))
    known_work = _pad_to(known_work, work_height, work_width)
    hole_work = _pad_to(hole_work, work_height, work_width)

    # Averaging down-sampling over known pixels only (Sec. 4.1): a cell half in the hole gets
    # the mean of its known half, not a mean darkened by the zeroed hole.
    network_size = tf.stack([grid_height * cell, grid_width * cell])
    known_sum = tf.image.resize(known_work, network_size, "area")
    known_fraction = tf.image.resize(1.0 - hole_work, network_size, "area")
    small = tf.math.divide_no_nan(known_sum, known_fraction)
    small_hole = tf.cast(tf.image.resize(hole_work, network_size, "area") > 0.0, tf.float32)
    small = small * (1.0 - small_hole)

    _, refined, scores = generator(
        (small[tf.newaxis] / 127.5 - 1.0, small_hole[tf.newaxis]), training=False)
    refined = (tf.cast(refined[0], tf.float32) + 1.0) * 127.5
    composite = refined * small_hole + small * (1.0 - small_hole)
    blurry = tf.image.resize(composite, [work_height, work_width], "bilinear")

    hole_grid = grid_hole_mask(small_hole[tf.newaxis], tf.stack([grid_height, grid_width]))
    flat_hole = tf.reshape(hole_grid, [-1]) > 0.5
    flat_source = tf.reshape(valid_source_mask(hole_grid), [-1]) > 0.5
    hole_cells = tf.cast(tf.where(flat_hole)[:, 0], tf.int32)
    source_cells = tf.cast(tf.where(flat_source)[:, 0], tf.int32)

    residual_cells = _to_cells(known_work - blurry, grid_height, grid_width)
    blurry_cells = _to_cells(blurry, grid_height, grid_width)
    aggregated = aggregate_residuals(residual_cells, tf.cast(scores[0], tf.float32),
                                     hole_cells, source_cells)
    filled_cells = tf.tensor_scatter_nd_update(
        blurry_cells, hole_cells[:, tf.newaxis], tf.gather(blurry_cells, hole_cells) + aggregated)
    filled = _from_cells(filled_cells, grid_height, grid_width, work_height, work_width, 3)
    filled = filled[:scaled_height, :scaled_width]
    filled = tf.cond(resized, lambda: tf.image.resize(filled, [height, width], "area"),
                     lambda: filled)
    return tf.ensure_shape(filled, [None, None, 3])
