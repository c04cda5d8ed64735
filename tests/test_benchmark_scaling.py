"""experiments/benchmark_scaling.py's measurements run: each method's worker at 512² (the
smallest size) prints a result line with its timings. Times are not checked (benchmarks measure
performance, tests do not); the workers' code paths are."""

import contextlib
import io
import json

import tensorflow as tf

from experiments import benchmark_scaling


def _worker_record(method):
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        benchmark_scaling.worker(method, "512")
    lines = [line for line in output.getvalue().splitlines() if line.startswith("RESULT ")]
    return json.loads(lines[-1][len("RESULT "):])


class BenchmarkScalingWorkerTest(tf.test.TestCase):

    def test_fullres_generator_worker_reports_its_timings(self):
        record = _worker_record("fullres_generator")
        self.assertEqual((record["method"], record["height"], record["width"]),
                         ("fullres_generator", 512, 512))
        self.assertGreater(record["first_s"], 0.0)
        self.assertGreater(record["warm_s"], 0.0)
        self.assertNotIn("network_s", record)  # The network is the whole of this method.

    def test_numpy_reference_worker_times_the_network_at_the_square_input(self):
        record = _worker_record("numpy_reference")
        self.assertEqual(record["network_input"], "512×512")
        self.assertGreater(record["network_s"], 0.0)
        self.assertGreater(record["warm_s"], 0.0)


if __name__ == "__main__":
    tf.test.main()
