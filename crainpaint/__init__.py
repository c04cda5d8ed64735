"""crainpaint: Contextual Residual Aggregation for ultra high-resolution image inpainting.

A TensorFlow 2 / Keras 3 reproduction of Yi et al., CVPR 2020 ("HiFill"): a light-weight two-stage
gated-conv generator with attention, and CRA, which inpaints photos of any size (8K and beyond)
by running the network at 512² and aggregating high-frequency context residuals into the hole.

The public names below are imported on first use (PEP 562), so ``import crainpaint`` loads
neither TensorFlow nor OpenCV: a command can still set ``TF_CPP_MIN_LOG_LEVEL`` (or parse its
flags and print ``--help``) after importing the package and before TensorFlow starts.
"""

import importlib

# Public name → the module that defines it.
_EXPORTS = {
    "Critic": "crainpaint.models",
    "CriticConfig": "crainpaint.models",
    "Generator": "crainpaint.models",
    "GeneratorConfig": "crainpaint.models",
    "build_generator": "crainpaint.models",
    "inpaint": "crainpaint.api",
    "load_pretrained": "crainpaint.pretrained",
}

__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'crainpaint' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    # Cached, so later lookups skip this function. A submodule of the same name imported later
    # (crainpaint.inpaint) rebinds the attribute, as it did when these imports were eager.
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
