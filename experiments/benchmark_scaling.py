"""How inpainting cost grows with the photo: crainpaint's CRA against the alternatives.

For 512², 1K, 2K, 4K and 8K photos (the bundled demo photo and mask, resized) this prints, in one
run, the seconds of the first call (tracing included) and of a warm call (the best of
``WARM_CALLS``), and the peak resident memory, of the whole inpaint — network + CRA, decoding
and encoding excluded — for:

* crainpaint with each CRA geometry (``aspect``, the default, a 32×k grid; ``tile``, the photo
  squeezed onto the 32×32 grid; ``pad512``, the paper's literal padding); the network's share is
  timed at the input size the geometry gives it (512×912 for a 16:9 photo in ``aspect``);
  each with the library's other CRA options (``CRAConfig()``, the Poisson seam by default);
  ``crainpaint_aspect_paste`` is ``aspect`` with the paper's paste, ``crainpaint_aspect_every``
  with the paper's Eq. 4 over every source instead of the top-1 transplant;
* the generator run directly at full resolution (until it passes ``--fullres_limit_gib`` of
  memory or 10 minutes);
* the original release's numpy post-processing, re-implemented (square resize, block average,
  one full 1024×1024 matmul, resize back, blend), with our network in the middle;
* OpenCV Telea on the same image and mask.

Every measurement runs in a fresh subprocess, so memory figures do not mix. Run:

    python experiments/benchmark_scaling.py                 # everything (minutes: a process per row)
    python experiments/benchmark_scaling.py --sizes 512,1K --methods crainpaint_aspect,telea
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time

SIZES = {"512": (512, 512), "1K": (576, 1024), "2K": (1152, 2048), "4K": (2160, 3840),
         "8K": (4320, 7680)}
METHODS = ("crainpaint_aspect", "crainpaint_tile", "crainpaint_pad512",
           "crainpaint_aspect_paste", "crainpaint_aspect_every", "numpy_reference",
           "fullres_generator", "telea")
DEMO_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "crainpaint", "pretrained", "demo")
FULLRES_TIMEOUT_S = 600
# Warm calls per measurement, the best one counts: post-processing (warm − network) is a few
# hundredths of a second at 512², where two calls left it to the machine's noise.
WARM_CALLS = 5


def cpu_description():
    """``crainpaint.system_info.cpu_description()``, loaded from its file: importing the package
    would load TensorFlow into this parent process, which only starts the workers."""
    path = os.path.join(os.path.dirname(DEMO_DIR), os.pardir, "system_info.py")
    spec = importlib.util.spec_from_file_location("crainpaint_system_info", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cpu_description()


def _memory_status(field):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak_memory():
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def load_case(size_name):
    """The demo photo and mask resized to ``size_name`` (photo: area/cubic, mask: nearest)."""
    import cv2
    import numpy as np
    height, width = SIZES[size_name]
    photo = cv2.imread(os.path.join(DEMO_DIR, "photo.jpg"), cv2.IMREAD_COLOR)[..., ::-1]
    mask = cv2.imread(os.path.join(DEMO_DIR, "mask.png"), cv2.IMREAD_GRAYSCALE)
    interpolation = cv2.INTER_AREA if width < photo.shape[1] else cv2.INTER_CUBIC
    image = cv2.resize(np.ascontiguousarray(photo), (width, height), interpolation=interpolation)
    mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(image), mask


def original_release_postprocess(image, mask, generator, multiple=None):
    """The original release's pipeline in numpy/OpenCV (re-implemented from its description).

    The photo is resized to a square of 512·multiple pixels (by default the photo's long side
    rounded to a multiple of 512), block-averaged to 512², inpainted, both 512² images are
    up-sampled bilinearly, the residual is cut into the 32×32 grid and multiplied by the full
    1024×1024 attention matrix, folded back, added, clipped, resized to the photo's size and
    blended with the bilinearly resized 512² hole mask.
    """
    import cv2
    import numpy as np
    import tensorflow as tf
    from crainpaint.pixels import from_network_range, to_network_range
    height, width = image.shape[:2]
    multiple = multiple or max(1, round(max(height, width) / 512))
    large = 512 * multiple
    cell = large // 32
    raw = cv2.resize(image, (large, large), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    hole = cv2.resize((mask > 127).astype(np.uint8), (large, large),
                      interpolation=cv2.INTER_NEAREST).astype(np.float32)[..., None]
    small = raw.reshape(512, multiple, 512, multiple, 3).mean(axis=(1, 3))
    small_hole = cv2.resize(hole[..., 0], (512, 512), interpolation=cv2.INTER_NEAREST)[..., None]
    _, refined, scores = generator(
        (tf.constant(to_network_range(small)[None] * (1 - small_hole[None])),
         tf.constant(small_hole[None])), training=False)
    inpainted = from_network_range(refined.numpy()[0])
    inpainted = inpainted * small_hole + small * (1 - small_hole)
    attention = scores.numpy()[0]
    large_inpainted = cv2.resize(inpainted, (large, large), interpolation=cv2.INTER_LINEAR)
    large_small = cv2.resize(small, (large, large), interpolation=cv2.INTER_LINEAR)
    residual = (raw - large_small) * (1 - hole)
    patches = residual.reshape(32, cell, 32, cell, 3).transpose(0, 2, 1, 3, 4).reshape(1024, -1)
    aggregated = attention @ patches
    aggregated = aggregated.reshape(32, 32, cell, cell, 3).transpose(0, 2, 1, 3, 4).reshape(
        large, large, 3)
    result = np.clip(large_inpainted + aggregated, 0, 255)
    result = cv2.resize(result, (width, height), interpolation=cv2.INTER_LINEAR)
    blend = cv2.resize(small_hole[..., 0], (width, height), interpolation=cv2.INTER_LINEAR)[
        ..., None]
    return np.clip(np.round(result * blend + image * (1 - blend)), 0, 255).astype(np.uint8)


def cra_config(method):
    """The ``CRAConfig`` of a ``crainpaint_<geometry>[_<seam>|_every]`` method: the library's
    defaults (``CRAConfig()``) with that geometry, and that seam when one is named; ``every``
    is the paper's Eq. 4 over every source (no top-k transplant, the network's own blur)."""
    import dataclasses
    from crainpaint.cra import CRAConfig

    parts = method.split("_")[1:]
    overrides = {"geometry": parts[0]}
    if len(parts) > 1 and parts[1] == "every":
        overrides.update(residual_top_k=0, residual_sharpness=1.0, residual_blend=0.0,
                         residual_scale=1)
    elif len(parts) > 1:
        overrides["seam"] = parts[1]
    return dataclasses.replace(CRAConfig(), **overrides)


def worker(method, size_name):
    """Runs one measurement in this process and prints one JSON line."""
    import warnings
    import numpy as np
    image, mask = load_case(size_name)
    record = {"method": method, "size": size_name, "height": image.shape[0],
              "width": image.shape[1], "hole_fraction": float((mask > 127).mean())}
    if method == "telea":
        import cv2
        run = lambda: cv2.inpaint(image, (mask > 127).astype(np.uint8), 3, cv2.INPAINT_TELEA)
    else:
        import tensorflow as tf
        import crainpaint
        from crainpaint.pixels import to_network_range
        from crainpaint.pretrained import UntrainedWeightsWarning
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UntrainedWeightsWarning)
            generator = crainpaint.load_pretrained()
        if method.startswith("crainpaint_"):
            config = cra_config(method)
            run = lambda: crainpaint.inpaint(image, mask, generator, config=config)
        elif method == "numpy_reference":
            run = lambda: original_release_postprocess(image, mask, generator)
        elif method == "fullres_generator":
            cell = generator.config.cell_size
            height = -(-image.shape[0] // cell) * cell
            width = -(-image.shape[1] // cell) * cell
            padded = np.pad(image, [(0, height - image.shape[0]), (0, width - image.shape[1]),
                                    (0, 0)], mode="symmetric")
            hole = np.pad((mask > 127).astype(np.float32), [(0, height - image.shape[0]),
                                                             (0, width - image.shape[1])])
            call = tf.function(lambda x, m: generator((x, m), training=False)[1])
            inputs = (tf.constant(to_network_range(padded[None])),
                      tf.constant(hole[None, ..., None]))
            run = lambda: call(*inputs).numpy()
        else:
            raise ValueError(f"unknown method {method}")
    peak_resettable = _reset_peak_memory()
    before = _memory_status("VmRSS:")
    start = time.perf_counter()
    run()
    record["first_s"] = time.perf_counter() - start
    warm = []
    for _ in range(WARM_CALLS if method != "fullres_generator" else 1):
        start = time.perf_counter()
        run()
        warm.append(time.perf_counter() - start)
    record["warm_s"] = min(warm)
    record["rss_before_gib"] = before / 2**30
    record["peak_gib"] = _memory_status("VmHWM:") / 2**30
    record["peak_is_call_only"] = peak_resettable
    if method.startswith("crainpaint_") or method == "numpy_reference":
        # The network alone at the input size this method gives it ("aspect": 32×k cells), on
        # the case's hole area-resized to that size and thresholded as the CRA does, warm, in
        # the same process: the rest of the whole inpaint is post-processing.
        import cv2
        from crainpaint import cra
        input_height = input_width = generator.config.input_size
        config = cra.CRAConfig()
        if method.startswith("crainpaint_"):
            config = cra_config(method)
            grid = cra.working_geometry(image.shape[0], image.shape[1], generator.config,
                                        config.geometry)
            input_height = int(grid[2]) * generator.config.cell_size
            input_width = int(grid[3]) * generator.config.cell_size
        # As the CRA does: at a threshold of 1 a network pixel is a hole when (all but
        # rounding residue of) its area is.
        hole = cv2.resize((mask > 127).astype(np.float32), (input_width, input_height),
                          interpolation=cv2.INTER_AREA) > min(config.hole_threshold, 1.0 - 1e-6)
        record["network_input"] = f"{input_width}×{input_height}"
        network = tf.function(lambda x, m: generator((x, m), training=False)[1])
        inputs = (tf.zeros([1, input_height, input_width, 3]),
                  tf.constant(hole[None, ..., None].astype(np.float32)))
        network(*inputs)
        times = []
        for _ in range(WARM_CALLS):
            start = time.perf_counter()
            network(*inputs).numpy()
            times.append(time.perf_counter() - start)
        record["network_s"] = min(times)
    print("RESULT " + json.dumps(record), flush=True)


def run_worker(method, size_name, limit_gib, timeout_s):
    """Runs ``worker`` in a subprocess; kills it past ``limit_gib`` resident or ``timeout_s``."""
    command = [sys.executable, os.path.abspath(__file__), "--worker", method, size_name]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    killed = {}

    def watch():
        start = time.time()
        while process.poll() is None:
            try:
                with open(f"/proc/{process.pid}/status") as handle:
                    rss = next(int(line.split()[1]) * 1024 for line in handle
                               if line.startswith("VmRSS:"))
            except (OSError, StopIteration):
                rss = 0
            if rss > limit_gib * 2**30:
                killed["reason"] = f"out of memory (> {limit_gib:g} GiB)"
                process.kill()
            elif time.time() - start > timeout_s:
                killed["reason"] = f"timeout (> {timeout_s} s)"
                process.kill()
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    stdout, stderr = process.communicate()
    watcher.join()
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    reason = killed.get("reason") or f"failed (exit {process.returncode}): " + (
        stderr.strip().splitlines() or ["no output"])[-1][:120]
    return {"method": method, "size": size_name, "error": reason}


def format_table(records):
    lines = ["| method | size | first call s | warm s | of which network s (input) "
             "| peak RSS GiB |", "|---|---|---|---|---|---|"]
    for record in records:
        size = f"{record['size']}"
        if "error" in record:
            lines.append(f"| {record['method']} | {size} | {record['error']} | | | |")
            continue
        size = f"{record['size']} ({record['width']}×{record['height']})"
        network = (f"{record['network_s']:.2f} ({record['network_input']})"
                   if "network_s" in record else "")
        lines.append(f"| {record['method']} | {size} | {record['first_s']:.2f} | "
                     f"{record['warm_s']:.2f} | {network} | {record['peak_gib']:.2f} |")
    return "\n".join(lines)


def summary(records):
    """The scaling targets (8K warm ≤ 3 s and ≤ 3 GiB; t(8K)/t(512²) ≤ 6) against the records."""
    by_key = {(r["method"], r["size"]): r for r in records if "error" not in r}
    lines = []
    from crainpaint.cra import CRAConfig  # Here: the parent stays TF-free while workers run.
    ours = lambda size: by_key.get(("crainpaint_" + CRAConfig().geometry, size))
    if ours("8K") and ours("512"):
        lines.append(f"8K warm {ours('8K')['warm_s']:.2f} s (target ≤ 3), peak "
                     f"{ours('8K')['peak_gib']:.2f} GiB (target ≤ 3); t(8K)/t(512²) = "
                     f"{ours('8K')['warm_s'] / ours('512')['warm_s']:.1f} (target ≤ 6)")
    for size in SIZES:
        reference = by_key.get(("numpy_reference", size))
        if reference and ours(size):
            post_reference = reference["warm_s"] - reference["network_s"]
            post_ours = ours(size)["warm_s"] - ours(size)["network_s"]
            lines.append(f"{size}: numpy reference / crainpaint = "
                         f"{reference['warm_s'] / ours(size)['warm_s']:.1f}× whole inpaint, "
                         f"{post_reference / max(post_ours, 1e-3):.1f}× post-processing "
                         "(warm − network; target ≥ 5)")
    fullres = by_key.get(("fullres_generator", "4K"))
    if ours("4K"):
        if fullres:
            lines.append(f"4K: full-resolution generator / crainpaint = "
                         f"{fullres['warm_s'] / ours('4K')['warm_s']:.0f}× (target ≥ 30)")
        else:
            lines.append("4K: the full-resolution generator did not finish (see table)")
    return "\n".join(lines)


def main(argv):
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--fullres_limit_gib", type=float, default=20.0)
    parser.add_argument("--json", help="also write the records to this file")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return 0
    print(f"CPU: {cpu_description()}", flush=True)
    records = []
    for method in args.methods.split(","):
        if method not in METHODS:
            parser.error(f"unknown method {method}; choose from {METHODS}")
        for size in args.sizes.split(","):
            if size not in SIZES:
                parser.error(f"unknown size {size}; choose from {tuple(SIZES)}")
            if method == "fullres_generator" and any(
                    r["method"] == method and "error" in r for r in records):
                records.append({"method": method, "size": size,
                                "error": "skipped (a smaller size already failed)"})
                continue
            limit = args.fullres_limit_gib if method == "fullres_generator" else 22.0
            record = run_worker(method, size, limit, FULLRES_TIMEOUT_S)
            records.append(record)
            print(json.dumps(record), flush=True)
    print()
    print(format_table(records))
    print()
    print(summary(records))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"cpu": cpu_description(), "records": records}, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
