"""Image sizes read from file headers, and the pixel budget checked against them before decoding.

A 1 MB PNG can declare 32000×32000 pixels; decoding it allocates 3 GB, and inpainting a photo
costs far more memory per pixel than its decoded array (docs/limits.md). So every entry point
reads the size the file declares, checks it against one pixel budget and refuses too large a
photo before any decoder runs:

* `image_size(data)`: (height, width) from the header of a PNG, JPEG (baseline, progressive,
  lossless), GIF, WebP (VP8, VP8L, VP8X), TIFF (classic and BigTIFF) or BMP file, in plain
  Python, for the file readers of `crainpaint.imaging`.
* `declared_size(data)`: the same with TensorFlow string ops, inside a graph, for the
  SavedModel's bytes signature (every format `tf.io.decode_image` reads: PNG, JPEG, GIF, BMP,
  WebP).
* `max_pixels_setting` / `check_pixel_budget`: the budget, `DEFAULT_MAX_PIXELS` unless the
  caller passes `max_pixels` or the environment sets `CRAINPAINT_MAX_PIXELS` (0 = no limit).
"""

import os
from typing import Optional, Tuple

import tensorflow as tf

from crainpaint.exif import jpeg_segments

# The default largest height × width. The command line's peak memory is about 1.1 GiB plus
# 26 MiB per megapixel (python experiments/benchmark_memory.py, docs/limits.md), so a photo at
# the limit needs about 11.4 GiB, under half of a 24 GiB machine.
DEFAULT_MAX_PIXELS = 400_000_000
MAX_PIXELS_ENVIRONMENT_VARIABLE = "CRAINPAINT_MAX_PIXELS"

FORMATS = ("PNG", "JPEG", "GIF", "WebP", "TIFF", "BMP")
# The photos a folder run picks up (crainpaint.imaging reads them all, 16-bit and alpha too).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
# Those of them `tf.io.decode_image` decodes too, for pipelines that decode in the graph.
TENSORFLOW_IMAGE_EXTENSIONS = tuple(extension for extension in IMAGE_EXTENSIONS
                                    if extension not in (".tif", ".tiff"))

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_GIF_SIGNATURES = (b"GIF87a", b"GIF89a")
# JPEG start-of-frame markers: every 0xC0..0xCF except DHT (C4), JPG (C8) and DAC (CC).
_JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_TIFF_WIDTH_TAG, _TIFF_HEIGHT_TAG = 256, 257


class ImageHeaderError(ValueError):
    """The bytes are not a PNG, JPEG, GIF, WebP, TIFF or BMP file, or their header is corrupt."""


class ImageTooLargeError(ValueError):
    """An image has more pixels than the pixel budget allows."""


# --------------------------------------------------------------------------------------------
# The pixel budget.
# --------------------------------------------------------------------------------------------


def max_pixels_setting(max_pixels: Optional[int] = None) -> Optional[int]:
    """The pixel budget in force: `max_pixels` if given, else the environment, else the default.

    Args:
        max_pixels: A positive height × width limit, 0 for no limit, or None to read the
            environment variable `CRAINPAINT_MAX_PIXELS` (same meaning) and fall back to
            `DEFAULT_MAX_PIXELS`.

    Returns:
        The limit, or None when there is none.

    Raises:
        ValueError: A negative or non-integer limit, in the argument or the environment.
    """
    source = "max_pixels"
    if max_pixels is None:
        text = os.environ.get(MAX_PIXELS_ENVIRONMENT_VARIABLE, "").strip()
        if not text:
            return DEFAULT_MAX_PIXELS
        source = MAX_PIXELS_ENVIRONMENT_VARIABLE
        try:
            max_pixels = int(text.replace("_", ""))
        except ValueError:
            raise ValueError(f"{source} must be a whole number of pixels (0 = no limit), got "
                             f"{text!r}.") from None
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 0:
        raise ValueError(f"{source} must be a whole number of pixels >= 0 (0 = no limit), got "
                         f"{max_pixels!r}.")
    return max_pixels or None


def check_pixel_budget(height: int, width: int, max_pixels: Optional[int] = None,
                       what: str = "the image") -> None:
    """Refuses an image of more than the pixel budget, before it is decoded or inpainted.

    Args:
        height: The image's height in pixels.
        width: The image's width in pixels.
        max_pixels: As for `max_pixels_setting`.
        what: How the message names the image, e.g. "image photo.jpg".

    Raises:
        ImageTooLargeError: height × width is above the budget; the message gives the size,
            the limit and the three ways to raise it.
    """
    limit = max_pixels_setting(max_pixels)
    pixels = int(height) * int(width)
    if limit is None or pixels <= limit:
        return
    raise ImageTooLargeError(
        f"{what} is {width}×{height} (width×height) = {pixels / 1e6:.1f} megapixels, more than "
        f"the limit of {limit / 1e6:.1f} megapixels (inpainting needs about 26 MiB of memory "
        "per megapixel, docs/limits.md). If the machine has the memory, raise the limit with "
        f"--max_pixels N on the command line, {MAX_PIXELS_ENVIRONMENT_VARIABLE}=N in the "
        "environment or max_pixels=N in Python (0 = no limit).")


# --------------------------------------------------------------------------------------------
# Sizes from headers, in Python.
# --------------------------------------------------------------------------------------------


def _unsigned(data: bytes, offset: int, size: int, byte_order: str) -> int:
    if offset + size > len(data):
        raise ImageHeaderError("the header is truncated")
    return int.from_bytes(data[offset:offset + size], byte_order)


def _png_size(data: bytes) -> Tuple[int, int]:
    if data[12:16] != b"IHDR":
        raise ImageHeaderError("the PNG does not start with an IHDR chunk")
    return _unsigned(data, 20, 4, "big"), _unsigned(data, 16, 4, "big")


def _jpeg_size(data: bytes) -> Tuple[int, int]:
    try:
        for marker, position, _ in jpeg_segments(data):
            if marker in _JPEG_FRAME_MARKERS:
                # Length (2), sample precision (1), height (2), width (2).
                return (_unsigned(data, position + 5, 2, "big"),
                        _unsigned(data, position + 7, 2, "big"))
    except ValueError as error:
        raise ImageHeaderError(str(error)) from None
    raise ImageHeaderError("the JPEG has no frame header")


def _gif_size(data: bytes) -> Tuple[int, int]:
    """The logical screen, grown to hold the first frame if that frame reaches past it."""
    width, height = _unsigned(data, 6, 2, "little"), _unsigned(data, 8, 2, "little")
    flags = _unsigned(data, 10, 1, "little")
    position = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while position < len(data):
        block = data[position]
        if block == 0x2C:  # Image descriptor: left, top, width, height.
            left, top = (_unsigned(data, position + offset, 2, "little") for offset in (1, 3))
            frame_width, frame_height = (_unsigned(data, position + offset, 2, "little")
                                         for offset in (5, 7))
            return max(height, top + frame_height), max(width, left + frame_width)
        if block != 0x21:  # Trailer or garbage: no frame.
            break
        position += 2  # Extension introducer and label, then sub-blocks up to an empty one.
        while position < len(data) and data[position]:
            position += 1 + data[position]
        position += 1
    return height, width


def _webp_size(data: bytes) -> Tuple[int, int]:
    kind = data[12:16]
    if kind == b"VP8X":  # Canvas width − 1 and height − 1, 24 bits each.
        return _unsigned(data, 27, 3, "little") + 1, _unsigned(data, 24, 3, "little") + 1
    if kind == b"VP8L":  # Signature 0x2F, then width − 1 and height − 1 in 14 bits each.
        if _unsigned(data, 20, 1, "little") != 0x2F:
            raise ImageHeaderError("the lossless WebP signature is missing")
        bits = _unsigned(data, 21, 4, "little")
        return ((bits >> 14) & 0x3FFF) + 1, (bits & 0x3FFF) + 1
    if kind == b"VP8 ":  # Frame tag (3), start code 9D 01 2A, then 14-bit width and height.
        if data[23:26] != b"\x9d\x01\x2a":
            raise ImageHeaderError("the lossy WebP start code is missing")
        return (_unsigned(data, 28, 2, "little") & 0x3FFF,
                _unsigned(data, 26, 2, "little") & 0x3FFF)
    raise ImageHeaderError(f"unknown WebP chunk {kind!r}")


def _tiff_size(data: bytes) -> Tuple[int, int]:
    """Width and height of the first image (IFD), the one OpenCV decodes."""
    byte_order = "little" if data[:2] == b"II" else "big"
    big = _unsigned(data, 2, 2, byte_order) == 43  # BigTIFF: 64-bit offsets and counts.
    count_size, entry_size, value_offset = (8, 20, 12) if big else (2, 12, 8)
    directory = _unsigned(data, 8, 8, byte_order) if big else _unsigned(data, 4, 4, byte_order)
    sizes = {}
    for index in range(_unsigned(data, directory, count_size, byte_order)):
        entry = directory + count_size + entry_size * index
        tag = _unsigned(data, entry, 2, byte_order)
        if tag in (_TIFF_WIDTH_TAG, _TIFF_HEIGHT_TAG):
            field_type = _unsigned(data, entry + 2, 2, byte_order)
            # SHORT (3), LONG (4) or, in BigTIFF, LONG8 (16); left-justified in the value field.
            value_size = {3: 2, 4: 4, 16: 8}.get(field_type)
            if value_size is None:
                raise ImageHeaderError(f"TIFF size tag {tag} has type {field_type}")
            sizes[tag] = _unsigned(data, entry + value_offset, value_size, byte_order)
        if len(sizes) == 2:
            return sizes[_TIFF_HEIGHT_TAG], sizes[_TIFF_WIDTH_TAG]
    raise ImageHeaderError("the TIFF has no ImageWidth and ImageLength tags")


def _bmp_size(data: bytes) -> Tuple[int, int]:
    if _unsigned(data, 14, 4, "little") == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes.
        return _unsigned(data, 20, 2, "little"), _unsigned(data, 18, 2, "little")
    if len(data) < 26:
        raise ImageHeaderError("the header is truncated")
    width = int.from_bytes(data[18:22], "little", signed=True)
    height = int.from_bytes(data[22:26], "little", signed=True)
    return abs(height), abs(width)  # A negative height stores the rows top-down.


def image_format(data: bytes) -> Optional[str]:
    """The format of encoded image bytes by their signature: one of `FORMATS`, or None."""
    if data.startswith(_PNG_SIGNATURE):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:6] in _GIF_SIGNATURES:
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if data[:2] == b"BM":
        return "BMP"
    return None


def image_size(data: bytes) -> Tuple[int, int]:
    """The (height, width) an encoded image declares, read from its header without decoding.

    Args:
        data: The file's bytes (at least up to the frame header; JPEG metadata may come first).

    Returns:
        (height, width) as the file stores them (before any EXIF orientation, which does not
        change the pixel count).

    Raises:
        ImageHeaderError: Not one of `FORMATS`, a truncated or corrupt header, or a declared
            side of 0.
    """
    kind = image_format(data)
    if kind is None:
        raise ImageHeaderError(f"not a {', '.join(FORMATS[:-1])} or {FORMATS[-1]} file")
    reader = {"PNG": _png_size, "JPEG": _jpeg_size, "GIF": _gif_size, "WebP": _webp_size,
              "TIFF": _tiff_size, "BMP": _bmp_size}[kind]
    height, width = reader(data)
    if height < 1 or width < 1:
        raise ImageHeaderError(f"the {kind} header declares {width}×{height} pixels")
    return height, width


# --------------------------------------------------------------------------------------------
# Sizes from headers, in a TensorFlow graph.
# --------------------------------------------------------------------------------------------


def declared_size(data) -> tf.Tensor:
    """The (height, width) that encoded image bytes declare, with graph ops, before decoding.

    Reads the headers of every format `tf.io.decode_image` decodes: PNG (IHDR), JPEG (the
    frame header, progressive included, through `tf.image.extract_jpeg_shape`), GIF (the
    logical screen, which every frame `tf.io.decode_gif` accepts lies within), BMP (the info
    header; a negative height means top-down rows) and WebP (VP8, VP8L and VP8X). Works in
    `tf.function`s and SavedModels; a size check on its result refuses a decompression bomb
    before the decoder allocates it.

    Args:
        data: A scalar string tensor, the encoded file.

    Returns:
        int64 [2]: (height, width); (1, 1) for bytes of another kind or too short to hold a
        header, which leaves them to the decoder's own error or to a size check after decoding.
    """
    data = tf.convert_to_tensor(data, tf.string)
    length = tf.strings.length(data)

    def text_at(offset, count):
        # substr fails when the position is past the end; a clamped one gives a short string.
        return tf.strings.substr(data, tf.minimum(offset, length), count)

    def number(offset, count, byte_order):
        values = tf.cast(tf.io.decode_raw(text_at(offset, count), tf.uint8), tf.int64)
        shifts = [8 * index for index in range(count)]
        if byte_order == "big":
            shifts.reverse()
        return tf.reduce_sum(tf.bitwise.left_shift(values, tf.constant(shifts, tf.int64)))

    def size(height, width):
        return tf.stack([height, width])

    def png():
        return size(number(20, 4, "big"), number(16, 4, "big"))

    def jpeg():
        return tf.image.extract_jpeg_shape(data, output_type=tf.int64)[:2]

    def gif():
        return size(number(8, 2, "little"), number(6, 2, "little"))

    def bmp():
        core_header = tf.equal(number(14, 4, "little"), 12)
        # BITMAPINFOHEADER sizes are signed 32-bit: fold the sign of a top-down height.
        width, height = (number(offset, 4, "little") for offset in (18, 22))
        width, height = (tf.where(side >= 1 << 31, (1 << 32) - side, side)
                         for side in (width, height))
        return tf.where(core_header, size(number(20, 2, "little"), number(18, 2, "little")),
                        size(height, width))

    def webp():
        kind = text_at(12, 4)
        vp8x = size(number(27, 3, "little") + 1, number(24, 3, "little") + 1)
        bits = number(21, 4, "little")
        vp8l = size(tf.bitwise.bitwise_and(tf.bitwise.right_shift(bits, 14), 0x3FFF) + 1,
                    tf.bitwise.bitwise_and(bits, 0x3FFF) + 1)
        vp8 = size(tf.bitwise.bitwise_and(number(28, 2, "little"), 0x3FFF),
                   tf.bitwise.bitwise_and(number(26, 2, "little"), 0x3FFF))
        return tf.where(tf.equal(kind, "VP8X"), vp8x,
                        tf.where(tf.equal(kind, "VP8L"), vp8l,
                                 tf.where(tf.equal(kind, "VP8 "), vp8, tf.ones([2], tf.int64))))

    def unknown():
        return tf.ones([2], tf.int64)

    # Each branch's predicate ensures the header bytes it reads are there.
    branches = [
        (tf.logical_and(length >= 24, tf.equal(text_at(0, 8), _PNG_SIGNATURE)), png),
        (tf.equal(text_at(0, 3), b"\xff\xd8\xff"), jpeg),
        (tf.logical_and(length >= 10, tf.logical_or(tf.equal(text_at(0, 6), _GIF_SIGNATURES[0]),
                                                    tf.equal(text_at(0, 6), _GIF_SIGNATURES[1]))),
         gif),
        (tf.logical_and(length >= 26, tf.equal(text_at(0, 2), b"BM")), bmp),
        (tf.logical_and(length >= 30, tf.logical_and(tf.equal(text_at(0, 4), b"RIFF"),
                                                     tf.equal(text_at(8, 4), b"WEBP"))), webp),
    ]
    return tf.case(branches, default=unknown, exclusive=False)
