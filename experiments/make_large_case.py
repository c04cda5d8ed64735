"""Writes the bundled demo photo and mask resized to any size, e.g. an 8K case for the CLI.

    python experiments/make_large_case.py --width 7680 --height 4320 --out /tmp/8k
    python -m crainpaint.inpaint --image /tmp/8k/photo.png --mask /tmp/8k/mask.png \
        --output /tmp/8k/result.png
"""

import argparse
import os
import sys

import cv2

DEMO_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "crainpaint", "pretrained", "demo")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=7680)
    parser.add_argument("--height", type=int, default=4320)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    photo = cv2.imread(os.path.join(DEMO_DIR, "photo.jpg"), cv2.IMREAD_COLOR)
    mask = cv2.imread(os.path.join(DEMO_DIR, "mask.png"), cv2.IMREAD_GRAYSCALE)
    size = (args.width, args.height)
    cv2.imwrite(os.path.join(args.out, "photo.png"),
                cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC))
    cv2.imwrite(os.path.join(args.out, "mask.png"),
                cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST))
    print(f"Wrote {args.out}/photo.png and mask.png at {args.width}×{args.height}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
