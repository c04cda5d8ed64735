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


def dilated_conv2d_same(inputs, kernel, dilation_rate):
    """'same' convolution at stride 1 with ``dilation_rate`` > 1, as ``tf.nn.convolution`` runs it.

    ``tf.nn.convolution`` runs a dilated convolution as SpaceToBatchND → Conv2D ('VALID') →
    BatchToSpaceND; this is the same three ops with the same paddings and crops, so the result is
    the same bit for bit. Its paddings are computed here in a handful of ops where
    ``tf.nn.convolution`` builds about 75 graph nodes per convolution for dynamic shapes,
    which made the 28 dilated convolutions half of the generator's graph (tracing, graph
    optimisation and kernel creation on the first call all grow with it).

    Args:
        inputs: [B, H, W, C].
        kernel: [kh, kw, C, F] with static kh, kw.
        dilation_rate: (rate_h, rate_w) Python ints.
    """
    rates = [int(rate) for rate in dilation_rate]
    # The 'same' padding of the dilated kernel (the larger half at the end, as conv2d pads),
    # then padding at the end up to a multiple of the rate; the output crops that back off.
    total = [(int(size) - 1) * rate for size, rate in zip(kernel.shape[:2], rates)]
    start = tf.constant([pad // 2 for pad in total], tf.int32)
    end = tf.constant([pad - pad // 2 for pad in total], tf.int32)
    full = tf.shape(inputs)[1:3] + tf.constant(total, tf.int32)
    extra = (tf.constant(rates, tf.int32) - full % rates) % rates
    paddings = tf.stack([start, end + extra], axis=1)
    crops = tf.stack([tf.zeros_like(extra), extra], axis=1)
    converted = tf.space_to_batch_nd(inputs, rates, paddings)
    result = tf.nn.conv2d(converted, kernel, strides=1, padding="VALID")
    return tf.batch_to_space(result, rates, crops)


class _Conv2D(keras.layers.Conv2D):
    """``keras.layers.Conv2D`` whose dilated 'same' convolutions at stride 1 are built by
    ``dilated_conv2d_same`` (the same ops and results, a much smaller graph)."""

    def convolution_op(self, inputs, kernel):
        if (max(self.dilation_rate) > 1 and max(self.strides) == 1 and self.padding == "same"
                and self.data_format == "channels_last"):
            return dilated_conv2d_same(inputs, kernel, self.dilation_rate)
        return super().convolution_op(inputs, kernel)


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
        self.feature_conv = _Conv2D(
            filters, self.kernel_size, strides=self.strides, dilation_rate=self.dilation_rate,
            kernel_initializer=initializer(), name="feature", **common)
        if gate == "single_channel":
            self.gate_convs = [_Conv2D(
                1, self.kernel_size, strides=self.strides, dilation_rate=self.dilation_rate,
                kernel_initializer=initializer(), name="gate", **common)]
        elif gate == "full":
            self.gate_convs = [_Conv2D(
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
