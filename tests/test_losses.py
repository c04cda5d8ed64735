"""Golden-number tests of the training losses (paper Eq. 9-14), computed by hand on tiny tensors."""

import numpy as np
import tensorflow as tf

from crainpaint.training import losses


def _image(rows):
    """[[...], [...]] of one channel → float32 [1, H, W, 1]."""
    return tf.constant(np.asarray(rows, np.float32)[None, :, :, None])


class ReconstructionLossTest(tf.test.TestCase):
    # One 2×2 example, one channel, target 0 everywhere, hole = the top-left pixel.
    #   coarse errors  |0.5| (hole) and 0.5, 1.0, 0.0 (context)
    #   refined errors |0.25| (hole) and 0.0, 0.0, 1.0 (context)
    target = _image([[0.0, 0.0], [0.0, 0.0]])
    coarse = _image([[0.5, -0.5], [1.0, 0.0]])
    refined = _image([[0.25, 0.0], [0.0, -1.0]])
    mask = _image([[1.0, 0.0], [0.0, 0.0]])

    def test_per_pixel_terms_average_over_hole_and_context_pixels(self):
        terms = losses.reconstruction_loss_terms(self.target, self.coarse, self.refined,
                                                 self.mask, normalization="per_pixel")
        self.assertAllClose(terms["coarse_hole"], [0.5])
        self.assertAllClose(terms["coarse_context"], [(0.5 + 1.0 + 0.0) / 3])
        self.assertAllClose(terms["refined_hole"], [0.25])
        self.assertAllClose(terms["refined_context"], [1.0 / 3])

    def test_per_pixel_golden_total(self):
        # 1·(0.5 + 0.25) + 1.2·(0.5 + 1/3) = 0.75 + 1.0
        loss = losses.reconstruction_loss(self.target, self.coarse, self.refined, self.mask)
        self.assertAllClose(loss, [1.75])

    def test_author_normalization_golden_total(self):
        # Hole terms: mean over all 4 pixels (0.5/4, 0.25/4); context: mean(err·(1−m)) / 0.75.
        terms = losses.reconstruction_loss_terms(self.target, self.coarse, self.refined,
                                                 self.mask, normalization="author")
        self.assertAllClose(terms["coarse_hole"], [0.125])
        self.assertAllClose(terms["refined_hole"], [0.0625])
        self.assertAllClose(terms["coarse_context"], [(1.5 / 4) / 0.75])
        self.assertAllClose(terms["refined_context"], [(1.0 / 4) / 0.75])
        loss = losses.reconstruction_loss(self.target, self.coarse, self.refined, self.mask,
                                          normalization="author")
        self.assertAllClose(loss, [0.1875 + 1.2 * (0.5 + 1.0 / 3)])

    def test_weights_are_alpha1_and_alpha2(self):
        loss = losses.reconstruction_loss(self.target, self.coarse, self.refined, self.mask,
                                          hole_weight=2.0, context_weight=0.0)
        self.assertAllClose(loss, [2.0 * 0.75])

    def test_channels_are_averaged_and_examples_kept_apart(self):
        # Example 0: hole = 2 of 4 pixels, channel errors (0.3, 0.6, 0.9) everywhere → 0.6.
        # Example 1: no hole at all: the hole term is 0, not NaN; context error 0.2 → 0.2.
        target = tf.zeros([2, 2, 2, 3])
        errors = tf.constant([[0.3, 0.6, 0.9], [0.2, 0.2, 0.2]])[:, None, None, :]
        prediction = tf.broadcast_to(errors, [2, 2, 2, 3])
        mask = tf.constant([[[1.0], [1.0]], [[0.0], [0.0]]])[None] * tf.constant([1.0, 0.0])[
            :, None, None, None]
        terms = losses.reconstruction_loss_terms(target, prediction, prediction, mask)
        self.assertAllClose(terms["refined_hole"], [0.6, 0.0])
        self.assertAllClose(terms["refined_context"], [0.6, 0.2])
        author = losses.reconstruction_loss_terms(target, prediction, prediction, mask,
                                                  normalization="author")
        self.assertAllClose(author["refined_hole"], [0.6 * 0.5, 0.0])  # × hole fraction.
        self.assertAllClose(author["refined_context"], [0.6, 0.2])

    def test_bfloat16_predictions_are_cast(self):
        loss = losses.reconstruction_loss(self.target, tf.cast(self.coarse, tf.bfloat16),
                                          tf.cast(self.refined, tf.bfloat16), self.mask)
        self.assertEqual(loss.dtype, tf.float32)
        self.assertAllClose(loss, [1.75])

    def test_raises_unknown_normalization_error(self):
        with self.assertRaisesRegex(ValueError, "per_pixel"):
            losses.reconstruction_loss(self.target, self.coarse, self.refined, self.mask,
                                       normalization="mean")


class AdversarialLossTest(tf.test.TestCase):
    def test_critic_loss_is_fake_minus_real_plus_weighted_penalty(self):
        real, fake = tf.constant([[1.0], [-2.0]]), tf.constant([[0.5], [3.0]])
        self.assertAllClose(losses.wgan_gp_critic_loss(real, fake), [-0.5, 5.0])
        loss = losses.wgan_gp_critic_loss(real, fake, penalty=tf.constant([0.1, 0.2]),
                                          penalty_weight=10.0)
        self.assertAllClose(loss, [0.5, 7.0])

    def test_generator_loss_is_minus_fake_score(self):
        self.assertAllClose(losses.wgan_generator_loss(tf.constant([[0.5], [3.0]])), [-0.5, -3.0])

    def test_global_batch_average(self):
        # Each replica sums its examples and divides by the GLOBAL batch (4 here, 2 per replica).
        per_example = losses.wgan_gp_critic_loss(tf.constant([1.0, -2.0]), tf.constant([0.5, 3.0]),
                                                 tf.constant([0.1, 0.2]))
        self.assertAllClose(tf.nn.compute_average_loss(per_example, global_batch_size=4), 1.875)

    def test_paste_back_keeps_context_pixels(self):
        composite = losses.paste_back(_image([[9.0, 9.0], [9.0, 9.0]]),
                                      _image([[1.0, 2.0], [3.0, 4.0]]),
                                      _image([[1.0, 0.0], [0.0, 1.0]]))
        self.assertAllEqual(composite[0, :, :, 0], [[9.0, 2.0], [3.0, 9.0]])


class GradientPenaltyTest(tf.test.TestCase):
    real = tf.zeros([2, 2, 2, 1])
    fake = tf.ones([2, 2, 2, 1])

    def test_linear_critic_gradient_norm_is_norm_of_weights(self):
        # D(x) = <w, x> has ∇D = w everywhere: penalty (‖w‖ − 1)², whatever α.
        weights = tf.constant([2.0, 0.0, 1.0, 2.0])  # ‖w‖ = 3.

        def critic(images):
            return tf.reduce_sum(tf.reshape(images, [-1, 4]) * weights, axis=1)

        penalty = losses.gradient_penalty(critic, self.real, self.fake, tf.constant([0.3, 0.9]))
        self.assertAllClose(penalty, [4.0, 4.0])

    def test_quadratic_critic_checks_the_interpolation(self):
        # D(x) = ½‖x‖² has ∇D(x̂) = x̂ = α·1 (real 0, fake 1): norm 2α on 4 pixels.
        def critic(images):
            return 0.5 * tf.reduce_sum(tf.square(images), axis=[1, 2, 3])

        penalty = losses.gradient_penalty(critic, self.real, self.fake, tf.constant([0.25, 1.0]))
        self.assertAllClose(penalty, [(0.5 - 1.0) ** 2, (2.0 - 1.0) ** 2])

    def test_second_order_gradient_through_the_penalty(self):
        # Penalty (‖w‖ − 1)² → d/dw = 2 (‖w‖ − 1) w / ‖w‖ = 2·2·w/3 for ‖w‖ = 3.
        weights = tf.Variable([2.0, 0.0, 1.0, 2.0])

        def critic(images):
            return tf.reduce_sum(tf.reshape(images, [-1, 4]) * weights, axis=1)

        with tf.GradientTape() as tape:
            penalty = tf.reduce_mean(losses.gradient_penalty(critic, self.real, self.fake,
                                                             tf.constant([0.5, 0.5])))
        self.assertAllClose(tape.gradient(penalty, weights),
                            4.0 / 3.0 * np.array([2.0, 0.0, 1.0, 2.0]), atol=1e-5)


if __name__ == "__main__":
    tf.test.main()
