"""Keras layers of the paper: Light-Weight Gated Convolutions (LWGC), ACM and ATM."""

from crainpaint.layers.attention import (AttentionComputing, AttentionTransfer, NORMALIZATIONS,
                                         extract_patches, fold_patches, fuse_scores,
                                         grid_hole_mask, masked_softmax, valid_source_mask)
from crainpaint.layers.gated_conv import GATE_TYPES, GatedUpsampleConv2D, LightWeightGatedConv2D
from crainpaint.layers.upsample import upsample_bilinear_2x

__all__ = [
    "AttentionComputing", "AttentionTransfer", "GATE_TYPES", "GatedUpsampleConv2D",
    "LightWeightGatedConv2D", "NORMALIZATIONS", "extract_patches", "fold_patches", "fuse_scores",
    "grid_hole_mask", "masked_softmax", "upsample_bilinear_2x", "valid_source_mask",
]
