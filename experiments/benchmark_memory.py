"""Peak memory of the command line per megapixel: where the default pixel budget comes from.

For each size, the bundled demo photo is resized (JPEG, quality 95) and given a small
300×500-pixel hole; ``python -m crainpaint.inpaint`` then runs on it in a fresh process, and the
process's peak resident memory (decoding, the model, CRA and encoding included) is read from
``wait4``. A least-squares line through the points gives the fixed cost and the cost per
megapixel, and from those the largest photo that fits a memory size::

    python experiments/benchmark_memory.py                       # 2K, 4K, 8K, 16K
    python experiments/benchmark_memory.py --sizes 2K,4K --memory_gib 24

The default of ``crainpaint.image_header.DEFAULT_MAX_PIXELS`` is set from this line
(docs/limits.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from crainpaint.system_info import cpu_model  # noqa: E402  (numpy-free, no TensorFlow)

SIZES = {"2K": (1152, 2048), "4K": (2160, 3840), "8K": (4320, 7680), "16K": (8640, 15360)}
HOLE_HEIGHT, HOLE_WIDTH = 300, 500
DEMO_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "crainpaint", "pretrained", "demo")


def write_case(size_name: str, directory: str) -> tuple:
    """Writes photo.jpg and mask.png of ``size_name`` into ``directory``; returns their paths."""
    import cv2
    import numpy as np
    height, width = SIZES[size_name]
    photo = cv2.imread(os.path.join(DEMO_DIR, "photo.jpg"), cv2.IMREAD_COLOR)
    photo = cv2.resize(photo, (width, height), interpolation=cv2.INTER_CUBIC)
    mask = np.zeros((height, width), np.uint8)
    top, left = (height - HOLE_HEIGHT) // 2, (width - HOLE_WIDTH) // 2
    mask[top:top + HOLE_HEIGHT, left:left + HOLE_WIDTH] = 255
    photo_path = os.path.join(directory, f"{size_name}.jpg")
    mask_path = os.path.join(directory, f"{size_name}_mask.png")
    cv2.imwrite(photo_path, photo, [cv2.IMWRITE_JPEG_QUALITY, 95])
    cv2.imwrite(mask_path, mask)
    return photo_path, mask_path


def peak_of_inpaint(photo_path: str, mask_path: str, output_path: str) -> tuple:
    """Runs the CLI in a fresh process; returns (peak RSS in GiB, seconds, exit status)."""
    command = [sys.executable, "-m", "crainpaint.inpaint", "--image", photo_path,
               "--mask", mask_path, "--output", output_path, "--overwrite"]
    # No pixel budget: this measures what the budget is derived from.
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CRAINPAINT_MAX_PIXELS="0")
    start = time.perf_counter()
    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    # wait4 gives this child's own peak, unlike RUSAGE_CHILDREN, which is the maximum over all.
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.stderr.write(process.stderr.read().decode(errors="replace"))
    process.stderr.close()
    return usage.ru_maxrss * 1024 / 2**30, seconds, process.returncode


def fit_line(points: list) -> tuple:
    """Least squares through (megapixels, GiB): returns (GiB at 0 pixels, GiB per megapixel)."""
    count = len(points)
    mean_x = sum(x for x, _ in points) / count
    mean_y = sum(y for _, y in points) / count
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return mean_y - slope * mean_x, slope


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2K,4K,8K,16K",
                        help=f"comma-separated, of {', '.join(SIZES)}")
    parser.add_argument("--memory_gib", type=float, default=24.0,
                        help="machine memory to size the budget for")
    parser.add_argument("--headroom", type=float, default=0.5,
                        help="fraction of --memory_gib the inpaint may use")
    args = parser.parse_args(argv)
    sizes = args.sizes.split(",")
    unknown = [size for size in sizes if size not in SIZES]
    if unknown or len(sizes) < 2:
        parser.error(f"--sizes needs two or more of {', '.join(SIZES)}, got {args.sizes!r}")
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores")
    print("| size | megapixels | peak RSS GiB | seconds |")
    print("|---|---|---|---|")
    points = []
    with tempfile.TemporaryDirectory() as directory:
        for size_name in sizes:
            photo_path, mask_path = write_case(size_name, directory)
            height, width = SIZES[size_name]
            megapixels = height * width / 1e6
            peak, seconds, status = peak_of_inpaint(
                photo_path, mask_path, os.path.join(directory, "out.png"))
            if status != 0:
                print(f"{size_name}: the inpaint failed with exit status {status}")
                return 1
            points.append((megapixels, peak))
            print(f"| {size_name} ({width}×{height}) | {megapixels:.1f} | {peak:.2f} | "
                  f"{seconds:.1f} |")
    fixed, per_megapixel = fit_line(points)
    allowed = args.memory_gib * args.headroom
    print(f"peak ≈ {fixed:.2f} GiB + {1024 * per_megapixel:.1f} MiB per megapixel; "
          f"{allowed:.1f} GiB ({args.headroom:.0%} of {args.memory_gib:g} GiB) holds "
          f"{(allowed - fixed) / per_megapixel:.0f} megapixels")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
