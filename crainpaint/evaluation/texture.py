"""Texture statistics of an inpainted hole, in numpy and OpenCV.

In-hole L1, PSNR and MS-SSIM reward a smooth fill: the blurred mean of every plausible texture
is closer, pixel by pixel, to the ground truth than any sharp texture placed a few pixels off.
These measures look at the fill's high frequencies instead:

* ``laplacian_magnitude``: |∇²| of the grey image after a Gaussian pre-blur of σ = 0.8 px, the
  local amount of fine detail (the pre-blur damps single-pixel noise, JPEG or sensor, against
  texture a few pixels wide).
* ``texture_ratio`` (no reference): the mean Laplacian magnitude inside the hole over the mean
  in a ring of context around it. A photo scores ≈ 1 by construction, a flat fill 0.
* ``texture_energy_ratio`` (full reference): the same mean inside the hole over the ground
  truth's in the same pixels.
* ``laplacian_swd`` (full reference): the sliced Wasserstein distance between the 7×7
  Laplacian-pyramid patches of the hole in the composite and in the ground truth (Karras et
  al. 2018, "Progressive growing of GANs for improved quality, stability, and variation",
  Sec. 5). Energy ratios can be gamed by adding white noise of the right power; a patch
  distribution cannot, since noise has neither the spatial correlations nor the distribution
  of coarser levels that a real texture has.

Regions. Distances are chessboard distances (square structuring elements) in pixels. With
``margin = max(round(0.01 · short side), 4)``:

* the *core* of the hole is the hole eroded by ``margin``: the hole pixels whose
  (2·margin + 1)² neighbourhood lies in the hole. The pre-blur and the Laplacian together read
  a 9×9 neighbourhood (radius 4), so no core pixel's value depends on a pixel outside the hole:
  the seam is not counted. Pixels outside the image do not erode the hole (the filters reflect
  the border).
* the *ring* is the context pixels at a distance in (margin, 3·margin] from the hole: about
  1 % to 3 % of the short side away from it, again far enough that no ring value reads a hole
  pixel.

All images are RGB (uint8, or float on the 0–255 scale) [H, W, 3], or grey [H, W]; holes are
bool [H, W] or [H, W, 1], True = hole.
"""

import math

import cv2
import numpy as np

# σ (px) of the Gaussian pre-blur of laplacian_magnitude.
TEXTURE_SIGMA = 0.8
# Radius (px) of the pre-blur (OpenCV truncates a float Gaussian at 4σ: 7 taps for σ = 0.8)
# plus the Laplacian's 1: the farthest pixel a laplacian_magnitude value reads.
LAPLACIAN_RADIUS = 4
# The core's erosion and the ring's inner edge, as a fraction of the image's short side.
MARGIN_FRACTION = 0.01
# The ring's outer edge, in margins.
RING_OUTER_MARGINS = 3
# ITU-R BT.601 luma weights (OpenCV's RGB → grey), R, G, B.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)

# laplacian_swd (Karras et al. 2018, Sec. 5): 7×7 neighbourhoods, repeats × 128 directions.
SWD_PATCH_SIZE = 7
SWD_DIRECTIONS = 128
SWD_REPEATS = 4
SWD_MAX_POSITIONS = 16384
# A level is added while the hole, down-sampled to it, still has this many pixels...
SWD_MIN_POSITIONS = 64
# ... and at most this many times (a large hole in a 2048-px photo would otherwise reach a
# level of 16 px, where a 7×7 patch is half the image).
SWD_MAX_LEVELS = 6
# The target's per-channel standard deviation is floored at one grey level: a flat region of
# the ground truth must not turn invisible (< 1 grey level) differences into huge distances.
SWD_MIN_STD = 1.0
# Distances are reported × 1000, as Karras et al. report SWD.
SWD_SCALE = 1e3


def _grey(image):
    """float32 [H, W] luma of an RGB [H, W, 3] image, or the grey [H, W] / [H, W, 1] itself."""
    image = np.asarray(image, np.float32)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"Expected an RGB [H, W, 3] or grey [H, W] image, got shape "
                         f"{image.shape}.")
    red, green, blue = LUMA_WEIGHTS
    return red * image[..., 0] + green * image[..., 1] + blue * image[..., 2]


def _hole_map(hole, shape):
    """bool [H, W] of a hole given as [H, W] or [H, W, 1]; checks it matches ``shape``."""
    hole = np.asarray(hole)
    if hole.ndim == 3 and hole.shape[2] == 1:
        hole = hole[..., 0]
    if hole.shape != tuple(shape[:2]):
        raise ValueError(f"The hole is {hole.shape} but the image is {tuple(shape[:2])} "
                         f"(height, width); pass a bool [H, W] or [H, W, 1] hole map.")
    return hole.astype(bool)


def laplacian_magnitude(image):
    """|Laplacian| of the grey image after a Gaussian pre-blur of σ = ``TEXTURE_SIGMA``.

    The grey image is the BT.601 luma of RGB (a grey image is used as it is), on the scale of
    the input (0–255 for uint8). The blur is OpenCV's 7-tap Gaussian, the Laplacian the
    4-neighbour stencil [[0, 1, 0], [1, −4, 1], [0, 1, 0]], both reflecting the border
    without repeating the edge pixel (``BORDER_REFLECT_101``).

    Args:
        image: RGB [H, W, 3] or grey [H, W] (uint8, or float on the same scale).

    Returns:
        float32 [H, W], ≥ 0.
    """
    grey = _grey(image)
    blurred = cv2.GaussianBlur(grey, (0, 0), TEXTURE_SIGMA, TEXTURE_SIGMA,
                               borderType=cv2.BORDER_REFLECT_101)
    laplacian = cv2.Laplacian(blurred, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REFLECT_101)
    return np.abs(laplacian)


def _margin(shape):
    """The core's erosion and the ring's inner edge in px (see the module docstring)."""
    return max(int(round(MARGIN_FRACTION * min(shape[:2]))), LAPLACIAN_RADIUS)


def _square(radius):
    return np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)


def _hole_core(hole):
    """The hole eroded by ``max(round(1 % of the short side), 4)`` px (a square element).

    Pixels outside the image count as hole (they do not erode it). Returns bool [H, W].
    """
    hole = _hole_map(hole, np.shape(hole)[:2])
    eroded = cv2.erode(hole.astype(np.uint8), _square(_margin(hole.shape)),
                       borderType=cv2.BORDER_CONSTANT, borderValue=1)
    return eroded.astype(bool)


def _context_ring(hole):
    """Context pixels at a chessboard distance in (margin, 3·margin] from the hole, bool [H, W].

    Pixels outside the image are not hole (the ring does not grow from the border).
    """
    hole = _hole_map(hole, np.shape(hole)[:2])
    margin = _margin(hole.shape)
    as_uint8 = hole.astype(np.uint8)
    near = cv2.dilate(as_uint8, _square(margin), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    far = cv2.dilate(as_uint8, _square(RING_OUTER_MARGINS * margin),
                     borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return far.astype(bool) & ~near.astype(bool)


def _ratio(numerator, denominator):
    if not (math.isfinite(numerator) and math.isfinite(denominator)) or denominator <= 0.0:
        return math.nan
    return numerator / denominator


def _mean_over(values, region):
    return float(values[region].mean(dtype=np.float64)) if region.any() else math.nan


def texture_ratio(image, hole):
    """No-reference texture ratio: mean Laplacian magnitude in the hole's core over the ring's.

    ``laplacian_magnitude(image)`` averaged over the hole's core, divided by its average over
    the context ring (both defined in the module docstring: the hole eroded by 1 % of the
    short side, at least 4 px; the context 1 % to 3 % of the short side away from it). A
    stationary photo scores ≈ 1 by construction, a smooth fill ≈ 0, a fill sharper than its
    surroundings > 1.

    Args:
        image: the composite (the fill pasted into the photo), RGB [H, W, 3] or grey [H, W].
        hole: bool [H, W] or [H, W, 1], True = filled pixels.

    Returns:
        The ratio; NaN when the core or the ring is empty or the ring is flat (mean 0).
    """
    hole = _hole_map(hole, np.shape(image))
    magnitude = laplacian_magnitude(image)
    return _ratio(_mean_over(magnitude, _hole_core(hole)),
                  _mean_over(magnitude, _context_ring(hole)))


def texture_energy_ratio(composite, target, hole):
    """Mean Laplacian magnitude of the composite over the ground truth's, in the hole's core.

    Both means are over the same pixels, the hole's core (as in ``texture_ratio``): 1 for a
    fill with the ground truth's amount of fine detail, 0 for a flat one. Not a distance:
    white noise of the right power scores 1 too (``laplacian_swd`` does not reward it).

    Args:
        composite, target: RGB [H, W, 3] or grey [H, W], the same shape.
        hole: bool [H, W] or [H, W, 1].

    Returns:
        The ratio; NaN when the core is empty or the ground truth is flat there.
    """
    if np.shape(composite) != np.shape(target):
        raise ValueError(f"composite {np.shape(composite)} and target {np.shape(target)} "
                         f"differ in shape.")
    core = _hole_core(_hole_map(hole, np.shape(target)))
    return _ratio(_mean_over(laplacian_magnitude(composite), core),
                  _mean_over(laplacian_magnitude(target), core))


def _as_channels(image):
    """float32 [H, W, C] on the input's scale."""
    image = np.asarray(image, np.float32)
    return image[..., np.newaxis] if image.ndim == 2 else image


def _laplacian_pyramid(image, levels):
    """``levels`` band-pass images (Gaussian level − up-sampled next level), then the low-pass.

    OpenCV's ``pyrDown`` / ``pyrUp`` (the 5-tap binomial kernel [1, 4, 6, 4, 1] / 16): the sum
    of every level, each up-sampled back, is the image again. Returns ``levels + 1`` float32
    [h, w, C] arrays, finest first.
    """
    gaussian = [image]
    for _ in range(levels):
        gaussian.append(cv2.pyrDown(gaussian[-1]).reshape(
            (gaussian[-1].shape[0] + 1) // 2, (gaussian[-1].shape[1] + 1) // 2, -1))
    bands = []
    for finer, coarser in zip(gaussian[:-1], gaussian[1:]):
        height, width = finer.shape[:2]
        bands.append(finer - cv2.pyrUp(coarser, dstsize=(width, height)).reshape(finer.shape))
    return bands + [gaussian[-1]]


def _level_holes(hole):
    """The hole at each pyramid level: its area fraction over the level's pixel ≥ 0.5.

    Levels are added while the down-sampled hole keeps ``SWD_MIN_POSITIONS`` pixels, the level
    is at least one patch wide and there are at most ``SWD_MAX_LEVELS`` down-samplings.
    """
    fraction = hole.astype(np.float32)
    holes = [hole]
    height, width = hole.shape
    while len(holes) <= SWD_MAX_LEVELS:
        height, width = (height + 1) // 2, (width + 1) // 2
        if min(height, width) < SWD_PATCH_SIZE:
            break
        smaller = cv2.resize(fraction, (width, height), interpolation=cv2.INTER_AREA) >= 0.5
        if smaller.sum() < SWD_MIN_POSITIONS:
            break
        holes.append(smaller)
    return holes


def _patches(band, rows, columns):
    """[N, P, P, C] patches of ``band`` centred on (rows, columns), the border reflected."""
    radius = SWD_PATCH_SIZE // 2
    padded = np.pad(band, [(radius, radius), (radius, radius), (0, 0)], mode="reflect")
    offsets = np.arange(SWD_PATCH_SIZE)
    return padded[rows[:, None, None] + offsets[None, :, None],
                  columns[:, None, None] + offsets[None, None, :]]


def _sliced_wasserstein(first, second, directions):
    """Mean over ``directions`` [D, K] (unit columns) of the 1-D Wasserstein-1 distance between
    the projections of two equal-size descriptor sets [N, D]."""
    # Projections as [K, N] rows: sorting contiguous rows is ~3x faster than columns.
    projected_first = np.sort(directions.T @ first.T, axis=-1)
    projected_second = np.sort(directions.T @ second.T, axis=-1)
    return float(np.abs(projected_first - projected_second).mean(dtype=np.float64))


def laplacian_swd(composite, target, hole, seed=0, directions=SWD_DIRECTIONS,
                  repeats=SWD_REPEATS, max_positions=SWD_MAX_POSITIONS):
    """Multi-scale sliced Wasserstein distance of the hole's Laplacian-pyramid patches, × 1000.

    Karras et al. 2018, Sec. 5, between the hole of the composite and of the ground truth:

    1. Both whole images get the same Laplacian pyramid (``cv2.pyrDown`` / ``pyrUp``): band-pass
       levels while the hole, down-sampled to the next level (area fraction ≥ 0.5), keeps at
       least 64 pixels and the level is ≥ 7 px, at most 6 down-samplings, plus the low-pass
       residual (colour) as the last level.
    2. At each level, the 7×7×C patches centred on the level's hole pixels (the border
       reflected), at the SAME positions in both images; at most ``max_positions`` of them, a
       seeded draw without replacement.
    3. Both sets are normalised per channel with the mean and standard deviation (floored at
       one grey level) of the GROUND TRUTH's set. Normalising each set by its own statistics
       would hide exactly what a blurry fill lacks: its missing energy.
    4. ``repeats`` × ``directions`` random unit directions (Gaussian, normalised); along each,
       both projected sets are sorted and the mean absolute difference taken: the 1-D
       Wasserstein-1 distance of two equal-size samples.
    5. The mean over directions and levels, × 1000 (as Karras et al. report SWD); in units of
       the ground truth's standard deviation, so 1000 ≈ one standard deviation off.

    Positions and directions depend only on the hole, the image size and ``seed``, so every
    method filling the same hole is measured with the same draw.

    Args:
        composite, target: RGB [H, W, 3] (or grey [H, W]) uint8 or float on 0–255, same shape.
        hole: bool [H, W] or [H, W, 1].
        seed: seed of the positions and directions.
        directions: random directions per repeat.
        repeats: independent sets of directions.
        max_positions: most patch positions per level.

    Returns:
        The distance (0 for a composite equal to the target in and around the hole); NaN for
        an empty hole.
    """
    if np.shape(composite) != np.shape(target):
        raise ValueError(f"composite {np.shape(composite)} and target {np.shape(target)} "
                         f"differ in shape.")
    hole = _hole_map(hole, np.shape(target))
    if not hole.any():
        return math.nan
    random = np.random.default_rng(seed)
    holes = _level_holes(hole)
    levels = len(holes) - 1
    composite_bands = _laplacian_pyramid(_as_channels(composite), levels)
    target_bands = _laplacian_pyramid(_as_channels(target), levels)
    distances = []
    for level_hole, composite_band, target_band in zip(holes, composite_bands, target_bands):
        rows, columns = np.nonzero(level_hole)
        if rows.size > max_positions:
            chosen = np.sort(random.choice(rows.size, max_positions, replace=False))
            rows, columns = rows[chosen], columns[chosen]
        composite_patches = _patches(composite_band, rows, columns)
        target_patches = _patches(target_band, rows, columns)
        channels = target_patches.shape[-1]
        mean = target_patches.reshape(-1, channels).mean(axis=0, dtype=np.float64)
        std = np.maximum(target_patches.reshape(-1, channels).std(axis=0, dtype=np.float64),
                         SWD_MIN_STD)
        scale, offset = (1.0 / std).astype(np.float32), (-mean / std).astype(np.float32)
        composite_set = (composite_patches * scale + offset).reshape(rows.size, -1)
        target_set = (target_patches * scale + offset).reshape(rows.size, -1)
        # All repeats in one product: with equal-size sets the mean over every direction is
        # the mean over repeats of the per-repeat means.
        basis = random.standard_normal((target_set.shape[1], repeats * directions))
        basis = (basis / np.linalg.norm(basis, axis=0, keepdims=True)).astype(np.float32)
        distances.append(_sliced_wasserstein(composite_set, target_set, basis))
    return float(np.mean(distances)) * SWD_SCALE
