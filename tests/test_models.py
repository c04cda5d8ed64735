"""The generator and critic: the paper's parameter counts and the generator's contract."""

import keras
import numpy as np
import tensorflow as tf

from crainpaint.models import Critic, CriticConfig, Generator, GeneratorConfig, build_generator

SMALL = GeneratorConfig(input_size=64, attention_grid=4, width_multiplier=0.25)


class ParameterCountTest(tf.test.TestCase):

    def test_default_generator_has_exactly_the_papers_parameter_count(self):
        generator = build_generator()
        self.assertEqual(generator.coarse.count_params(), 811_489)
        self.assertEqual(generator.refine.count_params(), 1_911_302)
        self.assertEqual(generator.count_params(), 2_722_791)

    def test_default_critic_has_the_authors_parameter_count(self):
        self.assertEqual(Critic().build_for_size().count_params(), 5_961_601)

    def test_gate_choice_changes_the_count_as_table_1_predicts(self):
        pixelwise = Generator(SMALL).build_for_size().refine.count_params()
        full = Generator(GeneratorConfig(input_size=64, attention_grid=4, width_multiplier=0.25,
                                         refine_gate="full")).build_for_size()
        self.assertGreater(full.refine.count_params(), pixelwise)


class GeneratorTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        keras.utils.set_random_seed(0)
        cls.generator = Generator(SMALL).build_for_size()

    def _inputs(self, batch=2, height=64, width=64, seed=0):
        rng = np.random.default_rng(seed)
        image = rng.uniform(-1, 1, (batch, height, width, 3)).astype(np.float32)
        mask = np.zeros((batch, height, width, 1), np.float32)
        mask[0, 10:30, 20:40] = 1.0
        if batch > 1:
            mask[1, 40:60, 5:25] = 1.0
        return image, mask

    def test_outputs_are_clipped_and_scores_cover_the_grid(self):
        image, mask = self._inputs()
        coarse, refined, scores = self.generator((image, mask))
        self.assertEqual(coarse.shape, image.shape)
        self.assertEqual(refined.shape, image.shape)
        self.assertEqual(scores.shape, (2, 16, 16))
        for output in (coarse, refined):
            self.assertLessEqual(float(tf.reduce_max(tf.abs(output))), 1.0)

    def test_pixels_under_the_hole_never_influence_the_outputs(self):
        image, mask = self._inputs()
        noisy = np.where(mask > 0, np.random.default_rng(9).uniform(-1, 1, image.shape),
                         image).astype(np.float32)
        for clean, dirty in zip(self.generator((image, mask)), self.generator((noisy, mask))):
            self.assertAllEqual(clean, dirty)

    def test_hole_rows_of_each_sample_follow_its_own_mask(self):
        image, mask = self._inputs()
        scores = self.generator((image, mask))[2].numpy()
        for sample in range(2):
            hole = tf.reshape(tf.nn.max_pool2d(mask[sample:sample + 1], 16, 16, "VALID"), [-1])
            touching = tf.reshape(tf.nn.max_pool2d(tf.reshape(hole, [1, 4, 4, 1]), 3, 1, "SAME"),
                                  [-1]).numpy() > 0
            hole_rows = hole.numpy() > 0
            self.assertAllClose(scores[sample][hole_rows].sum(-1), np.ones(hole_rows.sum()),
                                atol=1e-5)
            self.assertEqual(np.abs(scores[sample][:, touching]).max(), 0.0)

    def test_runs_on_non_square_inputs_with_a_matching_grid(self):
        image, mask = self._inputs(batch=1, height=48, width=96)
        _, refined, scores = self.generator((image, mask))
        self.assertEqual(refined.shape, (1, 48, 96, 3))
        self.assertEqual(scores.shape, (1, 18, 18))

    def test_config_round_trip_restores_generator(self):
        clone = Generator.from_config(self.generator.get_config())
        self.assertEqual(clone.config, SMALL)
        clone.build_for_size()
        self.assertEqual(clone.count_params(), self.generator.count_params())


class ConfigTest(tf.test.TestCase):

    def test_kernel_initializers_have_their_documented_scale(self):
        # TruncatedNormal(σ) cut at 2σ has std 0.8796 σ; VarianceScaling corrects for the cut.
        for name, expected in (("author", lambda fan_in: 0.8796 * 0.05),
                               ("gated_he", lambda fan_in: np.sqrt(4.0 / fan_in))):
            generator = Generator(GeneratorConfig(kernel_initializer=name)).build_for_size(64, 64)
            kernel = generator.coarse.blocks[5].feature_conv.kernel.numpy()
            fan_in = np.prod(kernel.shape[:3])
            self.assertAllClose(kernel.std(), expected(fan_in), rtol=0.05, msg=name)

    def test_raises_unknown_initializer(self):
        with self.assertRaisesRegex(ValueError, "kernel_initializer must be one of"):
            GeneratorConfig(kernel_initializer="glorot")

    def test_raises_on_cell_size_not_multiple_of_encoder_downsampling(self):
        with self.assertRaisesRegex(ValueError, "pixels per attention cell"):
            GeneratorConfig(input_size=512, attention_grid=128)

    def test_raises_unknown_gate(self):
        with self.assertRaisesRegex(ValueError, "coarse_gate must be one of"):
            GeneratorConfig(coarse_gate="partial")

    def test_raises_unknown_field_from_dict(self):
        with self.assertRaisesRegex(ValueError, "Unknown GeneratorConfig fields"):
            GeneratorConfig.from_dict({"input_sise": 512})

    def test_critic_rejects_sizes_it_cannot_flatten(self):
        with self.assertRaisesRegex(ValueError, "multiple of 64"):
            CriticConfig(input_size=100)
