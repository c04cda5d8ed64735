"""A RunInference `ModelHandler` around the exported SavedModel's `inpaint_bytes` signature.

Beam's stock `TFModelHandlerNumpy` / `TFModelHandlerTensor` load a model with
`tf.keras.models.load_model` and call it on stacked tensors; neither fits here: the export is a
Keras 3 `ExportArchive` (not a Keras model file), photos differ in size so they cannot be stacked,
and the whole full-resolution pipeline (decode, CRA, PNG encode) lives behind a named signature.
`SavedModelInpaintHandler` loads the SavedModel with `tf.saved_model.load` once per worker process
(RunInference shares it between the process's threads) and calls `inpaint_bytes` one photo at a
time, turning the graph's own refusals (corrupt file, size mismatch, over the export's
`max_pixels`) into an `InpaintOutcome` with the reason instead of an exception, so one bad photo
does not fail its bundle.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Dict, Iterable, Optional, Sequence, Tuple

import tensorflow as tf
from apache_beam.io.filesystems import FileSystems
from apache_beam.ml.inference.base import ModelHandler, PredictionResult

from crainpaint.export import BYTES_SIGNATURE

METRICS_NAMESPACE = "crainpaint"
_SAVED_MODEL_FILE = "saved_model.pb"


@dataclasses.dataclass(frozen=True)
class InpaintOutcome:
    """What `inpaint_bytes` made of one (image, mask) pair.

    Attributes:
        png: the inpainted photo as an 8-bit RGB PNG file, or None when it failed.
        error: why the SavedModel refused the pair (its in-graph message), or None.
        seconds: wall time of the call.
    """

    png: Optional[bytes]
    error: Optional[str]
    seconds: float


class LoadedInpainter:
    """The loaded SavedModel and its `inpaint_bytes` concrete function.

    The loaded object is kept alive next to the function: a signature function outlives the
    object `tf.saved_model.load` returned only as long as something references that object.
    """

    def __init__(self, saved_model_dir: str):
        self.saved_model_dir = saved_model_dir
        self.loaded = tf.saved_model.load(saved_model_dir)
        if BYTES_SIGNATURE not in self.loaded.signatures:
            raise ValueError(
                f"The SavedModel at {saved_model_dir} has no {BYTES_SIGNATURE!r} signature "
                f"(it has {sorted(self.loaded.signatures)}); export it with "
                "`python -m crainpaint.export`, which writes that signature.")
        self.inpaint_bytes = self.loaded.signatures[BYTES_SIGNATURE]

    def inpaint(self, image_bytes: bytes, mask_bytes: bytes) -> InpaintOutcome:
        """Runs `inpaint_bytes` on one encoded pair; refusals become `InpaintOutcome.error`."""
        started = time.perf_counter()
        try:
            outputs = self.inpaint_bytes(image_bytes=tf.constant([image_bytes]),
                                         mask_bytes=tf.constant([mask_bytes]))
            png = outputs["inpainted_bytes"].numpy()[0]
        except tf.errors.OpError as error:
            # InvalidArgumentError carries the graph's check ("photo too large: ...") or the
            # decoder's complaint; ResourceExhaustedError an out-of-memory photo.
            return InpaintOutcome(png=None, error=f"{type(error).__name__}: "
                                  f"{graph_error_reason(error.message)}",
                                  seconds=time.perf_counter() - started)
        return InpaintOutcome(png=png, error=None, seconds=time.perf_counter() - started)


def graph_error_reason(message: str) -> str:
    """The reason line of a graph execution error, without its header and node names.

    TF formats them as "Graph execution error:", "Detected at node ...", a stack trace, the
    reason, then "\\t [[{{node ...}}]] [Op:...]".
    """
    reason = message.split("\n\t [[")[0].strip()
    return reason.split("\n")[-1].strip() or message.strip()


def resolve_saved_model(path: str) -> str:
    """The SavedModel folder `path` names: itself, or its highest integer-named version.

    `python -m crainpaint.export --export_dir D` writes `D/<version>/`; like TF Serving, the
    pipeline takes either `D` (newest version) or `D/<version>`. Resolved once at launch so that
    every worker loads the same version even if a new one appears while the job runs. Works on
    any file system Beam has (`gs://`, `s3://`, local).

    Raises:
        ValueError: no `saved_model.pb` in `path` or in any integer-named sub-folder.
    """
    path = path.rstrip("/") if len(path) > 1 else path
    if FileSystems.exists(FileSystems.join(path, _SAVED_MODEL_FILE)):
        return path
    versions = {}
    pattern = FileSystems.join(path, "*", _SAVED_MODEL_FILE)
    for match in FileSystems.match([pattern])[0].metadata_list:
        version_dir = FileSystems.split(match.path)[0]
        name = FileSystems.split(version_dir)[1]
        if name.isdigit():
            versions[int(name)] = version_dir
    if not versions:
        raise ValueError(
            f"No SavedModel at {path}: neither {path}/{_SAVED_MODEL_FILE} nor "
            f"{path}/<version>/{_SAVED_MODEL_FILE} exists; export one with `python -m "
            f"crainpaint.export --export_dir {path}`.")
    return versions[max(versions)]


class SavedModelInpaintHandler(
        ModelHandler[Tuple[bytes, bytes], PredictionResult, LoadedInpainter]):
    """RunInference handler: (image bytes, mask bytes) → `PredictionResult(inference=InpaintOutcome)`.

    Each element is an encoded photo (JPEG, PNG, GIF or BMP) and its mask of the same size, read
    with the mask convention the export baked in. Batches hold one photo: photos differ in size
    and the signature inpaints them one at a time anyway, and a batch of one keeps a single
    refusal from touching other photos.
    """

    def __init__(self, saved_model_dir: str, **kwargs: Any):
        """Args:
            saved_model_dir: a SavedModel version folder (see `resolve_saved_model`).
            **kwargs: passed to `ModelHandler` (e.g. `model_copies`, `large_model`);
                `max_batch_size` defaults to 1.
        """
        kwargs.setdefault("max_batch_size", 1)
        super().__init__(**kwargs)
        self.saved_model_dir = saved_model_dir

    def load_model(self) -> LoadedInpainter:
        return LoadedInpainter(self.saved_model_dir)

    def run_inference(self, batch: Sequence[Tuple[bytes, bytes]], model: LoadedInpainter,
                      inference_args: Optional[Dict[str, Any]] = None
                      ) -> Iterable[PredictionResult]:
        return [PredictionResult(example, model.inpaint(*example), model_id=self.saved_model_dir)
                for example in batch]

    def get_num_bytes(self, batch: Sequence[Tuple[bytes, bytes]]) -> int:
        # The default pickles the batch to measure it: a copy of every photo, for a metric.
        return sum(len(image) + len(mask) for image, mask in batch)

    def get_metrics_namespace(self) -> str:
        return METRICS_NAMESPACE
