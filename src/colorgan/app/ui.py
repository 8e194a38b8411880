"""The page (Gradio Blocks): Colorize, Compare, Hints (`hints_tab`), the two blind tests and Results.

Only the UI lives here: votes go through `StudyStore`, tables come from `stats`, images from `study`.
Import this module after `colorgan.app.__main__.configure_gradio` has pointed Gradio's cache at the study.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
from PIL import Image

from colorgan.app.hints_tab import hints_tab
from colorgan.app.stats import TESTS, display_rows, summarize, to_csv
from colorgan.app.store import StaleTrial, clean_rater
from colorgan.app.study import MAX_PIXELS, MAX_UPLOAD_MB, AppRun, BlindStudy, open_photo, runs_table
from colorgan.errors import UserError
from colorgan.scales import DEFAULT_CAUTION, MIN_PASS_SIDE

log = logging.getLogger(__name__)

CHOICES = {"real": [("A is the real photo", "left"), ("B is the real photo", "right")],
           "better": [("A looks better", "left"), ("Can't tell", "tie"), ("B looks better", "right")]}
INTRO = {"real": "One photo is real, the other was colorized from its gray version. **Which one is real?**",
         "better": "Two colorizations of the same gray photo. **Which looks better?**"}


class AppState:
    """What every handler shares: the runs, the photos of --photos, the blind study and the limits."""

    def __init__(self, runs: list[AppRun], photos: list[Path], study: BlindStudy,
                 max_pixels: int = MAX_PIXELS, max_mb: float = MAX_UPLOAD_MB) -> None:
        self.runs = {run.name: run for run in runs}
        self.photos = {path.name: path for path in photos}
        self.study = study
        self.max_pixels, self.max_mb = max_pixels, max_mb
        self.exports = study.folder / "exports"

    # ---- colorize and compare -----------------------------------------------------------------
    def _inputs(self, files: list[str] | None, picked: list[str] | None) -> list[Path]:
        paths = [Path(file) for file in files or []]
        paths += [self.photos[name] for name in picked or [] if name in self.photos]
        if not paths:
            raise UserError("drop a photo or pick one from the list first")
        return paths

    def colorize(self, files: list[str] | None, picked: list[str] | None, run_names: list[str] | None,
                 short_side: float | None, saturation: float | None = None, caution: float | None = None,
                 mirror: bool | None = None, with_gray: bool = False) -> tuple[list, list[str], list, str]:
        """(gallery items, result files, (gray, colorized) pairs, status) for every photo × run;
        ``saturation``: the chroma gain, ``caution``: the fall-back to gray where the passes disagree,
        ``mirror``: every pass on the mirrored photo too (None: each run's default)."""
        runs = [self.runs[name] for name in run_names or [] if name in self.runs]
        if not runs:
            raise UserError("choose at least one run")
        side = int(short_side) if short_side else None
        if side is not None and not MIN_PASS_SIDE <= side <= 4096:
            raise UserError(f"the working size must lie between {MIN_PASS_SIDE} and 4096 px (0 = the run's "
                            "default passes)")
        for run in runs:  # every setting refused here, before an export folder is made
            run.colorizer.call_options(saturation, caution, mirror)
        folder = self.exports / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        folder.mkdir(parents=True, exist_ok=True)
        gallery, files_out, pairs, notes = [], [], [], []
        for path in self._inputs(files, picked):
            try:
                image = open_photo(path, self.max_pixels, self.max_mb)
            except UserError as error:
                notes.append(f"**refused**: {error}")
                continue
            stem = path.stem[:60]
            gray_path = folder / f"{stem}_gray.png"
            image.convert("L").save(gray_path)
            if with_gray:
                gallery.append((str(gray_path), f"{stem}: gray input"))
            for run in runs:
                started = time.perf_counter()
                result = run.colorizer.colorize(image, short_side=side, saturation=saturation,
                                                caution=caution, mirror=mirror)
                seconds = time.perf_counter() - started
                out = folder / f"{stem}_{run.name}.png"
                result.save(out)
                size = f"{result.width}×{result.height}"
                gallery.append((str(out), f"{run.name} · {stem} · {size} · {seconds:.2f} s"))
                files_out.append(str(out))
                pairs.append((str(gray_path), str(out)))
                notes.append(f"done: {path.name} with {run.name}: {size} in {seconds:.2f} s")
        return gallery, files_out, pairs, "\n\n".join(notes)

    # ---- blind tests --------------------------------------------------------------------------
    def show(self, rater: str, test: str) -> tuple[Any, Any, str, str]:
        """(left image, right image, token, progress text) of the rater's current trial."""
        try:
            rater = clean_rater(rater)
        except UserError as error:
            return None, None, "", f"**{error}**"
        trials = self.study.trials(test)
        if not trials:
            need = "two runs or more and " if test == "better" else ""
            return None, None, "", f"No trials: start the app with {need}--photos DIR of color photos."
        assignment = self.study.store.next_trial(rater, test, trials)
        done, total = self.study.store.progress(rater, test, trials)
        if assignment is None:
            return None, None, "", f"**{rater}: all {total} trials done — thank you!**"
        images = [Image.open(self.study.image_path(item, assignment.photo)).convert("RGB")
                  for item in (assignment.left, assignment.right)]
        progress = f"**{rater}**: trial {done + 1} of {total} ({done} done)"
        return images[0], images[1], assignment.token, progress

    def vote(self, rater: str, token: str, test: str, choice: str) -> tuple[Any, Any, str, str]:
        """Record the vote, then show the next trial."""
        note = ""
        if not token:
            note = "Press **Start / resume** first. "
        else:
            try:
                self.study.store.vote(rater, test, token, choice)
            except StaleTrial as error:
                note = f"**{error}**. "
            except UserError as error:
                return None, None, "", f"**{error}**"
        left, right, token, progress = self.show(rater, test)
        return left, right, token, note + progress

    # ---- results ------------------------------------------------------------------------------
    def results(self) -> tuple[pd.DataFrame, pd.DataFrame, str, str]:
        """(summary table, per-photo table, CSV path, note)."""
        votes = self.study.store.votes()
        summary = summarize(votes)
        per_photo = summarize(votes, by_photo=True)
        self.exports.mkdir(parents=True, exist_ok=True)
        csv_path = self.exports / "results.csv"
        csv_path.write_text(to_csv(summary + per_photo), encoding="utf-8")
        raters = len({vote.rater for vote in votes})
        frames = [pd.DataFrame(rows, columns=header)
                  for header, rows in map(display_rows, (summary, per_photo))]
        note = f"{len(votes)} votes by {raters} raters. Rates with their Wilson 95% interval and n."
        return frames[0], frames[1], str(csv_path), note


def _colorize_tab(state: AppState, run_names: list[str]) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            files = gr.File(label="Photos (drop one or more)", file_count="multiple", file_types=["image"],
                            type="filepath", elem_id="colorize-files")
            picked = gr.Dropdown(sorted(state.photos), multiselect=True, label="…or pick from --photos")
            chosen = gr.CheckboxGroup(run_names, value=run_names[:1], label="Runs", elem_id="colorize-runs")
            side = gr.Number(0, precision=0, label="Working size: short side in px, one pass "
                                                   "(0 = the default: 2× and 1× the training size, averaged)")
            vivid = gr.Slider(0, 2, value=1, step=0.05, label="Saturation (1 = as predicted; more color "
                              "costs a little accuracy)", elem_id="colorize-saturation")
            caution = gr.Slider(0, 20, value=DEFAULT_CAUTION, step=0.5, elem_id="colorize-caution",
                                label="Caution: fall back towards gray where the passes disagree (0 = "
                                      "their plain average; no effect with one unmirrored pass)")
            mirrored = gr.Checkbox(False, elem_id="colorize-mirror",
                                   label="Mirror: also colorize the mirrored photo and average it in "
                                         "(twice the time; fewer casts)")
            button = gr.Button("Colorize", variant="primary", elem_id="colorize-button")
            status = gr.Markdown(elem_id="colorize-status")
        with gr.Column(scale=2):
            slider = gr.ImageSlider(label="gray ⟷ colorized (drag)", type="filepath", max_height=480,
                                    elem_id="colorize-slider")
            gallery = gr.Gallery(label="Results (click one for the slider)", columns=3, height=300,
                                 elem_id="colorize-gallery")
            downloads = gr.File(label="Full-resolution results", file_count="multiple", interactive=False)
    pairs = gr.State([])

    def run(files_in, picked_in, runs_in, side_in, saturation_in, caution_in, mirror_in):
        try:
            gallery_items, files_out, pairs_out, note = state.colorize(files_in, picked_in, runs_in, side_in,
                                                                       saturation_in, caution_in, mirror_in)
        except UserError as error:
            return None, [], None, [], f"**refused**: {error}"
        return (pairs_out[0] if pairs_out else None), gallery_items, files_out or None, pairs_out, note

    inputs = [files, picked, chosen, side, vivid, caution, mirrored]
    button.click(run, inputs, [slider, gallery, downloads, pairs, status])

    def select(pairs_in, event: gr.SelectData):
        return pairs_in[event.index] if pairs_in and event.index < len(pairs_in) else None

    gallery.select(select, [pairs], slider)


def _compare_tab(state: AppState, run_names: list[str]) -> None:
    header, rows = runs_table(list(state.runs.values()))
    gr.Markdown("Each run's color space, stage and the metrics `python -m colorgan.compare` reports.")
    gr.Dataframe(pd.DataFrame(rows, columns=header), interactive=False, elem_id="compare-runs")
    with gr.Row():
        files = gr.File(label="Photos", file_count="multiple", file_types=["image"], type="filepath")
        picked = gr.Dropdown(sorted(state.photos), value=sorted(state.photos)[:3], multiselect=True,
                             label="…or pick from --photos")
    button = gr.Button("Compare all runs", variant="primary", elem_id="compare-button")
    status = gr.Markdown()
    gallery = gr.Gallery(label="gray input, then each run", columns=len(run_names) + 1, height="auto",
                         elem_id="compare-gallery")

    def run(files_in, picked_in):
        try:
            items, _, _, note = state.colorize(files_in, picked_in, run_names, None, with_gray=True)
        except UserError as error:
            return [], f"**refused**: {error}"
        return items, "\n\n".join(line for line in note.split("\n\n") if line.startswith("**refused**"))

    button.click(run, [files, picked], [gallery, status])


def _blind_tab(state: AppState, test: str, rater: gr.Textbox) -> None:
    gr.Markdown(INTRO[test])
    start = gr.Button("Start / resume", elem_id=f"{test}-start")
    progress = gr.Markdown(elem_id=f"{test}-progress")
    with gr.Row():
        left, right = (gr.Image(label=side, type="pil", format="png", interactive=False, height=420,
                                buttons=["fullscreen"], elem_id=f"{test}-image-{side.lower()}")
                       for side in ("A", "B"))
    token = gr.Textbox(visible="hidden", elem_id=f"{test}-token")
    outputs = [left, right, token, progress]
    start.click(lambda name: state.show(name, test), [rater], outputs)
    with gr.Row():
        for label, choice in CHOICES[test]:
            button = gr.Button(label, elem_id=f"{test}-vote-{choice}")
            button.click(lambda name, held, choice=choice: state.vote(name, held, test, choice),
                         [rater, token], outputs)


def _results_tab(state: AppState) -> tuple[Any, list]:
    gr.Markdown("**Real or colorized?** fooling rate: share of trials where the colorized photo was taken "
                "for the real one (50% = indistinguishable). **Which looks better?** win rate over decisive "
                "votes; *can't tell* counted apart. The interval is the Wilson 95% score interval: with few "
                "votes it is wide, and two runs differ clearly only when their intervals do not overlap.")
    refresh = gr.Button("Refresh", elem_id="results-refresh")
    note = gr.Markdown(elem_id="results-note")
    summary = gr.Dataframe(label="Per run and per pair", interactive=False, elem_id="results-summary")
    per_photo = gr.Dataframe(label="Per photo", interactive=False, elem_id="results-photos")
    download = gr.DownloadButton("Download CSV", elem_id="results-csv")

    def run():
        table, photos, csv_path, text = state.results()
        return table, photos, csv_path, text

    outputs = [summary, per_photo, download, note]
    refresh.click(run, None, outputs)
    return run, outputs


def build_app(state: AppState) -> gr.Blocks:
    """The whole page."""
    run_names = list(state.runs)
    folder = state.study.folder
    shown = folder.relative_to(Path.cwd()) if folder.is_relative_to(Path.cwd()) else folder
    with gr.Blocks(title="colorgan", analytics_enabled=False) as demo:
        gr.Markdown(f"# colorgan · {len(run_names)} run(s) · study `{shown}`")
        with gr.Tabs():
            with gr.Tab("Colorize", id="colorize"):
                _colorize_tab(state, run_names)
            with gr.Tab("Compare", id="compare"):
                _compare_tab(state, run_names)
            with gr.Tab("Hints", id="hints"):
                hints_tab(state)
            with gr.Tab("Blind tests", id="blind"):
                rater = gr.Textbox(label="Your name", placeholder="e.g. alice", max_lines=1, elem_id="rater")
                with gr.Tabs():
                    for test, title in TESTS.items():
                        with gr.Tab(title, id=test):
                            _blind_tab(state, test, rater)
            with gr.Tab("Results", id="results") as results_tab:
                show_results, outputs = _results_tab(state)
        results_tab.select(show_results, None, outputs)
    return demo
