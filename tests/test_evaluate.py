"""Tests for the evaluation library (crainpaint.evaluation: methods, metrics, inception, cases,
runner and the tables of report): the metrics against independent references (scipy, closed forms,
hand-computed cases), the hard-paste guarantee, the generated mask bins, the Fig. 6 "plain
up-sampling" method against a direct computation, the per-bin summary and paired comparisons on
hand-computed samples, and one end-to-end run with a tiny generator on two generated 160×120
photos. The texture metrics themselves are tested in test_texture_metrics.py; here, that every
method gets them.
"""

import io
import json
import math
import os
import tempfile

import cv2
import numpy as np
import tensorflow as tf
from scipy import linalg

import crainpaint
from crainpaint import cra
from crainpaint.evaluation import cases, inception, methods, metrics, report, runner, texture
from crainpaint.models import Generator, GeneratorConfig
from crainpaint.pretrained import save_generator_weights

_TINY_CONFIG = dict(input_size=64, attention_grid=4, width_multiplier=0.25)
_HEIGHT, _WIDTH = 120, 160
_GENERATOR = []


def _tiny_generator():
    """One tiny generator per test process (building one takes seconds)."""
    if not _GENERATOR:
        _GENERATOR.append(Generator(GeneratorConfig(**_TINY_CONFIG)).build_for_size())
    return _GENERATOR[0]


def _photo(seed, height=_HEIGHT, width=_WIDTH):
    """A smooth colour gradient with a little noise: easy for the OpenCV baselines."""
    rows, columns = np.mgrid[0:height, 0:width]
    image = np.stack([columns * 1.5 + 40 * seed, rows * 2.0, (rows + columns) * 0.8], -1)
    noise = np.random.default_rng(seed).integers(-8, 9, image.shape)
    return np.clip(image % 256 + noise, 0, 255).astype(np.uint8)


def _square_hole(height=_HEIGHT, width=_WIDTH):
    hole = np.zeros((height, width), bool)
    hole[30:70, 40:100] = True
    return hole


class FrechetDistanceTest(tf.test.TestCase):

    def test_matches_closed_form_for_diagonal_gaussians(self):
        random = np.random.default_rng(0)
        mean1, mean2 = random.normal(size=6), random.normal(size=6)
        variance1, variance2 = random.uniform(0.1, 3.0, 6), random.uniform(0.1, 3.0, 6)
        expected = (np.sum((mean1 - mean2) ** 2)
                    + np.sum(variance1 + variance2 - 2.0 * np.sqrt(variance1 * variance2)))
        actual = inception.frechet_distance(mean1, np.diag(variance1), mean2, np.diag(variance2))
        self.assertAllClose(actual, expected, rtol=1e-9, atol=1e-9)

    def test_matches_direct_sqrtm_formula_for_random_covariances(self):
        random = np.random.default_rng(1)
        dimension = 8
        factor1 = random.normal(size=(dimension, dimension))
        factor2 = random.normal(size=(dimension, dimension))
        covariance1 = factor1 @ factor1.T + 0.1 * np.eye(dimension)
        covariance2 = factor2 @ factor2.T + 0.1 * np.eye(dimension)
        mean1, mean2 = random.normal(size=dimension), random.normal(size=dimension)
        root = linalg.sqrtm(covariance1 @ covariance2)
        expected = (np.sum((mean1 - mean2) ** 2) + np.trace(covariance1) + np.trace(covariance2)
                    - 2.0 * np.trace(np.real(root)))
        actual = inception.frechet_distance(mean1, covariance1, mean2, covariance2)
        self.assertAllClose(actual, expected, rtol=1e-8)

    def test_identical_statistics_give_zero_even_when_singular(self):
        # Fewer samples than features: a rank-deficient covariance, as in a small FID run.
        features = np.random.default_rng(2).normal(size=(5, 16))
        mean, covariance = inception.gaussian_statistics(features)
        self.assertEqual(np.linalg.matrix_rank(covariance), 4)
        distance = inception.frechet_distance(mean, covariance, mean, covariance)
        self.assertTrue(math.isfinite(distance))
        self.assertAllClose(distance, 0.0, atol=1e-4)

    def test_features_with_many_samples_use_the_sqrtm_formula(self):
        random = np.random.default_rng(3)
        features1 = random.normal(size=(40, 5))
        features2 = random.normal(1.0, 2.0, size=(30, 5)) @ random.normal(size=(5, 5))
        expected = inception.frechet_distance(*inception.gaussian_statistics(features1),
                                             *inception.gaussian_statistics(features2))
        self.assertAllClose(inception.frechet_distance_from_features(features1, features2),
                            expected, rtol=1e-9)

    def test_low_rank_features_match_the_eigenvalue_formula(self):
        # Fewer samples than features (the usual small FID run): Tr (Σ1 Σ2)^½ is the sum of the
        # square roots of the (real, non-negative) eigenvalues of Σ1 Σ2.
        random = np.random.default_rng(4)
        for count1, count2 in ((5, 7), (9, 3), (12, 12)):
            features1 = random.normal(size=(count1, 16))
            features2 = random.normal(0.5, 1.5, size=(count2, 16))
            mean1, covariance1 = inception.gaussian_statistics(features1)
            mean2, covariance2 = inception.gaussian_statistics(features2)
            eigenvalues = np.linalg.eigvals(covariance1 @ covariance2).real
            expected = (np.sum((mean1 - mean2) ** 2) + np.trace(covariance1)
                        + np.trace(covariance2)
                        - 2.0 * np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None))))
            actual = inception.frechet_distance_from_features(features1, features2)
            self.assertAllClose(actual, expected, rtol=1e-6, msg=(count1, count2))
            self.assertAllClose(inception.frechet_distance_from_features(features1, features1),
                                0.0, atol=1e-9)

    def test_raises_on_mismatched_statistics(self):
        with self.assertRaisesRegex(ValueError, "Mismatched"):
            inception.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


class InceptionScoreTest(tf.test.TestCase):

    def test_uniform_predictions_score_one(self):
        self.assertAllClose(inception.inception_score(np.zeros((10, 7))), 1.0)

    def test_confident_distinct_predictions_score_the_class_count(self):
        logits = np.full((4, 4), -1e4) + np.eye(4) * 2e4
        self.assertAllClose(inception.inception_score(logits), 4.0, rtol=1e-6)
        # Two splits of two confident classes each: 2 per split.
        self.assertAllClose(inception.inception_score(logits, splits=2), 2.0, rtol=1e-6)


class PixelMetricsTest(tf.test.TestCase):

    def test_in_hole_l1_and_psnr_on_a_hand_computed_case(self):
        target = np.full((2, 2, 3), 100, np.uint8)
        composite = target.copy()
        composite[0, 0] = (110, 90, 100)  # |Δ| = 10, 10, 0 in the first hole pixel
        composite[0, 1] = (100, 100, 130)  # |Δ| = 0, 0, 30 in the second
        hole = np.array([[True, True], [False, False]])
        # L1 over 2 hole pixels × 3 channels: (10 + 10 + 0 + 0 + 0 + 30) / 6.
        self.assertAllClose(metrics.in_hole_l1(composite, target, hole), 50.0 / 6.0)
        # MSE over all 4 pixels × 3 channels: (100 + 100 + 900) / 12.
        expected_psnr = 10.0 * math.log10(255.0 ** 2 / (1100.0 / 12.0))
        self.assertAllClose(metrics.psnr(composite, target), expected_psnr)
        self.assertEqual(metrics.psnr(target, target), math.inf)

    def test_in_hole_l1_raises_without_a_hole(self):
        image = np.zeros((4, 4, 3), np.uint8)
        with self.assertRaisesRegex(ValueError, "hole pixel"):
            metrics.in_hole_l1(image, image, np.zeros((4, 4), bool))

    def test_ms_ssim_uses_fewer_renormalised_scales_on_small_images(self):
        self.assertEqual(metrics.ms_ssim_power_factors(512, 512),
                         metrics.MS_SSIM_POWER_FACTORS)
        self.assertLen(metrics.ms_ssim_power_factors(161, 400), 5)
        # 120 → 60 → 30 → 15 (≥ 11) → 8 (< 11): four scales.
        factors = metrics.ms_ssim_power_factors(_HEIGHT, _WIDTH)
        self.assertLen(factors, 4)
        self.assertAllClose(sum(factors), 1.0)
        self.assertEqual(metrics.ms_ssim_power_factors(10, 100), ())
        image = _photo(0)
        self.assertAllClose(metrics.ms_ssim(image, image), 1.0, atol=1e-5)
        self.assertTrue(math.isnan(metrics.ms_ssim(image[:10], image[:10])))


class HardPasteTest(tf.test.TestCase):

    def test_garbage_outside_the_hole_does_not_change_any_score(self):
        target, hole = _photo(0), _square_hole()
        fill = np.random.default_rng(3).integers(0, 256, target.shape, dtype=np.uint8)
        clean = methods.Method("clean", lambda known, _: np.where(
            hole[..., None], fill, known).astype(np.uint8))
        garbage = methods.Method("garbage", lambda known, _: np.where(
            hole[..., None], fill, 255 - target).astype(np.uint8))
        results, composites = methods.evaluate_sample([clean, garbage], target, hole)
        self.assertAllEqual(composites["clean"], composites["garbage"])
        self.assertAllEqual(composites["garbage"][~hole], target[~hole])
        for metric in ("l1", "psnr", "ms_ssim"):
            self.assertEqual(results["clean"][metric], results["garbage"][metric])

    def test_a_method_is_given_only_the_image_with_the_hole_zeroed(self):
        target, hole = _photo(1), _square_hole()
        self.assertTrue(np.all(target[hole] > 0))
        seen = []

        def spy(known, given_hole):
            seen.append((known.copy(), given_hole.copy(), known.flags.writeable))
            return known.copy()  # the best a method can do: return what it was given

        results, composites = methods.evaluate_sample(
            [methods.Method("spy", spy)], target, hole)
        known, given_hole, writeable = seen[0]
        self.assertAllEqual(given_hole, hole)
        self.assertAllEqual(known[hole], np.zeros_like(target[hole]))
        self.assertAllEqual(known[~hole], target[~hole])
        self.assertFalse(writeable)
        # Returning the input scores as a black fill, never as the ground truth.
        self.assertAllEqual(composites["spy"][hole], np.zeros_like(target[hole]))
        self.assertAllClose(results["spy"]["l1"], target[hole].astype(np.float64).mean())

    def test_wrong_output_shape_or_dtype_is_an_error(self):
        target, hole = _photo(0), _square_hole()
        wrong = methods.Method("wrong", lambda known, _: known.astype(np.float32))
        with self.assertRaisesRegex(ValueError, "expected uint8"):
            methods.evaluate_sample([wrong], target, hole)

    def test_methods_over_the_pixel_cap_are_reported_as_skipped(self):
        target, hole = _photo(0), _square_hole()
        capped = methods.Method("capped", lambda known, _: known.copy(),
                                 max_pixels=_HEIGHT * _WIDTH - 1)
        results, composites = methods.evaluate_sample([capped], target, hole)
        self.assertIn("Mpx", results["capped"]["skipped"])
        self.assertNotIn("capped", composites)


class TextureScoreTest(tf.test.TestCase):

    def test_every_method_is_scored_with_the_texture_metrics(self):
        target, hole = _photo(0), _square_hole()
        blurred = cv2.GaussianBlur(target, (0, 0), 3.0)
        fills = [methods.Method("exact", lambda known, _: target.copy()),
                 methods.Method("blur", lambda known, _: blurred.copy())]
        results, composites = methods.evaluate_sample(fills, target, hole)
        for name, composite in composites.items():
            self.assertEqual(results[name]["texture_ratio"],
                             texture.texture_ratio(composite, hole), msg=name)
            self.assertEqual(results[name]["texture_energy"],
                             texture.texture_energy_ratio(composite, target, hole), msg=name)
            self.assertEqual(results[name]["swd"],
                             texture.laplacian_swd(composite, target, hole,
                                                   seed=metrics.SWD_SEED), msg=name)
        self.assertEqual(results["exact"]["swd"], 0.0)
        self.assertEqual(results["exact"]["texture_energy"], 1.0)
        self.assertGreater(results["blur"]["swd"], 0.0)
        self.assertLess(results["blur"]["texture_energy"], 0.5)


class MaskTest(tf.test.TestCase):

    def test_generated_masks_fall_into_their_bin(self):
        for bin_index, (name, low, high) in enumerate(cases.GENERATED_BINS):
            square, seed = cases.generated_mask("photo", bin_index, 0, seed=7, size=128)
            fraction = square.mean()
            self.assertBetween(fraction, max(low, cases.MIN_GENERATED_HOLE_FRACTION), high,
                               msg=name)
            own = cases.resize_nearest(square, _HEIGHT, _WIDTH)
            self.assertEqual(own.shape, (_HEIGHT, _WIDTH))
            self.assertAllClose(own.mean(), fraction, atol=0.01, msg=name)
            again, _ = cases.generated_mask("photo", bin_index, 0, seed=7, size=128)
            self.assertAllEqual(again, square)
            other, _ = cases.generated_mask("photo", bin_index, 1, seed=7, size=128)
            self.assertFalse(np.array_equal(other, square))

    def test_mask_files_are_paired_by_stem_and_binned_by_hole_fraction(self):
        directory = self.create_tempdir().full_path
        os.makedirs(os.path.join(directory, "images"))
        os.makedirs(os.path.join(directory, "masks"))
        image_path = os.path.join(directory, "images", "scene.jpg")
        cv2.imwrite(image_path, _photo(0))
        mask = np.zeros((_HEIGHT, _WIDTH), np.uint8)
        mask[:, :80] = 255  # half the image: the 40-100 % bin of mask files
        cv2.imwrite(os.path.join(directory, "masks", "scene.png"), mask)
        config = runner.EvaluationConfig(images_dir=os.path.join(directory, "images"),
                                           masks_dir=os.path.join(directory, "masks"))
        samples = cases.samples_of(config, [image_path])
        hole, square, bin_name, _ = cases.holes_of(config, image_path, samples[0][1],
                                                      _HEIGHT, _WIDTH, (_HEIGHT, _WIDTH))
        self.assertEqual(bin_name, "40-100%")
        self.assertAllClose(hole.mean(), 0.5)
        self.assertAllClose(square.mean(), 0.5, atol=0.01)
        os.remove(os.path.join(directory, "masks", "scene.png"))
        with self.assertRaisesRegex(FileNotFoundError, "scene.jpg"):
            cases.samples_of(config, [image_path])


class FullresMethodTest(tf.test.TestCase):

    def test_fullres_generator_runs_at_the_configured_attention_scale(self):
        # "gated_he" keeps a random network's attention away from zero, so the scale shows.
        config = GeneratorConfig(kernel_initializer="gated_he", **_TINY_CONFIG)
        generator = Generator(config).build_for_size()
        reference = Generator(GeneratorConfig(kernel_initializer="gated_he", softmax_scale=60.0,
                                              **_TINY_CONFIG)).build_for_size()
        reference.set_weights(generator.get_weights())
        target = _photo(4, 64, 96)
        hole = np.zeros((64, 96), bool)
        hole[20:32, 30:50] = True

        def fullres(model, cra_config=None):
            method, = methods.build_methods(["generator_fullres"], model, cra_config=cra_config)
            return methods.run_method(method, target, hole)[0]

        scaled = fullres(generator, cra.CRAConfig(attention_scale=60.0))
        self.assertAllEqual(scaled, fullres(reference))
        self.assertNotAllEqual(scaled, fullres(generator))


class UpsampleMethodTest(tf.test.TestCase):

    def test_plain_upsampling_is_the_bilinear_network_output(self):
        """Independent reference: block-mean down-sampling, the generator, tf bilinear resize."""
        generator = _tiny_generator()
        target = _photo(2, 128, 128)
        hole = np.zeros((128, 128), bool)
        hole[32:64, 48:96] = True  # whole 2×2 blocks: the 64² mask is exact
        # The paper's paste (Fig. 6 compares plain up-sampling with CRA, both pasted).
        method, = methods.build_methods(["crainpaint_upsample"], generator,
                                         cra_config=cra.CRAConfig(seam="paste"))
        composite, _ = methods.run_method(method, target, hole)

        known = np.where(hole[..., None], 0.0, target.astype(np.float64))
        small = known.reshape(64, 2, 64, 2, 3).mean(axis=(1, 3))
        small_hole = hole.reshape(64, 2, 64, 2).any(axis=(1, 3))[..., None].astype(np.float32)
        _, refined, _ = generator((tf.constant(small[None] / 127.5 - 1.0, tf.float32),
                                   tf.constant(small_hole[None])), training=False)
        refined = (refined[0].numpy().astype(np.float64) + 1.0) * 127.5
        small_composite = refined * small_hole + small * (1.0 - small_hole)
        expected = tf.image.resize(small_composite[None], [128, 128], "bilinear")[0].numpy()
        expected = np.clip(np.round(expected), 0, 255)
        difference = np.abs(composite[hole].astype(np.float64) - expected[hole])
        self.assertLessEqual(difference.max(), 1.0)


class GeometryOptionTest(tf.test.TestCase):

    def test_crainpaint_method_uses_the_requested_geometry(self):
        generator = _tiny_generator()
        target = _photo(3, 96, 160)  # Not square: "tile" squeezes it, "aspect" does not.
        hole = np.zeros((96, 160), bool)
        hole[30:60, 50:110] = True
        known = methods.zero_hole(target, hole)
        outputs = {}
        for geometry in ("tile", "aspect"):
            method, = methods.build_methods(["crainpaint"], generator,
                                             cra_config=cra.CRAConfig(geometry=geometry))
            outputs[geometry], _ = methods.run_method(method, target, hole)
            expected = crainpaint.inpaint(known, hole.astype(np.float32), generator,
                                          geometry=geometry)
            self.assertAllEqual(outputs[geometry][hole], expected[hole])
        self.assertFalse(np.array_equal(outputs["tile"], outputs["aspect"]))

    def test_raises_unknown_geometry_error(self):
        with self.assertRaisesRegex(ValueError, "geometry must be one of"):
            runner.EvaluationConfig(cra=cra.CRAConfig(geometry="stretch"))

    def test_seam_reaches_both_crainpaint_methods(self):
        generator = _tiny_generator()
        target = _photo(4, 96, 160)
        hole = np.zeros((96, 160), bool)
        hole[30:60, 50:110] = True
        known = methods.zero_hole(target, hole)
        for seam in ("paste", "poisson"):
            crainpaint_method, upsample = methods.build_methods(
                ["crainpaint", "crainpaint_upsample"], generator,
                cra_config=cra.CRAConfig(seam=seam))
            output, _ = methods.run_method(crainpaint_method, target, hole)
            expected = crainpaint.inpaint(known, hole.astype(np.float32), generator, seam=seam)
            self.assertAllEqual(output[hole], expected[hole])
            # Without residuals the same seam applies: the two differ only by Eq. 4's term.
            without, _ = methods.run_method(upsample, target, hole)
            self.assertFalse(np.array_equal(without[hole], output[hole]))
        with self.assertRaisesRegex(ValueError, "seam must be one of"):
            runner.EvaluationConfig(cra=cra.CRAConfig(seam="blur"))


def _sample(bin_name, **l1):
    return {"bin": bin_name, "results": {"own": {name: {"l1": value}
                                                 for name, value in l1.items()}}}


class SummaryTest(tf.test.TestCase):

    def _samples(self):
        def result(l1, ratio, swd):
            return {"l1": l1, "psnr": 30.0, "ms_ssim": 0.9, "texture_ratio": ratio,
                    "texture_energy": ratio, "swd": swd, "seconds": 0.1}
        return [
            {"bin": "a", "results": {resolution: {"telea": result(4.0, 0.2, 300.0)}
                                     for resolution in report.RESOLUTIONS},
             "ground_truth": {resolution: {"texture_ratio": 0.9}
                              for resolution in report.RESOLUTIONS}},
            {"bin": "a", "results": {resolution: {"telea": result(6.0, math.nan, 500.0)}
                                     for resolution in report.RESOLUTIONS},
             "ground_truth": {resolution: {"texture_ratio": 1.1}
                              for resolution in report.RESOLUTIONS}},
            {"bin": "b", "results": {resolution: {"telea": result(8.0, 0.4, 100.0)}
                                     for resolution in report.RESOLUTIONS},
             "ground_truth": {resolution: {"texture_ratio": 1.3}
                              for resolution in report.RESOLUTIONS}},
        ]

    def test_texture_metrics_are_averaged_per_bin_next_to_l1(self):
        summary = report.summarize(self._samples(), ["telea"], ["a", "b"])
        own = summary["own"]
        self.assertEqual(list(own), ["l1", "psnr", "ms_ssim", "texture_ratio", "texture_energy",
                                     "swd", "seconds"])
        self.assertEqual(own["l1"]["telea"]["a"], {"mean": 5.0, "n": 2, "skipped": 0})
        self.assertEqual(own["swd"]["telea"]["a"]["mean"], 400.0)
        self.assertEqual(own["swd"]["telea"][report.ALL_BINS]["mean"], 300.0)
        # A NaN ratio (no core) is left out of the mean.
        self.assertAllClose(own["texture_ratio"]["telea"]["a"]["mean"], 0.2)
        self.assertAllClose(own["texture_ratio"]["telea"][report.ALL_BINS]["mean"], 0.3)
        # The photos' own texture ratio is a row of that table only.
        self.assertAllClose(own["texture_ratio"]["ground_truth"]["a"]["mean"], 1.0)
        self.assertAllClose(own["texture_ratio"]["ground_truth"][report.ALL_BINS]["mean"], 1.1)
        self.assertNotIn("ground_truth", own["swd"])

    def test_markdown_has_a_table_per_texture_metric_with_the_ground_truth_row(self):
        summary = report.summarize(self._samples(), ["telea"], ["a", "b"])
        text = report.markdown_tables(summary, ["telea"], ["a", "b"], square_size=128)
        for metric in ("l1", "texture_ratio", "texture_energy", "swd"):
            self.assertIn(f"### {report.METRIC_TITLES[metric]}, own resolution", text)
            self.assertIn(f"### {report.METRIC_TITLES[metric]}, 128x128", text)
        self.assertIn("| telea | 400.0 | 100.0 | 300.0 |", text)
        self.assertIn("| telea | 0.200 | 0.400 | 0.300 |", text)
        self.assertIn("| ground_truth | 1.000 | 1.300 | 1.100 |", text)

    def test_results_without_texture_metrics_are_not_counted(self):
        # A JSON from before the texture metrics: their tables are empty, L1 is unchanged.
        samples = [{"bin": "a", "results": {resolution: {"telea": {"l1": 3.0}}
                                            for resolution in report.RESOLUTIONS}}]
        summary = report.summarize(samples, ["telea"], ["a"])
        self.assertEqual(summary["own"]["l1"]["telea"]["a"]["mean"], 3.0)
        self.assertEqual(summary["own"]["swd"]["telea"]["a"]["n"], 0)
        self.assertNotIn("ground_truth", summary["own"]["texture_ratio"])


class PairedDifferencesTest(tf.test.TestCase):

    def test_mean_standard_error_and_wins_on_a_hand_computed_case(self):
        samples = [_sample("a", crainpaint=10.0, telea=12.0, navier_stokes=9.0),
                   _sample("a", crainpaint=20.0, telea=19.0, navier_stokes=23.0),
                   _sample("a", crainpaint=5.0, telea=5.0, navier_stokes=4.0),
                   _sample("b", crainpaint=7.0, telea=8.0, navier_stokes=6.0)]
        paired = report.paired_differences(samples, "crainpaint", ("telea", "navier_stokes"),
                                           ["a", "b"])
        # Bin a against Telea: differences -2, +1, 0; mean -1/3; sample sd sqrt(7/3).
        entry = paired["telea"]["a"]
        self.assertAllClose([entry["mean"], entry["standard_error"]],
                            [-1.0 / 3.0, math.sqrt(7.0 / 3.0) / math.sqrt(3.0)])
        self.assertEqual((entry["n"], entry["wins"]), (3, 1))
        # Against Navier-Stokes: +1, -3, +1; mean -1/3; sample sd sqrt(16/3).
        entry = paired["navier_stokes"]["a"]
        self.assertAllClose([entry["mean"], entry["standard_error"]],
                            [-1.0 / 3.0, math.sqrt(16.0 / 3.0) / math.sqrt(3.0)])
        self.assertEqual((entry["n"], entry["wins"]), (3, 1))
        # One sample: no standard error. "all" pools both bins.
        self.assertTrue(math.isnan(paired["telea"]["b"]["standard_error"]))
        self.assertEqual(paired["telea"]["b"]["mean"], -1.0)
        self.assertEqual((paired["telea"][report.ALL_BINS]["n"],
                          paired["telea"][report.ALL_BINS]["wins"]), (4, 2))
        self.assertAllClose(paired["telea"][report.ALL_BINS]["mean"], -0.5)

    def test_skipped_results_and_absent_methods_are_left_out(self):
        samples = [_sample("a", crainpaint=10.0, telea=12.0),
                   {"bin": "a", "results": {"own": {"crainpaint": {"l1": 3.0},
                                                    "telea": {"skipped": "too large"}}}}]
        paired = report.paired_differences(samples, "crainpaint", ("telea", "navier_stokes"),
                                           ["a"])
        self.assertEqual(list(paired), ["telea"])
        self.assertEqual(paired["telea"]["a"]["n"], 1)
        self.assertEqual(report.paired_differences(samples, "generator_fullres", ("telea",),
                                                   ["a"]), {})

    def test_table_shows_sign_error_and_wins(self):
        paired = {"telea": {"a": {"mean": 0.734, "standard_error": 0.651, "n": 13, "wins": 3},
                            "all": {"mean": -1.0, "standard_error": math.nan, "n": 1,
                                    "wins": 1}}}
        table = report.paired_table(paired, ["a"])
        self.assertIn("### crainpaint minus baseline, in-hole L1, own resolution", table)
        self.assertIn("| telea | +0.73 ± 0.65 (3/13) | -1.00 (1/1) |", table)
        self.assertEqual(report.paired_table({}, ["a"]), "")

    def test_swd_is_compared_next_to_l1(self):
        samples = [{"bin": "a", "results": {"own": {
            "crainpaint": {"l1": 10.0, "swd": 250.0}, "telea": {"l1": 9.0, "swd": 400.0},
            "navier_stokes": {"l1": 11.0, "swd": 310.0}}}},
                   {"bin": "a", "results": {"own": {
                       "crainpaint": {"l1": 6.0, "swd": 300.0},
                       "telea": {"l1": 5.0, "swd": 350.0},
                       "navier_stokes": {"l1": 8.0, "swd": math.nan}}}}]
        comparisons = report.paired_comparisons(samples, ["a"])
        self.assertEqual(list(comparisons), ["l1", "swd"])
        # L1: crainpaint loses both samples to Telea; SWD: it wins both (-150, -50).
        self.assertEqual(comparisons["l1"]["telea"]["a"]["wins"], 0)
        swd = comparisons["swd"]["telea"]["a"]
        self.assertAllClose([swd["mean"], swd["standard_error"]], [-100.0, 50.0])
        self.assertEqual((swd["n"], swd["wins"]), (2, 2))
        # A NaN SWD leaves its sample out of that comparison only.
        self.assertEqual(comparisons["swd"]["navier_stokes"]["a"]["n"], 1)
        self.assertEqual(comparisons["l1"]["navier_stokes"]["a"]["n"], 2)
        tables = report.paired_tables(comparisons, ["a"])
        self.assertLess(tables.index("in-hole L1"), tables.index("Laplacian SWD (x1e3)"))
        self.assertIn("| telea | -100.0 ± 50.0 (2/2) | -100.0 ± 50.0 (2/2) |", tables)
        # Samples from before SWD existed: only the L1 table.
        for sample in samples:
            for result in sample["results"]["own"].values():
                del result["swd"]
        tables = report.paired_tables(report.paired_comparisons(samples, ["a"]), ["a"])
        self.assertIn("in-hole L1", tables)
        self.assertNotIn("SWD", tables)

    def test_report_names_a_file_that_is_not_a_saved_run(self):
        directory = self.create_tempdir().full_path
        broken, other = os.path.join(directory, "broken.json"), os.path.join(directory, "x.json")
        with open(broken, "w") as handle:
            handle.write("{not json")
        with open(other, "w") as handle:
            json.dump({"bins": []}, handle)
        with self.assertRaisesRegex(ValueError, "broken.json is not JSON"):
            runner.report(broken, output=io.StringIO())
        with self.assertRaisesRegex(ValueError, "x.json is not a result of evaluate.py "
                                                "--output_json: missing methods, samples"):
            runner.report(other, output=io.StringIO())


class EndToEndTest(tf.test.TestCase):

    def test_run_on_two_photos_gives_finite_numbers_for_every_method(self):
        directory = self.create_tempdir().full_path
        images = os.path.join(directory, "images")
        os.makedirs(images)
        for seed in range(2):
            cv2.imwrite(os.path.join(images, f"photo{seed}.png"), _photo(seed)[..., ::-1])
        weights = os.path.join(directory, "tiny")
        save_generator_weights(_tiny_generator(), weights)
        config = runner.EvaluationConfig(images_dir=images, weights=weights, square_size=128,
                                           masks_per_image=1, seed=5)
        output, progress = io.StringIO(), io.StringIO()
        json_path = os.path.join(directory, "evaluation.json")
        runner.run(config, "evaluate (test)", output_json=json_path, output=output,
                     progress=progress)

        with open(json_path) as handle:
            result = json.load(handle)
        self.assertLen(result["samples"], 2 * len(cases.GENERATED_BINS))
        for sample in result["samples"]:
            for resolution in report.RESOLUTIONS:
                self.assertCountEqual(sample["results"][resolution], methods.METHODS)
        for resolution in report.RESOLUTIONS:
            for metric in ("l1", "psnr", "ms_ssim", "swd", "seconds"):
                for method in methods.METHODS:
                    for bin_name in result["bins"] + [report.ALL_BINS]:
                        entry = result["summary"][resolution][metric][method][bin_name]
                        self.assertIsInstance(entry["mean"], float,
                                              msg=(resolution, metric, method, bin_name))
                        self.assertTrue(math.isfinite(entry["mean"]))
                        self.assertEqual(entry["skipped"], 0)
        text = output.getvalue()
        self.assertIn("cpu: ", text.splitlines()[1])
        self.assertIn("| telea |", text)
        self.assertIn("### in-hole L1", text)
        self.assertIn("### texture ratio", text)
        self.assertIn("| ground_truth |", text)
        for sample in result["samples"]:
            self.assertCountEqual(sample["ground_truth"], report.RESOLUTIONS)
            for name, scores in sample["results"]["own"].items():
                self.assertCountEqual(
                    [key for key in scores if key.startswith(("texture", "swd"))],
                    ["texture_ratio", "texture_energy", "swd"], msg=name)
        self.assertIn("ETA", progress.getvalue())
        self.assertIn("[8/8]", progress.getvalue())
        # The paired comparison is printed and stored, and --report prints the same tables
        # again from the JSON alone.
        samples = result["samples"]
        for metric in ("l1", "swd"):
            for baseline in report.PAIRED_BASELINES:
                entry = result["paired"][metric][baseline][report.ALL_BINS]
                expected = np.mean([sample["results"]["own"]["crainpaint"][metric]
                                    - sample["results"]["own"][baseline][metric]
                                    for sample in samples])
                self.assertAllClose(entry["mean"], expected)
                self.assertEqual(entry["n"], len(samples))
        self.assertIn("### crainpaint minus baseline, in-hole L1", text)
        self.assertIn("### crainpaint minus baseline, Laplacian SWD", text)
        reported = io.StringIO()
        runner.report(json_path, output=reported)
        tables = text[text.index("### "):text.index("\nwrote ")].strip()
        self.assertIn(tables, reported.getvalue())


if __name__ == "__main__":
    tf.test.main()
