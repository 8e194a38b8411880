"""What evaluate and compare report: run directories read, figures, tables, and per-photo scores.

The commands themselves (`colorgan.evaluate`, `colorgan.compare`) only put these together.
"""

from __future__ import annotations

from colorgan.report.runs import Run, differing_keys, find_run_dirs, label_runs, read_run

__all__ = ["Run", "differing_keys", "find_run_dirs", "label_runs", "read_run"]
