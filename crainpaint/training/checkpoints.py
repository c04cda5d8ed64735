"""The run's state: one ``tf.train.Checkpoint`` under a ``CheckpointManager``, resumed
automatically, or warm-started from a weight folder when the run folder has no checkpoint.

The checkpoint holds ``generator``, ``generator_optimizer``, ``step``, ``examples_seen``,
``generator_variables`` (every generator weight by its Keras path, see
``crainpaint.weights.named_variables``) and, in the adversarial stage, ``critic``,
``critic_optimizer`` and ``critic_variables``; with a weight average also ``generator_ema``.
The critic and its optimizer exist only in the adversarial stage, so a reconstruction run
warm-starts an adversarial run in the same folder (the critic then starts fresh).
``examples_seen`` is where the data stream resumes; the iterator is never checkpointed.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import tensorflow as tf
from absl import logging

from crainpaint.training.config import TrainingSetupError
from crainpaint.weights import (AVERAGE_KEY, GENERATOR_VARIABLES_KEY, assign_weights,
                                checkpoint_has_average, named_variables, read_metadata)


def checkpoint_objects(task):
    """The objects of the run's ``tf.train.Checkpoint``, keyed as in every earlier checkpoint."""
    objects = dict(generator=task.generator, generator_optimizer=task.generator_optimizer,
                   step=task.step, examples_seen=task.examples_seen,
                   **{GENERATOR_VARIABLES_KEY: named_variables(task.generator)})
    if task.adversarial:
        objects.update(critic=task.critic, critic_optimizer=task.critic_optimizer,
                       critic_variables=named_variables(task.critic))
    if task.generator_average:
        objects[AVERAGE_KEY] = task.generator_average.averages
    return objects


def read_warm_start(directory, generator_config):
    """(folder, metadata) of warm-start weights, checked against the run's generator before
    anything is written.

    Raises:
        TrainingSetupError: the folder lacks a file, or holds weights of another generator.
    """
    directory = os.path.abspath(os.path.expanduser(directory))
    try:
        metadata = read_metadata(directory, expected_config=generator_config)
    except (FileNotFoundError, ValueError) as error:
        raise TrainingSetupError(f"Cannot warm-start from {directory}: {error}") from None
    return directory, metadata


class RunCheckpoint:
    """The checkpoint of a task, its manager, and resuming.

    Args:
        task: the ``InpaintingTask``.
        model_dir: the run folder.
        keep: checkpoints kept by the manager.
        is_chief: only the chief's files land in ``model_dir``; the other workers take part in
            every save (it may need collectives) in a scratch folder that is thrown away.
        task_id: this worker's index (names the scratch folder).
    """

    def __init__(self, task, model_dir, keep, is_chief=True, task_id=None):
        self.task = task
        self.model_dir = model_dir
        self.checkpoint = tf.train.Checkpoint(**checkpoint_objects(task))
        self._keep = keep
        self._is_chief = is_chief
        self._task_id = task_id
        self.scratch_dir = None
        self.manager = None
        self.restored_from = None

    def restore(self, warm_start=None):
        """Restores the latest checkpoint of ``model_dir``; without one, warm-starts from
        ``warm_start`` ((folder, metadata) of ``read_warm_start``) if given. Reads only.

        Returns:
            The restored checkpoint path, or None.
        """
        task = self.task
        latest = tf.train.latest_checkpoint(self.model_dir)
        self.restored_from = latest
        if latest:
            # expect_partial: a reconstruction checkpoint has no critic (it starts fresh) and a
            # reconstruction run ignores the critic of an adversarial checkpoint.
            self.checkpoint.restore(latest).expect_partial()
            logging.info("Restored %s: step %d, %d examples seen.", latest,
                         int(task.step.numpy()), int(task.examples_seen.numpy()))
            if task.generator_average and not checkpoint_has_average(latest):
                task.generator_average.reset()
                logging.info("%s has no weight average: it starts at the restored weights.",
                             latest)
        elif warm_start:
            self._warm_start(*warm_start)
            if task.generator_average:
                task.generator_average.reset()
        return latest

    def _warm_start(self, directory, metadata):
        """Initialises the generator from a weight folder.

        The step counter and the data position continue from the weights' metadata, so the
        training log reads as one curve across machines; the optimizer moments start at zero
        (they are never committed) and the critic starts fresh.
        """
        task = self.task
        assign_weights(task.generator, directory)
        step = int(metadata.get("step") or 0)
        examples = metadata.get("examples_seen")
        if examples is None:  # Metadata without it: assume this run's batch size throughout.
            examples = step * task.global_batch_size
        task.step.assign(step)
        task.examples_seen.assign(int(examples))
        logging.info("Warm-started the generator from %s: step %d, %d examples seen; optimizer "
                     "moments and critic start fresh.", directory, step, int(examples))

    def open_manager(self):
        """Creates the ``CheckpointManager`` (call once ``model_dir`` may be written)."""
        directory = self.model_dir
        if not self._is_chief:
            self.scratch_dir = tempfile.mkdtemp(prefix=f"crainpaint-worker{self._task_id}-")
            directory = self.scratch_dir
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, directory, max_to_keep=self._keep, step_counter=self.task.step)

    def save(self, step):
        """Saves ``ckpt-<step>``; returns its path."""
        path = self.manager.save(checkpoint_number=step, check_interval=False)
        if self._is_chief:
            logging.info("Saved %s.", path)
        return path

    def close(self):
        """Removes a non-chief worker's scratch folder."""
        if self.scratch_dir:
            shutil.rmtree(self.scratch_dir, ignore_errors=True)
            self.scratch_dir = None
