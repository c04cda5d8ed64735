"""Comparison sheets: rows that span the whole canvas, 1:1 crops around the hole's largest
region, and the demo's sheet built on them."""

import numpy as np
import tensorflow as tf

from crainpaint.demo import PANEL_WIDTH, side_by_side
from crainpaint.evaluation import sheets


def _photo(height, width, seed, low=20, high=200):
    return np.random.default_rng(seed).integers(low, high + 1, (height, width, 3), np.uint8)


def _two_region_hole(height, width):
    """A small square near the top left and a larger rectangle (the largest region)."""
    hole = np.zeros((height, width), bool)
    hole[10:20, 10:20] = True
    hole[300:380, 500:620] = True
    return hole


class FitRowTest(tf.test.TestCase):

    def test_row_is_exactly_the_requested_width_at_one_height(self):
        images = [_photo(30, 50, 0), _photo(60, 40, 1), _photo(10, 70, 2)]
        row = sheets.fit_row(images, 333)
        self.assertEqual(row.shape[1:], (333, 3))
        self.assertAllInRange(row, 20, 200)

    def test_images_already_at_their_place_are_not_resampled(self):
        images = [_photo(40, 30, 3), _photo(40, 50, 4)]
        self.assertAllEqual(sheets.fit_row(images, 80), np.concatenate(images, axis=1))

    def test_column_widths_sum_to_the_total(self):
        self.assertEqual(sheets.column_widths(10, 3), [3, 4, 3])
        self.assertEqual(sum(sheets.column_widths(4801, 7)), 4801)


class ComparisonSheetTest(tf.test.TestCase):

    def test_both_rows_fill_the_canvas(self):
        height, width = 600, 900
        panels = [_photo(height, width, seed) for seed in range(3)]
        hole = _two_region_hole(height, width)
        sheet = sheets.comparison_sheet(panels, hole, panel_width=200)
        top_height = round(200 * height / width)
        self.assertEqual(sheet.shape, (2 * top_height, 600, 3))
        self.assertAllInRange(sheet, 20, 200)  # No blank (white or black) background anywhere.

    def test_crops_are_one_to_one_windows_centred_on_the_largest_hole_region(self):
        height, width = 600, 900
        panels = [_photo(height, width, seed) for seed in range(3)]
        hole = _two_region_hole(height, width)
        sheet = sheets.comparison_sheet(panels, hole, panel_width=200, crop_height=150)
        top_height = sheet.shape[0] - 150
        # Windows 200×150 centred on the box of the 120×80 region at (500, 300).
        for column, panel in enumerate(panels):
            crop = sheet[top_height:, 200 * column:200 * (column + 1)]
            self.assertAllEqual(crop, panel[265:415, 460:660])

    def test_windows_stay_inside_the_photo_at_its_border(self):
        hole = np.zeros((100, 200), bool)
        hole[90:100, 190:200] = True
        self.assertEqual(sheets.hole_window(hole, 60, 80), (40, 120, 60, 80))
        self.assertEqual(sheets.hole_window(np.zeros((100, 200), bool), 60, 80),
                         (20, 60, 60, 80))

    def test_photo_smaller_than_the_window_is_scaled_to_fill_the_row(self):
        panels = [_photo(40, 60, seed) for seed in range(2)]
        hole = np.zeros((40, 60), bool)
        hole[15:25, 20:40] = True
        sheet = sheets.comparison_sheet(panels, hole, panel_width=300)
        self.assertEqual(sheet.shape, (400, 600, 3))
        self.assertAllInRange(sheet, 20, 200)

    def test_fewer_crops_than_panels_share_the_full_width(self):
        panels = [_photo(300, 400, seed) for seed in range(3)]
        crops = [panels[0], np.full((300, 400, 3), 77, np.uint8)]
        hole = np.zeros((300, 400), bool)
        hole[100:150, 100:200] = True
        sheet = sheets.comparison_sheet(panels, hole, crop_panels=crops, panel_width=100)
        self.assertEqual(sheet.shape, (150, 300, 3))
        self.assertAllEqual(sheet[75:, 150:], np.full((75, 150, 3), 77, np.uint8))

    def test_tint_changes_only_hole_pixels(self):
        image = _photo(20, 30, 5)
        hole = np.zeros((20, 30), bool)
        hole[5:10, 5:10] = True
        tinted = sheets.tint_hole(image, hole)
        self.assertAllEqual(tinted[~hole], image[~hole])
        self.assertAllEqual(tinted[hole][:, 0],
                            np.round(0.5 * image[hole][:, 0] + 127.5).astype(np.uint8))
        self.assertAllEqual(tinted[hole][:, 1:],
                            np.round(0.5 * image[hole][:, 1:]).astype(np.uint8))

    def test_raises_size_mismatch_error_naming_both_sizes(self):
        with self.assertRaisesRegex(ValueError, "60×40.*got 61×40"):
            sheets.comparison_sheet([_photo(40, 60, 0), _photo(40, 61, 1)],
                                    np.zeros((40, 60), bool))


class DemoSideBySideTest(tf.test.TestCase):

    def test_second_row_spans_the_sheet_with_input_and_result_crops(self):
        height, width = 450, 800
        image = _photo(height, width, 6)
        result = np.full((height, width, 3), 77, np.uint8)
        hole = np.zeros((height, width), bool)
        hole[200:260, 300:420] = True
        sheet = side_by_side(image, hole, result)
        top_height = round(PANEL_WIDTH * height / width)
        self.assertEqual(sheet.shape[1], 3 * PANEL_WIDTH)
        # Each crop gets half the width: the result's crop fills the right half of row two.
        bottom = sheet[top_height:]
        self.assertAllEqual(bottom[:, 3 * PANEL_WIDTH // 2:],
                            np.full_like(bottom[:, 3 * PANEL_WIDTH // 2:], 77))
        self.assertFalse(np.all(bottom[:, :3 * PANEL_WIDTH // 2] == 77))


if __name__ == "__main__":
    tf.test.main()
