"""The bundled generator weights: float16 arrays plus the config and training step they came from.

Files in this folder: ``generator.npz`` and ``generator.json``, a weight folder in the format of
``crainpaint.weights`` (written by ``experiments/bundle_weights.py``).
Without them, or with ``allow_untrained=True`` and no file, a freshly initialised generator is
returned with a loud warning: the library still runs, but inpaints noise-like fills.
"""

from __future__ import annotations

import os
import warnings

from crainpaint.models import Generator, GeneratorConfig
# The weight folder format is crainpaint.weights'; its names stay importable from here.
from crainpaint.weights import (METADATA_NAME, WEIGHTS_NAME, load_generator_weights,
                                save_generator_weights)

PRETRAINED_DIR = os.path.dirname(os.path.abspath(__file__))


class UntrainedWeightsWarning(UserWarning):
    """Raised (as a warning) when inpainting with a generator that was never trained."""


def has_bundled_weights():
    """Whether this installation ships trained generator weights."""
    return os.path.exists(os.path.join(PRETRAINED_DIR, WEIGHTS_NAME))


def load_pretrained(weights=None, allow_untrained=True):
    """The bundled generator, or the one in ``weights`` (a directory written by
    ``save_generator_weights``); an untrained one, with a warning, when none exists."""
    directory = weights or PRETRAINED_DIR
    if os.path.exists(os.path.join(directory, WEIGHTS_NAME)):
        return load_generator_weights(directory)
    if weights is not None or not allow_untrained:
        raise FileNotFoundError(f"No {WEIGHTS_NAME} in {directory}.")
    warnings.warn("No trained generator weights are bundled with this installation: using an "
                  "UNTRAINED generator. Results will be meaningless fills.",
                  UntrainedWeightsWarning, stacklevel=2)
    generator = Generator(GeneratorConfig()).build_for_size()
    generator.pretrained_metadata = {"step": 0, "untrained": True}
    return generator


__all__ = ["METADATA_NAME", "PRETRAINED_DIR", "UntrainedWeightsWarning", "WEIGHTS_NAME",
           "has_bundled_weights", "load_generator_weights", "load_pretrained",
           "save_generator_weights"]
