"""Fig. 4 ablation LWGCds + LWGCds.

Coarse gates ``depthwise_separable``, refine gates ``depthwise_separable``; otherwise the CelebA-HQ setup of the paper
(Sec. 4.2 ran the LWGC comparison on CelebA-HQ). Run::

    python -m crainpaint.train --experiment experiments/ablation_ds_ds.py \
        --model_dir ~/.cache/crainpaint/runs/ablation_ds_ds

Smoke::

    python -m crainpaint.train --experiment experiments/ablation_ds_ds.py --smoke \
        --model_dir /tmp/ablation_ds_ds_smoke
"""

from experiments.common import ablation_config, smoke_variant


def get_config():
    return ablation_config("depthwise_separable", "depthwise_separable")


def get_smoke_config():
    return smoke_variant(get_config())
