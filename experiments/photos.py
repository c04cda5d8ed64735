"""Our bundled model (issue 10): the paper's generator trained on real photographs from Debian
packages (``~/.cache/crainpaint/data/photos/train``, see ``experiments/data/README.md``).

Stage 1, this config: ``reconstruction`` (β = 0, no critic; a documented deviation that
warm-starts the generator cheaply on a CPU) on 512² multi-scale crops, batch 1. The model is the
paper's ``GeneratorConfig()`` (2.7 M parameters, 16-px attention cells). Steps 0–9,176 (sessions
1–2) trained on 256² crops at batch 2 (16×16 attention grid, 2.5× more images/s on an EPYC
without AMX); ``python experiments/network_scale.py`` then showed that those weights fill the
held-out holes far better with the network run at 256² (in-hole L1 18.9) than at the paper's
512² (28.1): holes twice as large in pixels as any seen in training, for the same receptive
field. From step 9,176 on the crops are 512², the paper's training size (Sec. 4.1); two
additions of session 4 are explained in ``get_config``. Run in the background, resumable::

    nohup .venv/bin/python -m crainpaint.train --experiment experiments/photos.py \
        --model_dir ~/.cache/crainpaint/runs/photos > ~/.cache/crainpaint/runs/photos.log 2>&1 &

On a machine without that folder, warm-start from the committed weights (same step count;
Adam's moments start at zero): add ``--init_weights bundled`` (``make train DATASET=photos
INIT_WEIGHTS=bundled``).

Stop it with ``kill -TERM <pid>`` (it saves a checkpoint first); rerun the same command to
resume. ``~/.cache/crainpaint/runs/photos/generator_weights/`` holds the latest float16
weights, ``generator_weights_average/`` their average (the one ``experiments/bundle_weights.py``
copies into ``crainpaint/pretrained/``).

Stage 2 follows in the SAME model_dir with the paper's Algorithm 1 (the critic starts fresh, the
generator and its Adam state continue)::

    .venv/bin/python -m crainpaint.train --experiment experiments/photos.py \
        --model_dir ~/.cache/crainpaint/runs/photos --stage adversarial --steps <global step to reach>

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
    # A deviation for CPU budgets: the author's σ 0.05 initialiser starts the coarse network's
    # output near 1e-9 (experiments/init_activation_scale.py), and a first run with it filled
    # holes with one flat colour after 2,400 steps. "gated_he" keeps activations near 0.1.
    # From step 18,534 (session 4): a weight average of the generator, exported and bundled
    # instead of the last step's weights (crainpaint/training/weight_average.py), whose held-out
    # L1 jumped between 17 and 23 from one 1000-step export to the next. d = 0.999 averages
    # over about the last 1000 steps (11 minutes at 1.5 steps/s).
    # From step 19,705 (session 4): crops of width/height ratio up to 2 either way, squeezed to
    # 512², because the CRA's "tile" geometry (the default until session 5) squeezes a
    # non-square photo the same way (a 16:9 photo by 1.78 horizontally): at step 19,007 the
    # own-resolution in-hole L1 of
    # the validation photos was 0.4-1.3 lower with the unsqueezed "aspect" geometry
    # (python experiments/evaluate.py --methods crainpaint --geometry aspect|tile).
    data = dataclasses.replace(config.data, crop_max_aspect=2.0)
    return dataclasses.replace(config, data=data, generator_ema_decay=0.999,
                               generator=dataclasses.replace(config.generator,
                                                             kernel_initializer="gated_he"))


def get_smoke_config():
    return smoke_variant(get_config())
