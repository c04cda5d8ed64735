"""The trainer under tf.distribute, each case in fresh subprocesses (logical devices and
TF_CONFIG must be set before TensorFlow initialises).

* MirroredStrategy over 2 logical CPU devices: one Algorithm-1 step (a critic update, then a
  generator update) gives the same weights as the single-device step on the same global batch.
* MultiWorkerMirroredStrategy: two workers on localhost (free ports, a timeout on each process)
  train a few smoke steps and finish with identical weights.

Both keep a weight average of the generator (``generator_ema_decay``), updated in replica
context: it too must not depend on the layout.

This file is also the subprocesses' script: ``python tests/test_distributed.py mirrored OUT`` or
``python tests/test_distributed.py worker INDEX PORTS OUT MODEL_DIR``.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_SECONDS = 300


def _environment(**extra):
    environment = dict(os.environ)
    environment["PYTHONPATH"] = REPOSITORY + os.pathsep + environment.get("PYTHONPATH", "")
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    environment.pop("TF_CONFIG", None)
    environment.update(extra)
    return environment


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for handle in sockets:
        handle.bind(("localhost", 0))
    ports = [handle.getsockname()[1] for handle in sockets]
    for handle in sockets:
        handle.close()
    return ports


def _write_images(directory, count=4):
    import cv2

    os.makedirs(directory, exist_ok=True)
    random = np.random.default_rng(1)
    for index in range(count):
        image = random.integers(0, 256, size=(80 + 8 * index, 96, 3), dtype=np.uint8)
        image = cv2.GaussianBlur(image, (9, 9), 3)
        cv2.imwrite(os.path.join(directory, f"image{index}.png"), image)


def _config(image_folder, stage, batch_size):
    from crainpaint.models import CriticConfig, GeneratorConfig
    from crainpaint.training import TrainConfig
    from data_pipelines import DataConfig

    return TrainConfig(
        generator=GeneratorConfig(input_size=64, attention_grid=4, width_multiplier=0.25),
        critic=CriticConfig(input_size=64, width_multiplier=0.25),
        data=DataConfig(dataset="folder", data_dir=image_folder, image_size=64,
                        global_batch_size=batch_size, seed=2),
        stage=stage, critic_steps=1, total_steps=2, checkpoint_every_steps=0,
        checkpoint_every_seconds=0.0, summary_every_steps=100, image_summary_every_steps=0,
        export_generator_every_steps=0, mixed_precision="float32", generator_ema_decay=0.5,
        seed=7)


def _run_mirrored(output_path):
    """Single device vs 2 mirrored logical CPUs: one critic and one generator update."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from crainpaint.training import Trainer

    folder = os.path.join(os.path.dirname(output_path), "images")
    _write_images(folder)
    config = _config(folder, "adversarial", batch_size=4)
    results = {}
    for name, devices in (("single", ["/cpu:0"]), ("mirrored", ["/cpu:0", "/cpu:1"])):
        strategy = tf.distribute.MirroredStrategy(devices)
        trainer = Trainer(config, os.path.join(os.path.dirname(output_path), name),
                          strategy=strategy)
        iterator = trainer.make_iterator()
        critic = trainer.critic_step(next(iterator), 0)
        generator = trainer.generator_step(next(iterator))
        results[name] = {
            "replicas": strategy.num_replicas_in_sync,
            "metrics": {key: float(value) for key, value in {**critic, **generator}.items()},
            "generator": [variable.numpy() for variable in trainer.generator.weights],
            "critic": [variable.numpy() for variable in trainer.critic.weights],
            "average": list(trainer.generator_average.arrays().values()),
        }
    np.savez(output_path, **{
        f"{name}_{model}_{index}": value for name, result in results.items()
        for model in ("generator", "critic", "average")
        for index, value in enumerate(result[model])})
    with open(output_path + ".json", "w") as handle:
        json.dump({name: {"replicas": result["replicas"], "metrics": result["metrics"]}
                   for name, result in results.items()}, handle)


def _run_worker(index, ports, output_path, model_dir):
    """One MultiWorkerMirroredStrategy worker (TF_CONFIG is set by the parent)."""
    from crainpaint.training import Trainer

    folder = os.path.join(os.path.dirname(model_dir), f"images{index}")
    _write_images(folder)  # Same files in both workers (same seed), separate folders.
    trainer = Trainer(_config(folder, "reconstruction", batch_size=2), model_dir)
    result = trainer.train()
    np.savez(output_path, *[variable.numpy() for variable in trainer.generator.weights],
             *trainer.generator_average.arrays().values())
    with open(output_path + ".json", "w") as handle:
        json.dump({"status": result["status"], "step": result["step"],
                   "replicas": trainer.strategy.num_replicas_in_sync,
                   "is_chief": trainer.is_chief, "metrics": result["metrics"]}, handle)


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] in ("mirrored", "worker"):
    if sys.argv[1] == "mirrored":
        _run_mirrored(sys.argv[2])
    else:
        _run_worker(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
    sys.exit(0)


import tensorflow as tf  # noqa: E402  (the subprocess branch above must not need it first)


class MirroredStrategyTest(tf.test.TestCase):
    def test_two_replicas_match_single_device_on_the_same_global_batch(self):
        directory = self.create_tempdir().full_path
        output = os.path.join(directory, "result.npz")
        process = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "mirrored", output],
            env=_environment(), capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        self.assertEqual(process.returncode, 0, process.stderr[-3000:])
        with open(output + ".json") as handle:
            summary = json.load(handle)
        self.assertEqual((summary["single"]["replicas"], summary["mirrored"]["replicas"]), (1, 2))
        for name, value in summary["single"]["metrics"].items():
            if name.endswith("gradient_norm"):
                continue  # A per-replica quantity (each replica's share of the gradient).
            self.assertAllClose(summary["mirrored"]["metrics"][name], value, rtol=1e-4,
                                atol=1e-5, msg=name)
        arrays = np.load(output)
        compared = 0
        for key in arrays.files:
            if key.startswith("single_"):
                self.assertAllClose(arrays["mirrored_" + key[len("single_"):]], arrays[key],
                                    rtol=1e-4, atol=1e-5, msg=key)
                compared += 1
        self.assertGreater(compared, 100)
        # The weight average (decay 0.5) moved with the weights and agrees across layouts too.
        averages = [key for key in arrays.files if key.startswith("single_average_")]
        self.assertNotEmpty(averages)
        self.assertFalse(all(np.array_equal(arrays[key], arrays[key.replace("average",
                                                                            "generator")])
                             for key in averages))


class MultiWorkerMirroredStrategyTest(tf.test.TestCase):
    def test_two_localhost_workers_finish_with_identical_weights(self):
        directory = self.create_tempdir().full_path
        ports = _free_ports(2)
        cluster = {"worker": [f"localhost:{port}" for port in ports]}
        model_dir = os.path.join(directory, "model")
        processes, outputs = [], []
        for index in range(2):
            output = os.path.join(directory, f"worker{index}.npz")
            outputs.append(output)
            tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker",
                                                                 "index": index}})
            processes.append(subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "worker", str(index),
                 ",".join(map(str, ports)), output, model_dir],
                env=_environment(TF_CONFIG=tf_config), stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True))
        logs = []
        try:
            for process in processes:
                # A dead worker blocks the other forever in a collective: bound every wait.
                _, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
                logs.append(stderr)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.communicate()
        for process, log in zip(processes, logs):
            self.assertEqual(process.returncode, 0, log[-3000:])
        summaries = []
        for output in outputs:
            with open(output + ".json") as handle:
                summaries.append(json.load(handle))
        self.assertEqual([summary["is_chief"] for summary in summaries], [True, False])
        for summary in summaries:
            self.assertEqual((summary["status"], summary["step"], summary["replicas"]),
                             ("completed", 2, 2))
        first, second = np.load(outputs[0]), np.load(outputs[1])
        self.assertEqual(len(first.files), len(second.files))
        for key in first.files:
            self.assertAllEqual(first[key], second[key])
        # Only the chief writes into model_dir.
        self.assertEqual(os.path.basename(tf.train.latest_checkpoint(model_dir)), "ckpt-2")


if __name__ == "__main__":
    tf.test.main()
