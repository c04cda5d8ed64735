"""Real training steps through the command line, in subprocesses: a native crash (oneDNN has
crashed on strided 1×1 convolutions) becomes a failing test instead of a dead test runner.

0. A data folder without images is refused with one line naming it, exit status 2, no
   traceback, and nothing written (the model_dir is not even created).
1. One Algorithm-1 step (critic + generator, adversarial stage) of the smoke config exits 0.
2. The same model_dir resumes in the reconstruction stage (a stage switch, as the bundled
   model's schedule does the other way round); SIGTERM then saves a checkpoint and exits 143.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
import tensorflow as tf

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_SECONDS = 300


def _environment():
    environment = dict(os.environ)
    environment["PYTHONPATH"] = REPOSITORY + os.pathsep + environment.get("PYTHONPATH", "")
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    environment.pop("TF_CONFIG", None)
    return environment


def _train_command(image_folder, model_dir, steps, *extra):
    return [sys.executable, "-m", "crainpaint.train",
            "--experiment", os.path.join(REPOSITORY, "experiments", "folder.py"), "--smoke",
            "--data_dir", image_folder, "--model_dir", model_dir, "--steps", str(steps), *extra]


class TrainingStepSubprocessTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp(prefix="crainpaint-step-")
        cls.images = os.path.join(cls.root, "images")
        os.makedirs(cls.images)
        random = np.random.default_rng(3)
        for index in range(3):
            image = random.integers(0, 256, size=(96, 128, 3), dtype=np.uint8)
            cv2.imwrite(os.path.join(cls.images, f"photo{index}.jpg"), cv2.blur(image, (7, 7)))
        cls.model_dir = os.path.join(cls.root, "model")

    def test_0_empty_data_folder_is_refused_before_anything_is_written(self):
        empty = os.path.join(self.root, "empty_folder")
        os.makedirs(empty, exist_ok=True)
        model_dir = os.path.join(self.root, "never_written")
        process = subprocess.run(_train_command(empty, model_dir, 1), env=_environment(),
                                 capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
                                 cwd=self.root)
        self.assertEqual(process.returncode, 2, process.stderr[-4000:])
        self.assertIn(f"{empty!r} contains no", process.stderr)
        self.assertNotIn("Traceback", process.stderr)
        self.assertFalse(os.path.exists(model_dir))

    def test_1_one_adversarial_step_exits_cleanly(self):
        process = subprocess.run(_train_command(self.images, self.model_dir, 1),
                                 env=_environment(), capture_output=True, text=True,
                                 timeout=TIMEOUT_SECONDS, cwd=self.root)
        self.assertEqual(process.returncode, 0, process.stderr[-4000:])
        self.assertEqual(os.path.basename(tf.train.latest_checkpoint(self.model_dir)), "ckpt-1")
        with open(os.path.join(self.model_dir, "config.json")) as handle:
            config = json.load(handle)
        self.assertEqual(config["stage"], "adversarial")
        self.assertIn("critic_loss", process.stderr)

    def test_2_resumes_then_sigterm_saves_and_exits(self):
        if tf.train.latest_checkpoint(self.model_dir) is None:
            self.skipTest("needs the checkpoint of test_1")
        process = subprocess.Popen(_train_command(self.images, self.model_dir, 1000,
                                                  "--stage", "reconstruction"),
                                   env=_environment(), stderr=subprocess.PIPE, text=True,
                                   cwd=self.root)
        lines = []
        deadline = time.monotonic() + TIMEOUT_SECONDS
        try:
            for line in process.stderr:  # absl logs to stderr; stop after step 2 is logged.
                lines.append(line)
                if "step 2/1000" in line:
                    process.send_signal(signal.SIGTERM)
                    break
                if time.monotonic() > deadline:
                    break
            remaining = process.communicate(timeout=TIMEOUT_SECONDS)[1]
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        log = "".join(lines) + (remaining or "")
        self.assertIn("Restored", log)
        self.assertEqual(process.returncode, 128 + signal.SIGTERM, log[-4000:])
        saved = int(os.path.basename(tf.train.latest_checkpoint(self.model_dir)).split("-")[1])
        self.assertGreaterEqual(saved, 2)
        with open(os.path.join(self.model_dir, "train_log.jsonl")) as handle:
            sessions = [json.loads(line) for line in handle]
        self.assertEqual([(session["stage"], session["status"]) for session in sessions],
                         [("adversarial", "completed"), ("reconstruction", "interrupted")])
        self.assertEqual((sessions[1]["start_step"], sessions[1]["end_step"]), (1, saved))


if __name__ == "__main__":
    tf.test.main()
