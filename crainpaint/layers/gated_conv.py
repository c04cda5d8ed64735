"""Gated convolutions: the full gated conv (GC, Eq. 5) and the Light-Weight Gated Convolutions.

Paper Sec. 3.4: every convolution of the generator computes a feature branch ``F`` and a gate
branch ``G`` and outputs ``sigmoid(G) * ELU(F)``. The Light-Weight Gated Convolutions (LWGC)
differ only in how the gate is computed (Table 1, Eq. 6-8):

* ``"single_channel"`` (LWGCsc, Eq. 8): a k×k conv to ONE channel, broadcast over all features;
* ``"depthwise_separable"`` (LWGCds, Eq. 6): a depthwise k×k conv then a 1×1 conv;
* ``"pixelwise"`` (LWGCpw, Eq. 7): a 1×1 conv;
* ``"full"`` (GC, Eq. 5): a second k×k conv as wide as the features.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from crainpaint.layers.upsample import upsample_bilinear_2x

GATE_TYPES = ("single_channel", "depthwise_separable", "pixelwise", "full")

# The author's code initialises every gated-conv kernel with a truncated normal of std 0.05.
_DEFAULT_INITIALIZER = {"class_name": "TruncatedNormal", "config": {"stddev": 0.05}}


def _as_pair(value, name):
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}.")
    return value


@keras.saving.register_keras_serializable(package="crainpaint")
class LightWeightGatedConv2D(keras.layers.Layer):
    """A gated convolution ``sigmoid(G) ⊙ ψ(F)`` with a selectable gate branch (Sec. 3.4).

    Args:
        filters: output channels (of the feature branch, and of the gate except for
            ``"single_channel"``, whose one gate channel is broadcast).
        kernel_size: k of the k×k feature convolution (and of the k×k gates).
        strides: convolution stride; 'same' padding throughout (Sec. 3.3).
        dilation_rate: dilation of the k×k convolutions.
        gate: one of ``GATE_TYPES``.
        activation: ψ, ``"elu"`` by default; ``None`` for a linear feature branch (used by the
            to-RGB layers, whose output is clipped to [-1, 1] instead).
        kernel_initializer: for every kernel; truncated normal σ 0.05 as in the author's code.
    """

    def __init__(self, filters, kernel_size=3, strides=1, dilation_rate=1, gate="pixelwise",
                 activation="elu", kernel_initializer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(filters, int) or filters < 1:
            raise ValueError(f"filters must be a positive int (output channels), got {filters!r}.")
        if gate not in GATE_TYPES:
            raise ValueError(f"Unknown gate {gate!r}; expected one of {GATE_TYPES}.")
        self.filters = filters
        self.kernel_size = _as_pair(kernel_size, "kernel_size")
        self.strides = _as_pair(strides, "strides")
        self.dilation_rate = _as_pair(dilation_rate, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("strides > 1 and dilation_rate > 1 cannot be combined; "
                             f"got strides={self.strides}, dilation_rate={self.dilation_rate}.")
        self.gate = gate
        self.activation = None if activation is None else keras.activations.get(activation)
        self._activation_name = activation
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or _DEFAULT_INITIALIZER)
        serialized_initializer = keras.initializers.serialize(self.kernel_initializer)

        def initializer():
            # One instance per kernel: a shared unseeded instance gives the feature and gate
            # kernels the same first random values.
            return keras.initializers.deserialize(serialized_initializer)

        common = dict(padding="same")
        self.feature_conv = keras.layers.Conv2D(
            filters, self.kernel_size, strides=self.strides, dilation_rate=self.dilation_rate,
            kernel_initializer=initializer(), name="feature", **common)
        if gate == "single_channel":
            self.gate_convs = [keras.layers.Conv2D(
                1, self.kernel_size, strides=self.strides, dilation_rate=self.dilation_rate,
                kernel_initializer=initializer(), name="gate", **common)]
        elif gate == "full":
            self.gate_convs = [keras.layers.Conv2D(
                filters, self.kernel_size, strides=self.strides, dilation_rate=self.dilation_rate,
                kernel_initializer=initializer(), name="gate", **common)]
        elif gate == "depthwise_separable":
            # Table 1 counts Hk·Wk·Cin + Cin·Cout weights: the depthwise part carries no bias.
            self.gate_convs = [
                keras.layers.DepthwiseConv2D(
                    self.kernel_size, strides=self.strides, dilation_rate=self.dilation_rate,
                    padding="same", use_bias=False,
                    depthwise_initializer=initializer(), name="gate_depthwise"),
                keras.layers.Conv2D(filters, 1, kernel_initializer=initializer(),
                                    name="gate_pointwise", **common)]
        else:  # pixelwise
            # Always stride 1: the input gradient of a strided 1×1 convolution crashes oneDNN
            # (heap corruption or SIGSEGV on TF 2.21 CPU builds), so call() subsamples the input
            # first (x[:, ::2, ::2]), which gives the same result for 'same' padding.
            self.gate_convs = [keras.layers.Conv2D(filters, 1, kernel_initializer=initializer(),
                                                   name="gate", **common)]

    def build(self, input_shape):
        self.feature_conv.build(input_shape)
        shape = input_shape
        for conv in self.gate_convs:
            conv.build(shape)
            shape = conv.compute_output_shape(shape)

    def compute_output_shape(self, input_shape):
        return self.feature_conv.compute_output_shape(input_shape)

    def call(self, inputs):
        features = self.feature_conv(inputs)
        gate_input = inputs
        if self.gate == "pixelwise" and max(self.strides) > 1:
            gate_input = inputs[:, ::self.strides[0], ::self.strides[1], :]
        gate = gate_input
        for conv in self.gate_convs:
            gate = conv(gate)
        if self.activation is not None:
            features = self.activation(features)
        return keras.ops.sigmoid(gate) * features

    def gate_kernel_count(self):
        """Number of gate kernel weights (biases excluded), as counted in Table 1."""
        return sum(int(tf.size(conv.kernel)) for conv in self.gate_convs)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
            dilation_rate=self.dilation_rate, gate=self.gate, activation=self._activation_name,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer))
        return config


@keras.saving.register_keras_serializable(package="crainpaint")
class GatedUpsampleConv2D(LightWeightGatedConv2D):
    """The generator's "deconv": bilinear ×2 up-sampling, then a gated conv (no transposed conv)."""

    def build(self, input_shape):
        shape = list(input_shape)
        shape[1] = None if shape[1] is None else 2 * shape[1]
        shape[2] = None if shape[2] is None else 2 * shape[2]
        super().build(tuple(shape))

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        shape[1] = None if shape[1] is None else 2 * shape[1]
        shape[2] = None if shape[2] is None else 2 * shape[2]
        return super().compute_output_shape(tuple(shape))

    def call(self, inputs):
        return super().call(upsample_bilinear_2x(inputs))
