"""Quality evaluation of crainpaint against OpenCV and plain up-sampling (paper Table 2).

For a folder of photos and either a folder of masks (paired by file stem, white = hole by
default) or seeded generated masks in hole-area bins (0–10, 10–20, 20–30, 30–40 %), every method
fills every hole and the result is scored per method and per bin, at two resolutions:

* **own**: the photo at its own resolution (after the optional ``--long_side`` shrink);
* **square**: the photo area-resized to ``--square_size``² (512² by default, the aspect ratio is
  NOT kept, as the paper's "we linearly scale images and masks to various dimensions",
  Sec. 4.3), with its mask: a generated mask is drawn at exactly that size, so its own 512²
  draw is used; a mask file is area-resized and thresholded at 0.5. Every method is then run
  on that 512² image.

Methods (``--methods``):

* ``crainpaint``: the generator with CRA (``crainpaint.inpaint``), Sec. 3.1, with the working
  geometry of ``--geometry`` (``crainpaint.cra.CRAConfig``: "aspect", the default, keeps the
  aspect ratio; "tile" squeezes each axis to the network input; "pad512" is the paper's padding)
  and the hole threshold of ``--hole_threshold`` (1 by default: a network pixel is a hole only
  when every photo pixel it covers is; 0 = when any is) and the seam of ``--seam``
  ("poisson", the default, Poisson-blends the network's up-sampled output + residual into the
  photo; "paste" is the paper's pipeline: blurry image + residual pasted as it is), and the
  residual aggregation of ``--residual_top_k``, ``--residual_blend``, ``--residual_scale`` and
  ``--residual_sharpness`` (by default each hole cell transplants its best source; 0 / 0 / 1 /
  1 is the paper's Eq. 4 over every source). ``--cra_preset paper`` sets every CRA option to
  the paper's choice; the other CRA flags then override single options.
* ``crainpaint_upsample``: the same pipeline and working geometry without the residual term of
  Eq. 4: the generator runs at its input size and its low-resolution composite is simply
  up-sampled bilinearly to full size and pasted (the paper's Fig. 6 comparison, Sec. 4.4, with
  bilinear up-sampling; with ``--seam poisson`` the up-sampled network output is Poisson-blended
  the same way; the residual options do not apply: the base is the network's output as it is). Implemented by handing ``crainpaint.cra.inpaint_image`` the generator with its
  attention scores replaced by zeros, so every aggregated residual is exactly 0 and the fill is
  the "large blurry image" of Sec. 3.1; the network itself is unchanged (its internal attention
  transfer still uses the real scores). At 512² with a 512-px generator the two crainpaint rows
  are identical by design: every usable context cell's residual is zero when the photo is
  already at the network's size.
* ``telea`` / ``navier_stokes``: ``cv2.inpaint`` (INPAINT_TELEA / INPAINT_NS) with radius
  ``--inpaint_radius`` (3).
* ``generator_fullres``: the generator run directly on the whole image, mirror-padded to a
  multiple of its cell size (16 px); only for images of at most ``--fullres_max_pixels``
  pixels (2.1 Mpx), otherwise reported as skipped.

Every method receives only the image with the hole ZEROED (a read-only array) and the hole
map. Its output is hard-pasted into the original over the hole, and the code checks that every
pixel outside the hole equals the input, so no ground-truth pixel inside the hole can reach a
score, and what a method does outside the hole cannot change it.

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

Generated masks: ``data_pipelines.masks.random_mask`` (the training generator, kind "mixed")
at ``square_size``², its hole fraction constrained to the bin (the first bin draws from 0.5 %
to 10 % so that no mask is empty) with up to 400 candidates, so that the masks are the training
distribution conditioned on the bin (the deterministic fallback is then rare: ≈ 2 % of
candidates land in 30–40 %), then resized nearest to the photo's own size. Seeds are
``[--seed, crc32("stem|bin|k")]``, so a mask depends only on the photo's name, its bin and its
index, not on which other photos are evaluated. A mask file's bin is its own-resolution hole
fraction (a 40–100 % bin collects larger holes).

Run (the numbers of the model card; the lead's measured command)::

    PYTHONPATH=. TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python experiments/evaluate.py \\
        --images ~/.cache/crainpaint/data/photos/validation --max_images 4 \\
        --masks_per_image 1 --long_side 2048 \\
        --methods telea,navier_stokes,crainpaint,crainpaint_upsample \\
        --output_json /tmp/evaluation.json

(16 samples: 5 min on a 2-CPU AMD EPYC shared with a training run, before the texture
metrics; these add 0.9–1.7 s per composite, almost all of it the SWD, from 512² to
2048×1152 on a 2-CPU Xeon shared with a training run: ≈ 3 min more for this command. The
same methods with ``--max_images 2 --long_side 1024``: 8 samples, 4 min there.) Without
``--long_side`` the photos are scored at up to 6028×3391: MS-SSIM alone then takes ≈ 16 s
and 4 GB per 20-Mpx composite.

Smoke (seconds; a tiny generator saved with ``crainpaint.pretrained.save_generator_weights``)::

    python experiments/evaluate.py --images DIR --weights TINY_DIR --max_images 1 \\
        --long_side 256 --square_size 128

Progress (count/total, ETA) goes to stderr; the header (command, CPU, versions, weights) and
one markdown table per metric and resolution (rows: methods, columns: bins) to stdout, then the
paired comparisons: per bin, crainpaint's in-hole L1, then its SWD, minus Telea's and
Navier–Stokes' on the same samples, as mean ± standard error, with the number of samples
crainpaint wins (a gap smaller than its standard error is not a measured difference). The
tables are ``crainpaint.evaluation.report``'s. ``--report FILE.json`` prints all of it again
from a saved run.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import shlex
import sys
import time
import zlib
from typing import Callable, Optional

if __name__ == "__main__":
    # `python experiments/evaluate.py` puts experiments/ first on sys.path, not the repository.
    _REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if _REPOSITORY_ROOT not in sys.path:
        sys.path.insert(0, _REPOSITORY_ROOT)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import crainpaint  # noqa: E402
from crainpaint import cra, cra_flags  # noqa: E402
from crainpaint.evaluation.report import (  # noqa: E402
    ALL_BINS, GROUND_TRUTH, RESOLUTIONS, json_ready, markdown_tables, paired_comparisons,
    paired_tables, summarize)
from crainpaint.evaluation.texture import (  # noqa: E402
    laplacian_swd, texture_energy_ratio, texture_ratio)
from crainpaint.image_header import IMAGE_EXTENSIONS  # noqa: E402
from crainpaint.imaging import read_image, read_mask  # noqa: E402
from crainpaint.pixels import (MASK_CONVENTIONS, from_network_range, to_network_range,  # noqa: E402
                               to_uint8)
from data_pipelines.masks import MaskConfig, random_mask  # noqa: E402

METHODS = ("crainpaint", "crainpaint_upsample", "telea", "navier_stokes", "generator_fullres")
GENERATOR_METHODS = ("crainpaint", "crainpaint_upsample", "generator_fullres")
# Hole-area bins of generated masks: (name, lowest, highest hole fraction).
GENERATED_BINS = (("0-10%", 0.0, 0.1), ("10-20%", 0.1, 0.2), ("20-30%", 0.2, 0.3),
                  ("30-40%", 0.3, 0.4))
# Mask files can hold any hole size: one more bin collects the rest.
FILE_BINS = GENERATED_BINS + (("40-100%", 0.4, 1.0),)
# The first bin's smallest generated hole fraction: no empty masks.
MIN_GENERATED_HOLE_FRACTION = 0.005
# Candidates random_mask draws before its fallback forces the bin (see the module docstring).
MASK_MAX_ATTEMPTS = 400
# Wang, Simoncelli, Bovik 2003; tf.image.ssim_multiscale's defaults.
MS_SSIM_POWER_FACTORS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
MS_SSIM_FILTER_SIZE = 11
# Seed of laplacian_swd's patch positions and projection directions, the same for every sample.
SWD_SEED = 0
DEFAULT_IMAGES_DIR = os.path.join("~", ".cache", "crainpaint", "data", "photos", "validation")


@dataclasses.dataclass(frozen=True)
class EvaluationConfig:
    """Everything one evaluation run depends on (the CLI flags, parsed).

    Attributes:
        images_dir: folder of photos (any format ``crainpaint.imaging.read_image`` reads).
        masks_dir: folder of masks paired with the photos by stem; None = generated masks.
        mask_convention: "white_hole" or "black_hole", for mask files.
        masks_per_image: generated masks per photo and bin.
        seed: first half of every generated mask's seed.
        methods: names from ``METHODS``.
        weights: generator weights directory; None = the bundled weights (or an untrained
            generator, with a warning, when none are bundled).
        max_images: evaluate only the first N photos in name order.
        long_side: area-shrink photos (and masks) so the long side is at most this many pixels
            before anything else; None = the photos' own size.
        square_size: side of the fixed-size evaluation (and of the generated masks).
        inpaint_radius: cv2.inpaint radius of the Telea and Navier–Stokes baselines.
        fullres_max_pixels: largest image (H·W) the full-resolution generator is run on.
        cra: the ``crainpaint.cra.CRAConfig`` of the two crainpaint methods.
        inception_weights: Keras InceptionV3 ``.weights.h5``; None = no FID / IS.
        is_splits: splits of the Inception Score (its mean over splits is reported).
    """

    images_dir: str = DEFAULT_IMAGES_DIR
    masks_dir: Optional[str] = None
    mask_convention: str = "white_hole"
    masks_per_image: int = 1
    seed: int = 0
    methods: tuple = METHODS
    weights: Optional[str] = None
    max_images: Optional[int] = None
    long_side: Optional[int] = None
    square_size: int = 512
    inpaint_radius: int = 3
    fullres_max_pixels: int = 2_100_000
    cra: cra.CRAConfig = cra.CRAConfig()
    inception_weights: Optional[str] = None
    is_splits: int = 1

    def __post_init__(self):
        unknown = [name for name in self.methods if name not in METHODS]
        if unknown or not self.methods:
            raise ValueError(f"methods must be a non-empty subset of {METHODS}, got "
                             f"{list(self.methods)}.")
        if self.mask_convention not in MASK_CONVENTIONS:
            raise ValueError(f"mask_convention must be one of {MASK_CONVENTIONS}, got "
                             f"{self.mask_convention!r}.")
        if not isinstance(self.cra, cra.CRAConfig):
            raise ValueError(f"cra must be a crainpaint.cra.CRAConfig, got {self.cra!r}.")
        for name in ("masks_per_image", "square_size", "inpaint_radius", "fullres_max_pixels",
                     "is_splits"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}.")
        for name in ("max_images", "long_side"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1 or None, got {getattr(self, name)}.")


# --------------------------------------------------------------------------------------------
# Metrics.
# --------------------------------------------------------------------------------------------


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


def frechet_distance(mean1, covariance1, mean2, covariance2, epsilon=1e-6):
    """Fréchet distance between N(mean1, covariance1) and N(mean2, covariance2) (FID, [14]).

    d² = ‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^½), computed in float64 with the usual
    safeguards: when the square root of Σ1 Σ2 is not finite (singular product, e.g. fewer
    samples than features), ε·I is added to both covariances; a complex result whose imaginary
    part is negligible (a numerical artefact of sqrtm) is replaced by its real part.
    """
    from scipy import linalg  # scipy is only needed for FID: imported here, not at start-up.

    mean1, mean2 = np.atleast_1d(np.asarray(mean1, np.float64)), np.atleast_1d(
        np.asarray(mean2, np.float64))
    covariance1 = np.atleast_2d(np.asarray(covariance1, np.float64))
    covariance2 = np.atleast_2d(np.asarray(covariance2, np.float64))
    if mean1.shape != mean2.shape or covariance1.shape != covariance2.shape:
        raise ValueError(f"Mismatched statistics: means {mean1.shape} vs {mean2.shape}, "
                         f"covariances {covariance1.shape} vs {covariance2.shape}.")
    difference = mean1 - mean2
    root = linalg.sqrtm(covariance1 @ covariance2)
    if not np.all(np.isfinite(root)):
        offset = np.eye(covariance1.shape[0]) * epsilon
        root = linalg.sqrtm((covariance1 + offset) @ (covariance2 + offset))
    if np.iscomplexobj(root):
        imaginary = np.max(np.abs(np.diagonal(root).imag))
        if imaginary > 1e-3 * max(1.0, np.max(np.abs(np.diagonal(root).real))):
            raise ValueError(f"sqrtm(Σ1 Σ2) has a large imaginary component ({imaginary:.3g}).")
        root = root.real
    distance = (difference @ difference + np.trace(covariance1) + np.trace(covariance2)
                - 2.0 * np.trace(root))
    return float(max(distance, 0.0))


def frechet_distance_from_features(features1, features2):
    """Fréchet distance between the Gaussians fitted to two sets of [N, D] features.

    With few samples (N1·N2 ≤ D², e.g. a few hundred 2048-d Inception features) the
    covariances are Σ1 = A Aᵀ and Σ2 = B Bᵀ with A, B the centred features / √(N − 1), and
    Tr (Σ1 Σ2)^½ is exactly the sum of the singular values of Aᵀ B (the non-zero eigenvalues of
    A Aᵀ B Bᵀ are those of (Aᵀ B)ᵀ (Aᵀ B)): no 2048² ``sqrtm`` (≈ 90 s on this CPU per call)
    and no ε. Otherwise ``frechet_distance`` on the fitted statistics.
    """
    features1 = np.asarray(features1, np.float64)
    features2 = np.asarray(features2, np.float64)
    for features in (features1, features2):
        if features.ndim != 2 or features.shape[0] < 2:
            raise ValueError(f"Need [N >= 2, D] features, got shape {features.shape}.")
    if features1.shape[1] != features2.shape[1]:
        raise ValueError(f"Mismatched feature sizes {features1.shape} and {features2.shape}.")
    count1, count2, dimension = features1.shape[0], features2.shape[0], features1.shape[1]
    if count1 * count2 > dimension * dimension:
        return frechet_distance(*gaussian_statistics(features1), *gaussian_statistics(features2))
    mean1, mean2 = features1.mean(axis=0), features2.mean(axis=0)
    centred1 = (features1 - mean1) / math.sqrt(count1 - 1)
    centred2 = (features2 - mean2) / math.sqrt(count2 - 1)
    trace_root = np.linalg.svd(centred1 @ centred2.T, compute_uv=False).sum()
    difference = mean1 - mean2
    distance = (difference @ difference + np.sum(centred1 ** 2) + np.sum(centred2 ** 2)
                - 2.0 * trace_root)
    return float(max(distance, 0.0))


def gaussian_statistics(features):
    """(mean, covariance) of [N, D] features, float64; needs N ≥ 2."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"Need [N >= 2, D] features, got shape {features.shape}.")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def inception_score(logits, splits=1):
    """exp(E_x KL(p(y|x) ‖ p(y))) from [N, classes] logits, the mean over ``splits`` parts."""
    logits = np.asarray(logits, np.float64)
    log_probabilities = logits - logits.max(axis=1, keepdims=True)
    log_probabilities -= np.log(np.exp(log_probabilities).sum(axis=1, keepdims=True))
    scores = []
    for part in np.array_split(log_probabilities, splits):
        if not len(part):
            continue
        probabilities = np.exp(part)
        log_marginal = np.log(probabilities.mean(axis=0) + 1e-300)
        divergence = np.sum(probabilities * (part - log_marginal), axis=1)
        scores.append(math.exp(float(divergence.mean())))
    return float(np.mean(scores))


class InceptionStatistics:
    """InceptionV3 pool features and logits of uint8 images (FID and IS).

    ``keras.applications.InceptionV3(include_top=True, weights=None)`` and then
    ``load_weights(path)``: nothing is ever downloaded.
    """

    INPUT_SIZE = 299

    def __init__(self, weights_path):
        import keras

        weights_path = os.path.expanduser(weights_path)
        if not os.path.exists(weights_path):
            raise FileNotFoundError(f"--inception_weights: no file {weights_path}.")
        model = keras.applications.InceptionV3(include_top=True, weights=None)
        model.load_weights(weights_path)
        self.pool_model = keras.Model(model.inputs, model.get_layer("avg_pool").output)
        kernel, bias = model.get_layer("predictions").get_weights()
        self.kernel, self.bias = kernel.astype(np.float64), bias.astype(np.float64)

    def __call__(self, image):
        """(pool features [2048], logits [1000]) of one uint8 RGB image, float64."""
        resized = tf.image.resize(tf.cast(image, tf.float32)[tf.newaxis],
                                  [self.INPUT_SIZE, self.INPUT_SIZE], "bilinear", antialias=True)
        pool = self.pool_model(to_network_range(resized), training=False)
        pool = np.asarray(pool, np.float64)[0]
        return pool, pool @ self.kernel + self.bias


# --------------------------------------------------------------------------------------------
# Methods.
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Method:
    """One way of filling a hole.

    Attributes:
        name: the method's name in the tables.
        fill: ``fill(known, hole) → uint8 [H, W, 3]`` where ``known`` is the uint8 [H, W, 3]
            image with the hole ZEROED (read-only) and ``hole`` bool [H, W]; only the output's
            hole pixels are used.
        max_pixels: larger images (H·W) are skipped; None = no limit.
    """

    name: str
    fill: Callable[[np.ndarray, np.ndarray], np.ndarray]
    max_pixels: Optional[int] = None


class _WithoutResiduals:
    """The generator with its attention scores (the ones CRA reads) replaced by zeros.

    ``cra.inpaint_image`` then aggregates zero residuals into every hole cell (Eq. 4), so its
    fill is the bilinear up-sampling of the low-resolution composite alone.
    """

    def __init__(self, generator):
        self.generator = generator
        self.config = generator.config

    def __call__(self, inputs, training=False):
        coarse, refined, scores = self.generator(inputs, training=training)
        return coarse, refined, tf.zeros_like(scores)


def _crainpaint_fill(generator, cra_config=cra.CRAConfig()):
    def fill(known, hole):
        return crainpaint.inpaint(known, hole.astype(np.float32), generator, config=cra_config)
    return fill


def _crainpaint_upsample_fill(generator, cra_config=cra.CRAConfig()):
    # No residual term: the network's own output, up-sampled, whatever the residual options.
    cra_config = dataclasses.replace(cra_config, residual_top_k=0, residual_sharpness=1.0,
                                     residual_blend=0.0, residual_scale=1)
    without_residuals = _WithoutResiduals(generator)

    @tf.function(input_signature=[tf.TensorSpec([None, None, 3], tf.uint8),
                                  tf.TensorSpec([None, None, 1], tf.bool)])
    def run(image, hole):
        return cra.inpaint_image(image, hole, without_residuals, cra_config)

    def fill(known, hole):
        return run(known, hole[..., np.newaxis]).numpy()
    return fill


def _generator_fullres_fill(generator):
    cell = generator.config.cell_size

    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32),
                                  tf.TensorSpec([1, None, None, 1], tf.float32)])
    def run(image, mask):
        _, refined, _ = generator((image, mask), training=False)
        return to_uint8(from_network_range(refined[0]))

    def fill(known, hole):
        height, width = hole.shape
        pad = [(0, -height % cell), (0, -width % cell)]
        image = np.pad(known, pad + [(0, 0)], mode="symmetric")
        mask = np.pad(hole, pad, mode="symmetric").astype(np.float32)
        output = run(to_network_range(image[np.newaxis]),
                     mask[np.newaxis, ..., np.newaxis])
        return output.numpy()[:height, :width]
    return fill


def _opencv_fill(flag, radius):
    def fill(known, hole):
        return cv2.inpaint(known, hole.astype(np.uint8) * 255, radius, flag)
    return fill


def build_methods(names, generator=None, inpaint_radius=3, fullres_max_pixels=2_100_000,
                  cra_config=None):
    """``Method`` objects for ``names`` (see ``METHODS``); generator methods need ``generator``;
    ``cra_config`` is the crainpaint methods' ``CRAConfig`` (default ``CRAConfig()``)."""
    cra_config = cra_config or cra.CRAConfig()
    factories = {
        "crainpaint": lambda: Method("crainpaint", _crainpaint_fill(generator, cra_config)),
        "crainpaint_upsample": lambda: Method("crainpaint_upsample",
                                              _crainpaint_upsample_fill(generator, cra_config)),
        "telea": lambda: Method("telea", _opencv_fill(cv2.INPAINT_TELEA, inpaint_radius)),
        "navier_stokes": lambda: Method("navier_stokes",
                                        _opencv_fill(cv2.INPAINT_NS, inpaint_radius)),
        "generator_fullres": lambda: Method("generator_fullres",
                                            _generator_fullres_fill(generator),
                                            max_pixels=fullres_max_pixels),
    }
    methods = []
    for name in names:
        if name not in factories:
            raise ValueError(f"Unknown method {name!r}; known: {METHODS}.")
        if name in GENERATOR_METHODS and generator is None:
            raise ValueError(f"Method {name!r} needs a generator.")
        methods.append(factories[name]())
    return methods


def zero_hole(target, hole):
    """The image a method is given: ``target`` with every hole pixel set to 0, read-only."""
    known = np.where(hole[..., np.newaxis], np.uint8(0), target).astype(np.uint8)
    known.setflags(write=False)
    return known


def hard_paste(output, known, hole):
    """The composite: ``output`` inside the hole, the method's input outside; checked.

    Raises:
        ValueError: ``output`` is not a uint8 array of the input's shape.
        AssertionError: a pixel outside the hole differs from the input (cannot happen by
            construction; the check guards the guarantee against future edits).
    """
    output = np.asarray(output)
    if output.shape != known.shape or output.dtype != np.uint8:
        raise ValueError(f"A method returned {output.dtype} {output.shape}; expected uint8 "
                         f"{known.shape}.")
    composite = np.where(hole[..., np.newaxis], output, known)
    if not np.array_equal(composite[~hole], known[~hole]):
        raise AssertionError("The composite differs from the input outside the hole.")
    return composite


def run_method(method, target, hole):
    """Fills ``target``'s hole with ``method`` given only the zeroed image; returns
    (composite, seconds). The composite's hole comes from the method, the rest from target."""
    hole = np.asarray(hole, bool).reshape(target.shape[:2])
    known = zero_hole(target, hole)
    start = time.perf_counter()
    output = method.fill(known, hole)
    seconds = time.perf_counter() - start
    if np.any(known[hole]):
        raise AssertionError(f"Method {method.name} wrote into its (read-only) input.")
    composite = hard_paste(output, known, hole)
    # Outside the hole the known image is the target itself, so this is the score's input.
    if not np.array_equal(composite[~hole], target[~hole]):
        raise AssertionError("The composite differs from the ground truth outside the hole.")
    return composite, seconds


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


def evaluate_sample(methods, target, hole):
    """Runs and scores every method on one (image, hole) pair.

    Returns:
        ({name: metrics with "seconds", or {"skipped": reason}}, {name: composite}).
    """
    results, composites = {}, {}
    height, width = hole.shape[:2]
    for method in methods:
        if method.max_pixels is not None and height * width > method.max_pixels:
            results[method.name] = {"skipped": f"{width}x{height} = {height * width / 1e6:.2f} "
                                               f"Mpx > {method.max_pixels / 1e6:.2f} Mpx"}
            continue
        composite, seconds = run_method(method, target, hole)
        results[method.name] = dict(score(composite, target, hole), seconds=seconds)
        composites[method.name] = composite
    return results, composites


def warm_up(methods, size=64):
    """One call per method on a small image, so traced functions are built before timing."""
    random = np.random.default_rng(0)
    target = random.integers(0, 256, (size, size, 3), dtype=np.uint8)
    hole = np.zeros((size, size), bool)
    hole[size // 4:size // 2, size // 4:size // 2] = True
    for method in methods:
        run_method(method, target, hole)


# --------------------------------------------------------------------------------------------
# Images and masks.
# --------------------------------------------------------------------------------------------


def list_images(images_dir, max_images=None):
    """Image files of a folder, in name order, the first ``max_images``."""
    images_dir = os.path.expanduser(images_dir)
    if not os.path.isdir(images_dir):
        raise FileNotFoundError(f"No image folder {images_dir}.")
    paths = sorted(os.path.join(images_dir, name) for name in os.listdir(images_dir)
                   if name.lower().endswith(IMAGE_EXTENSIONS))
    if not paths:
        raise FileNotFoundError(f"No images ({', '.join(IMAGE_EXTENSIONS)}) in {images_dir}.")
    return paths[:max_images] if max_images else paths


def pair_masks(image_paths, masks_dir):
    """{image path: mask path} by file stem; every image must have a mask."""
    masks_dir = os.path.expanduser(masks_dir)
    by_stem = {}
    for name in sorted(os.listdir(masks_dir)):
        if name.lower().endswith(IMAGE_EXTENSIONS):
            by_stem.setdefault(os.path.splitext(name)[0], os.path.join(masks_dir, name))
    stems = {path: os.path.splitext(os.path.basename(path))[0] for path in image_paths}
    missing = [os.path.basename(path) for path, stem in stems.items() if stem not in by_stem]
    if missing:
        raise FileNotFoundError(f"No mask with the same stem in {masks_dir} for "
                                f"{len(missing)} image(s): {missing[:5]}.")
    return {path: by_stem[stem] for path, stem in stems.items()}


def resize(image, height, width, interpolation=None):
    """cv2.resize to (height, width): area averaging when shrinking, bilinear when enlarging."""
    if image.shape[:2] == (height, width):
        return image
    if interpolation is None:
        shrinking = height <= image.shape[0] and width <= image.shape[1]
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)


def shrunk_size(height, width, long_side):
    """(height, width) with the long side at most ``long_side`` (aspect kept)."""
    if not long_side or max(height, width) <= long_side:
        return height, width
    scale = long_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def load_photo(path, long_side=None):
    """(uint8 RGB of a photo, area-shrunk to ``long_side`` if given; its original (H, W)).

    16-bit photos are rounded to 8 bits (every method works at 8 bits)."""
    pixels = read_image(path).pixels
    if pixels.dtype == np.uint16:
        pixels = np.round(pixels / 257.0).astype(np.uint8)
    height, width = shrunk_size(*pixels.shape[:2], long_side)
    return np.ascontiguousarray(resize(pixels, height, width)), pixels.shape[:2]


def square_hole_from(hole, size):
    """A hole map area-resized to size², thresholded at 0.5 (mask files at the fixed size)."""
    area = resize(hole.astype(np.float32), size, size)
    return area > 0.5


_MASK_FUNCTIONS = {}


def generated_mask(stem, bin_index, mask_index, seed, size):
    """The bin's seeded ``random_mask`` at size² as bool [size, size], and its seed."""
    name, low, high = GENERATED_BINS[bin_index]
    key = (bin_index, size)
    if key not in _MASK_FUNCTIONS:
        config = MaskConfig(min_hole_fraction=max(low, MIN_GENERATED_HOLE_FRACTION),
                            max_hole_fraction=high, max_attempts=MASK_MAX_ATTEMPTS)
        _MASK_FUNCTIONS[key] = tf.function(
            lambda mask_seed: random_mask(mask_seed, size, size, config),
            input_signature=[tf.TensorSpec([2], tf.int64)])
    mask_seed = [int(seed), zlib.crc32(f"{stem}|{name}|{mask_index}".encode()) & 0x7FFFFFFF]
    mask = _MASK_FUNCTIONS[key](tf.constant(mask_seed, tf.int64)).numpy()[..., 0] > 0.5
    return mask, mask_seed


def resize_nearest(hole, height, width):
    """A bool hole map resized nearest (pixel-centre aligned) to (height, width)."""
    resized = cv2.resize(hole.astype(np.uint8), (width, height),
                         interpolation=cv2.INTER_NEAREST_EXACT)
    return resized > 0


def bin_of(fraction, bins=FILE_BINS):
    """The name of the bin a hole fraction falls into ([low, high), the last one closed)."""
    for index, (name, low, high) in enumerate(bins):
        if low <= fraction < high or (index == len(bins) - 1 and fraction <= high):
            return name
    raise ValueError(f"Hole fraction {fraction} is outside every bin.")


def samples_of(config, image_paths):
    """The list of (image path, mask source) pairs the run evaluates, in order.

    A mask source is ("file", path) or ("generated", bin index, mask index).
    """
    if config.masks_dir:
        masks = pair_masks(image_paths, config.masks_dir)
        return [(path, ("file", masks[path])) for path in image_paths]
    return [(path, ("generated", bin_index, mask_index)) for path in image_paths
            for bin_index in range(len(GENERATED_BINS))
            for mask_index in range(config.masks_per_image)]


def holes_of(config, path, source, height, width, original):
    """(own-resolution hole, square hole, bin name, record) of one sample.

    ``(height, width)`` is the evaluated photo's size, ``original`` its size on disk (a mask
    file must have that size; it is resized nearest with the photo)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    size = config.square_size
    if source[0] == "file":
        hole = read_mask(source[1], config.mask_convention)[..., 0] > 0.5
        if hole.shape != (height, width):
            if hole.shape != tuple(original):
                raise ValueError(f"mask {source[1]} is {hole.shape[1]}x{hole.shape[0]} but image "
                                 f"{path} is {original[1]}x{original[0]} (width x height).")
            hole = resize_nearest(hole, height, width)
        square = square_hole_from(hole, size)
        return hole, square, bin_of(float(hole.mean())), {"mask": source[1]}
    _, bin_index, mask_index = source
    square, mask_seed = generated_mask(stem, bin_index, mask_index, config.seed, size)
    hole = resize_nearest(square, height, width)
    return hole, square, GENERATED_BINS[bin_index][0], {"mask_index": mask_index,
                                                        "mask_seed": mask_seed}


# --------------------------------------------------------------------------------------------
# The run.
# --------------------------------------------------------------------------------------------


def describe_cpu():
    """The CPU model, the cores this process may use and its relevant vector flags."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name") and model in ("", platform.machine(),
                                                               platform.processor()):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    present = [flag for flag in wanted if flag in flags]
    return f"{model} ({cores} CPUs{', ' + ', '.join(present) if present else ''})"


def _format_duration(seconds):
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def inception_summary(features, splits, bins):
    """FID (per method vs the ground truth) and IS of the collected Inception outputs.

    Args:
        features: {(resolution, name, bin): [(pool, logits), ...]} where name "ground_truth"
            holds the targets.
    """
    summary = {}
    for resolution in RESOLUTIONS:
        for metric in ("fid", "is"):
            summary.setdefault(resolution, {})[metric] = {}
        names = sorted({key[1] for key in features if key[0] == resolution})
        for name in names:
            for bin_name in list(bins) + [ALL_BINS]:
                rows = features.get((resolution, name, bin_name), [])
                real = features.get((resolution, "ground_truth", bin_name), [])
                entry = {"n": len(rows)}
                is_entry = dict(entry, mean=(inception_score(np.stack([r[1] for r in rows]),
                                                             splits) if rows else math.nan))
                summary[resolution]["is"].setdefault(name, {})[bin_name] = is_entry
                if name == "ground_truth":
                    continue
                if len(rows) >= 2 and len(real) >= 2:
                    fid = frechet_distance_from_features([r[0] for r in rows],
                                                         [r[0] for r in real])
                else:
                    fid = math.nan
                summary[resolution]["fid"].setdefault(name, {})[bin_name] = dict(entry, mean=fid)
    return summary


def _load_generator(weights):
    generator = crainpaint.load_pretrained(os.path.expanduser(weights) if weights else None)
    metadata = dict(getattr(generator, "pretrained_metadata", {}) or {})
    description = {"directory": os.path.expanduser(weights) if weights else "bundled",
                   "step": metadata.get("step"), "untrained": bool(metadata.get("untrained")),
                   "config": generator.config.to_dict()}
    return generator, description


def evaluate(config, progress=sys.stderr):
    """Runs the whole evaluation; returns the JSON-ready result (samples and summary)."""
    image_paths = list_images(config.images_dir, config.max_images)
    generator, weights = None, None
    if any(name in GENERATOR_METHODS for name in config.methods):
        generator, weights = _load_generator(config.weights)
    methods = build_methods(config.methods, generator, config.inpaint_radius,
                            config.fullres_max_pixels, config.cra)
    inception = (InceptionStatistics(config.inception_weights) if config.inception_weights
                 else None)
    warm_up(methods)
    bins = [name for name, _, _ in (FILE_BINS if config.masks_dir else GENERATED_BINS)]
    samples_todo = samples_of(config, image_paths)
    samples, features = [], {}
    start = time.perf_counter()
    cached_path, target = None, None
    for index, (path, source) in enumerate(samples_todo):
        if path != cached_path:
            cached_path = path
            target, original_size = load_photo(path, config.long_side)
        height, width = target.shape[:2]
        hole, square_hole, bin_name, record = holes_of(config, path, source, height, width,
                                                       original_size)
        record.update(image=os.path.basename(path), size=[height, width],
                      original_size=list(original_size), bin=bin_name)
        if not hole.any() or not square_hole.any():
            print(f"[{index + 1}/{len(samples_todo)}] {record['image']}: empty hole, skipped",
                  file=progress)
            continue
        square_target = resize(target, config.square_size, config.square_size)
        record["hole_fraction"] = {"own": float(hole.mean()), "square": float(square_hole.mean())}
        record["results"], record[GROUND_TRUTH] = {}, {}
        for resolution, image, image_hole in (("own", target, hole),
                                              ("square", square_target, square_hole)):
            results, composites = evaluate_sample(methods, image, image_hole)
            record["results"][resolution] = results
            # The photo's own texture ratio: what a fill should score on this hole.
            record[GROUND_TRUTH][resolution] = {
                "texture_ratio": texture_ratio(image, image_hole)}
            if inception is not None:
                named = dict(composites, ground_truth=image)
                for name, composite in named.items():
                    outputs = inception(composite)
                    for key_bin in (bin_name, ALL_BINS):
                        features.setdefault((resolution, name, key_bin), []).append(outputs)
        samples.append(record)
        elapsed = time.perf_counter() - start
        remaining = elapsed / (index + 1) * (len(samples_todo) - index - 1)
        print(f"[{index + 1}/{len(samples_todo)}] {record['image']} {width}x{height} "
              f"bin {bin_name} (hole {100 * record['hole_fraction']['own']:.1f}%): "
              + ", ".join(f"{name} L1 {result['l1']:.2f} SWD {result['swd']:.0f}"
                          for name, result in record["results"]["own"].items()
                          if "skipped" not in result)
              + f" | elapsed {_format_duration(elapsed)}, ETA {_format_duration(remaining)}",
              file=progress, flush=True)
    summary = summarize(samples, config.methods, bins)
    if inception is not None:
        for resolution, tables in inception_summary(features, config.is_splits, bins).items():
            summary[resolution].update(tables)
    paired = paired_comparisons(samples, bins)
    return {"config": dataclasses.asdict(config), "weights": weights, "bins": bins,
            "methods": list(config.methods), "samples": samples, "summary": summary,
            "paired": paired, "wall_seconds": time.perf_counter() - start}


def write_json(result, path):
    """Writes ``result`` as strict JSON (NaN → null, ±inf → "inf"/"-inf"), atomically."""
    path = os.path.expanduser(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temporary = path + ".tmp"
    with open(temporary, "w") as handle:
        json.dump(json_ready(result), handle, indent=1, allow_nan=False)
    os.replace(temporary, path)


def header(command):
    """The lines printed first: command, CPU, library versions."""
    import keras

    return [f"command: {command}", f"cpu: {describe_cpu()}",
            f"versions: python {platform.python_version()}, tensorflow {tf.__version__}, "
            f"keras {keras.__version__}, opencv {cv2.__version__}, numpy {np.__version__}"]


def run(config, command, output_json=None, output=sys.stdout, progress=sys.stderr):
    """Header, evaluation, markdown tables and the optional JSON; returns the result."""
    lines = header(command)
    for line in lines:
        print(line, file=output, flush=True)
    start = time.perf_counter()
    result = evaluate(config, progress=progress)
    result.update(command=command, cpu=describe_cpu(), header=lines,
                  total_wall_seconds=time.perf_counter() - start)
    weights = result["weights"]
    if weights is not None:
        state = "UNTRAINED" if weights["untrained"] else f"step {weights['step']}"
        print(f"weights: {weights['directory']} ({state})", file=output)
    print(f"samples: {len(result['samples'])}, wall time "
          f"{_format_duration(result['total_wall_seconds'])}", file=output)
    print("", file=output)
    print(markdown_tables(result["summary"], result["methods"], result["bins"],
                          config.square_size), file=output, flush=True)
    paired = paired_tables(result["paired"], result["bins"])
    if paired:
        print("\n" + paired, file=output, flush=True)
    if output_json:
        write_json(result, output_json)
        print(f"\nwrote {output_json}", file=output)
    return result


# What --report needs from a saved run.
REPORT_KEYS = ("bins", "methods", "samples", "summary", "config", "total_wall_seconds")


def _from_json_value(value):
    """Inverse of ``json_ready`` for numbers: null → NaN, "inf"/"-inf" → ±inf."""
    if isinstance(value, dict):
        return {key: _from_json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_json_value(item) for item in value]
    if value is None:
        return math.nan
    if value in ("inf", "-inf"):
        return math.inf if value == "inf" else -math.inf
    return value


def report(path, output=sys.stdout):
    """Prints the tables of a JSON written by ``--output_json`` again, without re-running.

    The paired comparison is recomputed from the stored samples, so a JSON from before it
    existed gets it too. Returns the loaded result.

    Raises:
        ValueError: ``path`` is not JSON written by ``--output_json`` (names the file).
    """
    with open(os.path.expanduser(path)) as handle:
        try:
            result = json.load(handle)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not JSON: {error}") from None
    missing = [key for key in REPORT_KEYS if not isinstance(result, dict) or key not in result]
    if missing:
        raise ValueError(f"{path} is not a result of evaluate.py --output_json: missing "
                         f"{', '.join(missing)}.")
    bins, methods = result["bins"], result["methods"]
    samples = [dict(sample, results=_from_json_value(sample["results"]))
               for sample in result["samples"]]
    result["paired"] = paired_comparisons(samples, bins)
    square_size = result["config"]["square_size"]
    for line in result.get("header", []):
        print(line, file=output)
    print(f"report of {path}", file=output)
    weights = result.get("weights")
    if weights:
        state = "UNTRAINED" if weights["untrained"] else f"step {weights['step']}"
        print(f"weights: {weights['directory']} ({state})", file=output)
    print(f"samples: {len(samples)}, wall time "
          f"{_format_duration(result['total_wall_seconds'])}", file=output)
    print("", file=output)
    print(markdown_tables(_from_json_value(result["summary"]), methods, bins, square_size),
          file=output)
    paired = paired_tables(result["paired"], bins)
    if paired:
        print("\n" + paired, file=output, flush=True)
    return result


# --------------------------------------------------------------------------------------------
# Command line.
# --------------------------------------------------------------------------------------------


def _define_flags():
    from absl import flags

    flags.DEFINE_string("images", DEFAULT_IMAGES_DIR, "Folder of photos to evaluate.")
    flags.DEFINE_string("masks", None, "Folder of masks paired with the photos by stem; "
                        "default: seeded generated masks in hole-area bins.")
    flags.DEFINE_enum("mask_convention", "white_hole", list(MASK_CONVENTIONS),
                      "Mask files: white = hole (white_hole) or black = hole (black_hole).")
    flags.DEFINE_integer("masks_per_image", 1, "Generated masks per photo and bin.")
    flags.DEFINE_integer("seed", 0, "Seed of the generated masks.")
    flags.DEFINE_list("methods", list(METHODS), f"Comma-separated subset of {METHODS}.")
    flags.DEFINE_string("weights", None, "Generator weights directory (default: bundled).")
    flags.DEFINE_integer("max_images", None, "Only the first N photos in name order.")
    flags.DEFINE_integer("long_side", None, "Area-shrink photos to at most N px on the long "
                         "side before everything (default: their own size).")
    flags.DEFINE_integer("square_size", 512, "Side of the fixed-size evaluation and of the "
                         "generated masks.")
    flags.DEFINE_integer("inpaint_radius", 3, "cv2.inpaint radius (telea, navier_stokes).")
    flags.DEFINE_integer("fullres_max_pixels", 2_100_000, "Largest H*W generator_fullres runs on.")
    cra_flags.define_cra_flags()
    flags.adopt_module_key_flags(cra_flags)  # list them under --help
    flags.DEFINE_string("output_json", None, "Write every sample and the summary here.")
    flags.DEFINE_string("inception_weights", None, "Keras InceptionV3(include_top=True) "
                        ".weights.h5: enables FID and IS (nothing is downloaded).")
    flags.DEFINE_integer("is_splits", 1, "Splits of the Inception Score.")
    flags.DEFINE_string("report", None, "Print the tables of this --output_json file again "
                        "(with the paired comparison) and exit; nothing is evaluated.")
    return flags.FLAGS


def main(argv):
    from absl import app, flags

    del argv
    values = flags.FLAGS
    if values.report:
        try:
            report(values.report)
        except (OSError, ValueError) as error:
            raise app.UsageError(str(error)) from None
        return
    config = EvaluationConfig(
        images_dir=values.images, masks_dir=values.masks, mask_convention=values.mask_convention,
        masks_per_image=values.masks_per_image, seed=values.seed, methods=tuple(values.methods),
        weights=values.weights, max_images=values.max_images, long_side=values.long_side,
        square_size=values.square_size, inpaint_radius=values.inpaint_radius,
        fullres_max_pixels=values.fullres_max_pixels, cra=cra_flags.cra_config_from_flags(values),
        inception_weights=values.inception_weights, is_splits=values.is_splits)
    command = shlex.join([sys.executable] + sys.argv)
    run(config, command, output_json=values.output_json)


if __name__ == "__main__":
    from absl import app

    _define_flags()
    app.run(main)
