"""Exports the bare network as an ONNX file or a LiteRT (TFLite) flat buffer.

Both files hold the generator at its input size S (512 for the paper's model) with batch 1:

* inputs ``image`` float32 [1, S, S, 3] in [−1, 1] and ``mask`` float32 [1, S, S, 1] (1 = hole;
  the network zeroes the hole itself);
* outputs ``refined`` float32 [1, S, S, 3] in [−1, 1], the refine network's prediction, and
  ``scores`` float32 [1, cells, cells] (cells = grid², the attention of Eq. 2, row = target
  cell, column = source cell), what the CRA reads at full resolution.

The coarse prediction, the generator's first output, is left out: nothing after the network
reads it (the CRA pastes the refined output), and it would add S² · 3 floats to every call.

The network is traced with the attention layers of ``crainpaint.layers.portable_attention``
(same weights, same functions, built-in ops only), so LiteRT converts it without TF "select"
ops and both runtimes execute it. ``crainpaint.portable`` turns either file into a
full-resolution inpainter without TensorFlow. Files are written beside their final name and
renamed into place, so a reader never sees half a model.
"""

from __future__ import annotations

import os
import uuid

import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from crainpaint.layers.portable_attention import (PortableAttentionComputing,
                                                  PortableAttentionTransfer)
from crainpaint.models.generator import Generator

FORMATS = ("saved_model", "onnx", "tflite")
# Opset 17 is supported by every onnxruntime release since 1.11.
ONNX_OPSET = 17
INPUT_NAMES = ("image", "mask")
OUTPUT_NAMES = ("refined", "scores")
_TRANSFER_LAYERS = ("transfer_eighth", "transfer_quarter", "transfer_half")


def network_file_name(input_size, file_format):
    """``crainpaint_<S>.onnx`` or ``crainpaint_<S>.tflite``."""
    if file_format not in ("onnx", "tflite"):
        raise ValueError(f"No single-file format {file_format!r}; expected 'onnx' or 'tflite' "
                         "(saved_model is written by crainpaint.export.export_saved_model).")
    return f"crainpaint_{input_size}.{file_format}"


def portable_generator(generator):
    """A copy of ``generator`` whose ACM and ATM layers are the portable ones, same weights.

    Args:
        generator: a built ``crainpaint.models.Generator``.
    Returns:
        A new ``Generator`` built at its input size; its outputs equal the original's up to
        float rounding (the attention layers carry no weights, the rest is shared by value).
    """
    clone = Generator(generator.config, name=generator.name)
    refine, original = clone.refine, generator.refine
    refine.attention = PortableAttentionComputing.from_config(original.attention.get_config())
    for name in _TRANSFER_LAYERS:
        setattr(refine, name, PortableAttentionTransfer.from_config(
            getattr(original, name).get_config()))
    clone.build_for_size()
    clone.set_weights(generator.get_weights())
    return clone


def network_function(generator):
    """The portable network as a ``tf.function`` of (image, mask) → {refined, scores} at
    the generator's input size, batch 1."""
    clone = portable_generator(generator)
    size = generator.config.input_size

    @tf.function(input_signature=[
        tf.TensorSpec([1, size, size, 3], tf.float32, name=INPUT_NAMES[0]),
        tf.TensorSpec([1, size, size, 1], tf.float32, name=INPUT_NAMES[1])])
    def network(image, mask):
        _, refined, scores = clone((image, mask), training=False)
        return {OUTPUT_NAMES[0]: tf.cast(refined, tf.float32),
                OUTPUT_NAMES[1]: tf.cast(scores, tf.float32)}

    return network


def tflite_bytes(generator):
    """The network as a LiteRT flat buffer with built-in ops only (float32 weights)."""
    network = network_function(generator)
    # Weights frozen into constants first: converted from the Keras variables directly, the
    # flat buffer keeps READ_VARIABLE ops whose variables LiteRT never initialises.
    frozen = convert_variables_to_constants_v2(network.get_concrete_function())

    # Traced again around the frozen graph, and given a (variable-free) module to save it
    # through, so that the flat buffer keeps the named signature ``serving_default``.
    @tf.function(input_signature=network.input_signature)
    def frozen_network(image, mask):
        # The frozen function returns the outputs flattened, in the dict's sorted key order.
        outputs = frozen(image=image, mask=mask)
        return dict(zip(sorted(OUTPUT_NAMES), outputs))

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [frozen_network.get_concrete_function()], tf.Module())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return converter.convert()


def onnx_bytes(generator):
    """The network as a serialised ONNX model (opset ``ONNX_OPSET``)."""
    try:
        import tf2onnx
    except ImportError as error:
        raise ImportError("The ONNX export needs tf2onnx: pip install 'crainpaint[export]' "
                          "(or `make install`).") from error
    network = network_function(generator)
    model, _ = tf2onnx.convert.from_function(
        network, input_signature=network.input_signature, opset=ONNX_OPSET)
    _rename_outputs(model, network)
    return model.SerializeToString()


def _rename_outputs(model, network):
    """Names the graph outputs ``refined`` and ``scores``: tf2onnx names them after the traced
    tensors, which ``tf.function`` lists in the sorted key order of the returned dict."""
    renames = dict(zip((tensor.name for tensor in network.get_concrete_function().outputs),
                       sorted(OUTPUT_NAMES)))
    for output in model.graph.output:
        if output.name not in renames:
            continue
        old, output.name = output.name, renames[output.name]
        for node in model.graph.node:
            node.output[:] = [output.name if name == old else name for name in node.output]
            node.input[:] = [output.name if name == old else name for name in node.input]


def export_network(generator, export_dir, file_format):
    """Writes the network as ``export_dir/crainpaint_<S>.<onnx|tflite>``; returns its path.

    Args:
        generator: a built ``crainpaint.models.Generator``.
        export_dir: the folder (created if missing); an existing file of that name is replaced.
        file_format: ``"onnx"`` or ``"tflite"``.
    """
    path = os.path.join(export_dir, network_file_name(generator.config.input_size,
                                                      file_format))
    data = onnx_bytes(generator) if file_format == "onnx" else tflite_bytes(generator)
    write_atomically(path, data)
    return path


def write_atomically(path, data):
    """Writes ``data`` to a hidden temporary file beside ``path`` and renames it into place."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
