"""Fig. 4 ablation LWGCsc + LWGCds.

Coarse gates ``single_channel``, refine gates ``depthwise_separable``; otherwise the CelebA-HQ setup of the paper
(Sec. 4.2 ran the LWGC comparison on CelebA-HQ). Run::

    python -m crainpaint.train --experiment experiments/ablation_sc_ds.py \
        --model_dir ~/.cache/crainpaint/runs/ablation_sc_ds

Smoke::

    python -m crainpaint.train --experiment experiments/ablation_sc_ds.py --smoke \
        --model_dir /tmp/ablation_sc_ds_smoke
"""

from experiments.common import ablation_config, smoke_variant


def get_config():
    return ablation_config("single_channel", "depthwise_separable")


def get_smoke_config():
    return smoke_variant(get_config())
