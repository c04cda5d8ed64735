"""Tests for crainpaint.imaging: reading and writing files (EXIF orientation, masks, atomic writes).

Expected values are computed by hand or taken from an independent decoder path (OpenCV's own
`IMREAD_COLOR` orientation handling, `cv2.imwrite`/`cv2.imread`), never from the code under test.
Images are tiny so the whole file runs in a few seconds.
"""

import os
import signal
import struct
import subprocess
import sys
import zlib
from unittest import mock

import cv2
import numpy as np
import tensorflow as tf

from crainpaint import imaging
from crainpaint.pixels import MaskWarning
from tests.processes import repository_environment

# --------------------------------------------------------------------------------------------
# Hand-built files with an EXIF orientation tag.
# --------------------------------------------------------------------------------------------


def _exif_tiff_block(orientation, byte_order=b"MM"):
    """A TIFF-structured EXIF block whose first IFD holds only the Orientation tag."""
    endian = ">" if byte_order == b"MM" else "<"
    header = byte_order + struct.pack(endian + "HI", 42, 8)
    directory = struct.pack(endian + "H", 1)
    # Tag 0x0112, type SHORT, count 1, value left-justified in the 4-byte field.
    directory += struct.pack(endian + "HHIHH", 0x0112, 3, 1, orientation, 0)
    return header + directory + struct.pack(endian + "I", 0)


def _jpeg_with_orientation(bgr, orientation):
    succeeded, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 100])
    assert succeeded
    data = buffer.tobytes()
    payload = b"Exif\x00\x00" + _exif_tiff_block(orientation)
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    # Right after the SOI marker, before OpenCV's JFIF APP0: readers must scan all segments.
    return data[:2] + app1 + data[2:]


def _png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_with_orientation(array, orientation):
    succeeded, buffer = cv2.imencode(".png", array)
    assert succeeded
    data = buffer.tobytes()
    exif_chunk = _png_chunk(b"eXIf", _exif_tiff_block(orientation, b"II"))
    # 8-byte signature + 25-byte IHDR chunk, then eXIf.
    return data[:33] + exif_chunk + data[33:]


def _webp_with_orientation(array, orientation):
    succeeded, buffer = cv2.imencode(".webp", array, [cv2.IMWRITE_WEBP_QUALITY, 101])
    assert succeeded
    data = buffer.tobytes()
    assert data[12:16] == b"VP8L", "expected OpenCV to write a simple lossless WebP"
    height, width = array.shape[:2]
    has_alpha = array.ndim == 3 and array.shape[2] == 4
    # Extended format: a VP8X header announcing EXIF (0x08) and alpha (0x10).
    flags = 0x08 | (0x10 if has_alpha else 0)
    vp8x = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    exif = _exif_tiff_block(orientation, b"II")
    exif_chunk = b"EXIF" + struct.pack("<I", len(exif)) + exif + b"\x00" * (len(exif) & 1)
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x + data[12:] + exif_chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _tiff_with_orientation(rgb, orientation):
    """A minimal uncompressed 8-bit RGB TIFF carrying an Orientation tag in its own IFD."""
    height, width, _ = rgb.shape
    strip = rgb.tobytes()
    entries = [
        (256, 3, 1, width),
        (257, 3, 1, height),
        (258, 3, 3, "bits_per_sample"),
        (259, 3, 1, 1),  # No compression.
        (262, 3, 1, 2),  # RGB.
        (273, 4, 1, "strip_offset"),
        (274, 3, 1, orientation),
        (277, 3, 1, 3),
        (278, 3, 1, height),
        (279, 4, 1, len(strip)),
    ]
    directory_offset = 8
    bits_offset = directory_offset + 2 + 12 * len(entries) + 4
    strip_offset = bits_offset + 8
    data = b"II" + struct.pack("<HI", 42, directory_offset) + struct.pack("<H", len(entries))
    for tag, field_type, count, value in entries:
        if value == "bits_per_sample":
            data += struct.pack("<HHII", tag, field_type, count, bits_offset)
        elif value == "strip_offset":
            data += struct.pack("<HHII", tag, field_type, count, strip_offset)
        elif field_type == 3:
            data += struct.pack("<HHIHH", tag, field_type, count, value, 0)
        else:
            data += struct.pack("<HHII", tag, field_type, count, value)
    data += struct.pack("<I", 0) + struct.pack("<HHH", 8, 8, 8) + b"\x00\x00"
    assert len(data) == strip_offset
    return data + strip


def _write_bytes(path, data):
    with open(path, "wb") as file:
        file.write(data)
    return path


# --------------------------------------------------------------------------------------------
# read_image
# --------------------------------------------------------------------------------------------


class ReadImageTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.directory = self.create_tempdir().full_path

    def test_pure_red_png_reads_as_rgb_red(self):
        path = os.path.join(self.directory, "red.png")
        bgr = np.zeros((3, 5, 3), np.uint8)
        bgr[..., 2] = 255  # OpenCV order: red is the last channel.
        self.assertTrue(cv2.imwrite(path, bgr))
        image = imaging.read_image(path)
        self.assertAllEqual(image.pixels.shape, [3, 5, 3])
        self.assertAllEqual(image.pixels[1, 2], [255, 0, 0])
        self.assertIsNone(image.alpha)
        self.assertEqual(image.bit_depth, 8)

    def test_jpeg_with_exif_orientation_6_is_rotated_clockwise(self):
        # Stored 40 wide × 20 tall with a red 8×8 block (one JPEG block, so colours stay clean)
        # at the top-left. Orientation 6 means "rotate 90° clockwise to display": the result is
        # 20 wide × 40 tall with the red block at the top-right.
        stored = np.zeros((20, 40, 3), np.uint8)
        stored[:8, :8] = (0, 0, 255)
        path = _write_bytes(os.path.join(self.directory, "rotated.jpg"), _jpeg_with_orientation(stored, 6))
        pixels = imaging.read_image(path).pixels
        self.assertAllEqual(pixels.shape, [40, 20, 3])
        red, green, blue = (int(value) for value in pixels[3, 16])
        self.assertGreater(red, 200)
        self.assertLess(max(green, blue), 50)
        self.assertLess(int(pixels[3, 3].max()), 50)  # Top-left is now black.
        self.assertLess(int(pixels[36, 16].max()), 50)  # So is the bottom-right.

    def test_every_exif_orientation_matches_opencv_colour_decoder(self):
        # cv2.IMREAD_COLOR applies the orientation with OpenCV's own code: an independent
        # reference for all eight orientations and the three containers that carry EXIF.
        random = np.random.default_rng(6)
        stored = random.integers(0, 256, size=(4, 6, 3), dtype=np.uint8)
        builders = {"jpg": _jpeg_with_orientation, "png": _png_with_orientation, "webp": _webp_with_orientation}
        for extension, builder in builders.items():
            for orientation in range(1, 9):
                with self.subTest(extension=extension, orientation=orientation):
                    data = builder(stored, orientation)
                    path = _write_bytes(os.path.join(self.directory, f"o{orientation}.{extension}"), data)
                    reference = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
                    self.assertAllEqual(imaging.read_image(path).pixels, reference[..., ::-1])

    def test_tiff_orientation_is_applied_once(self):
        # OpenCV's TIFF decoder orients pixels itself, even with IMREAD_UNCHANGED.
        stored = np.zeros((2, 3, 3), np.uint8)
        stored[0, 0] = (255, 0, 0)  # RGB red at the top-left of the stored raster.
        path = _write_bytes(os.path.join(self.directory, "rotated.tif"), _tiff_with_orientation(stored, 6))
        pixels = imaging.read_image(path).pixels
        expected = np.rot90(stored, k=-1)  # Clockwise.
        self.assertAllEqual(pixels, expected)
        self.assertAllEqual(pixels[0, 1], [255, 0, 0])

    def test_exif_orientation_turns_alpha_with_the_pixels(self):
        stored_bgra = np.zeros((2, 3, 4), np.uint8)
        stored_bgra[..., 3] = np.arange(6, dtype=np.uint8).reshape(2, 3) * 40
        stored_bgra[0, 2, :3] = (0, 255, 0)
        path = _write_bytes(os.path.join(self.directory, "alpha.png"), _png_with_orientation(stored_bgra, 8))
        image = imaging.read_image(path)
        # Orientation 8 means "rotate 90° counter-clockwise to display".
        self.assertAllEqual(image.alpha, np.rot90(stored_bgra[..., 3], k=1))
        self.assertAllEqual(image.pixels, np.rot90(stored_bgra[..., 2::-1], k=1))

    def test_16_bit_png_keeps_exact_values(self):
        path = os.path.join(self.directory, "deep.png")
        rgb = np.array([[(0, 1, 255), (256, 32768, 65535)], [(12345, 54321, 7), (65534, 2, 40000)]], np.uint16)
        self.assertTrue(cv2.imwrite(path, rgb[..., ::-1]))
        image = imaging.read_image(path)
        self.assertEqual(image.pixels.dtype, np.uint16)
        self.assertEqual(image.bit_depth, 16)
        self.assertAllEqual(image.pixels, rgb)

    def test_rgba_png_keeps_alpha(self):
        path = os.path.join(self.directory, "transparent.png")
        bgra = np.zeros((2, 2, 4), np.uint8)
        bgra[..., 0] = 200  # Blue.
        bgra[..., 3] = [[0, 64], [128, 255]]
        self.assertTrue(cv2.imwrite(path, bgra))
        image = imaging.read_image(path)
        self.assertAllEqual(image.alpha, [[0, 64], [128, 255]])
        self.assertAllEqual(image.pixels[0, 0], [0, 0, 200])

    def test_grayscale_becomes_three_equal_channels(self):
        path = os.path.join(self.directory, "gray16.png")
        gray = np.array([[0, 1000], [40000, 65535]], np.uint16)
        self.assertTrue(cv2.imwrite(path, gray))
        image = imaging.read_image(path)
        self.assertAllEqual(image.pixels, np.stack([gray] * 3, axis=-1))
        self.assertEqual(image.bit_depth, 16)

    def test_corrupt_file_raises_image_read_error_naming_the_path(self):
        path = _write_bytes(os.path.join(self.directory, "broken.png"), b"\x89PNG\r\n\x1a\nnot really")
        with self.assertRaises(imaging.ImageReadError) as context:
            imaging.read_image(path)
        self.assertIn(path, str(context.exception))
        self.assertIn("corrupt", str(context.exception))
        self.assertIsInstance(context.exception, ValueError)

    def test_missing_and_empty_files_raise_image_read_error_with_the_reason(self):
        missing = os.path.join(self.directory, "nowhere.jpg")
        with self.assertRaisesRegex(imaging.ImageReadError, f"{missing}.*no such file"):
            imaging.read_image(missing)
        empty = _write_bytes(os.path.join(self.directory, "empty.png"), b"")
        with self.assertRaisesRegex(imaging.ImageReadError, f"{empty}.*empty"):
            imaging.read_mask(empty)


# --------------------------------------------------------------------------------------------
# read_mask and check_same_size
# --------------------------------------------------------------------------------------------


class ReadMaskTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.directory = self.create_tempdir().full_path

    def test_gray_mask_thresholds_at_128_in_both_conventions(self):
        path = os.path.join(self.directory, "mask.png")
        self.assertTrue(cv2.imwrite(path, np.array([[0, 127, 128, 255]], np.uint8)))
        white_hole = imaging.read_mask(path)
        self.assertEqual(white_hole.dtype, np.float32)
        self.assertAllEqual(white_hole.shape, [1, 4, 1])
        self.assertAllEqual(white_hole[0, :, 0], [0, 0, 1, 1])
        self.assertAllEqual(imaging.read_mask(path, "black_hole")[0, :, 0], [1, 1, 0, 0])

    def test_16_bit_rgba_mask_ignores_alpha(self):
        path = os.path.join(self.directory, "mask16.png")
        bgra = np.array([[(32768, 32768, 32768, 0), (32767, 32767, 32767, 65535)]], np.uint16)
        self.assertTrue(cv2.imwrite(path, bgra))
        with self.assertWarnsRegex(MaskWarning, "alpha channel is ignored"):
            hole = imaging.read_mask(path)
        self.assertAllEqual(hole[0, :, 0], [1, 0])

    def test_mask_honours_exif_orientation(self):
        stored = np.zeros((2, 3), np.uint8)
        stored[0, 0] = 255
        path = _write_bytes(os.path.join(self.directory, "mask.png"), _png_with_orientation(stored, 6))
        hole = imaging.read_mask(path)
        self.assertAllEqual(hole[..., 0], np.rot90(stored, k=-1) / 255.0)

    def test_dilate_px_grows_a_single_pixel_to_a_disk(self):
        path = os.path.join(self.directory, "dot.png")
        dot = np.zeros((9, 11), np.uint8)
        dot[4, 5] = 255
        self.assertTrue(cv2.imwrite(path, dot))
        # Every pixel within 3 pixels along the axes; the diagonal corners of the 7×7 square
        # are cut off like a disk.
        disk = np.array(
            [
                [0, 0, 0, 1, 0, 0, 0],
                [0, 1, 1, 1, 1, 1, 0],
                [1, 1, 1, 1, 1, 1, 1],
                [1, 1, 1, 1, 1, 1, 1],
                [1, 1, 1, 1, 1, 1, 1],
                [0, 1, 1, 1, 1, 1, 0],
                [0, 0, 0, 1, 0, 0, 0],
            ],
            np.float32,
        )
        expected = np.zeros((9, 11), np.float32)
        expected[1:8, 2:9] = disk
        self.assertAllEqual(imaging.read_mask(path, dilate_px=3)[..., 0], expected)
        self.assertAllEqual(imaging.read_mask(path, dilate_px=0)[..., 0], dot / 255.0)

    def test_negative_dilation_is_rejected(self):
        with self.assertRaisesRegex(ValueError, "dilate_px must be >= 0"):
            imaging.read_mask("unused.png", dilate_px=-1)

    def test_size_mismatch_message_names_both_sizes(self):
        with self.assertRaises(ValueError) as context:
            imaging.check_same_size((960, 1280), (480, 640), "photos/a.jpg", "masks/a.png")
        message = str(context.exception)
        self.assertIn("masks/a.png is 640×480", message)
        self.assertIn("photos/a.jpg is 1280×960", message)
        imaging.check_same_size((960, 1280, 3), (960, 1280, 1), "photos/a.jpg", "masks/a.png")


# --------------------------------------------------------------------------------------------
# write_image and default_output_name
# --------------------------------------------------------------------------------------------


class WriteImageTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.directory = self.create_tempdir().full_path
        self.red = np.zeros((3, 4, 3), np.uint8)
        self.red[..., 0] = 255

    def test_writes_rgb_that_opencv_reads_back_as_bgr(self):
        path = os.path.join(self.directory, "nested", "red.png")
        imaging.write_image(path, self.red)
        self.assertAllEqual(cv2.imread(path, cv2.IMREAD_UNCHANGED)[0, 0], [0, 0, 255])
        self.assertEqual(os.listdir(os.path.dirname(path)), ["red.png"])  # No temporary files.

    def test_lossless_formats_round_trip_exactly(self):
        random = np.random.default_rng(1)
        cases = [(".png", np.uint16, True), (".tif", np.uint16, True), (".tiff", np.uint8, False), (".webp", np.uint8, True)]
        for extension, dtype, with_alpha in cases:
            with self.subTest(extension=extension, dtype=dtype.__name__):
                top = np.iinfo(dtype).max
                pixels = random.integers(0, top, size=(5, 6, 3), endpoint=True).astype(dtype)
                # Opaque alpha: lossless WebP may rewrite the colour of fully transparent pixels.
                alpha = random.integers(1, top, size=(5, 6), endpoint=True).astype(dtype) if with_alpha else None
                path = os.path.join(self.directory, "out" + extension)
                imaging.write_image(path, pixels, alpha)
                stored = cv2.imread(path, cv2.IMREAD_UNCHANGED)
                self.assertEqual(stored.dtype, dtype)
                self.assertAllEqual(stored[..., 2::-1], pixels)
                if with_alpha:
                    self.assertAllEqual(stored[..., 3], alpha)

    def test_jpeg_is_written_lossy_in_8_bit(self):
        path = os.path.join(self.directory, "photo.JPG")
        imaging.write_image(path, self.red)
        self.assertAllClose(cv2.imread(path)[..., ::-1], self.red, atol=3)

    def test_refuses_to_overwrite_an_input_even_through_another_spelling(self):
        input_path = os.path.join(self.directory, "in.png")
        self.assertTrue(cv2.imwrite(input_path, np.zeros((2, 2), np.uint8)))
        with open(input_path, "rb") as file:
            original = file.read()
        link_path = os.path.join(self.directory, "link.png")
        os.symlink(input_path, link_path)
        hard_link_path = os.path.join(self.directory, "hard.png")
        os.link(input_path, hard_link_path)  # Same file, unrelated path: only samefile sees it.
        spellings = [input_path, os.path.join(self.directory, ".", "in.png"), link_path, hard_link_path]
        for output_path in spellings:
            with self.subTest(output_path=output_path):
                with self.assertRaisesRegex(ValueError, "Refusing to write"):
                    imaging.write_image(output_path, self.red, forbidden_paths=["other.png", input_path])
        with open(input_path, "rb") as file:
            self.assertEqual(file.read(), original)

    def test_failing_encode_leaves_no_file(self):
        path = os.path.join(self.directory, "out.png")
        with mock.patch.object(cv2, "imencode", side_effect=cv2.error("encoder exploded")):
            with self.assertRaisesRegex(ValueError, "encoder exploded"):
                imaging.write_image(path, self.red)
        with mock.patch.object(cv2, "imencode", return_value=(False, None)):
            with self.assertRaisesRegex(ValueError, "Cannot encode"):
                imaging.write_image(path, self.red)
        self.assertEqual(os.listdir(self.directory), [])

    def test_failing_rename_keeps_the_old_file_and_removes_the_temporary_one(self):
        path = os.path.join(self.directory, "out.png")
        _write_bytes(path, b"previous result")
        with mock.patch.object(imaging.os, "replace", side_effect=OSError("disk vanished")):
            with self.assertRaisesRegex(OSError, "disk vanished"):
                imaging.write_image(path, self.red)
        self.assertEqual(os.listdir(self.directory), ["out.png"])
        with open(path, "rb") as file:
            self.assertEqual(file.read(), b"previous result")

    def test_file_mode_follows_the_umask_not_mkstemp(self):
        previous_umask = os.umask(0o022)
        try:
            path = os.path.join(self.directory, "out.png")
            imaging.write_image(path, self.red)
        finally:
            os.umask(previous_umask)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o644)

    def test_formats_that_cannot_hold_the_data_are_refused(self):
        deep = self.red.astype(np.uint16) * 257
        with self.assertRaisesRegex(ValueError, "8-bit samples only"):
            imaging.write_image(os.path.join(self.directory, "deep.jpg"), deep)
        with self.assertRaisesRegex(ValueError, "8-bit samples only"):
            imaging.write_image(os.path.join(self.directory, "deep.webp"), deep)
        with self.assertRaisesRegex(ValueError, "no alpha channel"):
            imaging.write_image(os.path.join(self.directory, "a.jpeg"), self.red, np.zeros((3, 4), np.uint8))
        with self.assertRaisesRegex(ValueError, "unsupported extension '.bmp'.*\\.png.*\\.jpg"):
            imaging.write_image(os.path.join(self.directory, "out.bmp"), self.red)
        with self.assertRaisesRegex(ValueError, "to_uint8"):
            imaging.write_image(os.path.join(self.directory, "float.png"), self.red.astype(np.float32))
        self.assertEqual(os.listdir(self.directory), [])

    def test_default_output_name_is_the_stem_as_png(self):
        self.assertEqual(imaging.default_output_name("photos/holiday.jpg"), "holiday.png")
        self.assertEqual(imaging.default_output_name("scan.v2.tiff"), "scan.v2.png")


if __name__ == "__main__":
    tf.test.main()


# --------------------------------------------------------------------------------------------
# Partial files: nothing left behind by signals, stale ones removed.
# --------------------------------------------------------------------------------------------

# Writes an image with fsync made slow, so that the partial file exists when the signal comes.
_SLOW_WRITER = """
import os, sys, time
import numpy as np
from crainpaint import imaging

real_fsync = os.fsync
def slow_fsync(descriptor):
    print("writing", flush=True)
    time.sleep(60)
    real_fsync(descriptor)
os.fsync = slow_fsync
imaging.write_image(sys.argv[1], np.zeros((4, 5, 3), np.uint8))
"""


class PartialFileTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.directory = self.create_tempdir().full_path

    def _stop_while_writing(self, signal_number):
        environment = repository_environment(TF_CPP_MIN_LOG_LEVEL="3")
        output = os.path.join(self.directory, "out.png")
        process = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, output],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=environment)
        try:
            self.assertEqual(process.stdout.readline().strip(), b"writing")
            partial = [name for name in os.listdir(self.directory) if name.endswith(".partial")]
            self.assertLen(partial, 1)
            self.assertTrue(partial[0].startswith(f".out.png.{process.pid}."))
            process.send_signal(signal_number)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stdout.close()
            process.stderr.close()
        return process.returncode

    def test_sigterm_while_writing_leaves_nothing_and_still_ends_the_process(self):
        self.assertEqual(self._stop_while_writing(signal.SIGTERM), -signal.SIGTERM)
        self.assertEqual(os.listdir(self.directory), [])

    def test_ctrl_c_while_writing_leaves_nothing(self):
        # Python's own SIGINT handler raises KeyboardInterrupt where the write is.
        output = os.path.join(self.directory, "out.png")
        with mock.patch.object(imaging.os, "fsync", side_effect=KeyboardInterrupt):
            with self.assertRaises(KeyboardInterrupt):
                imaging.write_image(output, np.zeros((2, 2, 3), np.uint8))
        self.assertEqual(os.listdir(self.directory), [])

    def test_next_write_removes_partial_files_of_dead_writers_only(self):
        finished = subprocess.Popen([sys.executable, "-c", "pass"])
        finished.wait()  # Its process id now belongs to no running process.
        dead = os.path.join(self.directory, f".old.png.{finished.pid}.0123456789abcdef.partial")
        alive = os.path.join(self.directory, f".new.png.{os.getppid()}.0123456789abcdef.partial")
        unrelated = os.path.join(self.directory, ".notes.partial")
        for path in (dead, alive, unrelated):
            _write_bytes(path, b"partial")
        imaging.write_image(os.path.join(self.directory, "out.png"),
                            np.zeros((2, 2, 3), np.uint8))
        self.assertCountEqual(os.listdir(self.directory),
                              ["out.png", os.path.basename(alive), ".notes.partial"])
