"""Membrane interpolation for the Poisson seam of the CRA (an addition; not in the paper).

Pasting the CRA fill into the photo leaves a seam: along the hole's edge the fill (computed at
the network's resolution, up-sampled, plus the aggregated residual) does not meet the photo.
Gradient-domain compositing (Pérez et al., "Poisson Image Editing", 2003) removes it by keeping
the fill's gradients inside the hole and the photo's values on its boundary; the solution is the
fill plus the harmonic (membrane) interpolation of the boundary mismatch (Farbman et al.,
"Coordinates for Instant Image Cloning", 2009). ``membrane_interpolation`` approximates that
harmonic function with a pull-push pyramid (Gortler et al., "The Lumigraph", 1996) refined by
Jacobi steps on every level, in graph ops with dynamic shapes.
"""

from __future__ import annotations

import tensorflow as tf

# Levels of the pyramid: down to 1×1 for regions up to 2^16 pixels per side (levels past 1×1
# cost nothing; a larger region keeps a coarsest level above 1×1, still correct near the hole).
MAX_LEVELS = 16
# Jacobi steps of Laplace's equation on every level after the push.
DEFAULT_SMOOTHING_STEPS = 8


def boundary_ring(hole):
    """Known pixels 8-adjacent to the hole: the Dirichlet boundary of the seam. [H, W] bool."""
    # A 3 × 3 dilation as two 3-tap ORs of shifted slices on the bool map: the same pixels as a
    # 3 × 3 max pool of the map as floats, at a third of its time on a large box.
    padded = tf.pad(hole, [[1, 1], [1, 1]])
    rows = tf.logical_or(tf.logical_or(padded[:-2], padded[1:-1]), padded[2:])
    grown = tf.logical_or(tf.logical_or(rows[:, :-2], rows[:, 1:-1]), rows[:, 2:])
    return tf.logical_and(grown, tf.logical_not(hole))


def _neighbour_mean(values):
    """Mean of the 4 neighbours, edges replicated (a Neumann boundary at the border)."""
    padded = tf.pad(values, [[1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
    return 0.25 * (padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:])


def _pull(values, weights):
    """One level down: the weighted mean of every 2 × 2 block (padded with weight 0) and the
    block's weight, capped at 1."""
    height, width = tf.shape(values)[0], tf.shape(values)[1]
    half_height, half_width = (height + 1) // 2, (width + 1) // 2
    pad = [[0, 2 * half_height - height], [0, 2 * half_width - width]]
    weighted = tf.pad(values * weights[..., tf.newaxis], pad + [[0, 0]])
    weight_sums = tf.reduce_sum(
        tf.reshape(tf.pad(weights, pad), [half_height, 2, half_width, 2]), axis=[1, 3])
    value_sums = tf.reduce_sum(
        tf.reshape(weighted, [half_height, 2, half_width, 2, -1]), axis=[1, 3])
    return (tf.math.divide_no_nan(value_sums, weight_sums[..., tf.newaxis]),
            tf.minimum(weight_sums, 1.0))


def _push(values, weights, coarse, smoothing_steps):
    """One level up: the coarser solution up-sampled where ``weights`` leaves the value free,
    then Jacobi steps."""
    height, width = tf.shape(values)[0], tf.shape(values)[1]
    half_height, half_width = (height + 1) // 2, (width + 1) // 2
    up = tf.image.resize(coarse[tf.newaxis], tf.stack([2 * half_height, 2 * half_width]),
                         "bilinear")[0, :height, :width]
    pinned = weights[..., tf.newaxis]
    result = pinned * values + (1.0 - pinned) * up
    # Unrolled: the steps are traced once per graph (inside the loop over levels), and a graph
    # loop over them costs more per call than their few small ops.
    for _ in range(smoothing_steps):
        result = pinned * values + (1.0 - pinned) * _neighbour_mean(result)
    return result


def membrane_interpolation(values, weights, smoothing_steps=DEFAULT_SMOOTHING_STEPS,
                           levels=MAX_LEVELS):
    """A smooth [H, W, C] field equal to ``values`` where ``weights`` is 1 and approximately
    harmonic (Δf = 0) elsewhere, by pull-push with Jacobi smoothing.

    Args:
        values: float32 [H, W, C]; only read where ``weights`` > 0.
        weights: float32 [H, W] in [0, 1]; 1 pins the value, 0 leaves it free.
        smoothing_steps: Jacobi steps per pyramid level (more: closer to harmonic, slower).
        levels: pyramid levels; 1 + ⌈log2(longest side)⌉ reach 1×1 (fewer run faster).
    Returns:
        float32 [H, W, C]. A constant on the pinned pixels gives that constant everywhere.
    """
    values = tf.convert_to_tensor(values, tf.float32)
    weights = tf.convert_to_tensor(weights, tf.float32)
    # Graph loops over the levels, not Python recursion: the same ops in the same order, traced
    # and optimised once instead of once per level (unrolled, the pyramid was a third of the
    # CRA's graph and most of its first-call cost).
    channels = values.shape[-1]
    value_shape = tf.TensorShape([None, None, channels])
    pyramid_values = tf.TensorArray(tf.float32, size=levels, infer_shape=False,
                                    element_shape=value_shape)
    pyramid_weights = tf.TensorArray(tf.float32, size=levels, infer_shape=False,
                                     element_shape=tf.TensorShape([None, None]))

    def pull(level, values, weights, pyramid_values, pyramid_weights):
        coarse_values, coarse_weights = _pull(values, weights)
        coarse_values.set_shape(value_shape)  # The reshape in _pull loses the static channels.
        return (level + 1, coarse_values, coarse_weights, pyramid_values.write(level, values),
                pyramid_weights.write(level, weights))

    _, coarse, _, pyramid_values, pyramid_weights = tf.while_loop(
        lambda level, *_: level < levels, pull,
        (tf.constant(0), values, weights, pyramid_values, pyramid_weights),
        shape_invariants=(tf.TensorShape([]), value_shape, tf.TensorShape([None, None]),
                          tf.TensorShape(None), tf.TensorShape(None)))

    def push(level, coarse):
        level = level - 1
        return level, _push(pyramid_values.read(level), pyramid_weights.read(level), coarse,
                            smoothing_steps)

    return tf.while_loop(lambda level, _: level > 0, push, (tf.constant(levels), coarse),
                         shape_invariants=(tf.TensorShape([]), value_shape))[1]
