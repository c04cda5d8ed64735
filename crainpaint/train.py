r"""Trains the generator (and critic): a thin absl entry point over ``crainpaint.training``.

    python -m crainpaint.train --experiment experiments/photos.py \
        --model_dir ~/.cache/crainpaint/runs/photos

``--experiment`` is an ``experiments/*.py`` file with ``get_config()`` (and ``get_smoke_config()``
for ``--smoke``); the other flags override its fields. Rerunning the same command resumes from
the latest checkpoint in ``--model_dir``. SIGTERM / Ctrl-C save a checkpoint and exit (status
143 / 130); a NaN or Inf loss stops with an error naming the step and keeps the last good
checkpoint. A run that cannot start (another trainer in ``--model_dir``, an empty or missing
data folder, warm-start weights of another generator) prints one line saying why and exits with
status 2, before anything is written into ``--model_dir``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import signal
import sys

from absl import app, flags, logging

flags.DEFINE_string("experiment", None,
                    "Path to an experiments/*.py file exposing get_config() (required).")
flags.DEFINE_bool("smoke", False, "Use the experiment's get_smoke_config() (tiny, seconds).")
flags.DEFINE_string("model_dir", None,
                    "Checkpoints, summaries and configs; resumes from it (default: "
                    "~/.cache/crainpaint/runs/<experiment>[_smoke]).")
flags.DEFINE_string("data_dir", None, "Overrides data.data_dir.")
flags.DEFINE_integer("steps", None, "Overrides total_steps (the global step to reach).")
flags.DEFINE_integer("batch_size", None, "Overrides data.global_batch_size.")
flags.DEFINE_integer("image_size", None, "Overrides data.image_size (and the critic's).")
flags.DEFINE_enum("stage", None, ["reconstruction", "adversarial"], "Overrides stage.")
flags.DEFINE_enum("mixed_precision", None, ["auto", "float32", "mixed_bfloat16"],
                  "Overrides mixed_precision.")

flags.DEFINE_string("init_weights", None,
                    "Warm start: when --model_dir has no checkpoint yet, initialise the generator "
                    "from this weights folder ('bundled' = crainpaint/pretrained) and continue its "
                    "step count. Ignored when resuming from a checkpoint.")

FLAGS = flags.FLAGS


def resolve_init_weights(value):
    """``--init_weights``: None, ``"bundled"`` (the weights shipped in crainpaint/pretrained) or
    a weight folder (``crainpaint.weights``)."""
    if not value:
        return None
    if value == "bundled":
        from crainpaint.pretrained import PRETRAINED_DIR

        return PRETRAINED_DIR
    return os.path.abspath(os.path.expanduser(value))


def load_experiment(path):
    """Imports an experiment file by path (its repository root goes on sys.path first, so it
    can ``from experiments.common import ...``)."""
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No experiment file {path}; pass e.g. "
                                "--experiment experiments/photos.py.")
    root = os.path.dirname(os.path.dirname(path))
    if root not in sys.path:
        sys.path.insert(0, root)
    name = "crainpaint_experiment_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def experiment_config(path, smoke=False):
    module = load_experiment(path)
    function = "get_smoke_config" if smoke else "get_config"
    if not hasattr(module, function):
        raise AttributeError(f"{path} defines no {function}().")
    return getattr(module, function)()


def apply_overrides(config, data_dir=None, steps=None, batch_size=None, image_size=None,
                    stage=None, mixed_precision=None):
    """A copy of a TrainConfig with the command-line overrides applied (None = keep).

    In the adversarial stage the critic's input size follows the training image size (its dense
    layer depends on it), so ``--stage adversarial --image_size 512`` needs nothing else.
    """
    data_changes = {}
    if data_dir is not None:
        data_changes["data_dir"] = os.path.abspath(os.path.expanduser(data_dir))
    if batch_size is not None:
        data_changes["global_batch_size"] = batch_size
    if image_size is not None:
        data_changes["image_size"] = image_size
    data = dataclasses.replace(config.data, **data_changes)
    changes = {"data": data}
    if steps is not None:
        changes["total_steps"] = steps
    if stage is not None:
        changes["stage"] = stage
    if mixed_precision is not None:
        changes["mixed_precision"] = mixed_precision
    if (stage or config.stage) == "adversarial" and config.critic.input_size != data.image_size:
        changes["critic"] = dataclasses.replace(config.critic, input_size=data.image_size)
    return dataclasses.replace(config, **changes)


def default_model_dir(experiment_path, smoke):
    name = os.path.splitext(os.path.basename(experiment_path))[0] + ("_smoke" if smoke else "")
    return os.path.join(os.path.expanduser("~"), ".cache", "crainpaint", "runs", name)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if not FLAGS["verbosity"].present:
        logging.set_verbosity(logging.INFO)  # The progress lines are INFO.
    # Imported here so --help answers without loading TensorFlow.
    from crainpaint.training import TrainingSetupError, train

    config = experiment_config(FLAGS.experiment, FLAGS.smoke)
    config = apply_overrides(config, data_dir=FLAGS.data_dir, steps=FLAGS.steps,
                             batch_size=FLAGS.batch_size, image_size=FLAGS.image_size,
                             stage=FLAGS.stage, mixed_precision=FLAGS.mixed_precision)
    model_dir = FLAGS.model_dir or default_model_dir(FLAGS.experiment, FLAGS.smoke)
    logging.info("Experiment %s%s → %s", FLAGS.experiment, " (smoke)" if FLAGS.smoke else "",
                 model_dir)
    try:
        result = train(config, model_dir, init_weights=resolve_init_weights(FLAGS.init_weights))
    except TrainingSetupError as error:
        print(f"crainpaint.train: {error}", file=sys.stderr)
        return 2
    logging.info("%s at step %d: %s", result["status"], result["step"],
                 {name: round(value, 5) for name, value in result["metrics"].items()})
    if result["status"] == "interrupted":
        received = result.get("signal") or signal.SIGINT
        return 128 + int(received)
    return 0


def run():
    flags.mark_flag_as_required("experiment")
    app.run(main)


if __name__ == "__main__":
    run()
