"""Fig. 4 ablation LWGCsc + LWGCpw: the paper's final choice (fewest parameters).

Coarse gates ``single_channel``, refine gates ``pixelwise``; otherwise the CelebA-HQ setup of the paper
(Sec. 4.2 ran the LWGC comparison on CelebA-HQ). Run::

    python -m crainpaint.train --experiment experiments/ablation_sc_pw.py \
        --model_dir ~/.cache/crainpaint/runs/ablation_sc_pw

Smoke::

    python -m crainpaint.train --experiment experiments/ablation_sc_pw.py --smoke \
        --model_dir /tmp/ablation_sc_pw_smoke
"""

from experiments.common import ablation_config, smoke_variant


def get_config():
    return ablation_config("single_channel", "pixelwise")


def get_smoke_config():
    return smoke_variant(get_config())
