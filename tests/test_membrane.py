"""The membrane interpolation behind the Poisson seam, against an exact Laplace solve."""

import cv2
import numpy as np
import tensorflow as tf

from crainpaint import membrane
from tests import reference


def blob_hole(height=72, width=90, seed=0):
    """A free-form hole (union of discs) away from the border, bool [H, W]."""
    rng = np.random.default_rng(seed)
    hole = np.zeros((height, width), np.uint8)
    for _ in range(4):
        centre = (int(rng.integers(25, width - 25)), int(rng.integers(20, height - 20)))
        cv2.circle(hole, centre, int(rng.integers(8, 16)), 1, -1)
    return hole.astype(bool)


def ring_values(hole, seed=1):
    """Smooth values (2 channels) on the known pixels touching ``hole``, zero elsewhere."""
    rng = np.random.default_rng(seed)
    height, width = hole.shape
    smooth = cv2.resize(rng.normal(0, 10, (4, 5, 2)).astype(np.float32), (width, height),
                        interpolation=cv2.INTER_CUBIC).astype(np.float64)
    ring = membrane.boundary_ring(tf.constant(hole)).numpy()
    return smooth * ring[..., None], ring


class BoundaryRingTest(tf.test.TestCase):

    def test_ring_is_the_known_pixels_8_adjacent_to_the_hole(self):
        hole = np.zeros((6, 7), bool)
        hole[2:4, 3] = True
        expected = np.zeros((6, 7), bool)
        expected[1:5, 2:5] = True
        expected[2:4, 3] = False
        self.assertAllEqual(membrane.boundary_ring(tf.constant(hole)), expected)


class MembraneInterpolationTest(tf.test.TestCase):

    def test_constant_on_the_pinned_pixels_gives_that_constant_everywhere(self):
        hole = blob_hole()
        values, ring = ring_values(hole)
        values = np.where(ring[..., None], np.array([3.5, -7.0]), 0.0)
        output = membrane.membrane_interpolation(values, ring.astype(np.float32)).numpy()
        self.assertAllClose(output, np.broadcast_to([3.5, -7.0], output.shape), atol=1e-4)

    def test_pinned_pixels_keep_their_values(self):
        hole = blob_hole(seed=2)
        values, ring = ring_values(hole, seed=3)
        output = membrane.membrane_interpolation(values, ring.astype(np.float32)).numpy()
        self.assertAllClose(output[ring], values[ring], atol=1e-4)

    def test_close_to_the_exact_solution_of_laplaces_equation_in_the_hole(self):
        hole = blob_hole(seed=4)
        values, ring = ring_values(hole, seed=5)
        # The exact harmonic function inside the hole with the ring's values on its boundary.
        exact = reference.harmonic_fill(hole, values)
        output = membrane.membrane_interpolation(values, ring.astype(np.float32)).numpy()
        error = np.abs(output[hole] - exact[hole])
        scale = np.abs(exact[hole]).mean()
        self.assertGreater(scale, 2.0)  # a case where the answer is far from zero
        self.assertLess(error.mean(), 0.05 * scale)
        # Right next to the boundary the membrane follows the ring closely.
        next_to_ring = hole & (cv2.dilate(ring.astype(np.uint8), np.ones((3, 3))) > 0)
        self.assertLess(np.abs(output[next_to_ring] - exact[next_to_ring]).mean(),
                        0.05 * scale)
        # A field that ignored the boundary (zero) would be far off: the check can fail.
        self.assertGreater(np.abs(exact[hole]).mean(), 10 * error.mean())

    def test_no_pinned_pixel_gives_zero(self):
        output = membrane.membrane_interpolation(np.ones((9, 11, 3)), np.zeros((9, 11)))
        self.assertAllEqual(output, np.zeros((9, 11, 3)))

    def test_levels_that_reach_one_pixel_equal_the_full_pyramid(self):
        # The 72×90 field halves to 1×1 in 7 steps: 8 levels (1 + ⌈log2 90⌉, as the CRA
        # passes) hold the whole pyramid; 3 stop at 18×23 and give a different field.
        hole = blob_hole(seed=6)
        values, ring = ring_values(hole, seed=7)
        weights = ring.astype(np.float32)
        full = membrane.membrane_interpolation(values, weights).numpy()
        self.assertAllClose(membrane.membrane_interpolation(values, weights, levels=8), full,
                            atol=1e-5)
        self.assertGreater(np.abs(
            membrane.membrane_interpolation(values, weights, levels=3).numpy() - full).max(),
            1e-3)
