"""Bit-identical outputs of ``crainpaint.inpaint`` with the bundled weights, pinned to stored files.

The speed-ups of loading, tracing and importing must not change a single output byte, so the
stored results of two small photos (96×128 and 300×200, a synthetic photo and hole) under the
default options and the paper's, each with the Poisson seam and the hard paste, are compared
byte for byte. Only the hole's pixels are stored (outside it every pixel must be the input's,
which the test checks too), so the files stay small.

Regenerate the files (only after a change that is meant to alter the outputs):

    PYTHONPATH=$PWD python tests/test_latency_golden.py
"""

import os
import sys

import numpy as np
import tensorflow as tf

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "latency_golden")
SIZES = ((96, 128), (300, 200))
# name → CRAConfig keyword arguments (through CRAConfig.paper() when "paper" is True).
CONFIGS = {
    "default_poisson": dict(paper=False, seam="poisson"),
    "default_paste": dict(paper=False, seam="paste"),
    "paper_paste": dict(paper=True, seam="paste"),
    "paper_poisson": dict(paper=True, seam="poisson"),
}


def synthetic_case(height, width):
    """A deterministic photo (smooth colour ramps, stripes and a little noise) and a uint8 mask
    (white = hole) with a disc and a bar, both touching context on every side."""
    rows = np.arange(height, dtype=np.float32)[:, None] / height
    cols = np.arange(width, dtype=np.float32)[None, :] / width
    noise = np.random.default_rng(height * 1000 + width).normal(0.0, 6.0, (height, width, 3))
    photo = np.stack([200.0 * rows + 30.0 * np.sin(25.0 * cols),
                      180.0 * cols + 40.0 * np.cos(17.0 * rows),
                      120.0 + 60.0 * np.sin(9.0 * (rows + cols))], axis=-1) + noise
    photo = np.clip(np.round(photo), 0, 255).astype(np.uint8)
    mask = np.zeros((height, width), np.uint8)
    disc = (rows - 0.45) ** 2 * height ** 2 + (cols - 0.4) ** 2 * width ** 2
    mask[disc < (0.18 * min(height, width)) ** 2] = 255
    mask[int(0.7 * height):int(0.78 * height), int(0.2 * width):int(0.85 * width)] = 255
    return photo, mask


def cra_config(name):
    from crainpaint.cra import CRAConfig
    options = dict(CONFIGS[name])
    if options.pop("paper"):
        return CRAConfig.paper(**options)
    return CRAConfig(**options)


def golden_path(name, height, width):
    return os.path.join(GOLDEN_DIR, f"{name}_{height}x{width}.npy")


def inpaint_case(name, height, width, model):
    import crainpaint
    photo, mask = synthetic_case(height, width)
    return photo, mask, crainpaint.inpaint(photo, mask, model, config=cra_config(name))


class LatencyGoldenTest(tf.test.TestCase):
    """The bundled generator's outputs stay byte for byte what the stored files hold."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        import crainpaint
        cls.model = crainpaint.load_pretrained()

    def _check(self, name):
        for height, width in SIZES:
            photo, mask, result = inpaint_case(name, height, width, self.model)
            hole = mask > 127
            self.assertEqual(result.dtype, np.uint8)
            self.assertAllEqual(result[~hole], photo[~hole])
            expected = np.load(golden_path(name, height, width))
            self.assertEqual(expected.shape, result[hole].shape)
            differing = int(np.sum(np.any(expected != result[hole], axis=-1)))
            self.assertEqual(differing, 0, f"{name} at {height}×{width}: {differing} hole "
                                           f"pixels differ from the stored output")

    def test_default_poisson_outputs_are_unchanged(self):
        self._check("default_poisson")

    def test_default_paste_outputs_are_unchanged(self):
        self._check("default_paste")

    def test_paper_paste_outputs_are_unchanged(self):
        self._check("paper_paste")

    def test_paper_poisson_outputs_are_unchanged(self):
        self._check("paper_poisson")

    def test_golden_files_are_small(self):
        total = sum(os.path.getsize(os.path.join(GOLDEN_DIR, name))
                    for name in os.listdir(GOLDEN_DIR))
        self.assertLess(total, 200_000)


def write_golden_files():
    """Stores the hole pixels of every case (uint8 [N, 3]), atomically per file."""
    import crainpaint
    model = crainpaint.load_pretrained()
    os.makedirs(GOLDEN_DIR, exist_ok=True)
    for name in CONFIGS:
        for height, width in SIZES:
            _, mask, result = inpaint_case(name, height, width, model)
            path = golden_path(name, height, width)
            with open(path + ".tmp", "wb") as handle:
                np.save(handle, result[mask > 127])
            os.replace(path + ".tmp", path)
            print(path, flush=True)


if __name__ == "__main__":
    write_golden_files()
    sys.exit(0)
