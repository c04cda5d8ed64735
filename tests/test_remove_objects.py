"""The object-removal library (crainpaint.evaluation.removal, the one behind
experiments/remove_objects.py) on generated photos and masks: pairing by stem, both mask
conventions (PNG and JPEG masks), the shrink, the texture and attention measures, the sheets,
the JSON and the table, and the errors for unusable inputs."""

import io
import json
import os
import shutil
import tempfile

import cv2
import numpy as np
import tensorflow as tf

from crainpaint.evaluation.texture import texture_ratio
from crainpaint.models import Generator, GeneratorConfig
from crainpaint.evaluation import removal

_SIZES = {"beach": (120, 160), "field": (96, 144)}


def _photo(seed, height, width):
    """A colour gradient with fine noise, so that the context ring has texture."""
    rows, columns = np.mgrid[0:height, 0:width]
    image = np.stack([columns * 1.2 + 30 * seed, rows * 1.8, (rows + columns) * 0.7], -1)
    noise = np.random.default_rng(seed).integers(-20, 21, image.shape)
    return np.clip(image % 230 + noise + 10, 0, 255).astype(np.uint8)


def _hole(height, width):
    """Two regions: a larger rectangle (the sheet's crops centre on it) and a small square."""
    hole = np.zeros((height, width), bool)
    hole[30:70, 50:100] = True
    hole[8:20, 8:20] = True
    return hole


def _write_case(root):
    """images/, white_hole PNG masks in masks_white/, black_hole JPEG masks in masks_black/,
    and one photo without a mask."""
    folders = {name: os.path.join(root, name) for name in ("images", "masks_white",
                                                           "masks_black")}
    for folder in folders.values():
        os.makedirs(folder)
    for seed, (stem, (height, width)) in enumerate(_SIZES.items()):
        cv2.imwrite(os.path.join(folders["images"], stem + ".png"),
                    cv2.cvtColor(_photo(seed, height, width), cv2.COLOR_RGB2BGR))
        white = _hole(height, width).astype(np.uint8) * 255
        cv2.imwrite(os.path.join(folders["masks_white"], stem + ".png"), white)
        cv2.imwrite(os.path.join(folders["masks_black"], stem + ".jpg"), 255 - white,
                    [cv2.IMWRITE_JPEG_QUALITY, 75])
    cv2.imwrite(os.path.join(folders["images"], "unpaired.png"), np.zeros((32, 32, 3), np.uint8))
    return folders


def _config(folders, masks, output, **overrides):
    values = dict(images_dir=folders["images"], masks_dir=folders[masks],
                  output_dir=output, methods=("telea", "navier_stokes"),
                  mask_convention="white_hole" if masks == "masks_white" else "black_hole")
    values.update(overrides)
    return removal.RemovalConfig(**values)


class RemoveObjectsTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp(prefix="crainpaint-remove-objects-")
        cls.folders = _write_case(cls.root)
        cls.outputs = {}
        cls.progress = {}
        cls.printed = {}
        runs = {
            "white": _config(cls.folders, "masks_white", os.path.join(cls.root, "white")),
            "black": _config(cls.folders, "masks_black", os.path.join(cls.root, "black")),
            "shrunk": _config(cls.folders, "masks_black", os.path.join(cls.root, "shrunk"),
                              methods=("telea",), max_long_side=72),
            "crainpaint": _config(cls.folders, "masks_white", os.path.join(cls.root, "ours"),
                                  methods=("crainpaint", "telea"), panel_width=100),
        }
        # An 8×8 grid (16-px cells) leaves usable sources around these holes.
        generator = Generator(GeneratorConfig(input_size=128, attention_grid=8,
                                              width_multiplier=0.25)).build_for_size()
        for name, config in runs.items():
            progress, output = io.StringIO(), io.StringIO()
            cls.outputs[name] = removal.run(
                config, generator=generator if "crainpaint" in config.methods else None,
                output=output, progress=progress)
            cls.progress[name], cls.printed[name] = progress.getvalue(), output.getvalue()
        cls.configs = runs

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)
        super().tearDownClass()

    def test_pairs_photos_and_masks_by_stem_and_reports_the_unpaired(self):
        for result in self.outputs.values():
            self.assertEqual([photo["image"] for photo in result["photos"]],
                             ["beach.png", "field.png"])
            self.assertEqual(result["unpaired"], ["unpaired.png"])
        self.assertIn("unpaired.png", self.progress["white"])

    def test_black_hole_jpeg_masks_give_the_white_hole_png_holes(self):
        for white, black in zip(self.outputs["white"]["photos"], self.outputs["black"]["photos"]):
            height, width = _SIZES[os.path.splitext(white["image"])[0]]
            expected = _hole(height, width).mean()
            self.assertAllClose(white["hole_fraction"], expected, atol=1e-12)
            # JPEG ringing moves a few edge pixels across the half-range threshold at most.
            self.assertAllClose(black["hole_fraction"], expected, atol=0.005)

    def test_texture_is_the_ratio_of_the_opencv_fill(self):
        for photo in self.outputs["white"]["photos"]:
            stem = os.path.splitext(photo["image"])[0]
            image = _photo(list(_SIZES).index(stem), *_SIZES[stem])
            hole = _hole(*_SIZES[stem])
            for name, flag in (("telea", cv2.INPAINT_TELEA), ("navier_stokes", cv2.INPAINT_NS)):
                filled = cv2.inpaint(cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                                     hole.astype(np.uint8) * 255, 3, flag)
                expected = texture_ratio(cv2.cvtColor(filled, cv2.COLOR_BGR2RGB), hole)
                self.assertAllClose(photo["methods"][name]["texture"], expected, rtol=1e-9)
                self.assertGreaterEqual(photo["methods"][name]["seconds"], 0.0)

    def test_shrinks_to_the_long_side_and_keeps_the_original_size(self):
        for photo in self.outputs["shrunk"]["photos"]:
            stem = os.path.splitext(photo["image"])[0]
            self.assertEqual(photo["original_size"], list(_SIZES[stem]))
            self.assertEqual(max(photo["size"]), 72)
            self.assertAllClose(photo["hole_fraction"], _hole(*_SIZES[stem]).mean(), atol=0.02)

    def test_crainpaint_reports_attention_concentration_over_the_hole_cells(self):
        for photo in self.outputs["crainpaint"]["photos"]:
            attention = photo["attention"]
            cells = attention["grid"][0] * attention["grid"][1]
            self.assertGreater(attention["hole_cells"], 0)
            self.assertBetween(attention["median_effective_sources"], 1.0, cells)
            self.assertBetween(attention["median_top_weight"], 1.0 / cells, 1.0)
            self.assertIn("crainpaint", photo["methods"])
        summary = self.outputs["crainpaint"]["summary"]
        self.assertIn("median_effective_sources", summary["attention"])
        self.assertNotIn("attention", self.outputs["white"]["summary"])

    def test_writes_one_sheet_per_photo_with_input_and_every_method(self):
        for name, panels in (("white", 3), ("crainpaint", 3)):
            config = self.configs[name]
            for photo in self.outputs[name]["photos"]:
                sheet = cv2.imread(photo["sheet"])
                self.assertIsNotNone(sheet, photo["sheet"])
                self.assertEqual(os.path.dirname(photo["sheet"]), config.output_dir)
                width = min(config.panel_width, photo["size"][1])
                self.assertEqual(sheet.shape[1], panels * width)

    def test_writes_the_json_atomically_with_every_photo_and_the_means(self):
        for name, config in self.configs.items():
            files = os.listdir(config.output_dir)
            self.assertFalse([file for file in files if file.endswith(".tmp")], files)
            with open(os.path.join(config.output_dir, "remove_objects.json")) as handle:
                saved = json.load(handle)
            self.assertLen(saved["photos"], 2)
            for method in config.methods:
                mean = np.mean([photo["methods"][method]["texture"]
                                for photo in saved["photos"]])
                self.assertAllClose(saved["summary"]["methods"][method]["texture"], mean)
            self.assertEqual(saved["config"]["mask_convention"], config.mask_convention)

    def test_prints_a_markdown_row_per_photo_a_mean_row_and_a_progress_line_per_photo(self):
        printed = self.printed["crainpaint"]
        table = [line for line in printed.splitlines() if line.startswith("|")]
        self.assertLen(table, 2 + 2 + 1)  # Header, rule, two photos, the mean.
        self.assertIn("texture crainpaint", table[0])
        self.assertIn("sources (median)", table[0])
        self.assertIn("mean of 2", table[-1])
        progress = [line for line in self.progress["crainpaint"].splitlines()
                    if line.startswith("[")]
        self.assertEqual([line.split()[0] for line in progress], ["[1/2]", "[2/2]"])


class RemoveObjectsInputErrorTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.root = self.create_tempdir().full_path
        self.folders = _write_case(self.root)

    def _run(self, **overrides):
        config = _config(self.folders, "masks_white", os.path.join(self.root, "out"),
                         methods=("telea",), **overrides)
        return removal.remove_objects(config, progress=io.StringIO())

    def test_raises_missing_folder_error_naming_it(self):
        missing = os.path.join(self.root, "nowhere")
        with self.assertRaisesRegex(removal.InputError, "image folder .*nowhere"):
            self._run(images_dir=missing)
        with self.assertRaisesRegex(removal.InputError, "mask folder .*nowhere"):
            self._run(masks_dir=missing)

    def test_raises_no_pairs_error_with_both_counts(self):
        empty = os.path.join(self.root, "empty_masks")
        os.makedirs(empty)
        with self.assertRaisesRegex(removal.InputError, r"\(3 images\).*\(0 masks\)"):
            self._run(masks_dir=empty)

    def test_raises_mask_size_error_naming_the_file_and_both_sizes(self):
        path = os.path.join(self.folders["masks_white"], "field.png")
        cv2.imwrite(path, np.zeros((50, 60), np.uint8))
        with self.assertRaisesRegex(removal.InputError,
                                    r"field\.png is 60×50 but the photo .*field\.png is 144×96"):
            self._run()

    def test_raises_two_files_with_one_stem_error(self):
        cv2.imwrite(os.path.join(self.folders["masks_white"], "beach.jpg"),
                    np.zeros((120, 160), np.uint8))
        with self.assertRaisesRegex(removal.InputError, "share the stem 'beach'"):
            self._run()

    def test_raises_unknown_method_error(self):
        with self.assertRaisesRegex(ValueError, "subset of"):
            _config(self.folders, "masks_white", self.root, methods=("lama",))


if __name__ == "__main__":
    tf.test.main()
