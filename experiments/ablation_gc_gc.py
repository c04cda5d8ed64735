"""Fig. 4 ablation GC + GC: the regular gated convolution of DeepFill v2 in both networks.

Coarse gates ``full``, refine gates ``full``; otherwise the CelebA-HQ setup of the paper
(Sec. 4.2 ran the LWGC comparison on CelebA-HQ). Run::

    python -m crainpaint.train --experiment experiments/ablation_gc_gc.py \
        --model_dir ~/.cache/crainpaint/runs/ablation_gc_gc

Smoke::

    python -m crainpaint.train --experiment experiments/ablation_gc_gc.py --smoke \
        --model_dir /tmp/ablation_gc_gc_smoke
"""

from experiments.common import ablation_config, smoke_variant


def get_config():
    return ablation_config("full", "full")


def get_smoke_config():
    return smoke_variant(get_config())
