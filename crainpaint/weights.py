"""Where a generator's weights live: the weight folder format and the training checkpoints.

A weight folder (the bundled ``crainpaint/pretrained/``, a run's ``generator_weights/``, the
output of ``experiments/bundle_weights.py``) holds two files:

* ``generator.npz``: one array per weight (float16 by default), keyed by the weight's Keras path
  (``variable.path``, stable across processes);
* ``generator.json``: ``{"config": GeneratorConfig fields, "step": int, "dtype": str,
  "max_cast_error": float, ...}`` plus whatever the writer adds (stage, examples seen, ...).

A training checkpoint (``MODEL_DIR/ckpt-N``) holds every generator weight by the same path under
``generator_variables/`` and, when the run keeps a weight average, the average under
``generator_ema/``; ``MODEL_DIR/generator_config.json`` says which generator it is.
``restore_generator`` reads only those, so the export and the bundling tool need neither the
trainer nor the optimizers.
"""

from __future__ import annotations

import contextlib
import json
import os

import numpy as np

from crainpaint.models import Generator, GeneratorConfig, build_generator_with_weights

WEIGHTS_NAME = "generator.npz"
METADATA_NAME = "generator.json"
GENERATOR_CONFIG_NAME = "generator_config.json"
# Checkpoint keys: every generator weight by its Keras path, and the weight average.
GENERATOR_VARIABLES_KEY = "generator_variables"
AVERAGE_KEY = "generator_ema"


def named_variables(model):
    """``{variable.path: variable}`` of a Keras model, for ``tf.train.Checkpoint``.

    Keras 3 layers kept in Python lists (the generator's ``blocks``, the critic's ``convs``) are
    invisible to TF's checkpoint object graph: ``tf.train.Checkpoint(generator=...)`` alone saves
    those weights only through the optimizer's slot list, so the generator could not be restored
    without its optimizer. This dict makes every weight reachable by its stable Keras path.
    """
    return {variable.path: variable for variable in model.weights}


# ------------------------------------------------------------------------------------------------
# Weight folders.


def save_generator_weights(generator, directory, step=None, extra=None, dtype=np.float16,
                           arrays=None):
    """Writes ``generator.npz`` + ``generator.json`` into ``directory`` (atomically per file).

    Args:
        generator: a built ``Generator``.
        directory: the folder (created if missing).
        step: the training step the weights come from (metadata).
        extra: more metadata fields.
        dtype: the storage dtype.
        arrays: ``{variable.path: array}`` for every weight of ``generator``, stored instead of
            the generator's own values (e.g. a weight average); checked before anything is
            written.

    Returns:
        The largest absolute difference introduced by the cast to ``dtype``.
    """
    if arrays is None:
        arrays = {variable.path: np.asarray(variable.numpy()) for variable in generator.weights}
    else:
        missing = sorted({variable.path for variable in generator.weights} - set(arrays))
        if missing:
            raise ValueError(f"arrays lacks generator weights {missing[:5]}.")
        wrong = [f"{variable.path} {np.shape(arrays[variable.path])} (expected "
                 f"{tuple(variable.shape)})" for variable in generator.weights
                 if np.shape(arrays[variable.path]) != tuple(variable.shape)]
        if wrong:
            raise ValueError(f"arrays has weights of the wrong shape: {wrong[:5]}.")
        arrays = {variable.path: np.asarray(arrays[variable.path])
                  for variable in generator.weights}
    os.makedirs(directory, exist_ok=True)
    stored = {name: value.astype(dtype) for name, value in arrays.items()}
    max_error = max(float(np.max(np.abs(stored[name].astype(np.float32) - value)))
                    for name, value in arrays.items())
    weights_path = os.path.join(directory, WEIGHTS_NAME)
    temporary = weights_path + ".tmp.npz"
    np.savez_compressed(temporary, **stored)
    os.replace(temporary, weights_path)
    metadata = {"config": generator.config.to_dict(), "step": step, "dtype": np.dtype(dtype).name,
                "max_cast_error": max_error}
    metadata.update(extra or {})
    write_json(os.path.join(directory, METADATA_NAME), metadata)
    return max_error


def write_json(path, values):
    """Writes ``values`` as indented JSON to ``path`` atomically (a temp file, then a rename)."""
    temporary = path + ".tmp"
    with open(temporary, "w") as handle:
        json.dump(values, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(temporary, path)


def has_weights(directory):
    """Whether ``directory`` holds both files of a weight folder."""
    return all(os.path.exists(os.path.join(directory, name))
               for name in (WEIGHTS_NAME, METADATA_NAME))


def read_metadata(directory, expected_config=None):
    """The ``generator.json`` of a weight folder, checked.

    Args:
        directory: the weight folder.
        expected_config: a ``GeneratorConfig`` the weights must be for (None = any).

    Raises:
        FileNotFoundError: a file of the folder is missing (the message names both).
        ValueError: the weights are for another generator than ``expected_config``.
    """
    if not has_weights(directory):
        raise FileNotFoundError(f"No {METADATA_NAME} and {WEIGHTS_NAME} in {directory}: expected "
                                "a folder written by save_generator_weights (for example "
                                "crainpaint/pretrained or MODEL_DIR/generator_weights).")
    with open(os.path.join(directory, METADATA_NAME)) as handle:
        metadata = json.load(handle)
    saved = GeneratorConfig.from_dict(metadata["config"])
    if expected_config is not None and saved != expected_config:
        raise ValueError(f"The weights in {directory} are for {saved}, but {expected_config} was "
                         "expected; load weights only into the same generator.")
    return metadata


def assign_weights(generator, directory):
    """Sets every weight of a built ``generator`` from ``directory/generator.npz`` (cast to the
    variables' dtype); ValueError naming the missing weights if the file lacks some."""
    with np.load(os.path.join(directory, WEIGHTS_NAME)) as arrays:
        names = set(arrays.files)
        missing = [variable.path for variable in generator.weights if variable.path not in names]
        if missing:
            raise ValueError(f"Weights in {directory} do not match the generator: missing "
                             f"{missing[:5]}{' …' if len(missing) > 5 else ''}.")
        for variable in generator.weights:
            variable.assign(arrays[variable.path].astype(variable.dtype))


def load_generator_weights(directory):
    """A built ``Generator`` with the weights of ``directory`` (see ``save_generator_weights``);
    its ``pretrained_metadata`` is the folder's ``generator.json``."""
    metadata = read_metadata(directory)
    # Every variable is created holding its stored value (no random draw to overwrite).
    with np.load(os.path.join(directory, WEIGHTS_NAME)) as arrays:
        generator = build_generator_with_weights(GeneratorConfig.from_dict(metadata["config"]),
                                                 arrays)
    generator.pretrained_metadata = metadata
    return generator


# ------------------------------------------------------------------------------------------------
# Training checkpoints.


@contextlib.contextmanager
def dtype_policy(policy):
    """Layers created inside keep ``policy``; the global Keras policy is restored afterwards."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def checkpoint_has_average(checkpoint):
    """Whether ``checkpoint`` holds a weight average of the generator (``generator_ema``)."""
    import tensorflow as tf

    return any(name.startswith(AVERAGE_KEY + "/")
               for name, _ in tf.train.list_variables(checkpoint))


def restore_generator(model_dir, checkpoint=None, average=False):
    """The generator of a training run (for export and evaluation), float32.

    Args:
        model_dir: the run's folder (``MODEL_DIR/generator_config.json`` says which generator).
        checkpoint: the checkpoint prefix (default: the latest in ``model_dir``).
        average: restore the run's weight average instead of the latest weights.

    Returns:
        A built ``Generator`` with ``restored_step`` set to the checkpoint's step.

    Raises:
        FileNotFoundError: no checkpoint in ``model_dir``.
        ValueError: ``average`` and the run keeps no weight average.
    """
    import keras
    import tensorflow as tf

    model_dir = os.path.abspath(os.path.expanduser(model_dir))
    with open(os.path.join(model_dir, GENERATOR_CONFIG_NAME)) as handle:
        generator_config = GeneratorConfig.from_dict(json.load(handle))
    checkpoint = checkpoint or tf.train.latest_checkpoint(model_dir)
    if checkpoint is None:
        raise FileNotFoundError(f"No checkpoint in {model_dir}.")
    with dtype_policy("float32"):
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
    elif any(name.startswith(GENERATOR_VARIABLES_KEY + "/") for name in names):
        status = tf.train.Checkpoint(
            **{GENERATOR_VARIABLES_KEY: named_variables(generator)}).restore(checkpoint)
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
