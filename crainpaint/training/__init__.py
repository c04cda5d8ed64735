"""Training of the generator and critic (paper Sec. 3.5, Algorithm 1).

* ``losses``: Eq. 9-14 as per-example functions (``wgan_gp_critic_loss``, ``wgan_generator_loss``,
  ``gradient_penalty``, ``reconstruction_loss``).
* ``config``: ``TrainConfig`` (JSON round-trip), stages ``reconstruction`` / ``adversarial``.
* ``task``: ``InpaintingTask``, the models, optimizers, inputs and one train step.
* ``loop``: ``TrainLoop``, ``steps_per_loop`` steps inside one traced function.
* ``checkpoints``, ``actions``, ``run_dir``: the checkpoint and warm start; summaries, previews,
  weight export and the run log; the lock on the run folder.
* ``trainer``: ``Trainer`` / ``train``, the controller over those parts.
* ``weight_average``: ``WeightAverage``, the optional moving average of the generator's weights.

``restore_generator`` (a run's generator for export) is ``crainpaint.weights.restore_generator``.
The command line is ``python -m crainpaint.train --experiment experiments/<name>.py``.
"""

from crainpaint.system_info import cpu_model
from crainpaint.training.config import (STAGES, TrainConfig, TrainingSetupError,
                                        cpu_has_native_bf16)
from crainpaint.training.losses import (gradient_penalty, paste_back, reconstruction_loss,
                                        reconstruction_loss_terms, wgan_generator_loss,
                                        wgan_gp_critic_loss)
from crainpaint.training.run_dir import RunDirectoryBusyError
from crainpaint.training.task import InpaintingTask, create_strategy
from crainpaint.training.trainer import NonFiniteLossError, Trainer, train
from crainpaint.weights import restore_generator

__all__ = ["InpaintingTask", "NonFiniteLossError", "RunDirectoryBusyError", "STAGES",
           "TrainConfig", "Trainer", "TrainingSetupError", "cpu_has_native_bf16", "cpu_model",
           "create_strategy", "gradient_penalty", "paste_back", "reconstruction_loss",
           "reconstruction_loss_terms", "restore_generator", "train", "wgan_generator_loss",
           "wgan_gp_critic_loss"]
