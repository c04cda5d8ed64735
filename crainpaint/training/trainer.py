"""The training library (paper Sec. 3.5, Algorithm 1): flag-free, driven by a ``TrainConfig``.

``Trainer(config, model_dir).train()`` builds everything under a ``tf.distribute`` strategy
(``MirroredStrategy`` by default, ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` is set),
restores the latest checkpoint of ``model_dir`` if there is one, and trains to
``config.total_steps``. The parts, in the shape of the TF Model Garden's Orbit:

* ``task.py``: the models, optimizers, inputs, losses and one train step;
* ``loop.py``: ``steps_per_loop`` steps inside one traced function, and the cadence that ends a
  loop at the next step where an action is due;
* ``checkpoints.py``: one checkpoint under a ``CheckpointManager``, resumed automatically, or a
  warm start from a weight folder;
* ``actions.py``: summaries, previews, weight export and the run log;
* ``run_dir.py``: the lock on ``model_dir`` and the clean-up of interrupted saves;
* this module: the controller that ties them together.

Before anything is written into ``model_dir``, the trainer checks that no other process trains
there, that the warm-start weights (if any) fit the generator, and that the input pipeline can
be built (an empty or missing data folder is a ``TrainingSetupError`` naming it).

Files in ``model_dir``:

* ``ckpt-<step>`` (see ``checkpoints.py``), ``config.json`` (the resolved ``TrainConfig`` of the
  latest run) and ``generator_config.json``;
* ``train/``: TensorBoard scalars and image grids (``actions.py``);
* ``generator_weights/``: float16 generator weights every ``export_generator_every_steps`` and
  at the end of a run, ready to copy into the package; ``generator_weights_average/`` the
  same for the weight average when ``generator_ema_decay`` > 0 (``weight_average.py``);
* ``train_log.jsonl``: one line per run of the trainer (steps, wall time, CPU, precision, images/s, status);
* ``train.lock``: the PID of the process training there (``run_dir.py``).

A non-finite loss or gradient norm stops the run with ``NonFiniteLossError`` naming the step;
nothing is saved after it, so the last good checkpoint stays the latest. SIGTERM or SIGINT stop
the run at the end of the current loop after saving a checkpoint.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import signal
import threading
import time

import tensorflow as tf
from absl import logging

from crainpaint.system_info import cpu_description
from crainpaint.training import actions
from crainpaint.training.checkpoints import RunCheckpoint, read_warm_start
from crainpaint.training.config import TrainConfig, TrainingSetupError
from crainpaint.training.loop import TrainLoop, next_stop
from crainpaint.training.run_dir import (RunDirectoryLock, remove_partial_checkpoints,
                                         write_text)
from crainpaint.training.task import InpaintingTask, create_strategy, worker_role
# The generator's checkpoint reader lives with the weight formats; kept importable from here.
from crainpaint.weights import GENERATOR_CONFIG_NAME, checkpoint_has_average, restore_generator
from data_pipelines import ManualDownloadRequiredError, make_dataset

CONFIG_NAME = "config.json"
TRAIN_LOG_NAME = actions.TRAIN_LOG_NAME


class NonFiniteLossError(FloatingPointError):
    """A loss or gradient norm became NaN or Inf; the last good checkpoint was kept."""


class Trainer:
    """Builds the task, checkpoint, input and actions for one ``TrainConfig``; ``train()`` runs.

    Args:
        config: the ``TrainConfig``.
        model_dir: where checkpoints, summaries, configs and exported weights go; a run resumes
            from the latest checkpoint found there.
        strategy: a ``tf.distribute.Strategy`` (default: ``create_strategy()``).
        dataset_factory: ``(DataConfig, start_example) → tf.data.Dataset`` of global batches
            ``{"image", "mask"}`` (default: ``data_pipelines.make_dataset``); tests pass fakes.
        init_weights: a weight folder to start the generator from when ``model_dir`` has no
            checkpoint yet (ignored otherwise).

    Raises:
        TrainingSetupError: another process trains in ``model_dir``, the warm-start weights do
            not fit, or the training data cannot be read. Nothing is written into ``model_dir``.
    """

    def __init__(self, config: TrainConfig, model_dir: str, strategy=None, dataset_factory=None,
                 init_weights=None):
        config.validate()
        self.config = config
        self.model_dir = os.path.abspath(os.path.expanduser(model_dir))
        self.strategy = strategy or create_strategy()
        self.is_chief, self.task_type, self.task_id, self.num_workers = worker_role(
            self.strategy)
        self._lock = RunDirectoryLock(self.model_dir) if self.is_chief else None
        if self._lock:
            self._lock.check_free()
        warm_start = None
        if init_weights and not tf.train.latest_checkpoint(self.model_dir):
            warm_start = read_warm_start(init_weights, config.generator)

        self.task = InpaintingTask(config, self.strategy, dataset_factory or make_dataset)
        self.state = RunCheckpoint(self.task, self.model_dir, config.keep_checkpoints,
                                   is_chief=self.is_chief, task_id=self.task_id)
        self.restored_from = self.state.restore(warm_start)
        self._dataset = None  # (factory, start example, distributed dataset)
        self._run_dataset = None
        self._preview_batch = None
        self.make_iterator()  # Builds the input pipeline: bad data fails here.

        if self._lock:
            self._lock.acquire()
            remove_partial_checkpoints(self.model_dir)
            self._write_configs()
        self.state.open_manager()
        self.summaries = actions.Summaries(self.model_dir, enabled=self.is_chief)
        self.train_loop = TrainLoop(self.task.train_step, self.task.metric_names())
        self._stop_signal = None

    # ------------------------------------------------------------------------------------------
    # The task's parts, under the names the callers and tests use.

    generator = property(lambda self: self.task.generator)
    critic = property(lambda self: self.task.critic)
    generator_average = property(lambda self: self.task.generator_average)
    step = property(lambda self: self.task.step)
    examples_seen = property(lambda self: self.task.examples_seen)
    precision = property(lambda self: self.task.precision)
    checkpoint = property(lambda self: self.state.checkpoint)
    checkpoint_manager = property(lambda self: self.state.manager)

    @property
    def dataset_factory(self):
        """``(DataConfig, start_example) → tf.data.Dataset``; setting it rebuilds the input."""
        return self.task.dataset_factory

    @dataset_factory.setter
    def dataset_factory(self, factory):
        self.task.dataset_factory = factory

    def critic_step(self, batch, update_index):
        """One critic update (``InpaintingTask.critic_step``)."""
        return self.task.critic_step(batch, update_index)

    def generator_step(self, batch):
        """One generator update (``InpaintingTask.generator_step``)."""
        return self.task.generator_step(batch)

    def close(self):
        """Releases the lock on ``model_dir`` (the process's exit releases it too)."""
        if self._lock:
            self._lock.release()
        self.state.close()

    # ------------------------------------------------------------------------------------------
    # Input.

    def make_iterator(self, start_example=None):
        """An iterator of distributed batches from ``start_example`` (default: where the run
        resumes, ``examples_seen``).

        Raises:
            TrainingSetupError: the data set cannot be read (a missing or empty folder, ...).
        """
        if start_example is None:
            start_example = int(self.task.examples_seen.numpy())
        factory = self.task.dataset_factory
        if self._dataset is None or self._dataset[:2] != (factory, start_example):
            data = self.config.data
            try:
                distributed = self.task.distributed_dataset(start_example)
            except (FileNotFoundError, ValueError, ManualDownloadRequiredError) as error:
                raise TrainingSetupError(
                    f"Cannot read the training data (data.dataset {data.dataset!r}, "
                    f"data.data_dir {data.data_dir!r}): {error}") from error
            self._dataset = (factory, start_example, distributed)
        self._run_dataset = self._dataset[2]
        self._preview_batch = None
        return iter(self._run_dataset)

    # ------------------------------------------------------------------------------------------
    # The controller.

    def train(self, total_steps=None):
        """Trains until the step counter reaches ``total_steps`` (default: the config's).

        Returns:
            dict: ``status`` ("completed", "interrupted" or "already_done"), ``step``,
            ``metrics`` (the last step's), ``images_per_second``, ``steps_per_second``,
            ``seconds``, ``signal``.

        Raises:
            NonFiniteLossError: a loss became NaN/Inf (nothing saved after the last good step).
        """
        config, task = self.config, self.task
        total_steps = int(total_steps or config.total_steps)
        start_step = int(task.step.numpy())
        result = {"status": "already_done", "step": start_step, "metrics": {},
                  "images_per_second": 0.0, "steps_per_second": 0.0, "seconds": 0.0}
        if start_step >= total_steps:
            logging.info("Step %d >= total_steps %d: nothing to do.", start_step, total_steps)
            return result
        logging.info("Training %s stage, %s, from step %d to %d, up to %d steps per loop, on %s "
                     "(%d replicas, %s).", config.stage, task.precision, start_step, total_steps,
                     config.steps_per_loop, cpu_description(),
                     self.strategy.num_replicas_in_sync, type(self.strategy).__name__)
        iterator = self.make_iterator()
        # Every worker ends its loops at the same steps, so saves line up across workers.
        intervals = (config.summary_every_steps, config.image_summary_every_steps,
                     config.checkpoint_every_steps, config.export_generator_every_steps)
        run_started = time.perf_counter()
        last_save_time = time.monotonic()
        last_saved_step = start_step if self.restored_from else None
        window_started, window_steps = time.perf_counter(), 0
        step, metrics, status, failed = start_step, {}, "completed", False
        previous_handlers = self._install_signal_handlers()
        try:
            while step < total_steps:
                if self._stop_signal is not None:
                    status = "interrupted"
                    logging.warning("Signal %d received: saving at step %d and stopping.",
                                    self._stop_signal, step)
                    break
                stop = next_stop(step, total_steps, config.steps_per_loop, intervals)
                metrics = self.train_loop(iterator, stop - step)
                reached = int(task.step.numpy())
                bad = [name for name, value in metrics.items() if not math.isfinite(value)]
                if bad:
                    failed = True
                    raise NonFiniteLossError(
                        f"Non-finite {', '.join(bad)} at step {reached} (the update from step "
                        f"{reached - 1} to {reached}); stopping without saving. The last good "
                        f"checkpoint is {tf.train.latest_checkpoint(self.model_dir)}. Lower "
                        f"the learning rates or check the input data. Metrics: {metrics}")
                window_steps += reached - step
                step = reached
                if step % config.summary_every_steps == 0 or step == total_steps:
                    elapsed = time.perf_counter() - window_started
                    steps_per_second = window_steps / max(elapsed, 1e-9)
                    rates = {"steps_per_second": steps_per_second,
                             "images_per_second": steps_per_second * task.images_per_step}
                    self.summaries.scalars(step, {**metrics, **rates})
                    self._log_progress(step, total_steps, metrics, rates)
                    window_started, window_steps = time.perf_counter(), 0
                if (config.image_summary_every_steps and self.is_chief
                        and step % config.image_summary_every_steps == 0):
                    self.summaries.images(step, self.preview_grid())
                save_by_steps = (config.checkpoint_every_steps
                                 and step % config.checkpoint_every_steps == 0)
                # Time-based saves only with one worker: every worker must save at the same step.
                save_by_time = (self.num_workers == 1 and config.checkpoint_every_seconds
                                and time.monotonic() - last_save_time
                                >= config.checkpoint_every_seconds)
                if save_by_steps or save_by_time:
                    self.state.save(step)
                    last_saved_step, last_save_time = step, time.monotonic()
                if (config.export_generator_every_steps
                        and step % config.export_generator_every_steps == 0):
                    self.export_generator()
        except KeyboardInterrupt:
            status = "interrupted"
            logging.warning("Interrupted at step %d: saving a checkpoint.", step)
        except BaseException:
            failed = True  # A bug or a crash: keep the last checkpoint rather than save state
            raise          # that a half-finished step may have changed.
        finally:
            self._restore_signal_handlers(previous_handlers)
            if not failed:
                if last_saved_step != step:
                    self.state.save(step)
                if step != start_step:
                    self.export_generator()
            seconds = time.perf_counter() - run_started
            result = {
                "status": "failed" if failed else status, "step": step, "metrics": metrics,
                "seconds": seconds,
                "steps_per_second": (step - start_step) / max(seconds, 1e-9),
                "images_per_second": (step - start_step) * task.images_per_step
                / max(seconds, 1e-9),
                "signal": self._stop_signal}
            if self.is_chief:
                actions.append_run_log(self.model_dir, task, start_step, result)
            self.summaries.flush()
        logging.info("Stopped (%s) at step %d after %.0f s.", status, step, result["seconds"])
        return result

    # ------------------------------------------------------------------------------------------
    # Actions.

    def save(self):
        """Saves a checkpoint at the current step; returns its path."""
        return self.state.save(int(self.task.step.numpy()))

    def export_generator(self):
        """Writes the float16 generator weights to ``MODEL_DIR/generator_weights/`` and, with a
        weight average, the average to ``MODEL_DIR/generator_weights_average/`` (chief only).

        Returns:
            The first folder (None on other workers).
        """
        if not self.is_chief:
            return None
        return actions.export_generator_weights(self.task, self.model_dir)

    def preview_grid(self):
        """The image grid (``actions.preview_grid``) of the first batch of this run's
        stream (the batch this run's first update saw)."""
        if self._preview_batch is None:
            batch = next(iter(self._run_dataset))
            self._preview_batch = actions.first_local_examples(self.strategy, batch)
        image, mask = self._preview_batch["image"], self._preview_batch["mask"]
        coarse, refined, scores = self.task.preview(image, mask)
        return actions.preview_grid(image, mask, coarse, refined, scores)

    def _write_configs(self):
        write_text(os.path.join(self.model_dir, CONFIG_NAME), self.config.to_json() + "\n")
        write_text(os.path.join(self.model_dir, GENERATOR_CONFIG_NAME),
                   json.dumps(self.config.generator.to_dict(), indent=2, sort_keys=True) + "\n")

    def _log_progress(self, step, total_steps, metrics, rates):
        remaining = (total_steps - step) / max(rates["steps_per_second"], 1e-9)
        shown = ("reconstruction", "refined_hole", "critic_loss", "generator_adversarial")
        losses_text = " ".join(f"{name}={metrics[name]:.4g}" for name in shown
                               if name in metrics)
        logging.info("step %d/%d (%.1f%%) | %.3f steps/s %.2f img/s | ETA %s | %s", step,
                     total_steps, 100.0 * step / total_steps, rates["steps_per_second"],
                     rates["images_per_second"], datetime.timedelta(seconds=int(remaining)),
                     losses_text)

    # ------------------------------------------------------------------------------------------
    # Signals.

    def _install_signal_handlers(self):
        if threading.current_thread() is not threading.main_thread():
            return None
        self._stop_signal = None

        def request_stop(signum, frame):
            if signum == signal.SIGINT and self._stop_signal is not None:
                # A second Ctrl-C stops as soon as Python runs again (still saves).
                raise KeyboardInterrupt
            self._stop_signal = signum

        previous = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, request_stop)
        return previous

    @staticmethod
    def _restore_signal_handlers(previous):
        for signum, handler in (previous or {}).items():
            signal.signal(signum, handler)


def train(config: TrainConfig, model_dir: str, total_steps=None, strategy=None,
          dataset_factory=None, init_weights=None):
    """``Trainer(config, model_dir, ...).train(total_steps)``; returns the run's result dict."""
    trainer = Trainer(config, model_dir, strategy=strategy, dataset_factory=dataset_factory,
                      init_weights=init_weights)
    try:
        return trainer.train(total_steps)
    finally:
        trainer.close()


__all__ = ["CONFIG_NAME", "NonFiniteLossError", "TRAIN_LOG_NAME", "Trainer",
           "checkpoint_has_average", "restore_generator", "train"]
