"""The Beam pipeline: match photos and masks, pair them by file stem, inpaint, write PNGs.

Stages, each on Beam's file systems so `gs://` / `s3://` paths work where the runner has them:

1. `MatchFiles` on the photo pattern and on `<mask_dir>/*`; both keyed by file stem and joined
   (`CoGroupByKey`), with the pairing rules of `crainpaint.batch.plan_batch` (the `crainpaint`
   command's folder mode): image files by extension, hidden files ignored, `photo.jpg` ↔
   `<mask_dir>/photo.png`, an image without a mask or with several fails, and of several images
   with one stem (one output name) the first in sorted order is inpainted, the others fail.
   (`plan_batch` lists a local folder with `os.listdir`; these rules run on matched paths.)
2. Read both files (`FileSystems.open`).
3. `RunInference` with `SavedModelInpaintHandler` (the export's `inpaint_bytes` signature).
4. Write `<output_dir>/<stem>.png` (the signature's 8-bit RGB PNG, byte for byte) through a
   hidden temporary file renamed into place: a killed or retried worker never leaves a partial
   PNG under the final name, and a retried bundle rewrites the same bytes.

A photo that fails at any stage becomes one JSON line in the failures file (`image`, `mask`,
`stage`, `error`) and the job goes on. Counters in the `crainpaint` metrics namespace count
inpainted photos, failures per stage and unused masks.
"""

from __future__ import annotations

import dataclasses
import json
import os
import posixpath
import uuid
from typing import Dict, Iterable, Optional, Tuple

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference

from crainpaint.image_header import IMAGE_EXTENSIONS
from crainpaint.beam.handler import (METRICS_NAMESPACE, SavedModelInpaintHandler,
                                     resolve_saved_model)

# What the SavedModel's decoder (`tf.io.decode_image`) reads; other image files (TIFF)
# are paired like the CLI pairs them, then fail with a message saying to convert them.
DECODABLE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")
FAILURES_FILE = "failures.jsonl"
STAGES = ("pairing", "read", "inference", "write")
_FAILURES_TAG = "failures"


@dataclasses.dataclass(frozen=True)
class BeamInpaintConfig:
    """Where the pipeline reads and writes.

    Attributes:
        input_pattern: glob of the photos (`photos/*.jpg`, `gs://bucket/photos/*`); files
            without an image extension are ignored.
        mask_dir: folder of masks, paired with photos by file stem (`a.jpg` ↔ `a.png`).
        output_dir: where `<stem>.png` files go; existing ones are replaced.
        saved_model: export folder (`--export_dir` of `crainpaint.export`, newest version used)
            or one version folder.
        failures_path: the JSON-lines failures file; `<output_dir>/failures.jsonl` when None.
    """

    input_pattern: str
    mask_dir: str
    output_dir: str
    saved_model: str
    failures_path: Optional[str] = None

    def __post_init__(self):
        for name in ("input_pattern", "mask_dir", "output_dir", "saved_model"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"{name} must be a non-empty path, got "
                                 f"{getattr(self, name)!r}.")
        input_dir = _normalized(FileSystems.split(self.input_pattern)[0])
        if _normalized(self.mask_dir) == input_dir:
            raise ValueError(f"mask_dir {self.mask_dir} is the photos' folder: masks are "
                             "paired with photos by file stem, so they must be in a folder of "
                             "their own.")
        if _normalized(self.output_dir) in (input_dir, _normalized(self.mask_dir)):
            raise ValueError(f"output_dir {self.output_dir} holds the inputs: <stem>.png "
                             "outputs could replace input files; choose another folder.")

    @property
    def resolved_failures_path(self) -> str:
        return self.failures_path or FileSystems.join(self.output_dir, FAILURES_FILE)


@dataclasses.dataclass(frozen=True)
class PhotoJob:
    """One photo to inpaint: its file, its mask's file and its output file."""

    image_path: str
    mask_path: str
    output_path: str


def _normalized(path: str) -> str:
    """A folder path comparable with another: absolute for local paths (as Beam's local
    `FileSystems.split` makes them), without a trailing slash for object stores."""
    return path.rstrip("/") if "://" in path else os.path.abspath(path)


def _name_parts(path: str) -> Tuple[str, str]:
    """(stem, lower-case extension) of a path's file name, on any Beam file system."""
    stem, extension = posixpath.splitext(FileSystems.split(path)[1])
    return stem, extension.lower()


def is_image_path(path: str) -> bool:
    """Whether the pairing treats `path` as an image: the CLI's extensions, not hidden."""
    name = FileSystems.split(path)[1]
    return not name.startswith(".") and _name_parts(path)[1] in IMAGE_EXTENSIONS


def failure_record(stage: str, image_path: Optional[str], mask_path: Optional[str],
                   error: str) -> Dict[str, Optional[str]]:
    """One line of the failures file (a dict; the pipeline writes it as sorted-key JSON)."""
    Metrics.counter(METRICS_NAMESPACE, f"failed_{stage}").inc()
    return {"stage": stage, "image": image_path, "mask": mask_path, "error": error}


class PairByStem(beam.DoFn):
    """(stem, {"images": [...], "masks": [...]}) → `PhotoJob`s, or failures on the side."""

    def __init__(self, mask_dir: str, output_dir: str):
        super().__init__()
        self.mask_dir = mask_dir
        self.output_dir = output_dir
        self.unused_masks = Metrics.counter(METRICS_NAMESPACE, "masks_unused")

    def process(self, element):
        stem, grouped = element
        images, masks = sorted(grouped["images"]), sorted(grouped["masks"])
        if not images:
            self.unused_masks.inc(len(masks))
            return
        problem = None
        if not masks:
            problem = f"no mask for it: no file named {stem}.* in {self.mask_dir}"
        elif len(masks) > 1:
            problem = f"several masks for one image: {', '.join(masks)}; keep one"
        mask = masks[0] if len(masks) == 1 else None
        output_path = FileSystems.join(self.output_dir, stem + ".png")
        for index, image in enumerate(images):
            if index > 0:
                item_problem = (f"its output {output_path} is already the output of "
                                f"{images[0]} (same file stem); rename one of them")
            else:
                item_problem = problem or _undecodable(image, mask)
            if item_problem:
                yield beam.pvalue.TaggedOutput(
                    _FAILURES_TAG, failure_record("pairing", image, mask, item_problem))
            else:
                yield PhotoJob(image_path=image, mask_path=mask, output_path=output_path)


def _undecodable(*paths: str) -> Optional[str]:
    for path in paths:
        if _name_parts(path)[1] not in DECODABLE_EXTENSIONS:
            return (f"{path}: the SavedModel decodes {', '.join(DECODABLE_EXTENSIONS)} files "
                    "only; convert it to PNG")
    return None


def _read_file(path: str) -> bytes:
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        return handle.read()


class ReadPair(beam.DoFn):
    """`PhotoJob` → (job, (image bytes, mask bytes)); unreadable files go to the failures."""

    def process(self, job: PhotoJob):
        try:
            pair = (_read_file(job.image_path), _read_file(job.mask_path))
        except Exception as error:  # pylint: disable=broad-except
            # Any file-system error (missing, permission, network) is this photo's alone.
            yield beam.pvalue.TaggedOutput(_FAILURES_TAG, failure_record(
                "read", job.image_path, job.mask_path, f"{type(error).__name__}: {error}"))
            return
        yield job, pair


def write_atomically(path: str, data: bytes) -> None:
    """Writes `data` to `path` via a hidden temporary file in the same folder, then a rename.

    The rename replaces an existing file (a retried bundle writes the same bytes again). On a
    local disk the rename is atomic; object stores (GCS, S3) make an object visible only once
    it is complete. The temporary file is removed when anything fails.
    """
    directory, name = FileSystems.split(path)
    temporary = FileSystems.join(directory, f".{name}.tmp-{uuid.uuid4().hex[:12]}")
    try:
        with FileSystems.create(temporary, mime_type="image/png",
                                compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            handle.write(data)
        FileSystems.rename([temporary], [path])
    except BaseException:
        if FileSystems.exists(temporary):
            FileSystems.delete([temporary])
        raise


class WriteResult(beam.DoFn):
    """(job, PredictionResult) → writes the PNG; refusals and write errors go to the failures."""

    def setup(self):
        self.inpainted = Metrics.counter(METRICS_NAMESPACE, "photos_inpainted")
        self.milliseconds = Metrics.distribution(METRICS_NAMESPACE, "inpaint_milliseconds")

    def process(self, element):
        job, prediction = element
        outcome = prediction.inference
        self.milliseconds.update(int(round(outcome.seconds * 1000)))
        if outcome.error is not None:
            yield beam.pvalue.TaggedOutput(_FAILURES_TAG, failure_record(
                "inference", job.image_path, job.mask_path, outcome.error))
            return
        try:
            write_atomically(job.output_path, outcome.png)
        except Exception as error:  # pylint: disable=broad-except
            yield beam.pvalue.TaggedOutput(_FAILURES_TAG, failure_record(
                "write", job.image_path, job.mask_path, f"{type(error).__name__}: {error}"))
            return
        self.inpainted.inc()
        yield job.output_path


def _keyed_by_stem(paths, label: str):
    return (paths | f"Images{label}" >> beam.Filter(is_image_path)
            | f"Stem{label}" >> beam.Map(lambda path: (_name_parts(path)[0], path)))


def build_pipeline(pipeline: beam.Pipeline, config: BeamInpaintConfig,
                   saved_model_dir: Optional[str] = None):
    """Adds the inpainting stages to `pipeline`.

    Args:
        pipeline: a `beam.Pipeline` (its options pick the runner).
        config: the paths (see `BeamInpaintConfig`).
        saved_model_dir: the resolved SavedModel version folder; resolved from
            `config.saved_model` when None.

    Returns:
        (written output paths, failure records) as PCollections; the failures are also
        written to `config.resolved_failures_path`.
    """
    if saved_model_dir is None:
        saved_model_dir = resolve_saved_model(config.saved_model)
    image_paths = (pipeline | "MatchPhotos" >> fileio.MatchFiles(config.input_pattern)
                   | "PhotoPaths" >> beam.Map(lambda metadata: metadata.path))
    mask_paths = (pipeline | "MatchMasks" >> fileio.MatchFiles(
                      FileSystems.join(config.mask_dir, "*"))
                  | "MaskPaths" >> beam.Map(lambda metadata: metadata.path))
    paired = ({"images": _keyed_by_stem(image_paths, "Photos"),
               "masks": _keyed_by_stem(mask_paths, "Masks")}
              | "GroupByStem" >> beam.CoGroupByKey()
              | "PairByStem" >> beam.ParDo(PairByStem(config.mask_dir, config.output_dir))
              .with_outputs(_FAILURES_TAG, main="jobs"))
    read = paired.jobs | "Read" >> beam.ParDo(ReadPair()).with_outputs(_FAILURES_TAG,
                                                                       main="pairs")
    predictions = read.pairs | "Inpaint" >> RunInference(
        KeyedModelHandler(SavedModelInpaintHandler(saved_model_dir)))
    written = predictions | "Write" >> beam.ParDo(WriteResult()).with_outputs(_FAILURES_TAG,
                                                                              main="paths")
    failures = ((paired[_FAILURES_TAG], read[_FAILURES_TAG], written[_FAILURES_TAG])
                | "AllFailures" >> beam.Flatten())
    _ = (failures
         | "FailureLines" >> beam.Map(lambda record: json.dumps(record, sort_keys=True))
         | "WriteFailures" >> beam.io.WriteToText(config.resolved_failures_path, num_shards=1,
                                                  shard_name_template=""))
    return written.paths, failures


def check_inputs_exist(config: BeamInpaintConfig) -> None:
    """Fails at launch, not on the workers, when the photo pattern or the mask folder is empty.

    Raises:
        ValueError: nothing matches the pattern, or `mask_dir` holds no file.
    """
    for pattern, what in ((config.input_pattern, "photos"),
                          (FileSystems.join(config.mask_dir, "*"), "masks")):
        if not FileSystems.match([pattern], limits=[1])[0].metadata_list:
            raise ValueError(f"No {what}: nothing matches {pattern}; check the path (quote a "
                             "glob so that the shell does not expand it).")


def counters(result) -> Dict[str, int]:
    """The `crainpaint` counters of a finished run: inpainted, failures per stage, unused masks.

    Committed values where the runner reports them, else attempted ones.
    """
    totals = {"photos_inpainted": 0, "masks_unused": 0,
              **{f"failed_{stage}": 0 for stage in STAGES}}
    query = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))
    for counter in query["counters"]:
        name = counter.key.metric.name
        if name in totals:
            value = counter.committed if counter.committed is not None else counter.attempted
            totals[name] += int(value)
    return totals


def failed_count(totals: Dict[str, int]) -> int:
    """Photos that failed at any stage, from `counters`."""
    return sum(totals[f"failed_{stage}"] for stage in STAGES)


def run_pipeline(config: BeamInpaintConfig, options) -> Dict[str, int]:
    """Builds, runs and waits for the pipeline; returns `counters`.

    Args:
        config: the paths.
        options: `apache_beam.options.pipeline_options.PipelineOptions` (runner and its flags).
    """
    check_inputs_exist(config)
    saved_model_dir = resolve_saved_model(config.saved_model)
    pipeline = beam.Pipeline(options=options)
    build_pipeline(pipeline, config, saved_model_dir)
    result = pipeline.run()
    result.wait_until_finish()
    return counters(result)


def summary_lines(totals: Dict[str, int], config: BeamInpaintConfig) -> Iterable[str]:
    """Human-readable lines for the end of a run."""
    yield f"Inpainted {totals['photos_inpainted']} photos into {config.output_dir}"
    failed = failed_count(totals)
    if failed:
        per_stage = ", ".join(f"{stage} {totals['failed_' + stage]}" for stage in STAGES
                              if totals["failed_" + stage])
        yield f"{failed} failed ({per_stage}): see {config.resolved_failures_path}"
    if totals["masks_unused"]:
        yield f"{totals['masks_unused']} masks in {config.mask_dir} matched no photo"
