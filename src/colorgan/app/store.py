"""The study store: blind-test trials and votes in one SQLite file (WAL mode) in the study folder.

Every vote is committed when cast, in the same transaction that clears the rater's pending trial, so a
killed server loses nothing and each rater resumes at the trial they were shown. Several raters (and
several server processes) can write at once; one connection per operation keeps handler threads apart.
A rater never gets the same trial twice (``UNIQUE(rater, test, trial)``).
"""

from __future__ import annotations

import logging
import random
import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from colorgan.app.stats import REAL, TESTS, Vote
from colorgan.errors import UserError

log = logging.getLogger(__name__)

DB_NAME = "study.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    name TEXT PRIMARY KEY, checkpoint TEXT NOT NULL, fingerprint TEXT NOT NULL, added_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS photos (name TEXT PRIMARY KEY, source TEXT NOT NULL, added_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS assignments (
    rater TEXT NOT NULL, test TEXT NOT NULL, token TEXT NOT NULL, trial TEXT NOT NULL, photo TEXT NOT NULL,
    left TEXT NOT NULL, right TEXT NOT NULL, served_at REAL NOT NULL, PRIMARY KEY (rater, test));
CREATE TABLE IF NOT EXISTS votes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, rater TEXT NOT NULL, test TEXT NOT NULL, trial TEXT NOT NULL,
    photo TEXT NOT NULL, left TEXT NOT NULL, right TEXT NOT NULL,
    choice TEXT NOT NULL CHECK (choice IN ('left', 'right', 'tie')), seconds REAL, cast_at REAL NOT NULL,
    UNIQUE (rater, test, trial));
"""
MAX_NAME = 40


class StaleTrial(UserError):
    """The vote is for a trial that is no longer this rater's pending one (another tab voted first)."""


@dataclass(frozen=True)
class Trial:
    """One blind comparison: ``items`` are 'real' and a run (test 'real') or two runs (test 'better')."""

    test: str
    photo: str
    items: tuple[str, str]

    @property
    def key(self) -> str:
        return "\t".join((self.photo, *sorted(self.items)))


@dataclass(frozen=True)
class Assignment:
    """A trial as shown to one rater: what is on the left and right, and the token the page holds."""

    rater: str
    test: str
    token: str
    trial: str
    photo: str
    left: str
    right: str


def real_trials(photos: Sequence[str], runs: Sequence[str]) -> list[Trial]:
    """Every (photo, run) pair: the real photo against the run's colorization of it."""
    return [Trial("real", photo, (REAL, run)) for photo in photos for run in runs]


def better_trials(photos: Sequence[str], runs: Sequence[str]) -> list[Trial]:
    """Every photo with every pair of runs."""
    ordered = sorted(runs)
    return [Trial("better", photo, (a, b)) for photo in photos
            for i, a in enumerate(ordered) for b in ordered[i + 1 :]]


def clean_rater(name: str | None) -> str:
    """A rater's name, trimmed; refuses empty and overlong names."""
    name = " ".join((name or "").split())
    if not name:
        raise UserError("enter your name first (it keeps your votes apart from other raters')")
    if len(name) > MAX_NAME:
        raise UserError(f"names are limited to {MAX_NAME} characters")
    return name


class StudyStore:
    """Trials, pending assignments and votes of one study folder's ``study.sqlite``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / DB_NAME
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30.0, isolation_level=None)) as db:
            db.execute("PRAGMA synchronous=FULL")  # a committed vote survives a crash of the machine too
            db.execute("PRAGMA busy_timeout=30000")
            yield db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # ---- runs and photos ----------------------------------------------------------------------
    def register_run(self, name: str, checkpoint: str, fingerprint: str) -> None:
        """Record a run; refuses a run name that this study knows from a different checkpoint."""
        with self._write() as db:
            row = db.execute("SELECT checkpoint, fingerprint FROM runs WHERE name = ?", (name,)).fetchone()
            if row is None:
                db.execute("INSERT INTO runs VALUES (?, ?, ?, ?)",
                           (name, checkpoint, fingerprint, time.time()))
            elif row[1] != fingerprint:
                raise UserError(f"this study already holds a run named {name!r} from another checkpoint "
                                f"({row[0]}); start a new study folder (--study DIR) for the new run")

    def register_photo(self, name: str, source: str) -> None:
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO photos VALUES (?, ?, ?)", (name, source, time.time()))

    # ---- trials -------------------------------------------------------------------------------
    def _voted(self, db: sqlite3.Connection, rater: str, test: str) -> set[str]:
        rows = db.execute("SELECT trial FROM votes WHERE rater = ? AND test = ?", (rater, test))
        return {trial for (trial,) in rows}

    def progress(self, rater: str, test: str, trials: Sequence[Trial]) -> tuple[int, int]:
        """(trials of ``trials`` this rater has voted on, len(trials))."""
        keys = {trial.key for trial in trials}
        with self._connect() as db:
            return len(self._voted(db, rater, test) & keys), len(keys)

    def next_trial(self, rater: str, test: str, trials: Sequence[Trial],
                   rng: random.Random | None = None) -> Assignment | None:
        """The rater's pending trial, else a random one not yet voted on (sides random); None when done."""
        if test not in TESTS:
            raise ValueError(f"unknown test {test!r}: expected one of {sorted(TESTS)}")
        rater = clean_rater(rater)
        rng = rng or random.SystemRandom()
        by_key = {trial.key: trial for trial in trials}
        with self._write() as db:
            row = db.execute("SELECT token, trial, photo, left, right FROM assignments "
                             "WHERE rater = ? AND test = ?", (rater, test)).fetchone()
            voted = self._voted(db, rater, test)
            if row is not None and row[1] in by_key and row[1] not in voted:
                return Assignment(rater, test, *row)
            remaining = sorted(set(by_key) - voted)
            if not remaining:
                db.execute("DELETE FROM assignments WHERE rater = ? AND test = ?", (rater, test))
                return None
            trial = by_key[rng.choice(remaining)]
            left, right = rng.sample(trial.items, 2)
            assignment = Assignment(rater, test, secrets.token_hex(8), trial.key, trial.photo, left, right)
            db.execute("INSERT OR REPLACE INTO assignments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (rater, test, assignment.token, trial.key, trial.photo, left, right, time.time()))
            return assignment

    def vote(self, rater: str, test: str, token: str, choice: str) -> Vote:
        """Record the rater's choice (left | right | tie) on the pending trial the page holds (``token``)."""
        rater = clean_rater(rater)
        if choice not in ("left", "right", "tie") or (choice == "tie" and test == "real"):
            raise ValueError(f"invalid choice {choice!r} for test {test!r}")
        with self._write() as db:
            row = db.execute("SELECT token, trial, photo, left, right, served_at FROM assignments "
                             "WHERE rater = ? AND test = ?", (rater, test)).fetchone()
            if row is None or row[0] != token:
                raise StaleTrial("this trial is no longer yours to vote on (answered in another tab?); "
                                 "showing your current one")
            _, trial, photo, left, right, served_at = row
            now = time.time()
            db.execute("INSERT INTO votes (rater, test, trial, photo, left, right, choice, seconds, cast_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (rater, test, trial, photo, left, right, choice, now - served_at, now))
            db.execute("DELETE FROM assignments WHERE rater = ? AND test = ?", (rater, test))
        log.info("vote: %s %s %s -> %s", rater, test, trial.replace("\t", " "), choice)
        return Vote(rater, test, photo, left, right, choice)

    # ---- reading ------------------------------------------------------------------------------
    def votes(self) -> list[Vote]:
        """Every vote cast, oldest first."""
        with self._connect() as db:
            rows = db.execute("SELECT rater, test, photo, left, right, choice FROM votes ORDER BY id")
            return [Vote(*row) for row in rows]

    def raters(self) -> list[str]:
        with self._connect() as db:
            return [name for (name,) in db.execute("SELECT DISTINCT rater FROM votes ORDER BY rater")]


def open_study(folder: str | Path) -> StudyStore:
    """An existing study folder's store (for reading results); refuses a folder without a study."""
    folder = Path(folder).expanduser()
    if not (folder / DB_NAME).is_file():
        raise UserError(f"{folder} is not a study folder (no {DB_NAME}); the app makes one with --study DIR")
    return StudyStore(folder)
