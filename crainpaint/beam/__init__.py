"""Batch inpainting on Apache Beam: the exported SavedModel inside `RunInference`.

`python -m crainpaint.beam --input_pattern 'photos/*.jpg' --mask_dir masks --output_dir out
--saved_model models/crainpaint` runs on the DirectRunner by default; any Beam pipeline option
(`--runner DataflowRunner --project ...`) is passed through. See docs/beam.md.

Needs the `beam` extra (`pip install -e ".[beam]"`, part of `make install`).
"""

try:
    import apache_beam  # noqa: F401
except ImportError as error:
    raise ImportError("crainpaint.beam needs Apache Beam: install the beam extra with "
                      "`pip install -c constraints.txt -e \".[beam]\"` (make install does).") \
        from error

from crainpaint.beam.handler import (InpaintOutcome, LoadedInpainter, SavedModelInpaintHandler,
                                     resolve_saved_model)
from crainpaint.beam.pipeline import (BeamInpaintConfig, PhotoJob, build_pipeline, counters,
                                      failed_count, run_pipeline)

__all__ = ["BeamInpaintConfig", "InpaintOutcome", "LoadedInpainter", "PhotoJob",
           "SavedModelInpaintHandler", "build_pipeline", "counters", "failed_count",
           "resolve_saved_model", "run_pipeline"]
