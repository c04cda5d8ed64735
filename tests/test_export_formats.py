"""Tests for the portable attention layers and the ONNX / LiteRT exports of the network.

The portable layers must compute what the original ACM / ATM compute (random inputs, per-sample
holes at batch 2, every transfer geometry the generator uses), the patch extraction and the fold
must stay adjoint, and a generator with the portable layers must equal the original: with the
tiny config and once with the bundled 512² model. A tiny generator (``gated_he`` initialiser, so
that its outputs are of order 1, not the ``author`` initialiser's 1e-9) is then exported in both
formats once, and each file is run in its runtime (onnxruntime, ai_edge_litert) against the
Keras generator.
"""

import os
import tempfile
import unittest

import keras
import numpy as np
import tensorflow as tf

from crainpaint import export_formats
from crainpaint.layers import portable_attention
from crainpaint.layers.attention import (AttentionComputing, AttentionTransfer,
                                         extract_patches, grid_hole_mask)
from crainpaint.models import Generator, GeneratorConfig

TINY_CONFIG = GeneratorConfig(input_size=64, attention_grid=4, width_multiplier=0.25,
                              kernel_initializer="gated_he")
# float32 through a few dozen layers: the orders of summation of the matmul against
# gather/scatter and of the runtimes' kernels differ in the last bits only.
LAYER_TOLERANCE = 1e-5
# Outputs in [-1, 1]; 1e-4 is 1/80 of a grey level, well inside the 0.01 (1.3 grey levels)
# that the CRA's rounding could turn into a visible difference.
RUNTIME_TOLERANCE = 1e-4


def _missing(module):
    try:
        __import__(module)
        return False
    except ImportError:
        return True


def random_hole_grid(rng, batch, grid):
    holes = (rng.uniform(size=[batch, grid, grid, 1]) < 0.3).astype(np.float32)
    holes[:, 1, 1] = 1.0  # At least one hole cell per sample.
    return holes


def tiny_inputs(rng, size, batch=1):
    image = rng.uniform(-1.0, 1.0, [batch, size, size, 3]).astype(np.float32)
    mask = np.zeros([batch, size, size, 1], np.float32)
    mask[0, size // 4:size // 2, size // 8:size // 2 + 3] = 1.0
    if batch > 1:
        mask[1, size // 2:, size // 2:] = 1.0
    return image, mask


class PortableAttentionTest(tf.test.TestCase):

    def test_pooled_hole_grid_equals_grid_hole_mask(self):
        mask = (np.random.default_rng(0).uniform(size=[2, 32, 48, 1]) < 0.05).astype(np.float32)
        self.assertAllEqual(portable_attention.pooled_hole_grid(mask, (4, 6)),
                            grid_hole_mask(mask, (4, 6)))

    def test_computing_equals_original_for_both_normalizations(self):
        rng = np.random.default_rng(1)
        features = rng.normal(size=[2, 32, 32, 8]).astype(np.float32)
        holes = random_hole_grid(rng, 2, 8)
        for normalization in ("paper", "author"):
            for fuse in (True, False):
                arguments = dict(normalization=normalization, fuse=fuse)
                with self.subTest(**arguments):
                    self.assertAllClose(
                        portable_attention.PortableAttentionComputing(**arguments)(
                            features, holes),
                        AttentionComputing(**arguments)(features, holes),
                        atol=LAYER_TOLERANCE, rtol=LAYER_TOLERANCE)

    def test_transfer_equals_original_for_every_geometry(self):
        rng = np.random.default_rng(2)
        grid = 4
        holes = random_hole_grid(rng, 2, grid)
        scores = tf.nn.softmax(rng.normal(size=[2, grid * grid, grid * grid]) * 3.0)
        # (patch, stride): the generator's 4/8/16 at 2/4/8, the minimal tiling, stride 1.
        for patch_size, stride in ((4, 2), (8, 4), (16, 8), (4, 4), (3, 1)):
            with self.subTest(patch_size=patch_size, stride=stride):
                features = rng.normal(size=[2, grid * stride, grid * stride, 5]).astype(
                    np.float32)
                self.assertAllClose(
                    portable_attention.PortableAttentionTransfer(patch_size, stride)(
                        features, tf.cast(scores, tf.float32), holes),
                    AttentionTransfer(patch_size, stride)(
                        features, tf.cast(scores, tf.float32), holes),
                    atol=LAYER_TOLERANCE, rtol=LAYER_TOLERANCE)

    def test_shifted_patches_hold_the_extracted_patches_values(self):
        # The same numbers as ExtractImagePatches per cell, in another order.
        features = np.random.default_rng(3).normal(size=[1, 16, 16, 2]).astype(np.float32)
        shifted = portable_attention.shifted_patches(features, 8, 4)
        extracted, _, _ = extract_patches(features, 8, 4)
        self.assertAllClose(np.sort(np.reshape(shifted, [16, -1]), axis=-1),
                            np.sort(np.reshape(extracted, [16, -1]), axis=-1))

    def test_fold_is_the_adjoint_of_the_extraction(self):
        rng = np.random.default_rng(4)
        features = rng.normal(size=[1, 24, 24, 3]).astype(np.float32)
        patches = rng.normal(size=[1, 3, 3, 4 * 64 * 3]).astype(np.float32)
        left = np.sum(portable_attention.shifted_patches(features, 16, 8) * patches)
        right = np.sum(features * portable_attention.fold_shifted_patches(patches, 16, 8, 3))
        self.assertAllClose(left, right, rtol=1e-4)

    def test_refuses_feature_maps_of_unknown_size(self):
        layer = portable_attention.PortableAttentionComputing()
        traced = tf.function(layer.call, input_signature=[
            tf.TensorSpec([1, None, None, 4]), tf.TensorSpec([1, 4, 4, 1])])
        with self.assertRaisesRegex(ValueError, "fixed input size"):
            traced.get_concrete_function()

    def test_portable_generator_equals_tiny_generator(self):
        generator = Generator(TINY_CONFIG).build_for_size()
        image, mask = tiny_inputs(np.random.default_rng(5), 64, batch=2)
        expected = generator((image, mask))
        actual = export_formats.portable_generator(generator)((image, mask))
        for name, want, got in zip(("coarse", "refined", "scores"), expected, actual):
            with self.subTest(output=name):
                self.assertAllClose(got, want, atol=LAYER_TOLERANCE, rtol=LAYER_TOLERANCE)

    def test_portable_generator_equals_bundled_512_generator(self):
        from crainpaint.pretrained import load_pretrained
        generator = load_pretrained()
        image, mask = tiny_inputs(np.random.default_rng(6), generator.config.input_size)
        _, refined, scores = generator((image, mask))
        _, portable_refined, portable_scores = export_formats.portable_generator(generator)(
            (image, mask))
        self.assertAllClose(portable_refined, refined, atol=LAYER_TOLERANCE)
        self.assertAllClose(portable_scores, scores, atol=LAYER_TOLERANCE)


class ExportFormatsTest(tf.test.TestCase):
    """Both files of one tiny generator, written once for the class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        keras.utils.set_random_seed(7)
        cls.generator = Generator(TINY_CONFIG).build_for_size()
        cls.folder = tempfile.mkdtemp()
        cls.paths = {}
        for file_format, module in (("onnx", "tf2onnx"), ("tflite", None)):
            if module and _missing(module):
                continue
            cls.paths[file_format] = export_formats.export_network(
                cls.generator, cls.folder, file_format)
        image, mask = tiny_inputs(np.random.default_rng(8), 64)
        cls.image, cls.mask = image, mask
        _, refined, scores = cls.generator((image, mask))
        cls.expected = {"refined": refined.numpy(), "scores": scores.numpy()}

    def _check_runs_and_matches(self, outputs):
        self.assertEqual(outputs["refined"].shape, (1, 64, 64, 3))
        self.assertEqual(outputs["scores"].shape, (1, 16, 16))
        # A generator whose output is not of order 1 would pass any tolerance.
        self.assertGreater(np.std(self.expected["refined"]), 0.05)
        for name in ("refined", "scores"):
            with self.subTest(output=name):
                self.assertAllClose(outputs[name], self.expected[name], atol=RUNTIME_TOLERANCE,
                                    rtol=0)

    def test_writes_the_named_files_and_nothing_else(self):
        self.assertCountEqual(os.listdir(self.folder),
                              [os.path.basename(path) for path in self.paths.values()])
        for file_format, path in self.paths.items():
            self.assertEqual(os.path.basename(path), f"crainpaint_64.{file_format}")

    @unittest.skipIf(_missing("onnxruntime") or _missing("tf2onnx"),
                     "onnxruntime or tf2onnx not installed: pip install 'crainpaint[export]'")
    def test_onnx_runs_in_onnxruntime_and_matches_keras(self):
        import onnxruntime
        session = onnxruntime.InferenceSession(self.paths["onnx"],
                                               providers=["CPUExecutionProvider"])
        self.assertEqual([entry.name for entry in session.get_inputs()], ["image", "mask"])
        refined, scores = session.run(["refined", "scores"],
                                      {"image": self.image, "mask": self.mask})
        self._check_runs_and_matches({"refined": refined, "scores": scores})

    @unittest.skipIf(_missing("ai_edge_litert"),
                     "ai-edge-litert not installed: pip install 'crainpaint[export]'")
    def test_tflite_runs_in_litert_and_matches_keras(self):
        from ai_edge_litert.interpreter import Interpreter
        interpreter = Interpreter(model_path=self.paths["tflite"])
        self.assertEqual(interpreter.get_signature_list(), {
            "serving_default": {"inputs": ["image", "mask"], "outputs": ["refined", "scores"]}})
        outputs = interpreter.get_signature_runner()(image=self.image, mask=self.mask)
        self._check_runs_and_matches(outputs)

    def test_tflite_holds_builtin_ops_only(self):
        # A model with TF "select" ops names the Flex delegate's custom ops in its buffer.
        with open(self.paths["tflite"], "rb") as file:
            self.assertNotIn(b"Flex", file.read())

    def test_unknown_format_names_the_choices(self):
        with self.assertRaisesRegex(ValueError, "onnx.*tflite"):
            export_formats.network_file_name(512, "pb")


class WriteAtomicallyTest(tf.test.TestCase):

    def test_keeps_the_old_file_when_writing_fails(self):
        folder = self.create_tempdir().full_path
        path = os.path.join(folder, "crainpaint_64.onnx")
        export_formats.write_atomically(path, b"old")
        with self.assertRaises(TypeError):
            export_formats.write_atomically(path, "not bytes")
        with open(path, "rb") as file:
            self.assertEqual(file.read(), b"old")
        self.assertEqual(os.listdir(folder), ["crainpaint_64.onnx"])


if __name__ == "__main__":
    tf.test.main()
