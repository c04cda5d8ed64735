"""Light-Weight Gated Convolutions (Sec. 3.4, Eq. 5-8, Table 1) against numpy."""

import cv2
import keras
import numpy as np
import tensorflow as tf

from crainpaint.layers import GATE_TYPES, GatedUpsampleConv2D, LightWeightGatedConv2D
from crainpaint.layers.gated_conv import dilated_conv2d_same
from tests import reference


def numpy_gated_conv(layer, inputs):
    """sigmoid(G) ⊙ ψ(F) evaluated from the layer's weights with direct numpy convolutions."""
    stride, dilation = layer.strides[0], layer.dilation_rate[0]
    feature = reference.conv2d(inputs, layer.feature_conv.kernel.numpy(),
                               layer.feature_conv.bias.numpy(), stride, dilation)
    if layer.gate == "depthwise_separable":
        depthwise, pointwise = layer.gate_convs
        gate = reference.depthwise_conv2d(inputs, depthwise.kernel.numpy(), stride,
                                          dilation)
        gate = reference.conv2d(gate, pointwise.kernel.numpy(), pointwise.bias.numpy())
    else:
        conv = layer.gate_convs[0]
        gate_stride = stride
        gate = reference.conv2d(inputs, conv.kernel.numpy(), conv.bias.numpy(), gate_stride,
                                dilation if conv.kernel.shape[0] > 1 else 1)
    if layer.activation is not None:
        feature = reference.elu(feature)
    return reference.sigmoid(gate) * feature


class LightWeightGatedConv2DTest(tf.test.TestCase):

    def test_gate_parameter_counts_match_table_1(self):
        expected = {"full": 9216, "depthwise_separable": 1312, "pixelwise": 1024,
                    "single_channel": 288}
        for gate, count in expected.items():
            layer = LightWeightGatedConv2D(32, 3, gate=gate)
            layer.build((None, 8, 8, 32))
            self.assertEqual(layer.gate_kernel_count(), count, gate)

    def test_every_gate_matches_numpy_evaluation_of_its_equation(self):
        rng = np.random.default_rng(0)
        inputs = rng.normal(size=(2, 9, 7, 5)).astype(np.float32)
        for gate in GATE_TYPES:
            for stride, dilation in ((1, 1), (2, 1), (1, 2)):
                layer = LightWeightGatedConv2D(6, 3, stride, dilation, gate=gate)
                output = layer(inputs).numpy()
                expected = numpy_gated_conv(layer, inputs.astype(np.float64))
                self.assertAllClose(output, expected, atol=1e-5,
                                    msg=f"{gate} stride {stride} dilation {dilation}")

    def test_single_channel_gate_is_broadcast_over_features(self):
        layer = LightWeightGatedConv2D(4, 3, gate="single_channel")
        inputs = np.random.default_rng(1).normal(size=(1, 6, 6, 3)).astype(np.float32)
        output = layer(inputs).numpy()
        features = reference.elu(reference.conv2d(inputs, layer.feature_conv.kernel.numpy(),
                                                  layer.feature_conv.bias.numpy()))
        gate_per_channel = output / features
        self.assertAllClose(gate_per_channel, np.repeat(gate_per_channel[..., :1], 4, -1),
                            atol=1e-4)

    def test_strided_pixelwise_gate_equals_strided_1x1_convolution(self):
        # The layer subsamples then convolves at stride 1 (oneDNN trap); the values must be
        # those of the strided 1×1 convolution it replaces, for odd and even sizes.
        for size in (8, 9):
            inputs = np.random.default_rng(size).normal(size=(1, size, size, 4)).astype(
                np.float32)
            layer = LightWeightGatedConv2D(5, 3, strides=2, gate="pixelwise")
            layer(inputs)
            conv = layer.gate_convs[0]
            strided = tf.nn.conv2d(inputs, conv.kernel, 2, "SAME") + conv.bias
            features = tf.nn.elu(layer.feature_conv(inputs))
            self.assertAllClose(layer(inputs), tf.sigmoid(strided) * features, atol=1e-6)

    def test_linear_activation_leaves_features_unbounded_below(self):
        layer = LightWeightGatedConv2D(3, 3, gate="pixelwise", activation=None)
        inputs = np.random.default_rng(2).normal(size=(1, 5, 5, 2)).astype(np.float32) * 50
        layer.build(inputs.shape)
        expected = numpy_gated_conv(layer, inputs.astype(np.float64))
        self.assertAllClose(layer(inputs), expected, atol=1e-3)
        self.assertLess(float(tf.reduce_min(layer(inputs))), -1.5)

    def test_upsample_conv_is_bilinear_x2_then_gated_conv(self):
        inputs = np.random.default_rng(3).normal(size=(1, 5, 7, 3)).astype(np.float32)
        layer = GatedUpsampleConv2D(4, 3, gate="single_channel")
        output = layer(inputs).numpy()
        upsampled = cv2.resize(inputs[0], (14, 10), interpolation=cv2.INTER_LINEAR)[np.newaxis]
        self.assertEqual(output.shape, (1, 10, 14, 4))
        self.assertAllClose(output, numpy_gated_conv(layer, upsampled.astype(np.float64)),
                            atol=1e-3)

    def test_config_round_trip_rebuilds_identical_layer(self):
        layer = LightWeightGatedConv2D(7, 5, strides=2, gate="depthwise_separable",
                                       activation=None, name="roundtrip")
        clone = LightWeightGatedConv2D.from_config(layer.get_config())
        self.assertEqual(clone.get_config(), layer.get_config())
        restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(
            GatedUpsampleConv2D(3, gate="full")))
        self.assertIsInstance(restored, GatedUpsampleConv2D)
        self.assertEqual(restored.gate, "full")

    def test_raises_invalid_filters_error(self):
        with self.assertRaisesRegex(ValueError, "filters must be a positive int"):
            LightWeightGatedConv2D(0)

    def test_raises_unknown_gate_error(self):
        with self.assertRaisesRegex(ValueError, "Unknown gate 'sc'.*single_channel"):
            LightWeightGatedConv2D(4, gate="sc")

    def test_raises_when_stride_and_dilation_combined(self):
        with self.assertRaisesRegex(ValueError, "cannot be combined"):
            LightWeightGatedConv2D(4, strides=2, dilation_rate=2)

    def test_feature_and_gate_kernels_start_from_different_random_values(self):
        layer = LightWeightGatedConv2D(8, 3, gate="full")
        layer.build((None, 8, 8, 8))
        self.assertNotAllClose(layer.feature_conv.kernel, layer.gate_convs[0].kernel)

    def test_dilated_convolution_equals_tf_nn_convolution_bit_for_bit(self):
        # The same SpaceToBatchND/Conv2D/BatchToSpaceND ops as tf.nn.convolution, traced with
        # unknown sizes as in the pipeline, forward and gradient.
        random = np.random.default_rng(3)
        kernel = tf.constant(random.normal(0.0, 0.05, (3, 3, 8, 5)).astype(np.float32))
        spec = [tf.TensorSpec([None, None, None, 8])]
        for rate in (2, 4, 16):
            ours = tf.function(lambda x, rate=rate: dilated_conv2d_same(x, kernel, (rate, rate)),
                               input_signature=spec)
            theirs = tf.function(
                lambda x, rate=rate: tf.nn.convolution(x, kernel, 1, "SAME", dilations=rate),
                input_signature=spec)
            for height, width in ((32, 32), (13, 7), (3, 40)):
                inputs = tf.constant(random.normal(size=(2, height, width, 8)), tf.float32)
                self.assertAllEqual(ours(inputs), theirs(inputs))
                with tf.GradientTape(persistent=True) as tape:
                    tape.watch(inputs)
                    mine = dilated_conv2d_same(inputs, kernel, (rate, rate))
                    reference_output = tf.nn.convolution(inputs, kernel, 1, "SAME",
                                                         dilations=rate)
                self.assertAllEqual(tape.gradient(mine, inputs),
                                    tape.gradient(reference_output, inputs))
