r"""The bundled model, stage 2: the paper's Algorithm 1 on the photos run.

The same data, crops, generator and weight average as ``experiments/photos.py`` (stage 1), with
the paper's objective: ``critic_steps`` = 5 WGAN-GP critic updates (Eq. 9, σ = 10), then one
generator update on L1 (α1 = 1 in the hole, α2 = 1.2 in the context, Eq. 10-13) plus
β = 1e-4 times the adversarial term (Eq. 14). Run it in the SAME model_dir as stage 1: the
generator, its Adam state, the weight average and the data position continue; the critic and
its optimizer start fresh (a reconstruction checkpoint has none)::

    nohup .venv/bin/python -m crainpaint.train --experiment experiments/photos_adversarial.py \
        --model_dir ~/.cache/crainpaint/runs/photos >> ~/.cache/crainpaint/runs/photos.log 2>&1 &

One step reads 6 batches (five for the critic, one for the generator), so exports and
checkpoints come every 250 steps instead of stage 1's 1000
(``python experiments/benchmark_training.py --sizes 512 --batches 1`` measures a step).

Smoke (seconds)::

    python -m crainpaint.train --experiment experiments/photos_adversarial.py --smoke \
        --model_dir /tmp/photos_adversarial_smoke
"""

import dataclasses

from experiments import photos
from experiments.common import smoke_variant


def get_config():
    return dataclasses.replace(photos.get_config(), stage="adversarial",
                               checkpoint_every_steps=250, export_generator_every_steps=250,
                               image_summary_every_steps=250, summary_every_steps=10)


def get_smoke_config():
    return smoke_variant(get_config())
