"""The attention modules (ACM, ATM) in ops that every runtime has: the export's variants.

``AttentionComputing`` and ``AttentionTransfer`` use ``ExtractImagePatches``, an 8-D strided
slice in the fold and a ``map_fn`` that gathers and scatters the hole rows: fast to train in
TensorFlow, but TFLite/LiteRT has none of them as built-in ops and ONNX converters handle the
``map_fn`` loop poorly. The layers here compute the same functions (Eq. 1-3) with:

* patches by shifted ``space_to_depth``: a patch of ``r × stride`` pixels at ``stride`` is the
  r × r blocks of ``stride × stride`` pixels of a space-to-depth map, read at r × r shifts, so
  the patch vector is the concatenation of shifted 4-D slices (its entries are ordered by block,
  not by pixel row as ExtractImagePatches orders them; the fold below reads the same order, and
  the similarities of the ACM do not depend on it);
* the fold (col2im) as ``depth_to_space`` of each block's channels, shifted by padding and
  slicing 4-D maps;
* the grid pooling of the hole mask and the features as ``max_pool2d`` / ``avg_pool2d``;
* the weighted sums of Eq. 3 as one matmul of the scores with all patches, zeroed on context rows
  (the hole-rows-only product of ``aggregate_hole_cells`` is the same numbers, computed faster);
* the hole paste as a float blend, the hole grid brought to pixels by ``depth_to_space``.

They carry no weights, so a generator with these layers in place of the originals
(``crainpaint.exporters.portable_generator``) computes the same outputs with the same weights.
Shapes must be static (the export traces at a fixed size); ``tests/test_export_formats.py``
checks equality with the original layers.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from crainpaint.layers.attention import (AttentionComputing, AttentionTransfer, fuse_scores,
                                         masked_softmax)


def pooled_hole_grid(mask, grid_shape):
    """``grid_hole_mask`` as a max-pool: a grid cell is hole if any of its pixels is.

    Args:
        mask: [B, H, W, 1] hole mask, H and W static multiples of ``grid_shape``.
        grid_shape: (grid_height, grid_width) as Python ints.
    Returns:
        float32 [B, gh, gw, 1].
    """
    block = _block_shape(mask, grid_shape)
    return tf.nn.max_pool2d(tf.cast(mask, tf.float32), block, block, "VALID")


def _block_shape(features, grid_shape):
    height, width = features.shape[1], features.shape[2]
    if height is None or width is None or height % grid_shape[0] or width % grid_shape[1]:
        raise ValueError(f"The portable attention needs a static feature map whose sides are "
                         f"multiples of the grid {tuple(grid_shape)}; got {features.shape}. "
                         "Trace the generator at a fixed input size.")
    return [height // grid_shape[0], width // grid_shape[1]]


def shifted_patches(features, patch_size, stride):
    """Patches of ``patch_size`` at ``stride`` with 'SAME' placement, block-ordered.

    Args:
        features: [B, H, W, C] with static H, W, C; H and W multiples of ``stride``.
        patch_size: a multiple of ``stride`` (r = patch_size / stride blocks per side).
        stride: pixels per grid cell.
    Returns:
        [B, gh, gw, r·r·stride·stride·C]: for grid cell g, the r × r blocks of the patch centred
        on g as ExtractImagePatches places it ('SAME', starting (patch_size − stride) // 2
        pixels before g·stride), block (a, b) at channels [(a·r + b)·s²C, (a·r + b + 1)·s²C),
        each block in ``space_to_depth`` order (row, column, channel).
    """
    repeats = patch_size // stride
    height, width = features.shape[1], features.shape[2]
    grid_height, grid_width = height // stride, width // stride
    before = (patch_size - stride) // 2
    after = (repeats - 1) * stride - before
    padded = tf.pad(features, [[0, 0], [before, after], [before, after], [0, 0]])
    blocks = tf.nn.space_to_depth(padded, stride) if stride > 1 else padded
    shifted = [blocks[:, row:row + grid_height, col:col + grid_width, :]
               for row in range(repeats) for col in range(repeats)]
    return tf.concat(shifted, axis=-1) if len(shifted) > 1 else shifted[0]


def fold_shifted_patches(patches, patch_size, stride, channels):
    """The adjoint of ``shifted_patches``: each block put back at its pixels, overlaps summed.

    Args:
        patches: [B, gh, gw, r·r·s·s·C] in the order of ``shifted_patches``.
        patch_size, stride, channels: as for ``shifted_patches``.
    Returns:
        [B, gh·s, gw·s, C].
    """
    repeats = patch_size // stride
    before = (patch_size - stride) // 2
    block_channels = stride * stride * channels
    total = None
    for row in range(repeats):
        for col in range(repeats):
            index = row * repeats + col
            block = patches[..., index * block_channels:(index + 1) * block_channels]
            image = tf.nn.depth_to_space(block, stride) if stride > 1 else block
            image = _shift(image, row * stride - before, col * stride - before)
            total = image if total is None else total + image
    return total


def _shift(image, rows, cols):
    """Moves [B, H, W, C] by (rows, cols) pixels (static), zeros entering, the size kept."""
    height, width = image.shape[1], image.shape[2]
    padded = tf.pad(image, [[0, 0], [max(rows, 0), max(-rows, 0)],
                            [max(cols, 0), max(-cols, 0)], [0, 0]])
    top, left = max(-rows, 0), max(-cols, 0)
    return padded[:, top:top + height, left:left + width, :]


@keras.saving.register_keras_serializable(package="crainpaint")
class PortableAttentionComputing(AttentionComputing):
    """``AttentionComputing`` (Eq. 1-2) in built-in ops (module docstring); same arguments."""

    def call(self, features, hole_grid):
        hole_grid = tf.cast(hole_grid, tf.float32)
        grid_shape = (hole_grid.shape[1], hole_grid.shape[2])
        block = _block_shape(features, grid_shape)
        features = tf.nn.avg_pool2d(tf.cast(features, tf.float32), block, block, "VALID")
        batch = tf.shape(features)[0]
        cells = grid_shape[0] * grid_shape[1]
        patches = tf.reshape(shifted_patches(features, self.patch_size, 1), [batch, cells, -1])
        norms = tf.sqrt(tf.maximum(tf.reduce_sum(tf.square(patches), -1, keepdims=True), 1e-8))
        sources = patches / norms
        targets = sources if self.normalization == "paper" else patches
        similarity = tf.matmul(targets, sources, transpose_b=True)
        if self.fuse:
            similarity = fuse_scores(similarity, grid_shape[0], grid_shape[1])
        touching = tf.nn.max_pool2d(hole_grid, self.patch_size, 1, "SAME")
        valid = tf.reshape(1.0 - touching, [batch, 1, cells])
        logits = self.softmax_scale * similarity
        if self.normalization == "paper":
            return masked_softmax(logits, valid)
        return tf.nn.softmax(logits * valid, axis=-1) * valid


@keras.saving.register_keras_serializable(package="crainpaint")
class PortableAttentionTransfer(AttentionTransfer):
    """``AttentionTransfer`` (Eq. 3) in built-in ops (module docstring); same arguments."""

    def call(self, features, scores, hole_grid):
        channels = features.shape[-1]
        patches = shifted_patches(features, self.patch_size, self.stride)
        grid_height, grid_width, depth = patches.shape[1], patches.shape[2], patches.shape[3]
        batch = tf.shape(features)[0]
        hole_grid = tf.cast(hole_grid, features.dtype)
        hole_rows = tf.reshape(hole_grid, [batch, grid_height * grid_width, 1])
        aggregated = tf.matmul(tf.cast(scores, features.dtype),
                               tf.reshape(patches, [batch, grid_height * grid_width, depth]))
        aggregated = tf.reshape(aggregated * hole_rows, [batch, grid_height, grid_width, depth])
        filled = fold_shifted_patches(aggregated, self.patch_size, self.stride, channels)
        # Every pixel takes its cell's value: the cell's value in all stride² channels, moved
        # to space (a 4-D op in every runtime, where tf.repeat and nearest resizing are not).
        hole_pixels = hole_grid
        if self.stride > 1:
            hole_pixels = tf.nn.depth_to_space(
                tf.tile(hole_grid, [1, 1, 1, self.stride * self.stride]), self.stride)
        return features * (1.0 - hole_pixels) + filled * hole_pixels
