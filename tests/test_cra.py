"""Contextual Residual Aggregation (Sec. 3.1, 3.2.3, Eq. 4) against a numpy reference."""

from unittest import mock

import cv2
import keras
import numpy as np
import tensorflow as tf

import crainpaint
from crainpaint import cra
from crainpaint.evaluation.texture import texture_energy_ratio
from crainpaint.models import Generator, GeneratorConfig
from crainpaint.pixels import MaskWarning
from tests import reference

SMALL = GeneratorConfig(input_size=64, attention_grid=4, width_multiplier=0.25)
# Eq. 4 as the paper has it: every usable source, the scores as they are, the network's blur.
PAPER_RESIDUALS = dict(residual_top_k=0, residual_sharpness=1.0, residual_blend=0.0,
                       residual_scale=1, residual_candidates=1)


class StubGenerator:
    """Stands in for the network: a fixed refined image and hand-made attention scores."""

    def __init__(self, scores, refined):
        self.config = SMALL
        self.scores = np.asarray(scores, np.float32)
        self.refined = np.asarray(refined, np.float32)
        self.calls = []

    def __call__(self, inputs, training=False):
        image, mask = inputs
        self.calls.append((np.array(image), np.array(mask)))
        refined = tf.constant(self.refined[np.newaxis])
        return refined, refined, tf.constant(self.scores[np.newaxis])


def smooth_refined(height=64, width=64, seed=0):
    rng = np.random.default_rng(seed)
    low = rng.uniform(-0.8, 0.8, (4, 4, 3)).astype(np.float32)
    return cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC).clip(-1, 1)


def hand_made_scores(cells=16, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((cells, cells)).astype(np.float32)


def numpy_cra(image, hole, scores, refined, grid=(4, 4), cell=SMALL.cell_size,
              hole_threshold=cra.DEFAULT_HOLE_THRESHOLD, seam="paste", residual_top_k=0,
              residual_sharpness=1.0, residual_blend=0.0, residual_scale=1,
              residual_candidates=1):
    """Sec. 3.1 + Eq. 4 on a grid_h × grid_w attention grid of cell-px network cells, for a photo
    whose padded size is an integer multiple of the network input's (grid × cell pixels).

    A network pixel is a hole when more than ``hole_threshold`` of its block is (at 1: all of
    it); every grid cell with a hole pixel is filled (and is no source). With ``seam="poisson"``
    the base is the network's output up-sampled (not the composite), plus the exact harmonic
    interpolation of photo − that base from the known pixels touching the hole."""
    grid_h, grid_w = grid
    net_h, net_w = grid_h * cell, grid_w * cell
    height, width = hole.shape
    work_h, work_w = -(-height // grid_h) * grid_h, -(-width // grid_w) * grid_w
    known = image.astype(np.float64) * (1 - hole[..., None])
    known = np.pad(known, [(0, work_h - height), (0, work_w - width), (0, 0)], mode="symmetric")
    hole_w = np.pad(hole, [(0, work_h - height), (0, work_w - width)], mode="symmetric")
    fy, fx = work_h // net_h, work_w // net_w
    assert (fy * net_h, fx * net_w) == (work_h, work_w), "not an integer multiple"
    known_sum = known.reshape(net_h, fy, net_w, fx, 3).mean(axis=(1, 3))
    block_hole = hole_w.reshape(net_h, fy, net_w, fx).mean(axis=(1, 3))[..., None]
    fraction = 1 - block_hole
    # At 1 a network pixel is a hole when all of its block is (the block means are exact here).
    small_hole = (block_hole > hole_threshold if hole_threshold < 1
                  else block_hole == 1).astype(np.float64)
    small = np.where(fraction > 0, known_sum / np.maximum(fraction, 1e-12), 0) * (1 - small_hole)
    composite = (refined + 1) * 127.5 * small_hole + small * (1 - small_hole)
    if residual_scale > 1:  # block means of s × s network pixels
        composite = composite.reshape(net_h // residual_scale, residual_scale,
                                      net_w // residual_scale, residual_scale, 3).mean(axis=(1, 3))
    blurry = cv2.resize(composite.astype(np.float32), (work_w, work_h),
                        interpolation=cv2.INTER_LINEAR).astype(np.float64)
    cell_h, cell_w = work_h // grid_h, work_w // grid_w
    hole_grid = hole_w.reshape(grid_h, cell_h, grid_w, cell_w).max(axis=(1, 3))
    touching = cv2.dilate(hole_grid.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    residual = known - blurry
    cells = [residual[y * cell_h:(y + 1) * cell_h, x * cell_w:(x + 1) * cell_w]
             for y in range(grid_h) for x in range(grid_w)]
    if seam == "poisson":
        network = cv2.resize(((refined + 1) * 127.5).astype(np.float32), (work_w, work_h),
                             interpolation=cv2.INTER_LINEAR).astype(np.float64)
        hole_mask = hole_w > 0
        ring = (cv2.dilate(hole_mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0) & ~hole_mask
        membrane = reference.harmonic_fill(hole_mask, (known - network) * ring[..., None])
        result = network + membrane * hole_mask[..., None]
    else:
        result = blurry.copy()
    usable = ~touching.reshape(-1)
    chosen = None
    if residual_top_k and residual_candidates > residual_top_k:
        known_cells = [1 - hole_w[y * cell_h:(y + 1) * cell_h, x * cell_w:(x + 1) * cell_w]
                       for y in range(grid_h) for x in range(grid_w)]
        chosen = numpy_matched_sources(hole_grid, scores * usable[np.newaxis], cells,
                                       known_cells, residual_top_k, residual_candidates,
                                       residual_sharpness)
    for target in range(grid_h * grid_w):
        y, x = divmod(target, grid_w)
        if not hole_grid[y, x]:
            continue
        if residual_top_k:
            aggregated = numpy_top_k_transplant(
                y, x, hole_grid, scores * usable[np.newaxis], cells, residual_top_k,
                residual_sharpness, residual_blend, chosen)
        else:
            weights = scores[target] * usable
            if residual_sharpness != 1.0:
                weights = weights ** residual_sharpness
                weights = weights / weights.sum()
            aggregated = sum(weights[source] * cells[source]
                             for source in range(grid_h * grid_w) if usable[source])
        result[y * cell_h:(y + 1) * cell_h, x * cell_w:(x + 1) * cell_w] += aggregated
    result = np.clip(np.round(result[:height, :width]), 0, 255).astype(np.uint8)
    return np.where(hole[..., None] > 0, result, image), small, small_hole


def numpy_matched_sources(hole_grid, weights, cells, known_cells, top_k, candidates,
                          sharpness):
    """{hole cell: [sources]} for the hole cells with at least 1/16 of their pixels known: of
    the ``candidates`` highest (sharpened) scores, the ``top_k`` sources whose residuals have
    the least sum of absolute differences to the cell's own residual over its known pixels,
    on every s-th pixel per axis (s = cell side // 32)."""
    stride = max(min(cells[0].shape[:2]) // 32, 1)
    chosen = {}
    for target in np.flatnonzero(hole_grid.reshape(-1)):
        known = known_cells[target][..., None]
        if known.mean() < 1 / 16:
            continue
        sharp = weights[target].astype(np.float64) ** sharpness
        best = [i for i in np.argsort(-sharp, kind="stable")[:candidates] if sharp[i] > 0]
        chosen[target] = sorted(best, key=lambda i: (
            np.sum(np.abs(cells[i] - cells[target])[::stride, ::stride]
                   * known[::stride, ::stride]), best.index(i)))[:top_k]
    return chosen


def numpy_top_k_transplant(row, col, hole_grid, weights, cells, top_k, sharpness, blend,
                           chosen=None):
    """The residual of hole cell (row, col) with top-k sources, pixel by pixel.

    Each pixel mixes, over its own cell and the neighbouring hole cells n at offset (dy, dx),
    the transplant of n's k best sources i read at i − (dy, dx) (weights ``weights[n] **
    sharpness`` of the sources kept, renormalised), with the cross-fade weight of n at the pixel
    (own cell: clip(1/2 + (1/2 − |f|) / blend, 0, 1) per axis; no blend: own cell only).
    ``chosen`` ({hole cell: [sources]}) replaces a cell's top-k sources."""
    grid_h, grid_w = hole_grid.shape
    cell_h, cell_w = cells[0].shape[:2]
    out = np.zeros((cell_h, cell_w, 3))

    def axis_weight(position, offset):
        if not blend:
            return float(offset == 0)
        own = min(max(0.5 + (0.5 - abs(position)) / blend, 0.0), 1.0)
        if offset == 0:
            return own
        return (1.0 - own) * float(np.sign(position) == offset)

    for y in range(cell_h):
        for x in range(cell_w):
            position_y, position_x = (y + 0.5) / cell_h - 0.5, (x + 0.5) / cell_w - 0.5
            total, cover = np.zeros(3), 0.0
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    mix = axis_weight(position_y, dy) * axis_weight(position_x, dx)
                    ny, nx = row + dy, col + dx
                    if mix == 0 or not (0 <= ny < grid_h and 0 <= nx < grid_w):
                        continue
                    if not hole_grid[ny, nx]:
                        continue
                    sharp = weights[ny * grid_w + nx].astype(np.float64) ** sharpness
                    sharp = sharp / sharp.sum()
                    best = np.argsort(-sharp, kind="stable")[:top_k]
                    if chosen and ny * grid_w + nx in chosen:
                        best = chosen[ny * grid_w + nx]
                    reads = [(sharp[i], i // grid_w - dy, i % grid_w - dx) for i in best
                             if sharp[i] > 0]
                    reads = [(w, ry, rx) for w, ry, rx in reads
                             if 0 <= ry < grid_h and 0 <= rx < grid_w]
                    mass = sum(w for w, _, _ in reads)
                    if mass == 0:
                        continue
                    transplant = sum(w / mass * cells[ry * grid_w + rx][y, x]
                                     for w, ry, rx in reads)
                    total += mix * transplant
                    cover += mix
            if cover:
                out[y, x] = total / cover
    return out


def photo_like(height, width, seed=0):
    """Smooth structure plus high-frequency texture, uint8 RGB."""
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.uniform(0, 255, (6, 5, 3)).astype(np.float32), (width, height),
                      interpolation=cv2.INTER_CUBIC)
    texture = rng.normal(0, 20, (height, width, 3))
    return np.clip(base + texture, 0, 255).astype(np.uint8)


class ResidualAggregationTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.hole = np.zeros((190, 126), np.float32)
        # Cells are 48×32 pixels; the hole spans parts of cells (1, 1) and (2, 1), so the
        # context cells of the last row and column are usable sources.
        self.hole[55:100, 35:60] = 1.0
        self.image = photo_like(190, 126)

    def _run(self, image, hole, stub, geometry="tile",
             hole_threshold=cra.DEFAULT_HOLE_THRESHOLD, seam="paste", **residual_options):
        # "tile": the 190×126 photo maps onto the stub's square 4×4 grid (cells of 48×32 px).
        # "paste" and Eq. 4 over every source are the paper's pipeline, which numpy_cra
        # follows by default.
        residual_options = {**PAPER_RESIDUALS, **residual_options}
        return cra.inpaint_image(image, hole[..., None], stub,
                                 cra.CRAConfig(geometry=geometry, hole_threshold=hole_threshold,
                                               seam=seam, **residual_options)).numpy()

    def _assert_matches_reference_on_the_6_by_4_grid(self, **residual_options):
        stub = StubGenerator(hand_made_scores(cells=24, seed=3), smooth_refined(96, 64))
        output = self._run(self.image, self.hole, stub, geometry="aspect", **residual_options)
        expected, _, _ = numpy_cra(self.image, self.hole, stub.scores, stub.refined,
                                   grid=(6, 4), **{**PAPER_RESIDUALS, **residual_options})
        difference = np.abs(output.astype(int) - expected.astype(int))
        self.assertLessEqual(difference.max(), 1)
        self.assertLess(difference.mean(), 0.01)
        return output

    def test_blended_top_k_transplant_matches_the_pixelwise_numpy_reference(self):
        # Three hole cells in a column of the 6×4 grid: the cross-fade mixes each with its
        # hole neighbours, whose sources are read one cell over (some fall off the grid).
        blended = self._assert_matches_reference_on_the_6_by_4_grid(
            residual_top_k=2, residual_sharpness=2.0, residual_blend=0.5, residual_scale=2)
        hard = self._assert_matches_reference_on_the_6_by_4_grid(
            residual_top_k=2, residual_sharpness=2.0, residual_scale=2)
        self.assertGreater(np.abs(blended.astype(int) - hard.astype(int)).max(), 10)

    def test_bilinear_top_one_transplant_matches_the_pixelwise_numpy_reference(self):
        self._assert_matches_reference_on_the_6_by_4_grid(residual_top_k=1, residual_blend=1.0)

    def test_coarser_residual_scale_matches_the_numpy_reference(self):
        for scale in (2, 4):
            output = self._assert_matches_reference_on_the_6_by_4_grid(residual_scale=scale)
        paper = self._assert_matches_reference_on_the_6_by_4_grid()
        self.assertGreater(np.abs(output.astype(int) - paper.astype(int)).max(), 10)

    def test_edge_cells_matched_on_their_known_pixels_match_the_numpy_reference(self):
        for top_k, blend in ((1, 0.3), (2, 0.0)):
            matched = self._assert_matches_reference_on_the_6_by_4_grid(
                residual_top_k=top_k, residual_blend=blend, residual_scale=2,
                residual_candidates=6)
            best_scored = self._assert_matches_reference_on_the_6_by_4_grid(
                residual_top_k=top_k, residual_blend=blend, residual_scale=2)
            self.assertGreater(np.abs(matched.astype(int) - best_scored.astype(int)).max(), 10,
                               msg=top_k)

    def test_large_cells_are_matched_on_every_other_pixel_as_the_numpy_reference(self):
        # 384×256 on the 6×4 grid: cells of 64×64 pixels, compared on every 2nd pixel.
        stub = StubGenerator(hand_made_scores(cells=24, seed=3), smooth_refined(96, 64))
        image = photo_like(384, 256, seed=2)
        hole = np.zeros((384, 256), np.float32)
        hole[110:200, 70:120] = 1.0
        options = dict(residual_top_k=1, residual_blend=0.0, residual_scale=2,
                       residual_candidates=6)
        output = self._run(image, hole, stub, geometry="aspect", **options)
        expected, _, _ = numpy_cra(image, hole, stub.scores, stub.refined, grid=(6, 4),
                                   **{**PAPER_RESIDUALS, **options})
        difference = np.abs(output.astype(int) - expected.astype(int))
        self.assertLessEqual(difference.max(), 1)
        self.assertLess(difference.mean(), 0.01)

    def test_a_hole_of_whole_cells_has_no_edge_cell_and_keeps_the_best_scoring_sources(self):
        stub = StubGenerator(hand_made_scores(cells=24, seed=3), smooth_refined(96, 64))
        hole = np.zeros((192, 128), np.float32)
        hole[64:96, 32:96] = 1.0  # Cells (2, 1) and (2, 2) exactly: no known pixel in them.
        image = photo_like(192, 128)
        options = dict(geometry="aspect", residual_top_k=1, residual_blend=0.3,
                       residual_scale=2)
        self.assertAllEqual(self._run(image, hole, stub, residual_candidates=8, **options),
                            self._run(image, hole, stub, residual_candidates=1, **options))

    def test_candidates_up_to_top_k_leave_the_best_scoring_sources(self):
        stub = StubGenerator(hand_made_scores(cells=24, seed=3), smooth_refined(96, 64))
        for top_k, candidates in ((1, 1), (2, 2), (3, 2), (0, 5)):
            options = dict(residual_top_k=top_k, residual_blend=0.3 if top_k else 0.0,
                           residual_scale=2)
            plain = self._run(self.image, self.hole, stub, geometry="aspect",
                              residual_candidates=1, **options)
            self.assertAllEqual(plain, self._run(self.image, self.hole, stub, geometry="aspect",
                                                 residual_candidates=candidates, **options))

    def test_matching_takes_the_source_that_continues_the_edge_cells_texture(self):
        # Context of two kinds: vertical stripes around the hole and in one source column,
        # horizontal stripes elsewhere. The scores rank a horizontal-stripe source first for
        # every hole cell; matching on the known stripes around the hole picks the
        # vertical-stripe source, whose transplant reproduces the covered stripes.
        height, width = 192, 128
        columns = np.arange(width)[np.newaxis, :]
        rows = np.arange(height)[:, np.newaxis]
        vertical = np.broadcast_to(np.where(columns % 8 < 4, 60, 190), (height, width))
        horizontal = np.broadcast_to(np.where(rows % 8 < 4, 60, 190), (height, width))
        truth = np.where(columns < 96, vertical, horizontal)
        truth = np.repeat(truth[..., np.newaxis], 3, axis=-1).astype(np.uint8)
        hole = np.zeros((height, width), np.float32)
        hole[72:88, 40:56] = 1.0  # In cell (2, 1), on whole stripe periods: a flat base.
        scores = np.zeros((24, 24), np.float32)
        scores[:, 3 * 4 + 3] = 1.0  # Cell (3, 3): horizontal stripes, ranked first.
        scores[:, 5 * 4 + 1] = 0.5  # Cell (5, 1): vertical stripes, second.
        refined = np.full((96, 64, 3), (125 / 127.5) - 1, np.float32)
        stub = StubGenerator(scores, refined)
        errors = {}
        for candidates in (1, 2):
            # Scale 4: the base averages 8 × 8 photo pixels, a whole stripe period, so the
            # residuals are the stripes themselves.
            output = self._run(truth, hole, stub, geometry="aspect", residual_top_k=1,
                               residual_blend=0.0, residual_scale=4,
                               residual_candidates=candidates)
            inside = hole > 0
            errors[candidates] = np.abs(output[inside].astype(int)
                                        - truth[inside].astype(int)).mean()
        self.assertLess(errors[2], 2.0)
        self.assertGreater(errors[1], 30.0)

    def test_top_k_over_every_source_equals_the_sharpened_dense_aggregation(self):
        stub = StubGenerator(hand_made_scores(cells=24, seed=3), smooth_refined(96, 64))
        dense = self._run(self.image, self.hole, stub, geometry="aspect",
                          residual_sharpness=3.0)
        every = self._run(self.image, self.hole, stub, geometry="aspect", residual_top_k=24,
                          residual_sharpness=3.0)
        self.assertAllEqual(dense, every)
        paper = self._run(self.image, self.hole, stub, geometry="aspect")
        self.assertGreater(np.abs(dense.astype(int) - paper.astype(int)).max(), 5)

    def test_matches_numpy_reference_of_eq_4_with_hand_made_attention(self):
        stub = StubGenerator(hand_made_scores(), smooth_refined())
        output = self._run(self.image, self.hole, stub)
        expected, small, small_hole = numpy_cra(self.image, self.hole, stub.scores, stub.refined)
        network_image, network_mask = stub.calls[-1]
        self.assertAllClose(network_mask[0], small_hole, atol=0)
        self.assertAllClose(network_image[0], small / 127.5 - 1, atol=1e-4)
        difference = np.abs(output.astype(int) - expected.astype(int))
        self.assertLessEqual(difference.max(), 1)
        self.assertLess(difference.mean(), 0.01)
        # The residuals matter: without them the hole would be visibly different.
        without = self._run(self.image, self.hole, StubGenerator(np.zeros((16, 16)),
                                                                 stub.refined))
        self.assertGreater(np.abs(without.astype(int) - expected.astype(int)).max(), 20)

    def test_aspect_geometry_matches_numpy_reference_on_a_6_by_4_grid(self):
        # 190×126: the long side gets round(4 × 190 / 126) = 6 cells, so the network sees 96×64
        # and the photo, padded to 192×128, is tiled by 24 square cells of 32×32 pixels.
        stub = StubGenerator(hand_made_scores(cells=24), smooth_refined(96, 64))
        output = self._run(self.image, self.hole, stub, geometry="aspect")
        expected, small, small_hole = numpy_cra(self.image, self.hole, stub.scores,
                                                stub.refined, grid=(6, 4))
        network_image, network_mask = stub.calls[-1]
        self.assertEqual(network_image.shape, (1, 96, 64, 3))
        self.assertAllClose(network_mask[0], small_hole, atol=0)
        self.assertAllClose(network_image[0], small / 127.5 - 1, atol=1e-4)
        difference = np.abs(output.astype(int) - expected.astype(int))
        self.assertLessEqual(difference.max(), 1)
        self.assertLess(difference.mean(), 0.01)
        self.assertAllEqual(output[self.hole == 0], self.image[self.hole == 0])
        # "aspect" is the default geometry: without a config only the seam and the residual
        # options differ.
        default = cra.inpaint_image(self.image, self.hole[..., None], stub).numpy()
        self.assertAllEqual(default, self._run(
            self.image, self.hole, stub, geometry="aspect", seam=cra.DEFAULT_SEAM,
            residual_top_k=cra.DEFAULT_RESIDUAL_TOP_K,
            residual_sharpness=cra.DEFAULT_RESIDUAL_SHARPNESS,
            residual_blend=cra.DEFAULT_RESIDUAL_BLEND, residual_scale=cra.DEFAULT_RESIDUAL_SCALE,
            residual_candidates=cra.DEFAULT_RESIDUAL_CANDIDATES))

    def test_zero_residual_equals_plain_bilinear_upsampling(self):
        image = np.full((190, 126, 3), 100, np.uint8)
        stub = StubGenerator(hand_made_scores(), smooth_refined())
        output = self._run(image, self.hole, stub)
        _, _, small_hole = numpy_cra(image, self.hole, stub.scores, stub.refined)
        composite = ((stub.refined + 1) * 127.5 * small_hole + 100 * (1 - small_hole))
        upsampled = cv2.resize(composite.astype(np.float32), (128, 192),
                               interpolation=cv2.INTER_LINEAR)[:190, :126]
        expected = np.clip(np.round(upsampled), 0, 255)
        inside = self.hole > 0
        self.assertLessEqual(np.abs(output[inside].astype(int) - expected[inside]).max(), 1)

    def test_hole_threshold_decides_which_network_pixels_are_holes(self):
        # Network pixels are 3×2 photo pixels here. Rows 55-99 of the hole cover 2/3 of the
        # block rows 54-56 and 1/3 of rows 99-101; columns 35-59 cover half of 34-35.
        stub = StubGenerator(hand_made_scores(), smooth_refined())
        for threshold, rows, columns in ((0.0, (18, 34), (17, 30)), (0.5, (18, 33), (18, 30)),
                                         (0.7, (19, 33), (18, 30)), (1.0, (19, 33), (18, 30))):
            output = self._run(self.image, self.hole, stub, hole_threshold=threshold)
            mask = stub.calls[-1][1][0, ..., 0]
            expected_mask = np.zeros((64, 64), np.float32)
            expected_mask[rows[0]:rows[1], columns[0]:columns[1]] = 1.0
            self.assertAllEqual(mask, expected_mask, msg=threshold)
            expected, _, _ = numpy_cra(self.image, self.hole, stub.scores, stub.refined,
                                       hole_threshold=threshold)
            self.assertLessEqual(np.abs(output.astype(int) - expected.astype(int)).max(), 1)

    def test_thin_stroke_survives_down_sampling_with_threshold_zero(self):
        hole = np.zeros((190, 126), np.float32)
        hole[100, 3:9] = 1.0  # one row of pixels: averaging alone would dilute it to 1/3
        stub = StubGenerator(hand_made_scores(), smooth_refined())
        self._run(self.image, hole, stub, hole_threshold=0.0)
        self.assertEqual(stub.calls[-1][1][0, 33, 1:5, 0].tolist(), [1.0] * 4)

    def test_stroke_below_the_threshold_is_filled_from_its_known_neighbours(self):
        # The same one-pixel row is 1/3 of its network pixels: no network hole at 0.5, but its
        # pixels are still filled, from the up-sampled mean of the known pixels around them
        # (the numpy reference), never left as they were.
        hole = np.zeros((190, 126), np.float32)
        hole[100, 3:9] = 1.0
        stub = StubGenerator(hand_made_scores(), smooth_refined())
        output = self._run(self.image, hole, stub, hole_threshold=0.5)
        self.assertEqual(stub.calls[-1][1].max(), 0.0)
        expected, _, _ = numpy_cra(self.image, hole, stub.scores, stub.refined,
                                   hole_threshold=0.5)
        self.assertLessEqual(np.abs(output.astype(int) - expected.astype(int)).max(), 1)
        noisy = self.image.copy()
        noisy[100, 3:9] = 255 - noisy[100, 3:9]
        self.assertAllEqual(self._run(noisy, hole, stub, hole_threshold=0.5), output)

    def test_poisson_seam_matches_the_exact_membrane_reference(self):
        stub = StubGenerator(hand_made_scores(), smooth_refined())
        output = self._run(self.image, self.hole, stub, seam="poisson")
        expected, _, _ = numpy_cra(self.image, self.hole, stub.scores, stub.refined,
                                   seam="poisson")
        pasted, _, _ = numpy_cra(self.image, self.hole, stub.scores, stub.refined)
        inside = self.hole > 0
        difference = np.abs(output[inside].astype(int) - expected[inside].astype(int))
        change = np.abs(pasted[inside].astype(int) - expected[inside].astype(int))
        # Pull-push + 8 Jacobi steps per level approximate the exact solve (measured: 1.4
        # grey levels on average here), more than 10 times closer than the paper's paste.
        self.assertLess(difference.mean(), 2.0)
        self.assertGreater(change.mean(), 10 * difference.mean())
        self.assertAllEqual(output[~inside], self.image[~inside])

    def test_poisson_seam_solved_on_blocks_stays_near_the_exact_membrane(self):
        # The hole's box is 192×128 px; a 48-px limit solves its membrane on 4×4-px blocks.
        stub = StubGenerator(hand_made_scores(), smooth_refined())
        full = self._run(self.image, self.hole, stub, seam="poisson")
        with mock.patch.object(cra, "MEMBRANE_MAX_SIDE", 48):
            blocks = self._run(self.image, self.hole, stub, seam="poisson")
        expected, _, _ = numpy_cra(self.image, self.hole, stub.scores, stub.refined,
                                   seam="poisson")
        inside = self.hole > 0
        difference = np.abs(blocks[inside].astype(int) - expected[inside].astype(int))
        # Measured: 2.6 grey levels on average (1.4 solved on pixels; the paste: 33.9).
        self.assertLess(difference.mean(), 3.0)
        self.assertGreater(np.abs(blocks[inside].astype(int) - full[inside]).max(), 0)
        self.assertAllEqual(blocks[~inside], self.image[~inside])

    def test_poisson_seam_meets_the_photo_along_the_hole_edge(self):
        # A smooth ramp, and a network that fills with a far-off grey: pasted, the fill jumps
        # at the hole's edge; with the Poisson seam it starts at the photo's values.
        rows, cols = np.mgrid[0:190, 0:126]
        image = np.stack([60 + rows * 0.5, 40 + cols, np.full_like(rows, 90.0)], -1)
        image = image.astype(np.uint8)
        stub = StubGenerator(hand_made_scores(), np.full((64, 64, 3), -0.9, np.float32))
        inside = self.hole > 0
        edge = inside & (cv2.dilate((~inside).astype(np.uint8), np.ones((3, 3))) > 0)
        # The photo's own value at the edge pixels is the ramp's: compare with it.
        jumps = {}
        for seam in cra.SEAMS:
            output = self._run(image, self.hole, stub, seam=seam)
            jumps[seam] = np.abs(output[edge].astype(int) - image[edge].astype(int)).mean()
        self.assertGreater(jumps["paste"], 10)
        self.assertLess(jumps["poisson"], 2)

    def test_poisson_feather_band_blends_the_corrected_fill_into_the_photo(self):
        # Same ramp and far-off network: the feather band outside the hole mixes the fill with
        # the photo, so it must take the membrane's continuation (close to the photo there),
        # not the uncorrected network output 80+ grey levels away (measured: 0.18 on average;
        # 38.6 with the correction cut off at the hole's edge).
        rows, cols = np.mgrid[0:190, 0:126]
        image = np.stack([60 + rows * 0.5, 40 + cols, np.full_like(rows, 90.0)], -1)
        image = image.astype(np.uint8)
        stub = StubGenerator(hand_made_scores(), np.full((64, 64, 3), -0.9, np.float32))
        output = cra.inpaint_image(image, self.hole[..., None], stub,
                                   cra.CRAConfig(geometry="tile", seam="poisson",
                                                 feather_px=3)).numpy()
        inside = self.hole > 0
        band = (cv2.dilate(inside.astype(np.uint8), np.ones((7, 7))) > 0) & ~inside
        error = np.abs(output[band].astype(int) - image[band].astype(int))
        self.assertGreater(band.sum(), 0)
        self.assertLess(error.mean(), 3.0)

    def test_full_mask_gives_a_defined_finite_result(self):
        hole = np.ones((190, 126), np.float32)
        stub = StubGenerator(hand_made_scores(), smooth_refined())
        output = self._run(self.image, hole, stub)
        expected, _, _ = numpy_cra(self.image, hole, stub.scores, stub.refined)
        self.assertLessEqual(np.abs(output.astype(int) - expected.astype(int)).max(), 1)


class GeometryTest(tf.test.TestCase):

    def _geometry(self, height, width, geometry):
        config = GeneratorConfig()
        return [int(v) for v in cra.working_geometry(height, width, config, geometry)[:5]]

    def test_tile_pads_only_to_a_multiple_of_the_grid(self):
        self.assertEqual(self._geometry(4000, 6000, "tile"), [4000, 6016, 32, 32, 0])

    def test_pad512_pads_to_multiples_of_the_network_input(self):
        self.assertEqual(self._geometry(4000, 6000, "pad512"), [4096, 6144, 32, 32, 0])

    def test_aspect_keeps_square_cells_with_a_32_by_k_grid(self):
        self.assertEqual(self._geometry(4000, 6000, "aspect"), [4000, 6000, 32, 48, 0])

    def test_small_photos_are_upsampled_first(self):
        self.assertEqual(self._geometry(300, 200, "tile"), [512, 512, 32, 32, 1])

    def test_raises_unknown_geometry(self):
        with self.assertRaisesRegex(ValueError, "geometry must be one of"):
            cra.CRAConfig(geometry="stretch")

    def test_raises_unknown_seam(self):
        with self.assertRaisesRegex(ValueError, "seam must be one of"):
            cra.CRAConfig(seam="blur")

    def test_raises_residual_blend_without_top_k_and_naming_the_fix(self):
        with self.assertRaisesRegex(ValueError, "residual_top_k"):
            cra.CRAConfig(residual_top_k=0, residual_blend=0.5)

    def test_raises_invalid_residual_options(self):
        for options in ({"residual_top_k": -1}, {"residual_top_k": True},
                        {"residual_candidates": 0}, {"residual_candidates": True},
                        {"residual_candidates": 2.0},
                        {"residual_sharpness": 0.0}, {"residual_blend": 1.5},
                        {"residual_scale": 3}, {"residual_scale": True},
                        {"residual_blend": True}, {"residual_sharpness": "2"}):
            with self.assertRaises(ValueError, msg=str(options)):
                cra.CRAConfig(**options)

    def test_raises_attention_scale_outside_its_range_naming_the_papers_value(self):
        for value in (0.0, -1.0, 1001.0, True, "20"):
            with self.assertRaisesRegex(ValueError, r"attention_scale must be None .*10 = the "
                                                    r"paper's", msg=repr(value)):
                cra.CRAConfig(attention_scale=value)
        self.assertIsNone(cra.CRAConfig().attention_scale)
        self.assertEqual(cra.CRAConfig(attention_scale=40).attention_scale, 40)

    def test_paper_preset_sets_every_option_to_the_papers_choice(self):
        paper = cra.CRAConfig.paper()
        self.assertEqual((paper.geometry, paper.hole_threshold, paper.seam, paper.feather_px,
                          paper.residual_top_k, paper.residual_sharpness, paper.residual_blend,
                          paper.residual_scale, paper.residual_candidates,
                          paper.attention_scale),
                         ("pad512", 0.0, "paste", 0, 0, 1.0, 0.0, 1, 1, 10.0))
        self.assertEqual(cra.CRAConfig.paper(seam="poisson").seam, "poisson")

    def test_raises_hole_threshold_outside_zero_to_one(self):
        for value in (-0.1, 1.5, "0.5", True):
            with self.assertRaisesRegex(ValueError, r"hole_threshold must be a number in \[0, 1\]"):
                cra.CRAConfig(hole_threshold=value)


class InpaintTest(tf.test.TestCase):
    """End to end through ``crainpaint.inpaint`` with a small real generator."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        keras.utils.set_random_seed(0)
        cls.generator = Generator(SMALL).build_for_size()

    def _mask(self, height, width):
        mask = np.zeros((height, width), np.uint8)
        mask[height // 4:height // 2, width // 3:width // 2] = 255
        return mask

    def test_pixels_outside_the_hole_are_bit_identical_for_every_geometry(self):
        for height, width in ((150, 230), (40, 30), (130, 64)):
            image = photo_like(height, width, seed=height)
            mask = self._mask(height, width)
            for geometry in cra.GEOMETRIES:
                output = crainpaint.inpaint(image, mask, self.generator, geometry=geometry)
                self.assertEqual(output.dtype, np.uint8)
                self.assertAllEqual(output[mask == 0], image[mask == 0])
                self.assertFalse(np.array_equal(output[mask > 0], image[mask > 0]))

    def test_default_transplant_carries_the_context_texture_into_the_hole(self):
        # A photo-sized texture far finer than the network's pixels: the paper's Eq. 4 averages
        # many sources' residuals into near-nothing; the default top-1 transplant keeps most of
        # the detail (the ground truth under the hole has the same texture).
        rng = np.random.default_rng(5)
        texture = cv2.GaussianBlur(rng.normal(0, 30, (600, 800)), (0, 0), 1.5)
        image = np.clip(128 + texture, 0, 255).astype(np.uint8)[..., None].repeat(3, -1)
        hole = np.zeros((600, 800), bool)
        hole[170:280, 180:300] = True  # inside one 150×160 cell of the 4×5 grid
        default = crainpaint.inpaint(image, hole, self.generator)
        paper = crainpaint.inpaint(image, hole, self.generator, config=cra.CRAConfig.paper())
        default_energy = texture_energy_ratio(default, image, hole)
        paper_energy = texture_energy_ratio(paper, image, hole)
        self.assertGreater(default_energy, 0.6)
        self.assertLess(paper_energy, 0.5 * default_energy)

    def test_noise_under_the_hole_leaves_the_output_bit_identical(self):
        image = photo_like(150, 230)
        mask = self._mask(150, 230)
        noisy = image.copy()
        noisy[mask > 0] = np.random.default_rng(3).integers(0, 256, noisy[mask > 0].shape)
        self.assertAllEqual(crainpaint.inpaint(image, mask, self.generator),
                            crainpaint.inpaint(noisy, mask, self.generator))

    def test_stroke_thinner_than_a_network_pixel_is_filled_from_its_surroundings(self):
        # One pixel wide: no network pixel is all hole, so the network sees no hole at the
        # default threshold, and the stroke is filled from the known pixels around it.
        image = np.full((150, 230, 3), 90, np.uint8)
        image[:, 115:] = 200
        mask = np.zeros((150, 230), np.uint8)
        mask[40, 20:210] = 255
        noisy = image.copy()
        noisy[40, 20:210] = [255, 0, 255]
        output = crainpaint.inpaint(noisy, mask, self.generator)
        self.assertAllEqual(output[mask == 0], image[mask == 0])
        # Far from the step between the two grey levels, the fill is that level (give or take
        # the residuals that the attention aggregates from cells holding the step).
        for columns in (slice(20, 100), slice(130, 210)):
            error = np.abs(output[40, columns].astype(int) - image[40, columns])
            self.assertLessEqual(error.max(), 4)
            self.assertLess(error.mean(), 1.0)

    def test_empty_mask_returns_the_input(self):
        image = photo_like(50, 70)
        with self.assertWarnsRegex(MaskWarning, "no hole pixels"):
            result = crainpaint.inpaint(image, np.zeros((50, 70), np.uint8), self.generator)
        self.assertAllEqual(result, image)

    def test_pure_red_image_stays_red_outside_the_hole(self):
        image = np.zeros((80, 90, 3), np.uint8)
        image[..., 0] = 255
        mask = self._mask(80, 90)
        output = crainpaint.inpaint(image, mask, self.generator)
        self.assertTrue(np.all(output[mask == 0] == [255, 0, 0]))

    def test_sixteen_bit_input_keeps_every_sample_outside_the_hole(self):
        image = (photo_like(60, 80).astype(np.uint16) * 257 + 3)
        mask = self._mask(60, 80)
        output = crainpaint.inpaint(image, mask, self.generator)
        self.assertEqual(output.dtype, np.uint16)
        self.assertAllEqual(output[mask == 0], image[mask == 0])

    def test_black_hole_convention_inverts_the_mask(self):
        image = photo_like(60, 80)
        mask = self._mask(60, 80)
        output = crainpaint.inpaint(image, 255 - mask, self.generator,
                                    mask_convention="black_hole")
        self.assertAllEqual(output[mask == 0], image[mask == 0])
        self.assertFalse(np.array_equal(output[mask > 0], image[mask > 0]))

    def test_feather_blends_only_outward_into_a_band_of_context(self):
        image = photo_like(150, 230)
        mask = self._mask(150, 230)
        hard = crainpaint.inpaint(image, mask, self.generator)
        soft = crainpaint.inpaint(image, mask, self.generator, feather_px=4)
        hole = mask > 0
        self.assertAllEqual(soft[hole], hard[hole])
        distance = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_C, 3)
        far = distance > 4
        self.assertAllEqual(soft[far], image[far])
        band = (distance > 0) & (distance <= 4)
        self.assertFalse(np.array_equal(soft[band], image[band]))

    def test_raises_size_mismatch_naming_both_sizes(self):
        with self.assertRaisesRegex(ValueError, "mask is 40×30 but image is 70×50"):
            crainpaint.inpaint(photo_like(50, 70), np.zeros((30, 40), np.uint8), self.generator)

    def test_raises_on_non_rgb_or_float_images(self):
        with self.assertRaisesRegex(ValueError, r"RGB \[H, W, 3\]"):
            crainpaint.inpaint(np.zeros((5, 5), np.uint8), np.zeros((5, 5)), self.generator)
        with self.assertRaisesRegex(ValueError, "uint8 or uint16"):
            crainpaint.inpaint(np.zeros((5, 5, 3), np.float32), np.zeros((5, 5)),
                               self.generator)
