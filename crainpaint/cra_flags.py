"""Command-line flags for ``crainpaint.cra.CRAConfig``, shared by every binary.

``--cra_preset`` picks the starting point (``default``: the library's defaults; ``paper``: every
option at the paper's choice, ``CRAConfig.paper()``); each other flag, when given, overrides that
one field. Binaries call ``define_cra_flags()`` and ``cra_config_from_flags()``; libraries and
tests take a ``CRAConfig``.
"""

from __future__ import annotations

import dataclasses

from absl import flags

from crainpaint import cra

PRESETS = ("default", "paper")


def preset_config(preset):
    """The ``CRAConfig`` of a preset name."""
    if preset == "default":
        return cra.CRAConfig()
    if preset == "paper":
        return cra.CRAConfig.paper()
    raise ValueError(f"CRA preset must be one of {PRESETS}, got {preset!r}.")


def define_cra_flags(flag_values=flags.FLAGS):
    """Defines --cra_preset and one flag per ``CRAConfig`` field (unset = the preset's value)."""
    default, paper = cra.CRAConfig(), cra.CRAConfig.paper()

    def both(field):
        return f"default {getattr(default, field)!r}, paper {getattr(paper, field)!r}"

    flags.DEFINE_enum("cra_preset", "default", list(PRESETS),
                      "Starting values of the CRA options: default (this library's) or paper "
                      "(every option at the paper's choice: pad512 geometry, any-pixel hole "
                      "rule, paste seam, Eq. 4 over every source). The flags below override "
                      "single options.", flag_values=flag_values)
    flags.DEFINE_enum("geometry", None, list(cra.GEOMETRIES),
                      "How the photo maps onto the network input: aspect (keep the aspect "
                      "ratio), tile (squeeze each axis onto the square attention grid), pad512 "
                      f"(the paper's mirrored padding); {both('geometry')}.",
                      flag_values=flag_values)
    flags.DEFINE_integer("feather_px", None, "Blend the fill outward into this many pixels of "
                         "context (0 = hard paste, pixels outside the hole bit-exact); "
                         f"{both('feather_px')}.", lower_bound=0, flag_values=flag_values)
    flags.DEFINE_float("hole_threshold", None, "A pixel of the network's low-resolution input "
                       "is a hole when more than this fraction of the photo pixels it covers "
                       "are (0 = any, 1 = all; the hole is filled at full resolution either "
                       f"way); {both('hole_threshold')}.", lower_bound=0.0, upper_bound=1.0,
                       flag_values=flag_values)
    flags.DEFINE_enum("seam", None, list(cra.SEAMS), "poisson: the fill plus the membrane "
                      "interpolation of its mismatch with the photo along the hole's edge; "
                      f"paste: the fill as the paper pastes it; {both('seam')}.",
                      flag_values=flag_values)
    flags.DEFINE_integer("residual_top_k", None, "Context cells whose residuals each hole cell "
                         "takes (0 = every cell, weighted by attention: the paper's Eq. 4); "
                         f"{both('residual_top_k')}.", lower_bound=0, flag_values=flag_values)
    flags.DEFINE_float("residual_sharpness", None, "Power the attention scores are raised to "
                       "before the residuals are aggregated (1 = as the network gives them); "
                       f"{both('residual_sharpness')}.", lower_bound=0.0,
                       flag_values=flag_values)
    flags.DEFINE_float("residual_blend", None, "Width, in cells, of the cross-fade between "
                       "neighbouring hole cells' transplanted residuals (0 = none; needs "
                       f"residual_top_k >= 1); {both('residual_blend')}.", lower_bound=0.0,
                       upper_bound=1.0, flag_values=flag_values)
    flags.DEFINE_enum("residual_scale", None, [str(s) for s in cra.RESIDUAL_SCALES],
                      "The residuals are taken against the network's output averaged over s × s "
                      "of its pixels (1 = the paper's: the output as it is); "
                      f"{both('residual_scale')}.", flag_values=flag_values)
    flags.DEFINE_integer("residual_candidates", None, "A hole cell on the hole's edge takes, "
                         "of its this many best-scoring sources, the residual_top_k whose "
                         "residuals agree best with its own known pixels (at most "
                         "residual_top_k: the best-scoring ones); "
                         f"{both('residual_candidates')}.", lower_bound=1,
                         flag_values=flag_values)
    flags.DEFINE_float("attention_scale", None, "The attention's softmax scale at inference "
                       "(unset with the default preset: the generator's own, 10 for the "
                       "bundled model); larger: more texture in the network's own fill, a "
                       f"little more L1; {both('attention_scale')}.", lower_bound=0.0,
                       upper_bound=cra.MAX_ATTENTION_SCALE, flag_values=flag_values)


# One flag per CRAConfig field, named like it.
_FIELDS = tuple(field.name for field in dataclasses.fields(cra.CRAConfig))


def cra_config_from_flags(flag_values=flags.FLAGS):
    """The ``CRAConfig`` the flags describe: the preset, then every flag that was given.

    Raises:
        ValueError: the combination is invalid (``CRAConfig``'s message names the fix).
    """
    overrides = {}
    for field in _FIELDS:
        value = flag_values[field].value
        if value is not None:
            overrides[field] = int(value) if field == "residual_scale" else value
    return dataclasses.replace(preset_config(flag_values.cra_preset), **overrides)
