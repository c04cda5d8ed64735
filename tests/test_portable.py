"""Tests for crainpaint.portable: the numpy CRA against the graph CRA of crainpaint.cra.

The same tiny generator (``gated_he`` initialiser, so that its fills are not flat) runs both
pipelines: directly, through a small adapter with the exported file's contract, so that any
difference is the CRA's; and as an ONNX file in onnxruntime, the way users run it. Photos are
synthetic (smooth structure + texture) of a few sizes, including ones smaller than the network
input (the up-sampling path). A subprocess that cannot import TensorFlow inpaints an 8K photo.
"""

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

import cv2
import numpy as np
import tensorflow as tf

from crainpaint import portable
from crainpaint.cra import CRAConfig, inpaint_image
from crainpaint.models import Generator, GeneratorConfig

TINY_CONFIG = GeneratorConfig(input_size=64, attention_grid=4, width_multiplier=0.25,
                              kernel_initializer="gated_he")
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# (height, width): larger than the network input, smaller than it (up-sampled), one side each.
PHOTO_SIZES = ((100, 130), (50, 70), (96, 40))
# Pairs of (portable, graph) configurations that must agree.
CONFIGS = {
    "defaults, tile geometry": (portable.PortableConfig(), CRAConfig(geometry="tile")),
    "defaults, tile geometry, paste seam": (
        portable.PortableConfig(seam="paste"), CRAConfig(geometry="tile", seam="paste")),
    "paper": (portable.PortableConfig.paper(), CRAConfig.paper()),
    "top 3, sharpened, no blend, half threshold": (
        portable.PortableConfig(residual_top_k=3, residual_blend=0.0, residual_sharpness=2.0,
                                residual_scale=2, hole_threshold=0.5),
        CRAConfig(geometry="tile", residual_top_k=3, residual_blend=0.0,
                  residual_sharpness=2.0, residual_scale=2, hole_threshold=0.5)),
    "top 2 of 5 matched on the edge cells' known pixels": (
        portable.PortableConfig(residual_top_k=2, residual_blend=0.0, residual_candidates=5),
        CRAConfig(geometry="tile", residual_top_k=2, residual_blend=0.0,
                  residual_candidates=5)),
}
# Grey levels: float rounding (area sums, runtime kernels) may move a value across .5.
GREY_TOLERANCE = 1
SUBPROCESS_TIMEOUT_S = 300

# Imports crainpaint.portable with tensorflow, keras and tf2onnx made unimportable, inpaints an
# 8K photo with the ONNX file given as argv[1], and checks the result.
NO_TENSORFLOW_SCRIPT = textwrap.dedent(r'''
    import importlib.abc
    import sys

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("tensorflow", "keras", "tf2onnx", "tf_keras"):
                raise ImportError(f"{name} is blocked in this test")
            return None

    sys.meta_path.insert(0, Blocker())
    import numpy as np
    from crainpaint.portable import PortableNetwork, inpaint

    height, width = 4320, 7680
    rows = np.arange(height, dtype=np.float32)[:, None, None]
    cols = np.arange(width, dtype=np.float32)[None, :, None]
    image = (128 + 60 * np.sin(rows / 40 + cols / 90 + np.arange(3))).astype(np.uint8)
    hole = np.zeros((height, width), bool)
    hole[1000:1900, 2500:4100] = True
    result = inpaint(image, hole, PortableNetwork(sys.argv[1]))
    assert result.shape == image.shape and result.dtype == np.uint8, result.shape
    assert np.array_equal(result[~hole], image[~hole]), "pixels outside the hole changed"
    assert not np.array_equal(result[hole], image[hole]), "the hole was not filled"
    loaded = sorted(name for name in sys.modules
                    if name.split(".")[0] in ("tensorflow", "keras"))
    assert not loaded, loaded
    print("ok")
''')


def _missing(*modules):
    for module in modules:
        try:
            __import__(module)
        except ImportError:
            return True
    return False


def photo_like(height, width, seed=0):
    """Smooth structure plus high-frequency texture, uint8 RGB."""
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.uniform(0, 255, (6, 5, 3)).astype(np.float32), (width, height),
                      interpolation=cv2.INTER_CUBIC)
    return np.clip(base + rng.normal(0, 20, (height, width, 3)), 0, 255).astype(np.uint8)


def hole_like(height, width):
    """Two holes: a block inside the photo and one at its bottom-left border."""
    hole = np.zeros((height, width), bool)
    hole[height // 4:height // 2 + 5, width // 3:width // 3 + width // 4] = True
    hole[height - height // 8:, :width // 6] = True
    return hole


class KerasNetwork:
    """The Keras generator with an exported file's contract (``PortableNetwork``)."""

    def __init__(self, generator):
        self.generator = generator
        self.input_size = generator.config.input_size
        self.grid = generator.config.attention_grid

    def __call__(self, image, mask):
        _, refined, scores = self.generator((image[np.newaxis], mask[np.newaxis]))
        return refined.numpy()[0], scores.numpy()[0]


class PortableCRATest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tf.random.set_seed(11)
        cls.generator = Generator(TINY_CONFIG).build_for_size()

    def _assert_matches_graph_cra(self, network, configs, sizes):
        for name, (portable_config, graph_config) in configs.items():
            for height, width in sizes:
                with self.subTest(config=name, size=(height, width)):
                    image, hole = photo_like(height, width), hole_like(height, width)
                    expected = inpaint_image(image, hole[..., np.newaxis], self.generator,
                                             graph_config).numpy()
                    actual = portable.inpaint(image, hole, network, portable_config)
                    self.assertEqual(actual.dtype, np.uint8)
                    self.assertAllClose(actual.astype(np.int32), expected.astype(np.int32),
                                        atol=GREY_TOLERANCE, rtol=0)
                    self.assertAllEqual(actual[~hole], image[~hole])
                    self.assertGreater(np.std(actual[hole].astype(np.float32)), 1.0)

    def test_matches_graph_cra_for_the_same_network_outputs(self):
        self._assert_matches_graph_cra(KerasNetwork(self.generator), CONFIGS, PHOTO_SIZES)

    @unittest.skipIf(_missing("onnxruntime", "tf2onnx"),
                     "onnxruntime or tf2onnx not installed: pip install 'crainpaint[export]'")
    def test_matches_graph_cra_through_the_onnx_file(self):
        network = portable.PortableNetwork(self._onnx_path())
        self.assertEqual((network.input_size, network.grid), (64, 4))
        default = "defaults, tile geometry"
        self._assert_matches_graph_cra(network, {default: CONFIGS[default]}, PHOTO_SIZES[:2])

    @unittest.skipIf(_missing("onnxruntime", "tf2onnx"),
                     "onnxruntime or tf2onnx not installed: pip install 'crainpaint[export]'")
    def test_inpaints_an_8k_photo_without_tensorflow(self):
        environment = dict(os.environ, PYTHONPATH=REPOSITORY)
        completed = subprocess.run(
            [sys.executable, "-c", NO_TENSORFLOW_SCRIPT, self._onnx_path()],
            capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S, env=environment,
            cwd=tempfile.gettempdir())
        self.assertEqual(completed.returncode, 0, completed.stderr[-3000:])
        self.assertEqual(completed.stdout.strip(), "ok")

    def _onnx_path(self):
        if not hasattr(type(self), "onnx_path"):
            from crainpaint.export_formats import export_network
            type(self).onnx_path = export_network(self.generator, tempfile.mkdtemp(), "onnx")
        return self.onnx_path

    def test_returns_a_copy_when_the_hole_is_empty(self):
        image = photo_like(30, 40)
        result = portable.inpaint(image, np.zeros((30, 40), np.uint8),
                                  KerasNetwork(self.generator))
        self.assertAllEqual(result, image)


class PortableResizeTest(tf.test.TestCase):

    def test_area_and_bilinear_match_tensorflow(self):
        rng = np.random.default_rng(1)
        # Integer and fractional ratios, down and up, one axis unchanged.
        for (height, width), (out_height, out_width) in (
                ((128, 96), (64, 64)), ((130, 70), (100, 64)), ((50, 70), (64, 90)),
                ((64, 33), (64, 64))):
            image = rng.uniform(0, 255, [height, width, 3]).astype(np.float32)
            for method in ("area", "bilinear"):
                with self.subTest(size=(height, width), method=method):
                    self.assertAllClose(
                        portable.resize(image, out_height, out_width, method),
                        tf.image.resize(image, [out_height, out_width], method),
                        atol=1e-3, rtol=0)

    def test_area_of_a_hole_is_zero_exactly_where_no_hole_pixel_is_covered(self):
        hole = np.zeros([130, 70, 1], np.float32)
        hole[40:41, 20:23] = 1.0
        expected = tf.image.resize(hole, [100, 64], "area").numpy() > 0.0
        self.assertAllEqual(portable.resize(hole, 100, 64, "area") > 0.0, expected)


class PortableConfigTest(tf.test.TestCase):

    def test_defaults_are_the_graph_cra_defaults_but_the_geometry(self):
        defaults, graph = portable.PortableConfig(), CRAConfig()
        for field in ("hole_threshold", "seam", "residual_top_k", "residual_sharpness",
                      "residual_blend", "residual_scale", "residual_candidates"):
            self.assertEqual(getattr(defaults, field), getattr(graph, field), field)
        paper, graph_paper = portable.PortableConfig.paper(), CRAConfig.paper()
        for field in ("geometry", "hole_threshold", "seam", "residual_top_k",
                      "residual_sharpness", "residual_blend", "residual_scale",
                      "residual_candidates"):
            self.assertEqual(getattr(paper, field), getattr(graph_paper, field), field)

    def test_refuses_the_aspect_geometry_and_names_the_fix(self):
        with self.assertRaisesRegex(ValueError, "fixed square input.*crainpaint.cra"):
            portable.PortableConfig(geometry="aspect")

    def test_refuses_residual_candidates_below_one_or_not_an_int(self):
        for value in (0, True, 2.0):
            with self.assertRaisesRegex(ValueError, "residual_candidates must be an int >= 1"):
                portable.PortableConfig(residual_candidates=value)

    def test_refuses_a_blend_without_top_k(self):
        with self.assertRaisesRegex(ValueError, "residual_top_k"):
            portable.PortableConfig(residual_top_k=0, residual_blend=0.3)

    def test_refuses_a_file_of_another_kind(self):
        with self.assertRaisesRegex(ValueError, r"\.onnx or \.tflite"):
            portable.PortableNetwork("model.pb")


if __name__ == "__main__":
    tf.test.main()
