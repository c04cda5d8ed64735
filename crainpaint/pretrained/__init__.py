"""The bundled generator weights: float16 arrays plus the config and training step they came from.

Files in this folder: ``generator.npz`` (one float16 array per weight, keyed by its path in
the model) and ``generator.json`` (``{"config": GeneratorConfig fields, "step": int, ...}``).
Without them, or with ``allow_untrained=True`` and no file, a freshly initialised generator is
returned with a loud warning: the library still runs, but inpaints noise-like fills.
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np

from crainpaint.models import Generator, GeneratorConfig

PRETRAINED_DIR = os.path.dirname(os.path.abspath(__file__))
WEIGHTS_NAME = "generator.npz"
METADATA_NAME = "generator.json"


class UntrainedWeightsWarning(UserWarning):
    """Raised (as a warning) when inpainting with a generator that was never trained."""


def save_generator_weights(generator, directory, step=None, extra=None, dtype=np.float16,
                           arrays=None):
    """Writes ``generator.npz`` + ``generator.json`` into ``directory`` (atomically per file).

    ``arrays`` (``{variable.path: array}`` for every weight of ``generator``) replaces the
    generator's own values, e.g. a weight average. Returns the largest absolute difference
    introduced by the cast to ``dtype``.
    """
    if arrays is None:
        arrays = {variable.path: np.asarray(variable.numpy()) for variable in generator.weights}
    else:  # Checked before anything is written.
        missing = sorted({variable.path for variable in generator.weights} - set(arrays))
        if missing:
            raise ValueError(f"arrays lacks generator weights {missing[:5]}.")
        wrong = [f"{variable.path} {np.shape(arrays[variable.path])} (expected "
                 f"{tuple(variable.shape)})" for variable in generator.weights
                 if np.shape(arrays[variable.path]) != tuple(variable.shape)]
        if wrong:
            raise ValueError(f"arrays has weights of the wrong shape: {wrong[:5]}.")
        arrays = {variable.path: np.asarray(arrays[variable.path])
                  for variable in generator.weights}
    os.makedirs(directory, exist_ok=True)
    stored = {name: value.astype(dtype) for name, value in arrays.items()}
    max_error = max(float(np.max(np.abs(stored[name].astype(np.float32) - value)))
                    for name, value in arrays.items())
    weights_path = os.path.join(directory, WEIGHTS_NAME)
    temporary = weights_path + ".tmp.npz"
    np.savez_compressed(temporary, **stored)
    os.replace(temporary, weights_path)
    metadata = {"config": generator.config.to_dict(), "step": step, "dtype": np.dtype(dtype).name,
                "max_cast_error": max_error}
    metadata.update(extra or {})
    metadata_path = os.path.join(directory, METADATA_NAME)
    with open(metadata_path + ".tmp", "w") as handle:
        json.dump(metadata, handle, indent=2, sort_keys=True)
    os.replace(metadata_path + ".tmp", metadata_path)
    return max_error


def load_generator_weights(directory):
    """A built ``Generator`` with the weights of ``directory`` (see ``save_generator_weights``)."""
    with open(os.path.join(directory, METADATA_NAME)) as handle:
        metadata = json.load(handle)
    generator = Generator(GeneratorConfig.from_dict(metadata["config"])).build_for_size()
    with np.load(os.path.join(directory, WEIGHTS_NAME)) as arrays:
        names = set(arrays.files)
        missing = [variable.path for variable in generator.weights if variable.path not in names]
        if missing:
            raise ValueError(f"Weights in {directory} do not match the generator: missing "
                             f"{missing[:5]}{' …' if len(missing) > 5 else ''}.")
        for variable in generator.weights:
            variable.assign(arrays[variable.path].astype(np.float32))
    generator.pretrained_metadata = metadata
    return generator


def has_bundled_weights():
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
