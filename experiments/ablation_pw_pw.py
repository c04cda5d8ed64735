"""Fig. 4 ablation LWGCpw + LWGCpw.

Coarse gates ``pixelwise``, refine gates ``pixelwise``; otherwise the CelebA-HQ setup of the paper
(Sec. 4.2 ran the LWGC comparison on CelebA-HQ). Run::

    python -m crainpaint.train --experiment experiments/ablation_pw_pw.py \
        --model_dir ~/.cache/crainpaint/runs/ablation_pw_pw

Smoke::

    python -m crainpaint.train --experiment experiments/ablation_pw_pw.py --smoke \
        --model_dir /tmp/ablation_pw_pw_smoke
"""

from experiments.common import ablation_config, smoke_variant


def get_config():
    return ablation_config("pixelwise", "pixelwise")


def get_smoke_config():
    return smoke_variant(get_config())
