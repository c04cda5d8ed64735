r"""Training throughput on this machine: images/s of both stages at 256² and 512², batch 1 and 4,
float32 and mixed_bfloat16, with the paper's generator (``GeneratorConfig()``, 2.7 M parameters)
and critic, for one or more ``steps_per_loop`` (train steps per traced call), and how fast the
input pipeline alone delivers the same batches.

Every configuration runs in its own subprocess (a native crash or an unsupported precision is a
row marked "failed", not a dead benchmark), builds a ``Trainer`` exactly as ``crainpaint.train``
does, runs ``--warmup`` steps in one loop (tracing) and then times ``--steps`` steps in loops of
``steps_per_loop`` (``Trainer.train_loop``, what ``Trainer.train`` runs between two actions).
Then it pulls the same number of batches from a fresh iterator with the model idle: "input
share" is that time over the training time, the fraction of a step the pipeline alone needs
(the pipeline overlaps the step through prefetching, and competes with it for the same cores).

images/s counts every image the step consumed: ``batch`` for a reconstruction step, ``batch ×
(critic_steps + 1)`` for an Algorithm-1 step (5 critic updates and 1 generator update, each on its
own batch). The machine is shared: run when it is idle, and read the CPU line.

    python experiments/benchmark_training.py --json /tmp/training.json   # the whole table
    python experiments/benchmark_training.py --render /tmp/training.json # its markdown again
    python experiments/benchmark_training.py --quick    # 256², batch 1, both stages and precisions
    python experiments/benchmark_training.py --sizes 256 --batches 2 --stages reconstruction \
        --precisions float32,mixed_bfloat16 --steps 10
    # The host's share: small crops, one step per call against ten.
    python experiments/benchmark_training.py --sizes 64 --batches 1 --precisions float32 \
        --steps_per_loop 1,10 --steps 30
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPOSITORY)

from crainpaint.system_info import cpu_description  # noqa: E402  (after the path)
from crainpaint.training.config import DEFAULT_STEPS_PER_LOOP  # noqa: E402
DEFAULT_DATA_DIR = os.path.expanduser("~/.cache/crainpaint/data/photos/train")


def _parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="256² batch 1 only, 1 warm-up and 2 timed steps.")
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--batches", default="1,4")
    parser.add_argument("--stages", default="reconstruction,adversarial")
    parser.add_argument("--precisions", default="float32,mixed_bfloat16")
    parser.add_argument("--steps_per_loop", default=str(DEFAULT_STEPS_PER_LOOP),
                        help="train steps per traced call, comma-separated to compare")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per configuration")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps (tracing) first")
    parser.add_argument("--data_dir", default=None,
                        help=f"image folder (default: {DEFAULT_DATA_DIR} if it exists, else "
                             "generated images)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per row")
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    parser.add_argument("--render", default=None,
                        help="print the markdown table of a --json file written earlier, and exit")
    parser.add_argument("--single", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _generated_images(directory, count=8):
    import cv2
    import numpy as np

    os.makedirs(directory, exist_ok=True)
    random = np.random.default_rng(0)
    for index in range(count):
        image = random.integers(0, 256, size=(1200, 1600, 3), dtype=np.uint8)
        cv2.imwrite(os.path.join(directory, f"image{index}.png"), cv2.blur(image, (15, 15)))
    return directory


def _measure(row, data_dir, warmup, steps):
    """One configuration, in this (sub)process; returns the row with its measurements."""
    import tensorflow as tf  # noqa: F401  (import cost kept out of the timings)

    from crainpaint.models import CriticConfig, GeneratorConfig
    from crainpaint.training import TrainConfig, Trainer
    from data_pipelines import DataConfig

    config = TrainConfig(
        generator=GeneratorConfig(), critic=CriticConfig(input_size=row["size"]),
        data=DataConfig(dataset="folder", data_dir=data_dir, image_size=row["size"],
                        global_batch_size=row["batch"]),
        stage=row["stage"], mixed_precision=row["precision"], total_steps=10 ** 9,
        steps_per_loop=row["steps_per_loop"])
    with tempfile.TemporaryDirectory() as model_dir:
        started = time.perf_counter()
        trainer = Trainer(config, model_dir)
        iterator = trainer.make_iterator()
        row["build_seconds"] = time.perf_counter() - started
        started = time.perf_counter()
        trainer.train_loop(iterator, max(warmup, 1))
        row["warmup_seconds"] = time.perf_counter() - started
        started = time.perf_counter()
        done = 0
        while done < steps:
            count = min(config.steps_per_loop, steps - done)
            metrics = trainer.train_loop(iterator, count)
            done += count
        total = time.perf_counter() - started
        batches = steps * config.batches_per_step
        input_iterator = trainer.make_iterator()
        started = time.perf_counter()
        for _ in range(batches):
            next(input_iterator)
        input_seconds = time.perf_counter() - started
        trainer.close()
        row.update(
            seconds_per_step=total / steps, steps_per_second=steps / total,
            images_per_second=batches * config.data.global_batch_size / total,
            input_share=input_seconds / total,
            finite=all(value == value for value in metrics.values()))
        row["status"] = "ok"
    return row


def _run_row(row, arguments, data_dir):
    command = [sys.executable, os.path.abspath(__file__), "--single", json.dumps(row),
               "--steps", str(arguments.steps), "--warmup", str(arguments.warmup),
               "--data_dir", data_dir]
    environment = dict(os.environ)
    environment["PYTHONPATH"] = REPOSITORY + os.pathsep + environment.get("PYTHONPATH", "")
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        process = subprocess.run(command, capture_output=True, text=True, env=environment,
                                 timeout=arguments.timeout)
    except subprocess.TimeoutExpired:
        return dict(row, status=f"failed: timeout after {arguments.timeout:.0f} s")
    for line in reversed(process.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    lines = [line.strip() for line in process.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line] or lines or ["?"]
    return dict(row, status=f"failed (exit {process.returncode}): {errors[-1][:200]}")


def _format(rows):
    header = (f"{'stage':<15}{'size':>5}{'batch':>6}  {'precision':<15}{'steps/loop':>11}"
              f"{'s/step':>9}{'steps/s':>9}{'images/s':>10}{'input share':>13}")
    lines = [header, "-" * len(header)]
    for row in rows:
        prefix = (f"{row['stage']:<15}{row['size']:>5}{row['batch']:>6}  {row['precision']:<15}"
                  f"{row.get('steps_per_loop', 1):>11}")
        if row.get("status") != "ok":
            lines.append(prefix + "  " + row.get("status", "failed"))
            continue
        lines.append(prefix + f"{row['seconds_per_step']:>9.3f}{row['steps_per_second']:>9.2f}"
                              f"{row['images_per_second']:>10.3f}"
                              f"{100 * row['input_share']:>12.1f}%")
    return "\n".join(lines)


def _markdown(rows):
    """The README's table."""
    lines = ["| stage | crop | batch | precision | steps/loop | s/step | images/s | input share |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        prefix = (f"| {row['stage']} | {row['size']}² | {row['batch']} | {row['precision']} |"
                  f" {row.get('steps_per_loop', 1)} |")
        if row.get("status") != "ok":
            lines.append(prefix + f" {row.get('status', 'failed')} | | |")
            continue
        lines.append(prefix + f" {row['seconds_per_step']:.3f} | {row['images_per_second']:.3f} |"
                              f" {100 * row['input_share']:.1f}% |")
    return "\n".join(lines)


def main(argv=None):
    arguments = _parse_arguments(argv)
    if arguments.render:
        with open(arguments.render) as handle:
            saved = json.load(handle)
        print(f"CPU: {saved['cpu']}\n")
        print(_markdown(saved["rows"]))
        return 0
    if arguments.single:
        row = json.loads(arguments.single)
        print(json.dumps(_measure(row, arguments.data_dir, arguments.warmup, arguments.steps)))
        return 0
    if arguments.quick:
        arguments.sizes, arguments.batches = "256", "1"
        arguments.steps, arguments.warmup = 2, 1
    data_dir = arguments.data_dir or (DEFAULT_DATA_DIR if os.path.isdir(DEFAULT_DATA_DIR)
                                      else None)
    scratch = None
    if data_dir is None:
        scratch = tempfile.mkdtemp(prefix="crainpaint-benchmark-")
        data_dir = _generated_images(scratch)
    print(f"CPU: {cpu_description()}")
    print(f"data: {data_dir}; {arguments.warmup} warm-up + {arguments.steps} timed steps per row; "
          "generator = GeneratorConfig() (2.7 M), critic at the crop size")
    rows = []
    started = time.monotonic()
    for stage in arguments.stages.split(","):
        for size in map(int, arguments.sizes.split(",")):
            for batch in map(int, arguments.batches.split(",")):
                for precision in arguments.precisions.split(","):
                    for steps_per_loop in map(int, arguments.steps_per_loop.split(",")):
                        row = {"stage": stage, "size": size, "batch": batch,
                               "precision": precision, "steps_per_loop": steps_per_loop}
                        rows.append(_run_row(row, arguments, data_dir))
                        print(_format(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(_format(rows))
    print(f"wall time: {(time.monotonic() - started) / 60:.1f} min for {len(rows)} rows")
    print()
    print(_markdown(rows))
    if arguments.json:
        with open(arguments.json, "w") as handle:
            json.dump({"cpu": cpu_description(), "rows": rows}, handle, indent=2)
    if scratch:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
