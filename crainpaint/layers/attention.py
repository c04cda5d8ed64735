"""Attention Computing Module (ACM, Sec. 3.2.1) and Attention Transfer Module (ATM, Sec. 3.2.2).

The ACM scores every in-hole patch of a high-level feature map against every context patch
(cosine similarity, Eq. 1; softmax, Eq. 2) on a coarse grid (32×32 in the paper). The ATM reuses
the same scores to fill the hole of lower-level feature maps with weighted context patches
(Eq. 3); the CRA reuses them once more on the full-resolution residual image (Eq. 4).

Scores are laid out as ``[batch, targets, sources]`` over the row-major flattened grid: row ``j``
holds the weights with which in-hole cell ``j`` aggregates the patches of every source cell.
"""

from __future__ import annotations

import keras
import tensorflow as tf

NORMALIZATIONS = ("paper", "author")


def grid_hole_mask(mask, grid_shape):
    """Max-pools a hole mask [B, H, W, 1] onto a grid: a cell is hole if any pixel in it is.

    H and W must be multiples of the grid's; the result is float32 [B, gh, gw, 1].
    """
    mask = tf.cast(mask, tf.float32)  # also bf16 under mixed precision
    grid_height, grid_width = grid_shape[0], grid_shape[1]
    shape = tf.shape(mask)
    cells = tf.reshape(mask, [shape[0], grid_height, shape[1] // grid_height,
                              grid_width, shape[2] // grid_width, 1])
    return tf.reduce_max(cells, axis=[2, 4])


def block_mean(features, grid_shape):
    """Averages [B, h, w, C] over the cells of a grid (h, w multiples of it): the ``area``
    down-sampling, written as a reshape so that it has a gradient (ResizeArea has none)."""
    shape = tf.shape(features)
    blocks = tf.reshape(features, [shape[0], grid_shape[0], shape[1] // grid_shape[0],
                                   grid_shape[1], shape[2] // grid_shape[1], features.shape[-1]])
    return tf.reduce_mean(blocks, axis=[2, 4])


def valid_source_mask(hole_grid, patch_size=3):
    """Grid cells whose patch_size×patch_size patch touches no hole cell (usable as sources)."""
    touching = tf.nn.max_pool2d(hole_grid, patch_size, 1, "SAME")
    return 1.0 - touching


def extract_patches(features, patch_size, stride):
    """Patches of ``patch_size`` at ``stride`` with 'same' padding → ([B, gh·gw, k·k·C], gh, gw).

    When ``patch_size`` is a multiple of ``stride`` and ``patch_size − stride`` is even (every
    use in this library; the map's sides must then be multiples of ``stride``), the gradient is
    ``fold_patches`` of the incoming gradient: extraction and folding are adjoint linear maps,
    and TensorFlow's own gradient of ExtractImagePatches is slower (``_fast_adjoint`` below).
    """
    shape = tf.shape(features)
    grid_height = (shape[1] + stride - 1) // stride
    grid_width = (shape[2] + stride - 1) // stride
    if not _has_fold(patch_size, stride):
        return _extract(features, patch_size, stride), grid_height, grid_width
    channels = features.shape[-1]

    @tf.custom_gradient
    def extract(features):
        def gradient(upstream):
            return _fold(upstream, grid_height, grid_width, patch_size, stride, channels)
        return _extract(features, patch_size, stride), gradient

    return extract(features), grid_height, grid_width


def fold_patches(patches, grid_height, grid_width, patch_size, stride, channels):
    """The adjoint of ``extract_patches`` (col2im): overlapping contributions are summed, so it
    inverts the extraction only for non-overlapping patches.

    Requires ``patch_size`` to be a multiple of ``stride``; the patch of cell g starts at
    ``g·stride − (patch_size − stride) // 2``, the placement of 'SAME' extraction. Its gradient
    is ``extract_patches`` of the incoming gradient (``_fast_adjoint``).
    """
    if not _has_fold(patch_size, stride):
        raise ValueError(f"fold_patches needs patch_size a multiple of stride with an even "
                         f"difference; got patch_size={patch_size}, stride={stride}.")

    @tf.custom_gradient
    def fold(patches):
        def gradient(upstream):
            return _extract(upstream, patch_size, stride)
        return _fold(patches, grid_height, grid_width, patch_size, stride, channels), gradient

    return fold(patches)


# _fast_adjoint: extract_patches and fold_patches are linear maps A and Aᵀ, so the gradient of
# each is the other applied to the incoming gradient. The gradients TensorFlow derives on its own
# are much slower on a CPU: the backward pass of the strided slices and 8-D transposes in _fold
# costs over twenty times its forward pass and would be nearly all of the refine network's
# largest ATM level (experiments/profile_generator.py shows the split of a training step).


def _has_fold(patch_size, stride):
    return patch_size % stride == 0 and (patch_size - stride) % 2 == 0


def _extract(features, patch_size, stride):
    patches = tf.image.extract_patches(
        features, sizes=[1, patch_size, patch_size, 1], strides=[1, stride, stride, 1],
        rates=[1, 1, 1, 1], padding="SAME")
    shape = tf.shape(patches)
    return tf.reshape(patches, [shape[0], shape[1] * shape[2], shape[3]])


def _fold(patches, grid_height, grid_width, patch_size, stride, channels):
    repeats = patch_size // stride
    pad = (patch_size - stride) // 2
    batch = tf.shape(patches)[0]
    height, width = grid_height * stride, grid_width * stride
    blocks = tf.reshape(patches, [batch, grid_height, grid_width, repeats, stride, repeats,
                                  stride, channels])
    total = None
    for block_row in range(repeats):
        for block_col in range(repeats):
            tile = blocks[:, :, :, block_row, :, block_col, :, :]
            tile = tf.transpose(tile, [0, 1, 3, 2, 4, 5])
            image = tf.reshape(tile, [batch, height, width, channels])
            image = _shift(image, block_row * stride - pad, block_col * stride - pad)
            total = image if total is None else total + image
    return total


def _shift(image, rows, cols):
    """Moves ``image`` by (rows, cols) pixels, zero-filling, keeping its size."""
    if rows == 0 and cols == 0:
        return image
    top, bottom = max(rows, 0), max(-rows, 0)
    left, right = max(cols, 0), max(-cols, 0)
    padded = tf.pad(image, [[0, 0], [top, bottom], [left, right], [0, 0]])
    size = tf.shape(image)
    return padded[:, bottom:bottom + size[1], right:right + size[2], :]


def fuse_scores(scores, grid_height, grid_width):
    """The author's "fuse" step: a 3×3 identity kernel convolved over the score matrix, twice.

    First along the row-major flattened order (horizontal neighbours: target j±1 with source
    i±1), then along the column-major order (vertical neighbours), so that a target scores high
    on a source whose neighbours also match its neighbours. Its gradient is the adjoint map,
    written out as in ``_fast_adjoint``: on a CPU, forward + backward on a 1024² score matrix
    take about a third of the time they take with the gradient TensorFlow derives.
    """
    @tf.custom_gradient
    def fuse(scores):
        def gradient(upstream):
            # fuse = T₂·D·T₁·D with D (diagonal sum) self-adjoint and T₂ = T₁⁻¹ = T₁ᵀ (grid
            # transposes), so its adjoint is D·T₂·D·T₁.
            adjoint = _transpose_grid(upstream, grid_height, grid_width)
            adjoint = _transpose_grid(_diagonal_sum(adjoint), grid_width, grid_height)
            return _diagonal_sum(adjoint)

        fused = _transpose_grid(_diagonal_sum(scores), grid_height, grid_width)
        return _transpose_grid(_diagonal_sum(fused), grid_width, grid_height), gradient

    return fuse(scores)


def _diagonal_sum(matrix):
    """out[j, i] = m[j − 1, i − 1] + m[j, i] + m[j + 1, i + 1] (zero outside): self-adjoint."""
    padded = tf.pad(matrix, [[0, 0], [1, 1], [1, 1]])
    size = tf.shape(matrix)[1]
    return padded[:, :size, :size] + padded[:, 1:size + 1, 1:size + 1] + padded[:, 2:, 2:]


def _transpose_grid(matrix, rows, cols):
    """Reorders both indices of [B, rows·cols, rows·cols] from row- to column-major."""
    batch = tf.shape(matrix)[0]
    grid = tf.reshape(matrix, [batch, rows, cols, rows, cols])
    grid = tf.transpose(grid, [0, 2, 1, 4, 3])
    return tf.reshape(grid, [batch, rows * cols, rows * cols])


def masked_softmax(logits, valid_sources):
    """Softmax over valid sources only (Eq. 2); a row without any valid source is all zeros.

    Args:
        logits: [B, T, S] float32.
        valid_sources: [B, 1, S] float32 in {0, 1}.
    """
    valid = valid_sources > 0.5
    valid = tf.broadcast_to(valid, tf.shape(logits))
    row_max = tf.reduce_max(tf.where(valid, logits, tf.float32.min), axis=-1, keepdims=True)
    # where() on both sides keeps exp() of masked entries finite, so neither the value nor the
    # gradient of a row without sources can become NaN.
    shifted = tf.where(valid, logits - row_max, tf.zeros_like(logits))
    exponentials = tf.where(valid, tf.exp(shifted), tf.zeros_like(logits))
    total = tf.reduce_sum(exponentials, axis=-1, keepdims=True)
    return exponentials / tf.maximum(total, 1e-30)


@keras.saving.register_keras_serializable(package="crainpaint")
class AttentionComputing(keras.layers.Layer):
    """ACM (Eq. 1-2): softmax-normalised cosine similarity of 3×3 patches on a coarse grid.

    ``call(features, hole_grid)``: features [B, h, w, C] are averaged over the cells of the
    grid of ``hole_grid`` [B, gh, gw, 1] (h, w multiples of gh, gw) (1 = the cell holds hole pixels); returns scores
    [B, gh·gw, gh·gw] (target, source), float32 whatever the compute dtype.

    Args:
        patch_size: side of the patches compared (3 in the paper).
        softmax_scale: logits are ``scale · similarity`` (10 in the author's code).
        fuse: apply the author's 3×3 "fuse" step to the similarities.
        normalization: ``"paper"`` normalises both patches (Eq. 1) and softmaxes over context
            patches only, so hole rows sum to 1 (Eq. 2). ``"author"`` reproduces the author's
            code: only sources are normalised, excluded sources get logit 0 inside the softmax
            and are zeroed after it, so rows sum to less than 1.
    """

    def __init__(self, patch_size=3, softmax_scale=10.0, fuse=True, normalization="paper",
                 **kwargs):
        super().__init__(**kwargs)
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"Unknown normalization {normalization!r}; expected one of "
                             f"{NORMALIZATIONS}.")
        if not isinstance(patch_size, int) or patch_size < 1 or patch_size % 2 == 0:
            raise ValueError(f"patch_size must be a positive odd int, got {patch_size!r}.")
        self.patch_size = patch_size
        self.softmax_scale = float(softmax_scale)
        self.fuse = bool(fuse)
        self.normalization = normalization

    def call(self, features, hole_grid):
        hole_grid = tf.cast(hole_grid, tf.float32)
        features = block_mean(tf.cast(features, tf.float32), tf.shape(hole_grid)[1:3])
        patches, grid_height, grid_width = extract_patches(features, self.patch_size, 1)
        norms = tf.sqrt(tf.maximum(tf.reduce_sum(tf.square(patches), -1, keepdims=True), 1e-8))
        sources = patches / norms
        targets = sources if self.normalization == "paper" else patches
        similarity = tf.matmul(targets, sources, transpose_b=True)
        if self.fuse:
            similarity = fuse_scores(similarity, grid_height, grid_width)
        batch = tf.shape(hole_grid)[0]
        valid = tf.reshape(valid_source_mask(hole_grid, self.patch_size), [batch, 1, -1])
        logits = self.softmax_scale * similarity
        if self.normalization == "paper":
            return masked_softmax(logits, valid)
        return tf.nn.softmax(logits * valid, axis=-1) * valid

    def compute_output_spec(self, features, hole_grid):
        cells = None
        if hole_grid.shape[1] is not None and hole_grid.shape[2] is not None:
            cells = hole_grid.shape[1] * hole_grid.shape[2]
        return keras.KerasTensor((features.shape[0], cells, cells), dtype="float32")

    def get_config(self):
        config = super().get_config()
        config.update(patch_size=self.patch_size, softmax_scale=self.softmax_scale,
                      fuse=self.fuse, normalization=self.normalization)
        return config


def aggregate_hole_cells(scores, patches, hole_rows):
    """Eq. 3's weighted sums ``Σ_i s_ji p_i`` for the hole cells j only; context rows are zero.

    Equal to ``matmul(scores, patches) * hole_rows`` but computes only the rows that are kept:
    one sample at a time, it gathers the K hole rows of the scores, multiplies [K, N] by
    [N, D] and scatters the result back, so a hole covering a third of the grid costs a third
    of the full product (forward and backward).

    Args:
        scores: [B, N, N] (target, source), in the dtype of ``patches``.
        patches: [B, N, D].
        hole_rows: [B, N] bool, true for hole cells.
    """
    def one_sample(sample):
        sample_scores, sample_patches, sample_holes = sample
        rows = tf.where(sample_holes)  # [K, 1]
        sums = tf.matmul(tf.gather_nd(sample_scores, rows), sample_patches)
        return tf.scatter_nd(rows, sums, tf.shape(sample_patches, out_type=tf.int64))

    return tf.map_fn(one_sample, (scores, patches, hole_rows),
                     fn_output_signature=tf.TensorSpec(patches.shape[1:], patches.dtype))


@keras.saving.register_keras_serializable(package="crainpaint")
class AttentionTransfer(keras.layers.Layer):
    """ATM (Eq. 3): fills the hole cells of a feature map with score-weighted context patches.

    ``call(features, scores, hole_grid)``: the map [B, h, w, C] is cut into patches of
    ``patch_size`` at ``stride`` (one per grid cell, so h = gh·stride); every hole cell j gets
    ``Σ_i s_ij p_i`` folded back (overlaps summed, not normalised: Sec. 3.2.2 says the following
    layers adapt); pixels of context cells are returned unchanged.

    Args:
        patch_size: side of the transferred patches (≥ stride, a multiple of it).
        stride: pixels per grid cell at this level.
    """

    def __init__(self, patch_size, stride, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(stride, int) or stride < 1:
            raise ValueError(f"stride must be a positive int, got {stride!r}.")
        if not isinstance(patch_size, int) or patch_size < stride or patch_size % stride:
            raise ValueError(f"patch_size must be a multiple of stride ({stride}) and at least "
                             f"as large, so patches cover every pixel; got {patch_size!r}.")
        if (patch_size - stride) % 2:
            raise ValueError(f"patch_size - stride must be even so patches are centred on their "
                             f"cells; got patch_size={patch_size}, stride={stride}.")
        self.patch_size = patch_size
        self.stride = stride

    def call(self, features, scores, hole_grid):
        channels = features.shape[-1]
        patches, grid_height, grid_width = extract_patches(features, self.patch_size, self.stride)
        batch = tf.shape(features)[0]
        hole_rows = tf.reshape(hole_grid, [batch, -1]) > 0.5
        aggregated = aggregate_hole_cells(tf.cast(scores, features.dtype), patches, hole_rows)
        filled = fold_patches(aggregated, grid_height, grid_width, self.patch_size, self.stride,
                              channels)
        hole_pixels = tf.repeat(tf.repeat(tf.cast(hole_grid, features.dtype), self.stride, 1),
                                self.stride, 2)
        return features * (1.0 - hole_pixels) + filled * hole_pixels

    def compute_output_spec(self, features, scores, hole_grid):
        return keras.KerasTensor(features.shape, dtype=features.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(patch_size=self.patch_size, stride=self.stride)
        return config
