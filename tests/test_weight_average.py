"""WeightAverage: the exponential moving average of a model's weights against numpy."""

import keras
import numpy as np
import tensorflow as tf

from crainpaint.training.weight_average import WeightAverage


def small_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    return model


class WeightAverageTest(tf.test.TestCase):

    def test_average_follows_the_recurrence_over_a_weight_trajectory(self):
        model = small_model()
        decay = 0.9
        average = WeightAverage(model, decay)
        expected = [variable.numpy().astype(np.float64) for variable in model.weights]
        rng = np.random.default_rng(0)
        for _ in range(5):
            for index, variable in enumerate(model.weights):
                value = rng.normal(size=variable.shape).astype(np.float32)
                variable.assign(value)
                expected[index] = decay * expected[index] + (1 - decay) * value
            average.update()
        for value, reference in zip(average.arrays().values(), expected):
            self.assertAllClose(value, reference, atol=1e-6)

    def test_update_inside_tf_function_and_reset(self):
        model = small_model()
        average = WeightAverage(model, 0.5)
        before = [variable.numpy() for variable in model.weights]
        for variable in model.weights:
            variable.assign(variable + 2.0)
        tf.function(average.update)()
        for value, old in zip(average.arrays().values(), before):
            self.assertAllClose(value, old + 1.0)
        average.reset()
        for value, variable in zip(average.arrays().values(), model.weights):
            self.assertAllEqual(value, variable.numpy())

    def test_keys_are_the_weights_paths(self):
        model = small_model()
        average = WeightAverage(model, 0.99)
        self.assertEqual(list(average.averages), [variable.path for variable in model.weights])
        self.assertFalse(any(shadow.trainable for shadow in average.averages.values()))

    def test_raises_decay_out_of_range_error(self):
        with self.assertRaisesRegex(ValueError, r"decay must be in \[0, 1\)"):
            WeightAverage(small_model(), 1.0)
