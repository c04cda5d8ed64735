"""Activation scale of the untrained generator under each kernel initialiser.

Prints the standard deviation of every 4th coarse-network activation and of the refined output for
one random 256² image with a rectangular hole, for the author's truncated normal (σ 0.05) and
fan-in variance scaling ×1, ×2, ×4 ("gated_he") and ×8. It is why the bundled model trains with
``kernel_initializer="gated_he"``: with the author's σ the coarse output starts near 1e-9, so the
first thousands of CPU steps learn little more than biases. Run:

    python experiments/init_activation_scale.py
"""

import os
import sys

import keras
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from crainpaint.models import Generator, GeneratorConfig  # noqa: E402
from crainpaint.models import config as config_module  # noqa: E402

CANDIDATES = {
    "author (σ 0.05)": "author",
    "fan-in ×1": {"class_name": "VarianceScaling",
                  "config": {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"}},
    "fan-in ×2": {"class_name": "VarianceScaling",
                  "config": {"scale": 2.0, "mode": "fan_in", "distribution": "truncated_normal"}},
    "fan-in ×4 (gated_he)": "gated_he",
    "fan-in ×8": {"class_name": "VarianceScaling",
                  "config": {"scale": 8.0, "mode": "fan_in", "distribution": "truncated_normal"}},
}


def activation_stds(initializer):
    name = initializer if isinstance(initializer, str) else "candidate"
    if not isinstance(initializer, str):
        config_module.KERNEL_INITIALIZERS[name] = initializer
    keras.utils.set_random_seed(0)
    generator = Generator(GeneratorConfig(kernel_initializer=name))
    rng = np.random.default_rng(0)
    image = tf.constant(rng.uniform(-1, 1, (1, 256, 256, 3)).astype(np.float32))
    mask = np.zeros((1, 256, 256, 1), np.float32)
    mask[:, 80:160, 80:180] = 1.0
    mask = tf.constant(mask)
    _, refined, _ = generator((image, mask))
    activations = tf.image.resize(tf.concat([image * (1 - mask), mask], -1), [128, 128])
    stds = []
    for block in generator.coarse.blocks:
        activations = block(activations)
        stds.append(float(tf.math.reduce_std(activations)))
    return stds, float(tf.math.reduce_std(refined))


def main():
    print("| initialiser | coarse activation std, layers 1, 5, 9, … | coarse output | refined "
          "output |")
    print("|---|---|---|---|")
    for label, initializer in CANDIDATES.items():
        stds, refined = activation_stds(initializer)
        print(f"| {label} | {' '.join(f'{v:.1e}' for v in stds[::4])} | {stds[-1]:.1e} | "
              f"{refined:.1e} |")


if __name__ == "__main__":
    main()
