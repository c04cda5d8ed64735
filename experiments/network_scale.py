"""Held-out in-hole L1 of one set of weights run at several network input sizes.

The generator is fully convolutional, so the same weights can fill a hole with the network input
at 256² (attention grid 16×16) or at the paper's 512² (32×32). A model trained on 256² crops
sees, at 512² inference, holes twice as large in pixels as any it was trained on, while its
dilated convolutions keep their receptive field. This script measures what that costs: the mean
in-hole L1 (0–255) over the 15 held-out cases of ``crainpaint.demo.held_out_cases`` (512² crops
of the bundled validation photo, never trained on), each inpainted by the full CRA pipeline with
the network at every size given (with the paper's paste by default, as the model card's
network-size table; ``--seam poisson`` for the library's default), next to OpenCV Telea and
Navier–Stokes (radius 5). Run:

    python experiments/network_scale.py                    # the bundled weights
    python experiments/network_scale.py --weights DIR --sizes 256,384,512
"""

import argparse
import dataclasses
import os
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=None,
                        help="A folder written by save_generator_weights (default: bundled).")
    parser.add_argument("--sizes", default="256,512", help="Network input sizes, comma-separated.")
    parser.add_argument("--seam", default="paste", choices=("paste", "poisson"),
                        help="CRA seam (crainpaint.cra.CRAConfig); paste = the paper's.")
    args = parser.parse_args(argv)
    import crainpaint
    from crainpaint.demo import held_out_cases
    from crainpaint.pretrained import load_pretrained
    from crainpaint.training.trainer import cpu_model

    try:
        sizes = [int(size) for size in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, got {args.sizes!r}")
    generator = load_pretrained(args.weights, allow_untrained=False)
    bad = [size for size in sizes if size <= 0 or size % generator.config.cell_size]
    if bad:
        parser.error(f"--sizes must be positive multiples of the attention cell "
                     f"({generator.config.cell_size} px); got {bad}")
    cases = held_out_cases()
    rows = {}
    start = time.time()
    for size in sizes:
        network = at_input_size(generator, size)
        rows[f"crainpaint, network at {size}²"] = [
            np.abs(crainpaint.inpaint(crop, hole, network, seam=args.seam).astype(float)
                   - crop)[hole[..., 0]].mean()
            for crop, hole in cases]
    for name, flag in (("OpenCV Telea", cv2.INPAINT_TELEA),
                       ("OpenCV Navier–Stokes", cv2.INPAINT_NS)):
        rows[name] = [
            np.abs(cv2.inpaint(crop, hole[..., 0].astype(np.uint8) * 255, 5, flag).astype(float)
                   - crop)[hole[..., 0]].mean()
            for crop, hole in cases]
    step = generator.pretrained_metadata.get("step")
    print(f"Weights: {args.weights or 'bundled'} (step {step}); {len(cases)} held-out cases "
          f"(crainpaint.demo.held_out_cases); {cpu_model()}, "
          f"{time.time() - start:.0f} s.")
    print()
    print(f"| method | in-hole L1 (0-255), mean of {len(cases)} | best of the methods in |")
    print("|---|---|---|")
    table = np.array(list(rows.values()))
    wins = np.bincount(np.argmin(table, axis=0), minlength=len(rows))
    for (name, errors), won in zip(rows.items(), wins):
        print(f"| {name} | {np.mean(errors):.2f} | {won}/{len(cases)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
