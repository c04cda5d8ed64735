"""Summary tables of a quality evaluation: per-bin means, paired differences, markdown.

Pure Python and numpy over the per-sample records that ``experiments/evaluate.py`` computes
and stores in its JSON, so ``--report`` (and tests) can rebuild every table without running
a model. A sample record is::

    {"bin": "10-20%",
     "results": {resolution: {method: {metric: value, ...} or {"skipped": reason}}},
     "ground_truth": {resolution: {metric: value}}}   # optional: the photo's own scores

The metrics are defined in ``experiments/evaluate.py``'s docstring; the texture ones come
from ``crainpaint.evaluation.texture``.
"""

import math

import numpy as np

ALL_BINS = "all"
RESOLUTIONS = ("own", "square")
GROUND_TRUTH = "ground_truth"
# Per-sample metrics of every method, in the order of the tables.
METRICS = ("l1", "psnr", "ms_ssim", "texture_ratio", "texture_energy", "swd", "seconds")
# Metrics the ground truth itself gets a row for (the others are trivial: 0, inf, 1, 1, 0).
GROUND_TRUTH_METRICS = ("texture_ratio",)
METRIC_TITLES = {
    "l1": "in-hole L1 (0-255, lower is better)",
    "psnr": "PSNR, whole image (dB, higher is better)",
    "ms_ssim": "MS-SSIM, whole image (higher is better)",
    "texture_ratio": "texture ratio, Laplacian energy in the hole's core / in the context ring "
                     "(no reference: a photo is near 1, a flat fill 0)",
    "texture_energy": "texture energy, Laplacian energy in the hole's core / the ground "
                      "truth's (1 = the truth's amount of detail, 0 = flat)",
    "swd": "Laplacian-pyramid sliced Wasserstein distance x1e3 to the ground truth's hole "
           "(lower is better)",
    "seconds": "seconds per image (fill only, after one warm-up call)",
    "fid": "FID vs the ground truth (Keras InceptionV3 pool features, lower is better)",
    "is": "Inception Score (higher is better)",
}
METRIC_FORMATS = {"l1": "{:.2f}", "psnr": "{:.2f}", "ms_ssim": "{:.4f}",
                  "texture_ratio": "{:.3f}", "texture_energy": "{:.3f}", "swd": "{:.1f}",
                  "seconds": "{:.2f}", "fid": "{:.2f}", "is": "{:.2f}"}
# The paired comparison behind the model card's target: crainpaint minus each OpenCV baseline
# at the photos' own resolution, sample by sample (same photo, same mask), for each of these
# metrics (both lower is better).
PAIRED_METHOD = "crainpaint"
PAIRED_BASELINES = ("telea", "navier_stokes")
PAIRED_METRICS = ("l1", "swd")
PAIRED_TITLES = {"l1": "in-hole L1", "swd": "Laplacian SWD (x1e3)"}
PAIRED_FORMATS = {"l1": "{:+.2f}", "swd": "{:+.1f}"}
PAIRED_ERROR_FORMATS = {"l1": "{:.2f}", "swd": "{:.1f}"}


def json_ready(value):
    """``value`` with numpy scalars made Python numbers, NaN made null and ±inf made the
    strings "inf" / "-inf", so that strict JSON can hold it."""
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def finite_mean(values):
    """The mean of the values that are neither None nor NaN; NaN when none is."""
    finite = [value for value in values if value is not None and not math.isnan(value)]
    return float(np.mean(finite)) if finite else math.nan


def summarize(samples, methods, bins):
    """summary[resolution][metric][method][bin] = {"mean", "n", "skipped"}; bins + "all".

    ``n`` counts the scored results that hold the metric (a JSON from before a metric existed
    has none); the mean leaves NaN out (an MS-SSIM of a tiny image, the texture ratio of a
    hole too thin to have a core), and is NaN when every value is. For the metrics of
    ``GROUND_TRUTH_METRICS`` a "ground_truth" row holds the photos' own scores, when the
    samples have them.
    """
    summary = {}
    for resolution in RESOLUTIONS:
        summary[resolution] = {}
        for metric in METRICS:
            table = summary[resolution][metric] = {}
            for method in methods:
                table[method] = {}
                for bin_name in list(bins) + [ALL_BINS]:
                    chosen = [sample["results"][resolution][method] for sample in samples
                              if bin_name in (ALL_BINS, sample["bin"])]
                    scored = [result for result in chosen if "skipped" not in result]
                    values = [result[metric] for result in scored if metric in result]
                    table[method][bin_name] = {"mean": finite_mean(values), "n": len(values),
                                               "skipped": len(chosen) - len(scored)}
            if metric not in GROUND_TRUTH_METRICS:
                continue
            if not any(metric in sample.get(GROUND_TRUTH, {}).get(resolution, {})
                       for sample in samples):
                continue
            table[GROUND_TRUTH] = {}
            for bin_name in list(bins) + [ALL_BINS]:
                values = [sample.get(GROUND_TRUTH, {}).get(resolution, {}).get(metric)
                          for sample in samples if bin_name in (ALL_BINS, sample["bin"])]
                values = [value for value in values if value is not None]
                table[GROUND_TRUTH][bin_name] = {"mean": finite_mean(values), "n": len(values),
                                                 "skipped": 0}
    return summary


def paired_differences(samples, method, baselines, bins, resolution="own", metric="l1"):
    """``method`` minus each baseline, sample by sample (same photo, same mask), per bin + all.

    Returns {baseline: {bin: {"mean", "standard_error", "n", "wins"}}}: the mean difference,
    its standard error (sample standard deviation / sqrt(n); NaN below 2 samples), the number
    of samples where both were scored, and ``wins``, how many of them ``method`` scores lower
    (better, for L1 and SWD). Samples are treated as independent: with several masks per photo
    they are not quite, and the standard error is then optimistic. Baselines or a method that
    were not run are left out.
    """
    ran = {name for sample in samples for name in sample["results"].get(resolution, {})}
    if method not in ran:
        return {}
    table = {}
    for baseline in baselines:
        if baseline not in ran:
            continue
        table[baseline] = {}
        for bin_name in list(bins) + [ALL_BINS]:
            differences = []
            for sample in samples:
                if bin_name not in (ALL_BINS, sample["bin"]):
                    continue
                results = sample["results"][resolution]
                ours, theirs = results.get(method, {}), results.get(baseline, {})
                if "skipped" in ours or "skipped" in theirs:
                    continue
                pair = ours.get(metric), theirs.get(metric)
                if None in pair or not all(map(math.isfinite, pair)):
                    continue
                differences.append(pair[0] - pair[1])
            count = len(differences)
            mean = float(np.mean(differences)) if count else math.nan
            error = (float(np.std(differences, ddof=1) / math.sqrt(count)) if count >= 2
                     else math.nan)
            table[baseline][bin_name] = {"mean": mean, "standard_error": error, "n": count,
                                         "wins": int(sum(value < 0 for value in differences))}
    return table


def paired_comparisons(samples, bins, method=PAIRED_METHOD, baselines=PAIRED_BASELINES,
                       metrics=PAIRED_METRICS):
    """{metric: ``paired_differences`` of that metric} at the own resolution."""
    return {metric: paired_differences(samples, method, baselines, bins, metric=metric)
            for metric in metrics}


def paired_table(paired, bins, method=PAIRED_METHOD, metric="l1"):
    """The markdown table of ``paired_differences`` of ``metric`` (own resolution).

    "" when nothing was compared (no baseline ran, or no sample has the metric).
    """
    columns = list(bins) + [ALL_BINS]
    if not any(entry.get("n", 0) for row in paired.values() for entry in row.values()):
        return ""
    value_format = PAIRED_FORMATS.get(metric, "{:+.3g}")
    error_format = PAIRED_ERROR_FORMATS.get(metric, "{:.3g}")
    lines = [f"### {method} minus baseline, {PAIRED_TITLES.get(metric, metric)}, own "
             f"resolution (mean ± standard error; {method} lower in k of n samples)", "",
             "| baseline | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for baseline, row in paired.items():
        cells = []
        for column in columns:
            entry = row.get(column, {"n": 0})
            if entry["n"] == 0:
                cells.append("–")
                continue
            error = ("" if math.isnan(entry["standard_error"])
                     else " ± " + error_format.format(entry["standard_error"]))
            cells.append(value_format.format(entry["mean"]) + error
                         + f" ({entry['wins']}/{entry['n']})")
        lines.append(f"| {baseline} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def paired_tables(comparisons, bins, method=PAIRED_METHOD):
    """The ``paired_table`` of every metric of ``paired_comparisons``, blank-line separated."""
    tables = [paired_table(paired, bins, method, metric)
              for metric, paired in comparisons.items()]
    return "\n\n".join(table for table in tables if table)


def markdown_tables(summary, methods, bins, square_size=512):
    """One markdown table per metric and resolution: rows = methods, columns = bins + all."""
    columns = list(bins) + [ALL_BINS]
    titles = {"own": "own resolution", "square": f"{square_size}x{square_size}"}
    blocks = []
    for resolution in RESOLUTIONS:
        for metric, table in summary[resolution].items():
            rows = [name for name in list(methods) + [GROUND_TRUTH] if name in table]
            lines = [f"### {METRIC_TITLES.get(metric, metric)}, {titles[resolution]}", "",
                     "| method | " + " | ".join(columns) + " |",
                     "|---|" + "---|" * len(columns)]
            for name in rows:
                cells = []
                for column in columns:
                    entry = table[name].get(column, {"mean": math.nan, "n": 0})
                    skipped, count = entry.get("skipped", 0), entry["n"]
                    if count == 0 and skipped:
                        cells.append("skipped")
                    elif count == 0:
                        cells.append("–")
                    elif math.isnan(entry["mean"]):
                        cells.append(f"n/a (n={count})")
                    else:
                        cell = METRIC_FORMATS.get(metric, "{:.4g}").format(entry["mean"])
                        cells.append(cell + (f" ({count}/{count + skipped})" if skipped else ""))
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
