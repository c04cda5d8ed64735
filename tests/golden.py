"""Stored results of the inpainting entry points on small cases, and the code that makes them.

`tests/test_pipeline.py` runs every entry point (the API, the command, the SavedModel's serving
signature, one evaluation row) with the bundled weights on two small seeded photos and compares
the results with the files in ``tests/data/golden/``: pixels by SHA-256, metrics exactly. The
stored files are the results of the code before the inpainting pipeline was gathered into one
module, so a refactoring that changes a single output bit fails.

To store new results after an INTENDED change of the outputs (new weights, a new default):

    CRAINPAINT_WRITE_GOLDEN=1 PYTHONPATH=. python -m pytest -q tests/test_pipeline.py -k golden
"""

from __future__ import annotations

import hashlib
import json
import os

import cv2
import numpy as np

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "golden")
WRITE_ENVIRONMENT_VARIABLE = "CRAINPAINT_WRITE_GOLDEN"


def writing() -> bool:
    """True when the tests should store their results instead of comparing them."""
    return os.environ.get(WRITE_ENVIRONMENT_VARIABLE) == "1"


def photo(seed: int, height: int, width: int) -> np.ndarray:
    """A smooth random colour field with fine noise, uint8 [height, width, 3].

    Coarse noise bilinearly enlarged plus a little per-pixel noise: textured enough that the
    residuals of CRA are not zero. numpy's PCG64 streams are stable across versions.
    """
    random = np.random.default_rng(seed)
    coarse = random.uniform(0, 255, (height // 8 + 2, width // 8 + 2, 3)).astype(np.float32)
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)
    fine = random.normal(0.0, 12.0, (height, width, 3))
    return np.clip(np.round(smooth + fine), 0, 255).astype(np.uint8)


def ellipse_hole(height: int, width: int) -> np.ndarray:
    """A bool [height, width] ellipse off the centre, about 12 % of the photo."""
    rows, columns = np.mgrid[:height, :width]
    return (((rows - 0.45 * height) / (0.22 * height)) ** 2
            + ((columns - 0.55 * width) / (0.18 * width)) ** 2) <= 1.0


# (name, seed, height, width)
CASES = (("small", 1, 96, 128), ("portrait", 2, 200, 150))


def case(name: str):
    """(photo uint8 [H, W, 3], hole bool [H, W]) of a case of ``CASES``."""
    for case_name, seed, height, width in CASES:
        if case_name == name:
            return photo(seed, height, width), ellipse_hole(height, width)
    raise KeyError(name)


def sixteen_bit(image: np.ndarray, seed: int = 7) -> np.ndarray:
    """A uint16 photo whose 8-bit rounding is ``image`` and whose low bits are random."""
    offsets = np.random.default_rng(seed).integers(-128, 128, image.shape)
    return np.clip(image.astype(np.int64) * 257 + offsets, 0, 65535).astype(np.uint16)


def digest(array) -> str:
    """SHA-256 of an array's dtype, shape and bytes (C order)."""
    array = np.ascontiguousarray(np.asarray(array))
    hasher = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    hasher.update(array.tobytes())
    return hasher.hexdigest()


def _path(name: str) -> str:
    return os.path.join(GOLDEN_DIR, name + ".json")


def load(name: str) -> dict:
    """The stored results ``name`` ({key: digest or metrics})."""
    with open(_path(name)) as handle:
        return json.load(handle)


def store(name: str, results: dict) -> None:
    """Writes ``results`` as the stored results ``name`` (sorted, human-readable JSON)."""
    os.makedirs(GOLDEN_DIR, exist_ok=True)
    temporary = _path(name) + ".tmp"
    with open(temporary, "w") as handle:
        json.dump(results, handle, indent=1, sort_keys=True)
        handle.write("\n")
    os.replace(temporary, _path(name))
