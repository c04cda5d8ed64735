"""The inpainting pipeline: a generator and one ``CRAConfig``, pre- and post-processing together.

``InpaintPipeline`` is what every entry point runs: ``crainpaint.inpaint`` and the batch runner
call it on numpy arrays, the SavedModel export binds its graph functions to its signatures, and
the evaluation runs it and its network-only variant (``without_residuals``). It owns

* the mask rule: a bool mask is a hole map (channel 0), any other mask is read by
  ``crainpaint.pixels.hole_from_mask`` with a mask convention (white = hole by default);
* 16-bit photos: inpainted at 8 bits, the changed samples pasted back at 16 bits;
* the uint8 conversion of the network's output (``crainpaint.pixels.to_uint8``);
* the cache of traced functions: one per mask dtype and convention, with dynamic height and
  width, so a folder of photos of different sizes is traced once, and stored on disk
  (``crainpaint.trace_cache``) so that the next process does not trace it at all.

``pipeline_for(generator, config)`` returns the cached pipeline of a generator and config, and
``load_generator`` the generator of a weights folder, a training run or the bundled weights.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import weakref

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2

from crainpaint import cra
from crainpaint import trace_cache
from crainpaint.models import Generator, build_generator_with_weights
from crainpaint.pixels import (DEFAULT_MASK_CONVENTION, MASK_CONVENTIONS, from_network_range,
                               hole_from_mask, to_network_range, to_uint8, validate_mask)

# The dtypes of the numpy images the pipeline inpaints.
IMAGE_DTYPES = (np.uint8, np.uint16)


def check_image(image) -> np.ndarray:
    """The image as an RGB uint8/uint16 array [H, W, 3].

    Raises:
        ValueError: another rank, channel count or dtype, or an empty image.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"image must be RGB [H, W, 3], got shape {image.shape}.")
    if image.dtype not in IMAGE_DTYPES:
        raise ValueError(f"image must be uint8 or uint16, got {image.dtype}.")
    if min(image.shape[:2]) < 1:
        raise ValueError(f"image is empty: shape {image.shape}.")
    return image


def check_mask_convention(mask_convention: str) -> None:
    """Raises ValueError unless ``mask_convention`` is one of ``MASK_CONVENTIONS``."""
    if mask_convention not in MASK_CONVENTIONS:
        raise ValueError(f"mask_convention must be one of {MASK_CONVENTIONS}, got "
                         f"{mask_convention!r}.")


def as_mask(mask, image_shape, mask_convention: str = DEFAULT_MASK_CONVENTION,
            check_content: bool = True) -> np.ndarray:
    """The mask as the bool hole map [H, W, 1] the traced function reads.

    The rules are ``crainpaint.pixels.validate_mask``'s (no mask silently does nothing).

    Raises:
        ValueError: a shape, size, dtype or content the pipeline does not read; the message
            says how to fix it.
    """
    return validate_mask(mask, image_shape, mask_convention, check_content=check_content)


# Graph optimisation (Grappler) is the largest part of the traced function's first call after
# tracing: 1.1 of 2.4 s at 512² on a 2-core Xeon. Its second iteration changes 6 of the
# pipeline's ~2,900 optimised nodes (duplicates the first left), and the layout, loop, memory,
# implementation-selector, TFG and conditional-code-motion passes change none, so without them
# the optimised graph does the same arithmetic and every output bit is the same, in 0.4 s.
_REWRITES_OFF = ("layout_optimizer", "loop_optimization", "implementation_selector",
                 "experimental_conditional_code_motion")
_LEAN_CALL_OPTIONS = {}


def _lean_call_options(current):
    """``current`` (the eager context's FunctionCallOptions) with the lean Grappler rewrites;
    cached by its config, so every call of a traced function finds the same instantiation."""
    key = current.config_proto_serialized
    if key not in _LEAN_CALL_OPTIONS:
        config = config_pb2.ConfigProto.FromString(key)
        rewrites = config.graph_options.rewrite_options
        rewriter = rewriter_config_pb2.RewriterConfig
        # Only settings left at their defaults change: an explicit choice of the user stays.
        if rewrites.meta_optimizer_iterations == rewriter.DEFAULT_NUM_ITERS:
            rewrites.meta_optimizer_iterations = rewriter.ONE
        if rewrites.memory_optimization == rewriter.DEFAULT_MEM_OPT:
            rewrites.memory_optimization = rewriter.NO_MEM_OPT
        for name in _REWRITES_OFF:
            if getattr(rewrites, name) == rewriter.DEFAULT:
                setattr(rewrites, name, rewriter.OFF)
        rewrites.disable_tfg_optimizer = True
        _LEAN_CALL_OPTIONS[key] = type(current)(config_proto=config)
    return _LEAN_CALL_OPTIONS[key]


@contextlib.contextmanager
def lean_graph_optimization():
    """Runs the traced functions called inside with the lean Grappler options above (only the
    passes that change the pipeline's graph); options the user set explicitly are kept.

    The options are the eager context's per-thread function-call options (not public API):
    when they are missing, the functions run with TensorFlow's defaults.
    """
    try:
        from tensorflow.python.eager import context
        eager = context.context()
        saved = eager.function_call_options
        eager.function_call_options = _lean_call_options(saved)
    except (ImportError, AttributeError, TypeError, ValueError):
        yield
        return
    try:
        yield
    finally:
        eager.function_call_options = saved


def hole_map(mask, mask_convention: str = DEFAULT_MASK_CONVENTION) -> tf.Tensor:
    """Graph op: a mask [..., H, W, C] → bool hole map [..., H, W, 1].

    A bool mask is a hole map already (its first channel is used); uint8/uint16 masks are read
    by ``crainpaint.pixels.hole_from_mask`` with ``mask_convention``.
    """
    mask = tf.convert_to_tensor(mask)
    if mask.dtype == tf.bool:
        return mask[..., :1]
    return hole_from_mask(mask, mask_convention) > 0.5


class _WithoutResiduals:
    """A generator whose attention scores (the ones CRA reads) are replaced by zeros.

    ``cra.inpaint_image`` then aggregates zero residuals into every hole cell (Eq. 4), so its
    fill is the bilinear up-sampling of the low-resolution composite alone; the network itself
    is unchanged (its internal attention transfer still uses the real scores).
    """

    def __init__(self, generator):
        self.generator = generator
        self.config = generator.config

    def __call__(self, inputs, training=False):
        coarse, refined, scores = self.generator(inputs, training=training)
        return coarse, refined, tf.zeros_like(scores)


class InpaintPipeline:
    """The generator and one ``CRAConfig``: every way this package inpaints a photo.

    Args:
        generator: a built ``crainpaint.models.Generator`` (or anything with its call contract
            and a ``config`` holding ``attention_grid``, ``input_size`` and ``cell_size``).
        config: the ``crainpaint.cra.CRAConfig`` of the full-resolution pipeline, kept whole
            (default ``CRAConfig()``; the paper's: ``CRAConfig.paper()``).

    Raises:
        TypeError: ``config`` is not a ``CRAConfig``.
    """

    def __init__(self, generator, config: cra.CRAConfig | None = None):
        if config is None:
            config = cra.CRAConfig()
        if not isinstance(config, cra.CRAConfig):
            raise TypeError(f"config must be a crainpaint.cra.CRAConfig, got "
                            f"{type(config).__name__}.")
        self.generator = with_attention_scale(generator, config.attention_scale)
        self.config = config
        self._traced = {}
        self._cached = {}

    # ---------------------------------------------------------------------------------------
    # Graph functions (no Python at run time: the SavedModel's signatures bind these).
    # ---------------------------------------------------------------------------------------

    def inpaint_graph(self, image, hole) -> tf.Tensor:
        """uint8 image [H, W, 3] and hole map [H, W, 1] → uint8 [H, W, 3] (CRA, Sec. 3.1)."""
        return cra.inpaint_image(image, hole, self.generator, self.config)

    def inpaint_mask_graph(self, image, mask, mask_convention=DEFAULT_MASK_CONVENTION):
        """``inpaint_graph`` of a mask [H, W, C] read by ``hole_map``."""
        hole = tf.ensure_shape(hole_map(mask, mask_convention), [None, None, 1])
        return self.inpaint_graph(image, hole)

    def network_graph(self, image, mask, mask_convention=DEFAULT_MASK_CONVENTION):
        """The bare generator at its input size S, its output pasted into the hole.

        Args:
            image: uint8 [B, S, S, 3].
            mask: uint8/uint16/bool [B, S, S, C], read by ``hole_from_mask``.
            mask_convention: see ``crainpaint.pixels.hole_from_mask``.

        Returns:
            (inpainted uint8 [B, S, S, 3], attention float32 [B, cells, cells]): the scores of
            Eq. 2, row = in-hole target cell, column = source cell.
        """
        hole = hole_from_mask(mask, mask_convention)
        network_input = to_network_range(image)
        _, refined, scores = self.generator((network_input, hole), training=False)
        refined = to_uint8(from_network_range(refined))
        inpainted = tf.where(hole > 0.5, refined, image)
        cells = self.generator.config.attention_grid ** 2
        attention = tf.ensure_shape(tf.cast(scores, tf.float32), [None, cells, cells])
        return inpainted, attention

    # ---------------------------------------------------------------------------------------
    # Numpy.
    # ---------------------------------------------------------------------------------------

    def traced(self, mask_dtype, mask_convention=DEFAULT_MASK_CONVENTION):
        """The cached tf.function (image uint8 [H, W, 3], mask [H, W, C]) → uint8 [H, W, 3]."""
        key = (np.dtype(mask_dtype).name, mask_convention)
        if key not in self._traced:
            # autograph=False: nothing here is Python control flow on tensors (see
            # cra.inpaint_image), so converting the code would only slow the tracing.
            @tf.function(input_signature=[
                tf.TensorSpec([None, None, 3], tf.uint8),
                tf.TensorSpec([None, None, None], tf.as_dtype(mask_dtype))], autograph=False)
            def run(image, mask):
                return self.inpaint_graph(image, hole_map(mask, mask_convention))

            self._traced[key] = run
        return self._traced[key]

    def cached(self, mask_dtype, mask_convention=DEFAULT_MASK_CONVENTION):
        """``traced`` through the disk cache of traced functions (``crainpaint.trace_cache``):
        a fresh process calls the stored graph instead of tracing it again."""
        key = (np.dtype(mask_dtype).name, mask_convention)
        if key not in self._cached:
            self._cached[key] = trace_cache.CachedFunction(
                self.traced(mask_dtype, mask_convention), self.generator, self.config,
                mask_dtype, mask_convention)
        return self._cached[key]

    def __call__(self, image, mask, mask_convention=DEFAULT_MASK_CONVENTION,
                 check_content=True) -> np.ndarray:
        """Fills the hole of a numpy photo.

        Args:
            image: RGB [H, W, 3], uint8 or uint16 (16-bit photos are inpainted at 8-bit
                precision inside the hole; outside it every sample is kept).
            mask: the image's size; a float hole map (> 0.5 = hole), a bool hole map, or a
                uint8/uint16 gray, RGB or RGBA mask read with ``mask_convention``.
            mask_convention: "white_hole" (default) or "black_hole".
            check_content: warn about a mask with no hole or nothing but hole (callers that
                report it themselves, like the batch runner, turn it off).

        Returns:
            An array of the image's shape and dtype; pixels outside the hole are the input's.
        """
        image = check_image(image)
        check_mask_convention(mask_convention)
        # A bool hole map from here on: one traced function for every mask kind.
        mask = as_mask(mask, image.shape, mask_convention, check_content)
        run = self.cached(mask.dtype, DEFAULT_MASK_CONVENTION)
        if image.dtype == np.uint8:
            with lean_graph_optimization():
                return run(image, mask).numpy()
        # 16-bit: inpaint an 8-bit copy, then paste what changed (hole and feather band) back
        # at 16 bits; every other sample is the input's.
        eight_bit = np.round(image / 257.0).astype(np.uint8)
        with lean_graph_optimization():
            filled = run(eight_bit, mask).numpy()
        hole = hole_map(mask, mask_convention).numpy()
        # Hole pixels always take the inpainted value, even where it equals the 8-bit input.
        changed = np.any(filled != eight_bit, axis=-1, keepdims=True) | hole
        return np.where(changed, filled.astype(np.uint16) * 257, image)

    def without_residuals(self) -> "InpaintPipeline":
        """The network-only pipeline: the same geometry, hole rule and seam, no residuals.

        The generator's attention scores are replaced by zeros, so every aggregated residual
        (Eq. 4) is 0 and the fill is the network's low-resolution composite up-sampled
        bilinearly (the paper's Fig. 6 comparison, Sec. 4.4); the residual options are reset
        to the paper's, which do not apply then.
        """
        config = dataclasses.replace(self.config, residual_top_k=0, residual_sharpness=1.0,
                                     residual_blend=0.0, residual_scale=1)
        return InpaintPipeline(_WithoutResiduals(self.generator), config)


_PIPELINES = weakref.WeakKeyDictionary()
# Generator → {attention scale: the generator rebuilt with it}: one copy per scale per process,
# however many pipelines and evaluation methods ask for it.
_SCALED_GENERATORS = weakref.WeakKeyDictionary()


def with_attention_scale(generator, scale):
    """``generator`` with the ACM's softmax scale ``scale`` (``CRAConfig.attention_scale``).

    Returns ``generator`` itself when ``scale`` is None or its own; otherwise a
    ``crainpaint.models.Generator`` of the same weights whose config holds the scale (so the
    start-up cache keys its traced graphs apart), keeping ``pretrained_metadata`` and
    ``restored_step``, built once per generator and scale.

    Raises:
        TypeError: the scale differs and ``generator`` is not a ``Generator`` (nothing to
            rebuild).
    """
    own = getattr(getattr(generator, "config", None), "softmax_scale", None)
    if scale is None or float(scale) == own:
        return generator
    if not isinstance(generator, Generator):
        raise TypeError(f"attention_scale={scale:g} needs a crainpaint.models.Generator to "
                        f"rebuild with that scale, got {type(generator).__name__}.")
    per_scale = _SCALED_GENERATORS.setdefault(generator, {})
    if float(scale) not in per_scale:
        scaled = build_generator_with_weights(
            dataclasses.replace(generator.config, softmax_scale=float(scale)),
            {variable.path: variable.numpy() for variable in generator.weights})
        for name in ("pretrained_metadata", "restored_step"):
            if hasattr(generator, name):
                setattr(scaled, name, getattr(generator, name))
        per_scale[float(scale)] = scaled
    return per_scale[float(scale)]


def pipeline_for(generator, config: cra.CRAConfig | None = None) -> InpaintPipeline:
    """The cached ``InpaintPipeline`` of ``generator`` and ``config`` (its traced functions are
    reused by every call with the same pair)."""
    config = cra.CRAConfig() if config is None else config
    per_generator = _PIPELINES.setdefault(generator, {})
    if config not in per_generator:
        per_generator[config] = InpaintPipeline(generator, config)
    return per_generator[config]


def load_generator(weights=None, checkpoint_dir=None, allow_untrained=True):
    """The generator of a weights folder, a training run or the bundled weights.

    Args:
        weights: a folder written by ``crainpaint.pretrained.save_generator_weights``
            (generator.npz + generator.json); ``~`` is expanded.
        checkpoint_dir: a training folder; its latest checkpoint's generator is restored.
        Neither: the bundled weights (or an untrained generator, with an
        ``UntrainedWeightsWarning``, when none are bundled).

    Returns:
        The generator; its ``pretrained_metadata`` (or ``restored_step``) says where it came
        from.

    Raises:
        ValueError: both sources given, or the weights cannot be loaded (the message names the
            source and the reason).
    """
    if weights and checkpoint_dir:
        raise ValueError("Give the generator weights (--weights) or a training folder "
                         "(--checkpoint_dir), not both.")
    if checkpoint_dir:
        source = f"--checkpoint_dir {checkpoint_dir}"
    else:
        source = f"--weights {weights}" if weights else "bundled"
    try:
        if checkpoint_dir:
            # Imported here: the trainer pulls in the training stack.
            from crainpaint.weights import restore_generator
            return restore_generator(os.path.expanduser(checkpoint_dir))
        from crainpaint.pretrained import load_pretrained
        return load_pretrained(os.path.expanduser(weights) if weights else None,
                               allow_untrained=allow_untrained)
    except (ValueError, OSError, KeyError) as error:
        reason = (str(error) or type(error).__name__ if isinstance(error, (ValueError, OSError))
                  else f"{type(error).__name__}: {error}")
        raise ValueError(f"cannot load the generator weights ({source}): {reason}") from None
