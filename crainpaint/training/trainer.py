"""The training library (paper Sec. 3.5, Algorithm 1): flag-free, driven by a ``TrainConfig``.

``Trainer(config, model_dir).train()`` builds everything under a ``tf.distribute`` strategy
(``MirroredStrategy`` by default, ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` is set),
restores the latest checkpoint of ``model_dir`` if there is one, and trains to
``config.total_steps``:

* stage ``"adversarial"`` (Algorithm 1): ``critic_steps`` critic updates, each on a fresh batch,
  with the generator's refined output pasted back into the real image (``y ⊙ m + x ⊙ (1 − m)``)
  before the critic sees it and the gradient penalty taken at interpolates ``(1 − α) x + α x̃``
  with α ~ U[0, 1] per example (Eq. 9); then one generator update on a fresh batch with
  ``L_g = L_rec + β L_adv`` (Eq. 14), the adversarial term on the composite.
* stage ``"reconstruction"``: only the generator update with β = 0 and no critic (a documented
  deviation used to warm-start; see ``config.py``).

Every replica step is a ``tf.function`` run with ``strategy.run`` on a distributed batch; losses
are per example and averaged over the GLOBAL batch with ``tf.nn.compute_average_loss``, so any
number of replicas gives the single-device result. Random interpolation weights α are drawn for
the whole global batch from a stateless seed (config seed, update index) and sliced per replica,
so they too do not depend on the replica count.

State and files in ``model_dir``:

* one ``tf.train.Checkpoint(generator, generator_optimizer, step, examples_seen[, critic,
  critic_optimizer])`` under a ``CheckpointManager`` (``ckpt-<step>``), restored on construction;
  it also holds ``generator_variables`` / ``critic_variables``, every weight by its Keras path
  (see ``named_variables``: Keras 3 layers in Python lists are not in TF's object graph).
  The critic and its optimizer exist only in the adversarial stage, so a reconstruction run
  warm-starts an adversarial run in the same ``model_dir`` (the critic then starts fresh).
  ``examples_seen`` (an addition to the step counter) is where the data stream resumes:
  ``make_dataset(config.data, start_example=examples_seen)``; the iterator is never checkpointed.
* ``config.json`` (the resolved ``TrainConfig`` of the latest run) and ``generator_config.json``.
* ``train/``: TensorBoard scalars (every loss term, gradient norms, steps/s, images/s, the fraction
  of time spent waiting for input, and how concentrated the ACM's attention is over the hole
  cells: ``attention/effective_sources`` and ``attention/top_weight``, see
  ``crainpaint.evaluation.attention``) and image grids (masked input | coarse | refined |
  composite | attention scores).
* ``generator_weights/``: float16 generator weights (``save_generator_weights``), every
  ``export_generator_every_steps`` and at the end of a run, ready to copy into the package;
  ``generator_weights_average/`` the same for the weight average when
  ``generator_ema_decay`` > 0 (``weight_average.py``; then in the checkpoint as
  ``generator_ema``, by Keras path; a checkpoint without it starts the average at the weights).
* ``train_log.jsonl``: one line per session (steps, wall time, CPU, precision, images/s, status).

A non-finite loss or gradient norm stops the run with ``NonFiniteLossError`` naming the step;
nothing is saved after it, so the last good checkpoint stays the latest. SIGTERM or SIGINT stop the
run at the next step boundary after saving a checkpoint (a second SIGINT interrupts at once, and
still saves).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging
from tensorflow.core.framework import summary_pb2

from crainpaint.evaluation.attention import attention_statistic_sums_tf
from crainpaint.layers.attention import grid_hole_mask
from crainpaint.models import Critic, Generator, GeneratorConfig
from crainpaint.pretrained import METADATA_NAME, WEIGHTS_NAME, save_generator_weights
from crainpaint.training import losses
from crainpaint.training.config import TrainConfig
from crainpaint.training.weight_average import WeightAverage
from data_pipelines import make_dataset

CONFIG_NAME = "config.json"
GENERATOR_CONFIG_NAME = "generator_config.json"
GENERATOR_WEIGHTS_DIR = "generator_weights"
GENERATOR_AVERAGE_DIR = "generator_weights_average"
AVERAGE_KEY = "generator_ema"
TRAIN_LOG_NAME = "train_log.jsonl"
SUMMARY_DIR = "train"
PREVIEW_EXAMPLES = 4


class NonFiniteLossError(FloatingPointError):
    """A loss or gradient norm became NaN or Inf; the last good checkpoint was kept."""


def create_strategy():
    """``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` is set, else ``MirroredStrategy``."""
    if os.environ.get("TF_CONFIG"):
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.MirroredStrategy()


def cpu_model():
    """The processor name from lscpu (or /proc/cpuinfo) and whether it has AMX / AVX512-BF16."""
    name = platform.processor() or "unknown CPU"
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in output.splitlines():
            if line.startswith("Model name:"):
                name = line.split(":", 1)[1].strip()
                break
    except (OSError, subprocess.SubprocessError):
        pass
    flags = set()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    extras = [flag for flag in ("amx_bf16", "avx512_bf16") if flag in flags]
    return f"{name} ({os.cpu_count()} CPUs{', ' + ', '.join(extras) if extras else ''})"


def named_variables(model):
    """``{variable.path: variable}`` of a Keras model, for ``tf.train.Checkpoint``.

    Keras 3 layers kept in Python lists (the generator's ``blocks``, the critic's ``convs``) are
    invisible to TF's checkpoint object graph: ``tf.train.Checkpoint(generator=...)`` alone saves
    those weights only through the optimizer's slot list, so the generator could not be restored
    without its optimizer. This dict makes every weight reachable by its stable Keras path.
    """
    return {variable.path: variable for variable in model.weights}


def _summary_metadata(plugin_name, data_class):
    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = plugin_name
    metadata.data_class = data_class
    return metadata


def write_scalar_summary(name, value, step):
    """A TensorBoard scalar, written with TF's own ``tf.summary.write``: the same event format as
    ``tf.summary.scalar``, which needs the tensorboard package (not a dependency here)."""
    return tf.summary.write(name, tf.constant(float(value), tf.float32), step=step,
                            metadata=_summary_metadata("scalars", summary_pb2.DATA_CLASS_SCALAR))


def write_image_summary(name, images, step):
    """TensorBoard images from float [B, H, W, 3] in [0, 1] (the format of ``tf.summary.image``:
    a string vector [width, height, png, png, ...])."""
    images = tf.convert_to_tensor(images)
    pixels = tf.cast(tf.clip_by_value(tf.round(images * 255.0), 0.0, 255.0), tf.uint8)
    encoded = [tf.io.encode_png(image) for image in tf.unstack(pixels)]
    shape = tf.shape(images)
    tensor = tf.stack([tf.strings.as_string(shape[2]), tf.strings.as_string(shape[1])] + encoded)
    return tf.summary.write(name, tensor, step=step, metadata=_summary_metadata(
        "images", summary_pb2.DATA_CLASS_BLOB_SEQUENCE))


@contextlib.contextmanager
def _dtype_policy(policy):
    """Layers created inside keep ``policy``; the global policy is restored afterwards."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _worker_role(strategy):
    """(is_chief, task_type, task_id, number of workers) of this process."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True, None, None, 1
    cluster = resolver.cluster_spec().as_dict()
    task_type, task_id = resolver.task_type, resolver.task_id
    workers = sum(len(tasks) for name, tasks in cluster.items() if name in ("chief", "worker"))
    if "chief" in cluster:
        is_chief = task_type == "chief"
    else:
        is_chief = task_type == "worker" and task_id == 0
    return is_chief, task_type, task_id, workers


def _preview_grid(image, mask, coarse, refined, scores):
    """[B, S, 5·S, 3] in [0, 1]: masked input (hole white) | coarse | refined | composite |
    attention scores (rows = target cells, columns = source cells, scaled by each map's max)."""
    image, mask = tf.cast(image, tf.float32), tf.cast(mask, tf.float32)
    coarse, refined = tf.cast(coarse, tf.float32), tf.cast(refined, tf.float32)
    size = tf.shape(image)[1:3]
    masked = image * (1.0 - mask) + mask
    composite = losses.paste_back(refined, image, mask)
    scores = tf.cast(scores, tf.float32)
    scores = scores / tf.maximum(tf.reduce_max(scores, axis=[1, 2], keepdims=True), 1e-12)
    attention = tf.image.resize(scores[..., None] * 2.0 - 1.0, size, method="nearest")
    attention = tf.tile(attention, [1, 1, 1, 3])
    grid = tf.concat([masked, coarse, refined, composite, attention], axis=2)
    return tf.clip_by_value((grid + 1.0) / 2.0, 0.0, 1.0)


class Trainer:
    """Builds the models, optimizers, checkpoint and input for one ``TrainConfig``.

    Args:
        config: the ``TrainConfig``.
        model_dir: where checkpoints, summaries, configs and exported weights go; a run resumes
            from the latest checkpoint found there.
        strategy: a ``tf.distribute.Strategy`` (default: ``create_strategy()``).
        dataset_factory: ``(DataConfig, start_example) → tf.data.Dataset`` of global batches
            ``{"image", "mask"}`` (default: ``data_pipelines.make_dataset``); tests pass fakes.
    """

    def __init__(self, config: TrainConfig, model_dir: str, strategy=None, dataset_factory=None,
                 init_weights=None):
        config.validate()
        self.init_weights = init_weights
        self.config = config
        self.model_dir = os.path.abspath(os.path.expanduser(model_dir))
        self.strategy = strategy or create_strategy()
        self.dataset_factory = dataset_factory or make_dataset
        self.is_chief, self.task_type, self.task_id, self.num_workers = _worker_role(
            self.strategy)
        self.precision = config.resolved_mixed_precision()
        self.adversarial = config.stage == "adversarial"
        self.global_batch_size = config.data.global_batch_size
        replicas = self.strategy.num_replicas_in_sync
        if self.global_batch_size % replicas:
            raise ValueError(f"data.global_batch_size ({self.global_batch_size}) must be a "
                             f"multiple of the {replicas} replicas in sync.")
        # Bad warm-start weights fail here, before anything is written to model_dir.
        self._warm_start_metadata = None
        if init_weights and not tf.train.latest_checkpoint(self.model_dir):
            self._warm_start_metadata = self._read_warm_start(init_weights)
        os.makedirs(self.model_dir, exist_ok=True)

        self._build_models()
        self._build_checkpoint()
        self._build_step_functions()
        if self.is_chief:
            self._write_configs()
            self.summary_writer = tf.summary.create_file_writer(
                os.path.join(self.model_dir, SUMMARY_DIR))
        else:
            self.summary_writer = tf.summary.create_noop_writer()
        self._stop_signal = None
        self._preview_batch = None

    # ------------------------------------------------------------------------------------------
    # Construction.

    def _build_models(self):
        config = self.config
        size = config.data.image_size
        # Same seed → same initial weights in every process (MWMS also broadcasts them).
        keras.utils.set_random_seed(config.seed)
        with _dtype_policy(self.precision), self.strategy.scope():
            self.generator = Generator(config.generator)
            self.generator.build_for_size(size, size)
            self.generator_optimizer = keras.optimizers.Adam(
                config.generator_learning_rate, beta_1=config.adam_beta_1,
                beta_2=config.adam_beta_2, name="generator_adam")
            # Built here, not lazily inside strategy.run (tf-traps.md: fails under Mirrored).
            self.generator_optimizer.build(self.generator.trainable_variables)
            self.generator_average = None
            if config.generator_ema_decay > 0:
                self.generator_average = WeightAverage(self.generator, config.generator_ema_decay)
            self.critic = self.critic_optimizer = None
            if self.adversarial:
                self.critic = Critic(config.critic)
                self.critic.build_for_size()
                self.critic_optimizer = keras.optimizers.Adam(
                    config.critic_learning_rate, beta_1=config.adam_beta_1,
                    beta_2=config.adam_beta_2, name="critic_adam")
                self.critic_optimizer.build(self.critic.trainable_variables)
            # One explicit counter: two optimizers make optimizer.iterations ambiguous.
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step",
                                    aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
            self.examples_seen = tf.Variable(
                0, dtype=tf.int64, trainable=False, name="examples_seen",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

    def _build_checkpoint(self):
        objects = dict(generator=self.generator, generator_optimizer=self.generator_optimizer,
                       step=self.step, examples_seen=self.examples_seen,
                       generator_variables=named_variables(self.generator))
        if self.adversarial:
            objects.update(critic=self.critic, critic_optimizer=self.critic_optimizer,
                           critic_variables=named_variables(self.critic))
        if self.generator_average:
            objects[AVERAGE_KEY] = self.generator_average.averages
        self.checkpoint = tf.train.Checkpoint(**objects)
        # Non-chief workers must take part in every save (it may need collectives) but their
        # files are thrown away (tf-traps.md).
        self._scratch_dir = None
        directory = self.model_dir
        if not self.is_chief:
            self._scratch_dir = tempfile.mkdtemp(prefix=f"crainpaint-worker{self.task_id}-")
            directory = self._scratch_dir
        self.checkpoint_manager = tf.train.CheckpointManager(
            self.checkpoint, directory, max_to_keep=self.config.keep_checkpoints,
            step_counter=self.step)
        latest = tf.train.latest_checkpoint(self.model_dir)
        self.restored_from = latest
        if latest:
            # expect_partial: a reconstruction checkpoint has no critic (it starts fresh) and a
            # reconstruction run ignores the critic of an adversarial checkpoint.
            self.checkpoint.restore(latest).expect_partial()
            logging.info("Restored %s: step %d, %d examples seen.", latest,
                         int(self.step.numpy()), int(self.examples_seen.numpy()))
            if self.generator_average and not checkpoint_has_average(latest):
                self.generator_average.reset()
                logging.info("%s has no weight average: it starts at the restored weights.",
                             latest)
        elif self._warm_start_metadata:
            self._warm_start(*self._warm_start_metadata)
            if self.generator_average:
                self.generator_average.reset()

    def _read_warm_start(self, directory):
        """(folder, metadata) of warm-start weights, checked against this run's generator."""
        directory = os.path.abspath(os.path.expanduser(directory))
        metadata_path = os.path.join(directory, METADATA_NAME)
        if not (os.path.exists(metadata_path)
                and os.path.exists(os.path.join(directory, WEIGHTS_NAME))):
            raise FileNotFoundError(f"No {METADATA_NAME} and {WEIGHTS_NAME} in {directory}: "
                                    "--init_weights takes a folder written by "
                                    "save_generator_weights (for example crainpaint/pretrained).")
        with open(metadata_path) as handle:
            metadata = json.load(handle)
        saved = GeneratorConfig.from_dict(metadata["config"])
        if saved != self.config.generator:
            raise ValueError(f"The weights in {directory} are for {saved}, but this run trains "
                             f"{self.config.generator}; warm-start only the same generator.")
        return directory, metadata

    def _warm_start(self, directory, metadata):
        """Initialises the generator from saved float16 weights (``crainpaint/pretrained`` or a
        ``generator_weights/`` folder) when ``model_dir`` has no checkpoint yet.

        The step counter and the data position continue from the weights' metadata, so the
        training log reads as one curve across machines; the optimizer moments start at zero
        (they are never committed) and the critic starts fresh.
        """
        with np.load(os.path.join(directory, WEIGHTS_NAME)) as arrays:
            missing = [v.path for v in self.generator.weights if v.path not in arrays.files]
            if missing:
                raise ValueError(f"{directory} lacks generator weights {missing[:5]}.")
            for variable in self.generator.weights:
                variable.assign(arrays[variable.path].astype(np.float32))  # Variables are float32.
        step = int(metadata.get("step") or 0)
        examples = metadata.get("examples_seen")
        if examples is None:  # Older metadata: assume this run's batch size throughout.
            examples = step * self.global_batch_size
        self.step.assign(step)
        self.examples_seen.assign(int(examples))
        logging.info("Warm-started the generator from %s: step %d, %d examples seen; optimizer "
                     "moments and critic start fresh.", directory, step, int(examples))

    def _write_configs(self):
        _write_text(os.path.join(self.model_dir, CONFIG_NAME), self.config.to_json() + "\n")
        _write_text(os.path.join(self.model_dir, GENERATOR_CONFIG_NAME),
                    json.dumps(self.config.generator.to_dict(), indent=2, sort_keys=True) + "\n")

    def _build_step_functions(self):
        self._generator_step = tf.function(self._distributed_generator_step)
        self._critic_step = tf.function(self._distributed_critic_step)
        self._preview = tf.function(lambda image, mask: self.generator((image, mask),
                                                                       training=False))

    # ------------------------------------------------------------------------------------------
    # Input.

    def make_iterator(self, start_example=None):
        """An iterator of distributed batches starting at ``start_example`` (default: resume).

        Every input pipeline (one per worker) builds the same stream of GLOBAL batches, a pure
        function of (seed, example index), and keeps its own slice; the slice is split between
        the local replicas in order. So replica r of any layout gets examples
        ``[r·b, (r + 1)·b)`` of every global batch — what the single-device step sees.
        """
        if start_example is None:
            start_example = int(self.examples_seen.numpy())
        global_batch = self.global_batch_size
        data_config = self.config.data
        factory = self.dataset_factory

        def dataset_fn(input_context):
            dataset = factory(data_config, start_example)
            pipelines, index = input_context.num_input_pipelines, input_context.input_pipeline_id
            if pipelines > 1:
                share = global_batch // pipelines
                dataset = dataset.map(
                    lambda batch: {key: value[index * share:(index + 1) * share]
                                   for key, value in batch.items()})
            per_replica = input_context.get_per_replica_batch_size(global_batch)
            if per_replica != global_batch // pipelines:
                dataset = dataset.rebatch(per_replica)
            return dataset.prefetch(tf.data.AUTOTUNE)

        distributed = self.strategy.distribute_datasets_from_function(dataset_fn)
        return iter(distributed)

    # ------------------------------------------------------------------------------------------
    # Replica steps (run inside strategy.run).

    def _average(self, per_example):
        return tf.nn.compute_average_loss(per_example, global_batch_size=self.global_batch_size)

    def _replica_generator_step(self, batch):
        config = self.config
        image, mask = batch["image"], batch["mask"]
        beta = config.effective_adversarial_weight
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            coarse, refined, scores = self.generator((image, mask), training=True)
            terms = losses.reconstruction_loss_terms(
                image, coarse, refined, mask, normalization=config.reconstruction_normalization)
            reconstruction = (
                config.hole_weight * (terms["coarse_hole"] + terms["refined_hole"])
                + config.context_weight * (terms["coarse_context"] + terms["refined_context"]))
            total = reconstruction
            metrics = {name: self._average(value) for name, value in terms.items()}
            if self.adversarial:
                composite = losses.paste_back(refined, image, mask)
                adversarial = losses.wgan_generator_loss(self.critic(composite, training=True))
                total = reconstruction + beta * adversarial
                metrics["generator_adversarial"] = self._average(adversarial)
            loss = self._average(total)
        gradients = tape.gradient(loss, variables)
        self.generator_optimizer.apply_gradients(zip(gradients, variables))
        if self.generator_average:
            self.generator_average.update()
        metrics["reconstruction"] = self._average(reconstruction)
        metrics["generator_loss"] = loss
        metrics.update(self._attention_metrics(scores, mask))
        norms = {"generator_gradient_norm": tf.linalg.global_norm(gradients)}
        return metrics, norms

    def _attention_metrics(self, scores, mask):
        """This replica's share of the mean ``effective_sources`` / ``top_weight`` of the ACM
        over the hole cells of the GLOBAL batch (``crainpaint.evaluation.attention``).

        Each replica divides its sums by the hole-cell count of all replicas, so the SUM
        reduction of ``_reduce`` gives the mean over every hole cell of the global batch, as
        one device would (an average of per-replica means would weigh cells unequally).
        Computed outside the gradient tape, on the scores of the step's own forward pass.
        """
        cells = tf.shape(mask)[1:3] // self.config.generator.cell_size
        sums = attention_statistic_sums_tf(tf.stop_gradient(scores), grid_hole_mask(mask, cells))
        hole_cells = tf.distribute.get_replica_context().all_reduce(
            tf.distribute.ReduceOp.SUM, sums["hole_cells"])
        return {f"attention/{name}": tf.math.divide_no_nan(sums[name], hole_cells)
                for name in ("effective_sources", "top_weight")}

    def _replica_critic_step(self, batch, seed):
        image, mask = batch["image"], batch["mask"]
        # The generator only produces samples here: no gradient, inference behaviour.
        _, refined, _ = self.generator((image, mask), training=False)
        composite = tf.stop_gradient(losses.paste_back(refined, image, mask))
        image = tf.cast(image, tf.float32)
        # α for the whole global batch, sliced: independent of the replica layout.
        per_replica = tf.shape(image)[0]
        replica = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, tf.int32)
        alphas = tf.random.stateless_uniform([self.global_batch_size], seed=seed)
        alpha = alphas[replica * per_replica:(replica + 1) * per_replica]
        variables = self.critic.trainable_variables
        with tf.GradientTape() as tape:
            real_scores = self.critic(image, training=True)
            fake_scores = self.critic(composite, training=True)
            penalty = losses.gradient_penalty(self.critic, image, composite, alpha)
            per_example = losses.wgan_gp_critic_loss(real_scores, fake_scores, penalty,
                                                     self.config.gp_weight)
            loss = self._average(per_example)
        gradients = tape.gradient(loss, variables)
        self.critic_optimizer.apply_gradients(zip(gradients, variables))
        metrics = {
            "critic_loss": loss,
            # D(x) − D(x̃): the critic's estimate of the Wasserstein distance.
            "wasserstein_estimate": self._average(
                losses.wgan_generator_loss(fake_scores) - losses.wgan_generator_loss(
                    real_scores)),
            "gradient_penalty": self._average(penalty),
        }
        return metrics, {"critic_gradient_norm": tf.linalg.global_norm(gradients)}

    # ------------------------------------------------------------------------------------------
    # Distributed steps (tf.functions).

    def _reduce(self, per_replica):
        metrics, norms = per_replica
        reduced = {name: self.strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
                   for name, value in metrics.items()}
        # Each replica's norm of its own share of the gradient, averaged over the replicas.
        reduced.update({name: self.strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
                        for name, value in norms.items()})
        return reduced

    def _distributed_generator_step(self, batch):
        return self._reduce(self.strategy.run(self._replica_generator_step, args=(batch,)))

    def _distributed_critic_step(self, batch, seed):
        return self._reduce(self.strategy.run(self._replica_critic_step, args=(batch, seed)))

    def generator_step(self, batch):
        """One generator update (Eq. 13 or 14) on a distributed batch → dict of scalar tensors."""
        return self._generator_step(batch)

    def critic_step(self, batch, update_index):
        """One critic update (Eq. 9); ``update_index`` (an int) seeds the interpolation weights."""
        seed = tf.constant([self.config.seed, update_index], dtype=tf.int64)
        return self._critic_step(batch, seed)

    def train_step(self, iterator):
        """One training step (one generator update, preceded by the critic updates of Algorithm 1
        in the adversarial stage). Does not advance the counters (``train`` does).

        Returns:
            (metrics: dict name → float, input_wait_seconds: float).
        """
        waited = 0.0
        metrics = {}
        step = int(self.step.numpy())
        if self.adversarial:
            critic_metrics = []
            for index in range(self.config.critic_steps):
                started = time.perf_counter()
                batch = next(iterator)
                waited += time.perf_counter() - started
                self._remember_preview(batch)
                critic_metrics.append(self.critic_step(batch, step * self.config.critic_steps
                                                       + index))
            for name in critic_metrics[0]:  # Mean over the critic updates of this step.
                metrics[name] = float(np.mean([float(m[name]) for m in critic_metrics]))
        started = time.perf_counter()
        batch = next(iterator)
        waited += time.perf_counter() - started
        self._remember_preview(batch)
        metrics.update({name: float(value) for name, value in self.generator_step(batch).items()})
        return metrics, waited

    # ------------------------------------------------------------------------------------------
    # The loop.

    def train(self, total_steps=None):
        """Trains until the step counter reaches ``total_steps`` (default: the config's).

        Returns:
            dict: ``status`` ("completed", "interrupted" or "already_done"), ``step``,
            ``metrics`` (the last step's), ``images_per_second``, ``steps_per_second``,
            ``input_wait_fraction``, ``seconds``.

        Raises:
            NonFiniteLossError: a loss became NaN/Inf (nothing saved after the last good step).
        """
        config = self.config
        total_steps = int(total_steps or config.total_steps)
        start_step = int(self.step.numpy())
        result = {"status": "already_done", "step": start_step, "metrics": {},
                  "images_per_second": 0.0, "steps_per_second": 0.0,
                  "input_wait_fraction": 0.0, "seconds": 0.0}
        if start_step >= total_steps:
            logging.info("Step %d >= total_steps %d: nothing to do.", start_step, total_steps)
            return result
        images_per_step = config.batches_per_step * self.global_batch_size
        logging.info("Training %s stage, %s, from step %d to %d on %s (%d replicas, %s).",
                     config.stage, self.precision, start_step, total_steps, cpu_model(),
                     self.strategy.num_replicas_in_sync, type(self.strategy).__name__)
        iterator = self.make_iterator()
        session_started = time.perf_counter()
        last_save_time = time.monotonic()
        last_saved_step = start_step if self.restored_from else None
        window_started, window_steps, window_wait = time.perf_counter(), 0, 0.0
        total_wait = 0.0
        step = start_step
        metrics = {}
        status = "completed"
        failed = False
        previous_handlers = self._install_signal_handlers()
        try:
            while step < total_steps:
                if self._stop_signal is not None:
                    status = "interrupted"
                    logging.warning("Signal %d received: saving at step %d and stopping.",
                                    self._stop_signal, step)
                    break
                metrics, waited = self.train_step(iterator)
                bad = [name for name, value in metrics.items() if not math.isfinite(value)]
                if bad:
                    failed = True
                    raise NonFiniteLossError(
                        f"Non-finite {', '.join(bad)} at step {step + 1} (the update from step "
                        f"{step} to {step + 1}); stopping without saving. The last good "
                        f"checkpoint is {tf.train.latest_checkpoint(self.model_dir)}. Lower "
                        f"the learning rates or check the input data. Metrics: {metrics}")
                self.step.assign_add(1)
                self.examples_seen.assign_add(images_per_step)
                step += 1
                window_steps += 1
                window_wait += waited
                total_wait += waited

                if step % config.summary_every_steps == 0 or step == total_steps:
                    elapsed = time.perf_counter() - window_started
                    steps_per_second = window_steps / max(elapsed, 1e-9)
                    rates = {"steps_per_second": steps_per_second,
                             "images_per_second": steps_per_second * images_per_step,
                             "input_wait_fraction": window_wait / max(elapsed, 1e-9)}
                    self._write_scalars(step, {**metrics, **rates})
                    self._log_progress(step, total_steps, metrics, rates)
                    window_started, window_steps, window_wait = time.perf_counter(), 0, 0.0
                if (config.image_summary_every_steps and self.is_chief
                        and step % config.image_summary_every_steps == 0):
                    self._write_images(step)
                save_by_steps = (config.checkpoint_every_steps
                                 and step % config.checkpoint_every_steps == 0)
                # Time-based saves only with one worker: every worker must save at the same step.
                save_by_time = (self.num_workers == 1 and config.checkpoint_every_seconds
                                and time.monotonic() - last_save_time
                                >= config.checkpoint_every_seconds)
                if save_by_steps or save_by_time:
                    self._save(step)
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
                    self._save(step)
                if step != start_step:
                    self.export_generator()
            seconds = time.perf_counter() - session_started
            result = {
                "status": "failed" if failed else status, "step": step, "metrics": metrics,
                "seconds": seconds,
                "steps_per_second": (step - start_step) / max(seconds, 1e-9),
                "images_per_second": (step - start_step) * images_per_step / max(seconds, 1e-9),
                "input_wait_fraction": total_wait / max(seconds, 1e-9),
                "signal": self._stop_signal}
            self._append_train_log(start_step, result)
            self.summary_writer.flush()
            if self._scratch_dir:
                shutil.rmtree(self._scratch_dir, ignore_errors=True)
        logging.info("Stopped (%s) at step %d after %.0f s.", status, step, result["seconds"])
        return result

    # ------------------------------------------------------------------------------------------
    # Saving and reporting.

    def _save(self, step):
        path = self.checkpoint_manager.save(checkpoint_number=step, check_interval=False)
        if self.is_chief:
            logging.info("Saved %s.", path)
        return path

    def save(self):
        """Saves a checkpoint at the current step; returns its path."""
        return self._save(int(self.step.numpy()))

    def export_generator(self):
        """Writes the float16 generator weights to ``MODEL_DIR/generator_weights/`` and, with a
        weight average, the average to ``MODEL_DIR/generator_weights_average/`` (chief only).
        Returns the first folder."""
        if not self.is_chief:
            return None
        extra = {"stage": self.config.stage, "examples_seen": int(self.examples_seen.numpy()),
                 "image_size": self.config.data.image_size, "dataset": self.config.data.dataset}
        step = int(self.step.numpy())
        directory = os.path.join(self.model_dir, GENERATOR_WEIGHTS_DIR)
        save_generator_weights(self.generator, directory, step=step, extra=extra)
        if self.generator_average:
            save_generator_weights(
                self.generator, os.path.join(self.model_dir, GENERATOR_AVERAGE_DIR), step=step,
                extra={**extra, "weight_average_decay": self.generator_average.decay},
                arrays=self.generator_average.arrays())
        return directory

    def _write_scalars(self, step, values):
        with self.summary_writer.as_default(step=step):
            for name, value in values.items():
                write_scalar_summary(name, value, step)

    def _log_progress(self, step, total_steps, metrics, rates):
        remaining = (total_steps - step) / max(rates["steps_per_second"], 1e-9)
        shown = ("reconstruction", "refined_hole", "critic_loss", "generator_adversarial")
        losses_text = " ".join(f"{name}={metrics[name]:.4g}" for name in shown
                               if name in metrics)
        logging.info("step %d/%d (%.1f%%) | %.3f steps/s %.2f img/s | input wait %.0f%% | "
                     "ETA %s | %s", step, total_steps, 100.0 * step / total_steps,
                     rates["steps_per_second"], rates["images_per_second"],
                     100.0 * rates["input_wait_fraction"],
                     datetime.timedelta(seconds=int(remaining)), losses_text)

    def _remember_preview(self, batch):
        if self._preview_batch is None and self.is_chief:
            local = self.strategy.experimental_local_results(batch)[0]
            self._preview_batch = {key: tf.identity(value[:PREVIEW_EXAMPLES])
                                   for key, value in local.items()}

    def preview_grid(self):
        """The image grid of the first batch this session saw (see ``_preview_grid``)."""
        image, mask = self._preview_batch["image"], self._preview_batch["mask"]
        coarse, refined, scores = self._preview(image, mask)
        return _preview_grid(image, mask, coarse, refined, scores)

    def _write_images(self, step):
        if self._preview_batch is None:
            return
        with self.summary_writer.as_default(step=step):
            write_image_summary("input_coarse_refined_composite_attention", self.preview_grid(),
                                step)

    def _append_train_log(self, start_step, result):
        if not self.is_chief:
            return
        entry = {
            "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "stage": self.config.stage, "status": result["status"], "start_step": start_step,
            "end_step": result["step"], "seconds": round(result["seconds"], 1),
            "images_per_second": round(result["images_per_second"], 3),
            "input_wait_fraction": round(result["input_wait_fraction"], 3),
            "precision": self.precision, "cpu": cpu_model(),
            "replicas": self.strategy.num_replicas_in_sync,
            "image_size": self.config.data.image_size,
            "global_batch_size": self.global_batch_size,
            "metrics": {name: round(value, 6) for name, value in result["metrics"].items()}}
        with open(os.path.join(self.model_dir, TRAIN_LOG_NAME), "a") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")

    # ------------------------------------------------------------------------------------------
    # Signals.

    def _install_signal_handlers(self):
        if threading.current_thread() is not threading.main_thread():
            return None
        self._stop_signal = None

        def request_stop(signum, frame):
            if signum == signal.SIGINT and self._stop_signal is not None:
                raise KeyboardInterrupt  # A second Ctrl-C: stop now (still saves a checkpoint).
            self._stop_signal = signum

        previous = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, request_stop)
        return previous

    @staticmethod
    def _restore_signal_handlers(previous):
        for signum, handler in (previous or {}).items():
            signal.signal(signum, handler)


def _write_text(path, text):
    temporary = path + ".tmp"
    with open(temporary, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def train(config: TrainConfig, model_dir: str, total_steps=None, strategy=None,
          dataset_factory=None, init_weights=None):
    """``Trainer(config, model_dir, ...).train(total_steps)``; returns the run's result dict."""
    return Trainer(config, model_dir, strategy=strategy, dataset_factory=dataset_factory,
                   init_weights=init_weights).train(total_steps)


def checkpoint_has_average(checkpoint):
    """Whether ``checkpoint`` holds a weight average of the generator (``generator_ema``)."""
    return any(name.startswith(AVERAGE_KEY + "/")
               for name, _ in tf.train.list_variables(checkpoint))


def restore_generator(model_dir, checkpoint=None, average=False):
    """The generator of a training run (for export and evaluation), float32.

    Reads ``MODEL_DIR/generator_config.json`` and restores only the generator from ``checkpoint``
    (default: the latest in ``model_dir``); with ``average``, its weights are the run's weight
    average instead (ValueError if the run keeps none). Sets ``generator.restored_step``.
    """
    model_dir = os.path.abspath(os.path.expanduser(model_dir))
    with open(os.path.join(model_dir, GENERATOR_CONFIG_NAME)) as handle:
        generator_config = GeneratorConfig.from_dict(json.load(handle))
    checkpoint = checkpoint or tf.train.latest_checkpoint(model_dir)
    if checkpoint is None:
        raise FileNotFoundError(f"No checkpoint in {model_dir}.")
    with _dtype_policy("float32"):
        generator = Generator(generator_config)
        # Weights do not depend on the input size: build at a small multiple of the cell.
        side = generator_config.cell_size * 4
        generator.build_for_size(side, side)
    names = {name for name, _ in tf.train.list_variables(checkpoint)}
    if average:
        if not checkpoint_has_average(checkpoint):
            raise ValueError(f"{checkpoint} holds no weight average of the generator (the run's "
                             "generator_ema_decay was 0); restore without average=True.")
        status = tf.train.Checkpoint(**{AVERAGE_KEY: named_variables(generator)}).restore(
            checkpoint)
    elif any(name.startswith("generator_variables/") for name in names):
        status = tf.train.Checkpoint(generator_variables=named_variables(generator)).restore(
            checkpoint)
    else:
        # Checkpoints written before ``generator_variables`` existed hold the weights of
        # list-held layers only under the optimizer's variable list (same order as here).
        optimizer = keras.optimizers.Adam()
        optimizer.build(generator.trainable_variables)
        status = tf.train.Checkpoint(generator=generator,
                                     generator_optimizer=optimizer).restore(checkpoint)
    status.expect_partial()
    status.assert_existing_objects_matched()  # Every generator weight was in the checkpoint.
    generator.restored_step = int(tf.train.load_variable(checkpoint,
                                                         "step/.ATTRIBUTES/VARIABLE_VALUE"))
    return generator
