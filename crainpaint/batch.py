"""The flag-free library behind the `crainpaint` command: files and folders in, inpainted out.

`inpaint_file` does one photo (read, check, inpaint with the `crainpaint.pipeline` of the generator
and `InpaintOptions.cra`, write atomically); `plan_batch` pairs a folder of photos with their masks
by file stem; `run_batch` runs a plan with a progress bar, reporting and skipping a failing file
while the batch goes on. Every user error is found before the network runs where possible (output
path, sizes, formats), so a typo costs no inference. `crainpaint/cli.py` only turns flags into
these calls.
"""

from __future__ import annotations

import dataclasses
import io
import os
import sys
import time
from typing import Callable, List, Optional, Sequence, TextIO, Tuple

import numpy as np

from crainpaint import imaging
from crainpaint import pipeline
from crainpaint import pixels
from crainpaint.cra import CRAConfig
from crainpaint.image_header import IMAGE_EXTENSIONS, max_pixels_setting

# Shells reserve 126 and above (126 not executable, 127 not found, 128 + n killed by signal n).
MAX_EXIT_STATUS = 125
# The conventional exit status after Ctrl-C (128 + SIGINT).
INTERRUPTED_EXIT_STATUS = 130
_LOSSY_EXTENSIONS = (".jpg", ".jpeg")


@dataclasses.dataclass(frozen=True)
class InpaintOptions:
    """Everything besides paths and weights that decides how a file is inpainted.

    Attributes:
        mask_convention: "white_hole" (white = hole, the default) or "black_hole" (black = hole,
            the original HiFill release's masks). Masks are thresholded at half their range.
        dilate_px: grow the hole by this many pixels in every direction (0 = as drawn).
        cra: the `crainpaint.cra.CRAConfig` of the full-resolution pipeline (geometry, hole
            rule, seam, feather, residual aggregation); `CRAConfig.paper()` for the paper's.
        overwrite: replace an existing output file (never an input, whatever this says).
        max_pixels: the pixel budget (height × width) checked from each file's header before
            decoding; None: `CRAINPAINT_MAX_PIXELS` or the default; 0: no limit
            (`crainpaint.image_header`).
    """

    mask_convention: str = pixels.DEFAULT_MASK_CONVENTION
    dilate_px: int = 0
    cra: CRAConfig = CRAConfig()
    overwrite: bool = False
    max_pixels: Optional[int] = None

    def __post_init__(self):
        if self.mask_convention not in pixels.MASK_CONVENTIONS:
            raise ValueError(f"mask_convention must be one of {pixels.MASK_CONVENTIONS}, got "
                             f"{self.mask_convention!r}.")
        if isinstance(self.dilate_px, bool) or not isinstance(self.dilate_px, int) \
                or self.dilate_px < 0:
            raise ValueError(f"dilate_px must be an integer >= 0, got {self.dilate_px!r}.")
        if self.max_pixels is not None:
            max_pixels_setting(self.max_pixels)  # Raises for an invalid limit.
        if not isinstance(self.cra, CRAConfig):
            raise TypeError(f"cra must be a crainpaint.cra.CRAConfig (e.g. CRAConfig() or "
                            f"CRAConfig.paper()), got {type(self.cra).__name__}.")


@dataclasses.dataclass(frozen=True)
class LoadedInputs:
    """An image and its hole map, read and checked, ready for the network.

    Attributes:
        image: the decoded photo (upright RGB, 8 or 16 bits, alpha kept apart).
        hole: float32 [height, width, 1], 1.0 = fill (dilation already applied).
        image_path / mask_path / output_path: where they came from and where the result goes.
    """

    image: imaging.ImageData
    hole: np.ndarray
    image_path: str
    mask_path: str
    output_path: str


@dataclasses.dataclass(frozen=True)
class FileResult:
    """What `inpaint_file` did: the output written, the share of the image filled, notes."""

    output_path: str
    hole_fraction: float
    notes: Tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# One file.
# --------------------------------------------------------------------------------------------


def check_output_folder(folder) -> None:
    """Refuses a folder the results cannot be written into, before any work is done.

    The folder may not exist yet (it is created when the first result is written); then its
    nearest existing parent must be a folder this process may write into.

    Raises:
        ValueError: the folder, or a parent of it, is a file; or the folder (or the parent it
            would be created in) is not writable. The message names the path and the fix.
    """
    folder_text = os.path.abspath(os.fspath(folder) or ".")
    existing = folder_text
    while not os.path.lexists(existing):
        parent = os.path.dirname(existing)
        if parent == existing:
            break
        existing = parent
    if not os.path.isdir(existing):
        raise ValueError(f"Cannot write into {folder_text}: {existing} is a file, not a folder; "
                         "choose an output path in a folder (or move the file away).")
    if not os.access(existing, os.W_OK | os.X_OK):
        action = "write into" if existing == folder_text else f"create {folder_text} in"
        raise ValueError(f"Cannot {action} {existing}: permission denied; choose a folder you "
                         "may write into, or change its permissions.")


def check_output_path(output_path, input_paths: Sequence[str], overwrite: bool) -> None:
    """Refuses an output path before any work is done on it.

    Args:
        output_path: where the result would be written.
        input_paths: the image and mask it is made from; never overwritten, even with `overwrite`.
        overwrite: whether an existing (non-input) file may be replaced.

    Raises:
        ValueError: unsupported extension, the path is an input or a directory, it exists
            and `overwrite` is false, or its folder cannot be written (`check_output_folder`).
    """
    output_text = os.fspath(output_path)
    extension = os.path.splitext(output_text)[1].lower()
    if extension not in imaging.SUPPORTED_OUTPUT_EXTENSIONS:
        raise ValueError(
            f"Cannot write {output_text}: unsupported extension {extension or '(none)'!r}; use "
            f"one of {', '.join(imaging.SUPPORTED_OUTPUT_EXTENSIONS)} (.png is lossless).")
    folder = os.path.dirname(os.path.abspath(output_text))
    if not os.path.lexists(output_text):
        # A path that does not exist cannot be one of the (existing) inputs.
        check_output_folder(folder)
        return
    for input_path in input_paths:
        if input_path is not None and imaging.same_file(output_text, os.fspath(input_path)):
            raise ValueError(
                f"Refusing to write {output_text}: it is the input file {os.fspath(input_path)}, "
                "which would be overwritten (--overwrite never allows that); choose another "
                "output path.")
    if os.path.isdir(output_text):
        raise ValueError(f"Cannot write {output_text}: it is a directory.")
    if not overwrite:
        raise ValueError(f"Output {output_text} already exists; pass --overwrite to replace it.")
    check_output_folder(folder)


def _check_output_format(output_path: str, image: imaging.ImageData) -> None:
    """Fails before inference when the output format cannot hold 16 bits or the alpha channel.

    A 1×1 crop goes through the same encoder `write_image` uses, so the rule (and its message)
    is imaging's, not a copy of it; without this, an 8K photo would be inpainted first and
    refused afterwards.
    """
    imaging.check_encodable(output_path, image.pixels, image.alpha)


def read_inputs(image_path, mask_path, output_path,
                options: InpaintOptions = InpaintOptions()) -> LoadedInputs:
    """Reads and checks everything `inpaint_loaded` needs, so user errors cost no inference.

    Checks, in order: the output path (extension, not an input, not an existing file unless
    `options.overwrite`), the image, the mask, that both have the same size, and that the
    output format can hold the image's bit depth and alpha.

    Raises:
        imaging.ImageReadError: an input is missing, unreadable or corrupt (a ValueError).
        ValueError: any other check above; the message says what and how to fix it.
    """
    image_path, mask_path, output_path = (os.fspath(path) for path in
                                          (image_path, mask_path, output_path))
    check_output_path(output_path, (image_path, mask_path), options.overwrite)
    image = imaging.read_image(image_path, options.max_pixels)
    hole = imaging.read_mask(mask_path, options.mask_convention, options.dilate_px,
                             options.max_pixels)
    imaging.check_same_size(image.pixels.shape, hole.shape, image_path, mask_path)
    _check_output_format(output_path, image)
    return LoadedInputs(image=image, hole=hole, image_path=image_path, mask_path=mask_path,
                        output_path=output_path)


def inpaint_loaded(inputs: LoadedInputs, model, options: InpaintOptions = InpaintOptions()
                   ) -> FileResult:
    """Inpaints checked inputs with `model` and writes the result atomically.

    The alpha channel, if any, is re-attached unchanged; the bit depth is the input's.
    """
    notes = []
    hole_fraction = float(inputs.hole.mean())
    if hole_fraction == 0.0:
        notes.append(f"mask {inputs.mask_path} has no hole pixels: the output is a copy of the "
                     "input")
    elif hole_fraction == 1.0:
        notes.append(f"mask {inputs.mask_path} is hole everywhere: there is no context to fill "
                     "it from, the result is a flat guess")
    if os.path.splitext(inputs.output_path)[1].lower() in _LOSSY_EXTENSIONS:
        notes.append(f"{inputs.output_path} is JPEG, which is lossy: pixels outside the hole "
                     "will not be exact copies (use .png for that)")
    # The notes above report the mask's content with its file name.
    filled = pipeline.pipeline_for(model, options.cra)(inputs.image.pixels, inputs.hole,
                                                       check_content=False)
    imaging.write_image(inputs.output_path, filled, inputs.image.alpha,
                        forbidden_paths=(inputs.image_path, inputs.mask_path))
    return FileResult(output_path=inputs.output_path, hole_fraction=hole_fraction,
                      notes=tuple(notes))


def inpaint_file(image_path, mask_path, output_path, model,
                 options: InpaintOptions = InpaintOptions()) -> FileResult:
    """Reads an image and its mask, inpaints the hole and writes the result.

    Args:
        image_path: photo of any size; 8/16-bit, gray/RGB/RGBA, EXIF orientation honoured.
        mask_path: mask of the same size (upright), read with `options.mask_convention`.
        output_path: destination; its extension picks the format (.png lossless).
        model: a `crainpaint.models.Generator` (e.g. from `crainpaint.load_pretrained`).
        options: see `InpaintOptions`.

    Returns:
        A `FileResult`.

    Raises:
        ValueError (including imaging.ImageReadError) for bad inputs or outputs, OSError when
        the file system refuses the write.
    """
    return inpaint_loaded(read_inputs(image_path, mask_path, output_path, options), model,
                          options)


# --------------------------------------------------------------------------------------------
# Folders.
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BatchItem:
    """One image of a batch run.

    Attributes:
        image_path: the photo.
        mask_path: its mask, or None when none was found.
        output_path: where its result goes (`<output_dir>/<stem>.png`).
        problem: why it cannot be processed, known before running (no mask, several masks,
            an output name shared with another image), or None.
    """

    image_path: str
    mask_path: Optional[str]
    output_path: str = ""
    problem: Optional[str] = None


def _is_image_file(directory: str, name: str) -> bool:
    # Hidden files include write_image's temporary files (".<name>.XXXX.png").
    return (not name.startswith(".")
            and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS
            and os.path.isfile(os.path.join(directory, name)))


def _list_images(directory: str) -> List[str]:
    if not os.path.isdir(directory):
        raise ValueError(f"{directory} is not a directory.")
    return [os.path.join(directory, name) for name in sorted(os.listdir(directory))
            if _is_image_file(directory, name)]


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def pair_inputs(input_dir, mask_dir=None, mask_path=None) -> List[BatchItem]:
    """Pairs every image of `input_dir` with its mask.

    Images are the files of `input_dir` (not its subfolders) with an extension in
    `IMAGE_EXTENSIONS`, hidden files excluded, in sorted order. Each image's mask is the file
    of `mask_dir` with the same stem (`photo.jpg` ↔ `photo.png`), or `mask_path` for all.

    Args:
        input_dir: folder of photos.
        mask_dir: folder of masks, exclusive with `mask_path`; must differ from `input_dir`.
        mask_path: one mask used for every image; excluded from the images if it lies in
            `input_dir`.

    Returns:
        One `BatchItem` per image (without `output_path`); an image without a mask, or with
        several masks of its stem, has `mask_path` None and a `problem`.

    Raises:
        ValueError: both or neither of `mask_dir` and `mask_path`, a folder that does not
            exist, or `mask_dir` is `input_dir`.
    """
    if (mask_dir is None) == (mask_path is None):
        raise ValueError("Give exactly one of mask_dir (masks paired by file stem) and "
                         "mask_path (one mask for every image).")
    input_dir = os.fspath(input_dir)
    images = _list_images(input_dir)
    if mask_path is not None:
        mask_path = os.fspath(mask_path)
        if not os.path.isfile(mask_path):
            raise ValueError(f"Mask {mask_path} does not exist or is not a file.")
        return [BatchItem(image_path=image, mask_path=mask_path)
                for image in images if not imaging.same_file(image, mask_path)]

    mask_dir = os.fspath(mask_dir)
    if os.path.isdir(mask_dir) and imaging.same_file(input_dir, mask_dir):
        raise ValueError(f"mask_dir {mask_dir} is input_dir: masks are paired with images by "
                         "file stem, so they must be in a folder of their own.")
    masks_by_stem = {}
    for mask in _list_images(mask_dir):
        masks_by_stem.setdefault(_stem(mask), []).append(mask)
    items = []
    for image in images:
        candidates = masks_by_stem.get(_stem(image), [])
        if len(candidates) == 1:
            items.append(BatchItem(image_path=image, mask_path=candidates[0]))
        elif not candidates:
            items.append(BatchItem(
                image_path=image, mask_path=None,
                problem=f"no mask for it: no file named {_stem(image)}.* in {mask_dir}"))
        else:
            items.append(BatchItem(
                image_path=image, mask_path=None,
                problem=f"several masks for one image: {', '.join(candidates)}; keep one"))
    return items


def unused_masks(items: Sequence[BatchItem], mask_dir) -> List[str]:
    """Masks of `mask_dir` that no image was paired with (worth a note: a typo in a stem?)."""
    used = {item.mask_path for item in items if item.mask_path is not None}
    image_stems = {_stem(item.image_path) for item in items}
    return [mask for mask in _list_images(os.fspath(mask_dir))
            if mask not in used and _stem(mask) not in image_stems]


def plan_batch(input_dir, output_dir, mask_dir=None, mask_path=None) -> List[BatchItem]:
    """`pair_inputs` plus output paths `<output_dir>/<stem>.png` (lossless, keeps 16 bits and
    alpha). When two images share a stem (`a.jpg`, `a.png`), the first in sorted order gets the
    output and the others fail with a message, rather than overwriting each other."""
    output_dir = os.fspath(output_dir)
    check_output_folder(output_dir)
    planned = []
    owner_of_output = {}
    for item in pair_inputs(input_dir, mask_dir=mask_dir, mask_path=mask_path):
        output_path = os.path.join(output_dir, imaging.default_output_name(item.image_path))
        problem = item.problem
        if output_path in owner_of_output:
            problem = (f"its output {output_path} is already the output of "
                       f"{owner_of_output[output_path]} (same file stem); rename one of them")
        else:
            owner_of_output[output_path] = item.image_path
        planned.append(dataclasses.replace(item, output_path=output_path, problem=problem))
    return planned


def exit_status(failed_count: int) -> int:
    """The process exit status for a run with `failed_count` failures: the count, capped so it
    stays clear of the statuses shells reserve (126 and above)."""
    return min(max(int(failed_count), 0), MAX_EXIT_STATUS)


def _format_duration(seconds: float) -> str:
    seconds = int(round(max(seconds, 0.0)))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class ProgressBar:
    """A one-line progress bar on a text stream: count/total, elapsed time and ETA.

    On a terminal the line is redrawn in place; on anything else (a log file, a pipe) one line
    is printed per finished item, so logs stay readable. `message` prints a line above the bar.

    The ETA averages the items after the first, because the first one also traces the graph
    (several seconds) and would make every early estimate far too long.
    """

    def __init__(self, total: int, stream: Optional[TextIO] = None, width: int = 24,
                 clock: Callable[[], float] = time.monotonic):
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.clock = clock
        self.done = 0
        self.failed = 0
        self.start_time = clock()
        self._first_item_seconds = None
        try:
            self.interactive = self.stream.isatty()
        except (AttributeError, ValueError):
            self.interactive = False
        self._line_length = 0

    def eta_seconds(self) -> Optional[float]:
        """Estimated seconds left, or None before the first item finished."""
        if self.done == 0:
            return None
        remaining = self.total - self.done
        elapsed = self.clock() - self.start_time
        if self.done >= 2:
            per_item = (elapsed - self._first_item_seconds) / (self.done - 1)
        else:
            per_item = elapsed
        return remaining * per_item

    def render(self, label: str = "") -> str:
        """The bar's text, e.g. `[######------] 3/10 elapsed 0:12 ETA 0:28 (1 failed) a.jpg`."""
        filled = self.width * self.done // self.total if self.total else self.width
        eta = self.eta_seconds()
        text = (f"[{'#' * filled}{'-' * (self.width - filled)}] {self.done}/{self.total} "
                f"elapsed {_format_duration(self.clock() - self.start_time)} "
                f"ETA {'?' if eta is None else _format_duration(eta)}")
        if self.failed:
            text += f" ({self.failed} failed)"
        return f"{text} {label}".rstrip()

    def _columns(self) -> int:
        try:
            return os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
            return 80

    def _draw(self, text: str) -> None:
        if self.interactive:
            # A line wider than the terminal wraps, and "\r" would then redraw only its end.
            text = text[:max(self._columns() - 1, 1)]
            padding = " " * max(self._line_length - len(text), 0)
            self.stream.write("\r" + text + padding)
            self._line_length = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def start(self, label: str = "") -> None:
        """Shows the bar at 0 (on a terminal only: a log gets one line per finished item)."""
        if self.interactive:
            self._draw(self.render(label))

    def advance(self, label: str = "", failed: bool = False) -> None:
        """Counts one finished item and redraws."""
        self.done += 1
        self.failed += int(failed)
        if self._first_item_seconds is None:
            self._first_item_seconds = self.clock() - self.start_time
        self._draw(self.render(label))

    def message(self, text: str) -> None:
        """Prints `text` on its own line without garbling the bar."""
        if self.interactive and self._line_length:
            self.stream.write("\r" + " " * self._line_length + "\r")
            self._line_length = 0
        self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """Ends the bar's line on a terminal."""
        if self.interactive and self._line_length:
            self.stream.write("\n")
            self.stream.flush()
            self._line_length = 0


@dataclasses.dataclass
class BatchResult:
    """Outcome of `run_batch`: outputs written, (image path, reason) per failure, and whether
    Ctrl-C stopped it."""

    written: List[str] = dataclasses.field(default_factory=list)
    failures: List[Tuple[str, str]] = dataclasses.field(default_factory=list)
    interrupted: bool = False

    @property
    def exit_status(self) -> int:
        return exit_status(len(self.failures))


def describe_error(error: BaseException) -> str:
    """A one-line reason for a failure, as shown to users."""
    # Our own and imaging's errors are written for users; anything else also says its kind.
    if isinstance(error, (ValueError, OSError)):
        return str(error) or type(error).__name__
    return f"{type(error).__name__}: {error}"


def run_batch(items: Sequence[BatchItem], model, options: InpaintOptions = InpaintOptions(),
              stream: Optional[TextIO] = None, clock: Callable[[], float] = time.monotonic
              ) -> BatchResult:
    """Inpaints every planned item; a failing one is reported and skipped, the rest go on.

    Args:
        items: from `plan_batch`.
        model: the generator, loaded once for the whole batch (the traced CRA function is
            shared by all sizes, so only the first image pays for tracing).
        options: see `InpaintOptions`.
        stream: where the progress bar, failures and the summary go (stderr by default).
        clock: seconds, for the bar (tests pass a fake).

    Returns:
        A `BatchResult`; its `exit_status` is the number of failures, capped at 125.
        On Ctrl-C the summary of what was done is printed and KeyboardInterrupt re-raised.
    """
    stream = stream if stream is not None else sys.stderr
    result = BatchResult()
    progress = ProgressBar(len(items), stream=stream, clock=clock)
    progress.start()
    try:
        for item in items:
            name = os.path.basename(item.image_path)
            try:
                if item.problem is not None:
                    raise ValueError(item.problem)
                file_result = inpaint_file(item.image_path, item.mask_path, item.output_path,
                                           model, options)
            except KeyboardInterrupt:
                raise
            except Exception as error:  # pylint: disable=broad-except  (the batch goes on)
                reason = describe_error(error)
                result.failures.append((item.image_path, reason))
                progress.message(f"FAILED {item.image_path}: {reason}")
                progress.advance(name, failed=True)
                continue
            for note in file_result.notes:
                progress.message(f"note: {note}")
            result.written.append(file_result.output_path)
            progress.advance(name)
    except KeyboardInterrupt:
        result.interrupted = True
        progress.finish()
        _print_summary(result, len(items), stream)
        raise
    progress.finish()
    _print_summary(result, len(items), stream)
    return result


def _print_summary(result: BatchResult, total: int, stream: TextIO) -> None:
    done = len(result.written) + len(result.failures)
    lines = []
    if result.interrupted:
        lines.append(f"Interrupted after {done} of {total} images.")
    lines.append(f"Summary: {len(result.written)} of {total} images inpainted, "
                 f"{len(result.failures)} failed.")
    for image_path, reason in result.failures:
        lines.append(f"  failed: {image_path}: {reason}")
    stream.write("\n".join(lines) + "\n")
    stream.flush()
