r"""The bundled model, stage 1: the paper's generator trained on real photographs from Debian
packages (``~/.cache/crainpaint/data/photos/train``, see ``experiments/data/README.md``).

This config is the ``reconstruction`` stage (β = 0, no critic; a documented deviation that
warm-starts the generator cheaply on a CPU) on 512² multi-scale crops (the paper's training
size, Sec. 4.1), batch 1. The model is the paper's ``GeneratorConfig()`` (2.7 M parameters,
16-px attention cells) with the additions explained in ``get_config``. The model card
("Training") tells how the bundled weights were trained. Run in the background, resumable::

    nohup .venv/bin/python -m crainpaint.train --experiment experiments/photos.py \
        --model_dir ~/.cache/crainpaint/runs/photos > ~/.cache/crainpaint/runs/photos.log 2>&1 &

On a machine without that folder, warm-start from the committed weights (same step count;
Adam's moments start at zero): add ``--init_weights bundled`` (``make train DATASET=photos
INIT_WEIGHTS=bundled``).

Stop it with ``kill -TERM <pid>`` (it saves a checkpoint first); rerun the same command to
resume. ``~/.cache/crainpaint/runs/photos/generator_weights/`` holds the latest float16
weights, ``generator_weights_average/`` their average (the one ``experiments/bundle_weights.py``
copies into ``crainpaint/pretrained/``).

Stage 2 (``experiments/photos_adversarial.py``) continues in the SAME model_dir with the paper's
Algorithm 1 (the critic starts fresh, the generator and its Adam state continue).

Smoke (seconds)::

    python -m crainpaint.train --experiment experiments/photos.py --smoke --model_dir /tmp/photos_smoke
"""

import dataclasses
import os

from experiments.common import paper_config, smoke_variant

DATA_DIR = os.path.join("~", ".cache", "crainpaint", "data", "photos", "train")


def get_config():
    config = paper_config(
        "folder", data_dir=DATA_DIR, image_size=512, batch_size=1, stage="reconstruction",
        total_steps=200_000, checkpoint_every_steps=1000, checkpoint_every_seconds=300.0,
        keep_checkpoints=3, summary_every_steps=50, image_summary_every_steps=1000,
        export_generator_every_steps=1000, mixed_precision="auto")
    # Three additions to the paper's recipe:
    # * "gated_he" initialisation: the author's σ 0.05 initialiser starts the coarse network's
    #   output near 1e-9 (experiments/init_activation_scale.py) and its fills collapse to one
    #   flat colour; "gated_he" keeps activations near 0.1.
    # * A weight average of the generator (crainpaint/training/weight_average.py), exported and
    #   bundled instead of the last step's weights, whose held-out L1 varies a lot from one
    #   export to the next at batch 1. d = 0.999 averages over about the last 1000 steps.
    # * Crops of width/height ratio up to 2 either way, squeezed to 512²: the CRA's "tile"
    #   geometry squeezes a non-square photo the same way (a 16:9 photo by 1.78 horizontally),
    #   so the network also learns squeezed content.
    data = dataclasses.replace(config.data, crop_max_aspect=2.0)
    return dataclasses.replace(config, data=data, generator_ema_decay=0.999,
                               generator=dataclasses.replace(config.generator,
                                                             kernel_initializer="gated_he"))


def get_smoke_config():
    return smoke_variant(get_config())
