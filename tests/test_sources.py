"""Tests of data_pipelines.sources: deterministic, resumable input pipelines (paper Sec. 4)."""

import os
import shutil
import tempfile
from unittest import mock

import cv2
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from data_pipelines import sources
from data_pipelines.masks import MaskConfig
from data_pipelines.sources import DataConfig

# (relative path, height, width): different sizes and formats, one smaller than the 64² output.
_IMAGES = (
    ("a_landscape.jpg", 96, 128),
    ("b_square.png", 80, 80),
    ("c_tiny.png", 40, 30),
    ("d_portrait.jpg", 150, 100),
    ("nested/e_wide.webp", 64, 96),
    ("nested/deeper/F_UPPER.JPG", 72, 90),
)
_CORRUPT = "b_broken.jpg"


def _write_image_folder(directory):
    random_state = np.random.RandomState(0)
    for relative_path, height, width in _IMAGES:
        path = os.path.join(directory, relative_path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # Smooth content (JPEG-friendly) with a per-file colour so files are distinguishable.
        rows, columns = np.mgrid[0:height, 0:width]
        base = random_state.randint(0, 256, size=3)
        image = (base + 0.5 * rows[..., None] + 0.8 * columns[..., None]) % 256
        assert cv2.imwrite(path, image.astype(np.uint8))
    with open(os.path.join(directory, _CORRUPT), "wb") as file:
        file.write(b"\xff\xd8\xff\xe0 this is not a JPEG")
    with open(os.path.join(directory, "notes.txt"), "w") as file:
        file.write("not an image")


def _small_config(data_dir, **overrides):
    fields = dict(
        dataset="folder",
        data_dir=data_dir,
        image_size=64,
        global_batch_size=4,
        seed=7,
        mask=MaskConfig(kind="mixed"),
    )
    fields.update(overrides)
    return DataConfig(**fields)


def _batches(dataset, count):
    return [{key: value.numpy() for key, value in batch.items()} for batch in dataset.take(count)]


def _stacked(batches, key):
    return np.concatenate([batch[key] for batch in batches])


class FolderSourceTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = tempfile.mkdtemp(prefix="crainpaint_images_")
        _write_image_folder(cls.folder)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)
        super().tearDownClass()

    def test_listing_is_recursive_sorted_and_case_insensitive(self):
        listed = [os.path.relpath(path, self.folder) for path in sources.list_image_files(self.folder)]
        expected = sorted([relative_path for relative_path, _, _ in _IMAGES] + [_CORRUPT])
        self.assertEqual(listed, expected)

    def test_missing_and_empty_folders_raise_clear_errors(self):
        with self.assertRaisesRegex(FileNotFoundError, "does not exist"):
            sources.make_dataset(_small_config(os.path.join(self.folder, "missing")))
        empty = self.create_tempdir().full_path
        with self.assertRaisesRegex(ValueError, "contains no"):
            sources.make_dataset(_small_config(empty))
        with self.assertRaisesRegex(ValueError, "DATASET=folder needs DATA_DIR"):
            sources.make_dataset(_small_config(None))

    def test_corrupt_file_is_reported_by_name_and_never_read(self):
        self.assertEqual(
            sources.find_unreadable_images(sources.list_image_files(self.folder)),
            [os.path.join(self.folder, _CORRUPT)],
        )
        with self.assertLogs(logger="absl", level="WARNING") as logs:
            dataset = sources.make_dataset(_small_config(self.folder))
        message = "\n".join(logs.output)
        self.assertIn("Skipping 1 unreadable image file(s) of 7", message)
        self.assertIn(_CORRUPT, message)
        # Three epochs of the six good files, without an error.
        batches = _batches(dataset, 5)
        self.assertLen(batches, 5)

    def test_batches_have_the_documented_dtype_shape_and_range(self):
        batch = _batches(sources.make_dataset(_small_config(self.folder)), 1)[0]
        self.assertEqual(batch["image"].dtype, np.float32)
        self.assertEqual(batch["image"].shape, (4, 64, 64, 3))
        self.assertEqual(batch["mask"].shape, (4, 64, 64, 1))
        self.assertAllInRange(batch["image"], -1.0, 1.0)
        self.assertGreater(batch["image"].std(), 0.1)  # Real content, not a constant.
        self.assertAllInSet(batch["mask"], [0.0, 1.0])
        self.assertTrue(np.all(batch["mask"].mean(axis=(1, 2, 3)) <= 0.25))

    def test_same_seed_gives_identical_batches_and_another_seed_differs(self):
        first = _batches(sources.make_dataset(_small_config(self.folder)), 2)
        second = _batches(sources.make_dataset(_small_config(self.folder)), 2)
        other = _batches(sources.make_dataset(_small_config(self.folder, seed=8)), 2)
        for key in ("image", "mask"):
            self.assertAllEqual(_stacked(first, key), _stacked(second, key))
            self.assertNotAllClose(_stacked(first, key), _stacked(other, key))

    def test_start_example_continues_the_stream_across_an_epoch_boundary(self):
        # Six readable files: examples 5..8 straddle the end of the first epoch.
        fresh = _batches(sources.make_dataset(_small_config(self.folder)), 3)
        resumed = _batches(sources.make_dataset(_small_config(self.folder), start_example=5), 1)[0]
        for key in ("image", "mask"):
            self.assertAllEqual(resumed[key], _stacked(fresh, key)[5:9])

    def test_each_epoch_is_a_fresh_permutation_of_all_files(self):
        indices = [int(sources.file_index(tf.constant(i, tf.int64), 6, 7, True)) for i in range(18)]
        epochs = [indices[0:6], indices[6:12], indices[12:18]]
        for epoch in epochs:
            self.assertCountEqual(epoch, range(6))
        self.assertGreater(len({tuple(epoch) for epoch in epochs}), 1)
        unshuffled = [int(sources.file_index(tf.constant(i, tf.int64), 6, 7, False)) for i in range(8)]
        self.assertEqual(unshuffled, [0, 1, 2, 3, 4, 5, 0, 1])

    def test_make_example_is_identical_eagerly_and_inside_the_pipeline(self):
        config = _small_config(self.folder, shuffle=False, global_batch_size=2)
        batch = _batches(sources.make_dataset(config), 1)[0]
        paths = [path for path in sources.list_image_files(self.folder) if _CORRUPT not in path]
        for index in range(2):
            eager = sources.make_example(
                tf.io.read_file(paths[index]), tf.constant(index, tf.int64), config
            )
            self.assertAllEqual(eager["image"], batch["image"][index])
            self.assertAllEqual(eager["mask"], batch["mask"][index])

    def test_colours_stay_rgb_and_scale_to_minus_one_one(self):
        red = np.zeros((32, 48, 3), np.uint8)
        red[..., 2] = 255  # OpenCV writes BGR: this file is pure red.
        folder = self.create_tempdir().full_path
        cv2.imwrite(os.path.join(folder, "red.png"), red)
        batch = _batches(sources.make_dataset(_small_config(folder, global_batch_size=2)), 1)[0]
        self.assertAllClose(batch["image"][..., 0], np.ones((2, 64, 64)))
        self.assertAllClose(batch["image"][..., 1:], -np.ones((2, 64, 64, 2)))

    def test_about_half_of_the_examples_are_mirrored(self):
        ramp = np.tile(np.linspace(0, 255, 48)[None, :, None], (48, 1, 3)).astype(np.uint8)
        folder = self.create_tempdir().full_path
        cv2.imwrite(os.path.join(folder, "ramp.png"), ramp)
        config = _small_config(folder, image_size=48, global_batch_size=16, crop_mode="resize")
        images = _batches(sources.make_dataset(config), 1)[0]["image"]
        upright = ramp.astype(np.float32) / 127.5 - 1.0
        is_upright = [np.allclose(image, upright, atol=1e-5) for image in images]
        is_mirrored = [np.allclose(image, upright[:, ::-1], atol=1e-5) for image in images]
        self.assertTrue(all(u or m for u, m in zip(is_upright, is_mirrored)))
        self.assertBetween(sum(is_mirrored), 3, 13)


class CropAndResizeTest(tf.test.TestCase):
    def test_resize_mode_down_samples_by_block_averaging(self):
        image = np.random.RandomState(1).uniform(0, 255, (128, 160, 3)).astype(np.float32)
        result = sources.crop_and_resize(image, tf.constant([1, 2]), 32, crop_mode="resize").numpy()
        square = image[:, 16:144]  # The centred 128² square.
        block_mean = square.reshape(32, 4, 32, 4, 3).mean(axis=(1, 3))
        self.assertAllClose(result, block_mean, atol=1e-3)

    def test_native_mode_cuts_an_exact_window_and_small_images_are_resized_up(self):
        image = np.arange(100 * 90 * 3, dtype=np.float32).reshape(100, 90, 3)
        for seed in range(3):
            crop = sources.crop_and_resize(image, tf.constant([seed, 0]), 32, crop_mode="native").numpy()
            top, left = divmod(int(crop[0, 0, 0]) // 3, 90)
            self.assertAllEqual(crop, image[top : top + 32, left : left + 32])
        tiny = np.random.RandomState(2).uniform(0, 255, (20, 30, 3)).astype(np.float32)
        resized = sources.crop_and_resize(tiny, tf.constant([0, 0]), 64, crop_mode="multiscale").numpy()
        self.assertEqual(resized.shape, (64, 64, 3))
        self.assertAllInRange(resized, 0.0, 255.0)
        self.assertGreater(resized.std(), 10.0)

    def test_multiscale_crops_vary_in_size(self):
        # A horizontal ramp: the value range inside the crop grows with the crop's side.
        image = np.tile(np.arange(256, dtype=np.float32)[None, :, None], (256, 1, 3))
        spans = []
        for seed in range(12):
            crop = sources.crop_and_resize(
                image, tf.constant([seed, 5]), 32, crop_mode="multiscale"
            ).numpy()
            spans.append(crop.max() - crop.min())
        self.assertGreater(max(spans), 150.0)
        self.assertLess(min(spans), 130.0)
        self.assertGreater(min(spans), 0.25 * 256 - 20)  # Never below 25% of the short side.


    def test_aspect_crops_squeeze_either_axis_within_the_limit_and_squares_stay_square(self):
        # Channel 0 holds the column, channel 1 the row: their spans inside the resized crop
        # are the crop's width and height.
        rows, cols = np.mgrid[0:300, 0:400].astype(np.float32)
        image = np.stack([cols, rows, rows], axis=-1)
        ratios, square_ratios = [], []
        for seed in range(40):
            for limit, found in ((2.0, ratios), (1.0, square_ratios)):
                crop = sources.crop_and_resize(
                    image, tf.constant([seed, 9]), 32, crop_mode="multiscale",
                    crop_min_fraction=0.3, crop_max_fraction=0.6, crop_max_aspect=limit
                ).numpy()
                found.append(np.ptp(crop[..., 0]) / np.ptp(crop[..., 1]))
        self.assertAllClose(square_ratios, np.ones(40), atol=0.08)
        self.assertAllInRange(ratios, 0.5 / 1.08, 2.0 * 1.08)
        self.assertGreater(max(ratios), 1.5)
        self.assertLess(min(ratios), 1 / 1.5)
        repeated = sources.crop_and_resize(image, tf.constant([3, 9]), 32, crop_max_aspect=2.0)
        again = sources.crop_and_resize(image, tf.constant([3, 9]), 32, crop_max_aspect=2.0)
        self.assertAllEqual(repeated, again)

    def test_square_crops_are_unchanged_by_the_aspect_option_default(self):
        image = np.random.default_rng(0).uniform(0, 255, (90, 120, 3)).astype(np.float32)
        for seed in range(5):
            default = sources.crop_and_resize(image, tf.constant([seed, 1]), 32)
            explicit = sources.crop_and_resize(image, tf.constant([seed, 1]), 32,
                                               crop_max_aspect=1.0)
            self.assertAllEqual(default, explicit)


class TfdsSourceTest(tf.test.TestCase):
    def test_div2k_mock_images_are_resized_into_range_and_deterministic(self):
        config = DataConfig(
            dataset="div2k", image_size=64, global_batch_size=2, seed=3, shuffle_buffer_size=4
        )
        with tfds.testing.mock_data(num_examples=5):
            first = _batches(sources.make_dataset(config), 3)
            again = _batches(sources.make_dataset(config), 3)
            resumed = _batches(sources.make_dataset(config, start_example=2), 1)[0]
        images = _stacked(first, "image")
        self.assertEqual(images.shape, (6, 64, 64, 3))
        self.assertAllInRange(images, -1.0, 1.0)
        self.assertGreater(images.std(), 0.1)
        self.assertAllEqual(images, _stacked(again, "image"))
        self.assertAllEqual(resumed["image"], images[2:4])
        self.assertAllEqual(resumed["mask"], _stacked(first, "mask")[2:4])

    def test_celeba_hq_without_the_archive_explains_the_manual_download(self):
        data_dir = self.create_tempdir().full_path
        failure = AssertionError("You must download the dataset files manually")
        with mock.patch.object(tfds.core.DatasetBuilder, "download_and_prepare", side_effect=failure):
            with self.assertRaises(sources.ManualDownloadRequiredError) as raised:
                sources.make_dataset(DataConfig(dataset="celeba_hq", data_dir=data_dir, image_size=64))
        message = str(raised.exception)
        manual_dir = os.path.join(data_dir, "downloads", "manual")
        self.assertIn(os.path.join(manual_dir, sources.CELEBA_HQ_ARCHIVE), message)
        self.assertIn("DATA_DIR", message)
        self.assertIs(raised.exception.__cause__, failure)

    def test_places2_without_data_dir_says_tfds_cannot_provide_512_crops(self):
        with self.assertRaisesRegex(
            ValueError, "DATASET=places2 needs DATA_DIR.*high-resolution.*places365_small"
        ):
            sources.make_dataset(DataConfig(dataset="places2"))


class DataConfigTest(tf.test.TestCase):
    def test_invalid_fields_raise_clear_errors(self):
        with self.assertRaisesRegex(ValueError, "dataset must be one of"):
            DataConfig(dataset="imagenet")
        with self.assertRaisesRegex(ValueError, "split must be one of"):
            DataConfig(split="test")
        with self.assertRaisesRegex(ValueError, "image_size must be a positive integer"):
            DataConfig(image_size=0)
        with self.assertRaisesRegex(ValueError, "crop_min_fraction <= crop_max_fraction"):
            DataConfig(crop_min_fraction=0.8, crop_max_fraction=0.5)
        with self.assertRaisesRegex(ValueError, "crop_max_aspect must be >= 1"):
            DataConfig(crop_max_aspect=0.5)
        with self.assertRaisesRegex(ValueError, "start_example"):
            sources.make_dataset(
                DataConfig(dataset="places2", data_dir="/nonexistent"), start_example=-1
            )

    def test_mask_may_be_given_as_a_dict_and_crop_mode_resolves_per_dataset(self):
        config = DataConfig(dataset="places2", mask={"kind": "object", "max_hole_fraction": 0.2})
        self.assertEqual(config.mask, MaskConfig(kind="object", max_hole_fraction=0.2))
        self.assertEqual(config.resolved_crop_mode, "native")
        self.assertEqual(DataConfig(dataset="celeba_hq").resolved_crop_mode, "resize")
        self.assertEqual(DataConfig(dataset="div2k").resolved_crop_mode, "multiscale")


if __name__ == "__main__":
    tf.test.main()
