"""What the trainer does between loops, on its cadence: TensorBoard summaries and previews,
generator weight export, and the run log.

* ``Summaries``: scalars (every loss term, gradient norms, steps/s, images/s, and how
  concentrated the ACM's attention is over the hole cells: ``attention/effective_sources`` and
  ``attention/top_weight``, see ``crainpaint.evaluation.attention``) and image grids, in
  ``MODEL_DIR/train/`` through a ``tf.summary`` file writer. The events are written with
  ``tf.summary.write`` and the scalar / image plugin metadata, the format ``tf.summary.scalar``
  and ``tf.summary.image`` write: those two come from the tensorboard package, which is not a
  dependency here.
* ``preview_grid``: masked input | coarse | refined | composite | attention scores.
* ``export_generator_weights``: float16 generator weights in ``MODEL_DIR/generator_weights/``
  and, with a weight average, the average in ``MODEL_DIR/generator_weights_average/``.
* ``append_run_log``: one JSON line per run of the trainer in ``MODEL_DIR/train_log.jsonl`` (steps, wall
  time, CPU, precision, images/s, status, last metrics).
"""

from __future__ import annotations

import datetime
import json
import os

import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from crainpaint.system_info import NATIVE_BF16_CPU_FLAGS, cpu_description
from crainpaint.training import losses
from crainpaint.weights import save_generator_weights

SUMMARY_DIR = "train"
GENERATOR_WEIGHTS_DIR = "generator_weights"
GENERATOR_AVERAGE_DIR = "generator_weights_average"
TRAIN_LOG_NAME = "train_log.jsonl"
PREVIEW_EXAMPLES = 4
PREVIEW_TAG = "input_coarse_refined_composite_attention"


def _summary_metadata(plugin_name, data_class):
    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = plugin_name
    metadata.data_class = data_class
    return metadata


def write_scalar_summary(name, value, step):
    """A TensorBoard scalar in the default summary writer."""
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


class Summaries:
    """The run's TensorBoard writer (a no-op writer on non-chief workers).

    Args:
        model_dir: the run folder; events go to ``model_dir/train/``.
        enabled: False on non-chief workers.
    """

    def __init__(self, model_dir, enabled=True):
        if enabled:
            self.writer = tf.summary.create_file_writer(os.path.join(model_dir, SUMMARY_DIR))
        else:
            self.writer = tf.summary.create_noop_writer()

    def scalars(self, step, values):
        """One scalar per entry of ``values`` (name → number) at ``step``."""
        with self.writer.as_default(step=step):
            for name, value in values.items():
                write_scalar_summary(name, value, step)

    def images(self, step, grid):
        """The preview grid (float [B, H, W, 3] in [0, 1]) at ``step``."""
        with self.writer.as_default(step=step):
            write_image_summary(PREVIEW_TAG, grid, step)

    def flush(self):
        self.writer.flush()


def preview_grid(image, mask, coarse, refined, scores):
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


def first_local_examples(strategy, batch, count=PREVIEW_EXAMPLES):
    """The first ``count`` examples of the first local replica's share of a distributed batch."""
    local = strategy.experimental_local_results(batch)[0]
    return {key: tf.identity(value[:count]) for key, value in local.items()}


def export_generator_weights(task, model_dir):
    """Writes the generator's float16 weights (and the weight average's) into ``model_dir``.

    Returns:
        The ``generator_weights`` folder.
    """
    config = task.config
    extra = {"stage": config.stage, "examples_seen": int(task.examples_seen.numpy()),
             "image_size": config.data.image_size, "dataset": config.data.dataset}
    step = int(task.step.numpy())
    directory = os.path.join(model_dir, GENERATOR_WEIGHTS_DIR)
    save_generator_weights(task.generator, directory, step=step, extra=extra)
    if task.generator_average:
        save_generator_weights(
            task.generator, os.path.join(model_dir, GENERATOR_AVERAGE_DIR), step=step,
            extra={**extra, "weight_average_decay": task.generator_average.decay},
            arrays=task.generator_average.arrays())
    return directory


def append_run_log(model_dir, task, start_step, result):
    """Appends the line of this run of the trainer to ``model_dir/train_log.jsonl``.

    Args:
        model_dir: the run folder.
        task: the ``InpaintingTask``.
        start_step: the step this run started at.
        result: the trainer's result dict (status, step, seconds, images_per_second, metrics).
    """
    config = task.config
    entry = {
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "stage": config.stage, "status": result["status"], "start_step": start_step,
        "end_step": result["step"], "seconds": round(result["seconds"], 1),
        "images_per_second": round(result["images_per_second"], 3),
        "precision": task.precision, "cpu": cpu_description(NATIVE_BF16_CPU_FLAGS),
        "replicas": task.strategy.num_replicas_in_sync,
        "image_size": config.data.image_size, "global_batch_size": task.global_batch_size,
        "metrics": {name: round(value, 6) for name, value in result["metrics"].items()}}
    with open(os.path.join(model_dir, TRAIN_LOG_NAME), "a") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
