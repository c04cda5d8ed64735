"""crainpaint: Contextual Residual Aggregation for ultra high-resolution image inpainting.

A TensorFlow 2 / Keras 3 reproduction of Yi et al., CVPR 2020 ("HiFill"): a light-weight two-stage
gated-conv generator with attention, and CRA, which inpaints photos of any size (8K and beyond)
by running the network at 512² and aggregating high-frequency context residuals into the hole.
"""

from crainpaint.api import inpaint
from crainpaint.models import Critic, CriticConfig, Generator, GeneratorConfig, build_generator
from crainpaint.pretrained import load_pretrained

__all__ = ["Critic", "CriticConfig", "Generator", "GeneratorConfig", "build_generator",
           "inpaint", "load_pretrained"]
__version__ = "0.1.0"
