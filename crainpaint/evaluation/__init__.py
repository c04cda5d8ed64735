"""Evaluation measures that need no trained network: texture statistics of a fill
(``texture``), the attention diagnostics of the CRA, and the summary tables of a quality
evaluation (``report``). ``experiments/evaluate.py`` and ``experiments/remove_objects.py`` are
the command-line front ends."""
