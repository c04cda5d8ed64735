"""Cold-start latency: what a user waits for when inpainting one photo from the command line.

Nobody inpaints warm: the command runs once on one photo. For 512², 2K and 8K photos (the bundled
demo photo and mask, resized; the photo as JPEG, the mask as PNG) this prints, in one run and with
the CPU model:

* the wall time of a bare ``python -c "import tensorflow"`` (the floor no change of ours can cut);
* the wall time of the whole command, ``python -m crainpaint --image … --mask … --output …``, with
  the default Poisson seam and with ``--seam paste``, and its ratio to the bare import: once with
  an empty cache of traced functions (``crainpaint.trace_cache``; the first command after an
  install or an upgrade), then the median of ``--repeats`` runs that find the stored graph;
* inside one fresh process, each stage in the order the command runs it: ``import tensorflow``,
  ``import crainpaint`` (what it adds), loading the weights, decoding the photo and mask, the first
  inpaint call (tracing, or the stored graph, included), a warm call, encoding the PNG; its first
  call is also timed with the cache off.

Every measurement runs in a fresh subprocess; wall times are the median of ``--repeats`` runs.
Run it with the CPU to yourself, or the figures measure the other work:

    python experiments/benchmark_latency.py                       # 512², 2K, 8K; ≈ 6 min on 2 cores
    python experiments/benchmark_latency.py --sizes 512 --repeats 1 --output_json latency.json

``--first_call_modes traced,eager,no_graph_optimizer`` instead compares ways of running the first
call, each in fresh processes taken in turn (A, B, C, A, B, C, …, so a busy machine slows them
alike): ``traced`` (the library's tf.function), ``eager`` (``tf.config.run_functions_eagerly``:
no tracing and no graph optimisation, every op dispatched from Python) and
``no_graph_optimizer`` (traced, Grappler off), all with the cache of traced functions off. It
prints each mode's median stages, its ratio to
``traced`` and whether its output equals ``traced``'s byte for byte (eager need not: without
the graph's fused kernels a pixel can round the other way, as one hole pixel of a 300×200 photo
under ``CRAConfig.paper()`` does):

    python experiments/benchmark_latency.py --sizes 512 --seams poisson --repeats 3 \
        --first_call_modes traced,eager,no_graph_optimizer
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from crainpaint.system_info import cpu_model  # noqa: E402  (numpy-free, no TensorFlow)

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_DIR = os.path.join(REPOSITORY, "crainpaint", "pretrained", "demo")
SIZES = {"512": (512, 512), "2K": (1152, 2048), "8K": (4320, 7680)}
SEAMS = ("poisson", "paste")
STAGES = ("import_tensorflow", "import_crainpaint", "load_weights", "decode", "first_call",
          "warm_call", "encode")
FIRST_CALL_MODES = ("traced", "eager", "no_graph_optimizer")


def command_module() -> str:
    """The module that runs the command line: ``crainpaint`` when the package has a ``__main__``."""
    if os.path.exists(os.path.join(REPOSITORY, "crainpaint", "__main__.py")):
        return "crainpaint"
    return "crainpaint.inpaint"


def make_case(size_name: str, directory: str):
    """Writes the demo photo (JPEG, quality 95) and its mask (PNG) resized to ``size_name``."""
    import cv2  # Only the parent process prepares files; the timed children import what they use.
    height, width = SIZES[size_name]
    photo = cv2.imread(os.path.join(DEMO_DIR, "photo.jpg"), cv2.IMREAD_COLOR)
    mask = cv2.imread(os.path.join(DEMO_DIR, "mask.png"), cv2.IMREAD_GRAYSCALE)
    if photo is None or mask is None:
        raise FileNotFoundError(f"The demo photo and mask are missing from {DEMO_DIR}.")
    photo = cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA)
    mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)
    image_path = os.path.join(directory, f"photo_{size_name}.jpg")
    mask_path = os.path.join(directory, f"mask_{size_name}.png")
    cv2.imwrite(image_path, photo, [cv2.IMWRITE_JPEG_QUALITY, 95])
    cv2.imwrite(mask_path, mask)
    return image_path, mask_path


def _wall_time(arguments, environment=None) -> float:
    start = time.perf_counter()
    completed = subprocess.run(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=environment, cwd=REPOSITORY)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed with status {completed.returncode}:\n"
                           f"{completed.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def _environment(cache_dir=None, trace_cache=True):
    """The children's environment: this checkout first on the path; the cache of traced
    functions in ``cache_dir`` (not the user's), or off."""
    environment = dict(os.environ)
    if cache_dir:
        environment["CRAINPAINT_CACHE_DIR"] = cache_dir
    if not trace_cache:
        environment["CRAINPAINT_TRACE_CACHE"] = "0"
    environment["PYTHONPATH"] = os.pathsep.join(
        [REPOSITORY] + [path for path in environment.get("PYTHONPATH", "").split(os.pathsep)
                        if path])
    return environment


def stage_worker(image_path: str, mask_path: str, output_path: str, seam: str,
                 mode: str = "traced") -> dict:
    """Times each stage of one inpainting in this (fresh) process; returns seconds per stage.

    ``mode`` is one of ``FIRST_CALL_MODES``; a mode other than ``traced`` also saves the result
    as ``output_path + ".npy"`` for the comparison with ``traced``'s.
    """
    times = {}
    start = time.perf_counter()
    import tensorflow  # (timed on purpose)
    times["import_tensorflow"] = time.perf_counter() - start
    if mode == "eager":
        tensorflow.config.run_functions_eagerly(True)
    elif mode == "no_graph_optimizer":
        tensorflow.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})

    start = time.perf_counter()
    import crainpaint
    from crainpaint import imaging
    from crainpaint.cra import CRAConfig
    times["import_crainpaint"] = time.perf_counter() - start

    start = time.perf_counter()
    model = crainpaint.load_pretrained()
    times["load_weights"] = time.perf_counter() - start

    start = time.perf_counter()
    image = imaging.read_image(image_path)
    mask = imaging.read_mask(mask_path)
    times["decode"] = time.perf_counter() - start

    config = CRAConfig(seam=seam)
    pixels = image.pixels
    mask_pixels = mask
    start = time.perf_counter()
    result = crainpaint.inpaint(pixels, mask_pixels, model, config=config)
    times["first_call"] = time.perf_counter() - start

    start = time.perf_counter()
    result = crainpaint.inpaint(pixels, mask_pixels, model, config=config)
    times["warm_call"] = time.perf_counter() - start

    if os.path.exists(output_path):
        os.remove(output_path)
    start = time.perf_counter()
    imaging.write_image(output_path, result)
    times["encode"] = time.perf_counter() - start
    import numpy
    numpy.save(output_path + ".npy", result)
    return times


def _run_stage_worker(image_path, mask_path, output_path, seam, mode="traced",
                      environment=None) -> dict:
    completed = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--stage_worker", image_path, mask_path,
         output_path, seam, mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=environment or _environment(trace_cache=False), cwd=REPOSITORY, check=False)
    if completed.returncode != 0:
        raise RuntimeError("stage worker failed:\n"
                           + completed.stderr.decode(errors="replace")[-2000:])
    return json.loads(completed.stdout.decode().strip().splitlines()[-1])


def compare_modes(size_name: str, seam: str, modes, repeats: int, directory: str) -> list:
    """Stages of each first-call mode, medians of ``repeats`` fresh processes taken in turn,
    and whether each mode's output equals the first mode's byte for byte."""
    import numpy
    image_path, mask_path = make_case(size_name, directory)
    runs = {mode: [] for mode in modes}
    identical = {mode: True for mode in modes}
    for _ in range(repeats):
        for mode in modes:
            output_path = os.path.join(directory, f"out_{size_name}_{seam}_{mode}.png")
            runs[mode].append(_run_stage_worker(image_path, mask_path, output_path, seam, mode))
            reference = os.path.join(directory, f"out_{size_name}_{seam}_{modes[0]}.png.npy")
            identical[mode] &= bool(numpy.array_equal(numpy.load(output_path + ".npy"),
                                                      numpy.load(reference)))
    return [{"size": size_name, "seam": seam, "mode": mode, "identical": identical[mode],
             "stages": {stage: statistics.median(run[stage] for run in runs[mode])
                        for stage in STAGES}} for mode in modes]


def format_modes_table(records) -> str:
    """Per mode: first call, warm call, their sum, the ratio of the sum to the first mode's."""
    lines = ["| size | seam | mode | first call s | warm call s | load weights s | "
             "first call × first mode's | output identical |", "|" + "---|" * 8]
    baseline = {}
    for record in records:
        stages = record["stages"]
        key = (record["size"], record["seam"])
        baseline.setdefault(key, stages["first_call"])
        lines.append(f"| {record['size']} | {record['seam']} | {record['mode']} | "
                     f"{stages['first_call']:.2f} | {stages['warm_call']:.2f} | "
                     f"{stages['load_weights']:.2f} | "
                     f"{stages['first_call'] / baseline[key]:.2f} | "
                     f"{'yes' if record['identical'] else 'NO'} |")
    return "\n".join(lines)


def measure(size_name: str, seam: str, repeats: int, directory: str, bare_import: float) -> dict:
    image_path, mask_path = make_case(size_name, directory)
    output_path = os.path.join(directory, f"out_{size_name}_{seam}.png")
    # An empty cache of traced functions of its own for each case: the first command stores.
    environment = _environment(cache_dir=tempfile.mkdtemp(prefix="cache_", dir=directory))
    command = [sys.executable, "-m", command_module(), "--image", image_path, "--mask", mask_path,
               "--output", output_path, "--overwrite", "--seam", seam]
    uncached_seconds = _wall_time(command, environment)
    walls = []
    for _ in range(repeats):
        walls.append(_wall_time(command, environment))
    stages = _run_stage_worker(image_path, mask_path, output_path, seam, environment=environment)
    stages["first_call_uncached"] = _run_stage_worker(
        image_path, mask_path, output_path, seam)["first_call"]
    command_seconds = statistics.median(walls)
    return {"size": size_name, "seam": seam, "command_seconds": command_seconds,
            "ratio_to_import_tensorflow": command_seconds / bare_import,
            "command_uncached_seconds": uncached_seconds,
            "uncached_ratio_to_import_tensorflow": uncached_seconds / bare_import,
            "stages": stages}


def format_table(records, bare_import: float) -> str:
    header = (["size", "seam", "command s", "× import tf", "command s, no cache",
               "× import tf, no cache"] + [stage.replace("_", " ") for stage in STAGES]
              + ["first call, no cache"])
    rows = [header]
    for record in records:
        rows.append([record["size"], record["seam"], f"{record['command_seconds']:.1f}",
                     f"{record['ratio_to_import_tensorflow']:.2f}",
                     f"{record['command_uncached_seconds']:.1f}",
                     f"{record['uncached_ratio_to_import_tensorflow']:.2f}"]
                    + [f"{record['stages'][stage]:.2f}" for stage in STAGES]
                    + [f"{record['stages']['first_call_uncached']:.2f}"])
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [f"bare `import tensorflow`: {bare_import:.2f} s (median)"]
    for index, row in enumerate(rows):
        lines.append("| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths))
                     + " |")
        if index == 0:
            lines.append("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default=",".join(SIZES),
                        help=f"comma-separated among {', '.join(SIZES)}")
    parser.add_argument("--seams", default=",".join(SEAMS), help="comma-separated seams")
    parser.add_argument("--repeats", type=int, default=3,
                        help="wall-time runs per measurement; the median counts")
    parser.add_argument("--output_json", default=None, help="also write the records here")
    parser.add_argument("--first_call_modes", default=None,
                        help=f"comma-separated among {', '.join(FIRST_CALL_MODES)}: compare "
                             "them instead of timing the command")
    parser.add_argument("--stage_worker", nargs=5, default=None, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)

    if arguments.stage_worker:
        print(json.dumps(stage_worker(*arguments.stage_worker)))
        return 0

    sizes = [size for size in arguments.sizes.split(",") if size]
    seams = [seam for seam in arguments.seams.split(",") if seam]
    for size in sizes:
        if size not in SIZES:
            parser.error(f"--sizes: unknown size {size!r}; choose among {', '.join(SIZES)}.")
    for seam in seams:
        if seam not in SEAMS:
            parser.error(f"--seams: unknown seam {seam!r}; choose among {', '.join(SEAMS)}.")
    if arguments.repeats < 1:
        parser.error("--repeats must be at least 1.")
    modes = [mode for mode in (arguments.first_call_modes or "").split(",") if mode]
    for mode in modes:
        if mode not in FIRST_CALL_MODES:
            parser.error(f"--first_call_modes: unknown mode {mode!r}; choose among "
                         f"{', '.join(FIRST_CALL_MODES)}.")

    if modes:
        print(f"CPU: {cpu_model()} ({os.cpu_count()} logical cores)", flush=True)
        records = []
        with tempfile.TemporaryDirectory(prefix="crainpaint_latency_") as directory:
            for size in sizes:
                for seam in seams:
                    records += compare_modes(size, seam, modes, arguments.repeats, directory)
        print(format_modes_table(records))
        if arguments.output_json:
            _write_json(arguments.output_json, {"cpu": cpu_model(), "modes": records})
        return 0

    print(f"CPU: {cpu_model()} ({os.cpu_count()} logical cores)", flush=True)
    bare_import = statistics.median(
        _wall_time([sys.executable, "-c", "import tensorflow"], _environment())
        for _ in range(arguments.repeats))
    records = []
    with tempfile.TemporaryDirectory(prefix="crainpaint_latency_") as directory:
        for size in sizes:
            for seam in seams:
                record = measure(size, seam, arguments.repeats, directory, bare_import)
                records.append(record)
                print(f"{size} {seam}: command {record['command_seconds']:.1f} s "
                      f"({record['ratio_to_import_tensorflow']:.2f}× import tensorflow), "
                      f"{record['command_uncached_seconds']:.1f} s with an empty cache",
                      flush=True)
    print(format_table(records, bare_import))
    if arguments.output_json:
        _write_json(arguments.output_json, {"cpu": cpu_model(),
                                            "bare_import_tensorflow_seconds": bare_import,
                                            "records": records})
    return 0


def _write_json(path, value):
    temporary = path + ".tmp"
    with open(temporary, "w") as handle:
        json.dump(value, handle, indent=1)
    os.replace(temporary, path)


if __name__ == "__main__":
    sys.exit(main())
