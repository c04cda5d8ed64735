"""DIV2K at 512² (paper Sec. 4), Algorithm 1: TFDS ``div2k`` high-resolution images,
multi-scale random crops resized to 512² (some images are small: they are resized, not only
cropped). Run::

    python -m crainpaint.train --experiment experiments/div2k.py \
        --model_dir ~/.cache/crainpaint/runs/div2k [--data_dir TFDS_DATA_DIR]

Smoke::

    python -m crainpaint.train --experiment experiments/div2k.py --smoke --model_dir /tmp/div2k_smoke
"""

from experiments.common import paper_config, smoke_variant


def get_config():
    return paper_config("div2k")


def get_smoke_config():
    return smoke_variant(get_config())
