"""Tests for crainpaint.evaluation.texture: the texture statistics of a fill.

References are independent of the code under test: the Laplacian and the regions through
scipy.ndimage, the 1-D Wasserstein distance through scipy.stats, the pyramid through its exact
reconstruction. The sliced Wasserstein distance has no closed form on images, so its tests pin
down orderings that define what it is for: exact < blurry, and a real texture copied from
elsewhere < a blurry fill with white noise of the ground truth's Laplacian energy (which fools
the energy ratio). Images are synthetic and at most 160×240 px: the file runs in seconds.
"""

import math

import cv2
import numpy as np
import tensorflow as tf
from scipy import ndimage, stats

from crainpaint.evaluation import texture

_HOLE = (slice(56, 104), slice(56, 104))


def _grain(seed, height=160, width=160):
    """A stationary, anisotropic "wood grain" texture: white noise blurred σ = (0.7, 3) px.

    Its 7×7 neighbourhoods are strongly correlated along x, which white noise is not.
    """
    noise = np.random.default_rng(seed).standard_normal((height, width)).astype(np.float32)
    grain = cv2.GaussianBlur(noise, (0, 0), sigmaX=3.0, sigmaY=0.7)
    grain /= grain.std()
    rgb = 128.0 + 40.0 * grain[..., np.newaxis] * np.array([1.0, 0.8, 0.6], np.float32)
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def _hole(height=160, width=160):
    hole = np.zeros((height, width), bool)
    hole[_HOLE] = True
    return hole


def _composite(target, fill, hole):
    """``fill`` inside the hole, ``target`` outside, rounded to uint8."""
    fill = np.clip(np.round(np.asarray(fill, np.float64)), 0, 255)
    return np.where(hole[..., np.newaxis], fill, target).astype(np.uint8)


def _reference_magnitude(image):
    """scipy: luma, Gaussian σ = 0.8 truncated at 4σ (7 taps), 4-neighbour Laplacian, mirror."""
    grey = np.asarray(image, np.float64) @ np.array([0.299, 0.587, 0.114])
    blurred = ndimage.gaussian_filter(grey, 0.8, mode="mirror", truncate=4.0)
    return np.abs(ndimage.laplace(blurred, mode="mirror"))


def _reference_regions(hole):
    """(core, ring) with scipy morphology: margin = max(round(1 % of the short side), 4)."""
    margin = max(round(0.01 * min(hole.shape)), 4)
    core = ndimage.binary_erosion(hole, np.ones((2 * margin + 1,) * 2), border_value=1)
    near = ndimage.binary_dilation(hole, np.ones((2 * margin + 1,) * 2))
    far = ndimage.binary_dilation(hole, np.ones((6 * margin + 1,) * 2))
    return core, far & ~near


def _noise_with_matched_energy(target, blurry, hole):
    """The blurry composite plus white noise scaled (bisection) to the target's energy."""
    noise = np.random.default_rng(1).standard_normal(target.shape)
    low, high = 0.0, 128.0
    for _ in range(30):
        amplitude = (low + high) / 2.0
        noisy = _composite(target, blurry + amplitude * noise, hole)
        if texture.texture_energy_ratio(noisy, target, hole) < 1.0:
            low = amplitude
        else:
            high = amplitude
    return noisy


class LaplacianMagnitudeTest(tf.test.TestCase):

    def test_matches_scipy_gaussian_then_laplace(self):
        image = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
        magnitude = texture.laplacian_magnitude(image)
        self.assertEqual(magnitude.dtype, np.float32)
        self.assertEqual(magnitude.shape, (37, 53))
        self.assertAllClose(magnitude, _reference_magnitude(image), atol=2e-3, rtol=1e-5)

    def test_grey_input_is_used_as_it_is(self):
        grey = np.random.default_rng(1).integers(0, 256, (20, 30), dtype=np.uint8)
        rgb = np.repeat(grey[..., np.newaxis], 3, axis=-1)
        self.assertAllClose(texture.laplacian_magnitude(grey), texture.laplacian_magnitude(rgb),
                            atol=1e-3)
        self.assertAllClose(texture.laplacian_magnitude(grey[..., np.newaxis]),
                            texture.laplacian_magnitude(grey))

    def test_a_linear_ramp_has_no_laplacian(self):
        rows, columns = np.mgrid[0:24, 0:24]
        ramp = (3.0 * rows + 2.0 * columns).astype(np.float32)
        # Inside the reflected border, a plane's second derivatives are 0.
        self.assertAllClose(texture.laplacian_magnitude(ramp)[5:-5, 5:-5],
                            np.zeros((14, 14)), atol=1e-3)

    def test_raises_on_a_four_channel_image(self):
        with self.assertRaisesRegex(ValueError, r"RGB \[H, W, 3\] or grey"):
            texture.laplacian_magnitude(np.zeros((8, 8, 4), np.uint8))


class TextureRatioTest(tf.test.TestCase):

    def test_matches_the_scipy_regions_and_laplacian(self):
        # Not square, hole touching the left border: pins the margin (1 % of the short side,
        # at least 4 px), the ring (up to 3 margins away) and the border handling.
        image = _grain(2, 120, 240)
        hole = np.zeros((120, 240), bool)
        hole[30:90, :70] = True
        hole[50:60, 70:110] = True
        core, ring = _reference_regions(hole)
        magnitude = _reference_magnitude(image)
        expected = magnitude[core].mean() / magnitude[ring].mean()
        self.assertAllClose(texture.texture_ratio(image, hole), expected, rtol=1e-4)
        self.assertAllClose(texture.texture_ratio(image, hole[..., np.newaxis]), expected,
                            rtol=1e-4)

    def test_margin_grows_with_the_image(self):
        # 1 % of a 1000-px short side is 10 px: a 19-px-wide hole has an empty core, a 21-px
        # one a single column.
        hole = np.zeros((1000, 1000), bool)
        hole[400:600, 400:419] = True
        self.assertFalse(texture._hole_core(hole).any())
        hole[400:600, 419:421] = True
        self.assertEqual(texture._hole_core(hole).sum(axis=0).nonzero()[0].tolist(), [410])

    def test_stationary_texture_scores_about_one(self):
        hole = _hole()
        for seed in range(3):
            self.assertAllClose(texture.texture_ratio(_grain(seed), hole), 1.0, atol=0.1,
                                msg=seed)

    def test_constant_fill_scores_zero(self):
        target, hole = _grain(0), _hole()
        flat = _composite(target, np.full(target.shape, 128.0), hole)
        self.assertEqual(texture.texture_ratio(flat, hole), 0.0)

    def test_empty_core_ring_or_flat_context_is_nan(self):
        image = _grain(0)
        thin = np.zeros((160, 160), bool)
        thin[40:120, 60:68] = True  # 8 px wide: no pixel is 5 px from the context
        everything = np.ones((160, 160), bool)
        flat = np.full((160, 160, 3), 90, np.uint8)
        self.assertTrue(math.isnan(texture.texture_ratio(image, thin)))
        self.assertTrue(math.isnan(texture.texture_ratio(image, everything)))
        self.assertTrue(math.isnan(texture.texture_ratio(image, np.zeros((160, 160), bool))))
        self.assertTrue(math.isnan(texture.texture_ratio(flat, _hole())))

    def test_raises_on_a_hole_of_another_size(self):
        with self.assertRaisesRegex(ValueError, "The hole is"):
            texture.texture_ratio(_grain(0), np.zeros((10, 10), bool))


class TextureEnergyRatioTest(tf.test.TestCase):

    def test_half_contrast_fill_scores_one_half(self):
        target, hole = _grain(0), _hole()
        target_float = target.astype(np.float32)
        half = np.where(hole[..., np.newaxis], 64.0 + 0.5 * target_float, target_float)
        # The core reads only hole pixels and the Laplacian is linear: exactly 1/2.
        self.assertAllClose(texture.texture_energy_ratio(half, target_float, hole), 0.5,
                            rtol=1e-5)
        # In uint8 the rounding adds a little energy.
        self.assertAllClose(texture.texture_energy_ratio(_composite(target, half, hole), target,
                                                         hole), 0.5, atol=0.03)

    def test_matches_scipy_means_over_the_core(self):
        target, hole = _grain(0), _hole()
        composite = _composite(target, cv2.GaussianBlur(target, (0, 0), 2.0), hole)
        core, _ = _reference_regions(hole)
        expected = (_reference_magnitude(composite)[core].mean()
                    / _reference_magnitude(target)[core].mean())
        self.assertAllClose(texture.texture_energy_ratio(composite, target, hole), expected,
                            rtol=1e-4)
        self.assertLess(expected, 0.5)

    def test_exact_fill_scores_one_and_an_empty_core_is_nan(self):
        target = _grain(0)
        self.assertAllClose(texture.texture_energy_ratio(target, target, _hole()), 1.0)
        thin = np.zeros((160, 160), bool)
        thin[40:120, 60:68] = True
        self.assertTrue(math.isnan(texture.texture_energy_ratio(target, target, thin)))

    def test_raises_on_images_of_different_shapes(self):
        with self.assertRaisesRegex(ValueError, "differ in shape"):
            texture.texture_energy_ratio(_grain(0), _grain(0, 80, 80), _hole())


class LaplacianPyramidTest(tf.test.TestCase):

    def test_levels_reconstruct_the_image(self):
        image = np.random.default_rng(3).uniform(0, 255, (45, 70, 3)).astype(np.float32)
        bands = texture._laplacian_pyramid(image, 3)
        self.assertEqual([band.shape for band in bands],
                         [(45, 70, 3), (23, 35, 3), (12, 18, 3), (6, 9, 3)])
        reconstruction = bands[-1]
        for band in reversed(bands[:-1]):
            height, width = band.shape[:2]
            reconstruction = band + cv2.pyrUp(reconstruction, dstsize=(width, height))
        self.assertAllClose(reconstruction, image, atol=1e-3)

    def test_levels_stop_when_the_hole_gets_small(self):
        # 48² hole: 576 px at level 1, 144 at level 2, 36 (< 64) at level 3.
        self.assertLen(texture._level_holes(_hole()), 3)
        big = np.ones((1024, 1024), bool)
        self.assertLen(texture._level_holes(big), texture.SWD_MAX_LEVELS + 1)


class SlicedWassersteinTest(tf.test.TestCase):

    def test_each_direction_is_scipys_one_dimensional_wasserstein_distance(self):
        random = np.random.default_rng(4)
        first = random.normal(size=(50, 6)).astype(np.float32)
        second = random.normal(0.5, 2.0, size=(50, 6)).astype(np.float32)
        directions = random.normal(size=(6, 5))
        directions = (directions / np.linalg.norm(directions, axis=0)).astype(np.float32)
        expected = np.mean([stats.wasserstein_distance(first @ direction, second @ direction)
                            for direction in directions.T])
        self.assertAllClose(texture._sliced_wasserstein(first, second, directions), expected,
                            rtol=1e-5)


class LaplacianSwdTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.target, self.hole = _grain(0), _hole()
        self.blurry = cv2.GaussianBlur(self.target, (0, 0), 4.0).astype(np.float64)

    def swd(self, fill, seed=0):
        return texture.laplacian_swd(_composite(self.target, fill, self.hole), self.target,
                                     self.hole, seed=seed)

    def test_identical_images_score_zero(self):
        self.assertEqual(self.swd(self.target), 0.0)

    def test_blurry_fill_scores_worse_than_an_exact_one(self):
        self.assertGreater(self.swd(self.blurry), 100.0)

    def test_copied_texture_beats_blur_plus_noise_of_matched_energy(self):
        # A real texture from elsewhere in the photo (the hole's pixels are not the truth's).
        copied = np.roll(self.target, 80, axis=1)
        noisy = _noise_with_matched_energy(self.target, self.blurry, self.hole)
        # The energy ratio cannot tell them apart (it is fooled by the noise)...
        self.assertAllClose(texture.texture_energy_ratio(noisy, self.target, self.hole), 1.0,
                            atol=0.01)
        # ... the patch distribution can: the noise is no better than the blur alone.
        copied_swd = texture.laplacian_swd(_composite(self.target, copied, self.hole),
                                           self.target, self.hole)
        noisy_swd = texture.laplacian_swd(noisy, self.target, self.hole)
        self.assertLess(copied_swd, 0.5 * noisy_swd)
        self.assertGreater(noisy_swd, 0.9 * self.swd(self.blurry))

    def test_missing_contrast_is_measured_against_the_truths_statistics(self):
        # Normalising each set by its own statistics would make a lower-contrast copy of the
        # truth almost free; with the truth's statistics it costs in proportion.
        mean = self.target[self.hole].mean(axis=0)
        half = mean + 0.5 * (self.target - mean)
        slight = mean + 0.9 * (self.target - mean)
        self.assertGreater(self.swd(half), 0.5 * self.swd(self.blurry))
        self.assertGreater(self.swd(half), 3.0 * self.swd(slight))
        self.assertGreater(self.swd(slight), 0.0)

    def test_same_seed_same_distance_other_seed_close(self):
        first, again = self.swd(self.blurry, seed=7), self.swd(self.blurry, seed=7)
        other = self.swd(self.blurry, seed=8)
        self.assertEqual(first, again)
        self.assertNotEqual(first, other)
        self.assertAllClose(first, other, rtol=0.1)

    def test_position_subsampling_is_seeded(self):
        composite = _composite(self.target, self.blurry, self.hole)
        few = [texture.laplacian_swd(composite, self.target, self.hole, seed=seed,
                                     max_positions=100) for seed in (1, 1, 2)]
        self.assertEqual(few[0], few[1])
        self.assertNotEqual(few[0], few[2])

    def test_accepts_grey_images_and_a_hole_with_a_channel_axis(self):
        composite = _composite(self.target, self.blurry, self.hole)
        self.assertEqual(
            texture.laplacian_swd(composite, self.target, self.hole[..., np.newaxis]),
            texture.laplacian_swd(composite, self.target, self.hole))
        grey = texture.laplacian_swd(composite[..., 0], self.target[..., 0], self.hole)
        self.assertGreater(grey, 100.0)

    def test_empty_hole_is_nan_and_shapes_must_match(self):
        empty = np.zeros((160, 160), bool)
        self.assertTrue(math.isnan(texture.laplacian_swd(self.target, self.target, empty)))
        with self.assertRaisesRegex(ValueError, "differ in shape"):
            texture.laplacian_swd(self.target, self.target[..., 0], self.hole)


if __name__ == "__main__":
    tf.test.main()
