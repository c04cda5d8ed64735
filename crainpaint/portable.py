"""Full-resolution inpainting from an exported network file, without TensorFlow.

``python -m crainpaint.export --format onnx`` (or ``tflite``) writes the bare network; this module
wraps it in the CRA pipeline of ``crainpaint.cra`` (Sec. 3.1, 3.2.3 and 4.1), written in numpy:
it imports only numpy, plus onnxruntime or ai_edge_litert when a file of that kind is loaded.
For one photo, hole only:

1. the photo is up-sampled when smaller than the network input, mirror-padded so that the
   attention grid tiles it, and down-sampled by averaging its known pixels (TensorFlow's
   ``area`` resize, reproduced here);
2. the network inpaints the down-sampled photo and returns its attention scores;
3. the context residuals (photo − blurry image) are aggregated into the hole cells (Eq. 4): by
   default each hole cell transplants its best source's residual against the network output
   averaged over 4 × 4 pixels, cross-faded across cell boundaries, the cells on the hole's
   edge choosing among their 8 best sources by their known pixels, as ``CRAConfig()`` does;
   ``PortableConfig.paper()`` sums every source weighted by its score, as ``CRAConfig.paper()``;
4. the fill is rounded and pasted into the hole; every other pixel is the input's, bit for
   bit. With the default Poisson seam (as ``CRAConfig()``) the fill is the network's output
   up-sampled + residual + the membrane interpolation of the mismatch photo − network output
   along the hole's edge; with ``seam="paste"`` (the paper's) it is blurry image + residual.

It computes what ``crainpaint.cra.inpaint_image`` computes for the same ``CRAConfig`` fields
(within 1 grey level, ``tests/test_portable.py``), with one limit of the fixed-size file: the
network input is square, so ``geometry`` is ``"tile"`` (default here) or ``"pad512"``, not
``CRAConfig``'s default ``"aspect"``, and ``feather_px`` is 0.

Use::

    from crainpaint.portable import PortableNetwork, inpaint
    network = PortableNetwork("models/portable/crainpaint_512.onnx")  # or .tflite
    result = inpaint(image, hole, network)  # uint8 [H, W, 3] RGB, hole [H, W] bool
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np

from crainpaint.portable_ops import (Upsampler, aggregate_residuals, aggregate_top_k, cell_pixels,
                                     divide_no_nan, grow, match_known_pixels, resize,
                                     seam_correction, to_uint8)

GEOMETRIES = ("tile", "pad512")
SEAMS = ("paste", "poisson")
RESIDUAL_SCALES = (1, 2, 4, 8)
# The defaults of crainpaint.cra (CRAConfig), except the geometry (see the module docstring).
DEFAULT_HOLE_THRESHOLD = 1.0
DEFAULT_RESIDUAL_TOP_K = 1
DEFAULT_RESIDUAL_SHARPNESS = 1.0
DEFAULT_RESIDUAL_BLEND = 0.3
DEFAULT_RESIDUAL_SCALE = 4
DEFAULT_RESIDUAL_CANDIDATES = 8
# Known fractions at or below this count as none (as in crainpaint.cra).
_KNOWN_EPSILON = 1e-6
DEFAULT_SEAM = "poisson"


@dataclasses.dataclass(frozen=True)
class PortableConfig:
    """The ``CRAConfig`` fields the portable pipeline supports; each means what it means there.

    Attributes:
        geometry: ``"tile"`` (pad to a multiple of the grid, area-resize to the square network
            input) or ``"pad512"`` (mirror-pad to multiples of the network input, the paper's).
        hole_threshold: a network pixel is a hole when more than this fraction of the photo
            pixels it covers are (1 = only when all are).
        seam: ``"poisson"`` (default: the network's output up-sampled + residual + the
            membrane interpolation of the mismatch along the hole's edge) or ``"paste"``
            (blurry image + aggregated residual, the paper's).
        residual_top_k: sources per hole cell in Eq. 4 (0 = every usable one, the paper's).
        residual_sharpness: power the scores are raised to before they are renormalised.
        residual_blend: width in cells of the cross-fade between neighbouring transplants
            (needs ``residual_top_k`` ≥ 1).
        residual_scale: the blurry base is the network output averaged over s × s pixels.
        residual_candidates: a hole cell on the hole's edge takes, of its this many
            best-scoring sources, the ``residual_top_k`` whose residuals agree best with its
            own known pixels (at most ``residual_top_k``: the best-scoring ones).
    """

    geometry: str = "tile"
    hole_threshold: float = DEFAULT_HOLE_THRESHOLD
    seam: str = DEFAULT_SEAM
    residual_top_k: int = DEFAULT_RESIDUAL_TOP_K
    residual_sharpness: float = DEFAULT_RESIDUAL_SHARPNESS
    residual_blend: float = DEFAULT_RESIDUAL_BLEND
    residual_scale: int = DEFAULT_RESIDUAL_SCALE
    residual_candidates: int = DEFAULT_RESIDUAL_CANDIDATES

    @classmethod
    def paper(cls, **overrides):
        """The paper's choices, as ``CRAConfig.paper()``; ``overrides`` replace fields."""
        fields = dict(geometry="pad512", hole_threshold=0.0, seam="paste", residual_top_k=0,
                      residual_sharpness=1.0, residual_blend=0.0, residual_scale=1,
                      residual_candidates=1)
        fields.update(overrides)
        return cls(**fields)

    def __post_init__(self):
        if self.geometry not in GEOMETRIES:
            raise ValueError(f"geometry must be one of {GEOMETRIES} (the exported network has a "
                             f"fixed square input, so 'aspect' needs crainpaint.cra), got "
                             f"{self.geometry!r}.")
        if self.seam not in SEAMS:
            raise ValueError(f"seam must be one of {SEAMS}, got {self.seam!r}.")
        if not 0.0 <= self.hole_threshold <= 1.0:
            raise ValueError(f"hole_threshold must be in [0, 1], got {self.hole_threshold!r}.")
        if type(self.residual_top_k) is not int or self.residual_top_k < 0:  # Not a bool.
            raise ValueError(f"residual_top_k must be an int >= 0, got {self.residual_top_k!r}.")
        if not 0.0 < self.residual_sharpness <= 64.0:
            raise ValueError(f"residual_sharpness must be in (0, 64], got "
                             f"{self.residual_sharpness!r}.")
        if not 0.0 <= self.residual_blend <= 1.0:
            raise ValueError(f"residual_blend must be in [0, 1], got {self.residual_blend!r}.")
        if self.residual_blend and not self.residual_top_k:
            raise ValueError("residual_blend needs residual_top_k >= 1; set residual_top_k "
                             "(e.g. 1) or residual_blend=0.")
        if type(self.residual_candidates) is not int or self.residual_candidates < 1:
            raise ValueError(f"residual_candidates must be an int >= 1, got "
                             f"{self.residual_candidates!r}.")
        if self.residual_scale not in RESIDUAL_SCALES:
            raise ValueError(f"residual_scale must be one of {RESIDUAL_SCALES}, got "
                             f"{self.residual_scale!r}.")


class PortableNetwork:
    """An exported network file (``.onnx`` or ``.tflite``) as a numpy function.

    ``network(image, mask)`` with image float32 [S, S, 3] in [−1, 1] and mask float32
    [S, S, 1] (1 = hole) returns (refined [S, S, 3], scores [cells, cells]).

    Args:
        path: a file written by ``python -m crainpaint.export --format onnx|tflite``.
        threads: CPU threads of the runtime (None: the runtime's default).
    Attributes:
        input_size: S; grid: attention cells per side.
    """

    def __init__(self, path, threads=None):
        extension = os.path.splitext(path)[1].lower()
        if extension == ".onnx":
            self._run = _onnx_runner(path, threads)
        elif extension == ".tflite":
            self._run = _litert_runner(path, threads)
        else:
            raise ValueError(f"Unknown network file {path!r}: expected a .onnx or .tflite file "
                             "written by python -m crainpaint.export --format onnx|tflite.")
        self.input_size, self.grid = self._run.input_size, math.isqrt(self._run.cells)

    def __call__(self, image, mask):
        refined, scores = self._run(image[np.newaxis].astype(np.float32),
                                    mask[np.newaxis].astype(np.float32))
        return refined[0], scores[0]


def _onnx_runner(path, threads):
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError("Running a .onnx network needs onnxruntime: pip install onnxruntime "
                          "(or 'crainpaint[export]').") from error
    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    runtime = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    def run(image, mask):
        return runtime.run(["refined", "scores"], {"image": image, "mask": mask})

    run.input_size = runtime.get_inputs()[0].shape[1]
    run.cells = {output.name: output for output in runtime.get_outputs()}["scores"].shape[1]
    return run


def _litert_runner(path, threads):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as error:
        raise ImportError("Running a .tflite network needs ai-edge-litert: pip install "
                          "ai-edge-litert (or 'crainpaint[export]').") from error
    runner = Interpreter(model_path=path, num_threads=threads).get_signature_runner()

    def run(image, mask):
        outputs = runner(image=image, mask=mask)
        return outputs["refined"], outputs["scores"]

    run.input_size = int(runner.get_input_details()["image"]["shape"][1])
    run.cells = int(runner.get_output_details()["scores"]["shape"][1])
    return run


def _round_up(value, multiple):
    return (value + multiple - 1) // multiple * multiple


def _pad_to(image, height, width):
    """Mirror-pads [H, W, C] at the bottom/right ('SYMMETRIC', repeated when larger)."""
    return np.pad(image, [[0, height - image.shape[0]], [0, width - image.shape[1]], [0, 0]],
                  mode="symmetric")


# ------------------------------------------------------------------------------------------
# The pipeline.
# ------------------------------------------------------------------------------------------


def inpaint(image, hole, network, config=PortableConfig()):
    """Inpaints one photo with an exported network and the CRA, hole only.

    Args:
        image: uint8 [H, W, 3] RGB.
        hole: [H, W] or [H, W, 1] hole map: nonzero (bool/int) or > 0.5 (float) = hole.
        network: a ``PortableNetwork`` (or any callable with its contract, ``input_size`` and
            ``grid``).
        config: a ``PortableConfig``.
    Returns:
        uint8 [H, W, 3]; pixels outside the hole are the input's, bit for bit.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"image must be uint8 [H, W, 3] RGB, got {image.dtype} {image.shape}.")
    hole = np.asarray(hole)
    hole = hole.reshape(hole.shape[:2]) if hole.ndim == 3 else hole
    if hole.shape != image.shape[:2]:
        raise ValueError(f"hole must be [H, W] of the image's size {image.shape[:2]}, got "
                         f"{hole.shape}.")
    hole = hole > (0.5 if np.issubdtype(hole.dtype, np.floating) else 0)
    if not hole.any():
        return image.copy()
    return _inpaint(image, hole, network, config)


def _inpaint(image, hole, network, config):
    height, width = image.shape[:2]
    size, grid = network.input_size, network.grid
    scaled_height, scaled_width = max(height, size), max(width, size)
    resized = scaled_height > height or scaled_width > width
    multiple = size if config.geometry == "pad512" else grid
    work_height, work_width = _round_up(scaled_height, multiple), _round_up(scaled_width, multiple)
    cell_height, cell_width = work_height // grid, work_width // grid

    if resized:
        # Small photos: zero the hole at their own size, then up-sample.
        known = np.where(hole[..., np.newaxis], 0, image)
        scaled_hole = resize(hole[..., np.newaxis].astype(np.float32), scaled_height,
                             scaled_width, "bilinear")[..., 0] > 0.0
        image_work = to_uint8(resize(known, scaled_height, scaled_width, "bilinear"))
        image_work[scaled_hole] = 0
        hole_work = scaled_hole
    else:
        image_work, hole_work = image, hole
    image_work = _pad_to(image_work, work_height, work_width)
    hole_work = _pad_to(hole_work[..., np.newaxis], work_height, work_width)[..., 0]
    known_work = np.where(hole_work[..., np.newaxis], 0, image_work).astype(np.uint8)

    # Averaging down-sampling over known pixels only (Sec. 4.1).
    hole_area = resize(hole_work[..., np.newaxis].astype(np.float32), size, size, "area")
    small_hole = (hole_area > min(config.hole_threshold, 1.0 - _KNOWN_EPSILON)).astype(
        np.float32)
    network_cell = size // grid
    hole_grid = (hole_area[..., 0] > 0.0).reshape(grid, network_cell, grid, network_cell).any(
        axis=(1, 3)).astype(np.float32)
    hole_cells = np.flatnonzero(hole_grid)
    known_fraction = np.maximum(1.0 - hole_area, 0.0)
    known_fraction = np.where(known_fraction > _KNOWN_EPSILON, known_fraction, 0.0)
    small = divide_no_nan(resize(known_work, size, size, "area"), known_fraction) * (
        1.0 - small_hole)

    refined, scores = network(small / 127.5 - 1.0, small_hole)
    refined = (refined.astype(np.float32) + 1.0) * 127.5
    composite = refined * small_hole + small * (1.0 - small_hole)
    usable = 1.0 - grow(hole_grid)  # No hole cell in the 3 × 3 patch (valid_source_mask).
    weights = scores.astype(np.float32)[hole_cells] * usable.reshape(1, -1)

    # Blurry image + residuals aggregated over hole cells (Eq. 4).
    if config.residual_scale > 1:
        coarse = size // config.residual_scale
        composite = resize(composite, coarse, coarse, "area")
        refined = resize(refined, coarse, coarse, "area")
    upsampler = Upsampler(composite, work_height, work_width, grid, cell_height, cell_width)
    if config.residual_sharpness != 1.0 or config.residual_top_k:
        weights = np.power(weights, np.float32(config.residual_sharpness))
        weights = divide_no_nan(weights, weights.sum(axis=1, keepdims=True))
    if config.residual_top_k:
        chosen = None
        if config.residual_candidates > config.residual_top_k:
            cell_known = 1.0 - hole_area[..., 0].reshape(grid, network_cell, grid,
                                                         network_cell).mean(axis=(1, 3))
            chosen = match_known_pixels(known_work, hole_work, upsampler, weights, hole_cells,
                                        cell_known.reshape(-1)[hole_cells], grid, cell_height,
                                        cell_width, config.residual_top_k,
                                        config.residual_candidates)
        residuals = aggregate_top_k(known_work, upsampler, weights, hole_cells, grid, grid,
                                    cell_height, cell_width, config.residual_top_k,
                                    blend=config.residual_blend > 0.0,
                                    blend_width=float(config.residual_blend or 1.0),
                                    chosen=chosen)
    else:
        residuals = aggregate_residuals(known_work, upsampler, weights, grid, grid, cell_height,
                                        cell_width)
    if config.seam == "poisson":
        # The network's own output up-sampled, + residuals, + the membrane of photo − that
        # base on the hole's boundary ring, so the fill meets the photo along the hole's edge.
        network_base = Upsampler(refined, work_height, work_width, grid, cell_height,
                                  cell_width)
        fill = (network_base.cells(hole_cells) + residuals
                + seam_correction(known_work, hole_work, hole_cells, network_base, grid, grid,
                                  cell_height, cell_width))
    else:
        fill = upsampler.cells(hole_cells) + residuals
    filled = to_uint8(fill)

    # Hard paste: only hole pixels change ("simply a copy of the original", Sec. 3.1).
    rows, cols = cell_pixels(hole_cells, grid, cell_height, cell_width)
    rows, cols = np.broadcast_arrays(rows, cols)
    in_hole = hole_work[rows, cols]
    result = image_work.copy()
    result[rows[in_hole], cols[in_hole]] = filled[in_hole]
    result = result[:scaled_height, :scaled_width]
    if resized:
        small_result = to_uint8(resize(result, height, width, "area"))
        return np.where(hole[..., np.newaxis], small_result, image)
    return result
