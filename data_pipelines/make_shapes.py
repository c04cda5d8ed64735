"""Draws the project's object-shape mask templates (`data_pipelines/shapes/*.png`).

Paper Sec. 3.5.2 builds half of its training masks from "real object shape templates" obtained from
object segmentation masks ("single, multiple or crowded objects"), randomly rotated, flipped and
scaled. No segmentation data set can be fetched here and the templates of the author's release are
not ours to copy, so this script draws our own: silhouettes of object-like shapes (people built from
ellipses and limbs, cars, trucks, bicycles, animals, chairs, tables, lamps, trees, crowds of several
people, smooth random blobs) with OpenCV polygons, ellipses and thick lines.

Every template is a 256x256 single-channel 1-bit PNG, white (255) = object = hole, black = context.
The drawing is fully deterministic (fixed geometry, and one fixed NumPy seed for the blobs), so
running the script again rewrites identical pixels:

        .venv/bin/python -m data_pipelines.make_shapes            # writes data_pipelines/shapes/
        .venv/bin/python -m data_pipelines.make_shapes --check    # verifies the committed files

`masks.load_shape_templates()` loads the PNGs once and `masks.object_mask` places them.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Callable

import cv2
import numpy as np

TEMPLATE_SIZE = 256
SHAPES_DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shapes")
_WHITE = 255


def _new_canvas() -> np.ndarray:
    return np.zeros((TEMPLATE_SIZE, TEMPLATE_SIZE), dtype=np.uint8)


def _point(x: float, y: float) -> tuple[int, int]:
    return int(round(x)), int(round(y))


def _limb(canvas: np.ndarray, points: list[tuple[float, float]], thickness: float) -> None:
    """Draws a polyline of thick segments with round joints (an arm, a leg, a tail)."""
    thickness = max(1, int(round(thickness)))
    for start, end in zip(points[:-1], points[1:]):
        cv2.line(canvas, _point(*start), _point(*end), _WHITE, thickness, lineType=cv2.LINE_8)
    for joint in points:
        cv2.circle(canvas, _point(*joint), max(1, thickness // 2), _WHITE, -1, lineType=cv2.LINE_8)


def _ellipse(
    canvas: np.ndarray,
    center: tuple[float, float],
    axes: tuple[float, float],
    angle_degrees: float = 0.0,
) -> None:
    cv2.ellipse(
        canvas, _point(*center), _point(*axes), angle_degrees, 0, 360, _WHITE, -1, lineType=cv2.LINE_8
    )


def _polygon(canvas: np.ndarray, points: list[tuple[float, float]]) -> None:
    cv2.fillPoly(
        canvas, [np.array([_point(*p) for p in points], dtype=np.int32)], _WHITE, lineType=cv2.LINE_8
    )


def _person(
    canvas: np.ndarray,
    center_x: float,
    foot_y: float,
    height: float,
    arm_pose: str = "down",
    leg_pose: str = "standing",
    facing: float = 1.0,
) -> None:
    """A human silhouette: head, torso ellipse, two arms and two legs.

    Args:
        canvas: uint8 image drawn into.
        center_x: horizontal centre of the body in pixels.
        foot_y: vertical position of the feet in pixels.
        height: body height in pixels.
        arm_pose: "down", "raised", "waving", "akimbo" or "carrying".
        leg_pose: "standing", "walking", "running" or "sitting".
        facing: +1 or -1, mirrors the asymmetric poses.
    """
    unit = height / 8.0  # Classical proportions: the body is eight heads tall.
    head_y = foot_y - height + unit * 0.5
    shoulder_y = head_y + unit * 1.1
    hip_y = foot_y - unit * 4.0 if leg_pose != "sitting" else foot_y - unit * 2.2
    limb_width = unit * 0.42
    _ellipse(canvas, (center_x, head_y), (unit * 0.42, unit * 0.5))
    _ellipse(
        canvas,
        (center_x, (shoulder_y + hip_y) / 2),
        (unit * 0.85, (hip_y - shoulder_y) / 2 + unit * 0.2),
    )
    cv2.line(
        canvas, _point(center_x, head_y), _point(center_x, shoulder_y), _WHITE, max(1, int(unit * 0.35))
    )
    left_shoulder = (center_x - unit * 0.75, shoulder_y + unit * 0.2)
    right_shoulder = (center_x + unit * 0.75, shoulder_y + unit * 0.2)
    if arm_pose == "down":
        arms = [
            [
                left_shoulder,
                (center_x - unit * 1.0, shoulder_y + unit * 1.5),
                (center_x - unit * 1.05, shoulder_y + unit * 2.9),
            ],
            [
                right_shoulder,
                (center_x + unit * 1.0, shoulder_y + unit * 1.5),
                (center_x + unit * 1.05, shoulder_y + unit * 2.9),
            ],
        ]
    elif arm_pose == "raised":
        arms = [
            [
                left_shoulder,
                (center_x - unit * 1.3, shoulder_y - unit * 0.9),
                (center_x - unit * 1.5, shoulder_y - unit * 2.2),
            ],
            [
                right_shoulder,
                (center_x + unit * 1.3, shoulder_y - unit * 0.9),
                (center_x + unit * 1.5, shoulder_y - unit * 2.2),
            ],
        ]
    elif arm_pose == "waving":
        arms = [
            [
                left_shoulder,
                (center_x - unit * 1.0, shoulder_y + unit * 1.5),
                (center_x - unit * 1.05, shoulder_y + unit * 2.9),
            ],
            [
                right_shoulder,
                (center_x + facing * unit * 1.9, shoulder_y + unit * 0.3),
                (center_x + facing * unit * 2.2, shoulder_y - unit * 1.2),
            ],
        ]
    elif arm_pose == "akimbo":
        arms = [
            [
                left_shoulder,
                (center_x - unit * 1.8, shoulder_y + unit * 1.3),
                (center_x - unit * 0.8, hip_y - unit * 0.3),
            ],
            [
                right_shoulder,
                (center_x + unit * 1.8, shoulder_y + unit * 1.3),
                (center_x + unit * 0.8, hip_y - unit * 0.3),
            ],
        ]
    elif arm_pose == "carrying":
        arms = [
            [
                left_shoulder,
                (center_x - unit * 0.9, shoulder_y + unit * 1.4),
                (center_x + facing * unit * 0.6, shoulder_y + unit * 1.9),
            ],
            [
                right_shoulder,
                (center_x + unit * 0.9, shoulder_y + unit * 1.4),
                (center_x + facing * unit * 1.2, shoulder_y + unit * 1.9),
            ],
        ]
        # A box or bag held in front of the body.
        box_x = center_x + facing * unit * 1.3
        _polygon(
            canvas,
            [
                (box_x - unit * 0.9, shoulder_y + unit * 1.3),
                (box_x + unit * 0.9, shoulder_y + unit * 1.3),
                (box_x + unit * 0.9, shoulder_y + unit * 2.8),
                (box_x - unit * 0.9, shoulder_y + unit * 2.8),
            ],
        )
    else:
        raise ValueError(f"Unknown arm_pose {arm_pose!r}.")
    for arm in arms:
        _limb(canvas, arm, limb_width)
    left_hip = (center_x - unit * 0.45, hip_y)
    right_hip = (center_x + unit * 0.45, hip_y)
    if leg_pose == "standing":
        legs = [
            [left_hip, (center_x - unit * 0.55, hip_y + unit * 2.0), (center_x - unit * 0.6, foot_y)],
            [right_hip, (center_x + unit * 0.55, hip_y + unit * 2.0), (center_x + unit * 0.6, foot_y)],
        ]
    elif leg_pose == "walking":
        legs = [
            [
                left_hip,
                (center_x - facing * unit * 0.6, hip_y + unit * 2.0),
                (center_x - facing * unit * 1.3, foot_y),
            ],
            [
                right_hip,
                (center_x + facing * unit * 0.9, hip_y + unit * 1.9),
                (center_x + facing * unit * 1.2, foot_y),
            ],
        ]
    elif leg_pose == "running":
        legs = [
            [
                left_hip,
                (center_x - facing * unit * 1.4, hip_y + unit * 1.4),
                (center_x - facing * unit * 2.4, hip_y + unit * 2.6),
            ],
            [
                right_hip,
                (center_x + facing * unit * 1.5, hip_y + unit * 1.0),
                (center_x + facing * unit * 1.3, foot_y - unit * 0.3),
            ],
        ]
    elif leg_pose == "sitting":
        knee_x = center_x + facing * unit * 2.0
        legs = [
            [left_hip, (knee_x, hip_y - unit * 0.1), (knee_x + facing * unit * 0.2, foot_y)],
            [
                right_hip,
                (knee_x + facing * unit * 0.2, hip_y + unit * 0.1),
                (knee_x + facing * unit * 0.4, foot_y),
            ],
        ]
    else:
        raise ValueError(f"Unknown leg_pose {leg_pose!r}.")
    for leg in legs:
        _limb(canvas, leg, limb_width * 1.25)


def _car(canvas: np.ndarray, left: float, bottom: float, length: float, style: str = "sedan") -> None:
    """A side-view car: body polygon, cabin and two wheels."""
    height = length * (0.36 if style != "van" else 0.5)
    wheel_radius = length * 0.1
    body_top = bottom - height * 0.55
    cabin_base = body_top + height * 0.1  # Overlap the body so no seam line is left between them.
    _polygon(
        canvas,
        [
            (left, bottom - wheel_radius * 0.6),
            (left + length * 0.02, body_top),
            (left + length * 0.98, body_top + height * 0.05),
            (left + length, bottom - wheel_radius * 0.6),
        ],
    )
    if style == "sedan":
        cabin = [
            (left + length * 0.22, cabin_base),
            (left + length * 0.35, bottom - height),
            (left + length * 0.68, bottom - height),
            (left + length * 0.82, cabin_base),
        ]
    elif style == "hatchback":
        cabin = [
            (left + length * 0.18, cabin_base),
            (left + length * 0.32, bottom - height),
            (left + length * 0.9, bottom - height * 0.98),
            (left + length * 0.97, cabin_base),
        ]
    elif style == "van":
        cabin = [
            (left + length * 0.02, cabin_base),
            (left + length * 0.08, bottom - height),
            (left + length * 0.8, bottom - height),
            (left + length * 0.98, cabin_base),
        ]
    else:
        raise ValueError(f"Unknown car style {style!r}.")
    _polygon(canvas, cabin)
    for wheel_x in (left + length * 0.2, left + length * 0.8):
        cv2.circle(canvas, _point(wheel_x, bottom - wheel_radius), int(round(wheel_radius)), _WHITE, -1)


def _truck(canvas: np.ndarray, left: float, bottom: float, length: float) -> None:
    height = length * 0.5
    _polygon(
        canvas,
        [
            (left, bottom - height * 0.15),
            (left, bottom - height),
            (left + length * 0.7, bottom - height),
            (left + length * 0.7, bottom - height * 0.15),
        ],
    )
    _polygon(
        canvas,
        [
            (left + length * 0.72, bottom - height * 0.15),
            (left + length * 0.72, bottom - height * 0.7),
            (left + length * 0.9, bottom - height * 0.7),
            (left + length, bottom - height * 0.4),
            (left + length, bottom - height * 0.15),
        ],
    )
    for wheel_x in (left + length * 0.15, left + length * 0.32, left + length * 0.85):
        cv2.circle(
            canvas, _point(wheel_x, bottom - length * 0.07), int(round(length * 0.07)), _WHITE, -1
        )


def _bicycle(canvas: np.ndarray, left: float, bottom: float, length: float, with_rider: bool) -> None:
    wheel_radius = length * 0.22
    back = (left + wheel_radius, bottom - wheel_radius)
    front = (left + length - wheel_radius, bottom - wheel_radius)
    thickness = max(2, int(round(length * 0.035)))
    for center in (back, front):
        cv2.circle(canvas, _point(*center), int(round(wheel_radius)), _WHITE, thickness)
    seat = (left + length * 0.38, bottom - wheel_radius * 2.3)
    crank = (left + length * 0.45, bottom - wheel_radius)
    handle = (left + length * 0.72, bottom - wheel_radius * 2.5)
    _limb(canvas, [back, seat, crank, back], thickness)
    _limb(canvas, [seat, handle, front], thickness)
    _limb(canvas, [crank, (front[0] - wheel_radius * 0.5, seat[1] + wheel_radius * 0.1)], thickness)
    if with_rider:
        unit = length * 0.14
        hip = (seat[0], seat[1] - unit * 0.2)
        shoulder = (seat[0] + unit * 1.4, seat[1] - unit * 2.6)
        _limb(canvas, [hip, shoulder], unit * 1.1)
        cv2.circle(
            canvas,
            _point(shoulder[0] + unit * 0.4, shoulder[1] - unit * 0.9),
            int(round(unit * 0.5)),
            _WHITE,
            -1,
        )
        _limb(canvas, [shoulder, (handle[0], handle[1] - unit * 0.1)], unit * 0.4)
        _limb(
            canvas,
            [hip, (crank[0] + unit * 0.8, crank[1] - unit * 1.2), (crank[0], crank[1])],
            unit * 0.5,
        )


def _quadruped(canvas: np.ndarray, left: float, ground: float, length: float, species: str) -> None:
    """A side-view four-legged animal: body ellipse, neck, head, four legs and a tail."""
    proportions = {  # body height / length, leg length / length, neck rise, head size, tail droop
        "dog": (0.36, 0.35, 0.25, 0.15, -0.15),
        "cat": (0.3, 0.28, 0.12, 0.13, 0.35),
        "horse": (0.34, 0.5, 0.4, 0.14, 0.3),
        "cow": (0.45, 0.4, 0.1, 0.16, 0.45),
    }
    body_height, leg_length, neck_rise, head_size, tail_droop = proportions[species]
    body_length = length * 0.7
    body_center = (left + length * 0.42, ground - length * leg_length - length * body_height * 0.4)
    _ellipse(canvas, body_center, (body_length / 2, length * body_height / 2))
    leg_width = length * (0.07 if species != "horse" else 0.055)
    for leg_x in (
        body_center[0] - body_length * 0.36,
        body_center[0] - body_length * 0.22,
        body_center[0] + body_length * 0.26,
        body_center[0] + body_length * 0.38,
    ):
        _limb(
            canvas,
            [(leg_x, body_center[1]), (leg_x + length * 0.01, ground - leg_width * 0.5)],
            leg_width,
        )
    neck_base = (body_center[0] + body_length * 0.42, body_center[1] - length * body_height * 0.2)
    head_center = (neck_base[0] + length * 0.12, neck_base[1] - length * neck_rise)
    _limb(canvas, [neck_base, head_center], length * 0.11)
    _ellipse(
        canvas,
        (head_center[0] + length * head_size * 0.4, head_center[1]),
        (length * head_size, length * head_size * 0.6),
        angle_degrees=20 if species == "horse" else 0,
    )
    for ear_offset in (-0.5, 0.3):
        ear_x = head_center[0] + length * head_size * ear_offset
        _polygon(
            canvas,
            [
                (ear_x - length * 0.03, head_center[1] - length * head_size * 0.4),
                (ear_x + length * 0.03, head_center[1] - length * head_size * 0.4),
                (ear_x, head_center[1] - length * head_size * 1.1),
            ],
        )
    tail_base = (body_center[0] - body_length * 0.48, body_center[1] - length * body_height * 0.15)
    tail_tip = (tail_base[0] - length * 0.18, tail_base[1] + length * tail_droop * 0.5)
    _limb(
        canvas,
        [
            tail_base,
            ((tail_base[0] + tail_tip[0]) / 2 - length * 0.02, tail_base[1] - length * 0.05),
            tail_tip,
        ],
        length * 0.04,
    )


def _bird(canvas: np.ndarray, center_x: float, center_y: float, span: float, flying: bool) -> None:
    _ellipse(canvas, (center_x, center_y), (span * 0.22, span * 0.09), angle_degrees=-10)
    cv2.circle(
        canvas,
        _point(center_x + span * 0.22, center_y - span * 0.08),
        int(round(span * 0.07)),
        _WHITE,
        -1,
    )
    _polygon(
        canvas,
        [
            (center_x + span * 0.28, center_y - span * 0.1),
            (center_x + span * 0.38, center_y - span * 0.06),
            (center_x + span * 0.27, center_y - span * 0.04),
        ],
    )
    _polygon(
        canvas,
        [
            (center_x - span * 0.2, center_y),
            (center_x - span * 0.42, center_y - span * 0.06),
            (center_x - span * 0.4, center_y + span * 0.08),
        ],
    )
    if flying:
        _polygon(
            canvas,
            [
                (center_x - span * 0.05, center_y - span * 0.02),
                (center_x - span * 0.35, center_y - span * 0.45),
                (center_x + span * 0.1, center_y - span * 0.03),
            ],
        )
        _polygon(
            canvas,
            [
                (center_x - span * 0.02, center_y + span * 0.02),
                (center_x + span * 0.2, center_y + span * 0.42),
                (center_x + span * 0.12, center_y),
            ],
        )
    else:
        _limb(
            canvas,
            [(center_x, center_y + span * 0.08), (center_x, center_y + span * 0.25)],
            span * 0.025,
        )
        _limb(
            canvas,
            [
                (center_x + span * 0.06, center_y + span * 0.08),
                (center_x + span * 0.06, center_y + span * 0.25),
            ],
            span * 0.025,
        )


def _chair(canvas: np.ndarray, left: float, bottom: float, size: float, armchair: bool) -> None:
    thickness = size * (0.06 if not armchair else 0.12)
    seat_y = bottom - size * 0.5
    _polygon(
        canvas,
        [
            (left, seat_y),
            (left + size * 0.6, seat_y),
            (left + size * 0.6, seat_y + size * 0.08),
            (left, seat_y + size * 0.08),
        ],
    )
    _limb(
        canvas, [(left + thickness / 2, seat_y - size * 0.55), (left + thickness / 2, bottom)], thickness
    )
    _limb(
        canvas,
        [(left + size * 0.6 - thickness / 2, seat_y), (left + size * 0.6 - thickness / 2, bottom)],
        thickness,
    )
    _polygon(
        canvas,
        [
            (left, seat_y - size * 0.55),
            (left + size * 0.12, seat_y - size * 0.55),
            (left + size * 0.12, seat_y),
            (left, seat_y),
        ],
    )
    if armchair:
        _polygon(
            canvas,
            [
                (left, seat_y - size * 0.22),
                (left + size * 0.62, seat_y - size * 0.22),
                (left + size * 0.62, seat_y - size * 0.12),
                (left, seat_y - size * 0.12),
            ],
        )
        _polygon(
            canvas,
            [
                (left + size * 0.5, seat_y - size * 0.22),
                (left + size * 0.62, seat_y - size * 0.22),
                (left + size * 0.62, seat_y),
                (left + size * 0.5, seat_y),
            ],
        )


def _table_with_lamp(canvas: np.ndarray) -> None:
    _polygon(canvas, [(40, 150), (216, 150), (216, 162), (40, 162)])
    for leg_x in (50, 206):
        _limb(canvas, [(leg_x, 162), (leg_x, 230)], 9)
    _limb(canvas, [(150, 150), (150, 95)], 5)
    _polygon(canvas, [(125, 95), (175, 95), (163, 60), (137, 60)])
    _ellipse(canvas, (150, 147), (18, 5))


def _tree(canvas: np.ndarray, center_x: float, ground: float, height: float, conifer: bool) -> None:
    _limb(canvas, [(center_x, ground), (center_x, ground - height * 0.45)], height * 0.08)
    if conifer:
        for level in range(3):
            top = ground - height * (0.55 + 0.17 * level) - height * 0.25
            half = height * (0.3 - 0.07 * level)
            base = ground - height * (0.3 + 0.17 * level)
            _polygon(canvas, [(center_x - half, base), (center_x + half, base), (center_x, top)])
    else:
        for dx, dy, radius in (
            (0.0, 0.72, 0.26),
            (-0.18, 0.6, 0.2),
            (0.2, 0.62, 0.19),
            (0.05, 0.5, 0.17),
        ):
            cv2.circle(
                canvas,
                _point(center_x + dx * height, ground - dy * height),
                int(round(radius * height)),
                _WHITE,
                -1,
            )


def _umbrella_person(canvas: np.ndarray) -> None:
    _person(canvas, 128, 236, 170, arm_pose="down", leg_pose="walking")
    cv2.ellipse(canvas, (128, 72), (80, 40), 0, 180, 360, _WHITE, -1)
    _limb(canvas, [(128, 72), (128, 118)], 4)


def _bottles(canvas: np.ndarray) -> None:
    for index, (center_x, height) in enumerate(((70, 150), (120, 190), (170, 120), (210, 165))):
        width = 26 if index % 2 == 0 else 32
        base = 236
        _polygon(
            canvas,
            [
                (center_x - width / 2, base),
                (center_x + width / 2, base),
                (center_x + width / 2, base - height * 0.65),
                (center_x + width * 0.18, base - height * 0.85),
                (center_x + width * 0.18, base - height),
                (center_x - width * 0.18, base - height),
                (center_x - width * 0.18, base - height * 0.85),
                (center_x - width / 2, base - height * 0.65),
            ],
        )


def _blob(canvas: np.ndarray, random_state: np.random.RandomState, lobes: int) -> None:
    """A smooth random star-shaped blob: radius = R * (1 + sum of a few sinusoids of the angle)."""
    angles = np.linspace(0.0, 2.0 * math.pi, 180, endpoint=False)
    radius = np.ones_like(angles)
    for harmonic in range(2, 2 + lobes):
        radius += (
            random_state.uniform(0.05, 0.25)
            / math.sqrt(harmonic - 1)
            * np.sin(harmonic * angles + random_state.uniform(0, 2 * math.pi))
        )
    radius = radius / radius.max() * random_state.uniform(60, 105)
    center = (128 + random_state.uniform(-10, 10), 128 + random_state.uniform(-10, 10))
    _polygon(
        canvas,
        [(center[0] + r * math.cos(a), center[1] + r * math.sin(a)) for r, a in zip(radius, angles)],
    )


def _crowd(canvas: np.ndarray, people: list[tuple[float, float, float, str, str, float]]) -> None:
    for center_x, foot_y, height, arm_pose, leg_pose, facing in people:
        _person(canvas, center_x, foot_y, height, arm_pose=arm_pose, leg_pose=leg_pose, facing=facing)


def _template_drawers() -> dict[str, Callable[[np.ndarray], None]]:
    """Name -> function drawing that template into a fresh canvas (insertion order = file order)."""
    drawers: dict[str, Callable[[np.ndarray], None]] = {
        "person_standing": lambda c: _person(c, 128, 240, 220),
        "person_walking": lambda c: _person(c, 128, 240, 215, leg_pose="walking"),
        "person_running": lambda c: _person(c, 120, 235, 200, arm_pose="waving", leg_pose="running"),
        "person_arms_raised": lambda c: _person(c, 128, 245, 170, arm_pose="raised"),
        "person_waving": lambda c: _person(c, 118, 240, 210, arm_pose="waving", facing=1.0),
        "person_akimbo": lambda c: _person(c, 128, 240, 215, arm_pose="akimbo"),
        "person_carrying_box": lambda c: _person(
            c, 118, 240, 210, arm_pose="carrying", leg_pose="walking"
        ),
        "person_sitting": lambda c: (
            _person(c, 100, 225, 190, leg_pose="sitting"),
            _chair(c, 70, 236, 150, armchair=False),
        ),
        "child_standing": lambda c: _person(c, 128, 235, 130, arm_pose="raised"),
        "person_with_umbrella": _umbrella_person,
        "two_people": lambda c: _crowd(
            c, [(85, 240, 205, "down", "standing", 1.0), (170, 240, 190, "waving", "walking", -1.0)]
        ),
        "adult_and_child": lambda c: _crowd(
            c, [(100, 240, 210, "down", "walking", 1.0), (168, 240, 120, "raised", "walking", 1.0)]
        ),
        "three_people": lambda c: _crowd(
            c,
            [
                (60, 235, 170, "down", "standing", 1.0),
                (128, 245, 200, "akimbo", "standing", 1.0),
                (196, 238, 175, "down", "walking", -1.0),
            ],
        ),
        "crowd_of_five": lambda c: _crowd(
            c,
            [
                (40, 200, 110, "down", "standing", 1.0),
                (85, 215, 130, "down", "walking", 1.0),
                (135, 205, 120, "waving", "standing", -1.0),
                (180, 225, 150, "down", "walking", -1.0),
                (222, 210, 125, "down", "standing", 1.0),
            ],
        ),
        "crowd_in_depth": lambda c: _crowd(
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
        "sedan": lambda c: _car(c, 18, 190, 220, style="sedan"),
        "hatchback": lambda c: _car(c, 30, 180, 196, style="hatchback"),
        "van": lambda c: _car(c, 20, 200, 216, style="van"),
        "two_cars": lambda c: (
            _car(c, 8, 130, 140, style="sedan"),
            _car(c, 96, 220, 150, style="hatchback"),
        ),
        "truck": lambda c: _truck(c, 10, 200, 236),
        "bicycle": lambda c: _bicycle(c, 28, 210, 200, with_rider=False),
        "cyclist": lambda c: _bicycle(c, 30, 236, 190, with_rider=True),
        "dog": lambda c: _quadruped(c, 30, 220, 200, "dog"),
        "cat": lambda c: _quadruped(c, 40, 210, 170, "cat"),
        "horse": lambda c: _quadruped(c, 20, 245, 200, "horse"),
        "cow": lambda c: _quadruped(c, 20, 225, 210, "cow"),
        "person_walking_dog": lambda c: (
            _person(c, 80, 240, 200, leg_pose="walking"),
            _quadruped(c, 120, 240, 120, "dog"),
            _limb(c, [(120, 148), (205, 170)], 2),
        ),
        "bird_flying": lambda c: _bird(c, 128, 140, 220, flying=True),
        "birds_perched": lambda c: (
            _bird(c, 80, 120, 120, flying=False),
            _bird(c, 180, 150, 130, flying=False),
        ),
        "chair": lambda c: _chair(c, 70, 230, 190, armchair=False),
        "armchair": lambda c: _chair(c, 60, 225, 200, armchair=True),
        "table_with_lamp": _table_with_lamp,
        "bottles": _bottles,
        "tree_round": lambda c: _tree(c, 128, 245, 220, conifer=False),
        "tree_conifer": lambda c: _tree(c, 128, 248, 230, conifer=True),
    }
    random_state = np.random.RandomState(
        20200313
    )  # Fixed: the blobs are part of the data, not random per run.
    for blob_index, lobes in enumerate((2, 3, 4, 5, 6)):
        drawers[f"blob_{blob_index}"] = lambda c, lobes=lobes, state=random_state: _blob(c, state, lobes)
    return drawers


def draw_templates() -> dict[str, np.ndarray]:
    """Draws every template.

    Returns:
        An ordered mapping from template name to a 256x256 uint8 array with values {0, 255}.
    """
    templates = {}
    for name, drawer in _template_drawers().items():  # Blobs share one RandomState: keep this order.
        canvas = _new_canvas()
        drawer(canvas)
        templates[name] = np.where(canvas > 127, _WHITE, 0).astype(np.uint8)
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
