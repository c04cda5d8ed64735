"""Places2 at 512² random crops (paper Sec. 4), Algorithm 1.

TFDS only builds the 256² Places365 images, which cannot give 512² crops: ``--data_dir`` must
point at the high-resolution Places365-Standard release (``data_large/`` and ``val_large/``).
Run::

    python -m crainpaint.train --experiment experiments/places2.py \
        --data_dir /path/to/places365_standard_highres --model_dir ~/.cache/crainpaint/runs/places2

Smoke::

    python -m crainpaint.train --experiment experiments/places2.py --smoke \
        --data_dir /path/to/places365_standard_highres --model_dir /tmp/places2_smoke
"""

from experiments.common import paper_config, smoke_variant


def get_config():
    return paper_config("places2")


def get_smoke_config():
    return smoke_variant(get_config())
