"""Start-up paths: the lazy package import, building from shapes, building with stored weights."""

import os
import subprocess
import sys

import numpy as np
import tensorflow as tf

from crainpaint.models import Generator, GeneratorConfig, build_generator_with_weights

TINY = GeneratorConfig(input_size=64, attention_grid=4, width_multiplier=0.25)
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def random_arrays(config, seed=0):
    """{variable.path: array} of random values for every weight of ``config``'s generator."""
    rng = np.random.default_rng(seed)
    reference = Generator(config).build_for_size()
    return {variable.path: rng.normal(0.0, 0.1, tuple(variable.shape)).astype(np.float16)
            for variable in reference.weights}


class LazyImportTest(tf.test.TestCase):

    def test_import_crainpaint_loads_neither_tensorflow_nor_opencv(self):
        code = ("import sys, crainpaint; "
                "print(sorted(name for name in ('tensorflow', 'cv2', 'keras') "
                "if name in sys.modules))")
        environment = dict(os.environ, PYTHONPATH=REPOSITORY)
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                env=environment, cwd=REPOSITORY, check=True).stdout
        self.assertEqual(output.strip().splitlines()[-1], "[]")

    def test_public_names_resolve_to_their_modules(self):
        import crainpaint
        from crainpaint import api, pretrained
        self.assertIs(crainpaint.load_pretrained, pretrained.load_pretrained)
        self.assertIs(crainpaint.GeneratorConfig, GeneratorConfig)
        self.assertIn("inpaint", dir(crainpaint))
        self.assertTrue(callable(crainpaint.inpaint))
        self.assertIs(getattr(api, "inpaint"), api.inpaint)

    def test_unknown_name_raises_attribute_error(self):
        import crainpaint
        with self.assertRaisesRegex(AttributeError, "no attribute 'not_a_name'"):
            crainpaint.not_a_name  # noqa: B018


class BuildFromShapesTest(tf.test.TestCase):

    def test_build_for_size_creates_the_variables_a_forward_pass_creates(self):
        built = Generator(TINY).build_for_size()
        called = Generator(TINY)
        called((tf.zeros([1, 64, 64, 3]), tf.zeros([1, 64, 64, 1])))
        self.assertEqual([(variable.path, tuple(variable.shape)) for variable in built.weights],
                         [(variable.path, tuple(variable.shape)) for variable in called.weights])

    def test_build_for_size_refuses_sizes_off_the_cell_grid(self):
        with self.assertRaisesRegex(ValueError, "multiples of the cell size 16"):
            Generator(TINY).build_for_size(72, 64)


class BuildGeneratorWithWeightsTest(tf.test.TestCase):

    def test_weights_equal_build_then_assign(self):
        arrays = random_arrays(TINY)
        expected = Generator(TINY).build_for_size()
        for variable in expected.weights:
            variable.assign(arrays[variable.path].astype(np.float32))
        generator = build_generator_with_weights(TINY, arrays)
        self.assertEqual([variable.path for variable in generator.weights],
                         [variable.path for variable in expected.weights])
        for variable, reference in zip(generator.weights, expected.weights):
            self.assertEqual(variable.dtype, reference.dtype)
            self.assertAllEqual(variable.numpy(), reference.numpy())
        image = tf.random.stateless_uniform([1, 64, 64, 3], [1, 2], -1.0, 1.0)
        mask = tf.cast(tf.random.stateless_uniform([1, 64, 64, 1], [3, 4]) > 0.7, tf.float32)
        self.assertAllEqual(generator((image, mask))[1], expected((image, mask))[1])

    def test_initializers_are_restored_after_the_build(self):
        generator = build_generator_with_weights(TINY, random_arrays(TINY))
        self.assertEqual(generator.coarse.blocks[0].feature_conv.get_config(),
                         Generator(TINY).build_for_size().coarse.blocks[0].feature_conv
                         .get_config())

    def test_refuses_arrays_missing_a_weight(self):
        arrays = random_arrays(TINY)
        del arrays["generator/refine/to_rgb/gate/bias"]
        with self.assertRaisesRegex(ValueError, "missing 'generator/refine/to_rgb/gate/bias'"):
            build_generator_with_weights(TINY, arrays)

    def test_refuses_a_weight_of_another_shape(self):
        arrays = random_arrays(TINY)
        arrays["generator/coarse/down1/feature/kernel"] = np.zeros([3, 3, 4, 8], np.float16)
        with self.assertRaisesRegex(ValueError, "has shape \\(3, 3, 4, 8\\)"):
            build_generator_with_weights(TINY, arrays)

    def test_refuses_weights_the_generator_does_not_have(self):
        arrays = random_arrays(TINY)
        arrays["generator/extra/kernel"] = np.zeros([1], np.float16)
        with self.assertRaisesRegex(ValueError, "generator/extra/kernel"):
            build_generator_with_weights(TINY, arrays)
