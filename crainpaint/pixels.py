"""Mask and pixel rules shared by every entry point, in TensorFlow ops that run inside graphs.

Nothing here imports OpenCV, so the CRA graph (`crainpaint.cra`), the SavedModel export and the
library share these rules without pulling in an image codec:

* Masks: `hole_from_mask` turns a mask image into a hole map with TensorFlow ops only, so the
  exported SavedModel and the Python library threshold masks identically. Two conventions
  exist: crainpaint's default `"white_hole"` (white pixels are the hole to fill) and
  `"black_hole"`, the convention of the original HiFill release (white pixels are kept, black
  ones are filled). `validate_mask` applies the rules for masks given as numpy arrays (0/1
  masks, NaN, channels that disagree, masks with no hole or no context) before any work.
* Pixels: `to_uint8` / `to_uint16` round and clip before casting, because `tf.cast` from float
  to an unsigned integer wraps around (-3.7 -> 253, 300 -> 44) and truncates (0.6 -> 0).
  `to_network_range` / `from_network_range` scale 0..255 pixels to the generator's [-1, 1]
  and back.
"""

import warnings

import numpy as np
import tensorflow as tf

MASK_CONVENTIONS = ("white_hole", "black_hole")
DEFAULT_MASK_CONVENTION = "white_hole"


class MaskWarning(UserWarning):
    """A mask was accepted, but it is probably not what its author meant (see `validate_mask`)."""


# --------------------------------------------------------------------------------------------
# Masks and pixel values: pure TensorFlow, usable inside tf.function and SavedModel graphs.
# --------------------------------------------------------------------------------------------


def check_mask_convention(convention: str) -> None:
    """Raises ValueError naming the allowed conventions unless `convention` is one of them."""
    if convention not in MASK_CONVENTIONS:
        raise ValueError(
            f"Unknown mask convention {convention!r}; expected one of {MASK_CONVENTIONS}: "
            "'white_hole' (white = hole, crainpaint's default) or 'black_hole' "
            "(white = keep, the original HiFill release)."
        )


def hole_from_mask(mask, convention: str = DEFAULT_MASK_CONVENTION) -> tf.Tensor:
    """Converts a mask image into a binary hole map.

    A pixel is "white" when the mean of its colour channels is at least half the dtype's range:
    uint8 values >= 128, uint16 values >= 32768. Channels are read as gray (C = 1), colour
    (C = 3, any channel order since only the mean counts) or colour plus alpha (C = 4; the alpha
    channel is ignored, so a transparent white pixel is still white). Boolean masks count True as
    full white and False as black (for C = 3 that makes a pixel white when at least two of its
    channels are True). The mean is compared exactly, as an integer channel sum against
    threshold × channels.

    One exception, the painted layer: an RGBA mask (C = 4) whose colour channels hold one colour
    over the whole mask while its alpha varies carries the hole in its transparency alone (a
    stroke painted on a transparent layer). Its hole is where alpha is at least half the range
    (painted, opaque) and the rest is kept (transparent, not painted), in both conventions,
    since the colour says nothing. Each mask of a batch is judged on its own.

    Only TensorFlow ops are used, so this works eagerly, inside a `tf.function` and in an
    exported SavedModel, with dynamic batch, height, width and even channel count.

    Args:
        mask: Tensor or array of shape [..., height, width, channels] (rank >= 3), dtype uint8,
            uint16 or bool, with channels in {1, 3, 4}.
        convention: "white_hole" (white = hole, the default) or "black_hole" (white = keep,
            black = hole, the convention of the original HiFill release).

    Returns:
        A float32 tensor of shape [..., height, width, 1]: 1.0 where the pixel is a hole to fill,
        0.0 where it is kept.

    Raises:
        ValueError: For an unknown convention, a rank below 3 or a static channel count outside
            {1, 3, 4}.
        TypeError: For a dtype other than uint8, uint16 or bool.
        tf.errors.InvalidArgumentError: When the channel count is only known at run time and is
            not in {1, 3, 4}.
    """
    check_mask_convention(convention)
    mask = tf.convert_to_tensor(mask)
    if mask.dtype == tf.uint8 or mask.dtype == tf.bool:
        threshold = 128
    elif mask.dtype == tf.uint16:
        threshold = 32768
    else:
        raise TypeError(
            f"Mask dtype must be uint8, uint16 or bool, got {mask.dtype.name}; convert "
            "probability maps with `mask >= 0.5` first."
        )
    if mask.shape.rank is not None and mask.shape.rank < 3:
        raise ValueError(
            f"Mask must have shape [..., height, width, channels], got shape {mask.shape}; "
            "add a trailing channel axis for a 2-D mask."
        )

    static_channels = mask.shape[-1] if mask.shape.rank is not None else None
    if static_channels is not None:
        if static_channels not in (1, 3, 4):
            raise ValueError(
                f"Mask must have 1 (gray), 3 (RGB) or 4 (RGBA) channels, got {static_channels}."
            )
        # Python ints keep the static shape of the result.
        colour_channels = min(static_channels, 3)
        colour = mask[..., :colour_channels]
    else:
        channels = tf.shape(mask)[-1]
        check = tf.debugging.Assert(
            tf.reduce_any(tf.equal(channels, [1, 3, 4])),
            ["Mask must have 1 (gray), 3 (RGB) or 4 (RGBA) channels, got", channels],
        )
        with tf.control_dependencies([check]):
            # 1 -> 1, 3 -> 3, 4 -> 3: drops the alpha channel of RGBA masks.
            colour_channels = tf.minimum(channels, 3)
        colour = mask[..., :colour_channels]

    levels = tf.cast(colour, tf.int32)
    if mask.dtype == tf.bool:
        levels = levels * 255
    # int32 holds 3 × 65535 without overflow; comparing sums avoids rounding a float mean.
    channel_sum = tf.reduce_sum(levels, axis=-1, keepdims=True)
    is_white = channel_sum >= threshold * colour_channels
    is_hole = is_white if convention == "white_hole" else tf.logical_not(is_white)
    if static_channels is None or static_channels == 4:
        is_hole = _painted_layer_hole(mask, colour, threshold, is_hole)
    return tf.cast(is_hole, tf.float32)


def _painted_layer_hole(mask, colour, threshold, colour_hole):
    """The hole of an RGBA mask of one flat colour is its opaque part; others keep `colour_hole`.

    Args:
        mask: [..., height, width, channels] uint8, uint16 or bool; channels may be dynamic.
        colour: The mask's colour channels.
        threshold: Half the dtype's range.
        colour_hole: bool [..., height, width, 1], the hole by the colour rule.

    Returns:
        bool [..., height, width, 1].
    """
    alpha = tf.cast(mask[..., -1:], tf.int32)
    if mask.dtype == tf.bool:
        alpha = alpha * 255
    image_axes = [-3, -2, -1]
    flat_colour = tf.reduce_all(
        tf.equal(colour, colour[..., :1, :1, :]), axis=image_axes, keepdims=True)
    alpha_varies = tf.reduce_any(
        tf.not_equal(alpha, alpha[..., :1, :1, :]), axis=image_axes, keepdims=True)
    painted = tf.logical_and(flat_colour, alpha_varies)
    if mask.shape[-1] is None:
        # With a dynamic channel count the last channel is alpha only for RGBA.
        painted = tf.logical_and(painted, tf.equal(tf.shape(mask)[-1], 4))
    return tf.where(painted, alpha >= threshold, colour_hole)


def _round_clip_cast(values, maximum: float, dtype: tf.DType) -> tf.Tensor:
    values = tf.convert_to_tensor(values)
    if values.dtype not in (tf.float32, tf.float64):
        # float16 cannot hold 65535 and bfloat16 rounds it to 65536, which would wrap to 0.
        values = tf.cast(values, tf.float32)
    # The cast of NaN to an integer is undefined; a black pixel is the predictable choice.
    values = tf.where(tf.math.is_nan(values), tf.zeros_like(values), values)
    # tf.cast alone wraps out-of-range values and truncates fractions: round and clip first.
    return tf.cast(tf.clip_by_value(tf.round(values), 0.0, maximum), dtype)


def to_uint8(values) -> tf.Tensor:
    """Converts pixel values on the 0..255 scale to uint8 by rounding and clipping.

    Rounding is half to even (`tf.round`): 0.5 -> 0, 1.5 -> 2. NaN becomes 0.

    Args:
        values: Float tensor or array on the 0..255 scale, any shape.

    Returns:
        A uint8 tensor of the same shape.
    """
    return _round_clip_cast(values, 255.0, tf.uint8)


def to_uint16(values) -> tf.Tensor:
    """Converts pixel values on the 0..65535 scale to uint16 by rounding and clipping.

    Rounding is half to even (`tf.round`). NaN becomes 0.

    Args:
        values: Float tensor or array on the 0..65535 scale, any shape.

    Returns:
        A uint16 tensor of the same shape.
    """
    return _round_clip_cast(values, 65535.0, tf.uint16)


def to_network_range(pixels):
    """Scales pixels on the 0..255 scale to the generator's [-1, 1]: ``pixels / 127.5 - 1``.

    Works on numpy arrays and on tensors (inside graphs too). Integer inputs are cast to
    float32 first; float inputs keep their dtype, so the result is bit for bit what the
    expression gives on them.

    Args:
        pixels: uint8 or float values on the 0..255 scale, any shape.

    Returns:
        Values in [-1, 1] (for inputs in 0..255): a numpy array for numpy input, else a tensor.
    """
    if isinstance(pixels, (np.ndarray, np.generic)):
        if pixels.dtype.kind in "uib":
            pixels = pixels.astype(np.float32)
        return pixels / 127.5 - 1.0
    pixels = tf.convert_to_tensor(pixels)
    if not pixels.dtype.is_floating:
        pixels = tf.cast(pixels, tf.float32)
    return pixels / 127.5 - 1.0


def from_network_range(values):
    """Scales the generator's [-1, 1] back to the 0..255 scale: ``(values + 1) · 127.5``.

    Not rounded or clipped: pass the result to `to_uint8` for pixels. Tensors are cast to
    float32 first (the generator may compute in a lower precision); numpy arrays keep their
    float dtype.

    Args:
        values: Generator outputs in [-1, 1], any shape.

    Returns:
        Values on the 0..255 scale: a numpy array for numpy input, else a float32 tensor.
    """
    if isinstance(values, (np.ndarray, np.generic)):
        return (values + 1.0) * 127.5
    return (tf.cast(values, tf.float32) + 1.0) * 127.5


# --------------------------------------------------------------------------------------------
# Masks given as arrays: checked and warned about before any work.
# --------------------------------------------------------------------------------------------


def validate_mask(mask, image_shape=None, convention: str = DEFAULT_MASK_CONVENTION, *,
                  name: str = "mask", check_content: bool = True) -> np.ndarray:
    """Checks a mask array by the library's rules and returns its hole map.

    The rules, so that no mask silently does nothing:

    * float [H, W] or [H, W, 1]: a hole map, > 0.5 = hole. NaN is refused.
    * bool [H, W, C]: a hole map, True = hole; with several channels they must agree.
    * uint8 / uint16 [H, W, C], C in {1, 3, 4}: a mask image read with `convention` by
      `hole_from_mask` (white = at least half the range; an RGBA mask of one flat colour is
      read from its alpha). A mask whose values are only 0 and 1 is taken as 0 = black and
      1 = white (a hole map saved as integers, 1 = hole with "white_hole"), with a
      `MaskWarning`, instead of counting every pixel as black. An RGBA mask with transparent
      pixels read by its colour warns that the alpha channel was ignored.
    * With `check_content`, a mask with no hole warns that nothing is filled, and a mask that
      is all hole warns that there is no context to fill it from.

    Args:
        mask: Array [H, W] or [H, W, C].
        image_shape: The image's shape (height and width are compared), or None to skip.
        convention: "white_hole" or "black_hole", for integer masks.
        name: How messages call the mask, e.g. "mask photo_mask.png".
        check_content: Whether to warn about masks with no hole or no context.

    Returns:
        bool array [H, W, 1], True = hole.

    Raises:
        ValueError: Wrong shape, size or dtype, NaN, or bool channels that disagree; the
            message says how to fix it.
    """
    check_mask_convention(convention)
    mask = np.asarray(mask)
    if mask.ndim == 2:
        mask = mask[..., np.newaxis]
    if mask.ndim != 3 or mask.shape[-1] not in (1, 3, 4):
        raise ValueError(f"{name} must be [H, W], [H, W, 1], [H, W, 3] or [H, W, 4], got shape "
                         f"{mask.shape}.")
    if image_shape is not None and mask.shape[:2] != tuple(image_shape[:2]):
        raise ValueError(f"{name} is {mask.shape[1]}×{mask.shape[0]} but image is "
                         f"{image_shape[1]}×{image_shape[0]} (width×height); they must match.")
    if mask.dtype.kind == "f":
        if mask.shape[-1] != 1:
            raise ValueError(f"A float mask is a hole map and must have one channel, {name} has "
                             f"{mask.shape[-1]}; pass one channel, e.g. mask[..., :1].")
        if np.isnan(mask).any():
            raise ValueError(f"{name} holds NaN; a float mask is a hole map (> 0.5 = hole), so "
                             "NaN is neither hole nor kept. Replace it first, e.g. "
                             "np.nan_to_num(mask) to keep those pixels.")
        hole = mask > 0.5
    elif mask.dtype == np.bool_:
        if mask.shape[-1] > 1 and not np.array_equal(mask, np.broadcast_to(mask[..., :1],
                                                                           mask.shape)):
            raise ValueError(f"{name} is a bool hole map with {mask.shape[-1]} channels that "
                             "disagree; pass one channel: mask.any(axis=-1) (hole where any "
                             "channel is True) or mask[..., 0].")
        hole = mask[..., :1]
    elif mask.dtype in (np.uint8, np.uint16):
        if mask.max(initial=0) == 1:
            full = np.iinfo(mask.dtype).max
            warnings.warn(
                f"{name} holds only the values 0 and 1: read as 0 = black and 1 = white "
                f"({full}), so 1 = {'hole' if convention == 'white_hole' else 'keep'} with "
                f"mask_convention={convention!r}. Save masks as 0 and {full} to silence this.",
                MaskWarning, stacklevel=2)
            mask = mask * mask.dtype.type(full)
        hole = hole_from_mask(mask, convention).numpy() > 0.5
        if mask.shape[-1] == 4:
            _warn_if_alpha_ignored(mask, hole, name)
    else:
        raise ValueError(f"{name} must be uint8, uint16, bool or a float hole map, got "
                         f"{mask.dtype}.")
    if check_content:
        if not hole.any():
            warnings.warn(f"{name} has no hole pixels: nothing is filled, the result is a copy "
                          "of the image.", MaskWarning, stacklevel=2)
        elif hole.all():
            warnings.warn(f"{name} is hole everywhere: with no context to fill it from, the "
                          "result is meaningless (a flat colour).", MaskWarning, stacklevel=2)
    return hole


def _warn_if_alpha_ignored(mask: np.ndarray, hole: np.ndarray, name: str) -> None:
    """Warns when an RGBA mask's transparency and its hole (read by colour) disagree."""
    alpha = mask[..., 3]
    half = (int(np.iinfo(mask.dtype).max) + 1) // 2
    if alpha.min() >= half:
        return  # Opaque: nothing to ignore.
    if np.array_equal(alpha >= half, hole[..., 0]):
        return  # The transparency agrees with the colour (or was read as the painted layer).
    warnings.warn(f"{name} has transparent pixels, but its alpha channel is ignored: the hole "
                  "is read from the colour. To mark the hole by transparency, paint it on a "
                  "layer of one flat colour (opaque = hole).", MaskWarning, stacklevel=3)
