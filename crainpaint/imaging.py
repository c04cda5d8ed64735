"""Image and mask conversion rules shared by the CLI, the library and the SavedModel export.

Everything that turns files into arrays, masks into hole maps, or network outputs back into
pixels lives here, so that every entry point applies the same rules:

* Masks: `hole_from_mask` is written with TensorFlow ops only, so the exported SavedModel and
  the Python library threshold masks identically. Two conventions exist: crainpaint's default
  `"white_hole"` (white pixels are the hole to fill) and `"black_hole"`, the convention of the
  original HiFill release (white pixels are kept, black ones are filled).
* Pixels: `to_uint8` / `to_uint16` round and clip before casting, because `tf.cast` from float
  to an unsigned integer wraps around (-3.7 -> 253, 300 -> 44) and truncates (0.6 -> 0).
* Files: `read_image` / `read_mask` decode with OpenCV, honour the EXIF orientation, keep
  16-bit samples and the alpha channel, and return RGB (OpenCV itself works in BGR).
  `write_image` writes atomically and refuses to overwrite its inputs.

Why not `cv2.IMREAD_COLOR`: it applies the EXIF orientation but reduces every image to 8-bit
BGR without alpha. `cv2.IMREAD_UNCHANGED` keeps 16 bits and alpha but ignores the orientation of
JPEG, PNG and WebP files (OpenCV 5.0, measured), so this module reads the orientation tag itself
(`_exif_orientation`) and applies it. TIFF is the exception: OpenCV's TIFF decoder already orients
the pixels even with `IMREAD_UNCHANGED`, so the tag must not be applied a second time.
"""

import dataclasses
import os
import tempfile
from typing import Iterable, Optional, Sequence, Union

import cv2
import numpy as np
import tensorflow as tf

PathLike = Union[str, os.PathLike]

MASK_CONVENTIONS = ("white_hole", "black_hole")
DEFAULT_MASK_CONVENTION = "white_hole"

# Write formats by extension: (OpenCV encoder parameters, 16-bit support, alpha support).
# WebP quality above 100 selects libwebp's lossless mode.
_WRITE_FORMATS = {
    ".png": ((), True, True),
    ".webp": ((cv2.IMWRITE_WEBP_QUALITY, 101), False, True),
    ".tif": ((), True, True),
    ".tiff": ((), True, True),
    ".jpg": ((cv2.IMWRITE_JPEG_QUALITY, 95), False, False),
    ".jpeg": ((cv2.IMWRITE_JPEG_QUALITY, 95), False, False),
}
SUPPORTED_OUTPUT_EXTENSIONS = tuple(_WRITE_FORMATS)

# libwebp stores each side in 14 bits; OpenCV reports a bare encoder failure beyond that.
_WEBP_MAX_SIDE = 16383

_EXIF_ORIENTATION_TAG = 0x0112


class ImageReadError(ValueError):
    """An image or mask file is missing, unreadable, corrupt or of an unsupported kind."""


@dataclasses.dataclass(frozen=True)
class ImageData:
    """A decoded image, upright (EXIF orientation applied).

    Attributes:
        pixels: Array of shape [height, width, 3] in RGB order, dtype uint8 or uint16.
            Grayscale files are expanded to three equal channels.
        alpha: Array of shape [height, width] with the same dtype as `pixels`, or None when the
            file has no alpha channel.
        bit_depth: 8 or 16, the bits per sample of `pixels` (and `alpha`).
    """

    pixels: np.ndarray
    alpha: Optional[np.ndarray]
    bit_depth: int


# --------------------------------------------------------------------------------------------
# Masks and pixel values: pure TensorFlow, usable inside tf.function and SavedModel graphs.
# --------------------------------------------------------------------------------------------


def _check_convention(convention: str) -> None:
    if convention not in MASK_CONVENTIONS:
        raise ValueError(
            f"Unknown mask convention {convention!r}; expected one of {MASK_CONVENTIONS}: "
            "'white_hole' (white = hole, crainpaint's default) or 'black_hole' "
            "(white = keep, the original HiFill release)."
        )


def hole_from_mask(mask, convention: str = DEFAULT_MASK_CONVENTION) -> tf.Tensor:
    """Converts a mask image into a binary hole map.

    A pixel is "white" when the mean of its colour channels is at least half the dtype's range:
    uint8 values >= 128, uint16 values >= 32768. Channels are read as gray (C = 1), colour
    (C = 3, any channel order since only the mean counts) or colour plus alpha (C = 4; the alpha
    channel is ignored, so a transparent white pixel is still white). Boolean masks count True as
    full white and False as black (for C = 3 that makes a pixel white when at least two of its
    channels are True). The mean is compared exactly, as an integer channel sum against
    threshold × channels.

    Only TensorFlow ops are used, so this works eagerly, inside a `tf.function` and in an
    exported SavedModel, with dynamic batch, height, width and even channel count.

    Args:
        mask: Tensor or array of shape [..., height, width, channels] (rank >= 3), dtype uint8,
            uint16 or bool, with channels in {1, 3, 4}.
        convention: "white_hole" (white = hole, the default) or "black_hole" (white = keep,
            black = hole, the convention of the original HiFill release).

    Returns:
        A float32 tensor of shape [..., height, width, 1]: 1.0 where the pixel is a hole to fill,
        0.0 where it is kept.

    Raises:
        ValueError: For an unknown convention, a rank below 3 or a static channel count outside
            {1, 3, 4}.
        TypeError: For a dtype other than uint8, uint16 or bool.
        tf.errors.InvalidArgumentError: When the channel count is only known at run time and is
            not in {1, 3, 4}.
    """
    _check_convention(convention)
    mask = tf.convert_to_tensor(mask)
    if mask.dtype == tf.uint8 or mask.dtype == tf.bool:
        threshold = 128
    elif mask.dtype == tf.uint16:
        threshold = 32768
    else:
        raise TypeError(
            f"Mask dtype must be uint8, uint16 or bool, got {mask.dtype.name}; convert "
            "probability maps with `mask >= 0.5` first."
        )
    if mask.shape.rank is not None and mask.shape.rank < 3:
        raise ValueError(
            f"Mask must have shape [..., height, width, channels], got shape {mask.shape}; "
            "add a trailing channel axis for a 2-D mask."
        )

    static_channels = mask.shape[-1] if mask.shape.rank is not None else None
    if static_channels is not None:
        if static_channels not in (1, 3, 4):
            raise ValueError(
                f"Mask must have 1 (gray), 3 (RGB) or 4 (RGBA) channels, got {static_channels}."
            )
        # Python ints keep the static shape of the result.
        colour_channels = min(static_channels, 3)
        colour = mask[..., :colour_channels]
    else:
        channels = tf.shape(mask)[-1]
        check = tf.debugging.Assert(
            tf.reduce_any(tf.equal(channels, [1, 3, 4])),
            ["Mask must have 1 (gray), 3 (RGB) or 4 (RGBA) channels, got", channels],
        )
        with tf.control_dependencies([check]):
            # 1 -> 1, 3 -> 3, 4 -> 3: drops the alpha channel of RGBA masks.
            colour_channels = tf.minimum(channels, 3)
        colour = mask[..., :colour_channels]

    levels = tf.cast(colour, tf.int32)
    if mask.dtype == tf.bool:
        levels = levels * 255
    # int32 holds 3 × 65535 without overflow; comparing sums avoids rounding a float mean.
    channel_sum = tf.reduce_sum(levels, axis=-1, keepdims=True)
    is_white = channel_sum >= threshold * colour_channels
    is_hole = is_white if convention == "white_hole" else tf.logical_not(is_white)
    return tf.cast(is_hole, tf.float32)


def _round_clip_cast(values, maximum: float, dtype: tf.DType) -> tf.Tensor:
    values = tf.convert_to_tensor(values)
    if values.dtype not in (tf.float32, tf.float64):
        # float16 cannot hold 65535 and bfloat16 rounds it to 65536, which would wrap to 0.
        values = tf.cast(values, tf.float32)
    # The cast of NaN to an integer is undefined; a black pixel is the predictable choice.
    values = tf.where(tf.math.is_nan(values), tf.zeros_like(values), values)
    # tf.cast alone wraps out-of-range values and truncates fractions: round and clip first.
    return tf.cast(tf.clip_by_value(tf.round(values), 0.0, maximum), dtype)


def to_uint8(values) -> tf.Tensor:
    """Converts pixel values on the 0..255 scale to uint8 by rounding and clipping.

    Rounding is half to even (`tf.round`): 0.5 -> 0, 1.5 -> 2. NaN becomes 0.

    Args:
        values: Float tensor or array on the 0..255 scale, any shape.

    Returns:
        A uint8 tensor of the same shape.
    """
    return _round_clip_cast(values, 255.0, tf.uint8)


def to_uint16(values) -> tf.Tensor:
    """Converts pixel values on the 0..65535 scale to uint16 by rounding and clipping.

    Rounding is half to even (`tf.round`). NaN becomes 0.

    Args:
        values: Float tensor or array on the 0..65535 scale, any shape.

    Returns:
        A uint16 tensor of the same shape.
    """
    return _round_clip_cast(values, 65535.0, tf.uint16)


# --------------------------------------------------------------------------------------------
# EXIF orientation.
# --------------------------------------------------------------------------------------------


def _tiff_orientation(tiff: bytes) -> int:
    """Reads the Orientation tag from the first IFD of a TIFF-structured EXIF block.

    Malformed or missing data gives 1 (upright), as image viewers do.
    """
    if len(tiff) < 8:
        return 1
    if tiff[:2] == b"II":
        byte_order = "little"
    elif tiff[:2] == b"MM":
        byte_order = "big"
    else:
        return 1

    def read_unsigned(offset: int, size: int) -> int:
        return int.from_bytes(tiff[offset : offset + size], byte_order)

    if read_unsigned(2, 2) != 42:
        return 1
    directory = read_unsigned(4, 4)
    if directory + 2 > len(tiff):
        return 1
    for index in range(read_unsigned(directory, 2)):
        entry = directory + 2 + 12 * index
        if entry + 12 > len(tiff):
            break
        if read_unsigned(entry, 2) != _EXIF_ORIENTATION_TAG:
            continue
        field_type = read_unsigned(entry + 2, 2)
        # The tag is specified as SHORT (3); some writers use LONG (4). Both fit in the entry.
        if field_type == 3:
            value = read_unsigned(entry + 8, 2)
        elif field_type == 4:
            value = read_unsigned(entry + 8, 4)
        else:
            return 1
        return value if 1 <= value <= 8 else 1
    return 1


def _jpeg_exif(data: bytes) -> Optional[bytes]:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None  # Lost the segment structure; treat as no EXIF.
        marker = data[position + 1]
        if marker == 0xFF:  # Fill byte before a marker.
            position += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # Markers without a length.
            position += 2
            continue
        if marker in (0xD9, 0xDA):  # Metadata segments all come before the scan.
            return None
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2:
            return None
        segment = data[position + 4 : position + 2 + length]
        if marker == 0xE1 and segment.startswith(b"Exif\x00\x00"):
            return segment[6:]
        position += 2 + length
    return None


def _png_exif(data: bytes) -> Optional[bytes]:
    # OpenCV honours eXIf after IDAT too (measured), so every chunk is scanned.
    position = 8
    while position + 8 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        if kind == b"eXIf":
            return data[position + 8 : position + 8 + length]
        if kind == b"IEND":
            return None
        position += 12 + length
    return None


def _webp_exif(data: bytes) -> Optional[bytes]:
    position = 12
    while position + 8 <= len(data):
        kind = data[position : position + 4]
        length = int.from_bytes(data[position + 4 : position + 8], "little")
        if kind == b"EXIF":
            payload = data[position + 8 : position + 8 + length]
            # Some writers keep the JPEG APP1 prefix inside the WebP chunk.
            if payload.startswith(b"Exif\x00\x00"):
                payload = payload[6:]
            return payload
        position += 8 + length + (length & 1)  # Chunks are padded to an even size.
    return None


def _exif_orientation(data: bytes) -> int:
    """Returns the EXIF orientation (1..8) that `cv2.IMREAD_UNCHANGED` leaves unapplied.

    Args:
        data: The whole encoded file.

    Returns:
        The orientation for JPEG, PNG and WebP files with an EXIF block, else 1. TIFF files give
        1 because OpenCV's TIFF decoder orients them already.
    """
    if data[:2] == b"\xff\xd8":
        exif = _jpeg_exif(data)
    elif data[:8] == b"\x89PNG\r\n\x1a\n":
        exif = _png_exif(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        exif = _webp_exif(data)
    else:
        exif = None
    return _tiff_orientation(exif) if exif else 1


def _apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Turns stored pixels upright for an EXIF orientation (same result as cv2.IMREAD_COLOR)."""
    if orientation >= 5:
        # Orientations 5..8 store the picture transposed; swapaxes keeps any channel axis.
        array = np.swapaxes(array, 0, 1)
    flips = {
        1: (False, False),
        2: (False, True),
        3: (True, True),
        4: (True, False),
        5: (False, False),
        6: (False, True),
        7: (True, True),
        8: (True, False),
    }
    flip_rows, flip_columns = flips[orientation]
    if flip_rows:
        array = array[::-1]
    if flip_columns:
        array = array[:, ::-1]
    return np.ascontiguousarray(array)


# --------------------------------------------------------------------------------------------
# Reading.
# --------------------------------------------------------------------------------------------


def _decode_upright(path: PathLike) -> np.ndarray:
    """Decodes a file with all its channels and bits, EXIF orientation applied.

    Returns:
        uint8 or uint16 array, [height, width] or [height, width, channels] in OpenCV's order
        (gray, gray+alpha, BGR or BGRA).
    """
    path_text = os.fspath(path)
    try:
        with open(path_text, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        raise ImageReadError(f"Cannot read image {path_text}: no such file.") from None
    except IsADirectoryError:
        raise ImageReadError(f"Cannot read image {path_text}: it is a directory.") from None
    except OSError as error:
        raise ImageReadError(f"Cannot read image {path_text}: {error.strerror or error}.") from None
    if not data:
        raise ImageReadError(f"Cannot read image {path_text}: the file is empty.")

    try:
        array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as error:
        raise ImageReadError(f"Cannot decode image {path_text}: {error}") from None
    if array is None or array.size == 0:
        raise ImageReadError(
            f"Cannot decode image {path_text}: the file is corrupt, truncated or not an image "
            "format OpenCV reads (PNG, JPEG, WebP, TIFF, BMP, ...)."
        )
    if array.dtype not in (np.uint8, np.uint16):
        raise ImageReadError(
            f"Cannot use image {path_text}: its samples are {array.dtype}; only 8-bit and "
            "16-bit integer images are supported."
        )
    if array.ndim == 3 and array.shape[2] not in (1, 2, 3, 4):
        raise ImageReadError(
            f"Cannot use image {path_text}: it has {array.shape[2]} channels; expected gray, "
            "gray+alpha, RGB or RGBA."
        )
    return _apply_orientation(array, _exif_orientation(data))


def read_image(path: PathLike) -> ImageData:
    """Reads an image file as upright RGB, keeping 16-bit samples and the alpha channel.

    Args:
        path: Any format OpenCV decodes (PNG, JPEG, WebP, TIFF, BMP, ...), 8 or 16 bits per
            sample, gray, gray+alpha, RGB or RGBA.

    Returns:
        An `ImageData` whose `pixels` are [height, width, 3] RGB (gray files are expanded to
        three channels), with the EXIF orientation applied.

    Raises:
        ImageReadError: The file is missing, unreadable, corrupt or not 8/16-bit; the message
            names the path and the reason.
    """
    array = _decode_upright(path)
    alpha = None
    if array.ndim == 2:
        gray = array
    elif array.shape[2] in (1, 2):
        gray = array[..., 0]
        if array.shape[2] == 2:
            alpha = np.ascontiguousarray(array[..., 1])
    else:
        gray = None
        if array.shape[2] == 4:
            alpha = np.ascontiguousarray(array[..., 3])
        # OpenCV decodes to BGR; the rest of crainpaint (and TensorFlow) works in RGB.
        pixels = np.ascontiguousarray(array[..., 2::-1])
    if gray is not None:
        pixels = np.repeat(gray[..., np.newaxis], 3, axis=2)
    bit_depth = 16 if pixels.dtype == np.uint16 else 8
    return ImageData(pixels=pixels, alpha=alpha, bit_depth=bit_depth)


def read_mask(
    path: PathLike, convention: str = DEFAULT_MASK_CONVENTION, dilate_px: int = 0
) -> np.ndarray:
    """Reads a mask file as a hole map, by the same rule as `hole_from_mask`.

    Args:
        path: Gray, RGB or RGBA mask, 8 or 16 bits per sample, any format OpenCV decodes. The
            EXIF orientation is applied as for `read_image`, so a mask saved by the same camera
            app as its photo lines up with it. Alpha is ignored.
        convention: "white_hole" (white = hole, the default) or "black_hole" (white = keep).
        dilate_px: Grows the hole by this many pixels in every direction (elliptical kernel of
            size 2 × dilate_px + 1), e.g. to cover the soft edge of a hand-painted mask.

    Returns:
        float32 array of shape [height, width, 1] with 1.0 = hole, 0.0 = keep.

    Raises:
        ValueError: Unknown convention, or a negative or non-integer `dilate_px`.
        ImageReadError: The file is missing, unreadable, corrupt or not 8/16-bit.
    """
    _check_convention(convention)
    if isinstance(dilate_px, bool) or not isinstance(dilate_px, (int, np.integer)):
        raise ValueError(f"dilate_px must be an integer number of pixels, got {dilate_px!r}.")
    if dilate_px < 0:
        raise ValueError(f"dilate_px must be >= 0, got {dilate_px}; masks can only grow.")

    array = _decode_upright(path)
    if array.ndim == 2:
        array = array[..., np.newaxis]
    elif array.shape[2] == 2:
        array = array[..., :1]  # Gray + alpha: alpha is ignored.
    # Channel order (BGR vs RGB) does not matter: only the channel mean is used.
    hole = hole_from_mask(array, convention).numpy()
    if dilate_px > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate_px + 1,) * 2)
        hole = cv2.dilate(hole[..., 0], kernel)[..., np.newaxis]
    return hole.astype(np.float32, copy=False)


def check_same_size(
    image_hw: Sequence[int],
    mask_hw: Sequence[int],
    image_path: PathLike,
    mask_path: PathLike,
) -> None:
    """Raises unless an image and its mask have the same height and width.

    Args:
        image_hw: (height, width) of the image; extra trailing entries (channels) are ignored.
        mask_hw: (height, width) of the mask; extra trailing entries are ignored.
        image_path: Shown in the error message.
        mask_path: Shown in the error message.

    Raises:
        ValueError: The sizes differ; the message gives both as width×height.
    """
    image_height, image_width = (int(side) for side in tuple(image_hw)[:2])
    mask_height, mask_width = (int(side) for side in tuple(mask_hw)[:2])
    if (image_height, image_width) != (mask_height, mask_width):
        raise ValueError(
            f"mask {os.fspath(mask_path)} is {mask_width}×{mask_height} but image "
            f"{os.fspath(image_path)} is {image_width}×{image_height} (width×height); "
            "masks must have the image's size"
        )


# --------------------------------------------------------------------------------------------
# Writing.
# --------------------------------------------------------------------------------------------


def default_output_name(input_path: PathLike) -> str:
    """Returns the default output file name for an input: its stem with ".png" (lossless).

    Args:
        input_path: Path of the input image; only its file name is used.

    Returns:
        A bare file name such as "photo.png" for "photos/photo.jpg".
    """
    stem = os.path.splitext(os.path.basename(os.fspath(input_path)))[0]
    return stem + ".png"


def same_file(first: str, second: str) -> bool:
    """Whether two paths name one file (symlinks, hard links, case-insensitive systems)."""
    if os.path.realpath(first) == os.path.realpath(second):
        return True
    try:
        # Catches hard links and case-insensitive file systems, where the paths differ.
        return os.path.samefile(first, second)
    except OSError:
        return False


def _current_umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    # Fallback: os.umask can only be read by setting it, so restore it at once.
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def _as_image_array(values) -> np.ndarray:
    if isinstance(values, tf.Tensor):
        values = values.numpy()
    return np.asarray(values)


def _encode(path: str, extension: str, pixels: np.ndarray, alpha: Optional[np.ndarray]) -> bytes:
    parameters, supports_16_bit, supports_alpha = _WRITE_FORMATS[extension]
    if pixels.dtype == np.uint16 and not supports_16_bit:
        raise ValueError(
            f"Cannot write {path}: {extension} holds 8-bit samples only and the image is 16-bit; "
            "write .png or .tif/.tiff to keep 16 bits, or convert to uint8 first."
        )
    if alpha is not None and not supports_alpha:
        raise ValueError(
            f"Cannot write {path}: {extension} has no alpha channel; write .png, .webp or "
            ".tif/.tiff to keep it, or pass alpha=None to drop it."
        )
    height, width = pixels.shape[:2]
    if extension == ".webp" and max(height, width) > _WEBP_MAX_SIDE:
        raise ValueError(
            f"Cannot write {path}: WebP images are at most {_WEBP_MAX_SIDE} pixels a side and "
            f"this one is {width}×{height}; write .png or .tif instead."
        )
    # OpenCV encoders expect BGR(A).
    if alpha is None:
        encoder_input = np.ascontiguousarray(pixels[..., ::-1])
    else:
        encoder_input = np.concatenate([pixels[..., ::-1], alpha[..., np.newaxis]], axis=2)
    try:
        succeeded, buffer = cv2.imencode(extension, encoder_input, list(parameters))
    except cv2.error as error:
        raise ValueError(f"Cannot encode {path} as {extension}: {error}") from None
    if not succeeded:
        raise ValueError(f"Cannot encode {path} as {extension}: the OpenCV encoder failed.")
    return buffer.tobytes()


def write_image(
    path: PathLike,
    pixels,
    alpha=None,
    forbidden_paths: Iterable[PathLike] = (),
) -> None:
    """Writes an RGB image (and optional alpha) atomically, never over one of its inputs.

    The format follows the extension (case-insensitive):
      * .png: lossless, 8 or 16 bits, alpha. crainpaint's default.
      * .webp: lossless (quality 101), 8 bits only, alpha; at most 16383 pixels a side. Fully
        transparent pixels may have their RGB changed by libwebp (they are invisible anyway).
      * .tif / .tiff: lossless, 8 or 16 bits, alpha.
      * .jpg / .jpeg: LOSSY (quality 95), 8 bits only, no alpha.

    The file is encoded in memory, written to a temporary file in the destination directory,
    flushed to disk and renamed over the destination, so readers see either the old file or
    the complete new one, never a partial write. On any error the temporary file is removed.

    Args:
        path: Destination; its parent directories are created if missing.
        pixels: Array or tensor [height, width, 3], RGB, dtype uint8 or uint16.
        alpha: None, or [height, width] (or [height, width, 1]) with the dtype of `pixels`.
        forbidden_paths: Paths that must not be overwritten, typically the input image and mask.

    Raises:
        ValueError: Unsupported extension, wrong shape or dtype, a format that cannot hold the
            data (16 bits or alpha in JPEG, 16 bits in WebP), or `path` is the same file as one
            of `forbidden_paths`.
        OSError: The file system refused the write (permissions, disk full, ...).
    """
    path_text = os.fspath(path)
    extension = os.path.splitext(path_text)[1].lower()
    if extension not in _WRITE_FORMATS:
        raise ValueError(
            f"Cannot write {path_text}: unsupported extension {extension or '(none)'!r}; "
            f"supported: {', '.join(SUPPORTED_OUTPUT_EXTENSIONS)}."
        )
    pixels = _as_image_array(pixels)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise ValueError(
            f"Cannot write {path_text}: pixels must have shape [height, width, 3] (RGB), got "
            f"{pixels.shape}."
        )
    if pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"Cannot write {path_text}: pixels must be uint8 or uint16, got {pixels.dtype}; "
            "convert float outputs with to_uint8 or to_uint16."
        )
    if alpha is not None:
        alpha = _as_image_array(alpha)
        if alpha.ndim == 3 and alpha.shape[2] == 1:
            alpha = alpha[..., 0]
        if alpha.shape != pixels.shape[:2] or alpha.dtype != pixels.dtype:
            raise ValueError(
                f"Cannot write {path_text}: alpha must have shape {pixels.shape[:2]} and dtype "
                f"{pixels.dtype} like the pixels, got {alpha.shape} {alpha.dtype}."
            )
    for forbidden in forbidden_paths:
        forbidden_text = os.fspath(forbidden)
        if same_file(path_text, forbidden_text):
            raise ValueError(
                f"Refusing to write {path_text}: it is the input file {forbidden_text}, which "
                "would be overwritten; choose another output path."
            )

    encoded = _encode(path_text, extension, pixels, alpha)

    directory = os.path.dirname(os.path.abspath(path_text))
    os.makedirs(directory, exist_ok=True)
    descriptor, temporary_path = tempfile.mkstemp(
        dir=directory, prefix="." + os.path.basename(path_text) + ".", suffix=extension
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(encoded)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp creates the file 0600; give it the mode a plain open() would have.
        os.chmod(temporary_path, 0o666 & ~_current_umask())
        os.replace(temporary_path, path_text)
    except BaseException:
        try:
            os.unlink(temporary_path)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Makes the rename durable; best effort, since not every platform can open directories."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
