"""The two-stage generator (Sec. 3.3, Fig. 2): a coarse network at half resolution and a refine
network with attention (ACM) and multi-scale attention transfer (ATM).

Inputs are an image in [-1, 1] and a hole mask (1 = hole) of the same size; the generator zeroes
the hole itself, so what lies under it never matters. Outputs are the coarse prediction
(up-sampled to the input size), the refined prediction, both clipped to [-1, 1], and the
attention scores [B, cells, cells] that the CRA reuses at full resolution (Eq. 4).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from crainpaint.layers.attention import AttentionComputing, AttentionTransfer, grid_hole_mask
from crainpaint.layers.gated_conv import GatedUpsampleConv2D, LightWeightGatedConv2D
from crainpaint.models.config import GeneratorConfig

COARSE_DILATIONS = (1, 1, 1, 2, 2, 2, 2, 2, 4, 4, 4, 4, 8, 8)
REFINE_DILATIONS = (1, 2, 4, 8, 16)


def _resize(images, size, method="bilinear"):
    # tf.image.resize always returns float32; keep the layer's compute dtype (bf16 training).
    return tf.cast(tf.image.resize(images, size, method=method), images.dtype)


def _build_chain(layers, input_shape):
    """Builds ``layers`` (each fed the previous one's output) from shapes; returns the last
    output shape."""
    shape = tuple(input_shape)
    for layer in layers:
        layer.build(shape)
        shape = tuple(layer.compute_output_shape(shape))
    return shape


def _concatenated(first_shape, second_shape):
    """The shape of two feature maps concatenated along the channels."""
    return tuple(first_shape[:-1]) + (first_shape[-1] + second_shape[-1],)


@keras.saving.register_keras_serializable(package="crainpaint")
class CoarseNetwork(keras.Model):
    """Coarse stage: single-channel LWGC by default, at half the input resolution (Sec. 3.3)."""

    def __init__(self, config=None, **kwargs):
        super().__init__(**kwargs)
        config = config if isinstance(config, GeneratorConfig) else GeneratorConfig.from_dict(
            config or {})
        self.config = config
        gate = config.coarse_gate
        narrow, wide = config.channels(32), config.channels(64)

        initializer = config.initializer()

        def conv(filters, kernel=3, stride=1, dilation=1, name=None, activation="elu"):
            return LightWeightGatedConv2D(filters, kernel, stride, dilation, gate=gate,
                                          activation=activation, kernel_initializer=initializer,
                                          name=name)

        self.blocks = [conv(narrow, 5, 2, name="down1"), conv(narrow, name="conv1"),
                       conv(wide, 3, 2, name="down2")]
        self.blocks += [conv(wide, name=f"conv2_{index}") for index in range(3)]
        self.blocks += [conv(wide, dilation=rate, name=f"dilated_{index}")
                        for index, rate in enumerate(COARSE_DILATIONS)]
        self.blocks += [conv(wide, name=f"conv3_{index}") for index in range(3)]
        self.blocks += [
            GatedUpsampleConv2D(narrow, 3, gate=gate, kernel_initializer=initializer, name="up1"),
            conv(narrow, name="conv4"),
            GatedUpsampleConv2D(3, 3, gate=gate, activation=None, kernel_initializer=initializer,
                                name="to_rgb")]

    def build(self, input_shape):
        # Building each block from the shapes alone creates the weights without tracing call()
        # (what Keras does for a model without build()), which costs seconds at start-up.
        _build_chain(self.blocks, input_shape)

    def call(self, inputs):
        outputs = inputs
        for block in self.blocks:
            outputs = block(outputs)
        return tf.clip_by_value(outputs, -1.0, 1.0)

    def get_config(self):
        return {"config": self.config.to_dict(), "name": self.name}


@keras.saving.register_keras_serializable(package="crainpaint")
class RefineNetwork(keras.Model):
    """Refine stage: pixelwise LWGC by default, attention at the 1/8 bottleneck (Sec. 3.2-3.3).

    ``call((inputs, hole_grid))`` with inputs = [coarse composite, mask] → (image, scores).
    """

    def __init__(self, config=None, **kwargs):
        super().__init__(**kwargs)
        config = config if isinstance(config, GeneratorConfig) else GeneratorConfig.from_dict(
            config or {})
        self.config = config
        gate = config.refine_gate
        c1, c2, c3 = config.channels(32), config.channels(64), config.channels(128)

        initializer = config.initializer()

        def conv(filters, stride=1, dilation=1, name=None, activation="elu"):
            return LightWeightGatedConv2D(filters, 3, stride, dilation, gate=gate,
                                          activation=activation, kernel_initializer=initializer,
                                          name=name)

        def up(filters, name, activation="elu"):
            return GatedUpsampleConv2D(filters, 3, gate=gate, activation=activation,
                                       kernel_initializer=initializer, name=name)

        self.encoder_half = [conv(c1, 2, name="down1"), conv(c1, name="conv1")]
        self.encoder_quarter = [conv(c2, 2, name="down2"), conv(c2, name="conv2")]
        self.encoder_eighth = [conv(c3, 2, name="down3"), conv(c3, name="conv3")]
        self.dilated = [conv(c3, dilation=rate, name=f"dilated_{index}")
                        for index, rate in enumerate(REFINE_DILATIONS)]
        self.attention = AttentionComputing(
            softmax_scale=config.softmax_scale, fuse=config.fuse_attention,
            normalization=config.attention_normalization, name="acm")
        strides = config.transfer_strides()
        factor = config.transfer_patch_factor
        self.transfer_eighth, self.transfer_quarter, self.transfer_half = [
            AttentionTransfer(factor * stride, stride, name=f"atm_{level}")
            for stride, level in zip(strides, ("eighth", "quarter", "half"))]
        self.attended_conv = conv(c3, name="attended")
        self.merge_conv = conv(c3, name="merge")
        self.decoder_quarter = [up(c2, "up_quarter"), conv(c2, name="conv_quarter")]
        self.transfer_quarter_convs = [conv(c2, name="atm_quarter_conv1"),
                                       conv(c2, dilation=2, name="atm_quarter_conv2")]
        self.decoder_half = [up(c1, "up_half"), conv(c1, name="conv_half")]
        self.transfer_half_convs = [conv(c1, name="atm_half_conv1"),
                                    conv(c1, dilation=2, name="atm_half_conv2")]
        self.to_rgb = up(3, "to_rgb", activation=None)

    def build(self, input_shape):
        # Every gated conv built from its input shape, in call() order (see CoarseNetwork.build).
        features_shape = tuple(input_shape[0])
        half = _build_chain(self.encoder_half, features_shape)
        quarter = _build_chain(self.encoder_quarter, half)
        bottleneck = _build_chain(self.dilated, _build_chain(self.encoder_eighth, quarter))
        attended = _build_chain([self.attended_conv], bottleneck)
        outputs = _build_chain([self.merge_conv], _concatenated(attended, bottleneck))
        outputs = _build_chain(self.decoder_quarter, outputs)
        outputs = _concatenated(outputs, _build_chain(self.transfer_quarter_convs, quarter))
        outputs = _build_chain(self.decoder_half, outputs)
        outputs = _concatenated(outputs, _build_chain(self.transfer_half_convs, half))
        _build_chain([self.to_rgb], outputs)

    @staticmethod
    def _chain(layers, outputs):
        for layer in layers:
            outputs = layer(outputs)
        return outputs

    def call(self, inputs):
        features, hole_grid = inputs
        half = self._chain(self.encoder_half, features)
        quarter = self._chain(self.encoder_quarter, half)
        bottleneck = self._chain(self.dilated, self._chain(self.encoder_eighth, quarter))
        scores = self.attention(bottleneck, hole_grid)
        attended = self.attended_conv(self.transfer_eighth(bottleneck, scores, hole_grid))
        outputs = self.merge_conv(keras.ops.concatenate([attended, bottleneck], axis=-1))

        outputs = self._chain(self.decoder_quarter, outputs)
        transferred = self._chain(self.transfer_quarter_convs,
                                  self.transfer_quarter(quarter, scores, hole_grid))
        outputs = keras.ops.concatenate([outputs, transferred], axis=-1)

        outputs = self._chain(self.decoder_half, outputs)
        transferred = self._chain(self.transfer_half_convs,
                                  self.transfer_half(half, scores, hole_grid))
        outputs = keras.ops.concatenate([outputs, transferred], axis=-1)
        return tf.clip_by_value(self.to_rgb(outputs), -1.0, 1.0), scores

    def get_config(self):
        return {"config": self.config.to_dict(), "name": self.name}


@keras.saving.register_keras_serializable(package="crainpaint")
class Generator(keras.Model):
    """The whole generator G(x, m) of Sec. 3.3 and Algorithm 1.

    ``call((image, mask))`` with image [B, H, W, 3] in [-1, 1] and mask [B, H, W, 1] (1 = hole),
    H and W multiples of ``config.cell_size``; returns ``(coarse, refined, scores)``.
    """

    def __init__(self, config=None, **kwargs):
        kwargs.setdefault("name", "generator")
        super().__init__(**kwargs)
        config = config if isinstance(config, GeneratorConfig) else GeneratorConfig.from_dict(
            config or {})
        self.config = config
        self.coarse = CoarseNetwork(config, name="coarse")
        self.refine = RefineNetwork(config, name="refine")

    def call(self, inputs):
        image, mask = inputs
        mask = tf.cast(mask, image.dtype)
        known = image * (1.0 - mask)
        size = tf.shape(image)[1:3]
        coarse_input = _resize(keras.ops.concatenate([known, mask], axis=-1), size // 2)
        coarse = _resize(self.coarse(coarse_input), size)
        composite = coarse * mask + known
        cells = size // self.config.cell_size
        hole_grid = grid_hole_mask(mask, cells)
        refined, scores = self.refine(
            (keras.ops.concatenate([composite, mask], axis=-1), hole_grid))
        return coarse, refined, scores

    def build(self, input_shape):
        # The coarse stage sees [known image, mask] at half size, the refine stage [composite,
        # mask] and the hole grid; the weights depend on the channels only.
        image_shape = tuple(input_shape[0])
        batch, channels = image_shape[0], image_shape[-1] + 1
        self.coarse.build((batch, None, None, channels))
        self.refine.build(((batch, None, None, channels), (batch, None, None, 1)))

    def build_for_size(self, height=None, width=None):
        """Creates the weights (from the input shapes, without running the network); returns
        self. ``height`` and ``width`` (default ``config.input_size``) must be multiples of
        ``config.cell_size``; the weights do not depend on them."""
        height = height or self.config.input_size
        width = width or self.config.input_size
        cell = self.config.cell_size
        if height % cell or width % cell:
            raise ValueError(f"height and width must be multiples of the cell size {cell}, got "
                             f"{height}×{width}.")
        if not self.built:
            self.build(((None, height, width, 3), (None, height, width, 1)))
        return self

    def get_config(self):
        return {"config": self.config.to_dict(), "name": self.name}


def build_generator(config=None):
    """A built ``Generator`` for ``config`` (default: the paper's 2,722,791-parameter model)."""
    return Generator(config or GeneratorConfig()).build_for_size()
