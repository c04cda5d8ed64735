"""crainpaint: Contextual Residual Aggregation for ultra high-resolution image inpainting.

A TensorFlow 2 / Keras 3 reproduction of Yi et al., CVPR 2020 ("HiFill"): a light-weight two-stage
gated-conv generator with attention, and CRA, which inpaints photos of any size (8K and beyond)
by running the network at 512² and aggregating high-frequency context residuals into the hole.

The public names below are imported on first use (PEP 562), so ``import crainpaint`` loads
neither TensorFlow nor OpenCV: a command can parse its flags, print ``--help`` or set
``TF_CPP_MIN_LOG_LEVEL`` before TensorFlow starts, and ``crainpaint.portable`` (numpy only) runs
where TensorFlow is not installed.
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
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # Cached: later lookups skip this function.
        return value
    try:  # crainpaint.cra and the other submodules, as when they were imported eagerly.
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
