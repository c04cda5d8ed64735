"""The generator's configuration: a plain dataclass every later tool reads its geometry from."""

from __future__ import annotations

import dataclasses

from crainpaint.layers.attention import NORMALIZATIONS
from crainpaint.layers.gated_conv import GATE_TYPES

# The refine encoder halves the resolution three times before the bottleneck (Sec. 3.3).
ENCODER_DOWNSAMPLING = 8

# Kernel initialisers of the gated convolutions. "author": truncated normal σ 0.05, the author's
# code. "gated_he": fan-in variance scaling ×4 (He's ×2 for the ELU, ×2 for the sigmoid gate,
# whose 0.5 halves the signal); with "author", activations shrink ≈ 2.5× per layer and the coarse
# network's output starts at std ≈ 1e-9 (experiments/init_activation_scale.py).
KERNEL_INITIALIZERS = {
    "author": {"class_name": "TruncatedNormal", "config": {"stddev": 0.05}},
    "gated_he": {"class_name": "VarianceScaling",
                 "config": {"scale": 4.0, "mode": "fan_in", "distribution": "truncated_normal"}},
}


@dataclasses.dataclass(frozen=True)
class GeneratorConfig:
    """Architecture of the two-stage generator (Sec. 3.3, Fig. 2; layer widths and dilations as
    in the original release's code, which gives the 2,722,791 parameters of the paper's model).

    Attributes:
        input_size: side of the square training input (512 in the paper); the networks are fully
            convolutional, so inference may use other multiples of ``cell_size``.
        attention_grid: cells per side of the ACM grid at ``input_size`` (32 in the paper).
        width_multiplier: scales every channel count (1.0 = the paper's 2.7 M parameters).
        coarse_gate / refine_gate: LWGC type per stage; the paper's choice is
            single-channel + pixelwise (Sec. 4.2, Fig. 4).
        attention_normalization: ``"paper"`` (Eq. 1-2) or ``"author"`` (see AttentionComputing).
        softmax_scale: ACM logit scale (10, the author's value).
        fuse_attention: apply the author's 3×3 fuse step to the similarities.
        transfer_patch_factor: ATM patch side = factor × stride at each level; 2 is the author's
            overlapping geometry (4/8/16 at strides 2/4/8), 1 the paper's minimal tiling.
        kernel_initializer: a key of ``KERNEL_INITIALIZERS`` (``"author"`` by default).
    """

    input_size: int = 512
    attention_grid: int = 32
    width_multiplier: float = 1.0
    coarse_gate: str = "single_channel"
    refine_gate: str = "pixelwise"
    attention_normalization: str = "paper"
    softmax_scale: float = 10.0
    fuse_attention: bool = True
    transfer_patch_factor: int = 2
    kernel_initializer: str = "author"

    def __post_init__(self):
        for field in ("coarse_gate", "refine_gate"):
            if getattr(self, field) not in GATE_TYPES:
                raise ValueError(f"{field} must be one of {GATE_TYPES}, got "
                                 f"{getattr(self, field)!r}.")
        if self.attention_normalization not in NORMALIZATIONS:
            raise ValueError(f"attention_normalization must be one of {NORMALIZATIONS}, got "
                             f"{self.attention_normalization!r}.")
        if self.width_multiplier <= 0:
            raise ValueError(f"width_multiplier must be > 0, got {self.width_multiplier}.")
        if self.input_size % self.attention_grid:
            raise ValueError(f"input_size ({self.input_size}) must be a multiple of "
                             f"attention_grid ({self.attention_grid}).")
        if self.cell_size % ENCODER_DOWNSAMPLING:
            raise ValueError(
                f"input_size / attention_grid = {self.cell_size} pixels per attention cell must "
                f"be a multiple of {ENCODER_DOWNSAMPLING} (the encoder's down-sampling); e.g. "
                "input_size=512 with attention_grid=32.")
        if self.kernel_initializer not in KERNEL_INITIALIZERS:
            raise ValueError(f"kernel_initializer must be one of {tuple(KERNEL_INITIALIZERS)}, "
                             f"got {self.kernel_initializer!r}.")
        if self.transfer_patch_factor < 1:
            raise ValueError(f"transfer_patch_factor must be >= 1, got "
                             f"{self.transfer_patch_factor}.")

    @property
    def cell_size(self):
        """Pixels per attention-grid cell at the network input (16 in the paper)."""
        return self.input_size // self.attention_grid

    def transfer_strides(self):
        """Pixels per grid cell at the 1/8, 1/4 and 1/2 resolution levels (2, 4, 8)."""
        return tuple(self.cell_size // factor for factor in (8, 4, 2))

    def initializer(self):
        """The serialised kernel initialiser for ``LightWeightGatedConv2D``."""
        return KERNEL_INITIALIZERS[self.kernel_initializer]

    def channels(self, base):
        return max(1, int(round(base * self.width_multiplier)))

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"Unknown GeneratorConfig fields {sorted(unknown)}; known: "
                             f"{sorted(known)}.")
        return cls(**values)
