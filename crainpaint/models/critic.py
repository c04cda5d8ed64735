"""The WGAN-GP critic (Sec. 3.5.1): six 5×5 stride-2 convolutions and a dense layer.

It sees 3-channel composites (prediction pasted into the real image) in [-1, 1], no mask, as in
the author's code; the default 512² input gives 5,961,601 parameters.
"""

from __future__ import annotations

import dataclasses

import keras
import tensorflow as tf

CRITIC_CHANNELS = (64, 128, 256, 256, 256, 256)


@dataclasses.dataclass(frozen=True)
class CriticConfig:
    """Attributes: input_size (the generator's), width_multiplier, leaky-ReLU slope."""

    input_size: int = 512
    width_multiplier: float = 1.0
    negative_slope: float = 0.2

    def __post_init__(self):
        stride_product = 2 ** len(CRITIC_CHANNELS)
        if self.input_size % stride_product:
            raise ValueError(f"Critic input_size must be a multiple of {stride_product}, got "
                             f"{self.input_size}.")
        if self.width_multiplier <= 0:
            raise ValueError(f"width_multiplier must be > 0, got {self.width_multiplier}.")


@keras.saving.register_keras_serializable(package="crainpaint")
class Critic(keras.Model):
    """D(x): one unbounded score per image (a Wasserstein critic, no sigmoid)."""

    def __init__(self, config=None, **kwargs):
        kwargs.setdefault("name", "critic")
        super().__init__(**kwargs)
        config = config if isinstance(config, CriticConfig) else CriticConfig(**(config or {}))
        self.config = config
        self.convs = [
            keras.layers.Conv2D(max(1, int(round(channels * config.width_multiplier))), 5,
                                strides=2, padding="same", name=f"conv{index}")
            for index, channels in enumerate(CRITIC_CHANNELS)]
        self.activation = keras.layers.LeakyReLU(config.negative_slope)
        self.flatten = keras.layers.Flatten()
        self.score = keras.layers.Dense(1, name="score")

    def call(self, images):
        outputs = images
        for conv in self.convs:
            outputs = self.activation(conv(outputs))
        return tf.cast(self.score(self.flatten(outputs)), tf.float32)

    def build_for_size(self):
        size = self.config.input_size
        self(tf.zeros([1, size, size, 3]))
        return self

    def get_config(self):
        return {"config": dataclasses.asdict(self.config), "name": self.name}
