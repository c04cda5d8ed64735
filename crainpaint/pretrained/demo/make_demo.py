#!/usr/bin/env python3
"""Rebuild the bundled demo: photo.jpg and mask.png in this folder.

Source: the validation photo ``lomiri20-Kleiber_by_Lukas_Baubkus.jpg`` (6028x3391,
"Kleiber" = Eurasian nuthatch, (c) 2021 Lukas Baubkus, CC-BY-SA-3.0, Debian package
lomiri-wallpapers-20.04), fetched by ``python experiments/data/fetch_photos.py``.

photo.jpg: the whole photo resized to 4096 px wide (INTER_AREA), JPEG quality 90.
mask.png:  8-bit gray PNG of the same size, 255 = hole, 0 = keep.  The hole is
           drawn from coordinates chosen by looking at the photo (given below in the
           ORIGINAL 6028x3391 pixel frame and scaled): the nuthatch (object removal;
           the fill must continue the bark edge and the blurred background), an
           elliptical blob and a brush stroke over the bark texture.

Usage:
    python crainpaint/pretrained/demo/make_demo.py [--photos DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import cv2
import numpy as np

SOURCE_NAME = "validation/lomiri20-Kleiber_by_Lukas_Baubkus.jpg"
SOURCE_SHA256 = "6572410c09f4492c74ccadde133565a14c0161617d5917d4c820c66d65a44ba7"
SOURCE_SIZE = (6028, 3391)  # width, height
DEFAULT_PHOTOS = Path.home() / ".cache" / "crainpaint" / "data" / "photos"

OUT_WIDTH = 4096
JPEG_QUALITY = 90
MAX_JPEG_BYTES = 1_900_000

# Outline of the nuthatch, clockwise from the tail tip, original pixel frame.
BIRD = [(2445, 1150), (2530, 1280), (2620, 1410), (2700, 1515), (2785, 1640), (2865, 1760),
        (2925, 1860), (2975, 1925), (3050, 1960), (3110, 2020), (3150, 2075), (3275, 2165),
        (3140, 2150), (3080, 2180), (2950, 2220), (2800, 2250), (2670, 2240), (2550, 2190),
        (2480, 2120), (2425, 2000), (2415, 1800), (2425, 1600), (2460, 1450), (2470, 1300),
        (2440, 1180)]
BIRD_MARGIN = 40                      # px of dilation around the outline (original frame)
BARK_BLOB = ((1000, 2450), (480, 330), 15)       # centre, half-axes, angle (degrees)
BARK_STROKE = [(250, 520), (800, 680), (1400, 540), (1900, 720)]
BARK_STROKE_WIDTH = 110


def draw_mask(width: int, height: int) -> np.ndarray:
    """The hole mask at (width, height), drawn from the original-frame coordinates."""
    sx, sy = width / SOURCE_SIZE[0], height / SOURCE_SIZE[1]

    def pts(seq):
        return np.round(np.array(seq, np.float64) * (sx, sy)).astype(np.int32)

    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [pts(BIRD)], 255, lineType=cv2.LINE_8)
    r = max(1, round(BIRD_MARGIN * sx))
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    (cx, cy), (ax, ay), ang = BARK_BLOB
    cv2.ellipse(mask, (round(cx * sx), round(cy * sy)), (round(ax * sx), round(ay * sy)), ang, 0, 360, 255, -1)
    cv2.polylines(mask, [pts(BARK_STROKE)], False, 255, thickness=max(1, round(BARK_STROKE_WIDTH * sx)),
                  lineType=cv2.LINE_8)
    return np.where(mask > 127, 255, 0).astype(np.uint8)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS,
                    help=f"folder written by experiments/data/fetch_photos.py (default {DEFAULT_PHOTOS})")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="where to write the demo")
    a = ap.parse_args(argv)

    src = a.photos.expanduser() / SOURCE_NAME
    if not src.is_file():
        print(f"ERROR: {src} not found: run `python experiments/data/fetch_photos.py` first", file=sys.stderr)
        return 1
    data = src.read_bytes()
    if hashlib.sha256(data).hexdigest() != SOURCE_SHA256:
        print(f"ERROR: {src} has an unexpected sha256", file=sys.stderr)
        return 1
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    h, w = img.shape[:2]
    assert (w, h) == SOURCE_SIZE, (w, h)

    out_w, out_h = OUT_WIDTH, round(h * OUT_WIDTH / w)
    photo = cv2.resize(img, (out_w, out_h), interpolation=cv2.INTER_AREA)
    ok, jpg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    assert ok and len(jpg) < MAX_JPEG_BYTES, len(jpg)
    mask = draw_mask(out_w, out_h)
    ok, png = cv2.imencode(".png", mask, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    assert ok

    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "photo.jpg").write_bytes(jpg.tobytes())
    (a.out / "mask.png").write_bytes(png.tobytes())
    print(f"photo.jpg {out_w}x{out_h} {len(jpg) / 1e6:.2f} MB; mask.png {len(png) / 1e3:.1f} kB, "
          f"hole = {100.0 * (mask > 0).mean():.1f}% of the image")
    return 0


if __name__ == "__main__":
    sys.exit(main())
