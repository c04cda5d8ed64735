"""How concentrated the ACM's attention is over the hole cells (Sec. 3.2.1, Eq. 2).

Each hole cell j aggregates context patches and, in the CRA (Eq. 4), context residuals with the
weights ``s_j·`` of its row of the score matrix. When a row spreads its mass over many sources
the aggregated residuals cancel and the fill is smooth; when it puts most of it on one source
the fill copies that source's texture. Two numbers per row describe this:

* ``effective_sources``: ``exp(H)`` with ``H = −Σ_i p_i ln p_i`` the Shannon entropy of the row
  normalised to sum to 1 (the perplexity): 1 for a one-hot row, n for a row uniform over n
  sources, and in between it counts the sources that carry the weight.
* ``top_weight``: the largest normalised weight ``max_i p_i``: 1 for a one-hot row, 1/n for a
  uniform row.

Rows are normalised by their own sum because the author's ACM normalisation (and any top-k or
sharpening later) leaves rows that sum to less than 1; rows that sum to 0 (a hole cell without
any usable source) are skipped.

``attention_statistics`` works on the numpy rows of one photo (``crainpaint.cra.hole_attention``
gives them); ``attention_statistics_tf`` is its TensorFlow twin for the score tensors of a
training batch, and ``attention_statistic_sums_tf`` the sums and count behind it, which a
distributed step needs to average over the hole cells of the global batch.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from crainpaint.layers.attention import valid_source_mask


def attention_statistics(weights):
    """Concentration of the attention rows of the hole cells of one photo.

    Args:
        weights: [K, N] non-negative array: row k holds the weights with which hole cell k
            aggregates the N grid cells, zero for sources it cannot use. Rows need not sum to 1.

    Returns:
        A dict with the per-row float64 arrays ``effective_sources`` and ``top_weight`` (one
        entry per row with a positive sum, in row order), the float summaries
        ``median_effective_sources``, ``median_top_weight``, ``mean_effective_sources`` and
        ``mean_top_weight`` (NaN when no row is used), and ``hole_cells``, the number of rows
        used.

    Raises:
        ValueError: ``weights`` is not 2-D, or holds a negative or non-finite value.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2:
        raise ValueError(f"weights must be [hole cells, sources], got shape {weights.shape}.")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("weights must be finite and non-negative (attention scores after the "
                         "softmax), got a value outside [0, inf).")
    totals = weights.sum(axis=1)
    used = totals > 0
    probabilities = weights[used] / totals[used, np.newaxis]
    # 0 · ln 0 = 0: the logarithm of 1 stands in for the zero weights.
    logarithms = np.log(np.where(probabilities > 0, probabilities, 1.0))
    effective_sources = np.exp(-np.sum(probabilities * logarithms, axis=1))
    top_weight = (probabilities.max(axis=1) if len(probabilities)
                  else np.zeros([0], np.float64))

    def summary(function, values):
        return float(function(values)) if len(values) else float("nan")

    return {
        "effective_sources": effective_sources,
        "top_weight": top_weight,
        "median_effective_sources": summary(np.median, effective_sources),
        "median_top_weight": summary(np.median, top_weight),
        "mean_effective_sources": summary(np.mean, effective_sources),
        "mean_top_weight": summary(np.mean, top_weight),
        "hole_cells": int(used.sum()),
    }


def attention_statistic_sums_tf(scores, hole_grid):
    """Sums of both statistics over the hole cells of a batch, and their count.

    Args:
        scores: [B, N, N] (target, source) attention scores over the row-major flattened grid
            of ``hole_grid``, any float dtype (computed in float32).
        hole_grid: [B, gh, gw, 1] with 1 for hole cells (``grid_hole_mask``), N = gh·gw.

    Returns:
        A dict of float32 scalars: ``effective_sources`` and ``top_weight``, the sums over the
        used rows, and ``hole_cells``, the number of used rows (hole cells whose row has a
        positive sum over the usable sources of ``valid_source_mask``).
    """
    scores = tf.cast(scores, tf.float32)
    hole_grid = tf.cast(hole_grid, tf.float32)
    batch = tf.shape(hole_grid)[0]
    usable = tf.reshape(valid_source_mask(hole_grid), [batch, -1])
    hole_rows = tf.reshape(hole_grid, [batch, -1]) > 0.5
    # Only the K hole rows of the whole batch: [K, N].
    positions = tf.where(hole_rows)
    rows = tf.maximum(tf.gather_nd(scores, positions), 0.0) * tf.gather(usable, positions[:, 0])
    totals = tf.reduce_sum(rows, axis=1, keepdims=True)
    probabilities = tf.math.divide_no_nan(rows, totals)
    entropy = -tf.reduce_sum(tf.math.xlogy(probabilities, probabilities), axis=1)
    used = tf.cast(totals[:, 0] > 0.0, tf.float32)
    return {
        "effective_sources": tf.reduce_sum(tf.exp(entropy) * used),
        "top_weight": tf.reduce_sum(tf.reduce_max(probabilities, axis=1) * used),
        "hole_cells": tf.reduce_sum(used),
    }


def attention_statistics_tf(scores, hole_grid):
    """The means of ``effective_sources`` and ``top_weight`` over the hole cells of a batch.

    The TensorFlow twin of ``attention_statistics``: every hole cell of every batch item counts
    once (a mean over cells, not over items); usable in a ``tf.function``.

    Args:
        scores: [B, N, N] (target, source) attention scores, any float dtype.
        hole_grid: [B, gh, gw, 1] with 1 for hole cells (``grid_hole_mask``), N = gh·gw.

    Returns:
        A dict of float32 scalars ``effective_sources`` and ``top_weight``; both 0 when the
        batch has no hole cell with a usable source.
    """
    sums = attention_statistic_sums_tf(scores, hole_grid)
    return {name: tf.math.divide_no_nan(sums[name], sums["hole_cells"])
            for name in ("effective_sources", "top_weight")}
