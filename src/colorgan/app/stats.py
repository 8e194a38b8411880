"""Blind-test statistics: rates with Wilson 95% intervals, per run, per pair and per photo.

*Real or colorized?* gives a **fooling rate** per run: the share of trials in which the rater picked the
colorized photo as the real one (50% = indistinguishable from real, 0% = always spotted).
*Which looks better?* gives, per pair A vs B, the share of decisive votes (not "can't tell") for A, and per
run its **win rate** over all its decisive comparisons; ties are counted beside, never as half a win.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields

#: z for a two-sided 95% interval
Z95 = 1.959963984540054
REAL = "real"
#: the two blind tests: database key -> title shown to people
TESTS = {"real": "Real or colorized?", "better": "Which looks better?"}
ALL_PHOTOS = "(all)"


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion; (0, 1) when there are no trials."""
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must lie in [0, {trials}], got {successes}")
    p = successes / trials
    z2 = z * z
    denominator = 1.0 + z2 / trials
    center = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, center - half), min(1.0, center + half)


@dataclass(frozen=True)
class Vote:
    """One cast vote as stored: ``left``/``right`` name what was shown ('real' or a run name)."""

    rater: str
    test: str
    photo: str
    left: str
    right: str
    choice: str  # left | right | tie

    @property
    def picked(self) -> str | None:
        """The shown item the rater chose, None for "can't tell"."""
        return {"left": self.left, "right": self.right}.get(self.choice)


@dataclass(frozen=True)
class ResultRow:
    """One line of the results table: ``k`` of ``n`` trials, the rate k/n and its Wilson 95% interval."""

    test: str
    measure: str
    subject: str
    photo: str
    k: int
    n: int
    ties: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None

    @classmethod
    def of(cls, test: str, measure: str, subject: str, photo: str, k: int, n: int,
           ties: int = 0) -> ResultRow:
        low, high = wilson_interval(k, n) if n else (None, None)
        return cls(test, measure, subject, photo, k, n, ties, k / n if n else None, low, high)


HEADER = [field.name for field in fields(ResultRow)]


def _pair(vote: Vote) -> tuple[str, str]:
    first, second = sorted((vote.left, vote.right))
    return first, second


def _real_rows(votes: list[Vote], by_photo: bool) -> list[ResultRow]:
    counts: dict[tuple[str, str], list[int]] = {}
    for vote in votes:
        run = vote.right if vote.left == REAL else vote.left
        key = (run, vote.photo if by_photo else ALL_PHOTOS)
        tally = counts.setdefault(key, [0, 0])
        tally[0] += vote.picked == run  # fooled: the colorized one was taken for the real photo
        tally[1] += 1
    return [ResultRow.of("real", "fooling rate", run, photo, k, n)
            for (run, photo), (k, n) in sorted(counts.items())]


def _better_rows(votes: list[Vote], by_photo: bool) -> list[ResultRow]:
    pairs: dict[tuple[str, str, str], list[int]] = {}  # (a, b, photo) -> [a wins, b wins, ties]
    runs: dict[tuple[str, str], list[int]] = {}  # (run, photo) -> [wins, decisive, ties]
    for vote in votes:
        first, second = _pair(vote)
        photo = vote.photo if by_photo else ALL_PHOTOS
        tally = pairs.setdefault((first, second, photo), [0, 0, 0])
        picked = vote.picked
        tally[0 if picked == first else 1 if picked == second else 2] += 1
        for run in (first, second):
            mine = runs.setdefault((run, photo), [0, 0, 0])
            if picked is None:
                mine[2] += 1
            else:
                mine[0] += picked == run
                mine[1] += 1
    rows = [ResultRow.of("better", "win rate", run, photo, wins, n, ties)
            for (run, photo), (wins, n, ties) in sorted(runs.items())]
    rows += [ResultRow.of("better", "first preferred", f"{a} vs {b}", photo, wins_a, wins_a + wins_b, ties)
             for (a, b, photo), (wins_a, wins_b, ties) in sorted(pairs.items())]
    return rows


def summarize(votes: Iterable[Vote], by_photo: bool = False) -> list[ResultRow]:
    """The results table of all votes: per run (and per pair); per run and photo when ``by_photo``."""
    votes = list(votes)
    real = [vote for vote in votes if vote.test == "real"]
    better = [vote for vote in votes if vote.test == "better"]
    return _real_rows(real, by_photo) + _better_rows(better, by_photo)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def display_rows(rows: Sequence[ResultRow]) -> tuple[list[str], list[list[str | int]]]:
    """(header, rows) for people: the rate and its interval in percent."""
    header = ["test", "measure", "run / pair", "photo", "rate", "95% interval", "k", "n", "can't tell"]
    table = [[TESTS.get(row.test, row.test), row.measure, row.subject, row.photo, _percent(row.rate),
              "–" if row.rate is None else f"{_percent(row.ci_low)} – {_percent(row.ci_high)}",
              row.k, row.n, row.ties] for row in rows]
    return header, table


def format_table(rows: Sequence[ResultRow]) -> str:
    """A plain-text table (the `results` command's output)."""
    if not rows:
        return "no votes yet"
    header, table = display_rows(rows)
    cells = [header, *[[str(cell) for cell in line] for line in table]]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
             for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def to_csv(rows: Sequence[ResultRow]) -> str:
    """The results as CSV text (rates and bounds as fractions, empty when there is no trial)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(["" if value is None else (f"{value:.6f}" if isinstance(value, float) else value)
                         for value in astuple(row)])
    return buffer.getvalue()


#: what `compare --study` adds to its report: (title, explanation, header, rows)
Section = tuple[str, str, list[str], list[list[str]]]
EXPLANATION = ("People's votes in the app's blind tests (python -m colorgan.app ... --study DIR). "
               "Real or colorized?: fooling rate = share of trials where the colorized photo was taken for "
               "the real one (50% = indistinguishable). Which looks better?: share of decisive votes won, "
               "'can't tell' counted apart. Interval: Wilson 95%; n: trials.")


def report_section(votes: Iterable[Vote]) -> Section:
    """The blind-test results as a report section (header and text rows)."""
    header, rows = display_rows(summarize(votes))
    return "Blind tests", EXPLANATION, header, [[str(cell) for cell in row] for row in rows]
