"""The app's photos on disk, and the painted mask scaled to a photo's full resolution.

Every photo the page works on (an upload, or a result to paint on again) is kept decoded and
upright at full resolution in a temporary folder of its own: the pixels as ``.npy`` (fast to
reload for the next job), a JPEG view for the page, and the lossless PNG download, encoded the
first time it is asked for. Only the last few photos are kept; the others' folders are removed,
and the whole store when the server stops.

Uploads are decoded by ``crainpaint.imaging.read_image``, as the command line reads files, so
the EXIF orientation, 16-bit samples and alpha are handled the same way.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import re
import shutil
import tempfile
import threading
from typing import Iterator, Optional

import cv2
import numpy as np

from crainpaint import image_header
from crainpaint import imaging
from crainpaint.app.jobs import UserError

# Quality of the JPEG the page shows; the download is always the lossless PNG.
VIEW_JPEG_QUALITY = 90
# Photos kept for the page (uploads and results); the least recently used one is removed first.
DEFAULT_KEPT_PHOTOS = 8
# A painted mask may differ from the photo's aspect ratio by rounding only.
_ASPECT_TOLERANCE = 0.02
EMPTY_MASK_MESSAGE = "The mask is empty: paint over what to remove (or load a mask) first."


@dataclasses.dataclass(frozen=True)
class Photo:
    """A stored photo.

    Attributes:
        photo_id: its name in URLs.
        stem: the uploaded file's name without extension, for the download's name.
        width / height: full-resolution size in pixels, upright.
        bit_depth: 8 or 16 bits per sample.
        has_alpha: whether the photo has an alpha channel (kept in the download).
        folder: where its files live.
    """

    photo_id: str
    stem: str
    width: int
    height: int
    bit_depth: int
    has_alpha: bool
    folder: str

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6


def describe_pixel_limit(max_pixels: int) -> str:
    """The limit in words, as the page states it."""
    return f"{max_pixels / 1e6:.1f} megapixels ({max_pixels:,} pixels)"


def _safe_stem(file_name: str) -> str:
    stem = os.path.splitext(os.path.basename(file_name or ""))[0]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")
    return stem[:80] or "photo"


class PhotoStore:
    """Decoded photos in a temporary folder, the least recently used removed beyond ``capacity``.

    Args:
        max_pixels: photos with more pixels (width × height) are refused with a message.
        capacity: how many photos are kept.
        root: parent of the store's temporary folder (the system's temporary folder by default).
    """

    def __init__(self, max_pixels: int, capacity: int = DEFAULT_KEPT_PHOTOS,
                 root: Optional[str] = None):
        if max_pixels < 1:
            raise ValueError(f"max_pixels must be >= 1, got {max_pixels}.")
        if capacity < 2:
            raise ValueError(f"capacity must be >= 2 (a photo and its result), got {capacity}.")
        self.max_pixels = max_pixels
        self._capacity = capacity
        self.root = tempfile.mkdtemp(prefix="crainpaint-app-", dir=root)
        self.uploads_root = os.path.join(self.root, "uploads")
        os.makedirs(self.uploads_root)
        self._photos: collections.OrderedDict[str, Photo] = collections.OrderedDict()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def upload_folder(self) -> Iterator[str]:
        """A temporary folder for one upload, removed when the block ends."""
        folder = tempfile.mkdtemp(prefix="upload-", dir=self.uploads_root)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def add_file(self, path: str, file_name: str) -> Photo:
        """Decodes an uploaded file (EXIF orientation applied) and stores it.

        Raises:
            UserError: not an image, truncated, not 8/16-bit, or over the pixel limit.
        """
        try:
            # The pixel limit is checked from the file's header, before anything is decoded.
            image = imaging.read_image(path, max_pixels=self.max_pixels)
        except image_header.ImageTooLargeError:
            with open(path, "rb") as file:
                height, width = image_header.image_size(file.read())
            raise UserError(
                f"The photo is {width}×{height} = {height * width / 1e6:.1f} megapixels, over "
                f"this server's limit of {describe_pixel_limit(self.max_pixels)}: downscale "
                "it, or start the app with a larger --max_pixels.") from None
        except imaging.ImageReadError as error:
            # The message names the temporary path; the page names the user's file instead.
            reason = str(error).split(": ", 1)[-1]
            raise UserError(f"Cannot open {os.path.basename(file_name) or 'the file'}: "
                            f"{reason}") from None
        return self.add(image.pixels, image.alpha, file_name)

    def add(self, pixels: np.ndarray, alpha: Optional[np.ndarray], file_name: str) -> Photo:
        """Stores upright RGB pixels (and alpha), refusing photos over the pixel limit."""
        height, width = pixels.shape[:2]
        if height * width > self.max_pixels:
            raise UserError(
                f"The photo is {width}×{height} = {height * width / 1e6:.1f} megapixels, over "
                f"this server's limit of {describe_pixel_limit(self.max_pixels)}: downscale "
                "it, or start the app with a larger --max_pixels.")
        folder = tempfile.mkdtemp(prefix="photo-", dir=self.root)
        photo = Photo(photo_id=os.path.basename(folder)[len("photo-"):],
                      stem=_safe_stem(file_name), width=width, height=height,
                      bit_depth=16 if pixels.dtype == np.uint16 else 8,
                      has_alpha=alpha is not None, folder=folder)
        np.save(os.path.join(folder, "pixels.npy"), pixels)
        if alpha is not None:
            np.save(os.path.join(folder, "alpha.npy"), alpha)
        view = pixels if pixels.dtype == np.uint8 else np.round(pixels / 257.0).astype(np.uint8)
        succeeded, encoded = cv2.imencode(".jpg", np.ascontiguousarray(view[..., ::-1]),
                                          [cv2.IMWRITE_JPEG_QUALITY, VIEW_JPEG_QUALITY])
        if not succeeded:
            shutil.rmtree(folder, ignore_errors=True)
            raise RuntimeError("OpenCV could not encode the photo's JPEG view.")
        with open(os.path.join(folder, "view.jpg"), "wb") as file:
            file.write(encoded.tobytes())
        with self._lock:
            self._photos[photo.photo_id] = photo
            while len(self._photos) > self._capacity:
                _, evicted = self._photos.popitem(last=False)
                shutil.rmtree(evicted.folder, ignore_errors=True)
        return photo

    def get(self, photo_id: str) -> Photo:
        """The stored photo; UserError when it is unknown or was removed to make room."""
        with self._lock:
            photo = self._photos.get(photo_id)
            if photo is None:
                raise UserError("This photo is no longer on the server (only the last "
                                f"{self._capacity} are kept): open it again.")
            self._photos.move_to_end(photo_id)
            return photo

    @staticmethod
    def load(photo: Photo) -> tuple[np.ndarray, Optional[np.ndarray]]:
        """The photo's full-resolution pixels and alpha (None without)."""
        pixels = np.load(os.path.join(photo.folder, "pixels.npy"))
        alpha = np.load(os.path.join(photo.folder, "alpha.npy")) if photo.has_alpha else None
        return pixels, alpha

    @staticmethod
    def view_path(photo: Photo) -> str:
        """The JPEG the page shows."""
        return os.path.join(photo.folder, "view.jpg")

    def png_path(self, photo: Photo) -> str:
        """The lossless full-resolution PNG (16 bits and alpha kept), encoded once."""
        path = os.path.join(photo.folder, photo.stem + ".png")
        with self._lock:
            if not os.path.exists(path):
                pixels, alpha = self.load(photo)
                imaging.write_image(path, pixels, alpha)
        return path

    def close(self) -> None:
        """Removes every stored photo and upload."""
        with self._lock:
            self._photos.clear()
        shutil.rmtree(self.root, ignore_errors=True)


def read_painted_mask(path: str, photo: Photo) -> np.ndarray:
    """Reads the page's mask (white = hole, any size of the photo's aspect ratio).

    Returns:
        float32 hole map [mask height, mask width, 1].

    Raises:
        UserError: unreadable, of another aspect ratio than the photo, or empty.
    """
    try:
        hole = imaging.read_mask(path)
    except imaging.ImageReadError as error:
        raise UserError(f"Cannot read the mask: {str(error).split(': ', 1)[-1]}") from None
    mask_height, mask_width = hole.shape[:2]
    photo_aspect = photo.width / photo.height
    if abs(mask_width / mask_height - photo_aspect) > _ASPECT_TOLERANCE * photo_aspect:
        raise UserError(f"The mask is {mask_width}×{mask_height} but the photo is "
                        f"{photo.width}×{photo.height}: a mask must have the photo's shape.")
    if not np.any(hole > 0.5):
        raise UserError(EMPTY_MASK_MESSAGE)
    return hole


def full_resolution_hole(hole: np.ndarray, photo: Photo, dilate_px: int = 0) -> np.ndarray:
    """Scales a hole map to the photo's size and grows it by ``dilate_px`` photo pixels.

    Returns:
        bool [height, width, 1]: True = fill.
    """
    if hole.shape[:2] != (photo.height, photo.width):
        shrinking = hole.shape[0] > photo.height
        hole = cv2.resize(hole[..., 0], (photo.width, photo.height),
                          interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    hole = np.asarray(hole).reshape(photo.height, photo.width) > 0.5
    if dilate_px > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate_px + 1,) * 2)
        hole = cv2.dilate(hole.astype(np.uint8), kernel) > 0
    if not hole.any():
        raise UserError(EMPTY_MASK_MESSAGE)
    return hole[..., np.newaxis]
