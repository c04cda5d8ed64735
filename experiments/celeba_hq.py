"""CelebA-HQ at 512² (paper Sec. 4: "images are down-sampled to 512 × 512"), Algorithm 1.

Needs the manual TFDS download of ``celeb_a_hq/512`` (the error message says which file goes
where). Run::

    python -m crainpaint.train --experiment experiments/celeba_hq.py \
        --model_dir ~/.cache/crainpaint/runs/celeba_hq [--data_dir TFDS_DATA_DIR]

Smoke (a few seconds, 64² images)::

    python -m crainpaint.train --experiment experiments/celeba_hq.py --smoke --model_dir /tmp/celeba_smoke
"""

from experiments.common import paper_config, smoke_variant


def get_config():
    return paper_config("celeba_hq")


def get_smoke_config():
    return smoke_variant(get_config())
