"""Fig. 4 ablation LWGCsc + LWGCsc (the paper saw visible artifacts with it).

Coarse gates ``single_channel``, refine gates ``single_channel``; otherwise the CelebA-HQ setup of the paper
(Sec. 4.2 ran the LWGC comparison on CelebA-HQ). Run::

    python -m crainpaint.train --experiment experiments/ablation_sc_sc.py \
        --model_dir ~/.cache/crainpaint/runs/ablation_sc_sc

Smoke::

    python -m crainpaint.train --experiment experiments/ablation_sc_sc.py --smoke \
        --model_dir /tmp/ablation_sc_sc_smoke
"""

from experiments.common import ablation_config, smoke_variant


def get_config():
    return ablation_config("single_channel", "single_channel")


def get_smoke_config():
    return smoke_variant(get_config())
