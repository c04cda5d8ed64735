"""Training of the generator and critic (paper Sec. 3.5, Algorithm 1).

* ``losses``: Eq. 9-14 as per-example functions (``wgan_gp_critic_loss``, ``wgan_generator_loss``,
  ``gradient_penalty``, ``reconstruction_loss``).
* ``config``: ``TrainConfig`` (JSON round-trip), stages ``reconstruction`` / ``adversarial``.
* ``trainer``: ``Trainer`` / ``train`` (tf.distribute, checkpoints, summaries) and
  ``restore_generator`` for export.
* ``weight_average``: ``WeightAverage``, the optional moving average of the generator's weights.

The command line is ``python -m crainpaint.train --experiment experiments/<name>.py``.
"""

from crainpaint.training.config import STAGES, TrainConfig, cpu_has_native_bf16
from crainpaint.training.losses import (gradient_penalty, paste_back, reconstruction_loss,
                                        reconstruction_loss_terms, wgan_generator_loss,
                                        wgan_gp_critic_loss)
from crainpaint.training.trainer import (NonFiniteLossError, Trainer, cpu_model, create_strategy,
                                         restore_generator, train)

__all__ = ["NonFiniteLossError", "STAGES", "TrainConfig", "Trainer", "cpu_has_native_bf16", "cpu_model",
           "create_strategy", "gradient_penalty", "paste_back", "reconstruction_loss",
           "reconstruction_loss_terms", "restore_generator", "train", "wgan_generator_loss",
           "wgan_gp_critic_loss"]
