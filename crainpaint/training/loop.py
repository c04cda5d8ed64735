"""The inner loop: ``steps_per_loop`` train steps inside one traced ``tf.function``, and the
cadence that decides how long each loop may run.

The host only sees the end of a loop: one call runs up to N steps with the iterator passed in
(``next(iterator)`` and ``strategy.run`` happen in the graph), and returns the metrics of its
last step. Nothing waits on the host between those steps, so a loop of N steps costs one
Python round trip and one device-to-host copy instead of N.

A non-finite metric ends the loop at that step (the counters have counted it), so the caller
can stop before any later step runs and before anything is saved.

``next_stop`` keeps the cadence exact: a loop never runs past the next step at which an action
(checkpoint, summaries, previews, weight export) is due, nor past the end of the run.
"""

from __future__ import annotations

import tensorflow as tf


def all_finite(metrics):
    """A boolean scalar tensor: every value of ``metrics`` is finite."""
    return tf.reduce_all([tf.math.is_finite(value) for value in metrics.values()])


class TrainLoop:
    """Runs several train steps per call of one traced function.

    Args:
        train_step: ``iterator → dict of float32 scalar tensors``, one step that pulls its own
            batches and advances the counters (``InpaintingTask.train_step``).
        metric_names: the keys of ``train_step``'s dict (the loop carries them: the step is
            traced once, inside the loop).
    """

    def __init__(self, train_step, metric_names):
        self._train_step = train_step
        self._metric_names = tuple(metric_names)
        self._loop = tf.function(self._steps)

    def _steps(self, iterator, num_steps):
        metrics = {name: tf.constant(0.0) for name in self._metric_names}
        for _ in tf.range(num_steps):
            if not all_finite(metrics):
                break  # The caller reports the step; no later step may change the weights.
            metrics = self._train_step(iterator)
        return metrics

    def __call__(self, iterator, num_steps):
        """Runs ``num_steps`` (≥ 1) steps, fewer if a metric becomes NaN or Inf.

        Returns:
            dict name → float: the metrics of the last step run.
        """
        if num_steps < 1:
            raise ValueError(f"A loop runs at least one step, got num_steps={num_steps}.")
        metrics = self._loop(iterator, tf.constant(num_steps, tf.int32))
        return {name: float(value) for name, value in metrics.items()}


def next_stop(step, total_steps, steps_per_loop, intervals):
    """The step at which the next loop must end.

    Args:
        step: the current step.
        total_steps: the last step of the run.
        steps_per_loop: the longest loop.
        intervals: the action intervals in steps (0 = that action has no step cadence).

    Returns:
        The smallest of ``step + steps_per_loop``, ``total_steps`` and the next multiple of each
        non-zero interval after ``step``.
    """
    stop = min(total_steps, step + steps_per_loop)
    for interval in intervals:
        if interval:
            stop = min(stop, (step // interval + 1) * interval)
    return stop
