"""Tests for the `crainpaint` command (crainpaint/cli.py) and its library (crainpaint/batch.py).

The command runs in subprocesses (`python -m crainpaint`) with a tiny generator saved once
in `setUpClass`; every run loads it and traces the CRA once (~10 s here), so runs are shared where
the tests only read their outputs. Expected pixels come from the input files read with OpenCV
directly (BGR, converted here), never from crainpaint's own reader. Pairing, the progress bar and
the exit status are tested in-process without a model.
"""

import dataclasses
import importlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import warnings

import cv2
import numpy as np
import tensorflow as tf

import crainpaint
from crainpaint import api, batch
from crainpaint.cra import SEAMS, CRAConfig
from crainpaint.models import Generator, GeneratorConfig
from crainpaint.pretrained import load_pretrained, save_generator_weights
from tests.processes import REPOSITORY_ROOT as _REPOSITORY_ROOT, repository_environment

_TINY_CONFIG = dict(input_size=64, attention_grid=4, width_multiplier=0.25)
_HEIGHT, _WIDTH = 90, 120
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CLI_TIMEOUT_SECONDS = 300


_GENERATOR = []


def _tiny_generator():
    """One tiny generator per test process (building one takes seconds)."""
    if not _GENERATOR:
        _GENERATOR.append(Generator(GeneratorConfig(**_TINY_CONFIG)).build_for_size())
    return _GENERATOR[0]


def _environment():
    return repository_environment(TF_CPP_MIN_LOG_LEVEL="2")


def _run_python(*arguments):
    return subprocess.run([sys.executable, *arguments], capture_output=True, text=True,
                          env=_environment(), cwd=_REPOSITORY_ROOT,
                          timeout=_CLI_TIMEOUT_SECONDS, check=False)


def _write_rgb(path, rgb, alpha=None):
    """Writes RGB(A) with OpenCV, which wants BGR(A)."""
    bgr = rgb[..., ::-1]
    if alpha is not None:
        bgr = np.concatenate([bgr, alpha[..., np.newaxis]], axis=2)
    assert cv2.imwrite(path, np.ascontiguousarray(bgr))


def _read_unchanged(path):
    """(RGB, alpha or None) exactly as stored, with OpenCV's own reader."""
    array = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert array is not None, path
    alpha = array[..., 3] if array.shape[2] == 4 else None
    return np.ascontiguousarray(array[..., 2::-1]), alpha


def _random_rgb(seed, dtype=np.uint8, height=_HEIGHT, width=_WIDTH):
    maximum = np.iinfo(dtype).max
    return np.random.RandomState(seed).randint(0, maximum + 1, (height, width, 3)).astype(dtype)


def _rectangle_hole(height=_HEIGHT, width=_WIDTH):
    """Boolean [H, W] hole: a 20×30 rectangle well inside the image."""
    hole = np.zeros((height, width), bool)
    hole[30:50, 40:70] = True
    return hole


def _write_mask(path, hole):
    """White = hole (crainpaint's default convention)."""
    assert cv2.imwrite(path, np.where(hole, 255, 0).astype(np.uint8))


class InpaintCommandTest(tf.test.TestCase):
    """The command end to end, in subprocesses."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp(prefix="crainpaint_cli_test_")
        cls.weights_dir = os.path.join(cls.root, "weights")
        save_generator_weights(_tiny_generator(), cls.weights_dir)
        cls.hole = _rectangle_hole()
        cls.mask_path = os.path.join(cls.root, "mask.png")
        _write_mask(cls.mask_path, cls.hole)
        cls._run_shared_folder()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)
        super().tearDownClass()

    @classmethod
    def _run_shared_folder(cls):
        """One folder run with one --mask for all, whose outputs several tests check: a pure
        red 8-bit image, a 16-bit image and an RGBA image."""
        cls.shared_inputs = os.path.join(cls.root, "shared_in")
        cls.shared_outputs = os.path.join(cls.root, "shared_out")
        os.makedirs(cls.shared_inputs)
        red = np.zeros((_HEIGHT, _WIDTH, 3), np.uint8)
        red[..., 0] = 255
        _write_rgb(os.path.join(cls.shared_inputs, "red.png"), red)
        _write_rgb(os.path.join(cls.shared_inputs, "deep.png"), _random_rgb(1, np.uint16))
        alpha = np.random.RandomState(2).randint(0, 256, (_HEIGHT, _WIDTH)).astype(np.uint8)
        _write_rgb(os.path.join(cls.shared_inputs, "transparent.png"), _random_rgb(3), alpha)
        cls.shared_run = cls.run_cli("--input_dir", cls.shared_inputs, "--mask", cls.mask_path,
                                     "--output_dir", cls.shared_outputs)

    @classmethod
    def run_cli(cls, *flags):
        return _run_python("-m", "crainpaint", "--weights", cls.weights_dir, *flags)

    def assert_succeeded(self, completed):
        self.assertEqual(completed.returncode, 0, msg=completed.stderr)

    def shared_output(self, name):
        self.assert_succeeded(self.shared_run)
        return _read_unchanged(os.path.join(self.shared_outputs, name))

    def new_folder(self):
        return self.create_tempdir().full_path

    def inpaint_one_photo(self, seed, *flags):
        """Runs the command on a fresh random photo with the shared mask and extra flags;
        returns (photo, output pixels) once it succeeded."""
        folder = self.new_folder()
        image = _random_rgb(seed)
        image_path = os.path.join(folder, "photo.png")
        output_path = os.path.join(folder, "filled.png")
        _write_rgb(image_path, image)
        completed = self.run_cli("--image", image_path, "--mask", self.mask_path,
                                 "--output", output_path, *flags)
        self.assert_succeeded(completed)
        return image, _read_unchanged(output_path)[0]

    # Single file.

    def test_single_file_copies_context_and_writes_lossless_png(self):
        folder = self.new_folder()
        image = _random_rgb(0)
        image_path = os.path.join(folder, "photo.png")
        output_path = os.path.join(folder, "filled.png")
        _write_rgb(image_path, image)

        completed = self.run_cli("--image", image_path, "--mask", self.mask_path,
                                 "--output", output_path)

        self.assert_succeeded(completed)
        with open(output_path, "rb") as file:
            self.assertEqual(file.read(len(_PNG_SIGNATURE)), _PNG_SIGNATURE)
        output, alpha = _read_unchanged(output_path)
        self.assertIsNone(alpha)
        self.assertEqual(output.dtype, np.uint8)
        self.assertAllEqual(output[~self.hole], image[~self.hole])
        self.assertTrue(np.any(output[self.hole] != image[self.hole]), msg="hole not filled")
        # Atomic write: no temporary file is left next to the output.
        self.assertCountEqual(os.listdir(folder), ["photo.png", "filled.png"])

    def test_pure_red_image_stays_red_outside_the_hole(self):
        output, _ = self.shared_output("red.png")
        self.assertAllEqual(output[~self.hole],
                            np.broadcast_to([255, 0, 0], output[~self.hole].shape))

    def test_black_hole_convention_fills_the_black_pixels(self):
        image, output = self.inpaint_one_photo(4, "--mask_convention", "black_hole")
        # The white rectangle is kept; everything around it was the hole.
        self.assertAllEqual(output[self.hole], image[self.hole])
        self.assertTrue(np.any(output[~self.hole] != image[~self.hole]))

    def test_dilate_px_grows_the_hole(self):
        dilate_px = 3
        image, output = self.inpaint_one_photo(5, "--dilate_px", str(dilate_px))
        changed = np.any(output != image, axis=-1)
        ring = np.zeros_like(self.hole)
        ring[30 - dilate_px:50 + dilate_px, 40 - dilate_px:70 + dilate_px] = True
        ring &= ~self.hole
        self.assertGreater(int(changed[ring].sum()), 0, msg="no pixel of the grown ring changed")
        self.assertFalse(np.any(changed[~(ring | self.hole)]), msg="changed beyond the dilation")

    def test_hole_threshold_flag_reaches_the_library(self):
        # With the paper's paste the fill is the network's output as it is, so the network's
        # hole (the rectangle's edge rows are partly hole at its size) shows in the result; the
        # Poisson seam corrects the untrained network's output to within a grey level.
        image, output = self.inpaint_one_photo(6, "--hole_threshold", "0", "--seam", "paste")
        generator = load_pretrained(self.weights_dir)
        paste = dataclasses.replace(CRAConfig(), seam="paste")
        expected = api.inpaint(image, self.hole, generator,
                               config=dataclasses.replace(paste, hole_threshold=0.0))
        self.assertAllEqual(output, expected)
        self.assertFalse(np.array_equal(expected, api.inpaint(
            image, self.hole, generator, config=dataclasses.replace(paste, hole_threshold=1.0))))

    def test_seam_flag_reaches_the_library(self):
        seam = next(seam for seam in SEAMS if seam != CRAConfig().seam)
        image, output = self.inpaint_one_photo(7, "--seam", seam)
        generator = load_pretrained(self.weights_dir)
        expected = api.inpaint(image, self.hole, generator,
                               config=dataclasses.replace(CRAConfig(), seam=seam))
        self.assertAllEqual(output, expected)
        # Not the default seam: the default result differs inside the hole.
        self.assertFalse(np.array_equal(expected, api.inpaint(image, self.hole, generator)))

    def test_paper_preset_writes_the_papers_pipeline(self):
        image, output = self.inpaint_one_photo(14, "--cra_preset", "paper")
        generator = load_pretrained(self.weights_dir)
        expected = crainpaint.inpaint(image, self.hole, generator, config=CRAConfig.paper())
        self.assertAllEqual(output, expected)
        self.assertAllEqual(output[~self.hole], image[~self.hole])

    def test_residual_flags_reach_the_library(self):
        image, output = self.inpaint_one_photo(15, "--residual_top_k", "1", "--residual_blend",
                                               "0.5", "--residual_scale", "2")
        generator = load_pretrained(self.weights_dir)
        config = dataclasses.replace(CRAConfig(), residual_top_k=1, residual_blend=0.5,
                                     residual_scale=2)
        self.assertAllEqual(output, api.inpaint(image, self.hole, generator, config=config))

    def test_invalid_cra_combination_is_a_usage_error_before_any_file_is_read(self):
        folder = self.new_folder()
        # Neither the photo nor the weights exist: the usage error must come first.
        completed = _run_python(
            "-m", "crainpaint", "--weights", os.path.join(folder, "no_weights"),
            "--image", os.path.join(folder, "missing.png"), "--mask", self.mask_path,
            "--output", os.path.join(folder, "filled.png"), "--residual_blend", "0.5",
            "--residual_top_k", "0")

        self.assertEqual(completed.returncode, 1, msg=completed.stderr)
        self.assertIn("residual_blend needs residual_top_k >= 1", completed.stderr)
        self.assertNotIn("missing.png", completed.stderr)
        self.assertNotIn("cannot load the generator weights", completed.stderr)
        self.assertEqual(os.listdir(folder), [])

    def test_output_under_a_file_fails_before_the_weights_load(self):
        folder = self.new_folder()
        image_path = os.path.join(folder, "photo.png")
        blocker = os.path.join(folder, "results")
        _write_rgb(image_path, _random_rgb(16))
        with open(blocker, "w") as handle:
            handle.write("a file where a folder is expected")
        for mode in (("--image", image_path, "--mask", self.mask_path,
                      "--output", os.path.join(blocker, "filled.png")),
                     ("--input_dir", folder, "--mask", self.mask_path,
                      "--output_dir", os.path.join(blocker, "filled"))):
            with self.subTest(mode=mode[0]):
                # The weights do not exist: had they been loaded first, that would be the error.
                completed = _run_python("-m", "crainpaint", "--weights",
                                        os.path.join(folder, "no_weights"), *mode)

                self.assertEqual(completed.returncode, 1, msg=completed.stderr)
                self.assertIn(f"{blocker} is a file, not a folder", completed.stderr)
                self.assertNotIn("cannot load the generator weights", completed.stderr)
                self.assertNotIn("Traceback", completed.stderr)

    def test_size_mismatch_fails_and_names_both_sizes(self):
        folder = self.new_folder()
        image_path = os.path.join(folder, "photo.png")
        mask_path = os.path.join(folder, "small_mask.png")
        output_path = os.path.join(folder, "filled.png")
        _write_rgb(image_path, _random_rgb(6))
        _write_mask(mask_path, _rectangle_hole(height=80))

        completed = self.run_cli("--image", image_path, "--mask", mask_path,
                                 "--output", output_path)

        self.assertNotEqual(completed.returncode, 0)
        self.assertIn(f"{_WIDTH}×{_HEIGHT}", completed.stderr)
        self.assertIn(f"{_WIDTH}×80", completed.stderr)
        self.assertFalse(os.path.exists(output_path))

    def test_refuses_to_write_over_the_input_even_with_overwrite(self):
        folder = self.new_folder()
        image_path = os.path.join(folder, "photo.png")
        _write_rgb(image_path, _random_rgb(7))
        with open(image_path, "rb") as file:
            original = file.read()

        completed = self.run_cli("--image", image_path, "--mask", self.mask_path,
                                 "--output", image_path, "--overwrite")

        self.assertNotEqual(completed.returncode, 0)
        self.assertIn("input file", completed.stderr)
        with open(image_path, "rb") as file:
            self.assertEqual(file.read(), original)

    def test_existing_output_is_kept_without_overwrite(self):
        folder = self.new_folder()
        image_path = os.path.join(folder, "photo.png")
        output_path = os.path.join(folder, "filled.png")
        _write_rgb(image_path, _random_rgb(8))
        with open(output_path, "wb") as file:
            file.write(b"precious")

        completed = self.run_cli("--image", image_path, "--mask", self.mask_path,
                                 "--output", output_path)

        self.assertEqual(completed.returncode, 1, msg=completed.stderr)
        self.assertIn("--overwrite", completed.stderr)
        with open(output_path, "rb") as file:
            self.assertEqual(file.read(), b"precious")

    # Bit depth and alpha (outputs of the shared folder run).

    def test_16_bit_png_is_written_back_as_16_bit(self):
        image, _ = _read_unchanged(os.path.join(self.shared_inputs, "deep.png"))
        output, _ = self.shared_output("deep.png")
        self.assertEqual(image.dtype, np.uint16)
        self.assertEqual(output.dtype, np.uint16)
        self.assertAllEqual(output[~self.hole], image[~self.hole])

    def test_rgba_keeps_the_alpha_channel_unchanged(self):
        image, alpha = _read_unchanged(os.path.join(self.shared_inputs, "transparent.png"))
        output, output_alpha = self.shared_output("transparent.png")
        self.assertIsNotNone(output_alpha)
        self.assertAllEqual(output_alpha, alpha)
        self.assertAllEqual(output[~self.hole], image[~self.hole])

    def test_one_mask_for_a_whole_folder(self):
        self.assert_succeeded(self.shared_run)
        self.assertCountEqual(os.listdir(self.shared_outputs),
                              ["red.png", "deep.png", "transparent.png"])
        self.assertIn("3 of 3 images inpainted, 0 failed", self.shared_run.stderr)

    # Folders with failures.

    def test_folder_reports_failures_skips_them_and_exits_with_their_count(self):
        folder = self.new_folder()
        input_dir = os.path.join(folder, "photos")
        mask_dir = os.path.join(folder, "masks")
        output_dir = os.path.join(folder, "filled")
        os.makedirs(input_dir)
        os.makedirs(mask_dir)
        good = _random_rgb(9)
        _write_rgb(os.path.join(input_dir, "good.png"), good)
        with open(os.path.join(input_dir, "corrupt.png"), "wb") as file:
            file.write(b"not a png at all")
        _write_rgb(os.path.join(input_dir, "unmasked.png"), _random_rgb(10))
        _write_mask(os.path.join(mask_dir, "good.png"), self.hole)
        _write_mask(os.path.join(mask_dir, "corrupt.png"), self.hole)

        completed = self.run_cli("--input_dir", input_dir, "--mask_dir", mask_dir,
                                 "--output_dir", output_dir)

        self.assertEqual(completed.returncode, 2, msg=completed.stderr)
        self.assertEqual(os.listdir(output_dir), ["good.png"])
        output, _ = _read_unchanged(os.path.join(output_dir, "good.png"))
        self.assertAllEqual(output[~self.hole], good[~self.hole])
        self.assertIn(os.path.join(input_dir, "corrupt.png"), completed.stderr)
        self.assertIn(os.path.join(input_dir, "unmasked.png"), completed.stderr)
        self.assertIn("no mask", completed.stderr)
        self.assertIn("1 of 3 images inpainted, 2 failed", completed.stderr)
        self.assertIn("3/3", completed.stderr)  # The progress bar reached the end.

    def test_untrained_weights_warning_is_shown(self):
        # No bundled weights (an empty PRETRAINED_DIR) and no --weights: the fallback generator
        # is made tiny, and the mask empty so that the network never runs, to keep this quick.
        folder = self.new_folder()
        image_path = os.path.join(folder, "photo.png")
        mask_path = os.path.join(folder, "empty_mask.png")
        _write_rgb(image_path, _random_rgb(11))
        _write_mask(mask_path, np.zeros((_HEIGHT, _WIDTH), bool))
        script = (
            "import importlib, sys\n"
            "import crainpaint.pretrained as pretrained\n"
            "from crainpaint.models import GeneratorConfig\n"
            f"pretrained.PRETRAINED_DIR = {folder!r}\n"
            f"pretrained.GeneratorConfig = lambda: GeneratorConfig(**{_TINY_CONFIG!r})\n"
            "sys.argv = ['crainpaint'] + sys.argv[1:]\n"
            "importlib.import_module('crainpaint.cli').run()\n")

        completed = _run_python("-c", script, "--image", image_path, "--mask", mask_path,
                                "--output", os.path.join(folder, "filled.png"))

        self.assert_succeeded(completed)
        self.assertIn("UntrainedWeightsWarning", completed.stderr)
        self.assertIn("UNTRAINED", completed.stderr)


class MaskContentNotesTest(tf.test.TestCase):
    """The batch runner reports a mask with no hole or nothing but hole once, by file name."""

    def _notes(self, hole):
        folder = self.create_tempdir().full_path
        image_path, mask_path = (os.path.join(folder, name) for name in ("a.png", "a_mask.png"))
        _write_rgb(image_path, _random_rgb(3))
        _write_mask(mask_path, hole)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = batch.inpaint_file(image_path, mask_path, os.path.join(folder, "out.png"),
                                        _tiny_generator())
        return result, [str(warning.message) for warning in caught], mask_path

    def test_empty_mask_is_noted_with_its_name_and_copies_the_input(self):
        result, caught, mask_path = self._notes(np.zeros((_HEIGHT, _WIDTH), bool))
        self.assertEqual(result.hole_fraction, 0.0)
        self.assertEqual(len(result.notes), 1)
        self.assertIn(f"mask {mask_path} has no hole pixels", result.notes[0])
        self.assertFalse([message for message in caught if "hole" in message], caught)

    def test_all_hole_mask_is_noted_as_having_no_context(self):
        result, caught, mask_path = self._notes(np.ones((_HEIGHT, _WIDTH), bool))
        self.assertEqual(result.hole_fraction, 1.0)
        self.assertEqual(len(result.notes), 1)
        self.assertIn(f"mask {mask_path} is hole everywhere", result.notes[0])
        self.assertFalse([message for message in caught if "hole" in message], caught)


class EntryPointTest(tf.test.TestCase):
    """`crainpaint.inpaint` is the function whatever is imported; the command has three names."""

    def test_function_stays_the_function_after_importing_the_cli(self):
        importlib.import_module("crainpaint.cli")
        importlib.import_module("crainpaint.__main__")

        self.assertIs(crainpaint.inpaint, api.inpaint)

    def test_importing_the_old_module_name_is_refused_and_names_the_cli(self):
        with self.assertRaisesRegex(ImportError, r"crainpaint\.cli"):
            importlib.import_module("crainpaint.inpaint")

        self.assertIs(crainpaint.inpaint, api.inpaint)

    def test_every_spelling_of_the_command_prints_its_help(self):
        for module in ("crainpaint", "crainpaint.inpaint"):
            completed = _run_python("-m", module, "--help")

            # absl exits with status 1 after --help; what matters is the text and no traceback.
            self.assertNotIn("Traceback", completed.stderr)
            self.assertIn("--input_dir", completed.stdout)
            self.assertIn("Inpaint photos of any size", completed.stdout)
            self.assertIn("--feather_px", completed.stdout)


class PairInputsTest(tf.test.TestCase):
    """Pairing images with masks by file stem, in-process and without a model."""

    def make_files(self, folder, names):
        os.makedirs(folder, exist_ok=True)
        for name in names:
            with open(os.path.join(folder, name), "wb") as file:
                file.write(b"x")

    def test_pairs_by_stem_across_extensions(self):
        root = self.create_tempdir().full_path
        photos, masks = os.path.join(root, "photos"), os.path.join(root, "masks")
        self.make_files(photos, ["b.jpg", "a.PNG", ".hidden.png", "notes.txt"])
        self.make_files(masks, ["a.png", "b.png", "extra.png"])

        items = batch.pair_inputs(photos, mask_dir=masks)

        self.assertEqual([(os.path.basename(item.image_path), os.path.basename(item.mask_path))
                          for item in items], [("a.PNG", "a.png"), ("b.jpg", "b.png")])
        self.assertEqual([os.path.basename(path) for path in batch.unused_masks(items, masks)],
                         ["extra.png"])

    def test_missing_and_ambiguous_masks_are_problems_of_their_image(self):
        root = self.create_tempdir().full_path
        photos, masks = os.path.join(root, "photos"), os.path.join(root, "masks")
        self.make_files(photos, ["lonely.jpg", "twice.jpg"])
        self.make_files(masks, ["twice.png", "twice.jpg"])

        lonely, twice = batch.pair_inputs(photos, mask_dir=masks)

        self.assertIsNone(lonely.mask_path)
        self.assertIn("no mask", lonely.problem)
        self.assertIsNone(twice.mask_path)
        self.assertIn("several masks", twice.problem)

    def test_one_mask_for_all_is_not_an_image_of_the_folder(self):
        photos = self.create_tempdir().full_path
        self.make_files(photos, ["a.png", "b.png", "mask.png"])
        mask = os.path.join(photos, "mask.png")

        items = batch.pair_inputs(photos, mask_path=mask)

        self.assertEqual([os.path.basename(item.image_path) for item in items],
                         ["a.png", "b.png"])
        self.assertTrue(all(item.mask_path == mask for item in items))

    def test_plan_batch_writes_png_and_refuses_output_clashes(self):
        root = self.create_tempdir().full_path
        photos, masks = os.path.join(root, "photos"), os.path.join(root, "masks")
        self.make_files(photos, ["a.jpg", "a.png"])
        self.make_files(masks, ["a.png"])

        first, second = batch.plan_batch(photos, os.path.join(root, "out"), mask_dir=masks)

        self.assertEqual(first.output_path, os.path.join(root, "out", "a.png"))
        self.assertIsNone(first.problem)
        self.assertIn("already the output of", second.problem)

    def test_raises_on_bad_mask_arguments(self):
        photos = self.create_tempdir().full_path
        with self.assertRaisesRegex(ValueError, "exactly one"):
            batch.pair_inputs(photos)
        with self.assertRaisesRegex(ValueError, "exactly one"):
            batch.pair_inputs(photos, mask_dir=photos, mask_path="m.png")
        with self.assertRaisesRegex(ValueError, "folder of their own"):
            batch.pair_inputs(photos, mask_dir=photos)
        with self.assertRaisesRegex(ValueError, "not a directory"):
            batch.pair_inputs(os.path.join(photos, "missing"), mask_path=__file__)


class ChecksBeforeInferenceTest(tf.test.TestCase):
    """User errors found by `read_inputs`, before any model is needed."""

    def test_16_bit_image_to_jpeg_is_refused(self):
        folder = self.create_tempdir().full_path
        image_path = os.path.join(folder, "deep.png")
        mask_path = os.path.join(folder, "mask.png")
        _write_rgb(image_path, _random_rgb(13, np.uint16))
        _write_mask(mask_path, _rectangle_hole())
        with self.assertRaisesRegex(ValueError, "16-bit"):
            batch.read_inputs(image_path, mask_path, os.path.join(folder, "out.jpg"))

    def test_unsupported_output_extension_is_refused(self):
        with self.assertRaisesRegex(ValueError, "unsupported extension"):
            batch.check_output_path("out.gif", (), overwrite=False)

    def test_output_folder_under_a_file_is_refused_naming_the_file(self):
        folder = self.create_tempdir().full_path
        blocker = os.path.join(folder, "blocker")
        with open(blocker, "w") as handle:
            handle.write("not a folder")
        with self.assertRaisesRegex(ValueError, re.escape(f"{blocker} is a file, not a folder")):
            batch.check_output_path(os.path.join(blocker, "deeper", "out.png"), (),
                                    overwrite=False)
        with self.assertRaisesRegex(ValueError, re.escape(f"{blocker} is a file, not a folder")):
            batch.check_output_folder(os.path.join(blocker, "out"))
        # A folder that does not exist yet in a writable one is fine (it is created later).
        batch.check_output_folder(os.path.join(folder, "new", "deeper"))

    @unittest.skipIf(hasattr(os, "geteuid") and os.geteuid() == 0,
                     "root may write into any folder")
    def test_read_only_output_folder_is_refused(self):
        folder = self.create_tempdir().full_path
        locked = os.path.join(folder, "locked")
        os.makedirs(locked)
        os.chmod(locked, 0o500)
        try:
            with self.assertRaisesRegex(ValueError,
                                        re.escape(f"Cannot write into {locked}: permission")):
                batch.check_output_path(os.path.join(locked, "out.png"), (), overwrite=False)
        finally:
            os.chmod(locked, 0o700)

    def test_options_are_validated(self):
        with self.assertRaisesRegex(ValueError, "mask_convention"):
            batch.InpaintOptions(mask_convention="grey_hole")
        with self.assertRaisesRegex(ValueError, "dilate_px"):
            batch.InpaintOptions(dilate_px=-1)
        with self.assertRaisesRegex(TypeError, "CRAConfig"):
            batch.InpaintOptions(cra={"seam": "paste"})
        self.assertEqual(batch.InpaintOptions().cra, CRAConfig())
        self.assertEqual(batch.InpaintOptions(cra=CRAConfig.paper()).cra, CRAConfig.paper())


class _FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class _FakeTerminal(io.StringIO):
    def isatty(self):
        return True


class ProgressAndExitStatusTest(tf.test.TestCase):

    def test_progress_shows_count_elapsed_and_eta_without_the_first_item(self):
        clock = _FakeClock()
        stream = io.StringIO()
        progress = batch.ProgressBar(4, stream=stream, clock=clock)
        self.assertIsNone(progress.eta_seconds())
        clock.now += 30.0  # The first item also traces the graph.
        progress.advance("a.jpg")
        clock.now += 5.0
        progress.advance("b.jpg", failed=True)

        # Two items left at the 5 s of the second item, not at the 17.5 s mean.
        self.assertAllClose(progress.eta_seconds(), 10.0)
        lines = stream.getvalue().splitlines()
        self.assertLen(lines, 2)  # Not a terminal: one line per finished item.
        self.assertIn("2/4", lines[1])
        self.assertIn("elapsed 0:35", lines[1])
        self.assertIn("ETA 0:10", lines[1])
        self.assertIn("(1 failed)", lines[1])
        self.assertIn("b.jpg", lines[1])

    def test_progress_redraws_in_place_on_a_terminal(self):
        stream = _FakeTerminal()
        progress = batch.ProgressBar(2, stream=stream, clock=_FakeClock())
        progress.start()
        progress.advance("a.jpg")
        progress.message("FAILED b.jpg: broken")
        progress.advance("b.jpg", failed=True)
        progress.finish()
        text = stream.getvalue()
        self.assertIn("\r", text)
        self.assertIn("FAILED b.jpg: broken\n", text)
        self.assertTrue(text.endswith("\n"))

    def test_exit_status_counts_failures_up_to_125(self):
        self.assertEqual(batch.exit_status(0), 0)
        self.assertEqual(batch.exit_status(2), 2)
        self.assertEqual(batch.exit_status(125), 125)
        self.assertEqual(batch.exit_status(4000), 125)


if __name__ == "__main__":
    tf.test.main()
