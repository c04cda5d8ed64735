"""Tests for crainpaint.pixels: the mask rules (graph and array side) and pixel conversions.

Expected values are computed by hand or by an independent numpy expression, never by the code
under test.
"""

import os
import subprocess
import sys
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


# --------------------------------------------------------------------------------------------
# The painted layer: RGBA masks of one flat colour are read from their alpha.
# --------------------------------------------------------------------------------------------


class PaintedLayerTest(tf.test.TestCase):
    def _layer(self, colour, alpha_values, dtype=np.uint8):
        alpha = np.array([alpha_values], dtype)
        colour = np.broadcast_to(np.array(colour, dtype), alpha.shape + (3,))
        return np.concatenate([colour, alpha[..., np.newaxis]], axis=-1)

    def test_opaque_is_hole_and_transparent_is_kept_in_both_conventions(self):
        # Black strokes on a transparent black layer: by colour alone, nothing would be a hole
        # (white_hole) or everything would (black_hole).
        layer = self._layer((0, 0, 0), [0, 255, 127, 128])
        for convention in pixels.MASK_CONVENTIONS:
            with self.subTest(convention):
                self.assertAllEqual(pixels.hole_from_mask(layer, convention)[0, :, 0],
                                    [0, 1, 0, 1])
        layer16 = self._layer((65535, 65535, 65535), [0, 65535, 32767, 32768], np.uint16)
        self.assertAllEqual(pixels.hole_from_mask(layer16)[0, :, 0], [0, 1, 0, 1])

    def test_varying_colour_or_uniform_alpha_keeps_the_colour_rule(self):
        varying_colour = np.array([[(255, 255, 255, 0), (0, 0, 0, 255)]], np.uint8)
        self.assertAllEqual(pixels.hole_from_mask(varying_colour)[0, :, 0], [1, 0])
        uniform_alpha = self._layer((255, 255, 255), [0, 0])
        self.assertAllEqual(pixels.hole_from_mask(uniform_alpha)[0, :, 0], [1, 1])

    def test_each_mask_of_a_batch_is_judged_alone(self):
        layer = self._layer((0, 0, 0), [0, 255])
        by_colour = np.array([[(255, 255, 255, 0), (0, 0, 0, 255)]], np.uint8)
        holes = pixels.hole_from_mask(np.stack([layer, by_colour]))
        self.assertAllEqual(holes[..., 0], [[[0, 1]], [[1, 0]]])

    def test_dynamic_channel_count_applies_the_rule_to_rgba_only(self):
        @tf.function(input_signature=[tf.TensorSpec([None, None, None], tf.uint8)])
        def holes(mask):
            return pixels.hole_from_mask(mask)

        self.assertAllEqual(holes(self._layer((0, 0, 0), [0, 255]))[0, :, 0], [0, 1])
        gray = np.array([[[0], [255]]], np.uint8)
        self.assertAllEqual(holes(gray)[0, :, 0], [0, 1])
        self.assertAllEqual(holes(np.zeros((1, 2, 3), np.uint8))[0, :, 0], [0, 0])


# --------------------------------------------------------------------------------------------
# validate_mask: masks given as arrays.
# --------------------------------------------------------------------------------------------


class ValidateMaskTest(tf.test.TestCase):
    def _validate(self, mask, convention="white_hole", **options):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            hole = pixels.validate_mask(mask, None, convention, **options)
        return hole, [str(warning.message) for warning in caught
                      if issubclass(warning.category, pixels.MaskWarning)]

    def test_zero_one_integer_mask_is_read_as_black_and_white_with_a_warning(self):
        for dtype in (np.uint8, np.uint16):
            mask = np.array([[0, 1, 1, 0]], dtype)
            with self.subTest(dtype.__name__):
                hole, messages = self._validate(mask)
                self.assertAllEqual(hole[0, :, 0], [False, True, True, False])
                self.assertLen(messages, 1)
                self.assertRegex(messages[0], "only the values 0 and 1.*1 = hole")
                hole, messages = self._validate(mask, "black_hole")
                self.assertAllEqual(hole[0, :, 0], [True, False, False, True])
                self.assertRegex(messages[0], "1 = keep")

    def test_refuses_float_mask_with_nan(self):
        mask = np.array([[0.0, np.nan], [1.0, 0.0]], np.float32)
        with self.assertRaisesRegex(ValueError, "NaN.*np.nan_to_num"):
            pixels.validate_mask(mask)

    def test_float_mask_is_a_hole_map_above_one_half(self):
        hole, messages = self._validate(np.array([[0.2, 0.5, 0.51, 3.0]], np.float64))
        self.assertAllEqual(hole[0, :, 0], [False, False, True, True])
        self.assertEqual(messages, [])

    def test_bool_channels_must_agree(self):
        agreeing = np.zeros((2, 2, 3), bool)
        agreeing[0, 1] = True
        hole, _ = self._validate(agreeing)
        self.assertAllEqual(hole[..., 0], [[False, True], [False, False]])
        disagreeing = agreeing.copy()
        disagreeing[1, 1, 0] = True
        with self.assertRaisesRegex(ValueError, "channels that disagree.*mask.any\\(axis=-1\\)"):
            pixels.validate_mask(disagreeing)

    def test_warns_when_nothing_is_filled_and_when_there_is_no_context(self):
        _, messages = self._validate(np.zeros((3, 3), np.uint8), name="mask m.png")
        self.assertLen(messages, 1)
        self.assertRegex(messages[0], "mask m.png has no hole pixels: nothing is filled")
        _, messages = self._validate(np.full((3, 3, 1), 255, np.uint8))
        self.assertRegex(messages[0], "hole everywhere.*no context")
        _, messages = self._validate(np.zeros((3, 3), np.uint8), check_content=False)
        self.assertEqual(messages, [])

    def test_transparency_that_disagrees_with_the_colour_warns_that_alpha_is_ignored(self):
        # Black strokes on a transparent WHITE layer: the colour rule makes the layer the hole.
        mask = np.array([[(255, 255, 255, 0), (255, 255, 255, 0), (0, 0, 0, 255)]], np.uint8)
        hole, messages = self._validate(mask)
        self.assertAllEqual(hole[0, :, 0], [True, True, False])
        self.assertTrue(any("alpha channel is ignored" in message for message in messages))
        # White strokes on a transparent black layer: alpha and colour agree, no warning.
        agreeing = np.array([[(0, 0, 0, 0), (255, 255, 255, 255)]], np.uint8)
        _, messages = self._validate(agreeing)
        self.assertEqual(messages, [])

    def test_refuses_mask_of_other_size_or_kind(self):
        with self.assertRaisesRegex(ValueError, "mask is 3×2 but image is 4×2"):
            pixels.validate_mask(np.zeros((2, 3), np.uint8), (2, 4, 3))
        with self.assertRaisesRegex(ValueError, "must be uint8, uint16, bool"):
            pixels.validate_mask(np.zeros((2, 2), np.int32))
        with self.assertRaisesRegex(ValueError, "one channel"):
            pixels.validate_mask(np.zeros((2, 2, 3), np.float32))


# --------------------------------------------------------------------------------------------
# The generator's range.
# --------------------------------------------------------------------------------------------


class NetworkRangeTest(tf.test.TestCase):
    def test_numpy_results_are_bit_identical_to_the_expression(self):
        uint8 = np.arange(256, dtype=np.uint8).reshape(16, 16)
        float32 = np.linspace(0, 255, 101, dtype=np.float32)
        scaled = pixels.to_network_range(uint8)
        self.assertEqual(scaled.dtype, np.float32)
        self.assertAllEqual(scaled, uint8.astype(np.float32) / 127.5 - 1.0)
        self.assertEqual(pixels.to_network_range(float32).dtype, np.float32)
        self.assertAllEqual(pixels.to_network_range(float32), float32 / 127.5 - 1.0)
        self.assertAllEqual(pixels.from_network_range(scaled), (scaled + 1.0) * 127.5)

    def test_tensor_results_match_and_come_back_as_float32(self):
        uint8 = tf.constant(np.arange(256, dtype=np.uint8))
        scaled = pixels.to_network_range(uint8)
        self.assertEqual(scaled.dtype, tf.float32)
        self.assertAllEqual(scaled, np.arange(256, dtype=np.float32) / 127.5 - 1.0)
        self.assertAllEqual(pixels.to_uint8(pixels.from_network_range(scaled)), uint8)
        restored = pixels.from_network_range(tf.cast(scaled, tf.bfloat16))
        self.assertEqual(restored.dtype, tf.float32)
        self.assertAllClose(restored, np.arange(256), atol=1.0)


# --------------------------------------------------------------------------------------------
# The graph modules need no image codec.
# --------------------------------------------------------------------------------------------


class NoOpenCVTest(tf.test.TestCase):
    def test_cra_api_export_and_imaging_import_without_opencv(self):
        # Keras imports OpenCV on its own when it is installed (and shrugs when it is not), so
        # "cv2 not in sys.modules" cannot hold; making `import cv2` fail shows that no module of
        # ours needs it at import time.
        script = ("import sys\n"
                  "sys.modules['cv2'] = None\n"
                  "import crainpaint.cra, crainpaint.api, crainpaint.export, crainpaint.imaging\n"
                  "import crainpaint.batch, crainpaint.image_header, crainpaint.exif\n")
        repository = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        environment["PYTHONPATH"] = os.pathsep.join(
            [repository] + [path for path in environment.get("PYTHONPATH", "").split(os.pathsep)
                            if path])
        completed = subprocess.run([sys.executable, "-c", script], capture_output=True,
                                   text=True, env=environment, timeout=300)
        self.assertEqual(completed.returncode, 0, completed.stderr)
