"""Tests of data_pipelines.masks: on-the-fly free-form and object masks (paper Sec. 3.5.2, 4.3)."""

import math
import os

import numpy as np
import tensorflow as tf

from data_pipelines import make_shapes, masks
from data_pipelines import templates as shape_templates
from data_pipelines.masks import MaskConfig

KINDS = ("free_form", "object", "mixed")


def _dataset_masks(seeds, height, width, config):
    """Masks made inside tf.data for the given [n, 2] seeds, as one numpy array."""
    dataset = tf.data.Dataset.from_tensor_slices(np.asarray(seeds, np.int64))
    dataset = dataset.map(
        lambda seed: masks.random_mask(seed, height, width, config), num_parallel_calls=2
    )
    return np.stack(list(dataset.as_numpy_iterator()))


class RandomMaskTest(tf.test.TestCase):
    def test_masks_are_binary_float32_with_the_requested_shape(self):
        for kind in KINDS:
            mask = masks.random_mask(tf.constant([3, 4]), 48, 80, MaskConfig(kind=kind))
            self.assertEqual(mask.dtype, tf.float32)
            self.assertEqual(mask.shape, (48, 80, 1))
            self.assertAllInSet(mask, [0.0, 1.0])
            self.assertGreater(float(tf.reduce_sum(mask)), 0.0, msg=kind)

    def test_same_seed_gives_the_same_mask_and_other_seeds_differ(self):
        config = MaskConfig(kind="mixed")
        first = masks.random_mask(tf.constant([11, 12], tf.int32), 64, 64, config)
        again = masks.random_mask(tf.constant([11, 12], tf.int64), 64, 64, config)
        self.assertAllEqual(first, again)
        others = [masks.random_mask(tf.constant([11, 13 + i]), 64, 64, config) for i in range(3)]
        for other in others:
            self.assertGreater(float(tf.reduce_sum(tf.abs(first - other))), 0.0)

    def test_masks_are_identical_eagerly_and_inside_tf_data(self):
        seeds = [[seed, 99] for seed in range(6)]
        for kind in KINDS:
            config = MaskConfig(kind=kind)
            in_dataset = _dataset_masks(seeds, 64, 64, config)
            eager = np.stack(
                [
                    masks.random_mask(tf.constant(seed, tf.int64), 64, 64, config).numpy()
                    for seed in seeds
                ]
            )
            self.assertAllEqual(eager, in_dataset, msg=kind)

    def test_hole_fraction_distribution_over_200_seeds_at_128(self):
        config = MaskConfig(kind="mixed")
        fractions = _dataset_masks([[seed, 2020] for seed in range(200)], 128, 128, config).mean(
            axis=(1, 2, 3)
        )
        # Every mask within the paper's "up to 25%" bound (Sec. 4.3), and a spread, not a constant.
        self.assertLessEqual(fractions.max(), 0.25)
        self.assertGreater(fractions.min(), 0.0)
        self.assertBetween(fractions.mean(), 0.06, 0.2)
        self.assertGreater(fractions.std(), 0.03)
        self.assertGreater(np.mean(fractions > 0.15), 0.1)  # Large holes happen, ...
        self.assertGreater(np.mean(fractions < 0.05), 0.05)  # ... and small ones too.
        for kind in ("free_form", "object"):
            kind_fractions = _dataset_masks(
                [[seed, 7] for seed in range(50)], 128, 128, MaskConfig(kind=kind)
            )
            kind_fractions = kind_fractions.mean(axis=(1, 2, 3))
            self.assertGreater(kind_fractions.min(), 0.0, msg=kind)
            self.assertLessEqual(kind_fractions.max(), 0.25, msg=kind)
            self.assertBetween(kind_fractions.mean(), 0.04, 0.2, msg=kind)

    def test_narrow_hole_bounds_are_always_met_through_retries_or_the_fallback(self):
        # Few candidates fall in [30%, 32%]: most masks come from the deterministic fallback.
        config = MaskConfig(kind="mixed", min_hole_fraction=0.30, max_hole_fraction=0.32, max_attempts=2)
        fractions = _dataset_masks([[seed, 1] for seed in range(24)], 64, 64, config).mean(
            axis=(1, 2, 3)
        )
        self.assertAllInRange(fractions, 0.30, 0.32)
        tiny = MaskConfig(kind="free_form", max_hole_fraction=0.01, max_attempts=1)
        fractions = _dataset_masks([[seed, 1] for seed in range(8)], 64, 64, tiny).mean(axis=(1, 2, 3))
        self.assertAllInRange(fractions, 0.0, 0.01)

    def test_enforce_hole_bounds_cuts_in_row_major_order_and_fills_from_the_top(self):
        mask = np.zeros((4, 5, 1), np.float32)
        mask[1:4, 1:3] = 1.0  # 6 hole pixels.
        trimmed = masks.enforce_hole_bounds(tf.constant(mask), 0, 3).numpy()
        expected = np.zeros_like(mask)
        expected[1, 1:3] = 1.0
        expected[2, 1] = 1.0
        self.assertAllEqual(trimmed, expected)
        filled = masks.enforce_hole_bounds(tf.constant(mask), 9, 20).numpy()
        expected = mask.copy()
        expected[0, 0:3] = 1.0  # The first three non-hole pixels in row-major order.
        self.assertAllEqual(filled, expected)
        self.assertAllEqual(masks.enforce_hole_bounds(tf.constant(mask), 2, 8), mask)


class FreeFormTest(tf.test.TestCase):
    def test_segment_rasterisation_matches_a_numpy_point_to_segment_reference(self):
        starts = np.array([[10.3, 12.7], [50.0, 8.0], [5.0, 5.0]], np.float32)
        ends = np.array([[40.2, 30.1], [50.0, 8.0], [60.0, 60.0]], np.float32)
        radii = np.array([4.6, 3.2, -1.0], np.float32)  # A capsule, a disc, a disabled segment.
        height, width = 48, 64
        result = masks.rasterize_segments(starts, ends, radii, height, width).numpy()
        rows, columns = np.mgrid[0:height, 0:width].astype(np.float64)
        reference = np.zeros((height, width), bool)
        margin = np.zeros((height, width), bool)
        for start, end, radius in zip(starts.astype(np.float64), ends.astype(np.float64), radii):
            if radius < 0:
                continue
            direction = end - start
            length_squared = direction @ direction
            along = np.zeros_like(rows)
            if length_squared > 0:
                along = (
                    (columns - start[0]) * direction[0] + (rows - start[1]) * direction[1]
                ) / length_squared
            along = np.clip(along, 0.0, 1.0)
            distance = np.hypot(
                columns - start[0] - along * direction[0], rows - start[1] - along * direction[1]
            )
            reference |= distance <= radius
            margin |= np.abs(distance - radius) < 1e-3
        self.assertGreater(reference.sum(), 200)
        self.assertAllEqual(result.astype(bool)[~margin], reference[~margin])
        self.assertEqual(result[5, 5], 0.0)  # On the disabled segment only.
        self.assertEqual(result[8, 50], 1.0)  # The zero-length segment's centre.

    def test_stroke_count_and_width_ranges_shape_the_mask(self):
        thin = MaskConfig(kind="free_form", num_strokes_range=(1, 1), brush_width_range=(0.02, 0.02))
        thick = MaskConfig(kind="free_form", num_strokes_range=(1, 1), brush_width_range=(0.1, 0.1))
        seed = tf.constant([5, 5])
        thin_area = float(tf.reduce_mean(masks.free_form_mask(seed, 128, 128, thin)))
        thick_area = float(tf.reduce_mean(masks.free_form_mask(seed, 128, 128, thick)))
        self.assertGreater(thick_area, 2.5 * thin_area)


class ObjectMaskTest(tf.test.TestCase):
    def test_place_template_mirrors_and_rotates_exactly(self):
        template = np.zeros((32, 32), np.uint8)
        template[4:28, 6:10] = 1
        template[24:28, 6:22] = 1  # An "L": asymmetric under flips and rotations.
        center = tf.constant([15.5, 15.5])

        def place(angle, flip):
            placed = shape_templates.place_template(template, 32, 32, 1.0, angle, flip, center)
            return placed.numpy()[..., 0]

        self.assertAllEqual(place(0.0, False), template)
        self.assertAllEqual(place(0.0, True), np.fliplr(template))
        self.assertAllEqual(
            place(math.pi / 2, False), np.rot90(template)
        )  # Counter-clockwise on screen.
        doubled = shape_templates.place_template(
            template, 64, 64, 2.0, 0.0, False, tf.constant([31.5, 31.5])
        ).numpy()
        self.assertAllClose(doubled[..., 0].mean(), template.mean(), atol=0.01)

    def test_object_masks_are_flipped_and_rotated_templates(self):
        templates = shape_templates.load_shape_templates().numpy()
        upright = MaskConfig(
            kind="object",
            object_scale_range=(1.0, 1.0),
            object_center_range=(0.5, 0.5),
            object_max_rotation_degrees=0.0,
        )
        size = templates.shape[1]
        seeds = [[seed, 3] for seed in range(30)]
        placed = [
            masks.object_mask(tf.constant(seed), size, size, upright).numpy()[..., 0] for seed in seeds
        ]
        as_is = [any(np.array_equal(mask, t) for t in templates) for mask in placed]
        mirrored = [any(np.array_equal(mask, np.fliplr(t)) for t in templates) for mask in placed]
        self.assertTrue(all(a or m for a, m in zip(as_is, mirrored)))
        self.assertTrue(any(m and not a for a, m in zip(as_is, mirrored)))  # Some mirrored only.
        self.assertTrue(any(a and not m for a, m in zip(as_is, mirrored)))
        rotating = MaskConfig(
            kind="object", object_scale_range=(1.0, 1.0), object_center_range=(0.5, 0.5)
        )
        rotated = [
            masks.object_mask(tf.constant(seed), size, size, rotating).numpy()[..., 0]
            for seed in seeds[:10]
        ]
        self.assertFalse(
            any(
                np.array_equal(mask, t) or np.array_equal(mask, np.fliplr(t))
                for mask in rotated
                for t in templates
            )
        )

    def test_shipped_templates_match_the_script_and_are_small_binary_silhouettes(self):
        self.assertEqual(make_shapes.check_templates(), [])
        templates = shape_templates.load_shape_templates().numpy()
        self.assertEqual(templates.dtype, np.uint8)
        self.assertBetween(templates.shape[0], 30, 40)
        self.assertEqual(templates.shape[1:], (256, 256))
        self.assertAllInSet(templates, [0, 1])
        coverage = templates.mean(axis=(1, 2))
        self.assertTrue(np.all((coverage > 0.03) & (coverage < 0.4)), msg=str(coverage))
        for name in os.listdir(shape_templates.SHAPES_DIRECTORY):
            self.assertLess(os.path.getsize(os.path.join(shape_templates.SHAPES_DIRECTORY, name)), 4096, msg=name)


class MaskConfigTest(tf.test.TestCase):
    def test_invalid_fields_raise_clear_errors(self):
        with self.assertRaisesRegex(ValueError, "kind must be one of"):
            MaskConfig(kind="rectangle")
        with self.assertRaisesRegex(ValueError, "num_strokes_range must satisfy"):
            MaskConfig(num_strokes_range=(5, 2))
        with self.assertRaisesRegex(ValueError, "vertices_per_stroke_range must hold two integers"):
            MaskConfig(vertices_per_stroke_range=(2.5, 4))
        with self.assertRaisesRegex(ValueError, "mixed_probabilities must sum to 1"):
            MaskConfig(mixed_probabilities=(0.5, 0.5, 0.5))
        with self.assertRaisesRegex(ValueError, "min_hole_fraction <= max_hole_fraction"):
            MaskConfig(min_hole_fraction=0.3, max_hole_fraction=0.2)
        with self.assertRaisesRegex(ValueError, "max_attempts"):
            MaskConfig(max_attempts=0)
        with self.assertRaisesRegex(ValueError, "shape \\[2\\]"):
            masks.random_mask(tf.constant([1, 2, 3]), 8, 8)


if __name__ == "__main__":
    tf.test.main()
