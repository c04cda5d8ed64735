"""Tests for crainpaint.pixels: the mask rules (graph and array side) and pixel conversions.

Expected values are computed by hand or by an independent numpy expression, never by the code
under test.
"""

import warnings

import numpy as np
import tensorflow as tf

from crainpaint import pixels


# --------------------------------------------------------------------------------------------
# hole_from_mask
# --------------------------------------------------------------------------------------------


class HoleFromMaskTest(tf.test.TestCase):
    def test_uint8_gray_is_white_from_128(self):
        mask = np.array([[[0], [127], [128], [255]]], np.uint8)
        self.assertAllEqual(pixels.hole_from_mask(mask)[0, :, 0], [0.0, 0.0, 1.0, 1.0])
        self.assertAllEqual(
            pixels.hole_from_mask(mask, "black_hole")[0, :, 0], [1.0, 1.0, 0.0, 0.0]
        )

    def test_uint8_rgb_thresholds_the_channel_mean(self):
        values = [
            (255, 0, 0),  # mean 85: keep.
            (128, 128, 127),  # mean 127.67: keep.
            (128, 128, 128),  # mean 128: hole.
            (255, 128, 1),  # sum 384 = 3 × 128: exactly at the threshold, hole.
            (255, 128, 0),  # sum 383: keep.
            (255, 255, 0),  # mean 170: hole.
        ]
        mask = np.array([values], np.uint8)
        hole = pixels.hole_from_mask(mask)
        self.assertEqual(hole.dtype, tf.float32)
        self.assertAllEqual(hole.shape, [1, 6, 1])
        self.assertAllEqual(hole[0, :, 0], [0, 0, 1, 1, 0, 1])
        self.assertAllEqual(pixels.hole_from_mask(mask, "black_hole")[0, :, 0], [1, 1, 0, 0, 1, 0])

    def test_rgba_ignores_alpha(self):
        # If alpha counted, the second pixel (sum 510 < 4 × 128) would be kept and the last
        # (sum 636) would be a hole.
        mask = np.array(
            [[(255, 255, 255, 0), (255, 255, 0, 0), (0, 0, 0, 255), (127, 127, 127, 255)]], np.uint8
        )
        self.assertAllEqual(pixels.hole_from_mask(mask)[0, :, 0], [1, 1, 0, 0])

    def test_uint16_is_white_from_32768(self):
        gray = np.array([[[0], [32767], [32768], [65535]]], np.uint16)
        self.assertAllEqual(pixels.hole_from_mask(gray)[0, :, 0], [0, 0, 1, 1])
        self.assertAllEqual(pixels.hole_from_mask(gray, "black_hole")[0, :, 0], [1, 1, 0, 0])
        # 3 × 65535 would overflow uint16; the sum must still compare correctly.
        colour = np.array([[(65535, 65535, 0), (65535, 32767, 0), (65535, 32769, 0)]], np.uint16)
        self.assertAllEqual(pixels.hole_from_mask(colour)[0, :, 0], [1, 0, 1])

    def test_bool_true_counts_as_white(self):
        gray = np.array([[[False], [True]]])
        self.assertAllEqual(pixels.hole_from_mask(gray)[0, :, 0], [0, 1])
        colour = np.array([[(True, False, False), (True, True, False)]])
        self.assertAllEqual(pixels.hole_from_mask(colour)[0, :, 0], [0, 1])

    def test_keeps_batch_axes_and_returns_one_channel(self):
        mask = np.zeros((2, 3, 5, 4), np.uint8)
        mask[1, 2, 4, :3] = 255
        hole = pixels.hole_from_mask(mask)
        self.assertAllEqual(hole.shape, [2, 3, 5, 1])
        self.assertEqual(float(tf.reduce_sum(hole)), 1.0)
        self.assertEqual(float(hole[1, 2, 4, 0]), 1.0)

    def test_inside_tf_function_with_dynamic_height_and_width(self):
        @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)])
        def holes(mask):
            return pixels.hole_from_mask(mask, "black_hole")

        mask = np.array([[[(0, 0, 0), (128, 128, 127), (128, 128, 128)]]], np.uint8)
        self.assertAllEqual(holes(mask)[0, 0, :, 0], [1, 1, 0])
        bigger = np.full((1, 3, 4, 3), 255, np.uint8)
        self.assertAllEqual(holes(bigger), np.zeros((1, 3, 4, 1)))
        # The static shape survives for the channel axis, as a SavedModel signature needs.
        concrete = holes.get_concrete_function()
        self.assertEqual(concrete.structured_outputs.shape.as_list(), [None, None, None, 1])

    def test_inside_tf_function_with_dynamic_channel_count(self):
        @tf.function(input_signature=[tf.TensorSpec([None, None, None], tf.uint16)])
        def holes(mask):
            return pixels.hole_from_mask(mask)

        gray = np.array([[[32767], [32768]]], np.uint16)
        self.assertAllEqual(holes(gray)[0, :, 0], [0, 1])
        colour = np.array([[(65535, 32767, 0), (65535, 32769, 0)]], np.uint16)
        self.assertAllEqual(holes(colour)[0, :, 0], [0, 1])
        # Alpha is ignored: counting it would flip both pixels.
        with_alpha = np.array([[(65535, 65535, 0, 0), (32767, 32767, 32767, 65535)]], np.uint16)
        self.assertAllEqual(holes(with_alpha)[0, :, 0], [1, 0])
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "channels"):
            holes(np.zeros((1, 2, 2), np.uint16))

    def test_unknown_convention_raises_naming_the_allowed_ones(self):
        with self.assertRaisesRegex(ValueError, "white_hole.*black_hole"):
            pixels.hole_from_mask(np.zeros((2, 2, 1), np.uint8), "white")

    def test_two_channels_and_float_masks_are_rejected(self):
        with self.assertRaisesRegex(ValueError, "1 \\(gray\\), 3 \\(RGB\\) or 4 \\(RGBA\\)"):
            pixels.hole_from_mask(np.zeros((2, 2, 2), np.uint8))
        with self.assertRaisesRegex(TypeError, "uint8, uint16 or bool"):
            pixels.hole_from_mask(np.zeros((2, 2, 1), np.float32))


# --------------------------------------------------------------------------------------------
# to_uint8 / to_uint16
# --------------------------------------------------------------------------------------------


class ToUnsignedTest(tf.test.TestCase):
    def test_to_uint8_rounds_and_clips_instead_of_wrapping(self):
        converted = pixels.to_uint8(tf.constant([-3.7, 0.4, 0.6, 254.6, 300.0]))
        self.assertEqual(converted.dtype, tf.uint8)
        self.assertAllEqual(converted, [0, 0, 1, 255, 255])

    def test_to_uint16_rounds_and_clips_instead_of_wrapping(self):
        converted = pixels.to_uint16(np.array([-1.0, 0.6, 65534.6, 70000.0], np.float64))
        self.assertEqual(converted.dtype, tf.uint16)
        self.assertAllEqual(converted, [0, 1, 65535, 65535])

    def test_to_uint16_from_bfloat16_does_not_wrap_to_zero(self):
        # bfloat16 rounds 65535 to 65536, one past the uint16 range.
        converted = pixels.to_uint16(tf.constant([65535.0], tf.bfloat16))
        self.assertAllEqual(converted, [65535])

    def test_nan_becomes_zero(self):
        self.assertAllEqual(pixels.to_uint8(tf.constant([np.nan, 7.0])), [0, 7])
