"""experiments/bundle_weights.py: the committed training log survives a move to a new machine."""

import importlib.util
import json
import os
import tempfile

import tensorflow as tf

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "experiments", "bundle_weights.py")


def _load_script():
    spec = importlib.util.spec_from_file_location("bundle_weights", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(finished, start, end):
    return {"finished": finished, "start_step": start, "end_step": end, "stage": "reconstruction",
            "image_size": 256, "global_batch_size": 2, "seconds": 60.0, "images_per_second": 1.0,
            "precision": "float32", "cpu": "test CPU", "metrics": {"reconstruction": 0.5}}


class MergeRunLogsTest(tf.test.TestCase):

    def _write(self, path, entries):
        with open(path, "w") as handle:
            for entry in entries:
                handle.write(json.dumps(entry) + "\n")

    def _read(self, path):
        with open(path) as handle:
            return [json.loads(line) for line in handle]

    def test_warm_started_run_appends_its_runs_after_the_committed_ones(self):
        bundle = _load_script()
        directory = tempfile.mkdtemp()
        committed, run = os.path.join(directory, "committed"), os.path.join(directory, "run")
        old = [_run("2026-11-25T15:18:13+00:00", 0, 260),
               _run("2026-11-25T18:07:02+00:00", 260, 9176)]
        new = [_run("2026-12-01T17:00:00+00:00", 9176, 12000)]
        self._write(committed, old)
        self._write(run, new)
        bundle.merge_run_logs(committed, run)
        self.assertEqual([(e["start_step"], e["end_step"]) for e in self._read(committed)],
                         [(0, 260), (260, 9176), (9176, 12000)])
        # Bundling the same run again (or the run that wrote the old runs) adds nothing.
        self._write(run, old + new)
        bundle.merge_run_logs(committed, run)
        self.assertLen(self._read(committed), 3)
        table = bundle.runs_table(committed, {12000: 20.5})
        self.assertIn("| 9176→12000 | 1 min |", table)
        self.assertTrue(table.splitlines()[-1].endswith("| 20.50 |"))

    def test_runs_are_ordered_by_finish_time_whatever_file_holds_them(self):
        bundle = _load_script()
        directory = tempfile.mkdtemp()
        committed, run = os.path.join(directory, "committed"), os.path.join(directory, "run")
        self._write(committed, [_run("2026-11-25T18:07:02+00:00", 260, 9176)])
        self._write(run, [_run("2026-12-01T17:00:00+00:00", 9176, 12000),
                          _run("2026-11-25T15:18:13+00:00", 0, 260)])
        bundle.merge_run_logs(committed, run)
        self.assertEqual([e["end_step"] for e in self._read(committed)], [260, 9176, 12000])
        self.assertFalse(os.path.exists(committed + ".tmp"))

    def test_missing_run_log_keeps_the_committed_runs(self):
        bundle = _load_script()
        directory = tempfile.mkdtemp()
        committed = os.path.join(directory, "committed")
        self._write(committed, [_run("2026-11-25T15:18:13+00:00", 0, 260)])
        bundle.merge_run_logs(committed, os.path.join(directory, "absent"))
        self.assertLen(self._read(committed), 1)


if __name__ == "__main__":
    tf.test.main()
