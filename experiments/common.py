"""Shared building blocks of the experiment configs in this folder.

Every experiment file exposes ``get_config()`` (the real run) and ``get_smoke_config()`` (a tiny
variant that trains in seconds: 64² images, a quarter-width generator and critic, batch 2, a few
steps) and has its exact run command in its docstring. The training command is::

    python -m crainpaint.train --experiment experiments/<name>.py --model_dir <dir>
        [--smoke] [--data_dir D] [--steps N] [--batch_size B] [--stage S] [--image_size S]
        [--mixed_precision auto|float32|mixed_bfloat16]

The resolved config is written to ``<model_dir>/config.json``.
"""

from __future__ import annotations

import dataclasses
import os

from crainpaint.models import CriticConfig, GeneratorConfig
from crainpaint.training.config import TrainConfig
from data_pipelines import DataConfig, MaskConfig

# The paper's training recipe (Sec. 4): 512×512 images, batch 8, the adversarial objective.
PAPER_IMAGE_SIZE = 512
PAPER_BATCH_SIZE = 8
# The author trained 200-300k steps; the paper does not say.
PAPER_STEPS = 300_000


def paper_config(dataset, data_dir=None, coarse_gate="single_channel", refine_gate="pixelwise",
                 image_size=PAPER_IMAGE_SIZE, batch_size=PAPER_BATCH_SIZE, stage="adversarial",
                 total_steps=PAPER_STEPS, **overrides):
    """The paper's setup on ``dataset``; ``overrides`` are other TrainConfig fields.

    The gates default to the paper's choice, LWGCsc (coarse) + LWGCpw (refine), Sec. 4.2.
    """
    if data_dir is not None:
        data_dir = os.path.expanduser(data_dir)
    return TrainConfig(
        generator=GeneratorConfig(coarse_gate=coarse_gate, refine_gate=refine_gate),
        critic=CriticConfig(input_size=image_size),
        data=DataConfig(dataset=dataset, data_dir=data_dir, image_size=image_size,
                        global_batch_size=batch_size, mask=MaskConfig()),
        stage=stage, total_steps=total_steps, **overrides)


def smoke_variant(config, total_steps=3):
    """A tiny copy of ``config`` (same data set, gates, stage and losses) for smoke tests.

    64² images and a 4×4 attention grid keep the paper's 16-px cell; width 0.25; batch 2;
    summaries, images, checkpoints and exports every step so every code path runs.
    """
    generator = dataclasses.replace(config.generator, input_size=64, attention_grid=4,
                                    width_multiplier=0.25)
    data = dataclasses.replace(config.data, image_size=64, global_batch_size=2)
    return dataclasses.replace(
        config, generator=generator,
        critic=dataclasses.replace(config.critic, input_size=64, width_multiplier=0.25),
        data=data, total_steps=total_steps, checkpoint_every_steps=total_steps,
        checkpoint_every_seconds=0.0, summary_every_steps=1, image_summary_every_steps=1,
        export_generator_every_steps=total_steps, mixed_precision="float32")


def ablation_config(coarse_gate, refine_gate):
    """One cell of the LWGC comparison of Fig. 4 (Sec. 4.2, on CelebA-HQ)."""
    return paper_config("celeba_hq", coarse_gate=coarse_gate, refine_gate=refine_gate)
