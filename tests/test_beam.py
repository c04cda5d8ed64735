"""Tests for crainpaint.beam: `python -m crainpaint.beam` on the DirectRunner.

A tiny generator (random weights, fixed seed) is exported with a small pixel budget; the command
line then inpaints a folder of five photos: two good ones (PNG, JPEG), a corrupt file, one over
the export's `max_pixels` and one without a mask. The good outputs must be byte-identical to the
SavedModel's `inpaint_bytes` called directly, within 1 grey level of `crainpaint.inpaint` (the
library; TF's graph and eager kernels may round differently, as in test_export), and equal to
the input outside the hole; the three others must be in the failures file with their reason.
The pairing rules are checked against `crainpaint.batch.plan_batch`. About a minute on 2 busy
CPU cores.

Needs the `beam` extra; skipped without it unless the CI environment variable is set, where a
missing apache_beam is a failure (make install installs it).
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import unittest

import cv2
import numpy as np
import tensorflow as tf

import crainpaint
from crainpaint import batch, export
from tests.test_export import (_export_workspace, _png_bytes, _structured_mask,
                               _structured_photo)

BEAM_MISSING = importlib.util.find_spec("apache_beam") is None
IN_CI = bool(os.environ.get("CI"))
SKIP_REASON = ("apache_beam is not installed: install the beam extra (pip install -c "
               "constraints.txt -e '.[beam]', which make install does)")
# 200×200 = 40 000 pixels pass; the "big" photo (210×200) does not.
TEST_MAX_PIXELS = 40_000
SEED = 20200615


def _write(path, data):
    with open(path, "wb") as handle:
        handle.write(data)


def _jpeg_bytes(rgb):
    succeeded, buffer = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert succeeded
    return buffer.tobytes()


def _decode(data):
    """uint8 RGB [H, W, 3] by TF's decoder, the one the SavedModel uses."""
    return tf.io.decode_image(data, channels=3, expand_animations=False).numpy()


def _require_beam():
    if BEAM_MISSING:
        raise AssertionError(f"CI is set but {SKIP_REASON}.")


@unittest.skipIf(BEAM_MISSING and not IN_CI, SKIP_REASON)
class BeamCommandLineTest(tf.test.TestCase):
    """One export and one `python -m crainpaint.beam` run in setUpClass; tests read the files."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        _require_beam()
        started = time.time()
        cls.root, data_dir, _, _, generator = _export_workspace("crainpaint_beam_test_")
        cls.photo_dir = os.path.join(data_dir, "photos")
        cls.mask_dir = os.path.join(data_dir, "masks")
        cls.output_dir = os.path.join(cls.root, "inpainted")
        os.makedirs(cls.photo_dir)
        os.makedirs(cls.mask_dir)
        export_base = os.path.join(cls.root, "models")
        # Version 2 is the newest: the pipeline must pick it when given the base folder.
        export.export_saved_model(generator, export_base, version=2,
                                  options=export.ExportOptions(max_pixels=TEST_MAX_PIXELS))
        os.makedirs(os.path.join(export_base, "1"))
        export_seconds = time.time() - started

        cls.inputs = {}  # stem -> (photo file bytes, mask file bytes)
        for index, (stem, (height, width), encode) in enumerate((
                ("garden", (120, 160), _png_bytes), ("street", (90, 100), _jpeg_bytes),
                ("big", (210, 200), _png_bytes))):
            photo = _structured_photo(height, width, SEED + index)
            mask = _structured_mask(height, width, SEED + 10 + index)
            cls.inputs[stem] = (encode(photo), _png_bytes(mask[..., 0]))
        cls.inputs["corrupt"] = (b"\x89PNG\r\n\x1a\n" + b"not really a PNG" * 8,
                                 cls.inputs["garden"][1])
        for stem, (photo_data, mask_data) in cls.inputs.items():
            extension = ".jpg" if stem == "street" else ".png"
            _write(os.path.join(cls.photo_dir, stem + extension), photo_data)
            _write(os.path.join(cls.mask_dir, stem + ".png"), mask_data)
        _write(os.path.join(cls.photo_dir, "lonely.png"), cls.inputs["garden"][0])
        _write(os.path.join(cls.mask_dir, "unused.png"), cls.inputs["garden"][1])
        _write(os.path.join(cls.photo_dir, "notes.txt"), b"not an image: ignored")

        environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        repository = os.path.dirname(os.path.dirname(os.path.abspath(crainpaint.__file__)))
        process = subprocess.Popen(
            [sys.executable, "-m", "crainpaint.beam",
             "--input_pattern", os.path.join(cls.photo_dir, "*"), "--mask_dir", cls.mask_dir,
             "--output_dir", cls.output_dir, "--saved_model", export_base,
             "--runner", "DirectRunner"],
            env=dict(environment, PYTHONPATH=repository, TF_CPP_MIN_LOG_LEVEL="2"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        # References while the pipeline runs: the SavedModel called directly, and the library.
        loaded = tf.saved_model.load(os.path.join(export_base, "2"))
        cls.direct, cls.library = {}, {}
        for stem in ("garden", "street"):
            photo_data, mask_data = cls.inputs[stem]
            cls.direct[stem] = loaded.signatures[export.BYTES_SIGNATURE](
                image_bytes=tf.constant([photo_data]),
                mask_bytes=tf.constant([mask_data]))["inpainted_bytes"].numpy()[0]
            cls.library[stem] = crainpaint.inpaint(_decode(photo_data),
                                                   _decode(mask_data)[..., :1], generator)
        cls.stdout, cls.stderr = "", ""
        try:
            cls.stdout, cls.stderr = process.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            process.kill()
        cls.returncode = process.returncode
        print(f"[test_beam] export {export_seconds:.1f} s, then pipeline and references "
              f"{time.time() - started - export_seconds:.1f} s")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)
        super().tearDownClass()

    def _failures(self):
        with open(os.path.join(self.output_dir, "failures.jsonl")) as handle:
            return {os.path.basename(record["image"]): record
                    for record in map(json.loads, handle)}

    def _output(self, stem):
        with open(os.path.join(self.output_dir, stem + ".png"), "rb") as handle:
            return handle.read()

    def test_exit_status_counts_the_failed_photos(self):
        self.assertEqual(self.returncode, 3, self.stderr[-4000:])
        self.assertIn("Inpainted 2 photos", self.stdout)
        self.assertIn("3 failed (pairing 1, inference 2)", self.stdout)
        self.assertIn("1 masks in", self.stdout)

    def test_outputs_are_the_saved_models_bytes(self):
        for stem in ("garden", "street"):
            self.assertEqual(self._output(stem), self.direct[stem], stem)

    def test_outputs_match_the_library_and_keep_pixels_outside_the_hole(self):
        for stem in ("garden", "street"):
            photo = _decode(self.inputs[stem][0])
            keep = _decode(self.inputs[stem][1])[..., 0] < 128
            inpainted = _decode(self._output(stem))
            self.assertEqual(inpainted.shape, photo.shape)
            difference = np.abs(inpainted.astype(np.int16) - self.library[stem].astype(np.int16))
            self.assertLessEqual(int(difference.max()), 1, stem)
            self.assertAllEqual(inpainted[keep], photo[keep])
            self.assertTrue(np.any(inpainted[~keep] != photo[~keep]), f"{stem}: hole unfilled")

    def test_failures_file_names_each_failed_photo_and_why(self):
        failures = self._failures()
        self.assertCountEqual(failures, ["corrupt.png", "big.png", "lonely.png"])
        self.assertEqual(failures["corrupt.png"]["stage"], "inference")
        self.assertEqual(failures["big.png"]["stage"], "inference")
        self.assertIn(export.TOO_LARGE_MESSAGE.format(max_pixels=TEST_MAX_PIXELS),
                      failures["big.png"]["error"])
        self.assertEqual(failures["lonely.png"]["stage"], "pairing")
        self.assertIsNone(failures["lonely.png"]["mask"])
        self.assertIn("no mask for it", failures["lonely.png"]["error"])

    def test_writes_only_finished_pngs(self):
        self.assertCountEqual(os.listdir(self.output_dir),
                              ["garden.png", "street.png", "failures.jsonl"])


@unittest.skipIf(BEAM_MISSING and not IN_CI, SKIP_REASON)
class BeamPairingTest(tf.test.TestCase):
    """The pairing DoFn against `crainpaint.batch.plan_batch`, and the small helpers."""

    def setUp(self):
        super().setUp()
        _require_beam()
        self.root = self.create_tempdir().full_path

    def _touch(self, *parts):
        path = os.path.join(self.root, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _write(path, b"")
        return path

    def test_pairs_like_the_command_line_folder_mode(self):
        from crainpaint.beam import pipeline
        for name in ("a.jpg", "b.png", "dup.jpg", "dup.png", "two.png", "alone.bmp", ".hidden.png",
                     "readme.txt"):
            self._touch("photos", name)
        for name in ("a.png", "b.png", "dup.png", "two.png", "two.jpg", "spare.png"):
            self._touch("masks", name)
        photo_dir, mask_dir = os.path.join(self.root, "photos"), os.path.join(self.root, "masks")
        output_dir = os.path.join(self.root, "out")
        expected = {item.image_path: (item.mask_path, item.output_path, item.problem)
                    for item in batch.plan_batch(photo_dir, output_dir, mask_dir=mask_dir)}

        grouped = {}
        for kind, folder in (("images", photo_dir), ("masks", mask_dir)):
            for name in os.listdir(folder):
                path = os.path.join(folder, name)
                if pipeline.is_image_path(path):
                    stem = os.path.splitext(name)[0]
                    grouped.setdefault(stem, {"images": [], "masks": []})[kind].append(path)
        pairing = pipeline.PairByStem(mask_dir, output_dir)
        got = {}
        for element in grouped.items():
            for output in pairing.process(element):
                if hasattr(output, "tag"):
                    record = output.value
                    got[record["image"]] = (None, None, record["error"])
                else:
                    got[output.image_path] = (output.mask_path, output.output_path, None)
        self.assertCountEqual(got, expected)
        for image, (mask, output_path, problem) in expected.items():
            if problem is None:
                self.assertEqual(got[image], (mask, output_path, None), image)
            else:
                self.assertEqual(got[image][2], problem, image)

    def test_refuses_an_image_format_the_saved_model_cannot_decode(self):
        from crainpaint.beam import pipeline
        pairing = pipeline.PairByStem("masks", "out")
        (output,) = pairing.process(("a", {"images": ["photos/a.tif"],
                                           "masks": ["masks/a.png"]}))
        self.assertEqual(output.value["stage"], "pairing")
        self.assertIn("convert it to PNG", output.value["error"])

    def test_failed_write_leaves_no_file_behind(self):
        from crainpaint.beam import pipeline
        target = os.path.join(self.root, "result.png")
        with self.assertRaises(TypeError):
            pipeline.write_atomically(target, "text is not bytes")
        self.assertEqual(os.listdir(self.root), [])
        pipeline.write_atomically(target, b"png bytes")
        pipeline.write_atomically(target, b"new png bytes")
        self.assertEqual(os.listdir(self.root), ["result.png"])
        with open(target, "rb") as handle:
            self.assertEqual(handle.read(), b"new png bytes")

    def test_resolves_the_newest_version_and_names_the_fix_when_there_is_none(self):
        from crainpaint.beam import resolve_saved_model
        for version in ("1", "10", "9", ".tmp-11-abcd", "latest"):
            self._touch("models", version, "saved_model.pb")
        models = os.path.join(self.root, "models")
        self.assertEqual(resolve_saved_model(models), os.path.join(models, "10"))
        self.assertEqual(resolve_saved_model(os.path.join(models, "9")),
                         os.path.join(models, "9"))
        with self.assertRaisesRegex(ValueError, "crainpaint.export --export_dir"):
            resolve_saved_model(os.path.join(self.root, "photos"))

    def test_launch_check_names_the_pattern_that_matches_nothing(self):
        from crainpaint.beam import BeamInpaintConfig
        from crainpaint.beam.pipeline import check_inputs_exist
        self._touch("masks", "a.png")
        config = BeamInpaintConfig(
            input_pattern=os.path.join(self.root, "photos", "*.jpg"),
            mask_dir=os.path.join(self.root, "masks"), output_dir=os.path.join(self.root, "out"),
            saved_model=os.path.join(self.root, "models"))
        with self.assertRaisesRegex(ValueError, "No photos: nothing matches .*photos"):
            check_inputs_exist(config)
        self._touch("photos", "a.jpg")
        check_inputs_exist(config)

    def test_refuses_an_output_folder_that_holds_the_inputs(self):
        from crainpaint.beam import BeamInpaintConfig
        with self.assertRaisesRegex(ValueError, "could replace input files"):
            BeamInpaintConfig(input_pattern="photos/*.jpg", mask_dir="masks",
                              output_dir="photos/", saved_model="models")
        with self.assertRaisesRegex(ValueError, "folder of their own"):
            BeamInpaintConfig(input_pattern="photos/*.jpg", mask_dir="./photos",
                              output_dir="out", saved_model="models")
