"""The inpainting methods the evaluation compares, and how each is run and scored.

Methods (``--methods``):

* ``crainpaint``: the generator with CRA (``crainpaint.inpaint``), Sec. 3.1, with the working
  geometry of ``--geometry`` (``crainpaint.cra.CRAConfig``: "aspect", the default, keeps the
  aspect ratio; "tile" squeezes each axis to the network input; "pad512" is the paper's padding)
  and the hole threshold of ``--hole_threshold`` (1 by default: a network pixel is a hole only
  when every photo pixel it covers is; 0 = when any is) and the seam of ``--seam``
  ("poisson", the default, Poisson-blends the network's up-sampled output + residual into the
  photo; "paste" is the paper's pipeline: blurry image + residual pasted as it is), and the
  residual aggregation of ``--residual_top_k``, ``--residual_blend``, ``--residual_scale``,
  ``--residual_sharpness`` and ``--residual_candidates`` (by default each hole cell transplants
  its best source, chosen on the hole's edge by the cell's known pixels; 0 / 0 / 1 / 1 / 1 is
  the paper's Eq. 4 over every source). ``--cra_preset paper`` sets every CRA option to
  the paper's choice; the other CRA flags then override single options.
* ``crainpaint_upsample``: the same pipeline and working geometry without the residual term of
  Eq. 4: the generator runs at its input size and its low-resolution composite is simply
  up-sampled bilinearly to full size and pasted (the paper's Fig. 6 comparison, Sec. 4.4, with
  bilinear up-sampling; with ``--seam poisson`` the up-sampled network output is Poisson-blended
  the same way; the residual options do not apply: the base is the network's output as it is).
  Implemented by ``crainpaint.pipeline.InpaintPipeline.without_residuals``: the generator with its
  attention scores replaced by zeros, so every aggregated residual is exactly 0 and the fill is
  the "large blurry image" of Sec. 3.1; the network itself is unchanged (its internal attention
  transfer still uses the real scores). At 512² with a 512-px generator the two crainpaint rows
  are identical by design: every usable context cell's residual is zero when the photo is
  already at the network's size.
* ``telea`` / ``navier_stokes``: ``cv2.inpaint`` (INPAINT_TELEA / INPAINT_NS) with radius
  ``--inpaint_radius`` (3).
* ``generator_fullres``: the generator run directly on the whole image, mirror-padded to a
  multiple of its cell size (16 px); only for images of at most ``--fullres_max_pixels``
  pixels (2.1 Mpx), otherwise reported as skipped; with the ``--attention_scale`` of the CRA
  flags, the network's one option.

Every method receives only the image with the hole ZEROED (a read-only array) and the hole
map. Its output is hard-pasted into the original over the hole, and the code checks that every
pixel outside the hole equals the input, so no ground-truth pixel inside the hole can reach a
score, and what a method does outside the hole cannot change it.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable, Optional

import cv2
import numpy as np
import tensorflow as tf

from crainpaint import cra, pipeline
from crainpaint.evaluation.metrics import score
from crainpaint.pixels import from_network_range, to_network_range, to_uint8

METHODS = ("crainpaint", "crainpaint_upsample", "telea", "navier_stokes", "generator_fullres")
GENERATOR_METHODS = ("crainpaint", "crainpaint_upsample", "generator_fullres")


@dataclasses.dataclass
class Method:
    """One way of filling a hole.

    Attributes:
        name: the method's name in the tables.
        fill: ``fill(known, hole) → uint8 [H, W, 3]`` where ``known`` is the uint8 [H, W, 3]
            image with the hole ZEROED (read-only) and ``hole`` bool [H, W]; only the output's
            hole pixels are used.
        max_pixels: larger images (H·W) are skipped; None = no limit.
    """

    name: str
    fill: Callable[[np.ndarray, np.ndarray], np.ndarray]
    max_pixels: Optional[int] = None


def _crainpaint_fill(generator, cra_config=cra.CRAConfig()):
    inpaint_pipeline = pipeline.pipeline_for(generator, cra_config)

    def fill(known, hole):
        return inpaint_pipeline(known, hole)
    return fill


def _crainpaint_upsample_fill(generator, cra_config=cra.CRAConfig()):
    # No residual term: the network's own output, up-sampled, whatever the residual options.
    inpaint_pipeline = pipeline.InpaintPipeline(generator, cra_config).without_residuals()

    def fill(known, hole):
        return inpaint_pipeline(known, hole)
    return fill


def _generator_fullres_fill(generator, cra_config=cra.CRAConfig()):
    # The network's own option applies here too: the attention scale.
    generator = pipeline.with_attention_scale(generator, cra_config.attention_scale)
    cell = generator.config.cell_size

    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32),
                                  tf.TensorSpec([1, None, None, 1], tf.float32)])
    def run(image, mask):
        _, refined, _ = generator((image, mask), training=False)
        return to_uint8(from_network_range(refined[0]))

    def fill(known, hole):
        height, width = hole.shape
        pad = [(0, -height % cell), (0, -width % cell)]
        image = np.pad(known, pad + [(0, 0)], mode="symmetric")
        mask = np.pad(hole, pad, mode="symmetric").astype(np.float32)
        output = run(to_network_range(image[np.newaxis].astype(np.float32)),
                     mask[np.newaxis, ..., np.newaxis])
        return output.numpy()[:height, :width]
    return fill


def _opencv_fill(flag, radius):
    def fill(known, hole):
        return cv2.inpaint(known, hole.astype(np.uint8) * 255, radius, flag)
    return fill


def build_methods(names, generator=None, inpaint_radius=3, fullres_max_pixels=2_100_000,
                  cra_config=None):
    """``Method`` objects for ``names`` (see ``METHODS``); generator methods need ``generator``;
    ``cra_config`` is the crainpaint methods' ``CRAConfig`` (default ``CRAConfig()``)."""
    cra_config = cra_config or cra.CRAConfig()
    factories = {
        "crainpaint": lambda: Method("crainpaint", _crainpaint_fill(generator, cra_config)),
        "crainpaint_upsample": lambda: Method("crainpaint_upsample",
                                              _crainpaint_upsample_fill(generator, cra_config)),
        "telea": lambda: Method("telea", _opencv_fill(cv2.INPAINT_TELEA, inpaint_radius)),
        "navier_stokes": lambda: Method("navier_stokes",
                                        _opencv_fill(cv2.INPAINT_NS, inpaint_radius)),
        "generator_fullres": lambda: Method("generator_fullres",
                                            _generator_fullres_fill(generator, cra_config),
                                            max_pixels=fullres_max_pixels),
    }
    methods = []
    for name in names:
        if name not in factories:
            raise ValueError(f"Unknown method {name!r}; known: {METHODS}.")
        if name in GENERATOR_METHODS and generator is None:
            raise ValueError(f"Method {name!r} needs a generator.")
        methods.append(factories[name]())
    return methods


def zero_hole(target, hole):
    """The image a method is given: ``target`` with every hole pixel set to 0, read-only."""
    known = np.where(hole[..., np.newaxis], np.uint8(0), target).astype(np.uint8)
    known.setflags(write=False)
    return known


def hard_paste(output, known, hole):
    """The composite: ``output`` inside the hole, the method's input outside; checked.

    Raises:
        ValueError: ``output`` is not a uint8 array of the input's shape.
        AssertionError: a pixel outside the hole differs from the input (cannot happen by
            construction; the check guards the guarantee against future edits).
    """
    output = np.asarray(output)
    if output.shape != known.shape or output.dtype != np.uint8:
        raise ValueError(f"A method returned {output.dtype} {output.shape}; expected uint8 "
                         f"{known.shape}.")
    composite = np.where(hole[..., np.newaxis], output, known)
    if not np.array_equal(composite[~hole], known[~hole]):
        raise AssertionError("The composite differs from the input outside the hole.")
    return composite


def run_method(method, target, hole):
    """Fills ``target``'s hole with ``method`` given only the zeroed image; returns
    (composite, seconds). The composite's hole comes from the method, the rest from target."""
    hole = np.asarray(hole, bool).reshape(target.shape[:2])
    known = zero_hole(target, hole)
    start = time.perf_counter()
    output = method.fill(known, hole)
    seconds = time.perf_counter() - start
    if np.any(known[hole]):
        raise AssertionError(f"Method {method.name} wrote into its (read-only) input.")
    composite = hard_paste(output, known, hole)
    # Outside the hole the known image is the target itself, so this is the score's input.
    if not np.array_equal(composite[~hole], target[~hole]):
        raise AssertionError("The composite differs from the ground truth outside the hole.")
    return composite, seconds


def evaluate_sample(methods, target, hole):
    """Runs and scores every method on one (image, hole) pair.

    Returns:
        ({name: metrics with "seconds", or {"skipped": reason}}, {name: composite}).
    """
    results, composites = {}, {}
    height, width = hole.shape[:2]
    for method in methods:
        if method.max_pixels is not None and height * width > method.max_pixels:
            results[method.name] = {"skipped": f"{width}x{height} = {height * width / 1e6:.2f} "
                                               f"Mpx > {method.max_pixels / 1e6:.2f} Mpx"}
            continue
        composite, seconds = run_method(method, target, hole)
        results[method.name] = dict(score(composite, target, hole), seconds=seconds)
        composites[method.name] = composite
    return results, composites


def warm_up(methods, size=64):
    """One call per method on a small image, so traced functions are built before timing."""
    random = np.random.default_rng(0)
    target = random.integers(0, 256, (size, size, 3), dtype=np.uint8)
    hole = np.zeros((size, size), bool)
    hole[size // 4:size // 2, size // 4:size // 2] = True
    for method in methods:
        run_method(method, target, hole)

