"""The app in a real browser: headless Chromium (Debian's package) driven by Playwright.

Colorize an uploaded photo (again with more caution: less color; mirrored; at saturation 0: gray),
refuse a decompression bomb, place a color hint and clear it, vote in both blind tests, read the results
table and the database, kill the server, restart it and cast a vote that lands.

Screenshots of each tab for the docs, with two tiny trained runs (and a tiny hint run for the Hints tab):
    python -m tests.test_app_browser --screenshots docs/ [--only-hints]
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image

from tests.test_app_hints import hint_checkpoint
from tests.test_app_store import png_header_only

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 120_000
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(apt-get install -y chromium; .ci/run installs it)"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(args: list[str], port: int, log: Path,
            cwd: Path | None = None) -> Iterator[subprocess.Popen]:
    """`python -m colorgan.app ARGS --port PORT` until the page answers; killed (SIGKILL) on exit."""
    env = {**os.environ, "WANDB_MODE": "disabled", "PYTHONUNBUFFERED": "1"}
    with log.open("a") as output:
        command = [sys.executable, "-m", "colorgan.app", *args, "--port", str(port), "--device", "cpu"]
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    try:
        deadline = time.monotonic() + 240
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the app exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the app did not answer within 240 s:\n{log.read_text()[-3000:]}")
            time.sleep(1)
        yield process
    finally:
        process.kill()  # like a crash: nothing gets to clean up
        process.wait(30)


def make_photos(folder: Path, size: int = 96) -> Path:
    from tests.tiny_runs import photo

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("chelsea", "coffee", "astronaut"):
        Image.fromarray(photo(name, size)).save(folder / f"{name}.png")
    return folder


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def votes(study: Path) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(study / "study.sqlite") as db:
        return db.execute("SELECT rater, test, trial, choice FROM votes ORDER BY id").fetchall()


def pending(study: Path, rater: str, test: str) -> str | None:
    with sqlite3.connect(study / "study.sqlite") as db:
        row = db.execute("SELECT trial FROM assignments WHERE rater = ? AND test = ?",
                         (rater, test)).fetchone()
    return row[0] if row else None


@contextmanager
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def colorize_upload(page, photo: Path) -> None:
    from playwright.sync_api import expect

    page.locator("#colorize-files input[type=file]").set_input_files(str(photo))
    page.locator("#colorize-button").click()
    expect(page.locator("#colorize-status")).to_contain_text(f"done: {photo.name} with", timeout=TIMEOUT_MS)


def recolorize(page, study: Path, before: list[Path]) -> list[Path]:
    """Press Colorize again and wait for the new export of the same upload; every export so far."""
    page.locator("#colorize-button").click()
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while len(after := sorted((study / "exports").glob("*/chelsea_lab.png"))) <= len(before):
        assert time.monotonic() < deadline, "no new export within the timeout"
        time.sleep(0.5)
    time.sleep(0.5)  # the file is renamed into place whole, but let the page settle
    return after


def set_slider(page, elem_id: str, value: str) -> None:
    page.locator(f"#{elem_id} input[type=number]").fill(value)
    page.locator(f"#{elem_id} input[type=number]").press("Enter")


def slider_steps(page, study: Path, before: list[Path]) -> None:
    """Caution 20 on the same upload: less color than at the default 2; mirrored: another result; then
    saturation 0: as gray as the photo."""
    import numpy as np

    def spread(path: Path) -> float:
        rgb = np.asarray(Image.open(path)).astype(float)
        return float(np.abs(rgb - rgb.mean(axis=2, keepdims=True)).mean())

    set_slider(page, "colorize-caution", "20")
    cautious = recolorize(page, study, before)
    # k shrinks each pixel's chroma more the larger it is; this tiny model's passes mostly agree
    assert spread(cautious[-1]) < spread(before[-1]), (spread(cautious[-1]), spread(before[-1]))
    page.locator("#colorize-mirror input[type=checkbox]").check()
    mirrored = recolorize(page, study, cautious)
    assert not np.array_equal(np.asarray(Image.open(mirrored[-1])), np.asarray(Image.open(cautious[-1])))
    set_slider(page, "colorize-saturation", "0")
    gray = np.asarray(Image.open(recolorize(page, study, mirrored)[-1])).astype(int)
    assert spread(before[-1]) > 1 and np.abs(gray - gray.mean(axis=2, keepdims=True)).max() <= 2


def vote(page, test: str, choice: str, expect_progress: str) -> None:
    from playwright.sync_api import expect

    page.locator(f"#{test}-vote-{choice}").click()
    expect(page.locator(f"#{test}-progress")).to_contain_text(expect_progress, timeout=TIMEOUT_MS)


def images_loaded(page, selector: str) -> None:
    """Wait until every image matching ``selector`` has been decoded (for screenshots)."""
    page.wait_for_function("sel => [...document.querySelectorAll(sel)].every(i => i.complete && "
                           "i.naturalWidth > 0)", arg=selector, timeout=TIMEOUT_MS)


def start(page, test: str, expect_progress: str) -> None:
    from playwright.sync_api import expect

    page.locator(f"#{test}-start").click()
    expect(page.locator(f"#{test}-progress")).to_contain_text(expect_progress, timeout=TIMEOUT_MS)
    expect(page.locator(f"#{test}-image-a img")).to_be_visible()
    expect(page.locator(f"#{test}-image-b img")).to_be_visible()


def hints_step(page, photo: Path) -> None:
    """Hints tab: upload, click the image, see one hint and a different image, clear, back to automatic."""
    from playwright.sync_api import expect

    open_tab(page, "Hints")
    page.locator("#hints-file input[type=file]").set_input_files(str(photo))
    expect(page.locator("#hints-status")).to_contain_text("no hints yet", timeout=TIMEOUT_MS)
    shown = page.locator("#hints-image img")
    automatic = shown.get_attribute("src")
    box = shown.bounding_box()
    shown.click(position={"x": box["width"] * 0.4, "y": box["height"] * 0.5})
    expect(page.locator("#hints-list")).to_contain_text("1 hint", timeout=TIMEOUT_MS)
    expect(shown).not_to_have_attribute("src", automatic)
    page.locator("#hints-color button").first.click()  # the picker's dialog: type a color code
    page.locator("#hints-color input[type=text]").fill("#ff0000")
    page.locator("#hints-color input[type=text]").press("Tab")
    expect(page.locator("#hints-list")).to_contain_text("#ff0000", timeout=TIMEOUT_MS)
    page.locator("#hints-save").click()
    expect(page.locator("#hints-downloads")).to_contain_text(".json", timeout=TIMEOUT_MS)
    page.locator("#hints-clear").click()
    expect(page.locator("#hints-list")).to_contain_text("No hints", timeout=TIMEOUT_MS)
    expect(shown).to_have_attribute("src", automatic)  # no hints: the automatic colorization again


def test_app_in_a_browser(tmp_path: Path):
    from playwright.sync_api import expect

    from tests.tiny_runs import random_checkpoint

    # yuv takes hints (the Hints tab), lab does not
    runs = [random_checkpoint(tmp_path / "lab.ckpt", "lab", head_scale=0.3),
            hint_checkpoint(tmp_path / "yuv.ckpt", "yuv", seed=1)]
    photos = make_photos(tmp_path / "photos")
    study = tmp_path / "study"
    bomb = png_header_only(tmp_path / "bomb.png", 30_000, 30_000)  # 900 megapixels in 100 bytes
    args = [*map(str, runs), "--photos", str(photos), "--study", str(study), "--max-megapixels", "100"]
    port, log = free_port(), tmp_path / "app.log"
    url = f"http://127.0.0.1:{port}/"
    with browser_page() as page:
        with serving(args, port, log):
            page.goto(url)
            colorize_upload(page, photos / "chelsea.png")
            expect(page.locator("#colorize-gallery img").first).to_be_visible()
            exported = sorted((study / "exports").glob("*/chelsea_lab.png"))
            assert exported and Image.open(exported[-1]).size == Image.open(photos / "chelsea.png").size
            slider_steps(page, study, exported)
            page.locator("#colorize-files input[type=file]").set_input_files(str(bomb))
            page.locator("#colorize-button").click()
            expect(page.locator("#colorize-status")).to_contain_text("megapixels", timeout=TIMEOUT_MS)
            hints_step(page, photos / "coffee.png")
            hinted = sorted((study / "exports").glob("*/coffee_yuv_hints.png"))
            assert hinted and Image.open(hinted[-1]).size == Image.open(photos / "coffee.png").size

            open_tab(page, "Blind tests")
            page.locator("#rater input, #rater textarea").first.fill("alice")
            start(page, "real", "trial 1 of 6")
            vote(page, "real", "left", "trial 2 of 6 (1 done)")
            open_tab(page, "Which looks better?")
            start(page, "better", "trial 1 of 3")
            vote(page, "better", "tie", "trial 2 of 3 (1 done)")
            cast = votes(study)
            assert [(rater, test, choice) for rater, test, _, choice in cast] == [
                ("alice", "real", "left"), ("alice", "better", "tie")]

            open_tab(page, "Results")
            summary = page.locator("#results-summary")
            expect(summary).to_contain_text("fooling rate")
            expect(summary).to_contain_text("lab vs yuv")
            expect(page.locator("#results-note")).to_contain_text("2 votes by 1 raters")
            shown = pending(study, "alice", "real")  # on screen when the server dies
            # files are served from the study's images and exports only: not its database, not --photos
            assert http_status(f"{url}gradio_api/file={exported[-1]}") == 200
            assert http_status(f"{url}gradio_api/file={hinted[-1]}") == 200
            for private in (study / "study.sqlite", photos / "coffee.png", Path(__file__)):
                assert http_status(f"{url}gradio_api/file={private.resolve()}") == 403, private

        with serving(args, port, log):  # killed and restarted: the page still shows trial 2
            open_tab(page, "Blind tests")
            open_tab(page, "Real or colorized?")
            vote(page, "real", "right", "trial 3 of 6 (2 done)")
            assert votes(study)[-1][1:] == ("real", shown, "right")  # the vote landed on that trial
            page.reload()
            open_tab(page, "Blind tests")
            page.locator("#rater input, #rater textarea").first.fill("alice")
            start(page, "real", "trial 3 of 6 (2 done)")  # resumes where alice was
    assert len(votes(study)) == 3


def screenshots(folder: Path) -> None:
    """The four tabs with two tiny trained runs, into ``folder`` (docs/app_*.png)."""
    from playwright.sync_api import expect

    from tests.tiny_runs import tiny_run

    folder = folder.resolve()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        runs = [tiny_run(root, space) for space in ("lab", "yuv")]
        photos = make_photos(root / "photos", size=256)
        args = [*map(str, runs), "--photos", str(photos), "--study", str(root / "study")]
        port = free_port()
        with serving(args, port, root / "app.log", cwd=root), browser_page() as page:
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator("#colorize-runs label", has_text="yuv").click()
            colorize_upload(page, photos / "chelsea.png")
            images_loaded(page, "#colorize-gallery img, #colorize-slider img")
            page.screenshot(path=folder / "app_colorize.png", full_page=True)
            open_tab(page, "Compare")
            page.locator("#compare-button").click()
            expect(page.locator("#compare-gallery img").nth(8)).to_be_visible(timeout=TIMEOUT_MS)
            images_loaded(page, "#compare-gallery img")
            page.screenshot(path=folder / "app_compare.png", full_page=True)
            open_tab(page, "Blind tests")
            page.locator("#rater input, #rater textarea").first.fill("alice")
            start(page, "real", "trial 1 of")
            for step in range(2, 5):
                vote(page, "real", "left" if step % 2 else "right", f"trial {step} of")
            images_loaded(page, "#real-image-a img, #real-image-b img")
            page.screenshot(path=folder / "app_blind.png", full_page=True)
            open_tab(page, "Which looks better?")
            start(page, "better", "trial 1 of")
            vote(page, "better", "left", "trial 2 of")
            open_tab(page, "Results")
            expect(page.locator("#results-summary")).to_contain_text("fooling rate")
            page.screenshot(path=folder / "app_results.png", full_page=True)
    hints_screenshot(folder)


def hints_screenshot(folder: Path) -> None:
    """The Hints tab with a tiny hint model (60 steps on synthetic data) and two hints: app_hints.png."""
    from playwright.sync_api import expect

    from colorgan.train import train
    from tests.helpers import tiny_config

    folder = folder.resolve()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        run = root / "hint-run"
        train(tiny_config(run, "data=synthetic", "model.hints.enabled=true", "data.num_train=64",
                          "data.batch_size=8", "trainer.max_epochs=-1", "trainer.max_steps=60",
                          "model.optimizer.lr=3e-3", "colorspace=lab"))
        photos = make_photos(root / "photos", size=256)
        port = free_port()
        with serving([str(run), "--study", str(root / "study")], port, root / "app.log", cwd=root), \
                browser_page() as page:
            page.goto(f"http://127.0.0.1:{port}/")
            open_tab(page, "Hints")
            page.locator("#hints-file input[type=file]").set_input_files(str(photos / "chelsea.png"))
            expect(page.locator("#hints-status")).to_contain_text("no hints yet", timeout=TIMEOUT_MS)
            shown = page.locator("#hints-image img")
            for count, (x, y) in enumerate(((0.45, 0.6), (0.85, 0.25)), 1):
                box = shown.bounding_box()
                shown.click(position={"x": box["width"] * x, "y": box["height"] * y})
                expect(page.locator("#hints-list")).to_contain_text(f"{count} hint", timeout=TIMEOUT_MS)
                choices = page.locator("#hints-palette label")
                choices.nth(choices.count() - 1).click()  # the last suggestion: the most different one
                expect(page.locator("#hints-status")).to_contain_text(f"hint {count}: #", timeout=TIMEOUT_MS)
            images_loaded(page, "#hints-image img")
            page.screenshot(path=folder / "app_hints.png", full_page=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screenshots", type=Path, required=True, help="folder for app_*.png")
    parser.add_argument("--only-hints", action="store_true", help="only app_hints.png (the Hints tab)")
    args = parser.parse_args()
    (hints_screenshot if args.only_hints else screenshots)(args.screenshots)
