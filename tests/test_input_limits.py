"""Hostile input end to end: the pixel budget and the mask rules in `crainpaint.inpaint` and the CLI.

A tiny untrained generator stands in for the bundled one: what is pinned is which inputs are
refused before any work, which are warned about, and that a 0/1 mask is never a silent no-op.
"""

import os
import subprocess
import sys
import warnings
from unittest import mock

import numpy as np
import tensorflow as tf

import crainpaint
from crainpaint import image_header
from crainpaint import pixels
from crainpaint.models import Generator, GeneratorConfig
from tests.processes import repository_environment
from tests.test_image_header import _png_header

_TINY_CONFIG = dict(input_size=64, attention_grid=4, width_multiplier=0.25)


def _no_weights_loading():
    """Makes loading the bundled weights fail the test: refusals must come first."""
    return mock.patch("crainpaint.pretrained.load_pretrained",
                      side_effect=AssertionError("weights loaded before the input was refused"))


class InpaintArraysTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.generator = Generator(GeneratorConfig(**_TINY_CONFIG)).build_for_size()
        cls.image = np.random.RandomState(0).randint(0, 256, (40, 48, 3)).astype(np.uint8)

    def test_zero_one_uint8_mask_fills_its_hole_and_warns(self):
        mask = np.zeros((40, 48), np.uint8)
        mask[10:30, 12:36] = 1
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            filled = crainpaint.inpaint(self.image, mask, self.generator)
        self.assertTrue(any(issubclass(warning.category, pixels.MaskWarning)
                            and "0 and 1" in str(warning.message) for warning in caught))
        self.assertFalse(np.array_equal(filled[10:30, 12:36], self.image[10:30, 12:36]))
        outside = mask == 0
        self.assertAllEqual(filled[outside], self.image[outside])

    def test_nan_mask_and_disagreeing_bool_channels_are_refused_before_any_work(self):
        nan_mask = np.zeros((40, 48), np.float32)
        nan_mask[0, 0] = np.nan
        disagreeing = np.zeros((40, 48, 3), bool)
        disagreeing[5, 5, 1] = True
        with _no_weights_loading():
            with self.assertRaisesRegex(ValueError, "NaN"):
                crainpaint.inpaint(self.image, nan_mask)
            with self.assertRaisesRegex(ValueError, "disagree"):
                crainpaint.inpaint(self.image, disagreeing)

    def test_empty_and_full_masks_warn(self):
        for mask, message in ((np.zeros((40, 48), bool), "no hole pixels"),
                              (np.ones((40, 48), bool), "no context")):
            with self.subTest(message):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    crainpaint.inpaint(self.image, mask, self.generator)
                self.assertTrue(any(message in str(warning.message) for warning in caught))

    def test_array_over_the_budget_is_refused_before_any_work(self):
        mask = np.zeros((40, 48), bool)
        with _no_weights_loading():
            with self.assertRaisesRegex(image_header.ImageTooLargeError, "48×40"):
                crainpaint.inpaint(self.image, mask, max_pixels=40 * 48 - 1)
            with mock.patch.dict(os.environ,
                                 {image_header.MAX_PIXELS_ENVIRONMENT_VARIABLE: "1000"}):
                with self.assertRaises(image_header.ImageTooLargeError):
                    crainpaint.inpaint(self.image, mask)


class CommandLineBombTest(tf.test.TestCase):
    def test_32000_square_png_pair_is_refused_before_decoding_in_little_memory(self):
        folder = self.create_tempdir().full_path
        paths = {}
        for name in ("photo", "mask"):
            paths[name] = os.path.join(folder, f"{name}.png")
            with open(paths[name], "wb") as file:
                file.write(_png_header(32000, 32000))
        environment = repository_environment(TF_CPP_MIN_LOG_LEVEL="3")
        environment.pop(image_header.MAX_PIXELS_ENVIRONMENT_VARIABLE, None)
        # The command's own peak memory is its VmHWM at exit: the child's rusage would also
        # count the pages it shared with this (large) test process between fork and exec.
        launcher = ("import atexit, runpy, sys\n"
                    "def report():\n"
                    "    for line in open('/proc/self/status'):\n"
                    "        if line.startswith('VmHWM:'):\n"
                    "            sys.stderr.write('peak_kib=' + line.split()[1] + '\\n')\n"
                    "atexit.register(report)\n"
                    "sys.argv[0] = 'crainpaint'\n"
                    "runpy.run_module('crainpaint', run_name='__main__', alter_sys=True)\n")
        completed = subprocess.run(
            [sys.executable, "-c", launcher, "--image", paths["photo"],
             "--mask", paths["mask"], "--output", os.path.join(folder, "out.png")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment)
        stderr = completed.stderr.decode()
        self.assertEqual(completed.returncode, 1, stderr)
        self.assertIn(f"image {paths['photo']} is 32000×32000", stderr)
        self.assertIn("--max_pixels", stderr)
        self.assertNotIn("Traceback", stderr)
        peak_kib = int(stderr.rsplit("peak_kib=", 1)[1].split()[0])
        self.assertLess(peak_kib * 1024, 2**30)
        self.assertEqual(sorted(os.listdir(folder)), ["mask.png", "photo.png"])


if __name__ == "__main__":
    tf.test.main()
