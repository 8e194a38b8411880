"""`compare`'s baseline rows, color-bias columns and protocol notes.

The metrics table shows, beside the runs, the floors every run must beat: the gray photo (do nothing) and
the mean-chroma colorizer (one constant color), read from the runs' own files: training validation
(``val/baseline_gray/*`` in metrics.json) and evaluation (``baselines`` and ``color`` in eval/metrics.json).
When the runs were scored on the same photos their baselines agree and show as one row each; otherwise
each run gets its own baseline rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from colorgan.report.protocols import PROTOCOLS
from colorgan.report.runs import EVAL_LABELS, TRAINING_COLUMNS, Run, _lookup, finite_float

#: the evaluation's color figures shown for each run: (key in eval/metrics.json "color", title, goal)
COLOR_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("colorfulness_abs", "eval CF abs", None),
    ("delta_colorfulness_abs", "eval ΔCF abs", "zero"),
    ("delta_a", "eval Δa*", "zero"),
    ("delta_b", "eval Δb*", "zero"),
    ("saturation_ratio", "eval saturation ratio", "one"),
    ("hue_overlap", "eval hue overlap", "max"),
)
BASELINE_LABELS = {"gray": "baseline: gray (do nothing)", "mean_chroma": "baseline: mean chroma"}
Column = tuple[str, list[float | None], str | None]


def _color(run: Run, method: str) -> dict[str, Any]:
    return ((run.evaluation or {}).get("color") or {}).get(method) or {}


def color_columns(runs: Sequence[Run]) -> list[Column]:
    """(title, value per run, goal) of the model's color figures, for columns at least one run has."""
    columns = []
    for key, title, goal in COLOR_COLUMNS:
        values = [finite_float(_color(run, "model").get(key)) for run in runs]
        if any(value is not None for value in values):
            columns.append((title, values, goal))
    return columns


def _training_source(source: str, method: str) -> str | None:
    """Where a training column's value for a baseline is logged (``final.val/X`` ->
    ``final.val/baseline_METHOD/X``); None when the column has no baseline counterpart."""
    if "/baseline_" in source:
        return source if f"/baseline_{method}/" in source else None
    if source.startswith("final.val/"):
        return source.replace("final.val/", f"final.val/baseline_{method}/", 1)
    return None


def baseline_value(run: Run, method: str, title: str) -> float | None:
    """The value of baseline ``method`` for column ``title`` in ``run``'s files (None when not recorded)."""
    for column_title, source, _ in TRAINING_COLUMNS:
        if column_title == title:
            baseline_source = _training_source(source, method)
            return finite_float(_lookup(run.summary, baseline_source)) if baseline_source else None
    evaluation = run.evaluation or {}
    for key, label in EVAL_LABELS.items():
        if title == f"eval {label}":
            return finite_float(((evaluation.get("baselines") or {}).get(method) or {}).get(key))
    for key, column_title, _ in COLOR_COLUMNS:
        if title == column_title:
            return finite_float(_color(run, method).get(key))
    return None


def _merge(vectors: list[list[float | None]]) -> list[float | None] | None:
    """One vector when the runs' baselines agree wherever both have a value (shown to 4 digits), else None."""
    merged: list[float | None] = [None] * len(vectors[0])
    for vector in vectors:
        for index, value in enumerate(vector):
            if value is None:
                continue
            if merged[index] is None:
                merged[index] = value
            elif not math.isclose(merged[index], value, rel_tol=5e-5, abs_tol=1e-9):
                return None
    return merged


def baseline_rows(runs: Sequence[Run], columns: Sequence[Column]) -> list[tuple[str, list[float | None]]]:
    """(row label, value per column) of the gray and mean-chroma baselines, for baselines some run has."""
    rows = []
    for method, label in BASELINE_LABELS.items():
        vectors = {run.label: [baseline_value(run, method, title) for title, _, _ in columns] for run in runs}
        vectors = {name: vector for name, vector in vectors.items() if any(v is not None for v in vector)}
        if not vectors:
            continue
        merged = _merge(list(vectors.values()))
        if merged is not None:
            rows.append((label, merged))
        else:  # different photos per run: each run's own floor
            rows += [(f"{label}, {name}", vector) for name, vector in vectors.items()]
    return rows


def protocol_notes(runs: Sequence[Run]) -> list[str]:
    """A note naming the evaluation protocol of the evaluated runs, and a warning when they differ."""
    protocols = {run.label: ((run.evaluation.get("protocol") or {}).get("name") or "full")
                 for run in runs if run.evaluation}
    if not protocols:
        return []
    names = sorted(set(protocols.values()))
    if len(names) == 1:
        return [f"eval columns: protocol {PROTOCOLS.get(names[0], names[0])}"]
    listed = ", ".join(f"{label}: {name}" for label, name in protocols.items())
    return [f"eval columns were measured under different protocols ({listed}): they do not compare"]
