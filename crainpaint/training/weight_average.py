"""An exponential moving average of the generator's weights (an addition to the paper; off by
default, ``TrainConfig.generator_ema_decay``).

With one image per step, the weights after any single step are a noisy draw around where the
optimiser is heading: the held-out in-hole L1 of the bundled model's exports varies widely from
one export to the next (model card). After every generator update the average follows
``w̄ ← d·w̄ + (1 − d)·w`` (Polyak averaging, as ProGAN and StyleGAN keep for their generators);
training itself is unchanged, and the run exports the average next to the latest weights.
"""

from __future__ import annotations

import tensorflow as tf


class WeightAverage:
    """Float32 shadow copies of ``model.weights``, updated with ``update()`` after each step.

    Create it under the distribution strategy's scope: the shadows are mirrored variables whose
    replica-context updates take the first replica's value (the weights are identical on every
    replica after a synchronised update).

    Attributes:
        decay: d above, in [0, 1).
        averages: ``{variable.path: shadow}``, the weights' paths as in
            ``crainpaint.weights.named_variables``; give it to ``tf.train.Checkpoint``.
    """

    def __init__(self, model, decay):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"The weight average's decay must be in [0, 1), got {decay}.")
        self.decay = float(decay)
        self._pairs = []
        self.averages = {}
        for variable in model.weights:
            average = tf.Variable(
                tf.cast(variable.value, tf.float32), trainable=False,
                name="average_" + variable.name,
                synchronization=tf.VariableSynchronization.ON_WRITE,
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
            self._pairs.append((variable, average))
            self.averages[variable.path] = average

    def update(self):
        """One step of the average (replica or cross-replica context, eager or traced)."""
        for variable, average in self._pairs:
            average.assign(self.decay * average
                           + (1.0 - self.decay) * tf.cast(variable.value, tf.float32))

    def reset(self):
        """Sets the average to the current weights (a run whose checkpoint has none yet)."""
        for variable, average in self._pairs:
            average.assign(tf.cast(variable.value, tf.float32))

    def arrays(self):
        """``{variable.path: numpy array}`` of the average, in the weights' own dtypes."""
        return {path: average.numpy().astype(variable.dtype)
                for (variable, average), path in zip(self._pairs, self.averages)}
