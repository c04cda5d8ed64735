"""×2 bilinear up-sampling: forward against OpenCV, gradient against a hand-computed case and
TensorFlow's own ResizeBilinearGrad."""

import cv2
import numpy as np
import tensorflow as tf

from crainpaint.layers.upsample import bilinear_2x_adjoint, upsample_bilinear_2x


class UpsampleBilinear2xTest(tf.test.TestCase):

    def test_forward_equals_opencv_linear_resize(self):
        rng = np.random.default_rng(0)
        for height, width in ((5, 7), (1, 4), (3, 1), (8, 8)):
            image = rng.normal(size=(height, width, 3)).astype(np.float32)
            expected = cv2.resize(image, (2 * width, 2 * height), interpolation=cv2.INTER_LINEAR)
            output = upsample_bilinear_2x(image[np.newaxis])[0].numpy()
            self.assertAllClose(output, expected.reshape(output.shape), atol=1e-5,
                                msg=f"{height}x{width}")

    def test_gradient_of_a_two_pixel_row_by_hand(self):
        # out = [x0, .75 x0 + .25 x1, .25 x0 + .75 x1, x1] along the row (both rows the same).
        image = tf.constant([[[[1.0], [2.0]]]])
        weights = np.array([1.0, 10.0, 100.0, 1000.0], np.float32)
        with tf.GradientTape() as tape:
            tape.watch(image)
            output = upsample_bilinear_2x(image)  # [1, 2, 4, 1]
            loss = tf.reduce_sum(output[..., 0] * weights)
        a, b, c, d = weights
        expected = 2 * np.array([a + 0.75 * b + 0.25 * c, 0.25 * b + 0.75 * c + d])
        self.assertAllClose(tape.gradient(loss, image)[0, 0, :, 0], expected)

    def test_gradient_equals_tensorflows_resize_bilinear_grad(self):
        rng = np.random.default_rng(1)
        for height, width in ((5, 7), (1, 3), (4, 1), (6, 6)):
            image = tf.constant(rng.normal(size=(2, height, width, 3)), tf.float32)
            weights = tf.constant(rng.normal(size=(2, 2 * height, 2 * width, 3)), tf.float32)
            with tf.GradientTape(persistent=True) as tape:
                tape.watch(image)
                ours = tf.reduce_sum(upsample_bilinear_2x(image) * weights)
                plain = tf.reduce_sum(
                    tf.image.resize(image, [2 * height, 2 * width], "bilinear") * weights)
            self.assertAllClose(tape.gradient(ours, image), tape.gradient(plain, image),
                                atol=1e-5, msg=f"{height}x{width}")

    def test_bfloat16_keeps_its_dtype_and_agrees_with_float32(self):
        rng = np.random.default_rng(2)
        gradient = rng.normal(size=(1, 8, 6, 4)).astype(np.float32)
        full = bilinear_2x_adjoint(tf.constant(gradient))
        half = bilinear_2x_adjoint(tf.constant(gradient, tf.bfloat16))
        self.assertEqual(half.dtype, tf.bfloat16)
        self.assertAllClose(tf.cast(half, tf.float32), full, atol=0.05)
        self.assertEqual(upsample_bilinear_2x(tf.constant(gradient, tf.bfloat16)).dtype,
                         tf.bfloat16)
