"""The local web app: colorize, compare and blind-test runs (`python -m colorgan.app RUN ...`).

Three layers, kept apart so the store and the statistics are tested without a browser:

- `stats`: Wilson 95% intervals and the results table (per run, per pair, per photo; CSV).
- `store`: the study's SQLite file (WAL): trials, each rater's pending trial, votes committed when cast.
- `study`: the runs (`colorgan.inference.Colorizer`, metrics from `colorgan.report.runs`), photos read
  safely, the blind tests' cached images; `ui`: the Gradio page (imported only when serving), its Hints
  tab in `hints_tab`.
"""

from pathlib import Path

from colorgan.app.stats import ResultRow, Section, Vote, report_section, summarize, wilson_interval
from colorgan.app.store import StudyStore, open_study

__all__ = ["ResultRow", "Section", "StudyStore", "Vote", "open_study", "study_section", "summarize",
           "wilson_interval"]


def study_section(folder: str | Path) -> Section:
    """A study folder's blind-test results as a report section (for `compare --study DIR`)."""
    return report_section(open_study(folder).votes())
