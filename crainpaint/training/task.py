"""The training task (paper Sec. 3.5, Algorithm 1): models, optimizers, inputs, losses and one
train step, under a ``tf.distribute`` strategy. No files, no cadence: ``trainer.py`` owns those.

``InpaintingTask(config, strategy)`` builds:

* the generator and its Adam optimizer, the optional weight average of the generator, and in the
  adversarial stage the critic and its Adam optimizer, all under the strategy's scope and the
  run's dtype policy;
* ``step`` (generator updates so far: two optimizers make ``optimizer.iterations`` ambiguous) and
  ``examples_seen`` (where the data stream resumes), the run's two counters.

One ``train_step(iterator)``, traced inside the loop of ``loop.py``:

* stage ``"adversarial"`` (Algorithm 1): ``critic_steps`` critic updates, each on a fresh batch,
  with the generator's refined output pasted back into the real image (``y ⊙ m + x ⊙ (1 − m)``)
  before the critic sees it and the gradient penalty taken at interpolates ``(1 − α) x + α x̃``
  with α ~ U[0, 1] per example (Eq. 9); then one generator update on a fresh batch with
  ``L_g = L_rec + β L_adv`` (Eq. 14), the adversarial term on the composite.
* stage ``"reconstruction"``: only the generator update with β = 0 and no critic (a documented
  deviation used to warm-start; see ``config.py``).

Every replica step runs with ``strategy.run`` on a distributed batch; losses are per example and
averaged over the GLOBAL batch with ``tf.nn.compute_average_loss``, so any number of replicas
gives the single-device result. Random interpolation weights α are drawn for the whole global
batch from a stateless seed (config seed, critic update index) and sliced per replica, so they
too do not depend on the replica count.
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf

from crainpaint.evaluation.attention import attention_statistic_sums_tf
from crainpaint.layers.attention import grid_hole_mask
from crainpaint.models import Critic, Generator
from crainpaint.training import losses
from crainpaint.training.config import TrainConfig
from crainpaint.training.weight_average import WeightAverage
from crainpaint.weights import dtype_policy

# The metrics of a train step, besides the generator's losses and gradient norm.
RECONSTRUCTION_TERMS = ("coarse_context", "coarse_hole", "refined_context", "refined_hole")
ATTENTION_METRICS = ("attention/effective_sources", "attention/top_weight")
CRITIC_METRICS = ("critic_gradient_norm", "critic_loss", "gradient_penalty",
                  "wasserstein_estimate")


def create_strategy():
    """``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` is set, else ``MirroredStrategy``."""
    if os.environ.get("TF_CONFIG"):
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.MirroredStrategy()


def worker_role(strategy):
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


class InpaintingTask:
    """The models, optimizers, counters, inputs and step functions of one ``TrainConfig``.

    Args:
        config: the ``TrainConfig``.
        strategy: the ``tf.distribute.Strategy`` everything is built under.
        dataset_factory: ``(DataConfig, start_example) → tf.data.Dataset`` of global batches
            ``{"image", "mask"}``.

    Attributes:
        generator, generator_optimizer, generator_average (a ``WeightAverage`` or None), critic,
        critic_optimizer (None in the reconstruction stage), step, examples_seen.
    """

    def __init__(self, config: TrainConfig, strategy, dataset_factory):
        self.config = config
        self.strategy = strategy
        self.dataset_factory = dataset_factory
        self.precision = config.resolved_mixed_precision()
        self.adversarial = config.stage == "adversarial"
        self.global_batch_size = config.data.global_batch_size
        self.images_per_step = config.batches_per_step * self.global_batch_size
        replicas = strategy.num_replicas_in_sync
        if self.global_batch_size % replicas:
            raise ValueError(f"data.global_batch_size ({self.global_batch_size}) must be a "
                             f"multiple of the {replicas} replicas in sync.")
        self._build_models()
        self._generator_step = tf.function(self._distributed_generator_step)
        self._critic_step = tf.function(self._distributed_critic_step)
        self._preview = tf.function(lambda image, mask: self.generator((image, mask),
                                                                       training=False))

    def _build_models(self):
        config = self.config
        size = config.data.image_size
        # Same seed → same initial weights in every process (MWMS also broadcasts them).
        keras.utils.set_random_seed(config.seed)
        with dtype_policy(self.precision), self.strategy.scope():
            self.generator = Generator(config.generator)
            self.generator.build_for_size(size, size)
            self.generator_optimizer = keras.optimizers.Adam(
                config.generator_learning_rate, beta_1=config.adam_beta_1,
                beta_2=config.adam_beta_2, name="generator_adam")
            # Built here: an optimizer built lazily inside strategy.run fails under
            # MirroredStrategy.
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
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step",
                                    aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
            self.examples_seen = tf.Variable(
                0, dtype=tf.int64, trainable=False, name="examples_seen",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

    # ------------------------------------------------------------------------------------------
    # Inputs.

    def distributed_dataset(self, start_example):
        """The distributed dataset of global batches from ``start_example`` on.

        Every input pipeline (one per worker) builds the same stream of GLOBAL batches, a pure
        function of (seed, example index), and keeps its own slice; the slice is split between
        the local replicas in order. So replica r of any layout gets examples
        ``[r·b, (r + 1)·b)`` of every global batch — what the single-device step sees.
        """
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

        return self.strategy.distribute_datasets_from_function(dataset_fn)

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
    # Distributed steps (cross-replica context).

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
        """One generator update (Eq. 13 or 14) on a distributed batch → dict of scalar tensors.
        Does not advance the counters."""
        return self._generator_step(batch)

    def critic_step(self, batch, update_index):
        """One critic update (Eq. 9); ``update_index`` (an int) seeds the interpolation weights.
        Does not advance the counters."""
        seed = tf.constant([self.config.seed, update_index], dtype=tf.int64)
        return self._critic_step(batch, seed)

    def metric_names(self):
        """The keys of ``train_step``'s metrics (the loop carries them from step to step)."""
        names = RECONSTRUCTION_TERMS + ("reconstruction", "generator_loss",
                                        "generator_gradient_norm") + ATTENTION_METRICS
        if self.adversarial:
            names += ("generator_adversarial",) + CRITIC_METRICS
        return tuple(sorted(names))

    def train_step(self, iterator):
        """One training step, to be traced: the critic updates of Algorithm 1 (adversarial stage),
        one generator update, then both counters advance.

        Args:
            iterator: an iterator of the distributed dataset (``distributed_dataset``); each
                update takes its own batch.

        Returns:
            dict name → float32 scalar tensor (keys: ``metric_names()``): the generator update's
            metrics and, in the adversarial stage, the critic metrics averaged over the step's
            critic updates.
        """
        config = self.config
        metrics = {}
        if self.adversarial:
            sums = {name: tf.constant(0.0) for name in CRITIC_METRICS}
            first_update = self.step * config.critic_steps
            for index in tf.range(config.critic_steps, dtype=tf.int64):
                # Critic update number step·critic_steps + index seeds its α (resumable).
                seed = tf.stack([tf.constant(config.seed, tf.int64), first_update + index])
                update = self._distributed_critic_step(next(iterator), seed)
                sums = {name: sums[name] + tf.cast(update[name], tf.float32) for name in sums}
            metrics = {name: value / float(config.critic_steps) for name, value in sums.items()}
        generator_metrics = self._distributed_generator_step(next(iterator))
        metrics.update({name: tf.cast(value, tf.float32)
                        for name, value in generator_metrics.items()})
        self.step.assign_add(1)
        self.examples_seen.assign_add(self.images_per_step)
        return metrics

    def preview(self, image, mask):
        """(coarse, refined, attention scores) of the generator in inference mode."""
        return self._preview(image, mask)
