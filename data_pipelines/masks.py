"""Random inpainting masks made on the fly, in pure TensorFlow (paper Sec. 3.5.2).

The paper diversifies its training masks with two generators, "combined or separated":

* **free-form** masks in the style of the partial-convolution mask set (Liu et al. 2018, the paper's
  [19]): a few brush strokes, each a random walk of straight segments with a random width, which
  "simulate tears, scratches, spots or manual erasing with brushes";
* **object** masks: object-shape templates (our own silhouettes, drawn by `make_shapes.py`, shipped
  in `shapes/*.png` and loaded by `templates.py`), randomly rotated (uniform in ±90°, as in the author's code), flipped, scaled
  and positioned, for the object-removal scenario.

Every function is a pure function of a `seed` tensor of shape [2] (int32 or int64): only stateless
random ops are used (no `tf.random.Generator`, no `py_function`), so a mask is identical eagerly and
inside `tf.data.Dataset.map`, and a training run that resumes at example i sees the same masks.
Masks are float32 [height, width, 1] with 1 = hole and 0 = valid context (paper Sec. 3.5.3).

Hole-area control (paper Sec. 4.3 trains with "irregular holes up to 25% area of the whole image"):
`random_mask` draws a candidate, measures its hole fraction and, while it is outside
[`min_hole_fraction`, `max_hole_fraction`], draws a new candidate from a derived seed
(`stateless_fold_in(seed, attempt)`) in a `tf.while_loop` of at most `max_attempts` candidates. If the
last candidate is still outside the bounds a deterministic fallback forces it in: a mask with too
many hole pixels keeps only its first `floor(max_hole_fraction * H * W)` hole pixels in row-major order
(the strokes below a horizontal cut are cropped away); a mask with too few gains the first missing
non-hole pixels in row-major order (a band at the top of the image). The result's hole fraction is
therefore always inside the bounds; with the default configuration the fallback is rare (see
tests/test_masks.py for the measured distribution).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import tensorflow as tf

from data_pipelines.templates import load_shape_templates, place_template

MASK_KINDS = ("free_form", "object", "mixed")


def _check_range(name: str, value, lower: float, upper: float, integer: bool = False) -> None:
    """Raises a ValueError unless `value` is an ordered pair inside [lower, upper]."""
    try:
        low, high = value
    except (TypeError, ValueError):
        raise ValueError(f"MaskConfig.{name} must be a pair (low, high), got {value!r}.") from None
    kind = int if integer else (int, float)
    if (
        not (isinstance(low, kind) and isinstance(high, kind))
        or isinstance(low, bool)
        or isinstance(high, bool)
    ):
        expected = "integers" if integer else "numbers"
        raise ValueError(f"MaskConfig.{name} must hold two {expected}, got {value!r}.")
    if not lower <= low <= high <= upper:
        raise ValueError(
            f"MaskConfig.{name} must satisfy {lower} <= low <= high <= {upper}, got {value!r}."
        )


@dataclasses.dataclass
class MaskConfig:
    """How random masks are generated (paper Sec. 3.5.2; hole sizes from Sec. 4.3).

    Lengths and widths are fractions of the mask's shorter side, so the same configuration gives
    the same-looking masks at 256² and 512².

    Attributes:
        kind: "free_form" (brush strokes), "object" (a transformed shape template) or "mixed".
            "mixed" draws, per mask, free-form only, object only, or the union of both, with the
            probabilities `mixed_probabilities` — the paper's "combined or separated".
        mixed_probabilities: (free-form only, object only, both) probabilities for kind "mixed";
            non-negative and summing to 1.
        num_strokes_range: inclusive range of the number of brush strokes of a free-form mask.
        vertices_per_stroke_range: inclusive range of the number of vertices of one stroke (a stroke
            with v vertices has v - 1 straight segments); at least 2.
        max_turn_degrees: each segment turns from the previous one by an angle uniform in
            [-max_turn_degrees, max_turn_degrees]; the first direction is uniform in [0°, 360°).
        stroke_length_range: range of one segment's length, as a fraction of the shorter side.
        brush_width_range: range of a stroke's brush width (its diameter), as a fraction of the
            shorter side; one width per stroke, round caps and joints.
        object_scale_range: range of the placed template's side, as a fraction of the shorter side.
        object_max_rotation_degrees: templates are rotated by an angle uniform in
            [-object_max_rotation_degrees, object_max_rotation_degrees] (the author uses 90).
        object_flip: mirror the template left-right with probability 1/2.
        object_center_range: range, as a fraction of each side, in which the template's centre is
            placed (uniform, independently for x and y).
        min_hole_fraction: the smallest allowed fraction of hole pixels.
        max_hole_fraction: the largest allowed fraction of hole pixels (paper Sec. 4.3: holes "up to
            25% area of the whole image").
        max_attempts: candidates drawn before the deterministic fallback enforces the bounds.
    """

    kind: str = "mixed"
    mixed_probabilities: tuple[float, float, float] = (0.4, 0.4, 0.2)
    num_strokes_range: tuple[int, int] = (1, 5)
    vertices_per_stroke_range: tuple[int, int] = (4, 12)
    max_turn_degrees: float = 60.0
    stroke_length_range: tuple[float, float] = (0.04, 0.16)
    brush_width_range: tuple[float, float] = (0.03, 0.09)
    object_scale_range: tuple[float, float] = (0.5, 1.0)
    object_max_rotation_degrees: float = 90.0
    object_flip: bool = True
    object_center_range: tuple[float, float] = (0.3, 0.7)
    min_hole_fraction: float = 0.0
    max_hole_fraction: float = 0.25
    max_attempts: int = 8

    def __post_init__(self):
        if self.kind not in MASK_KINDS:
            raise ValueError(f"MaskConfig.kind must be one of {MASK_KINDS}, got {self.kind!r}.")
        probabilities = tuple(self.mixed_probabilities)
        if len(probabilities) != 3 or any(p < 0 for p in probabilities):
            raise ValueError(
                "MaskConfig.mixed_probabilities must be three non-negative numbers (free-form only, "
                f"object only, both), got {self.mixed_probabilities!r}."
            )
        if not math.isclose(sum(probabilities), 1.0, abs_tol=1e-6):
            raise ValueError(
                f"MaskConfig.mixed_probabilities must sum to 1, got {self.mixed_probabilities!r} "
                f"(sum {sum(probabilities)})."
            )
        _check_range("num_strokes_range", self.num_strokes_range, 1, 64, integer=True)
        _check_range("vertices_per_stroke_range", self.vertices_per_stroke_range, 2, 64, integer=True)
        if not 0.0 <= self.max_turn_degrees <= 180.0:
            raise ValueError(
                f"MaskConfig.max_turn_degrees must be in [0, 180], got {self.max_turn_degrees!r}."
            )
        _check_range("stroke_length_range", self.stroke_length_range, 0.0, 2.0)
        _check_range("brush_width_range", self.brush_width_range, 1e-6, 1.0)
        _check_range("object_scale_range", self.object_scale_range, 1e-3, 4.0)
        if not 0.0 <= self.object_max_rotation_degrees <= 180.0:
            raise ValueError(
                "MaskConfig.object_max_rotation_degrees must be in [0, 180], got "
                f"{self.object_max_rotation_degrees!r}."
            )
        _check_range("object_center_range", self.object_center_range, 0.0, 1.0)
        if not 0.0 <= self.min_hole_fraction <= self.max_hole_fraction <= 1.0:
            raise ValueError(
                "MaskConfig needs 0 <= min_hole_fraction <= max_hole_fraction <= 1, got "
                f"min_hole_fraction={self.min_hole_fraction!r}, "
                f"max_hole_fraction={self.max_hole_fraction!r}."
            )
        if not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise ValueError(
                f"MaskConfig.max_attempts must be an integer >= 1, got {self.max_attempts!r}."
            )


# ----------------------------------------------------------------------------------------------
# Seeds.


def _as_seed(seed) -> tf.Tensor:
    """Converts a [2] int32/int64 seed to int64 (the same values give the same masks)."""
    seed = tf.convert_to_tensor(seed)
    if seed.dtype not in (tf.int32, tf.int64):
        raise TypeError(f"A mask seed must be int32 or int64, got {seed.dtype.name}.")
    if seed.shape.rank is not None and seed.shape.as_list() != [2]:
        raise ValueError(f"A mask seed must have shape [2], got {seed.shape}.")
    return tf.cast(seed, tf.int64)


def _split(seed: tf.Tensor, count: int) -> list[tf.Tensor]:
    seeds = tf.random.experimental.stateless_split(seed, num=count)
    return [seeds[index] for index in range(count)]


# ----------------------------------------------------------------------------------------------
# Free-form strokes (Liu et al. 2018 style).


@tf.autograph.experimental.do_not_convert
def rasterize_segments(
    starts: tf.Tensor, ends: tf.Tensor, radii: tf.Tensor, height: int, width: int
) -> tf.Tensor:
    """Rasterises thick line segments with round caps: the union of capsules.

    A pixel (its centre at integer coordinates (x = column, y = row)) is a hole when its distance
    to some segment [start, end] is at most that segment's radius (half the brush width). The
    distance to a segment is the distance to the closest point start + t (end - start), t clipped
    to [0, 1], which gives the round caps and round joints of a brush.

    Vectorised over segments, but each segment is only evaluated in a window around it (all windows
    share the size of the largest capsule's bounding box), so the cost grows with the strokes'
    area, not with height × width × segments; the covered pixels are then scattered into the mask.

    Args:
        starts: float32 [segments, 2] (x, y) start points in pixels.
        ends: float32 [segments, 2] (x, y) end points in pixels.
        radii: float32 [segments] radii in pixels; a negative radius disables a segment.
        height: output height (Python int).
        width: output width (Python int).

    Returns:
        float32 [height, width] with 1 where some segment covers the pixel, else 0.
    """
    starts = tf.reshape(tf.convert_to_tensor(starts, tf.float32), [-1, 2])
    ends = tf.reshape(tf.convert_to_tensor(ends, tf.float32), [-1, 2])
    radii = tf.reshape(tf.convert_to_tensor(radii, tf.float32), [-1])
    active = radii >= 0.0
    starts, ends, radii = (
        tf.boolean_mask(starts, active),
        tf.boolean_mask(ends, active),
        tf.boolean_mask(radii, active),
    )
    direction = ends - starts  # [K, 2]
    length_squared = tf.reduce_sum(tf.square(direction), axis=-1)  # [K]
    # A zero-length segment is a disc: t = 0 for every pixel.
    inverse_length_squared = tf.where(length_squared > 0.0, 1.0 / tf.maximum(length_squared, 1e-12), 0.0)
    # Window of each segment: from the floor of its bounding box's corner, as large as the largest
    # bounding box (+2 pixels of rounding slack), in (x, y) order.
    corner = tf.floor(tf.minimum(starts, ends) - radii[:, None])  # [K, 2]
    extent = tf.abs(direction) + 2.0 * radii[:, None]
    extent = tf.reduce_max(tf.concat([extent, tf.zeros([1, 2])], axis=0), axis=0)  # Also for K = 0.
    window = tf.cast(tf.math.ceil(extent), tf.int32) + 2
    columns = corner[:, 0:1] + tf.range(window[0], dtype=tf.float32)[None, :]  # [K, wx]
    rows = corner[:, 1:2] + tf.range(window[1], dtype=tf.float32)[None, :]  # [K, wy]
    offset_x = (columns - starts[:, 0:1])[:, None, :]  # [K, 1, wx]
    offset_y = (rows - starts[:, 1:2])[:, :, None]  # [K, wy, 1]
    direction_x = direction[:, 0, None, None]
    direction_y = direction[:, 1, None, None]
    # Projection parameter of each pixel on its segment, clipped to the segment.
    along = tf.clip_by_value(
        (offset_x * direction_x + offset_y * direction_y) * inverse_length_squared[:, None, None],
        0.0,
        1.0,
    )  # [K, wy, wx]
    distance_squared = tf.square(offset_x - along * direction_x) + tf.square(
        offset_y - along * direction_y
    )
    covered = distance_squared <= tf.square(radii)[:, None, None]
    column_inside = tf.logical_and(columns >= 0.0, columns <= width - 1.0)[:, None, :]
    row_inside = tf.logical_and(rows >= 0.0, rows <= height - 1.0)[:, :, None]
    covered = tf.logical_and(covered, tf.logical_and(column_inside, row_inside))
    hits = tf.where(covered)  # [M, 3]: (segment, window row, window column).
    hit_rows = tf.gather_nd(rows, hits[:, 0:2])
    hit_columns = tf.gather_nd(columns, tf.stack([hits[:, 0], hits[:, 2]], axis=1))
    indices = tf.cast(tf.stack([hit_rows, hit_columns], axis=1), tf.int32)
    counts = tf.scatter_nd(indices, tf.ones_like(hit_rows), [height, width])
    return tf.cast(counts > 0.0, tf.float32)


def _reflect(values: tf.Tensor, upper: float) -> tf.Tensor:
    """Folds coordinates back into [0, upper] like a ball bouncing off the borders."""
    if upper <= 0:
        return tf.zeros_like(values)
    period = 2.0 * upper
    wrapped = tf.math.floormod(values, period)
    return upper - tf.abs(wrapped - upper)


@tf.autograph.experimental.do_not_convert
def free_form_mask(seed, height: int, width: int, config: MaskConfig) -> tf.Tensor:
    """One free-form brush-stroke mask, without hole-area control (paper Sec. 3.5.2, [19]).

    Each stroke starts at a uniform random point with a uniform random direction, then takes
    `vertices - 1` straight steps whose lengths are uniform in `stroke_length_range` and whose
    direction turns by at most `max_turn_degrees` per step; vertices that leave the image are
    reflected back inside. The stroke is drawn with one brush width (uniform in
    `brush_width_range`) by `rasterize_segments`.

    Args:
        seed: int32/int64 tensor of shape [2].
        height: mask height (Python int).
        width: mask width (Python int).
        config: the MaskConfig.

    Returns:
        float32 [height, width, 1], 1 = hole.
    """
    seed = _as_seed(seed)
    size = float(min(height, width))
    max_strokes = config.num_strokes_range[1]
    max_vertices = config.vertices_per_stroke_range[1]
    (count_seed, vertex_seed, start_seed, direction_seed, turn_seed, length_seed, width_seed) = _split(
        seed, 7
    )
    num_strokes = tf.random.stateless_uniform(
        [], count_seed, minval=config.num_strokes_range[0], maxval=max_strokes + 1, dtype=tf.int32
    )
    num_vertices = tf.random.stateless_uniform(
        [max_strokes],
        vertex_seed,
        minval=config.vertices_per_stroke_range[0],
        maxval=max_vertices + 1,
        dtype=tf.int32,
    )
    start = tf.random.stateless_uniform([max_strokes, 2], start_seed) * tf.constant(
        [width - 1.0, height - 1.0]
    )
    first_direction = tf.random.stateless_uniform([max_strokes, 1], direction_seed, maxval=2.0 * math.pi)
    max_turn = math.radians(config.max_turn_degrees)
    turns = tf.random.stateless_uniform([max_strokes, max_vertices - 1], turn_seed, -max_turn, max_turn)
    directions = first_direction + tf.math.cumsum(turns, axis=1, exclusive=True)
    lengths = size * tf.random.stateless_uniform(
        [max_strokes, max_vertices - 1], length_seed, *config.stroke_length_range
    )
    brush_widths = size * tf.random.stateless_uniform(
        [max_strokes], width_seed, *config.brush_width_range
    )
    steps = tf.stack(
        [lengths * tf.cos(directions), lengths * tf.sin(directions)], axis=-1
    )  # [S, V-1, 2]
    vertices = start[:, None, :] + tf.concat(
        [tf.zeros([max_strokes, 1, 2]), tf.math.cumsum(steps, axis=1)], axis=1
    )  # [S, V, 2]
    vertices = tf.stack(
        [_reflect(vertices[..., 0], width - 1.0), _reflect(vertices[..., 1], height - 1.0)], axis=-1
    )
    stroke_index = tf.range(max_strokes)[:, None]
    segment_index = tf.range(max_vertices - 1)[None, :]
    active = tf.logical_and(stroke_index < num_strokes, segment_index < (num_vertices[:, None] - 1))
    radii = tf.where(active, tf.broadcast_to(brush_widths[:, None] / 2.0, active.shape), -1.0)
    mask = rasterize_segments(
        tf.reshape(vertices[:, :-1], [-1, 2]),
        tf.reshape(vertices[:, 1:], [-1, 2]),
        tf.reshape(radii, [-1]),
        height,
        width,
    )
    return mask[:, :, None]


# ----------------------------------------------------------------------------------------------
# Object-shape masks (the templates themselves: templates.py).


@tf.autograph.experimental.do_not_convert
def object_mask(
    seed, height: int, width: int, config: MaskConfig, templates: tf.Tensor | None = None
) -> tf.Tensor:
    """One object-shape mask, without hole-area control (paper Sec. 3.5.2).

    A template is chosen uniformly, scaled so its side is a uniform fraction (`object_scale_range`)
    of the shorter side, mirrored with probability 1/2 (`object_flip`), rotated uniformly in
    ±`object_max_rotation_degrees`, and centred at a uniform position in `object_center_range`.

    Args:
        seed: int32/int64 tensor of shape [2].
        height: mask height (Python int).
        width: mask width (Python int).
        config: the MaskConfig.
        templates: optional uint8 [N, size, size] stack; defaults to `load_shape_templates()`.

    Returns:
        float32 [height, width, 1], 1 = hole.
    """
    seed = _as_seed(seed)
    if templates is None:
        templates = load_shape_templates()
    templates = tf.convert_to_tensor(templates)
    index_seed, scale_seed, angle_seed, flip_seed, center_seed = _split(seed, 5)
    index = tf.random.stateless_uniform(
        [], index_seed, minval=0, maxval=tf.shape(templates)[0], dtype=tf.int32
    )
    template_size = tf.cast(tf.shape(templates)[1], tf.float32)
    side = float(min(height, width)) * tf.random.stateless_uniform(
        [], scale_seed, *config.object_scale_range
    )
    max_angle = math.radians(config.object_max_rotation_degrees)
    angle = tf.random.stateless_uniform([], angle_seed, -max_angle, max_angle)
    flip = tf.logical_and(config.object_flip, tf.random.stateless_uniform([], flip_seed) < 0.5)
    center = tf.random.stateless_uniform([2], center_seed, *config.object_center_range) * tf.constant(
        [width - 1.0, height - 1.0]
    )
    return place_template(
        tf.gather(templates, index), height, width, side / template_size, angle, flip, center
    )


# ----------------------------------------------------------------------------------------------
# Mixing and hole-area control.


def _candidate_mask(
    seed: tf.Tensor, height: int, width: int, config: MaskConfig, templates
) -> tf.Tensor:
    """One unconstrained mask of `config.kind` (for "mixed": free-form, object or their union)."""
    choice_seed, free_form_seed, object_seed = _split(seed, 3)
    if config.kind == "free_form":
        return free_form_mask(free_form_seed, height, width, config)
    if config.kind == "object":
        return object_mask(object_seed, height, width, config, templates)
    # "mixed": 0 = free-form only, 1 = object only, 2 = both. Each generator sits in one tf.cond,
    # so it is traced once and runs only when it is used.
    cumulative = np.cumsum(config.mixed_probabilities)[:2]
    draw = tf.random.stateless_uniform([], choice_seed)
    choice = tf.reduce_sum(tf.cast(draw >= tf.constant(cumulative, tf.float32), tf.int32))
    empty = tf.zeros([height, width, 1], tf.float32)
    strokes = tf.cond(
        tf.not_equal(choice, 1),
        lambda: free_form_mask(free_form_seed, height, width, config),
        lambda: empty,
    )
    shapes = tf.cond(
        tf.not_equal(choice, 0),
        lambda: object_mask(object_seed, height, width, config, templates),
        lambda: empty,
    )
    return tf.maximum(strokes, shapes)


def _hole_count_bounds(height: int, width: int, config: MaskConfig) -> tuple[int, int]:
    pixels = height * width
    min_count = math.ceil(config.min_hole_fraction * pixels - 1e-9)
    max_count = math.floor(config.max_hole_fraction * pixels + 1e-9)
    if min_count > max_count:
        raise ValueError(
            f"No {height}x{width} mask has a hole fraction in [{config.min_hole_fraction}, "
            f"{config.max_hole_fraction}]: widen the range."
        )
    return min_count, max_count


@tf.autograph.experimental.do_not_convert
def enforce_hole_bounds(mask: tf.Tensor, min_count: int, max_count: int) -> tf.Tensor:
    """Deterministically forces a mask's number of hole pixels into [min_count, max_count].

    Too many holes: only the first `max_count` hole pixels in row-major order are kept (the mask is
    cut by a horizontal line, cropping the strokes below it). Too few: the first missing non-hole
    pixels in row-major order become holes (a band along the top). A mask already inside the
    bounds is returned unchanged.

    Args:
        mask: float32 [height, width, 1] binary mask.
        min_count: smallest allowed number of hole pixels.
        max_count: largest allowed number of hole pixels.

    Returns:
        float32 [height, width, 1] binary mask with min_count <= holes <= max_count.
    """
    flat = tf.reshape(mask, [-1])
    hole_rank = tf.math.cumsum(flat)  # 1-based rank of each hole pixel among the holes.
    flat = flat * tf.cast(hole_rank <= float(max_count), tf.float32)
    missing = float(min_count) - tf.reduce_sum(flat)
    free_rank = tf.math.cumsum(1.0 - flat)  # 1-based rank of each non-hole pixel.
    added = (1.0 - flat) * tf.cast(free_rank <= missing, tf.float32)
    return tf.reshape(flat + added, tf.shape(mask))


@tf.autograph.experimental.do_not_convert
def random_mask(seed, height: int, width: int, config: MaskConfig | None = None) -> tf.Tensor:
    """A random inpainting mask whose hole fraction is within the configured bounds.

    Paper Sec. 3.5.2 (free-form and object masks, "combined or separated") with the hole sizes of
    Sec. 4.3. Candidates from derived seeds are drawn until one has a hole fraction in
    [`min_hole_fraction`, `max_hole_fraction`] (at most `max_attempts`), then
    `enforce_hole_bounds` makes the last one comply if none did. A pure function of `seed`.

    Args:
        seed: int32/int64 tensor of shape [2].
        height: mask height (Python int).
        width: mask width (Python int).
        config: the MaskConfig (default: `MaskConfig()`).

    Returns:
        float32 [height, width, 1], 1 = hole, 0 = valid.
    """
    config = config or MaskConfig()
    if not (isinstance(height, int) and isinstance(width, int) and height > 0 and width > 0):
        raise ValueError(f"height and width must be positive Python ints, got {height!r} and {width!r}.")
    seed = _as_seed(seed)
    min_count, max_count = _hole_count_bounds(height, width, config)
    templates = load_shape_templates() if config.kind != "free_form" else None

    def candidate(attempt):
        mask = _candidate_mask(
            tf.random.experimental.stateless_fold_in(seed, attempt), height, width, config, templates
        )
        return tf.ensure_shape(mask, [height, width, 1])

    def outside_bounds(mask):
        count = tf.reduce_sum(mask)
        return tf.logical_or(count < float(min_count), count > float(max_count))

    def keep_drawing(attempt, mask):
        # attempt = index of the candidate in `mask`; -1 before the first one is drawn. (Drawing
        # only in the loop body traces the generators once.)
        first = attempt < 0
        may_retry = attempt + 1 < config.max_attempts
        return tf.logical_or(first, tf.logical_and(may_retry, outside_bounds(mask)))

    def draw_next(attempt, mask):
        del mask
        return attempt + 1, candidate(attempt + 1)

    _, mask = tf.while_loop(
        keep_drawing,
        draw_next,
        (tf.constant(-1, tf.int64), tf.zeros([height, width, 1], tf.float32)),
        maximum_iterations=config.max_attempts,
    )
    return tf.cond(
        outside_bounds(mask), lambda: enforce_hole_bounds(mask, min_count, max_count), lambda: mask
    )
