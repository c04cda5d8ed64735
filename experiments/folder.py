"""Any folder of images (recursive .jpg/.jpeg/.png/.webp) at 512², Algorithm 1, with
multi-scale random crops (25-100 % of the short side, resized). Run::

    python -m crainpaint.train --experiment experiments/folder.py --data_dir /path/to/images \
        --model_dir ~/.cache/crainpaint/runs/folder

Cheaper warm start first (β = 0, no critic, 256² crops; then rerun without these flags in the
same model_dir)::

    python -m crainpaint.train --experiment experiments/folder.py --data_dir /path/to/images \
        --model_dir ~/.cache/crainpaint/runs/folder --stage reconstruction --image_size 256 --steps 50000

Smoke::

    python -m crainpaint.train --experiment experiments/folder.py --smoke --data_dir /path/to/images \
        --model_dir /tmp/folder_smoke
"""

from experiments.common import paper_config, smoke_variant


def get_config():
    return paper_config("folder")


def get_smoke_config():
    return smoke_variant(get_config())
