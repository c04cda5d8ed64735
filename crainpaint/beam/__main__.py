"""Command line: inpaint a folder (or bucket) of photos with Apache Beam.

Run::

    python -m crainpaint.beam --input_pattern 'photos/*.jpg' --mask_dir masks \\
        --output_dir out --saved_model models/crainpaint [--runner DirectRunner] \\
        [any other Beam pipeline option]

The flags below are this program's; every other `--flag` goes to Beam's `PipelineOptions`
(runner, project, region, temp_location, ...). Writes `<output_dir>/<stem>.png` per photo and
the JSON-lines failures file; prints the run's counters. The exit status is the number of
failed photos (capped at 125), as for the `crainpaint` command's folder mode.
"""

import sys

from absl import app, flags

from crainpaint.batch import exit_status

FLAGS = flags.FLAGS


def _define_flags():
    flags.DEFINE_string("input_pattern", None, "Glob of the photos, e.g. 'photos/*.jpg' or "
                        "'gs://bucket/photos/*' (quote it so the shell does not expand it).")
    flags.DEFINE_string("mask_dir", None, "Folder of masks, paired with photos by file stem "
                        "(photos/a.jpg <-> masks/a.png); the hole convention is the export's.")
    flags.DEFINE_string("output_dir", None, "Folder for <stem>.png results (replaced if "
                        "present).")
    flags.DEFINE_string("saved_model", None, "`crainpaint.export --export_dir` folder (newest "
                        "version used) or one version folder.")
    flags.DEFINE_string("failures_path", None, "JSON-lines file of failed photos (image, mask, "
                        "stage, error). Default: <output_dir>/failures.jsonl.")
    for name in ("input_pattern", "mask_dir", "output_dir", "saved_model"):
        flags.mark_flag_as_required(name)


def _parse_known_flags(argv):
    """absl parses its own flags and leaves the rest (Beam's pipeline options) in the list."""
    try:
        return FLAGS(argv, known_only=True)
    except flags.Error as error:
        sys.stderr.write(f"{error}\nPass --helpfull for this program's flags.\n")
        sys.exit(1)


def main(argv):
    # Imported here so that --help works and answers quickly.
    from apache_beam.options.pipeline_options import PipelineOptions

    from crainpaint.beam.pipeline import (BeamInpaintConfig, failed_count, run_pipeline,
                                          summary_lines)
    try:
        config = BeamInpaintConfig(input_pattern=FLAGS.input_pattern, mask_dir=FLAGS.mask_dir,
                                   output_dir=FLAGS.output_dir, saved_model=FLAGS.saved_model,
                                   failures_path=FLAGS.failures_path)
    except ValueError as error:
        raise app.UsageError(str(error)) from None
    beam_arguments = argv[1:]
    options = PipelineOptions(beam_arguments)
    try:
        totals = run_pipeline(config, options)
    except ValueError as error:
        # Launch-time checks (no photos, no SavedModel) say what to fix; no traceback. Status 1
        # as the `crainpaint` command's folder mode gives a folder it cannot read.
        sys.stderr.write(f"crainpaint.beam: error: {error}\n")
        return exit_status(1)
    for line in summary_lines(totals, config):
        print(line)
    return exit_status(failed_count(totals))


if __name__ == "__main__":
    _define_flags()
    app.run(main, flags_parser=_parse_known_flags)
