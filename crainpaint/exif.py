"""The EXIF orientation of JPEG, PNG and WebP files, read from their bytes, and applied.

`cv2.IMREAD_COLOR` applies the EXIF orientation but reduces every image to 8-bit BGR without
alpha. `cv2.IMREAD_UNCHANGED` keeps 16 bits and alpha but ignores the orientation of JPEG, PNG
and WebP files (OpenCV 5.0, measured), so `crainpaint.imaging` reads the orientation tag here
(`exif_orientation`) and applies it (`apply_orientation`). TIFF is the exception: OpenCV's TIFF
decoder already orients the pixels even with `IMREAD_UNCHANGED`, so the tag must not be applied
a second time.

Only the standard library and numpy are used.
"""

from typing import Iterator, Optional, Tuple

import numpy as np

_EXIF_ORIENTATION_TAG = 0x0112


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


def jpeg_segments(data: bytes) -> Iterator[Tuple[int, int, int]]:
    """The marker segments of a JPEG's header, in file order, up to the start of the scan.

    Yields:
        (marker, position, length): the marker byte, the offset of its 0xFF and the segment's
        length field (which counts itself, not the marker).

    Raises:
        ValueError: the segment structure is broken (a byte other than 0xFF where a marker
            must start, or a length below 2).
    """
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise ValueError("the JPEG segment structure is broken")
        marker = data[position + 1]
        if marker == 0xFF:  # Fill byte before a marker.
            position += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # Markers without a length.
            position += 2
            continue
        if marker in (0xD9, 0xDA):  # End of image, or the scan: every header segment is before.
            return
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2:
            raise ValueError("the JPEG segment structure is broken")
        yield marker, position, length
        position += 2 + length


def _jpeg_exif(data: bytes) -> Optional[bytes]:
    try:
        for marker, position, length in jpeg_segments(data):
            segment = data[position + 4 : position + 2 + length]
            if marker == 0xE1 and segment.startswith(b"Exif\x00\x00"):
                return segment[6:]
    except ValueError:
        return None  # Lost the segment structure; treat as no EXIF.
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


def exif_orientation(data: bytes) -> int:
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


def apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
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
