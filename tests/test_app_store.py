"""The app's study store, statistics, photo checks and `results` command (no browser, no Gradio)."""

from __future__ import annotations

import csv
import io
import random
import sqlite3
import struct
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorgan.app.__main__ import main as app_main
from colorgan.app.stats import Vote, format_table, summarize, to_csv, wilson_interval
from colorgan.app.store import StaleTrial, StudyStore, better_trials, open_study, real_trials
from colorgan.app.study import open_photo
from colorgan.errors import UserError

PHOTOS = ["cat", "dog", "sea"]
RUNS = ["lab", "yuv"]


def test_wilson_interval_matches_reference_values():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    narrow = wilson_interval(500, 1000)
    assert narrow[1] - narrow[0] < high - low  # more votes, narrower interval
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_summarize_fooling_rate_wins_and_ties():
    votes = [
        Vote("ann", "real", "cat", "real", "lab", "right"),  # picked lab as real: fooled
        Vote("ann", "real", "dog", "lab", "real", "right"),  # picked the real one
        Vote("bob", "real", "cat", "yuv", "real", "right"),
        Vote("ann", "better", "cat", "yuv", "lab", "right"),  # lab wins
        Vote("bob", "better", "cat", "lab", "yuv", "left"),  # lab wins
        Vote("bob", "better", "dog", "lab", "yuv", "tie"),
    ]
    rows = {(row.test, row.measure, row.subject): row for row in summarize(votes)}
    lab = rows["real", "fooling rate", "lab"]
    assert (lab.k, lab.n, lab.rate) == (1, 2, 0.5)
    assert (lab.ci_low, lab.ci_high) == pytest.approx(wilson_interval(1, 2))
    assert rows["real", "fooling rate", "yuv"].k == 0
    pair = rows["better", "first preferred", "lab vs yuv"]
    assert (pair.k, pair.n, pair.ties, pair.rate) == (2, 2, 1, 1.0)
    assert rows["better", "win rate", "yuv"].rate == 0.0
    per_photo = {(row.test, row.subject, row.photo): row for row in summarize(votes, by_photo=True)}
    assert per_photo["real", "lab", "cat"].rate == 1.0 and per_photo["real", "lab", "dog"].rate == 0.0
    assert per_photo["better", "lab vs yuv", "dog"].rate is None
    assert per_photo["better", "lab vs yuv", "dog"].ties == 1
    text = format_table(summarize(votes))
    assert "fooling rate" in text and "50.0%" in text and "lab vs yuv" in text
    parsed = list(csv.DictReader(io.StringIO(to_csv(summarize(votes)))))
    assert parsed[0]["test"] == "real" and float(parsed[0]["rate"]) == 0.5


def test_trials_cover_every_photo_run_and_pair():
    assert len(real_trials(PHOTOS, RUNS)) == 6
    assert len(better_trials(PHOTOS, ["a", "b", "c"])) == 9
    assert better_trials(PHOTOS, ["solo"]) == []


def test_each_rater_gets_every_trial_once_and_votes_persist(tmp_path: Path):
    store = StudyStore(tmp_path)
    trials = real_trials(PHOTOS, RUNS)
    rng = random.Random(0)
    seen = []
    while (assignment := store.next_trial("ann", "real", trials, rng)) is not None:
        assert store.next_trial("ann", "real", trials, rng) == assignment  # pending until answered
        assert "real" in (assignment.left, assignment.right)
        store.vote("ann", "real", assignment.token, "left")
        seen.append(assignment.trial)
        # committed when cast: another connection sees it at once
        with sqlite3.connect(store.path) as other:
            assert other.execute("SELECT COUNT(*) FROM votes").fetchone()[0] == len(seen)
    assert sorted(seen) == sorted(trial.key for trial in trials)  # no repeats, nothing missed
    assert store.progress("ann", "real", trials) == (6, 6)
    assert store.progress("bob", "real", trials) == (0, 6)  # raters are independent
    assert store.next_trial("bob", "real", trials) is not None
    with sqlite3.connect(store.path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_restarted_store_resumes_the_pending_trial_and_refuses_stale_votes(tmp_path: Path):
    trials = better_trials(PHOTOS, RUNS)
    first = StudyStore(tmp_path).next_trial("ann", "better", trials)
    reopened = StudyStore(tmp_path)  # a killed and restarted server
    assert reopened.next_trial("ann", "better", trials) == first
    with pytest.raises(StaleTrial):
        reopened.vote("ann", "better", "not-the-token", "left")
    vote = reopened.vote("ann", "better", first.token, "tie")
    assert vote.picked is None and reopened.votes() == [vote]
    with pytest.raises(StaleTrial):  # the same trial cannot be answered twice (a second tab)
        reopened.vote("ann", "better", first.token, "left")
    with pytest.raises(ValueError):
        reopened.vote("ann", "real", "x", "tie")  # "can't tell" only in "which looks better?"
    with pytest.raises(UserError, match="name"):
        reopened.next_trial("  ", "better", trials)


def test_several_raters_voting_at_once_lose_nothing(tmp_path: Path):
    store = StudyStore(tmp_path)
    trials = real_trials(PHOTOS, RUNS)
    errors: list[BaseException] = []

    def rater(name: str) -> None:
        try:
            while (assignment := store.next_trial(name, "real", trials)) is not None:
                store.vote(name, "real", assignment.token, "right")
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=rater, args=(f"rater{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(store.votes()) == 4 * len(trials)
    assert store.raters() == [f"rater{i}" for i in range(4)]


def test_a_run_name_keeps_its_checkpoint(tmp_path: Path):
    store = StudyStore(tmp_path)
    store.register_run("lab", "a.ckpt", "111")
    store.register_run("lab", "a.ckpt", "111")  # the same run again: fine
    with pytest.raises(UserError, match="another checkpoint"):
        store.register_run("lab", "b.ckpt", "222")


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that claims width×height pixels (a decompression bomb's header) with no real data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def test_open_photo_refuses_bombs_non_images_and_big_files(tmp_path: Path):
    with pytest.raises(UserError, match="megapixels"):
        open_photo(png_header_only(tmp_path / "bomb.png", 100_000, 100_000))
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(UserError, match="not an image"):
        open_photo(tmp_path / "notes.png")
    good = tmp_path / "good.png"
    Image.fromarray(np.full((20, 30, 3), 128, np.uint8)).save(good)
    assert open_photo(good).size == (30, 20)
    with pytest.raises(UserError, match="MB"):
        open_photo(good, max_mb=1e-6)
    with pytest.raises(UserError, match="megapixels"):
        open_photo(good, max_pixels=100)


def _study_with_votes(folder: Path) -> Path:
    store = StudyStore(folder)
    trials = real_trials(["cat"], RUNS)
    for name, choice in (("ann", "left"), ("bob", "right")):
        while (assignment := store.next_trial(name, "real", trials, random.Random(1))) is not None:
            store.vote(name, "real", assignment.token, choice)
    return folder


def test_results_command_prints_the_table_and_csv(tmp_path: Path, capsys):
    study = _study_with_votes(tmp_path / "study")
    with pytest.raises(SystemExit) as exit_info:
        app_main(["results", str(study)])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "fooling rate" in out and "95% interval" in out and "lab" in out and "yuv" in out
    with pytest.raises(SystemExit):
        app_main(["results", str(study), "--csv", "--by-photo"])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {row["subject"] for row in rows} == set(RUNS) and {row["photo"] for row in rows} == {"cat"}
    assert sum(int(row["n"]) for row in rows) == len(open_study(study).votes()) == 4
    with pytest.raises(SystemExit) as exit_info:
        app_main(["results", str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2
    assert "not a study folder" in capsys.readouterr().err


def test_compare_report_gets_the_study_section(tmp_path: Path):
    from colorgan.app import study_section
    from colorgan.compare import parse_args
    from colorgan.report.render import render_html, render_markdown

    study = _study_with_votes(tmp_path / "study")
    assert parse_args(["runs/", "--study", str(study)]).study == study
    section = study_section(study)
    page = render_html([], [], [], None, [], [section])
    assert "<h2>Blind tests</h2>" in page and "fooling rate" in page and "Wilson" in page
    assert "| Real or colorized? | fooling rate | lab |" in render_markdown([], [], [], None, [], [section])
    with pytest.raises(UserError, match="not a study folder"):
        study_section(tmp_path)


def test_newest_run_is_the_latest_checkpoint(tmp_path: Path):
    from colorgan.app.__main__ import newest_run

    with pytest.raises(UserError, match="make train"):
        newest_run(tmp_path)
    for name in ("2026-01-01_00-00-00", "2026-02-01_00-00-00/stage2"):
        folder = tmp_path / "train" / "runs" / name / "checkpoints"
        folder.mkdir(parents=True)
        (folder / "last.ckpt").write_bytes(b"x")
        time.sleep(0.01)
    assert newest_run(tmp_path) == tmp_path / "train" / "runs" / "2026-02-01_00-00-00"
