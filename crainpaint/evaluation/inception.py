"""FID and Inception Score of composites: a Keras InceptionV3 pool model and the statistics.

FID: composites and targets resized to 299² (bilinear, antialiased), pool features → Fréchet
distance between the Gaussians of composites and targets, per method, resolution and bin
(``frechet_distance`` with ``scipy.linalg.sqrtm``, or its exact low-rank form when there are
fewer samples than features, ``frechet_distance_from_features``); IS = exp(E_x KL(p(y|x) ‖ p(y)))
from the logits (pool features · the top's kernel + bias). Keras' InceptionV3 is not the TF-Slim
graph of the FID/IS papers, and a few hundred samples bias FID upwards: compare the numbers
between methods here, not with published ones. Nothing is downloaded: the weights are a file.
"""

from __future__ import annotations

import math
import os

import numpy as np
import tensorflow as tf

from crainpaint.evaluation.report import ALL_BINS, RESOLUTIONS



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
        pool = self.pool_model(resized / 127.5 - 1.0, training=False)
        pool = np.asarray(pool, np.float64)[0]
        return pool, pool @ self.kernel + self.bias


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

