"""What the app works on: the runs (loaded once), photos read safely, and the blind-test images.

The blind tests use the color photos of ``--photos``: each is shrunk once to the display size, saved as the
*real* image, made gray and colorized by every run, and cached under ``STUDY/images/`` — so every rater
sees the same pictures, a restarted server reuses them, and the app only ever serves that folder.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from colorgan.app.stats import REAL
from colorgan.app.store import StudyStore, Trial, better_trials, real_trials
from colorgan.checkpoints import read_checkpoint, resolve_checkpoint
from colorgan.data import DataError, find_images, is_grayscale, open_rgb
from colorgan.errors import UserError
from colorgan.inference import Colorizer
from colorgan.report.runs import Run, is_run_dir, metric_columns, read_run

log = logging.getLogger(__name__)

#: longest side of the blind-test images (both sides of a trial are shown at this size)
DISPLAY_SIDE = 512
MAX_PIXELS = 40_000_000
MAX_UPLOAD_MB = 30


@dataclass
class AppRun:
    """One run the app colorizes with: its unique name, checkpoint, colorizer and what compare reads."""

    name: str
    checkpoint: Path
    colorizer: Colorizer
    record: dict[str, Any]
    report: Run | None = None
    info: dict[str, str] = field(default_factory=dict)


def safe_name(text: str) -> str:
    """A file-system and URL friendly version of ``text``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "x"


def _run_dir(path: Path, checkpoint: Path) -> Path | None:
    for candidate in (path, checkpoint.parent.parent, checkpoint.parent.parent.parent):
        if candidate.is_dir() and is_run_dir(candidate):
            return candidate
    return None


def _base_name(path: Path, checkpoint: Path) -> str:
    if path.is_dir():
        return path.resolve().name
    return checkpoint.parent.parent.name if checkpoint.parent.name == "checkpoints" else checkpoint.stem


def fingerprint(path: Path) -> str:
    """sha256 of a file: a study's run must keep its checkpoint."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_runs(paths: list[str | Path], device: str | None = None) -> list[AppRun]:
    """Load each run directory or checkpoint file (names made unique) with its metrics when it has them."""
    runs: list[AppRun] = []
    for given in paths:
        path = Path(given).expanduser()
        checkpoint = resolve_checkpoint(path)
        name = safe_name(_base_name(path, checkpoint))
        taken = {run.name for run in runs}
        base, number = name, 2
        while name in taken:
            name, number = f"{base}-{number}", number + 1
        record, _ = read_checkpoint(checkpoint)
        colorizer = Colorizer.from_checkpoint(checkpoint, device=device)
        run_dir = _run_dir(path, checkpoint)
        report = read_run(run_dir) if run_dir is not None else None
        info = {"run": name, "color space": colorizer.colorspace.name, "stage": str(record.get("stage", "?")),
                "trained at": f"{colorizer.image_size} px", "checkpoint": str(checkpoint)}
        runs.append(AppRun(name, checkpoint, colorizer, record, report, info))
        log.info("loaded run %s from %s", name, checkpoint)
    return runs


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def runs_table(runs: list[AppRun]) -> tuple[list[str], list[list[str]]]:
    """(header, rows): each run's color space, stage and the metrics `compare` reports for it."""
    reports = [run.report or Run(path=run.checkpoint, label=run.name) for run in runs]
    columns = metric_columns(reports)
    header = ["run", "color space", "stage", "trained at", *[title for title, _, _ in columns]]
    rows = [[run.info["run"], run.info["color space"], run.info["stage"], run.info["trained at"],
             *[_number(values[index]) for _, values, _ in columns]] for index, run in enumerate(runs)]
    return header, rows


def open_photo(path: str | Path, max_pixels: int = MAX_PIXELS, max_mb: float = MAX_UPLOAD_MB) -> Image.Image:
    """An upright RGB photo, refusing non-images, oversized files and decompression bombs (UserError)."""
    path = Path(path)
    name = path.name
    size_mb = path.stat().st_size / 1e6
    if size_mb > max_mb:
        raise UserError(f"{name} is {size_mb:.1f} MB: the limit is {max_mb:g} MB")
    bomb = f"{name} has too many pixels (a decompression bomb?): the limit is {max_pixels / 1e6:g} megapixels"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:  # reads the header only
                width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UserError(bomb) from error
    except (OSError, ValueError, SyntaxError) as error:
        raise UserError(f"{name} is not an image this app can read (JPEG, PNG, WebP, BMP, TIFF)") from error
    if width * height > max_pixels:
        raise UserError(f"{name} is {width}×{height} = {width * height / 1e6:.0f} megapixels: the limit is "
                        f"{max_pixels / 1e6:g} (refused without decoding it)")
    try:
        return open_rgb(path)
    except DataError as error:
        raise UserError(f"{name} cannot be decoded: {error}") from error


def list_photos(folder: str | Path | None) -> list[Path]:
    """The photo files of ``--photos`` (recursive, sorted); none without a folder."""
    if folder is None:
        return []
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise UserError(f"--photos {folder} is not a folder")
    return find_images(folder)


class BlindStudy:
    """The blind tests' images (cached in the study folder), the trial lists and the store."""

    def __init__(self, study_dir: str | Path, runs: list[AppRun], photos: list[Path],
                 display_side: int = DISPLAY_SIDE) -> None:
        self.folder = Path(study_dir).expanduser().resolve()
        self.store = StudyStore(self.folder)
        self.images = self.folder / "images"
        self.runs = runs
        self.display_side = display_side
        for run in runs:
            self.store.register_run(run.name, str(run.checkpoint), fingerprint(run.checkpoint))
        self.photos = self._prepare(photos)

    def _prepare(self, photos: list[Path]) -> list[str]:
        """Cache real + colorized images of every color photo; returns the usable photo names."""
        names: list[str] = []
        started = time.perf_counter()
        for path in photos:
            name = safe_name(path.stem)
            while name in names:
                name += "_"
            real_path = self.image_path(REAL, name)
            if not real_path.is_file():
                try:
                    image = open_photo(path)
                except UserError as error:
                    log.warning("blind tests skip %s", error)
                    continue
                thumb = image.copy()
                thumb.thumbnail((self.display_side, self.display_side), Image.Resampling.LANCZOS)
                if is_grayscale(thumb):
                    log.info("blind tests skip %s: a gray photo", path.name)
                    continue
                real_path.parent.mkdir(parents=True, exist_ok=True)
                thumb.save(real_path)
            self.store.register_photo(name, str(path))
            for run in self.runs:
                target = self.image_path(run.name, name)
                if not target.is_file():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with Image.open(real_path) as real:
                        colorized = run.colorizer.colorize(real.convert("RGB"))
                    colorized.save(target.with_suffix(".tmp.png"))
                    target.with_suffix(".tmp.png").replace(target)
            names.append(name)
        if names:
            log.info("blind tests: %d photos × %d runs ready in %.1f s", len(names), len(self.runs),
                     time.perf_counter() - started)
        return names

    def image_path(self, item: str, photo: str) -> Path:
        """Where the cached image of ``item`` ('real' or a run name) for ``photo`` lives."""
        folder = "_real" if item == REAL else f"run_{item}"
        return self.images / folder / f"{photo}.png"

    def trials(self, test: str) -> list[Trial]:
        names = [run.name for run in self.runs]
        if test == "real":
            return real_trials(self.photos, names)
        return better_trials(self.photos, names)
