"""Cold-start latency: what a user waits for when inpainting one photo from the command line.

Nobody inpaints warm: the command runs once on one photo. For 512², 2K and 8K photos (the bundled
demo photo and mask, resized; the photo as JPEG, the mask as PNG) this prints, in one run and with
the CPU model:

* the wall time of a bare ``python -c "import tensorflow"`` (the floor no change of ours can cut);
* the wall time of the whole command, ``python -m crainpaint --image … --mask … --output …``, with
  the default Poisson seam and with ``--seam paste``, and its ratio to the bare import;
* inside one fresh process, each stage in the order the command runs it: ``import tensorflow``,
  ``import crainpaint`` (what it adds), loading the weights, decoding the photo and mask, the first
  inpaint call (tracing included), a warm call, encoding the PNG.

Every measurement runs in a fresh subprocess; wall times are the median of ``--repeats`` runs.
Run it with the CPU to yourself, or the figures measure the other work:

    python experiments/benchmark_latency.py                       # 512², 2K, 8K; ≈ 6 min on 2 cores
    python experiments/benchmark_latency.py --sizes 512 --repeats 1 --output_json latency.json
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

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_DIR = os.path.join(REPOSITORY, "crainpaint", "pretrained", "demo")
SIZES = {"512": (512, 512), "2K": (1152, 2048), "8K": (4320, 7680)}
SEAMS = ("poisson", "paste")
STAGES = ("import_tensorflow", "import_crainpaint", "load_weights", "decode", "first_call",
          "warm_call", "encode")


def cpu_model() -> str:
    """The processor's model name from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


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


def _environment():
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [REPOSITORY] + [path for path in environment.get("PYTHONPATH", "").split(os.pathsep)
                        if path])
    return environment


def stage_worker(image_path: str, mask_path: str, output_path: str, seam: str) -> dict:
    """Times each stage of one inpainting in this (fresh) process; returns seconds per stage."""
    times = {}
    start = time.perf_counter()
    import tensorflow  # noqa: F401  (timed on purpose)
    times["import_tensorflow"] = time.perf_counter() - start

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
    return times


def measure(size_name: str, seam: str, repeats: int, directory: str, bare_import: float) -> dict:
    image_path, mask_path = make_case(size_name, directory)
    output_path = os.path.join(directory, f"out_{size_name}_{seam}.png")
    environment = _environment()
    command = [sys.executable, "-m", command_module(), "--image", image_path, "--mask", mask_path,
               "--output", output_path, "--overwrite", "--seam", seam]
    walls = []
    for _ in range(repeats):
        walls.append(_wall_time(command, environment))
    stage_output = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--stage_worker", image_path, mask_path,
         output_path, seam], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment,
        cwd=REPOSITORY, check=False)
    if stage_output.returncode != 0:
        raise RuntimeError("stage worker failed:\n"
                           + stage_output.stderr.decode(errors="replace")[-2000:])
    stages = json.loads(stage_output.stdout.decode().strip().splitlines()[-1])
    command_seconds = statistics.median(walls)
    return {"size": size_name, "seam": seam, "command_seconds": command_seconds,
            "ratio_to_import_tensorflow": command_seconds / bare_import, "stages": stages}


def format_table(records, bare_import: float) -> str:
    header = (["size", "seam", "command s", "× import tf"] + [stage.replace("_", " ") for stage in
                                                               STAGES])
    rows = [header]
    for record in records:
        rows.append([record["size"], record["seam"], f"{record['command_seconds']:.1f}",
                     f"{record['ratio_to_import_tensorflow']:.2f}"]
                    + [f"{record['stages'][stage]:.2f}" for stage in STAGES])
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
    parser.add_argument("--stage_worker", nargs=4, default=None, help=argparse.SUPPRESS)
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
                      f"({record['ratio_to_import_tensorflow']:.2f}× import tensorflow)",
                      flush=True)
    print(format_table(records, bare_import))
    if arguments.output_json:
        temporary = arguments.output_json + ".tmp"
        with open(temporary, "w") as handle:
            json.dump({"cpu": cpu_model(), "bare_import_tensorflow_seconds": bare_import,
                       "records": records}, handle, indent=1)
        os.replace(temporary, arguments.output_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
