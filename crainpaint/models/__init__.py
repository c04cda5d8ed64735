"""Models: the two-stage generator (coarse + refine) and the WGAN-GP critic."""

from crainpaint.models.config import GeneratorConfig
from crainpaint.models.critic import Critic, CriticConfig
from crainpaint.models.generator import (CoarseNetwork, Generator, RefineNetwork,
                                         build_generator)
from crainpaint.models.loading import build_generator_with_weights

__all__ = ["CoarseNetwork", "Critic", "CriticConfig", "Generator", "GeneratorConfig",
           "RefineNetwork", "build_generator",
           "build_generator_with_weights"]
