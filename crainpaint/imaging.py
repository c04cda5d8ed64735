"""Image files: reading photos and masks, writing results atomically.

Every entry point (library, command line, batch runner, app, evaluation) reads and writes files
through here, so that they all apply the same rules:

* `read_image` / `read_mask` first read the size the file header declares and refuse a photo
  over the pixel budget (`crainpaint.image_header`) before anything is decoded; then they
  decode with OpenCV, honour the EXIF orientation (`crainpaint.exif`), keep 16-bit samples and
  the alpha channel, and return RGB (OpenCV itself works in BGR). Masks follow the rules of
  `crainpaint.pixels` (`hole_from_mask`, `validate_mask`).
* `write_image` writes atomically and refuses to overwrite its inputs; no partial file is left
  behind, even when the process is stopped by SIGTERM or SIGINT while writing.

OpenCV is imported when a file is first read or written, not with this module, so importing
crainpaint costs no image codec until one is needed.
"""

import contextlib
import dataclasses
import os
import re
import secrets
import signal
import threading
from typing import Iterable, Optional, Sequence, Union

import numpy as np
import tensorflow as tf

from crainpaint import exif
from crainpaint import image_header
from crainpaint import pixels as pixel_rules

PathLike = Union[str, os.PathLike]

# Write formats by extension: (OpenCV encoder parameters, 16-bit support, alpha support).
# The parameters are (name of the cv2 constant, value) so that this table needs no OpenCV.
# WebP quality above 100 selects libwebp's lossless mode.
_WRITE_FORMATS = {
    ".png": ((), True, True),
    ".webp": (("IMWRITE_WEBP_QUALITY", 101), False, True),
    ".tif": ((), True, True),
    ".tiff": ((), True, True),
    ".jpg": (("IMWRITE_JPEG_QUALITY", 95), False, False),
    ".jpeg": (("IMWRITE_JPEG_QUALITY", 95), False, False),
}
SUPPORTED_OUTPUT_EXTENSIONS = tuple(_WRITE_FORMATS)

# libwebp stores each side in 14 bits; OpenCV reports a bare encoder failure beyond that.
_WEBP_MAX_SIDE = 16383


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
# Reading.
# --------------------------------------------------------------------------------------------


def _opencv():
    """OpenCV, imported on first use so that importing crainpaint does not load it."""
    import cv2  # pylint: disable=import-outside-toplevel
    return cv2


def _decode_upright(path: PathLike, max_pixels: Optional[int], what: str) -> np.ndarray:
    """Decodes a file with all its channels and bits, EXIF orientation applied.

    The size its header declares is checked against the pixel budget first.

    Returns:
        uint8 or uint16 array, [height, width] or [height, width, channels] in OpenCV's order
        (gray, gray+alpha, BGR or BGRA).
    """
    path_text = os.fspath(path)
    try:
        with open(path_text, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        raise ImageReadError(f"Cannot read {what} {path_text}: no such file.") from None
    except IsADirectoryError:
        raise ImageReadError(f"Cannot read {what} {path_text}: it is a directory.") from None
    except OSError as error:
        raise ImageReadError(
            f"Cannot read {what} {path_text}: {error.strerror or error}.") from None
    if not data:
        raise ImageReadError(f"Cannot read {what} {path_text}: the file is empty.")
    try:
        height, width = image_header.image_size(data)
    except image_header.ImageHeaderError as error:
        raise ImageReadError(
            f"Cannot read {what} {path_text}: {error} (crainpaint reads "
            f"{', '.join(image_header.FORMATS)}).") from None
    image_header.check_pixel_budget(height, width, max_pixels, f"{what} {path_text}")

    cv2 = _opencv()
    try:
        array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as error:
        raise ImageReadError(f"Cannot decode {what} {path_text}: {error}") from None
    if array is None or array.size == 0:
        raise ImageReadError(
            f"Cannot decode {what} {path_text}: the file is corrupt, truncated or of a kind "
            "OpenCV does not decode.")
    if array.dtype not in (np.uint8, np.uint16):
        raise ImageReadError(
            f"Cannot use {what} {path_text}: its samples are {array.dtype}; only 8-bit and "
            "16-bit integer images are supported."
        )
    if array.ndim == 3 and array.shape[2] not in (1, 2, 3, 4):
        raise ImageReadError(
            f"Cannot use {what} {path_text}: it has {array.shape[2]} channels; expected gray, "
            "gray+alpha, RGB or RGBA."
        )
    return exif.apply_orientation(array, exif.exif_orientation(data))


def read_image(path: PathLike, max_pixels: Optional[int] = None) -> ImageData:
    """Reads an image file as upright RGB, keeping 16-bit samples and the alpha channel.

    Args:
        path: PNG, JPEG, WebP, TIFF, BMP or GIF (first frame), 8 or 16 bits per sample, gray,
            gray+alpha, RGB or RGBA.
        max_pixels: The pixel budget (height × width), checked from the file header before
            decoding; None: `CRAINPAINT_MAX_PIXELS` or `image_header.DEFAULT_MAX_PIXELS`;
            0: no limit.

    Returns:
        An `ImageData` whose `pixels` are [height, width, 3] RGB (gray files are expanded to
        three channels), with the EXIF orientation applied.

    Raises:
        ImageReadError: The file is missing, unreadable, corrupt, of another format or not
            8/16-bit; the message names the path and the reason.
        image_header.ImageTooLargeError: The header declares more pixels than `max_pixels`.
    """
    array = _decode_upright(path, max_pixels, "image")
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
    path: PathLike,
    convention: str = pixel_rules.DEFAULT_MASK_CONVENTION,
    dilate_px: int = 0,
    max_pixels: Optional[int] = None,
) -> np.ndarray:
    """Reads a mask file as a hole map, by the rules of `pixels.hole_from_mask`.

    Args:
        path: Gray, RGB or RGBA mask, 8 or 16 bits per sample, any format `read_image` reads.
            The EXIF orientation is applied as for `read_image`, so a mask saved by the same
            camera app as its photo lines up with it. Alpha is ignored, except in a mask of one
            flat colour, whose opaque part is the hole (a stroke painted on a transparent
            layer). A mask holding only the values 0 and 1 is read as black and white, with a
            `pixels.MaskWarning`.
        convention: "white_hole" (white = hole, the default) or "black_hole" (white = keep).
        dilate_px: Grows the hole by this many pixels in every direction (elliptical kernel of
            size 2 × dilate_px + 1), e.g. to cover the soft edge of a hand-painted mask.
        max_pixels: The pixel budget, as for `read_image`.

    Returns:
        float32 array of shape [height, width, 1] with 1.0 = hole, 0.0 = keep.

    Raises:
        ValueError: Unknown convention, or a negative or non-integer `dilate_px`.
        ImageReadError: The file is missing, unreadable, corrupt or not 8/16-bit.
        image_header.ImageTooLargeError: The header declares more pixels than `max_pixels`.
    """
    pixel_rules.check_mask_convention(convention)
    if isinstance(dilate_px, bool) or not isinstance(dilate_px, (int, np.integer)):
        raise ValueError(f"dilate_px must be an integer number of pixels, got {dilate_px!r}.")
    if dilate_px < 0:
        raise ValueError(f"dilate_px must be >= 0, got {dilate_px}; masks can only grow.")

    array = _decode_upright(path, max_pixels, "mask")
    if array.ndim == 2:
        array = array[..., np.newaxis]
    elif array.shape[2] == 2:
        # Gray + alpha: the gray as colour, so the rules for RGBA masks apply.
        array = array[..., [0, 0, 0, 1]]
    # Channel order (BGR vs RGB) does not matter: only the channel mean is used. Whether the
    # mask has a hole at all is for the caller to judge (the inpaint warns).
    hole = pixel_rules.validate_mask(array, None, convention, name=f"mask {os.fspath(path)}",
                                     check_content=False)
    hole = hole.astype(np.float32)
    if dilate_px > 0:
        cv2 = _opencv()
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate_px + 1,) * 2)
        hole = cv2.dilate(hole[..., 0], kernel)[..., np.newaxis]
    return hole


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


def _as_image_array(values) -> np.ndarray:
    if isinstance(values, tf.Tensor):
        values = values.numpy()
    return np.asarray(values)


def _encode(path: str, extension: str, pixels: np.ndarray, alpha: Optional[np.ndarray]) -> bytes:
    cv2 = _opencv()
    parameters, supports_16_bit, supports_alpha = _WRITE_FORMATS[extension]
    parameters = [getattr(cv2, name) if isinstance(name, str) else name for name in parameters]
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
        succeeded, buffer = cv2.imencode(extension, encoder_input, parameters)
    except cv2.error as error:
        raise ValueError(f"Cannot encode {path} as {extension}: {error}") from None
    if not succeeded:
        raise ValueError(f"Cannot encode {path} as {extension}: the OpenCV encoder failed.")
    return buffer.tobytes()


def _output_extension(path_text: str) -> str:
    """The lower-case extension of an output path; raises unless it is a format we write."""
    extension = os.path.splitext(path_text)[1].lower()
    if extension not in _WRITE_FORMATS:
        raise ValueError(
            f"Cannot write {path_text}: unsupported extension {extension or '(none)'!r}; "
            f"supported: {', '.join(SUPPORTED_OUTPUT_EXTENSIONS)}."
        )
    return extension


def check_encodable(path: PathLike, pixels: np.ndarray, alpha: Optional[np.ndarray]) -> None:
    """Raises the error `write_image` would raise for the format, before any work is done.

    A 1×1 crop goes through the same encoder, so the rule (16 bits, alpha, extension) and its
    message are `write_image`'s; e.g. a 16-bit photo bound for .jpg is refused before an 8K
    inpaint rather than after.

    Args:
        path: The destination; its extension picks the format.
        pixels: [height, width, 3] uint8 or uint16, the image to be written.
        alpha: [height, width] of the same dtype, or None.

    Raises:
        ValueError: The format cannot hold the data; the message says which format would.
    """
    path_text = os.fspath(path)
    extension = _output_extension(path_text)
    _encode(path_text, extension, pixels[:1, :1], None if alpha is None else alpha[:1, :1])


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
    the complete new one, never a partial write. On any error, and when SIGTERM, SIGINT or
    SIGHUP stops the process while writing, the temporary file is removed (the signal then
    takes its course). SIGKILL cannot be caught: the hidden `.<name>.<process id>.<hex>.partial`
    file it leaves is removed by the next write to the same folder.

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
    extension = _output_extension(path_text)
    pixels = _as_image_array(pixels)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise ValueError(
            f"Cannot write {path_text}: pixels must have shape [height, width, 3] (RGB), got "
            f"{pixels.shape}."
        )
    if pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"Cannot write {path_text}: pixels must be uint8 or uint16, got {pixels.dtype}; "
            "convert float outputs with crainpaint.pixels.to_uint8 or to_uint16."
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
    remove_stale_partial_files(directory)
    with _signals_raise_stop():
        temporary_path = None
        try:
            temporary_path = _partial_path(directory, os.path.basename(path_text))
            # Mode 0666 less the umask, as open() gives; O_EXCL never reuses an existing file.
            descriptor = os.open(temporary_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(descriptor, "wb") as file:
                file.write(encoded)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary_path, path_text)
        except BaseException:
            if temporary_path is not None:
                try:
                    os.unlink(temporary_path)
                except FileNotFoundError:
                    pass
            raise
    _fsync_directory(directory)


# --------------------------------------------------------------------------------------------
# Partial files: named after the process that writes them, removed on errors and signals.
# --------------------------------------------------------------------------------------------

# ".<file name>.<writer's process id>.<random hex>.partial", hidden next to the destination.
_PARTIAL_PATTERN = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{16}\.partial$")
# Signals whose default action ends the process without running `finally` clauses.
_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP")
                      if hasattr(signal, name))


class _StopSignal(BaseException):
    """Raised by the temporary signal handler so that the partial file is removed."""

    def __init__(self, signal_number: int):
        super().__init__(signal_number)
        self.signal_number = signal_number


def _partial_path(directory: str, name: str) -> str:
    """A new hidden partial-file path for `name`, recognisable by `_PARTIAL_PATTERN`."""
    return os.path.join(directory, f".{name}.{os.getpid()}.{secrets.token_hex(8)}.partial")


@contextlib.contextmanager
def _signals_raise_stop():
    """Within: SIGTERM, SIGINT and SIGHUP left at their default action raise `_StopSignal`.

    The default action ends the process at once, leaving the partial file behind; raising lets
    the caller remove it. On leaving, the previous handlers are restored and a caught signal is
    delivered again, so the process still ends as the signal demands. Handlers the program set
    itself (e.g. Python's KeyboardInterrupt for SIGINT) are left alone: they raise (and the
    caller cleans up) or return (and the write goes on). Only the main thread can set handlers;
    elsewhere this does nothing. SIGKILL cannot be caught: its leftovers are removed by
    `remove_stale_partial_files`.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    stopping = []

    def raise_stop(signal_number, frame):
        del frame
        if not stopping:  # A second signal must not interrupt the clean-up of the first.
            stopping.append(signal_number)
            raise _StopSignal(signal_number)

    previous = {}
    for signal_number in _STOP_SIGNALS:
        if signal.getsignal(signal_number) is signal.SIG_DFL:
            previous[signal_number] = signal.signal(signal_number, raise_stop)
    try:
        yield
    except _StopSignal as stop:
        for signal_number, handler in previous.items():
            signal.signal(signal_number, handler)
        previous = {}
        os.kill(os.getpid(), stop.signal_number)
        raise
    finally:
        for signal_number, handler in previous.items():
            signal.signal(signal_number, handler)


def remove_stale_partial_files(directory: PathLike) -> list:
    """Removes the partial files of writers that no longer run (e.g. killed with SIGKILL).

    `write_image` calls this before each write, so leftovers of a killed run disappear with
    the next write to the same folder. A partial file whose writer (the process id in its name)
    is still running is left alone.

    Args:
        directory: The folder to clean.

    Returns:
        The paths removed.
    """
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        match = _PARTIAL_PATTERN.match(name)
        if match is None or _process_is_running(int(match.group(1))):
            continue
        path = os.path.join(os.fspath(directory), name)
        try:
            os.unlink(path)
            removed.append(path)
        except OSError:
            pass
    return removed


def _process_is_running(process_id: int) -> bool:
    if process_id == os.getpid():
        return True
    try:
        os.kill(process_id, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # Another user's process, or not a process id at all: leave the file.
    return True


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
