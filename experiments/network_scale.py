"""Held-out in-hole L1 of one set of weights run at several network input sizes.

The generator is fully convolutional, so the same weights can fill a hole with the network input at
256² (attention grid 16×16) or at the paper's 512² (32×32). A model trained on 256² crops sees, at
512² inference, holes twice as large in pixels as any it was trained on, while its dilated
convolutions keep their receptive field. This script measures what that costs: the mean in-hole L1
(0–255) over the 15 held-out cases of ``crainpaint.evaluation.cases.held_out_cases`` (512² crops of
the bundled validation photo, never trained on), each inpainted by the full CRA pipeline with the
network at every size given, next to OpenCV Telea and Navier–Stokes (radius 5). The CRA options are
the shared flags of ``crainpaint.cra_flags`` (``--cra_preset`` and one flag per ``CRAConfig``
field), except that ``--seam`` is the paper's ``paste`` unless given, as in the model card's
network-size table (``--seam poisson`` for the library's). Run:

    python experiments/network_scale.py                    # the bundled weights
    python experiments/network_scale.py --weights DIR --sizes 256,384,512
    python experiments/network_scale.py --cra_preset paper # every CRA option at the paper's
"""

import dataclasses
import os
import sys
import time

import cv2
import numpy as np
from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from crainpaint import cra_flags  # noqa: E402


def at_input_size(generator, size):
    """A generator of the same weights whose network input (and CRA working size) is ``size``."""
    from crainpaint.models import Generator
    config = generator.config
    if size <= 0 or size % config.cell_size:
        raise ValueError(f"size {size} must be a positive multiple of the attention cell "
                         f"({config.cell_size} px).")
    resized = Generator(dataclasses.replace(
        config, input_size=size, attention_grid=size // config.cell_size)).build_for_size()
    shapes = [tuple(weight.shape) for weight in resized.weights]
    if shapes != [tuple(weight.shape) for weight in generator.weights]:
        raise ValueError(f"the generator at {size}² has other weights than the one loaded.")
    for target, source in zip(resized.weights, generator.weights):
        target.assign(source)
    return resized


def _define_flags():
    flags.DEFINE_string("weights", None, "A folder written by save_generator_weights "
                        "(default: bundled).")
    flags.DEFINE_list("sizes", ["256", "512"], "Network input sizes, comma-separated.")
    cra_flags.define_cra_flags(flags.FLAGS)
    flags.adopt_module_key_flags(cra_flags)
    # The model card's network-size table uses the paper's paste with the other defaults.
    flags.FLAGS.set_default("seam", "paste")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}.")
    values = flags.FLAGS
    try:
        sizes = [int(size) for size in values.sizes]
    except ValueError:
        raise app.UsageError(f"--sizes must be comma-separated integers, got "
                             f"{','.join(values.sizes)!r}") from None
    try:
        config = cra_flags.cra_config_from_flags(values)
    except ValueError as error:
        raise app.UsageError(str(error)) from None
    import crainpaint
    from crainpaint.evaluation.cases import held_out_cases
    from crainpaint.pipeline import load_generator
    from crainpaint.system_info import cpu_description

    generator = load_generator(values.weights, allow_untrained=False)
    bad = [size for size in sizes if size <= 0 or size % generator.config.cell_size]
    if bad:
        raise app.UsageError(f"--sizes must be positive multiples of the attention cell "
                             f"({generator.config.cell_size} px); got {bad}")
    cases = held_out_cases()
    rows = {}
    start = time.time()
    for size in sizes:
        network = at_input_size(generator, size)
        rows[f"crainpaint, network at {size}²"] = [
            np.abs(crainpaint.inpaint(crop, hole, network, config=config).astype(float)
                   - crop)[hole[..., 0]].mean()
            for crop, hole in cases]
    for name, flag in (("OpenCV Telea", cv2.INPAINT_TELEA),
                       ("OpenCV Navier–Stokes", cv2.INPAINT_NS)):
        rows[name] = [
            np.abs(cv2.inpaint(crop, hole[..., 0].astype(np.uint8) * 255, 5, flag).astype(float)
                   - crop)[hole[..., 0]].mean()
            for crop, hole in cases]
    step = generator.pretrained_metadata.get("step")
    print(f"Weights: {values.weights or 'bundled'} (step {step}); {len(cases)} held-out cases "
          f"(crainpaint.evaluation.cases.held_out_cases); {cpu_description()}, "
          f"{time.time() - start:.0f} s.")
    print(f"CRA: {config}")
    print()
    print(f"| method | in-hole L1 (0-255), mean of {len(cases)} | best of the methods in |")
    print("|---|---|---|")
    table = np.array(list(rows.values()))
    wins = np.bincount(np.argmin(table, axis=0), minlength=len(rows))
    for (name, errors), won in zip(rows.items(), wins):
        print(f"| {name} | {np.mean(errors):.2f} | {won}/{len(cases)} |")
    return 0


if __name__ == "__main__":
    _define_flags()
    app.run(main)
