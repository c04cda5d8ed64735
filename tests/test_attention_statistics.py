"""The attention concentration statistics: golden rows, the numpy/TensorFlow agreement on ACM
scores of random features, and the edge cases (unnormalised, empty and sourceless rows)."""

import math

import numpy as np
import tensorflow as tf

from crainpaint.evaluation.attention import (attention_statistic_sums_tf, attention_statistics,
                                             attention_statistics_tf)
from crainpaint.layers import AttentionComputing
from crainpaint.layers.attention import valid_source_mask


def _hole_grids(batch, height, width, seed):
    """[B, gh, gw, 1] float32 grids with a different rectangular hole per item."""
    random = np.random.default_rng(seed)
    grids = np.zeros([batch, height, width, 1], np.float32)
    for item in range(batch):
        top, left = random.integers(0, height - 2), random.integers(0, width - 2)
        rows, cols = random.integers(1, 3), random.integers(1, 4)
        grids[item, top:top + rows, left:left + cols] = 1.0
    return grids


def _numpy_rows(scores, hole_grid):
    """The [K, N] rows of every hole cell of the batch, zero outside the usable sources."""
    usable = valid_source_mask(tf.constant(hole_grid)).numpy().reshape(len(hole_grid), -1)
    rows = []
    for item in range(len(hole_grid)):
        holes = hole_grid[item].reshape(-1) > 0.5
        rows.append(scores[item][holes] * usable[item])
    return np.concatenate(rows)


class AttentionStatisticsTest(tf.test.TestCase):

    def test_one_hot_row_has_one_source_and_top_weight_one(self):
        statistics = attention_statistics([[0.0, 0.0, 1.0, 0.0]])
        self.assertAllClose(statistics["effective_sources"], [1.0])
        self.assertAllClose(statistics["top_weight"], [1.0])
        self.assertEqual(statistics["hole_cells"], 1)

    def test_uniform_row_over_n_sources_has_n_sources_and_top_weight_one_over_n(self):
        for count in (1, 2, 7, 64):
            row = np.zeros([100])
            row[:count] = 1.0 / count
            statistics = attention_statistics(row[np.newaxis])
            self.assertAllClose(statistics["effective_sources"], [count], rtol=1e-12)
            self.assertAllClose(statistics["top_weight"], [1.0 / count], rtol=1e-12)

    def test_two_unequal_sources_match_the_entropy_by_hand(self):
        # p = (0.75, 0.25): H = −0.75 ln 0.75 − 0.25 ln 0.25.
        expected = math.exp(-0.75 * math.log(0.75) - 0.25 * math.log(0.25))
        statistics = attention_statistics([[0.75, 0.0, 0.25]])
        self.assertAllClose(statistics["effective_sources"], [expected], rtol=1e-12)
        self.assertAllClose(statistics["top_weight"], [0.75])

    def test_normalises_each_row_by_its_sum(self):
        row = np.array([0.5, 0.2, 0.3, 0.0])
        full = attention_statistics(row[np.newaxis])
        partial = attention_statistics(0.4 * row[np.newaxis])  # Author's ACM: sum below 1.
        self.assertAllClose(partial["effective_sources"], full["effective_sources"])
        self.assertAllClose(partial["top_weight"], full["top_weight"])

    def test_skips_rows_that_sum_to_zero_and_summarises_the_rest(self):
        weights = np.array([[1.0, 0.0, 0.0, 0.0],
                            [0.0, 0.0, 0.0, 0.0],
                            [0.25, 0.25, 0.25, 0.25],
                            [0.5, 0.5, 0.0, 0.0]])
        statistics = attention_statistics(weights)
        self.assertEqual(statistics["hole_cells"], 3)
        self.assertAllClose(statistics["effective_sources"], [1.0, 4.0, 2.0])
        self.assertAllClose(statistics["top_weight"], [1.0, 0.25, 0.5])
        self.assertAllClose(statistics["median_effective_sources"], 2.0)
        self.assertAllClose(statistics["median_top_weight"], 0.5)
        self.assertAllClose(statistics["mean_effective_sources"], 7.0 / 3.0)
        self.assertAllClose(statistics["mean_top_weight"], 1.75 / 3.0)

    def test_no_usable_rows_give_nan_summaries_and_zero_cells(self):
        for weights in (np.zeros([0, 16]), np.zeros([3, 16])):
            statistics = attention_statistics(weights)
            self.assertEqual(statistics["hole_cells"], 0)
            self.assertEmpty(statistics["effective_sources"])
            self.assertTrue(math.isnan(statistics["median_effective_sources"]))
            self.assertTrue(math.isnan(statistics["median_top_weight"]))

    def test_raises_not_two_dimensional_error(self):
        with self.assertRaisesRegex(ValueError, r"\[hole cells, sources\]"):
            attention_statistics(np.ones([2, 3, 4]))

    def test_raises_negative_or_non_finite_weight_error(self):
        for bad in (-0.1, np.nan, np.inf):
            with self.assertRaisesRegex(ValueError, "finite and non-negative"):
                attention_statistics([[0.5, bad]])


class AttentionStatisticsTfTest(tf.test.TestCase):

    def test_one_hot_and_uniform_rows_give_golden_means(self):
        # 1×4 grid with the hole in cell 0: the 3×3 patch of cell 1 touches it, so cells 2 and
        # 3 are the usable sources.
        hole_grid = np.zeros([2, 1, 4, 1], np.float32)
        hole_grid[:, 0, 0] = 1.0
        scores = np.zeros([2, 4, 4], np.float32)
        scores[0, 0, 3] = 1.0                  # One-hot: 1 source, top weight 1.
        scores[1, 0, 2:] = 0.5                 # Uniform over the 2 usable sources.
        statistics = attention_statistics_tf(scores, hole_grid)
        self.assertAllClose(statistics["effective_sources"], (1.0 + 2.0) / 2)
        self.assertAllClose(statistics["top_weight"], (1.0 + 0.5) / 2)

    def test_agrees_with_numpy_on_acm_scores_of_random_features(self):
        batch, height, width = 3, 6, 8
        features = tf.random.stateless_normal([batch, height * 2, width * 2, 5], seed=[1, 2])
        hole_grid = _hole_grids(batch, height, width, seed=3)
        for normalization in ("paper", "author"):
            scores = AttentionComputing(normalization=normalization)(features, hole_grid).numpy()
            expected = attention_statistics(_numpy_rows(scores, hole_grid))
            actual = attention_statistics_tf(scores, hole_grid)
            self.assertAllClose(actual["effective_sources"], expected["mean_effective_sources"],
                                rtol=1e-5, msg=normalization)
            self.assertAllClose(actual["top_weight"], expected["mean_top_weight"], rtol=1e-5,
                                msg=normalization)
            sums = attention_statistic_sums_tf(scores, hole_grid)
            self.assertEqual(float(sums["hole_cells"]), expected["hole_cells"])

    def test_averages_over_cells_not_over_batch_items(self):
        hole_grid = np.zeros([2, 4, 4, 1], np.float32)
        hole_grid[0, 0, 0] = 1.0                       # One hole cell, one-hot row.
        hole_grid[1, 0, :3] = 1.0                      # Three hole cells, uniform rows.
        scores = np.zeros([2, 16, 16], np.float32)
        scores[0, 0, 15] = 1.0
        scores[1, :3, 12:] = 0.25                      # Cells 12-15 are far from the hole.
        statistics = attention_statistics_tf(scores, hole_grid)
        self.assertAllClose(statistics["effective_sources"], (1.0 + 3 * 4.0) / 4)
        self.assertAllClose(statistics["top_weight"], (1.0 + 3 * 0.25) / 4)

    def test_no_hole_cells_give_zero_not_nan(self):
        scores = tf.fill([2, 16, 16], 1.0 / 16)
        for hole_grid in (np.zeros([2, 4, 4, 1], np.float32),   # No hole at all.
                          np.ones([2, 4, 4, 1], np.float32)):   # No usable source.
            statistics = attention_statistics_tf(scores, hole_grid)
            self.assertAllEqual(statistics["effective_sources"], 0.0)
            self.assertAllEqual(statistics["top_weight"], 0.0)

    def test_inside_tf_function_with_bfloat16_scores_and_dynamic_shapes(self):
        hole_grid = _hole_grids(2, 4, 6, seed=5)
        features = tf.random.stateless_normal([2, 8, 12, 4], seed=[6, 7])
        scores = AttentionComputing()(features, hole_grid)
        eager = attention_statistics_tf(scores, hole_grid)
        traced = tf.function(attention_statistics_tf, input_signature=[
            tf.TensorSpec([None, None, None], tf.bfloat16),
            tf.TensorSpec([None, None, None, 1], tf.float32)])
        graph = traced(tf.cast(scores, tf.bfloat16), hole_grid)
        for name in ("effective_sources", "top_weight"):
            self.assertEqual(graph[name].dtype, tf.float32)
            self.assertAllClose(graph[name], eager[name], rtol=2e-2)  # bf16 has 8 bits.


if __name__ == "__main__":
    tf.test.main()
