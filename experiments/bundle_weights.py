"""Bundles a training run's generator as ``crainpaint/pretrained/`` weights (float16).

Restores the generator (float32) from the latest checkpoint of ``--model_dir`` (its weight
average when the run keeps one, ``TrainConfig.generator_ema_decay``; ``--weights latest`` takes
the latest weights instead), writes ``generator.npz`` (float16) + ``generator.json`` into
``--out``, merges the run's log (``train_log.jsonl``: steps, wall time, CPU, precision and losses of
every run of the trainer) into the committed ``training_log.jsonl`` (a run warm-started on a
new machine only knows its own runs of the trainer; earlier ones are kept), and measures
what float16 storage costs: the largest weight change, and the in-hole difference of the
inpainted held-out cases (``crainpaint.evaluation.cases.held_out_cases``, the ones
``tests/test_pretrained.py`` uses) between the float32 and float16 generators. Records the
float16 weights' mean in-hole L1 on those cases (0-255) under their step in
``validation_log.jsonl`` and prints a markdown table of the runs of the trainer, with that held-out L1
at each one's last step where one was bundled, for the model card.

    python experiments/bundle_weights.py --model_dir ~/.cache/crainpaint/runs/photos
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

# The held-out L1 tracks the network across training steps, so every entry of
# validation_log.jsonl is measured with the same post-processing: the paper's paste (the network
# alone, not the seam blending the library adds by default).
HELD_OUT_SEAM = "paste"
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPOSITORY)


VALIDATION_LOG_NAME = "validation_log.jsonl"


def _read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_validation_log(path):
    """{step: held-out in-hole L1 of the float16 weights} from ``validation_log.jsonl``."""
    return {entry["step"]: entry["held_out_l1"] for entry in _read_jsonl(path)}


def runs_table(log_path, validation=None):
    """Markdown rows of the runs of the trainer; ``validation`` maps a step to its held-out L1."""
    validation = validation or {}
    lines = ["| finished (UTC) | stage | steps | wall time | images/s | precision | CPU | "
             "last losses | held-out L1 at the end |", "|---|---|---|---|---|---|---|---|---|"]
    with open(log_path) as handle:
        for line in handle:
            entry = json.loads(line)
            losses = ", ".join(f"{name} {value:.3f}" for name, value in
                               sorted(entry.get("metrics", {}).items())
                               if name in ("refined_hole", "coarse_hole", "reconstruction"))
            minutes = entry["seconds"] / 60
            held_out = validation.get(entry["end_step"])
            held_out = "—" if held_out is None else f"{held_out:.2f}"
            lines.append(
                f"| {entry['finished']} | {entry['stage']} ({entry['image_size']}², batch "
                f"{entry['global_batch_size']}) | {entry['start_step']}→{entry['end_step']} | "
                f"{minutes:.0f} min | {entry['images_per_second']:.2f} | {entry['precision']} | "
                f"{entry['cpu']} | {losses} | {held_out} |")
    return "\n".join(lines)


def merge_run_logs(committed_path, run_path):
    """Writes into ``committed_path`` its runs of the trainer plus the new ones of ``run_path``, ordered by finish
    time; a run of the trainer is identified by (finished, start_step, end_step), so re-bundling the same
    run adds nothing twice."""
    runs = {}
    for entry in _read_jsonl(committed_path) + _read_jsonl(run_path):
        runs[(entry["finished"], entry["start_step"], entry["end_step"])] = entry
    with open(committed_path + ".tmp", "w") as handle:
        for key in sorted(runs):
            handle.write(json.dumps(runs[key], sort_keys=True) + "\n")
    os.replace(committed_path + ".tmp", committed_path)


def _examples_seen(model_dir):
    """The data position of the latest checkpoint (a warm start continues from it)."""
    import tensorflow as tf

    checkpoint = tf.train.latest_checkpoint(model_dir)
    return int(tf.train.load_variable(checkpoint, "examples_seen/.ATTRIBUTES/VARIABLE_VALUE"))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model_dir", required=True)
    parser.add_argument("--out", default=os.path.join(REPOSITORY, "crainpaint", "pretrained"))
    parser.add_argument("--weights", default="auto", choices=["auto", "average", "latest"],
                        help="auto: the weight average if the checkpoint holds one, else the "
                             "latest weights.")
    args = parser.parse_args(argv)
    import tensorflow as tf

    import crainpaint
    from crainpaint.evaluation.cases import held_out_cases
    from crainpaint.training.actions import TRAIN_LOG_NAME
    from crainpaint.weights import (checkpoint_has_average, load_generator_weights,
                                    restore_generator, save_generator_weights)

    model_dir = os.path.expanduser(args.model_dir)
    checkpoint = tf.train.latest_checkpoint(model_dir)
    if checkpoint is None:
        parser.error(f"no checkpoint in {model_dir}")
    average = args.weights == "average" or (args.weights == "auto"
                                            and checkpoint_has_average(checkpoint))
    generator = restore_generator(model_dir, checkpoint, average=average)
    with open(os.path.join(model_dir, "config.json")) as handle:
        train_config = json.load(handle)
    extra = {"stage": train_config.get("stage"),
             "image_size": train_config.get("data", {}).get("image_size"),
             "dataset": train_config.get("data", {}).get("dataset"),
             "examples_seen": _examples_seen(model_dir)}
    if average:
        extra["weight_average_decay"] = train_config.get("generator_ema_decay")
    max_error = save_generator_weights(generator, args.out, step=generator.restored_step,
                                       extra=extra)
    log_path = os.path.join(args.out, "training_log.jsonl")
    merge_run_logs(log_path, os.path.join(model_dir, TRAIN_LOG_NAME))

    half = load_generator_weights(args.out)
    differences, full_errors, half_errors = [], [], []
    for crop, hole in held_out_cases():
        inside = hole[..., 0]
        full_output = crainpaint.inpaint(crop, hole, generator, seam=HELD_OUT_SEAM)
        half_output = crainpaint.inpaint(crop, hole, half, seam=HELD_OUT_SEAM)
        differences.append(np.abs(full_output.astype(int) - half_output.astype(int))[inside])
        full_errors.append(np.abs(full_output.astype(float) - crop)[inside].mean())
        half_errors.append(np.abs(half_output.astype(float) - crop)[inside].mean())
    difference = np.concatenate(differences)
    source = "weight average" if average else "latest weights"
    print(f"Bundled step {generator.restored_step} ({source}) from {model_dir} into {args.out}.")
    print(f"float16 storage: largest weight change {max_error:.2e}; on the 15 held-out cases "
          f"(crainpaint.evaluation.cases.held_out_cases) the in-hole output differs by at most "
          f"{difference.max()} (mean {difference.mean():.4f}) on 0-255; in-hole L1 float32 "
          f"{np.mean(full_errors):.3f} vs float16 {np.mean(half_errors):.3f}.")
    # The validation curve across runs of the trainer: one line per bundling (steps are global).
    validation_path = os.path.join(args.out, VALIDATION_LOG_NAME)
    validation = read_validation_log(validation_path)
    validation[generator.restored_step] = float(np.mean(half_errors))
    with open(validation_path + ".tmp", "w") as handle:
        for step in sorted(validation):
            handle.write(json.dumps({"step": step, "held_out_l1": round(validation[step], 3)})
                         + "\n")
    os.replace(validation_path + ".tmp", validation_path)
    if os.path.exists(log_path):
        print()
        print(runs_table(log_path, validation))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
