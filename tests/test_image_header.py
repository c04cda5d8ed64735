"""Tests for crainpaint.image_header: sizes from headers (Python and graph) and the pixel budget.

The true sizes come from the arrays the files are encoded from (OpenCV's encoders) or from the
hand-built headers, never from the code under test. The decompression bombs are headers only:
a few hundred bytes that declare tens of thousands of pixels a side.
"""

import os
import struct
import zlib
from unittest import mock

import cv2
import numpy as np
import tensorflow as tf

from crainpaint import image_header
from crainpaint import imaging

_HEIGHT, _WIDTH = 37, 53


def _encoded(extension, parameters=(), channels=3):
    array = np.random.RandomState(0).randint(0, 256, (_HEIGHT, _WIDTH, channels)).astype(np.uint8)
    succeeded, buffer = cv2.imencode(extension, array, list(parameters))
    assert succeeded
    return buffer.tobytes()


def _png_header(width, height):
    """A PNG signature, an IHDR chunk declaring width × height (8-bit RGB) and IEND."""
    def chunk(kind, payload):
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload)))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def _gif_header(width, height):
    """A GIF89a with a logical screen of width × height, a 2-colour table and a 1×1 frame."""
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return b"GIF89a" + screen + frame + b"\x3b"


def _webp_vp8x_header(width, height):
    vp8x = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _bmp_core_header(width, height):
    """An OS/2 bitmap (12-byte BITMAPCOREHEADER, 16-bit sizes), header only."""
    core = struct.pack("<IHHHH", 12, width, height, 1, 24)
    return b"BM" + struct.pack("<IHHI", 14 + len(core), 0, 0, 14 + len(core)) + core


def _big_tiff_header(width, height):
    """A BigTIFF whose first IFD holds ImageWidth (LONG) and ImageLength (LONG8)."""
    entries = struct.pack("<HHQQ", 256, 4, 1, width) + struct.pack("<HHQQ", 257, 16, 1, height)
    return b"II" + struct.pack("<HHHQ", 43, 8, 0, 16) + struct.pack("<Q", 2) + entries


def _top_down_bmp():
    data = bytearray(_encoded(".bmp"))
    data[22:26] = struct.pack("<i", -_HEIGHT)
    return bytes(data)


def _cases():
    """(name, bytes, (height, width)) for every format and variant the readers must know."""
    true_size = (_HEIGHT, _WIDTH)
    return [
        ("png", _encoded(".png"), true_size),
        ("png_rgba", _encoded(".png", channels=4), true_size),
        ("jpeg_baseline", _encoded(".jpg"), true_size),
        ("jpeg_progressive", _encoded(".jpg", (cv2.IMWRITE_JPEG_PROGRESSIVE, 1)), true_size),
        ("gif", _encoded(".gif"), true_size),
        ("webp_lossy_vp8", _encoded(".webp", (cv2.IMWRITE_WEBP_QUALITY, 80)), true_size),
        ("webp_lossless_vp8l", _encoded(".webp", (cv2.IMWRITE_WEBP_QUALITY, 101)), true_size),
        ("webp_alpha_vp8x", _encoded(".webp", (cv2.IMWRITE_WEBP_QUALITY, 80), 4), true_size),
        ("bmp", _encoded(".bmp"), true_size),
        ("bmp_top_down", _top_down_bmp(), true_size),
        ("png_bomb", _png_header(32000, 31000), (31000, 32000)),
        ("gif_bomb", _gif_header(30000, 29000), (29000, 30000)),
        ("webp_bomb", _webp_vp8x_header(16383, 16000), (16000, 16383)),
        ("bmp_core", _bmp_core_header(300, 200), (200, 300)),
    ]


class ImageSizeTest(tf.test.TestCase):
    def test_every_format_gives_the_true_size(self):
        cases = _cases() + [("tiff", _encoded(".tif"), (_HEIGHT, _WIDTH)),
                            ("big_tiff", _big_tiff_header(70000, 60000), (60000, 70000))]
        for name, data, size in cases:
            with self.subTest(name):
                self.assertEqual(image_header.image_size(data), size)

    def test_formats_are_told_by_their_signature(self):
        self.assertEqual(image_header.image_format(_encoded(".tif")), "TIFF")
        self.assertEqual(image_header.image_format(_encoded(".jpg")), "JPEG")
        self.assertIsNone(image_header.image_format(b"P6\n2 2\n255\n" + bytes(12)))

    def test_unknown_truncated_and_empty_headers_are_refused(self):
        for data, message in ((b"P6\n2 2\n255\n" + bytes(12), "not a PNG, JPEG"),
                              (_encoded(".png")[:18], "truncated"),
                              (_png_header(0, 5), "declares 0×5"),
                              (b"\xff\xd8\xff\xd9", "no frame header")):
            with self.subTest(message):
                with self.assertRaisesRegex(image_header.ImageHeaderError, message):
                    image_header.image_size(data)


class DeclaredSizeTest(tf.test.TestCase):
    def test_graph_reader_gives_the_true_size_eagerly_and_in_a_tf_function(self):
        traced = tf.function(image_header.declared_size,
                             input_signature=[tf.TensorSpec([], tf.string)])
        for name, data, size in _cases():
            with self.subTest(name):
                self.assertAllEqual(image_header.declared_size(tf.constant(data)), size)
                self.assertAllEqual(traced(tf.constant(data)), size)

    def test_graph_reader_agrees_with_tensorflow_decoder(self):
        for name, data, _ in _cases():
            if "bomb" in name or name == "bmp_core":
                continue  # Headers only: nothing to decode.
            with self.subTest(name):
                decoded = tf.io.decode_image(data, expand_animations=False)
                self.assertAllEqual(image_header.declared_size(data), tf.shape(decoded)[:2])

    def test_unknown_and_short_bytes_give_one_by_one(self):
        for data in (b"", b"\x89PNG", b"RIFF\x00\x00\x00\x00WEBP", b"BM", _encoded(".tif")):
            with self.subTest(data[:8]):
                self.assertAllEqual(image_header.declared_size(tf.constant(data)), [1, 1])


class PixelBudgetTest(tf.test.TestCase):
    def test_argument_then_environment_then_default(self):
        with mock.patch.dict(os.environ, {image_header.MAX_PIXELS_ENVIRONMENT_VARIABLE: ""}):
            self.assertEqual(image_header.max_pixels_setting(), image_header.DEFAULT_MAX_PIXELS)
            self.assertEqual(image_header.max_pixels_setting(5), 5)
        with mock.patch.dict(os.environ,
                             {image_header.MAX_PIXELS_ENVIRONMENT_VARIABLE: "1_000_000"}):
            self.assertEqual(image_header.max_pixels_setting(), 1_000_000)
            self.assertEqual(image_header.max_pixels_setting(7), 7)
        with mock.patch.dict(os.environ, {image_header.MAX_PIXELS_ENVIRONMENT_VARIABLE: "0"}):
            self.assertIsNone(image_header.max_pixels_setting())

    def test_refuses_invalid_limits_naming_where_they_came_from(self):
        with mock.patch.dict(os.environ, {image_header.MAX_PIXELS_ENVIRONMENT_VARIABLE: "lots"}):
            with self.assertRaisesRegex(ValueError, "CRAINPAINT_MAX_PIXELS.*'lots'"):
                image_header.max_pixels_setting()
        for value in (-1, 2.5, True):
            with self.subTest(value):
                with self.assertRaisesRegex(ValueError, "max_pixels must be a whole number"):
                    image_header.max_pixels_setting(value)

    def test_message_names_the_size_the_limit_and_how_to_raise_it(self):
        image_header.check_pixel_budget(1000, 1000, 1_000_000)
        with self.assertRaises(image_header.ImageTooLargeError) as caught:
            image_header.check_pixel_budget(1000, 1001, 1_000_000, "image big.png")
        message = str(caught.exception)
        for part in ("image big.png is 1001×1000", "1.0 megapixels", "--max_pixels",
                     "CRAINPAINT_MAX_PIXELS", "max_pixels=N", "0 = no limit"):
            self.assertIn(part, message)
        image_header.check_pixel_budget(100_000, 100_000, 0)  # 0: no limit.


class ReadRefusesBombsTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.directory = self.create_tempdir().full_path

    def _write(self, name, data):
        path = os.path.join(self.directory, name)
        with open(path, "wb") as file:
            file.write(data)
        return path

    def test_bombs_are_refused_before_any_decoding(self):
        # The default budget (400 MP) refuses the first two; the WebP (268 MP) needs a lower one.
        limit = 200_000_000
        bombs = {"bomb.png": _png_header(32000, 32000), "bomb.gif": _gif_header(30000, 30000),
                 "bomb.webp": _webp_vp8x_header(16383, 16383)}
        with mock.patch.object(cv2, "imdecode", side_effect=AssertionError("decoded")):
            for name, data in bombs.items():
                path = self._write(name, data)
                with self.subTest(name):
                    with self.assertRaisesRegex(image_header.ImageTooLargeError,
                                                f"image {path} is"):
                        imaging.read_image(path, max_pixels=limit)
                    with self.assertRaisesRegex(image_header.ImageTooLargeError,
                                                f"mask {path} is"):
                        imaging.read_mask(path, max_pixels=limit)

    def test_limit_is_the_argument_or_the_environment(self):
        path = self._write("photo.png", _encoded(".png"))
        with self.assertRaisesRegex(image_header.ImageTooLargeError, "53×37"):
            imaging.read_image(path, max_pixels=_HEIGHT * _WIDTH - 1)
        self.assertEqual(imaging.read_image(path, max_pixels=_HEIGHT * _WIDTH).pixels.shape,
                         (_HEIGHT, _WIDTH, 3))
        with mock.patch.dict(os.environ, {image_header.MAX_PIXELS_ENVIRONMENT_VARIABLE: "100"}):
            with self.assertRaises(image_header.ImageTooLargeError):
                imaging.read_mask(path)

    def test_unrecognised_format_is_refused_naming_the_formats_read(self):
        path = self._write("photo.ppm", b"P6\n2 2\n255\n" + bytes(12))
        with self.assertRaisesRegex(imaging.ImageReadError,
                                    "photo.ppm.*reads PNG, JPEG, GIF, WebP, TIFF, BMP"):
            imaging.read_image(path)


if __name__ == "__main__":
    tf.test.main()
