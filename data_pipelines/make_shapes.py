"""Draws the project's object-shape mask templates (`data_pipelines/shapes/*.png`).

Paper Sec. 3.5.2 builds half of its training masks from "real object shape templates" obtained from
object segmentation masks ("single, multiple or crowded objects"), randomly rotated, flipped and
scaled. No segmentation data set can be fetched here and the templates of the author's release are
not ours to copy, so this script draws our own: silhouettes of object-like shapes (people built from
ellipses and limbs, cars, trucks, bicycles, animals, chairs, tables, lamps, trees, crowds of several
people, smooth random blobs) with OpenCV polygons, ellipses and thick lines (`silhouettes.py`).

Every template is a 256x256 single-channel 1-bit PNG, white (255) = object = hole, black = context.
The drawing is fully deterministic (fixed geometry, and one fixed NumPy seed for the blobs), so
running the script again rewrites identical pixels:

        .venv/bin/python -m data_pipelines.make_shapes            # writes data_pipelines/shapes/
        .venv/bin/python -m data_pipelines.make_shapes --check    # verifies the committed files

`templates.load_shape_templates()` loads the PNGs once and `masks.object_mask` places them.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

import cv2
import numpy as np

from data_pipelines.silhouettes import (
    WHITE,
    draw_bicycle,
    draw_bird,
    draw_blob,
    draw_bottles,
    draw_car,
    draw_chair,
    draw_crowd,
    draw_limb,
    draw_person,
    draw_quadruped,
    draw_table_with_lamp,
    draw_tree,
    draw_truck,
    draw_umbrella_person,
    new_canvas,
)
from data_pipelines.templates import SHAPES_DIRECTORY



def _template_drawers() -> dict[str, Callable[[np.ndarray], None]]:
    """Name -> function drawing that template into a fresh canvas (insertion order = file order)."""
    drawers: dict[str, Callable[[np.ndarray], None]] = {
        "person_standing": lambda c: draw_person(c, 128, 240, 220),
        "person_walking": lambda c: draw_person(c, 128, 240, 215, leg_pose="walking"),
        "person_running": lambda c: draw_person(c, 120, 235, 200, arm_pose="waving", leg_pose="running"),
        "person_arms_raised": lambda c: draw_person(c, 128, 245, 170, arm_pose="raised"),
        "person_waving": lambda c: draw_person(c, 118, 240, 210, arm_pose="waving", facing=1.0),
        "person_akimbo": lambda c: draw_person(c, 128, 240, 215, arm_pose="akimbo"),
        "person_carrying_box": lambda c: draw_person(
            c, 118, 240, 210, arm_pose="carrying", leg_pose="walking"
        ),
        "person_sitting": lambda c: (
            draw_person(c, 100, 225, 190, leg_pose="sitting"),
            draw_chair(c, 70, 236, 150, armchair=False),
        ),
        "child_standing": lambda c: draw_person(c, 128, 235, 130, arm_pose="raised"),
        "person_with_umbrella": draw_umbrella_person,
        "two_people": lambda c: draw_crowd(
            c, [(85, 240, 205, "down", "standing", 1.0), (170, 240, 190, "waving", "walking", -1.0)]
        ),
        "adult_and_child": lambda c: draw_crowd(
            c, [(100, 240, 210, "down", "walking", 1.0), (168, 240, 120, "raised", "walking", 1.0)]
        ),
        "three_people": lambda c: draw_crowd(
            c,
            [
                (60, 235, 170, "down", "standing", 1.0),
                (128, 245, 200, "akimbo", "standing", 1.0),
                (196, 238, 175, "down", "walking", -1.0),
            ],
        ),
        "crowd_of_five": lambda c: draw_crowd(
            c,
            [
                (40, 200, 110, "down", "standing", 1.0),
                (85, 215, 130, "down", "walking", 1.0),
                (135, 205, 120, "waving", "standing", -1.0),
                (180, 225, 150, "down", "walking", -1.0),
                (222, 210, 125, "down", "standing", 1.0),
            ],
        ),
        "crowd_in_depth": lambda c: draw_crowd(
            c,
            [
                (60, 150, 70, "down", "standing", 1.0),
                (110, 160, 80, "down", "walking", 1.0),
                (180, 155, 75, "down", "standing", -1.0),
                (85, 200, 115, "down", "walking", 1.0),
                (160, 215, 130, "akimbo", "standing", 1.0),
                (120, 250, 170, "down", "walking", -1.0),
            ],
        ),
        "sedan": lambda c: draw_car(c, 18, 190, 220, style="sedan"),
        "hatchback": lambda c: draw_car(c, 30, 180, 196, style="hatchback"),
        "van": lambda c: draw_car(c, 20, 200, 216, style="van"),
        "two_cars": lambda c: (
            draw_car(c, 8, 130, 140, style="sedan"),
            draw_car(c, 96, 220, 150, style="hatchback"),
        ),
        "truck": lambda c: draw_truck(c, 10, 200, 236),
        "bicycle": lambda c: draw_bicycle(c, 28, 210, 200, with_rider=False),
        "cyclist": lambda c: draw_bicycle(c, 30, 236, 190, with_rider=True),
        "dog": lambda c: draw_quadruped(c, 30, 220, 200, "dog"),
        "cat": lambda c: draw_quadruped(c, 40, 210, 170, "cat"),
        "horse": lambda c: draw_quadruped(c, 20, 245, 200, "horse"),
        "cow": lambda c: draw_quadruped(c, 20, 225, 210, "cow"),
        "person_walking_dog": lambda c: (
            draw_person(c, 80, 240, 200, leg_pose="walking"),
            draw_quadruped(c, 120, 240, 120, "dog"),
            draw_limb(c, [(120, 148), (205, 170)], 2),
        ),
        "bird_flying": lambda c: draw_bird(c, 128, 140, 220, flying=True),
        "birds_perched": lambda c: (
            draw_bird(c, 80, 120, 120, flying=False),
            draw_bird(c, 180, 150, 130, flying=False),
        ),
        "chair": lambda c: draw_chair(c, 70, 230, 190, armchair=False),
        "armchair": lambda c: draw_chair(c, 60, 225, 200, armchair=True),
        "table_with_lamp": draw_table_with_lamp,
        "bottles": draw_bottles,
        "tree_round": lambda c: draw_tree(c, 128, 245, 220, conifer=False),
        "tree_conifer": lambda c: draw_tree(c, 128, 248, 230, conifer=True),
    }
    random_state = np.random.RandomState(
        20200313
    )  # Fixed: the blobs are part of the data, not random per run.
    for blob_index, lobes in enumerate((2, 3, 4, 5, 6)):
        drawers[f"blob_{blob_index}"] = lambda c, lobes=lobes, state=random_state: draw_blob(c, state, lobes)
    return drawers


def draw_templates() -> dict[str, np.ndarray]:
    """Draws every template.

    Returns:
        An ordered mapping from template name to a 256x256 uint8 array with values {0, 255}.
    """
    templates = {}
    for name, drawer in _template_drawers().items():  # Blobs share one RandomState: keep this order.
        canvas = new_canvas()
        drawer(canvas)
        templates[name] = np.where(canvas > 127, WHITE, 0).astype(np.uint8)
    return templates


def write_templates(directory: str = SHAPES_DIRECTORY) -> list[str]:
    """Writes every template as a 1-bit PNG into `directory` and removes stale ones.

    Returns:
        The written file paths, sorted.
    """
    os.makedirs(directory, exist_ok=True)
    templates = draw_templates()
    for stale in os.listdir(directory):
        if stale.endswith(".png") and stale[:-4] not in templates:
            os.remove(os.path.join(directory, stale))
    paths = []
    for name, template in templates.items():
        path = os.path.join(directory, f"{name}.png")
        if not cv2.imwrite(path, template, [cv2.IMWRITE_PNG_BILEVEL, 1, cv2.IMWRITE_PNG_COMPRESSION, 9]):
            raise OSError(f"OpenCV could not write {path}.")
        paths.append(path)
    return sorted(paths)


def check_templates(directory: str = SHAPES_DIRECTORY) -> list[str]:
    """Returns the names whose file in `directory` is missing or differs from a fresh drawing."""
    problems = []
    for name, template in draw_templates().items():
        stored = cv2.imread(os.path.join(directory, f"{name}.png"), cv2.IMREAD_GRAYSCALE)
        if (
            stored is None
            or stored.shape != template.shape
            or np.any((stored > 127) != (template > 127))
        ):
            problems.append(name)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--directory", default=SHAPES_DIRECTORY, help="Output folder for the PNG templates."
    )
    parser.add_argument("--check", action="store_true", help="Only verify the stored templates.")
    arguments = parser.parse_args(argv)
    if arguments.check:
        problems = check_templates(arguments.directory)
        if problems:
            print("Templates missing or different from make_shapes.py:", ", ".join(problems))
            return 1
        print(f"All {len(draw_templates())} templates match.")
        return 0
    templates = draw_templates()
    for path in write_templates(arguments.directory):
        name = os.path.basename(path)[:-4]
        print(f"{path}: {templates[name].mean() / 255:.1%} object pixels, {os.path.getsize(path)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
