"""Building a generator directly with stored weights, without drawing random ones first.

``Generator(config).build_for_size()`` followed by one ``assign`` per variable draws 2.7 M random
numbers (one truncated-normal op chain per kernel) only to overwrite them. Here every weight is
created holding its stored value: each convolution's initialisers are swapped, for the duration
of the build only, for ones that return the stored array of the variable being created.
"""

from __future__ import annotations

import numpy as np

from crainpaint.models.config import GeneratorConfig
from crainpaint.models.generator import Generator

# Initialiser attributes of the Keras convolutions in the generator → the variable each creates.
_INITIALIZER_VARIABLES = {"kernel_initializer": "kernel", "depthwise_initializer": "kernel",
                          "bias_initializer": "bias"}


def build_generator_with_weights(config, arrays):
    """A built ``Generator`` of ``config`` whose variables hold ``arrays``.

    Args:
        config: a ``GeneratorConfig`` (or its dict).
        arrays: a mapping ``{variable.path: array}`` holding every weight of the generator, e.g.
            the ``np.load`` of a ``generator.npz``; values are cast to the variables' dtype.
    Returns:
        The built generator; its weights equal ``Generator(config).build_for_size()`` followed
        by ``variable.assign(arrays[variable.path])`` for every variable.
    Raises:
        ValueError: when ``arrays`` lacks a weight, holds one of another shape, or holds
            weights the generator does not have.
    """
    if not isinstance(config, GeneratorConfig):
        config = GeneratorConfig.from_dict(config)
    generator = Generator(config)
    used = set()
    swapped = []
    try:
        for layer in generator._flatten_layers(include_self=False):
            for attribute, variable_name in _INITIALIZER_VARIABLES.items():
                if hasattr(layer, attribute):
                    swapped.append((layer, attribute, getattr(layer, attribute)))
                    setattr(layer, attribute, _LazyPathInitializer(layer, variable_name,
                                                                   arrays, used))
        generator.build_for_size()
    finally:
        for layer, attribute, original in swapped:
            setattr(layer, attribute, original)
    unset = [variable.path for variable in generator.weights if variable.path not in used]
    if unset:
        raise ValueError(f"Weights {unset[:5]} were not created from the stored arrays.")
    unknown = sorted(set(getattr(arrays, "files", arrays)) - used)
    if unknown:
        raise ValueError(f"The stored weights hold {unknown[:5]}, which this generator "
                         f"configuration does not have.")
    return generator


class _LazyPathInitializer:
    """Returns the stored array of ``layer.path/variable_name`` when the variable is created
    (the layer's path is set only once its build has opened its name scope)."""

    def __init__(self, layer, variable_name, arrays, used):
        self.layer, self.variable_name = layer, variable_name
        self.arrays, self.used = arrays, used

    def __call__(self, shape, dtype=None):
        path = f"{self.layer.path}/{self.variable_name}"
        if path not in self.arrays:
            raise ValueError(f"The stored weights are missing {path!r}: they belong to another "
                             f"generator configuration.")
        value = np.asarray(self.arrays[path])
        if tuple(value.shape) != tuple(shape):
            raise ValueError(f"The stored weight {path!r} has shape {tuple(value.shape)}, the "
                             f"generator expects {tuple(shape)}: they belong to another "
                             f"generator configuration.")
        self.used.add(path)
        return value.astype(dtype or np.float32)
