"""The bundled weights: float16 storage round trip (``crainpaint.weights``), and that they are
trained."""

import os
import tempfile

import keras
import numpy as np
import tensorflow as tf

import crainpaint
from crainpaint import cra
from crainpaint.evaluation.cases import held_out_cases
from crainpaint.models import Generator, GeneratorConfig
from crainpaint.pretrained import (has_bundled_weights, load_generator_weights, load_pretrained,
                                   save_generator_weights)


class WeightStorageTest(tf.test.TestCase):

    def test_float16_round_trip_restores_every_weight_within_half_precision(self):
        generator = Generator(GeneratorConfig(input_size=64, attention_grid=4,
                                              width_multiplier=0.25)).build_for_size()
        with tempfile.TemporaryDirectory() as directory:
            error = save_generator_weights(generator, directory, step=7)
            restored = load_generator_weights(directory)
        self.assertEqual(restored.pretrained_metadata["step"], 7)
        self.assertLess(error, 1e-3)
        for original, loaded in zip(generator.weights, restored.weights):
            self.assertAllClose(original, loaded, atol=1e-3, rtol=1e-3)
            self.assertAllEqual(loaded.numpy(),
                                original.numpy().astype(np.float16).astype(np.float32))

    def test_given_arrays_are_stored_instead_and_bad_ones_rejected_before_writing(self):
        generator = Generator(GeneratorConfig(input_size=64, attention_grid=4,
                                              width_multiplier=0.25)).build_for_size()
        arrays = {variable.path: np.full(variable.shape, 0.5, np.float32)
                  for variable in generator.weights}
        with tempfile.TemporaryDirectory() as directory:
            save_generator_weights(generator, directory, arrays=arrays)
            for weight in load_generator_weights(directory).weights:
                self.assertAllEqual(weight.numpy(), np.full(weight.shape, 0.5, np.float32))
            target = os.path.join(directory, "rejected")
            first = sorted(arrays)[0]
            with self.assertRaisesRegex(ValueError, "lacks generator weights"):
                save_generator_weights(generator, target,
                                       arrays={k: v for k, v in arrays.items() if k != first})
            with self.assertRaisesRegex(ValueError, "wrong shape"):
                save_generator_weights(generator, target, arrays={**arrays, first: np.zeros(3)})
            self.assertFalse(os.path.exists(target))

    def test_raises_when_weights_do_not_match_the_config(self):
        small = Generator(GeneratorConfig(input_size=64, attention_grid=4,
                                          width_multiplier=0.25)).build_for_size()
        with tempfile.TemporaryDirectory() as directory:
            save_generator_weights(small, directory)
            arrays = dict(np.load(os.path.join(directory, "generator.npz")))
            arrays.pop(sorted(arrays)[0])
            np.savez(os.path.join(directory, "generator.npz"), **arrays)
            with self.assertRaisesRegex(ValueError, "missing"):
                load_generator_weights(directory)

    def test_missing_explicit_weights_raise_instead_of_falling_back(self):
        with self.assertRaisesRegex(FileNotFoundError, "generator.npz"):
            load_pretrained(weights=tempfile.gettempdir() + "/no-such-weights")


class BundledModelTest(tf.test.TestCase):
    """Fails if the bundled weights are missing or not loaded: an untrained generator must lose."""

    def test_bundled_model_beats_an_untrained_one_on_held_out_crops(self):
        self.assertTrue(has_bundled_weights(), "no generator.npz in crainpaint/pretrained/")
        trained = load_pretrained()
        keras.utils.set_random_seed(0)
        untrained = Generator(trained.config).build_for_size()

        def mean_hole_l1(model, seam):
            errors = []
            for crop, hole in held_out_cases():
                output = crainpaint.inpaint(crop, hole, model, seam=seam)
                errors.append(np.abs(output.astype(float) - crop)[hole[..., 0]].mean())
            return np.mean(errors)

        # "paste" (the paper's) shows the network alone; "poisson" corrects it at the edge.
        for seam in cra.SEAMS:
            trained_l1, untrained_l1 = mean_hole_l1(trained, seam), mean_hole_l1(untrained, seam)
            self.assertLess(trained_l1, 0.7 * untrained_l1,
                            f"seam {seam}: in-hole L1 trained {trained_l1:.2f} vs untrained "
                            f"{untrained_l1:.2f}")
