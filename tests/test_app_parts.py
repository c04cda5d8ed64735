"""Tests of the app's server pieces without a model or a browser: the job line
(crainpaint/app/jobs.py), the photo store and mask scaling (crainpaint/app/photos.py) and the
job options (crainpaint/app/server.py).

The job line runs plain Python functions that wait on events, so the order, the places in line
and the removal of each job's folder are observed directly. Expected pixels come from OpenCV and
numpy, never from the code under test.
"""

import os
import threading
import time

import cv2
import numpy as np
import tensorflow as tf

from crainpaint import cra
from crainpaint.app import jobs, photos
from crainpaint.app.server import JobOptions, parse_job_options
from tests.test_imaging import _jpeg_with_orientation

_WAIT_SECONDS = 20


def _wait_until(predicate, timeout=_WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the job line")
        time.sleep(0.005)


class JobQueueTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.root = self.create_tempdir().full_path
        self.queue = jobs.JobQueue(self.root)
        self.addCleanup(self.queue.close, 5)

    def _blocking_work(self, log, name, release, running):
        def work(job):
            running.append(name)
            log.append(("start", name, len(running)))
            release.wait(_WAIT_SECONDS)
            running.remove(name)
            log.append(("end", name))
            return name
        return work

    def test_runs_jobs_one_at_a_time_in_order_and_tells_places_in_line(self):
        log, running = [], []
        releases = [threading.Event() for _ in range(3)]
        submitted = [self.queue.submit(self._blocking_work(log, name, release, running))
                     for name, release in zip("abc", releases)]
        _wait_until(lambda: submitted[0].state == jobs.RUNNING)
        self.assertEqual([self.queue.position(job) for job in submitted], [0, 1, 2])
        releases[0].set()
        _wait_until(lambda: submitted[1].state == jobs.RUNNING)
        self.assertEqual([self.queue.position(job) for job in submitted], [0, 0, 1])
        releases[1].set()
        releases[2].set()
        _wait_until(lambda: submitted[2].state == jobs.DONE)
        self.assertEqual([entry[1] for entry in log if entry[0] == "start"], ["a", "b", "c"])
        # Never two at once: each started while it alone was running.
        self.assertEqual([entry[2] for entry in log if entry[0] == "start"], [1, 1, 1])
        self.assertEqual([job.result for job in submitted], ["a", "b", "c"])

    def test_removes_the_job_folder_when_the_job_succeeds_or_fails(self):
        folders_seen = []

        def succeed(job):
            folders_seen.append(os.path.isdir(job.folder))
            return 1

        def fail(job):
            raise RuntimeError("the model fell over")

        def write_upload(folder):
            with open(os.path.join(folder, "mask.png"), "wb") as file:
                file.write(b"mask")

        done = self.queue.submit(succeed, prepare=write_upload)
        failed = self.queue.submit(fail, prepare=write_upload)
        _wait_until(lambda: failed.state == jobs.FAILED)
        self.assertEqual(folders_seen, [True])
        self.assertEqual(done.state, jobs.DONE)
        self.assertFalse(os.path.exists(done.folder))
        self.assertFalse(os.path.exists(failed.folder))

    def test_failed_prepare_leaves_no_folder_and_queues_nothing(self):
        def refuse(folder):
            raise jobs.UserError("The mask is empty.")

        with self.assertRaisesRegex(jobs.UserError, "empty"):
            self.queue.submit(lambda job: None, prepare=refuse)
        self.assertEqual(os.listdir(self.root), [])

    def test_failure_messages_are_one_line_without_traceback(self):
        user = self.queue.submit(lambda job: (_ for _ in ()).throw(jobs.UserError("Bad mask.")))
        internal = self.queue.submit(lambda job: 1 / 0)
        _wait_until(lambda: internal.state == jobs.FAILED)
        self.assertEqual(user.error, "Bad mask.")
        self.assertIn("ZeroDivisionError", internal.error)
        self.assertNotIn("Traceback", internal.error)
        self.assertNotIn("\n", internal.error)

    def test_close_drops_waiting_jobs_and_removes_their_folders(self):
        release = threading.Event()
        running = self.queue.submit(lambda job: release.wait(_WAIT_SECONDS))
        waiting = self.queue.submit(lambda job: None)
        _wait_until(lambda: running.state == jobs.RUNNING)
        closer = threading.Thread(target=self.queue.close, args=(_WAIT_SECONDS,))
        closer.start()
        _wait_until(lambda: waiting.state == jobs.FAILED)
        release.set()
        closer.join()
        self.assertIn("shutting down", waiting.error)
        self.assertEqual(os.listdir(self.root), [])

    def test_estimates_running_time_from_the_job_before(self):
        clock = [0.0]
        queue = jobs.JobQueue(self.create_tempdir().full_path, clock=lambda: clock[0])
        self.addCleanup(queue.close, 5)

        def two_seconds(job):
            clock[0] += 2.0

        first = queue.submit(two_seconds, size=4.0)
        _wait_until(lambda: first.state == jobs.DONE)
        second = queue.submit(two_seconds, size=8.0)
        _wait_until(lambda: second.state == jobs.DONE)
        self.assertIsNone(first.estimate_seconds)
        self.assertAllClose(second.estimate_seconds, 4.0)


class PhotoStoreTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.store = photos.PhotoStore(max_pixels=100 * 80, capacity=2,
                                       root=self.create_tempdir().full_path)
        self.addCleanup(self.store.close)

    def _upload(self, data, name="upload.bin"):
        with self.store.upload_folder() as folder:
            path = os.path.join(folder, "upload")
            with open(path, "wb") as file:
                file.write(data)
            return self.store.add_file(path, name)

    def test_upload_is_upright_full_resolution_and_its_folder_removed(self):
        # 60 wide, 40 high stored; EXIF orientation 6 shows it rotated 90° clockwise.
        stored = np.zeros((40, 60, 3), np.uint8)
        stored[:10, :10] = (0, 0, 255)  # Red (BGR) in the stored top-left corner.
        photo = self._upload(_jpeg_with_orientation(stored, 6), "camera.jpg")
        self.assertEqual((photo.width, photo.height), (40, 60))
        pixels, alpha = self.store.load(photo)
        self.assertIsNone(alpha)
        # Rotated clockwise, the stored top-left corner lands at the top right.
        self.assertGreater(pixels[2, 37, 0], 200)
        self.assertLess(pixels[2, 2, 0], 50)
        self.assertEqual(os.listdir(self.store.uploads_root), [])

    def test_refuses_non_images_and_truncated_files_with_the_file_name(self):
        with self.assertRaisesRegex(jobs.UserError, r"Cannot open notes\.txt: .*not (an image|a PNG, JPEG)"):
            self._upload(b"shopping list", "notes.txt")
        encoded = cv2.imencode(".png", np.full((40, 60, 3), 128, np.uint8))[1].tobytes()
        with self.assertRaisesRegex(jobs.UserError, r"Cannot open cut\.png: .*truncated"):
            self._upload(encoded[:len(encoded) // 2], "cut.png")
        self.assertEqual(os.listdir(self.store.uploads_root), [])

    def test_refuses_photos_over_the_pixel_limit_and_says_the_limit(self):
        with self.assertRaisesRegex(jobs.UserError, r"101×80 .* limit of 0\.0 megapixels \(8,000 pixels\).* "
                                                    r"--max_pixels"):
            self.store.add(np.zeros((80, 101, 3), np.uint8), None, "wide.png")
        self.store.add(np.zeros((80, 100, 3), np.uint8), None, "exact.png")

    def test_keeps_the_last_photos_and_removes_older_folders(self):
        first, second, third = (self.store.add(np.zeros((8, 8, 3), np.uint8), None, "p.png")
                                for _ in range(3))
        self.assertFalse(os.path.exists(first.folder))
        with self.assertRaisesRegex(jobs.UserError, "no longer on the server"):
            self.store.get(first.photo_id)
        self.assertEqual(self.store.get(third.photo_id), third)
        self.assertTrue(os.path.isdir(second.folder))

    def test_png_download_is_lossless_with_16_bits_and_alpha(self):
        random = np.random.default_rng(3)
        pixels = random.integers(0, 65536, (12, 10, 3), dtype=np.uint16)
        alpha = random.integers(0, 65536, (12, 10), dtype=np.uint16)
        photo = self.store.add(pixels, alpha, "deep.tif")
        decoded = cv2.imread(self.store.png_path(photo), cv2.IMREAD_UNCHANGED)
        self.assertEqual(os.path.basename(self.store.png_path(photo)), "deep.png")
        self.assertAllEqual(decoded[..., 2::-1], pixels)
        self.assertAllEqual(decoded[..., 3], alpha)

    def test_close_removes_everything(self):
        self.store.add(np.zeros((8, 8, 3), np.uint8), None, "p.png")
        self.store.close()
        self.assertFalse(os.path.exists(self.store.root))


class MaskScalingTest(tf.test.TestCase):

    def _photo(self, width, height):
        return photos.Photo("id", "stem", width, height, 8, False, "/nonexistent")

    def _mask_file(self, mask):
        path = os.path.join(self.create_tempdir().full_path, "mask.png")
        cv2.imwrite(path, mask)
        return path

    def test_painted_mask_is_scaled_to_the_full_photo(self):
        mask = np.zeros((50, 100), np.uint8)
        mask[10:20, 30:60] = 255
        photo = self._photo(400, 200)
        hole = photos.full_resolution_hole(
            photos.read_painted_mask(self._mask_file(mask), photo), photo)
        self.assertEqual(hole.shape, (200, 400, 1))
        expected = np.zeros((200, 400), bool)
        expected[40:80, 120:240] = True
        # Linear scaling moves the edge by at most a scale factor's half (2 pixels here).
        self.assertLessEqual(np.sum(hole[..., 0] != expected), 2 * 2 * (40 + 120))
        self.assertTrue(hole[42:78, 122:238].all())
        self.assertFalse(hole[:36].any())

    def test_dilation_grows_the_hole_in_photo_pixels(self):
        hole = np.zeros((30, 30, 1), np.float32)
        hole[15, 15] = 1.0
        grown = photos.full_resolution_hole(hole, self._photo(30, 30), dilate_px=3)
        rows, columns = np.nonzero(grown[..., 0])
        self.assertEqual((rows.min(), rows.max(), columns.min(), columns.max()), (12, 18, 12, 18))

    def test_refuses_empty_and_misshapen_masks(self):
        photo = self._photo(400, 200)
        with self.assertRaisesRegex(jobs.UserError, "The mask is empty"):
            photos.read_painted_mask(self._mask_file(np.zeros((50, 100), np.uint8)), photo)
        with self.assertRaisesRegex(jobs.UserError, r"mask is 100×100 but the photo is 400×200"):
            photos.read_painted_mask(self._mask_file(np.full((100, 100), 255, np.uint8)), photo)


class JobOptionsTest(tf.test.TestCase):

    def test_absent_options_are_the_command_lines_defaults(self):
        self.assertEqual(parse_job_options({}, 10), JobOptions(cra.CRAConfig(), 0))
        self.assertEqual(parse_job_options({"preset": "paper"}, 10).cra_config,
                         cra.CRAConfig.paper())

    def test_options_replace_single_fields_of_the_preset(self):
        options = parse_job_options({"preset": "paper", "seam": "poisson", "geometry": "tile",
                                     "dilate_px": "4"}, 10)
        self.assertEqual(options.cra_config, cra.CRAConfig.paper(seam="poisson", geometry="tile"))
        self.assertEqual(options.dilate_px, 4)

    def test_refuses_unknown_choices_and_bad_numbers_naming_what_is_allowed(self):
        for query, message in (({"seam": "blur"}, "Unknown seam 'blur'; choose one of"),
                               ({"geometry": "x"}, "Unknown geometry"),
                               ({"preset": "fast"}, "Unknown preset"),
                               ({"dilate_px": "two"}, "whole number"),
                               ({"dilate_px": "11"}, "between 0 and 10")):
            with self.assertRaisesRegex(jobs.UserError, message):
                parse_job_options(query, 10)


if __name__ == "__main__":
    tf.test.main()
