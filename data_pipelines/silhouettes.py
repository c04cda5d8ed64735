"""Object silhouettes drawn with OpenCV: the pieces of the mask templates of `make_shapes.py`.

Paper Sec. 3.5.2 takes half of its training masks from object shapes ("single, multiple or crowded
objects"). Each function here draws one kind of object (a person in a given pose, a car, a truck, a
bicycle, a four-legged animal, a bird, a chair, a tree, a random blob, ...) in white (255) into a
256x256 uint8 canvas from fixed geometry, with polygons, ellipses and thick lines, so a drawing is
the same pixels on every run. `make_shapes.py` composes them into the named templates.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

TEMPLATE_SIZE = 256
WHITE = 255


def new_canvas() -> np.ndarray:
    """An empty (black) TEMPLATE_SIZE x TEMPLATE_SIZE uint8 canvas."""
    return np.zeros((TEMPLATE_SIZE, TEMPLATE_SIZE), dtype=np.uint8)


def _point(x: float, y: float) -> tuple[int, int]:
    """Pixel coordinates (OpenCV wants ints) of a point given in floats."""
    return int(round(x)), int(round(y))


def draw_limb(canvas: np.ndarray, points: list[tuple[float, float]], thickness: float) -> None:
    """Draws a polyline of thick segments with round joints (an arm, a leg, a tail)."""
    thickness = max(1, int(round(thickness)))
    for start, end in zip(points[:-1], points[1:]):
        cv2.line(canvas, _point(*start), _point(*end), WHITE, thickness, lineType=cv2.LINE_8)
    for joint in points:
        cv2.circle(canvas, _point(*joint), max(1, thickness // 2), WHITE, -1, lineType=cv2.LINE_8)


def _ellipse(
    canvas: np.ndarray,
    center: tuple[float, float],
    axes: tuple[float, float],
    angle_degrees: float = 0.0,
) -> None:
    cv2.ellipse(
        canvas, _point(*center), _point(*axes), angle_degrees, 0, 360, WHITE, -1, lineType=cv2.LINE_8
    )


def _polygon(canvas: np.ndarray, points: list[tuple[float, float]]) -> None:
    cv2.fillPoly(
        canvas, [np.array([_point(*p) for p in points], dtype=np.int32)], WHITE, lineType=cv2.LINE_8
    )


def draw_person(
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
        canvas, _point(center_x, head_y), _point(center_x, shoulder_y), WHITE, max(1, int(unit * 0.35))
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
        draw_limb(canvas, arm, limb_width)
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
        draw_limb(canvas, leg, limb_width * 1.25)


def draw_car(canvas: np.ndarray, left: float, bottom: float, length: float, style: str = "sedan") -> None:
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
        cv2.circle(canvas, _point(wheel_x, bottom - wheel_radius), int(round(wheel_radius)), WHITE, -1)


def draw_truck(canvas: np.ndarray, left: float, bottom: float, length: float) -> None:
    """A box truck seen from the side, `length` pixels long from `left`, wheels on `bottom`."""
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
            canvas, _point(wheel_x, bottom - length * 0.07), int(round(length * 0.07)), WHITE, -1
        )


def draw_bicycle(canvas: np.ndarray, left: float, bottom: float, length: float, with_rider: bool) -> None:
    """A bicycle seen from the side (two wheels and a frame), optionally with a rider on it."""
    wheel_radius = length * 0.22
    back = (left + wheel_radius, bottom - wheel_radius)
    front = (left + length - wheel_radius, bottom - wheel_radius)
    thickness = max(2, int(round(length * 0.035)))
    for center in (back, front):
        cv2.circle(canvas, _point(*center), int(round(wheel_radius)), WHITE, thickness)
    seat = (left + length * 0.38, bottom - wheel_radius * 2.3)
    crank = (left + length * 0.45, bottom - wheel_radius)
    handle = (left + length * 0.72, bottom - wheel_radius * 2.5)
    draw_limb(canvas, [back, seat, crank, back], thickness)
    draw_limb(canvas, [seat, handle, front], thickness)
    draw_limb(canvas, [crank, (front[0] - wheel_radius * 0.5, seat[1] + wheel_radius * 0.1)], thickness)
    if with_rider:
        unit = length * 0.14
        hip = (seat[0], seat[1] - unit * 0.2)
        shoulder = (seat[0] + unit * 1.4, seat[1] - unit * 2.6)
        draw_limb(canvas, [hip, shoulder], unit * 1.1)
        cv2.circle(
            canvas,
            _point(shoulder[0] + unit * 0.4, shoulder[1] - unit * 0.9),
            int(round(unit * 0.5)),
            WHITE,
            -1,
        )
        draw_limb(canvas, [shoulder, (handle[0], handle[1] - unit * 0.1)], unit * 0.4)
        draw_limb(
            canvas,
            [hip, (crank[0] + unit * 0.8, crank[1] - unit * 1.2), (crank[0], crank[1])],
            unit * 0.5,
        )


def draw_quadruped(canvas: np.ndarray, left: float, ground: float, length: float, species: str) -> None:
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
        draw_limb(
            canvas,
            [(leg_x, body_center[1]), (leg_x + length * 0.01, ground - leg_width * 0.5)],
            leg_width,
        )
    neck_base = (body_center[0] + body_length * 0.42, body_center[1] - length * body_height * 0.2)
    head_center = (neck_base[0] + length * 0.12, neck_base[1] - length * neck_rise)
    draw_limb(canvas, [neck_base, head_center], length * 0.11)
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
    draw_limb(
        canvas,
        [
            tail_base,
            ((tail_base[0] + tail_tip[0]) / 2 - length * 0.02, tail_base[1] - length * 0.05),
            tail_tip,
        ],
        length * 0.04,
    )


def draw_bird(canvas: np.ndarray, center_x: float, center_y: float, span: float, flying: bool) -> None:
    """A bird of wingspan `span` around (center_x, center_y): wings spread when `flying`, else perched."""
    _ellipse(canvas, (center_x, center_y), (span * 0.22, span * 0.09), angle_degrees=-10)
    cv2.circle(
        canvas,
        _point(center_x + span * 0.22, center_y - span * 0.08),
        int(round(span * 0.07)),
        WHITE,
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
        draw_limb(
            canvas,
            [(center_x, center_y + span * 0.08), (center_x, center_y + span * 0.25)],
            span * 0.025,
        )
        draw_limb(
            canvas,
            [
                (center_x + span * 0.06, center_y + span * 0.08),
                (center_x + span * 0.06, center_y + span * 0.25),
            ],
            span * 0.025,
        )


def draw_chair(canvas: np.ndarray, left: float, bottom: float, size: float, armchair: bool) -> None:
    """A chair seen from the side at scale `size`; an armchair has thicker parts and an armrest."""
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
    draw_limb(
        canvas, [(left + thickness / 2, seat_y - size * 0.55), (left + thickness / 2, bottom)], thickness
    )
    draw_limb(
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


def draw_table_with_lamp(canvas: np.ndarray) -> None:
    """A table with a lamp standing on it, at fixed positions of the 256x256 canvas."""
    _polygon(canvas, [(40, 150), (216, 150), (216, 162), (40, 162)])
    for leg_x in (50, 206):
        draw_limb(canvas, [(leg_x, 162), (leg_x, 230)], 9)
    draw_limb(canvas, [(150, 150), (150, 95)], 5)
    _polygon(canvas, [(125, 95), (175, 95), (163, 60), (137, 60)])
    _ellipse(canvas, (150, 147), (18, 5))


def draw_tree(canvas: np.ndarray, center_x: float, ground: float, height: float, conifer: bool) -> None:
    """A tree on a trunk: a round crown, or three stacked triangles when `conifer`."""
    draw_limb(canvas, [(center_x, ground), (center_x, ground - height * 0.45)], height * 0.08)
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
                WHITE,
                -1,
            )


def draw_umbrella_person(canvas: np.ndarray) -> None:
    """A walking person under an open umbrella, at fixed positions of the 256x256 canvas."""
    draw_person(canvas, 128, 236, 170, arm_pose="down", leg_pose="walking")
    cv2.ellipse(canvas, (128, 72), (80, 40), 0, 180, 360, WHITE, -1)
    draw_limb(canvas, [(128, 72), (128, 118)], 4)


def draw_bottles(canvas: np.ndarray) -> None:
    """Four bottles of different heights standing side by side on one baseline."""
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


def draw_blob(canvas: np.ndarray, random_state: np.random.RandomState, lobes: int) -> None:
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


def draw_crowd(canvas: np.ndarray, people: list[tuple[float, float, float, str, str, float]]) -> None:
    """Several people: `draw_person` for each (center_x, foot_y, height, arm_pose, leg_pose, facing)."""
    for center_x, foot_y, height, arm_pose, leg_pose, facing in people:
        draw_person(canvas, center_x, foot_y, height, arm_pose=arm_pose, leg_pose=leg_pose, facing=facing)
