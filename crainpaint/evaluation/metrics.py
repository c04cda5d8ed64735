"""Per-sample quality metrics of an inpainted composite against its ground truth (Table 2).

Metrics (images as uint8 RGB; ``target`` = ground truth, ``composite`` = the pasted result):

* **in-hole L1** (the paper's L1, Table 2, on the 0–255 scale): the mean absolute difference
  |composite − target| over all hole pixels and their 3 channels, i.e.
  ``sum_{hole pixels, channels} |c − t| / (3 · hole pixels)``. (The whole-image mean that some
  papers report equals this times the hole fraction, since the composite is exact outside.)
* **PSNR** (dB): ``10 · log10(255² / MSE)`` with the MSE over the WHOLE image (all pixels and
  channels); +inf for an exact fill.
* **MS-SSIM**: ``tf.image.ssim_multiscale(composite, target, max_val=255)`` over the whole
  image with the default 11-px Gaussian window and the 5 power factors of Wang et al. 2003.
  An image too small for 5 scales (the smallest scale must be ≥ 11 px; 5 scales need a short
  side ≥ 161 px) uses the first k factors that fit, renormalised to sum to 1 (each sample
  records its k); a short side < 11 px gives NaN.
* **texture ratio** (no reference; ``crainpaint.evaluation.texture.texture_ratio``): the three
  above reward a smooth fill, this looks at its fine detail. ``|∇²|`` is the absolute
  Laplacian of the grey (BT.601 luma) composite after a Gaussian blur of σ = 0.8 px; the
  ratio is its mean over the hole's *core*, the hole eroded by m = max(round(1 % of the short
  side), 4) px (square element: no core pixel's ``|∇²|`` reads a pixel outside the hole, so
  the seam is not counted), over its mean in the *ring*, the context pixels at a chessboard
  distance in (m, 3m] from the hole (≈ 1–3 % of the short side away). A photo scores ≈ 1 by
  construction (the photo's own ratio is the tables' "ground_truth" row), a flat fill 0. NaN,
  left out of the means, when the core is empty (a hole thinner than 2m + 1 px).
* **texture energy** (``texture_energy_ratio``): mean ``|∇²|`` of the composite over the core
  / the target's over the same pixels: 1 = the ground truth's amount of detail, 0 = flat.
  White noise of the right power also scores 1: it says how much detail, not which.
* **SWD** (``laplacian_swd``, ×10³, lower is better): the sliced Wasserstein distance of
  Karras et al. 2018 (Sec. 5) between the 7×7×3 Laplacian-pyramid patches of the composite
  and of the target centred on the hole's pixels, at the same positions in both. Pyramid
  (``cv2.pyrDown`` / ``pyrUp`` of the whole images): band-pass levels while the hole
  down-sampled to the next level (area ≥ 0.5) keeps ≥ 64 pixels, at most 6, plus the
  low-pass residual; at most 16,384 positions per level; both patch sets normalised per
  channel by the TARGET set's mean and standard deviation (floored at 1 grey level), so a
  blurry fill's missing energy counts; 4 × 128 random unit directions, sorted projections,
  mean absolute difference, averaged over directions and levels (1000 ≈ one standard
  deviation of the target's patches). Positions and directions depend only on the hole and
  ``SWD_SEED``, so all methods are measured on the same draw. White noise does not lower it:
  it has neither a texture's patch correlations nor its coarser levels.
* **FID / IS** (only with ``--inception_weights``, a Keras ``.weights.h5`` for
  ``keras.applications.InceptionV3(include_top=True)``; nothing is downloaded): composites and
  targets resized to 299² (bilinear, antialiased), pool features → Fréchet distance between the
  Gaussians of composites and targets, per method, resolution and bin (``frechet_distance``
  with ``scipy.linalg.sqrtm``, or its exact low-rank form when there are fewer samples than
  features, ``frechet_distance_from_features``);
  IS = exp(E_x KL(p(y|x) ‖ p(y))) from the logits (pool features · the top's kernel + bias).
  Keras' InceptionV3 is not the TF-Slim graph of the FID/IS papers, and a few hundred samples
  bias FID upwards: compare the numbers between methods here, not with published ones.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from crainpaint.evaluation.texture import laplacian_swd, texture_energy_ratio, texture_ratio

# Wang, Simoncelli, Bovik 2003; tf.image.ssim_multiscale's defaults.
MS_SSIM_POWER_FACTORS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
MS_SSIM_FILTER_SIZE = 11
# Seed of laplacian_swd's patch positions and projection directions, the same for every sample.
SWD_SEED = 0


def in_hole_l1(composite, target, hole):
    """Mean |composite − target| over the hole pixels and their channels, on 0–255.

    Args:
        composite, target: uint8 (or float on 0–255) [H, W, 3].
        hole: bool [H, W] (or [H, W, 1]), True = hole; must hold at least one hole pixel.
    """
    hole = np.asarray(hole, bool).reshape(np.shape(target)[:2])
    if not hole.any():
        raise ValueError("in_hole_l1 needs at least one hole pixel.")
    difference = np.abs(np.asarray(composite, np.float64) - np.asarray(target, np.float64))
    return float(difference[hole].mean())


def psnr(composite, target, max_value=255.0):
    """10·log10(max_value² / MSE), the MSE over every pixel and channel; +inf when equal."""
    difference = np.asarray(composite, np.float64) - np.asarray(target, np.float64)
    mse = float(np.mean(difference ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(max_value ** 2 / mse)


def ms_ssim_power_factors(height, width):
    """The MS-SSIM power factors that fit an image of this size.

    Each scale halves the image (rounding up, as ``tf.image.ssim_multiscale`` pads odd sides)
    and the smallest must be at least 11 px (the Gaussian window). With fewer than 5 scales
    the first k default factors are used, renormalised to sum to 1; () when not even one fits.
    """
    side = min(int(height), int(width))
    if side < MS_SSIM_FILTER_SIZE:
        return ()
    scales = 1
    while scales < len(MS_SSIM_POWER_FACTORS) and (side + 1) // 2 >= MS_SSIM_FILTER_SIZE:
        side = (side + 1) // 2
        scales += 1
    factors = MS_SSIM_POWER_FACTORS[:scales]
    if scales == len(MS_SSIM_POWER_FACTORS):
        return factors
    total = sum(factors)
    return tuple(factor / total for factor in factors)


def ms_ssim(composite, target):
    """``tf.image.ssim_multiscale`` (max_val 255) with ``ms_ssim_power_factors``; NaN if tiny."""
    factors = ms_ssim_power_factors(*np.shape(target)[:2])
    if not factors:
        return math.nan
    value = tf.image.ssim_multiscale(
        tf.convert_to_tensor(np.asarray(composite), tf.float32)[tf.newaxis],
        tf.convert_to_tensor(np.asarray(target), tf.float32)[tf.newaxis],
        max_val=255.0, power_factors=factors, filter_size=MS_SSIM_FILTER_SIZE)
    return float(value[0])


def score(composite, target, hole):
    """The per-sample metrics of a composite (module docstring, "Metrics").

    In-hole L1, PSNR, MS-SSIM (+ the number of MS-SSIM scales), and the texture metrics of
    ``crainpaint.evaluation.texture``: ``texture_ratio`` (no reference), ``texture_energy``
    and ``swd`` (seed ``SWD_SEED``: every method filling this hole is measured on the same
    patch positions and directions).
    """
    return {"l1": in_hole_l1(composite, target, hole), "psnr": psnr(composite, target),
            "ms_ssim": ms_ssim(composite, target),
            "ms_ssim_scales": len(ms_ssim_power_factors(*target.shape[:2])),
            "texture_ratio": texture_ratio(composite, hole),
            "texture_energy": texture_energy_ratio(composite, target, hole),
            "swd": laplacian_swd(composite, target, hole, seed=SWD_SEED)}

