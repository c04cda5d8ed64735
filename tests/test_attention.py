"""ACM (Eq. 1-2) and ATM (Eq. 3) against numpy references."""

import keras
import numpy as np
import tensorflow as tf

from crainpaint.layers import (AttentionComputing, AttentionTransfer, fold_patches,
                               extract_patches, grid_hole_mask)
from crainpaint.layers import attention
from tests import reference


def numpy_scores(grid_features, hole_grid, scale=10.0, fuse=True, normalization="paper"):
    """Eq. 1-2 for one sample: grid_features [gh, gw, C], hole_grid [gh, gw] → [cells, cells]."""
    gh, gw = hole_grid.shape
    patches = reference.patches_3x3(grid_features.astype(np.float64))
    norms = np.sqrt(np.maximum((patches ** 2).sum(-1, keepdims=True), 1e-8))
    sources = patches / norms
    targets = sources if normalization == "paper" else patches
    similarity = targets @ sources.T
    if fuse:
        similarity = reference.fuse(similarity, gh, gw)
    padded = np.pad(hole_grid, 1)
    touching = np.array([[padded[y:y + 3, x:x + 3].max() for x in range(gw)] for y in range(gh)])
    valid = (touching.reshape(-1) == 0)
    logits = scale * similarity
    if normalization == "author":
        logits = logits * valid
        weights = np.exp(logits - logits.max(-1, keepdims=True))
        return weights / weights.sum(-1, keepdims=True) * valid
    scores = np.zeros_like(logits)
    for row in range(len(logits)):
        if valid.any():
            exponentials = np.exp(logits[row, valid] - logits[row, valid].max())
            scores[row, valid] = exponentials / exponentials.sum()
    return scores


def random_hole_grid(rng, gh, gw, fraction=0.3):
    grid = (rng.random((gh, gw)) < fraction).astype(np.float32)
    grid[0, 0] = 0.0
    return grid


class AttentionComputingTest(tf.test.TestCase):

    def test_scores_match_numpy_equations_for_both_normalizations_and_fuse(self):
        rng = np.random.default_rng(0)
        features = rng.normal(size=(2, 5, 6, 4)).astype(np.float32)
        holes = np.stack([random_hole_grid(rng, 5, 6), random_hole_grid(rng, 5, 6, 0.15)])
        for normalization in ("paper", "author"):
            for fuse in (True, False):
                layer = AttentionComputing(fuse=fuse, normalization=normalization)
                scores = layer(features, holes[..., np.newaxis]).numpy()
                for sample in range(2):
                    expected = numpy_scores(features[sample], holes[sample], fuse=fuse,
                                            normalization=normalization)
                    self.assertAllClose(scores[sample], expected, atol=1e-5,
                                        msg=f"{normalization} fuse={fuse} sample {sample}")

    def test_rows_sum_to_one_over_valid_sources_and_hole_patches_get_zero(self):
        rng = np.random.default_rng(1)
        features = rng.normal(size=(1, 8, 8, 3)).astype(np.float32)
        hole = np.zeros((1, 8, 8, 1), np.float32)
        hole[0, 2:4, 3:6] = 1.0
        scores = AttentionComputing()(features, hole).numpy()[0]
        self.assertAllClose(scores.sum(-1), np.ones(64), atol=1e-5)
        touching = tf.nn.max_pool2d(hole, 3, 1, "SAME").numpy().reshape(-1) > 0
        self.assertEqual(np.abs(scores[:, touching]).max(), 0.0)
        self.assertGreaterEqual(scores.min(), 0.0)

    def test_author_normalization_rows_sum_to_less_than_one(self):
        rng = np.random.default_rng(2)
        features = rng.normal(size=(1, 6, 6, 3)).astype(np.float32)
        hole = np.zeros((1, 6, 6, 1), np.float32)
        hole[0, 1:3, 1:3] = 1.0
        layer = AttentionComputing(softmax_scale=1.0, fuse=False, normalization="author")
        scores = layer(features, hole).numpy()[0]
        # Excluded sources keep logit 0 inside the softmax: their share of the mass is lost.
        self.assertLess(scores.sum(-1).max(), 0.99)

    def test_hole_only_map_gives_zeros_not_nan_and_finite_gradient(self):
        features = tf.random.normal([1, 4, 4, 2])
        hole = tf.ones([1, 4, 4, 1])
        layer = AttentionComputing()
        with tf.GradientTape() as tape:
            tape.watch(features)
            scores = layer(features, hole)
        gradient = tape.gradient(tf.reduce_sum(scores), features,
                                 unconnected_gradients=tf.UnconnectedGradients.ZERO)
        self.assertAllEqual(scores, tf.zeros([1, 16, 16]))
        self.assertTrue(np.all(np.isfinite(gradient.numpy())))

    def test_features_are_area_pooled_to_the_grid(self):
        rng = np.random.default_rng(3)
        features = rng.normal(size=(1, 8, 12, 3)).astype(np.float32)
        hole = random_hole_grid(rng, 4, 6)[np.newaxis, ..., np.newaxis]
        pooled = features.reshape(1, 4, 2, 6, 2, 3).mean(axis=(2, 4))
        layer = AttentionComputing()
        self.assertAllClose(layer(features, hole), layer(pooled, hole), atol=1e-5)

    def test_none_batch_in_functional_model_with_per_sample_masks(self):
        features = keras.Input((None, None, 3))
        hole = keras.Input((None, None, 1))
        model = keras.Model([features, hole], AttentionComputing()(features, hole))
        rng = np.random.default_rng(4)
        values = rng.normal(size=(3, 4, 5, 3)).astype(np.float32)
        holes = np.stack([random_hole_grid(rng, 4, 5) for _ in range(3)])[..., np.newaxis]
        scores = model.predict_on_batch([values, holes])
        self.assertEqual(scores.shape, (3, 20, 20))
        for sample in range(3):
            self.assertAllClose(scores[sample], numpy_scores(values[sample], holes[sample, ..., 0]),
                                atol=1e-5)

    def test_config_round_trip(self):
        layer = AttentionComputing(softmax_scale=5.0, fuse=False, normalization="author")
        self.assertEqual(AttentionComputing.from_config(layer.get_config()).get_config(),
                         layer.get_config())

    def test_raises_unknown_normalization_error(self):
        with self.assertRaisesRegex(ValueError, "Unknown normalization 'cosine'"):
            AttentionComputing(normalization="cosine")


def numpy_transfer(features, scores, hole_grid, patch_size, stride):
    """Eq. 3 by explicit loops: im2col with 'SAME' placement, weighted sum, col2im, paste."""
    height, width, channels = features.shape
    gh, gw = height // stride, width // stride
    pad = (patch_size - stride) // 2
    padded = np.pad(features, [(pad, patch_size), (pad, patch_size), (0, 0)])
    patches = np.array([padded[y * stride:y * stride + patch_size,
                               x * stride:x * stride + patch_size]
                        for y in range(gh) for x in range(gw)])
    folded = np.zeros((height + 2 * patch_size, width + 2 * patch_size, channels))
    for target in range(gh * gw):
        if hole_grid.reshape(-1)[target] == 0:
            continue
        y, x = divmod(target, gw)
        aggregated = np.tensordot(scores[target], patches, axes=1)
        folded[y * stride:y * stride + patch_size, x * stride:x * stride + patch_size] += aggregated
    folded = folded[pad:pad + height, pad:pad + width]
    hole_pixels = np.kron(hole_grid, np.ones((stride, stride)))[..., np.newaxis]
    return features * (1 - hole_pixels) + folded * hole_pixels


class AttentionTransferTest(tf.test.TestCase):

    def test_one_hot_scores_copy_the_chosen_patch_exactly(self):
        rng = np.random.default_rng(5)
        features = rng.normal(size=(1, 12, 16, 2)).astype(np.float32)
        hole = np.zeros((1, 3, 4, 1), np.float32)
        hole[0, 1, 2] = 1.0
        scores = np.zeros((1, 12, 12), np.float32)
        scores[0, 1 * 4 + 2, 2 * 4 + 0] = 1.0  # cell (1, 2) takes the patch of cell (2, 0)
        output = AttentionTransfer(4, 4)(features, scores, hole).numpy()
        self.assertAllEqual(output[0, 4:8, 8:12], features[0, 8:12, 0:4])
        outside = np.ones((12, 16), bool)
        outside[4:8, 8:12] = False
        self.assertAllEqual(output[0][outside], features[0][outside])

    def test_overlapping_patches_match_numpy_col2im(self):
        rng = np.random.default_rng(6)
        for patch_size, stride in ((8, 4), (4, 2), (12, 4)):
            features = rng.normal(size=(2, 3 * stride, 5 * stride, 3)).astype(np.float32)
            holes = np.stack([random_hole_grid(rng, 3, 5, 0.4) for _ in range(2)])
            scores = rng.random((2, 15, 15)).astype(np.float32)
            output = AttentionTransfer(patch_size, stride)(features, scores, holes[..., None])
            for sample in range(2):
                expected = numpy_transfer(features[sample].astype(np.float64), scores[sample],
                                          holes[sample], patch_size, stride)
                self.assertAllClose(output[sample], expected, atol=1e-4,
                                    msg=f"patch {patch_size} stride {stride}")

    def test_fold_inverts_extract_for_non_overlapping_patches(self):
        features = tf.random.normal([2, 6, 9, 3])
        patches, gh, gw = extract_patches(features, 3, 3)
        self.assertAllEqual(fold_patches(patches, gh, gw, 3, 3, 3), features)

    def test_grid_hole_mask_marks_cell_with_a_single_hole_pixel(self):
        mask = np.zeros((1, 8, 12, 1), np.float32)
        mask[0, 5, 11] = 1.0
        grid = grid_hole_mask(mask, (2, 3)).numpy()[0, ..., 0]
        self.assertAllEqual(grid, [[0, 0, 0], [0, 0, 1]])

    def test_raises_when_patch_does_not_cover_cell(self):
        with self.assertRaisesRegex(ValueError, "multiple of stride"):
            AttentionTransfer(patch_size=3, stride=4)


class FastGradientTest(tf.test.TestCase):
    """The hand-written gradients of extraction and folding, and the hole-only aggregation,
    against what TensorFlow derives from the plain ops."""

    CASES = ((3, 1, 5, 7), (8, 4, 3, 5), (16, 8, 2, 3), (12, 4, 3, 2))  # patch, stride, gh, gw

    def test_extract_and_fold_are_adjoint(self):
        rng = np.random.default_rng(11)
        for patch_size, stride, gh, gw in self.CASES:
            image = rng.normal(size=(2, gh * stride, gw * stride, 3))
            patches = rng.normal(size=(2, gh * gw, patch_size * patch_size * 3))
            extracted = extract_patches(tf.constant(image), patch_size, stride)[0].numpy()
            folded = fold_patches(tf.constant(patches), gh, gw, patch_size, stride, 3).numpy()
            # <fold(P), G> = <P, extract(G)> for every P and G.
            self.assertAllClose(np.sum(folded * image), np.sum(patches * extracted),
                                msg=f"patch {patch_size} stride {stride}")

    def test_extract_and_fold_gradients_equal_tensorflows_own(self):
        rng = np.random.default_rng(12)
        for patch_size, stride, gh, gw in self.CASES:
            image = tf.constant(rng.normal(size=(2, gh * stride, gw * stride, 3)), tf.float32)
            patches = tf.constant(rng.normal(size=(2, gh * gw, patch_size ** 2 * 3)), tf.float32)
            weights_image = tf.constant(rng.normal(size=image.shape), tf.float32)
            weights_patches = tf.constant(rng.normal(size=patches.shape), tf.float32)
            with tf.GradientTape(persistent=True) as tape:
                tape.watch([image, patches])
                ours_extract = tf.reduce_sum(
                    extract_patches(image, patch_size, stride)[0] * weights_patches)
                plain_extract = tf.reduce_sum(
                    attention._extract(image, patch_size, stride) * weights_patches)
                ours_fold = tf.reduce_sum(
                    fold_patches(patches, gh, gw, patch_size, stride, 3) * weights_image)
                plain_fold = tf.reduce_sum(
                    attention._fold(patches, gh, gw, patch_size, stride, 3) * weights_image)
            message = f"patch {patch_size} stride {stride}"
            self.assertAllClose(tape.gradient(ours_extract, image),
                                tape.gradient(plain_extract, image), atol=1e-5, msg=message)
            self.assertAllClose(tape.gradient(ours_fold, patches),
                                tape.gradient(plain_fold, patches), atol=1e-5, msg=message)

    def test_fuse_gradient_equals_tensorflows_own_on_a_non_square_grid(self):
        rng = np.random.default_rng(14)
        gh, gw = 3, 5
        scores = tf.constant(rng.normal(size=(2, gh * gw, gh * gw)), tf.float32)
        upstream = tf.constant(rng.normal(size=scores.shape), tf.float32)

        def plain_fuse(matrix):
            fused = attention._transpose_grid(attention._diagonal_sum(matrix), gh, gw)
            return attention._transpose_grid(attention._diagonal_sum(fused), gw, gh)

        with tf.GradientTape(persistent=True) as tape:
            tape.watch(scores)
            ours = attention.fuse_scores(scores, gh, gw)
            plain = plain_fuse(scores)
            loss_ours, loss_plain = (tf.reduce_sum(value * upstream) for value in (ours, plain))
        self.assertAllClose(ours, plain)
        self.assertAllClose(tape.gradient(loss_ours, scores), tape.gradient(loss_plain, scores),
                            atol=1e-5)

    def test_hole_only_aggregation_equals_the_masked_full_product(self):
        rng = np.random.default_rng(13)
        cells, depth = 12, 5
        holes = np.zeros((3, cells), bool)
        holes[1] = True                      # sample 0 has no hole cell, sample 1 only hole cells
        holes[2, [0, 4, 5, 11]] = True
        scores = tf.constant(rng.random((3, cells, cells)), tf.float32)
        patches = tf.constant(rng.normal(size=(3, cells, depth)), tf.float32)
        upstream = tf.constant(rng.normal(size=(3, cells, depth)), tf.float32)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([scores, patches])
            ours = attention.aggregate_hole_cells(scores, patches, tf.constant(holes))
            loss_ours = tf.reduce_sum(ours * upstream)
            full = tf.matmul(scores, patches) * holes[..., None].astype(np.float32)
            loss_full = tf.reduce_sum(full * upstream)
        expected = np.einsum("bji,bid->bjd", scores.numpy(), patches.numpy()) * holes[..., None]
        self.assertAllClose(ours, expected, atol=1e-5)
        self.assertAllEqual(ours[0], np.zeros((cells, depth)))
        for variable in (scores, patches):
            self.assertAllClose(tape.gradient(loss_ours, variable),
                                tape.gradient(loss_full, variable), atol=1e-5)
