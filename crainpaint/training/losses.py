"""Training losses of the paper (Sec. 3.5.1, Eq. 9-14), one value per example.

Every function returns a float32 vector ``[batch]`` of per-example losses so a distributed step
can average it over the GLOBAL batch with ``tf.nn.compute_average_loss(per_example,
global_batch_size=...)`` (each replica sums its share and divides by the global batch size, the
gradients of all replicas are then summed: the result equals the single-device mean). Inputs in
bfloat16 (mixed precision) are cast to float32 first.

Notation (paper Sec. 3.5.3): images in [-1, 1], mask ``m`` = 1 in the hole, 0 in the context,
``G(x, m)`` the generator output (coarse, up-sampled to the input size, and refined), and the
composite ``x̃ = G(x, m) ⊙ m + x ⊙ (1 − m)`` that the critic sees.

* Eq. 9, critic (WGAN-GP, Gulrajani et al. 2017):
  ``L_d = D(x̃) − D(x) + σ (‖∇_x̂ D(x̂)‖₂ − 1)²`` with ``x̂ = (1 − α) x + α x̃``, α ~ U[0, 1] per
  example: ``wgan_gp_critic_loss`` (+ ``gradient_penalty``). σ is not given in the paper; the
  author's code uses 10 (``DEFAULT_GRADIENT_PENALTY_WEIGHT``).
* Eq. 10, generator adversarial term: ``L_adv = −D(x̃)``: ``wgan_generator_loss``.
* Eq. 11-13, reconstruction: ``L_rec = α1 |G − x| ⊙ m + α2 |G − x| ⊙ (1 − m)``, α1 = 1 (hole),
  α2 = 1.2 (context), applied to BOTH the coarse and the refined output and summed:
  ``reconstruction_loss``.
* Eq. 14: ``L_g = L_rec + β L_adv`` with β = 1e-4 (``DEFAULT_ADVERSARIAL_WEIGHT``; the author's code
  uses 1e-3, the paper 1e-4).

The normalisation of Eq. 11-12 is not stated in the paper and changes the effective in-hole weight
4-10× for 10-25 % holes, so it is a parameter (see ``reconstruction_loss_terms``):

* ``"per_pixel"`` (default): the in-hole term is the mean absolute error over the hole pixels
  (and channels) of the example, the context term the mean over its context pixels. Both terms
  are then on the same scale (a mean L1 in [0, 2]) whatever the hole size.
* ``"author"``: the author's code: in-hole term ``mean(|x − G| · m)`` over ALL pixels (so it is the
  per-pixel hole error times the hole fraction), context term ``mean(|x − G| · (1 − m)) /
  mean(1 − m)`` (which equals the per-pixel context mean). Means are per example here.

An example without hole pixels (or without context pixels) contributes 0 to that term.
"""

from __future__ import annotations

import tensorflow as tf

RECONSTRUCTION_NORMALIZATIONS = ("per_pixel", "author")
DEFAULT_HOLE_WEIGHT = 1.0  # α1 of Eq. 13.
DEFAULT_CONTEXT_WEIGHT = 1.2  # α2 of Eq. 13.
DEFAULT_ADVERSARIAL_WEIGHT = 1e-4  # β of Eq. 14.
DEFAULT_GRADIENT_PENALTY_WEIGHT = 10.0  # σ of Eq. 9 (the author's value; the paper gives none).


def _float32(tensor):
    return tf.cast(tensor, tf.float32)


def _per_example(scores):
    """[B] or [B, 1] critic scores → float32 [B]."""
    scores = _float32(scores)
    return tf.reshape(scores, [tf.shape(scores)[0]])


def wgan_gp_critic_loss(real_scores, fake_scores, penalty=None,
                        penalty_weight=DEFAULT_GRADIENT_PENALTY_WEIGHT):
    """Eq. 9 per example: ``D(x̃) − D(x)`` (+ ``penalty_weight · penalty`` when given).

    Args:
        real_scores: critic scores of real images, [B] or [B, 1].
        fake_scores: critic scores of the pasted-back composites, [B] or [B, 1].
        penalty: optional per-example gradient penalty [B] (``gradient_penalty``).
        penalty_weight: σ of Eq. 9.

    Returns:
        float32 [B]. Minimising it makes the critic score real images higher than composites.
    """
    loss = _per_example(fake_scores) - _per_example(real_scores)
    if penalty is not None:
        loss += penalty_weight * _float32(penalty)
    return loss


def wgan_generator_loss(fake_scores):
    """Eq. 10 per example: ``L_adv = −D(x̃)``, float32 [B]."""
    return -_per_example(fake_scores)


def interpolate(real, fake, interpolation_weights):
    """``x̂ = (1 − α) x + α x̃`` (Algorithm 1) with one α per example.

    Args:
        real, fake: [B, H, W, C].
        interpolation_weights: α, [B] (or broadcastable to [B, 1, 1, 1]), usually U[0, 1].
    """
    real, fake = _float32(real), _float32(fake)
    alpha = tf.reshape(_float32(interpolation_weights), [-1, 1, 1, 1])
    return (1.0 - alpha) * real + alpha * fake


def gradient_penalty(critic, real, fake, interpolation_weights):
    """The penalty of Eq. 9 per example: ``(‖∇_x̂ D(x̂)‖₂ − 1)²`` (unweighted).

    WGAN-GP keeps the critic 1-Lipschitz softly: the optimal critic has gradient norm 1 on the
    lines between real and generated samples, so the norm is pushed towards 1 at random points
    x̂ of those lines. Computed with an inner tape, so an outer tape over the critic's variables
    differentiates through it (second-order gradients).

    Args:
        critic: a callable ``critic(images) → [B] or [B, 1]`` scores.
        real: real images [B, H, W, C].
        fake: composites [B, H, W, C] (no gradient flows into them).
        interpolation_weights: α [B] in [0, 1] (``x̂ = (1 − α) x + α x̃``).

    Returns:
        float32 [B].
    """
    interpolates = interpolate(real, tf.stop_gradient(fake), interpolation_weights)
    with tf.GradientTape() as tape:
        tape.watch(interpolates)
        scores = _float32(critic(interpolates))
        total = tf.reduce_sum(scores)  # Examples are independent: d(sum)/dx̂_i = dD(x̂_i)/dx̂_i.
    gradients = tape.gradient(total, interpolates)
    squared = tf.reduce_sum(tf.square(gradients), axis=[1, 2, 3])
    # The epsilon keeps the square root differentiable where the gradient vanishes.
    norms = tf.sqrt(squared + 1e-12)
    return tf.square(norms - 1.0)


def _mean_over(values, weights):
    """Σ(values·weights) / Σ(weights) per example over [H, W, C]; 0 where the weights sum to 0."""
    channels = tf.cast(tf.shape(values)[-1], tf.float32)
    numerator = tf.reduce_sum(values * weights, axis=[1, 2, 3])
    denominator = tf.reduce_sum(weights, axis=[1, 2, 3]) * channels
    return tf.math.divide_no_nan(numerator, denominator)


def _l1_terms(target, prediction, mask, normalization):
    error = tf.abs(_float32(prediction) - target)
    hole, context = mask, 1.0 - mask
    if normalization == "per_pixel":
        return _mean_over(error, hole), _mean_over(error, context)
    # The author's: in-hole mean over all pixels; context mean divided by the context fraction.
    hole_term = tf.reduce_mean(error * hole, axis=[1, 2, 3])
    context_fraction = tf.reduce_mean(context, axis=[1, 2, 3])
    context_term = tf.math.divide_no_nan(tf.reduce_mean(error * context, axis=[1, 2, 3]),
                                         context_fraction)
    return hole_term, context_term


def reconstruction_loss_terms(target, coarse, refined, mask, normalization="per_pixel"):
    """The four unweighted L1 terms of Eq. 11-12, per example.

    Args:
        target: the real images x, [B, H, W, 3] in [-1, 1].
        coarse: the coarse output already up-sampled to [B, H, W, 3].
        refined: the refined output [B, H, W, 3].
        mask: [B, H, W, 1], 1 = hole.
        normalization: ``"per_pixel"`` or ``"author"`` (see the module docstring).

    Returns:
        dict of float32 [B]: ``coarse_hole``, ``coarse_context``, ``refined_hole``,
        ``refined_context``.
    """
    if normalization not in RECONSTRUCTION_NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {RECONSTRUCTION_NORMALIZATIONS}, got "
                         f"{normalization!r}.")
    target, mask = _float32(target), _float32(mask)
    coarse_hole, coarse_context = _l1_terms(target, coarse, mask, normalization)
    refined_hole, refined_context = _l1_terms(target, refined, mask, normalization)
    return {"coarse_hole": coarse_hole, "coarse_context": coarse_context,
            "refined_hole": refined_hole, "refined_context": refined_context}


def reconstruction_loss(target, coarse, refined, mask, hole_weight=DEFAULT_HOLE_WEIGHT,
                        context_weight=DEFAULT_CONTEXT_WEIGHT, normalization="per_pixel"):
    """Eq. 13 on both outputs, per example: Σ over {coarse, refined} of α1·L_hole + α2·L_context.

    Args: see ``reconstruction_loss_terms``; ``hole_weight`` = α1, ``context_weight`` = α2.

    Returns:
        float32 [B].
    """
    terms = reconstruction_loss_terms(target, coarse, refined, mask, normalization)
    return (hole_weight * (terms["coarse_hole"] + terms["refined_hole"])
            + context_weight * (terms["coarse_context"] + terms["refined_context"]))


def paste_back(prediction, image, mask):
    """The composite ``y ⊙ m + x ⊙ (1 − m)`` of Algorithm 1, float32."""
    mask = _float32(mask)
    return _float32(prediction) * mask + _float32(image) * (1.0 - mask)
