"""Report figures: training curves (matplotlib), the same photos colorized by every run, and evaluate's
worst / median / best grid."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from colorgan.data import DataError
from colorgan.errors import UserError
from colorgan.grids import letterbox
from colorgan.grids import tile as grid
from colorgan.inference import CheckpointError, Colorizer
from colorgan.report.runs import Run
from colorgan.report.scores import colorize_three_ways, gray_of_truth, shrink
from colorgan.samples import Sample

log = logging.getLogger(__name__)

TILE = 128
HEADER = 16
GAP = 3
GRID_HEIGHT = 160


def plot_curves(runs: Sequence[Run], output_dir: Path) -> list[Path]:
    """One PNG per logged curve key, one line per run; returns the files written."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    keys = sorted({key for run in runs for key in run.curves}, key=lambda k: (not k.startswith("train"), k))
    written = []
    for key in keys:
        figure, axis = plt.subplots(figsize=(6, 3.2), dpi=100)
        for run in runs:
            points = run.curves.get(key)
            if points:
                steps, values = zip(*points, strict=True)
                marker = "o" if len(points) < 20 else None
                axis.plot(steps, values, marker=marker, markersize=3, label=run.label)
        axis.set_xlabel("step")
        axis.set_ylabel(key)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
        figure.tight_layout()
        path = output_dir / f"curve_{key.replace('/', '_')}.png"
        figure.savefig(path)
        plt.close(figure)
        written.append(path)
    return written


def _tile(rgb: np.ndarray, size: int) -> np.ndarray:
    """Fit into a size×size tile (aspect kept, white padding)."""
    image = Image.fromarray(rgb)
    scale = size / max(image.size)
    resample = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.NEAREST  # crisp small images
    image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), resample)
    return letterbox(np.asarray(image), size, size)


def load_colorizers(runs: Sequence[Run], device: str | None = None) -> list[Colorizer | None]:
    """Each run's best checkpoint as a Colorizer (None, logged, for runs without a usable checkpoint)."""
    colorizers: list[Colorizer | None] = []
    for run in runs:
        try:
            colorizers.append(Colorizer.from_checkpoint(run.path, device=device))
        except CheckpointError as error:
            log.warning("run %s: %s", run.path, error)
            colorizers.append(None)
    return colorizers


def comparison_grid(runs: Sequence[Run], samples: Sequence[Sample], device: str | None = None,
                    tile: int = TILE) -> tuple[np.ndarray, list[str]]:
    """(grid, notes): rows are photos, columns gray | each run's colorization | truth, under a header of
    labels. An unreadable photo is left out and a photo a run cannot colorize gets a blank tile: each is
    one note."""
    if not samples:
        raise UserError("no photos to show in the comparison grid")
    colorizers = load_colorizers(runs, device)
    notes: list[str] = []
    blank = np.full((tile, tile, 3), 235, dtype=np.uint8)
    rows: list[list[np.ndarray]] = []
    for sample in samples:
        try:
            truth = sample.load()
        except (DataError, OSError) as error:
            notes.append(f"photo {sample.name} skipped (unreadable): {error}")
            continue
        tiles = [_tile(gray_of_truth(truth), tile)]
        for run, colorizer in zip(runs, colorizers, strict=True):
            try:
                tiles.append(_tile(np.asarray(colorizer.colorize(truth)), tile) if colorizer else blank)
            except UserError as error:
                notes.append(f"{run.label}: photo {sample.name} not colorized: {error}")
                tiles.append(blank)
        rows.append([*tiles, _tile(truth, tile)])
    if not rows:
        raise UserError(f"none of the {len(samples)} photos for the comparison grid could be read")
    titles = ["gray", *[run.label for run in runs], "truth"]
    canvas = Image.fromarray(grid(rows, gap=GAP, top=HEADER, bottom=GAP))
    draw = ImageDraw.Draw(canvas)
    for column, title in enumerate(titles):
        text = title if len(title) * 6 <= tile else title[: tile // 6 - 1] + "…"
        draw.text((column * (tile + GAP) + 2, 2), text, fill=(0, 0, 0))
    return np.asarray(canvas), notes

def _fit_height(rgb: np.ndarray, height: int) -> np.ndarray:
    width = max(1, round(rgb.shape[1] * height / rgb.shape[0]))
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.LANCZOS))


def worst_median_best_grid(
    colorizer: Colorizer, samples: Sequence[Sample], picks: dict[str, dict[str, Any]],
    ab: tuple[float, float], max_side: int | None, height: int = GRID_HEIGHT,
) -> np.ndarray:
    """Rows worst, median, best (by model ΔE00); columns gray | mean chroma | model | truth, labelled."""
    label_height, gap = 14, 4
    rows = []
    for label in ("worst", "median", "best"):
        row = picks[label]
        truth = shrink(samples[row["index"]].load(), max_side)
        outputs = colorize_three_ways(colorizer, truth, ab)
        tiles = [_fit_height(image, height) for image in (outputs["gray"], outputs["mean_chroma"],
                                                          outputs["model"], truth)]
        score = row["model"]["deltae00"]
        caption = f"{label}: {row['name']}  dE00 {score:.2f}  (gray | mean chroma | model | truth)"
        rows.append((caption, tiles))
    strips = [tiles for _, tiles in rows]
    canvas = Image.fromarray(grid(strips, gap=gap, bottom=gap, caption_height=label_height))
    draw = ImageDraw.Draw(canvas)
    for index, (caption, _) in enumerate(rows):
        draw.text((2, index * (height + label_height + gap) + 1), caption, fill=(0, 0, 0))
    return np.asarray(canvas)


def plot_hint_curve(by_count: dict[str, dict[str, float]], path: Path, title: str = "") -> Path:
    """PSNR (dB) and ΔE00 against the number of hints per photo, side by side, as a PNG."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    counts = [int(count) for count in by_count]
    figure, axes = plt.subplots(1, 2, figsize=(8, 3.2), dpi=100)
    for axis, key, label in ((axes[0], "psnr", "PSNR (dB), higher is better"),
                             (axes[1], "deltae00", "ΔE00, lower is better")):
        axis.plot(counts, [values[key] for values in by_count.values()], marker="o")
        axis.set_xscale("symlog", linthresh=1)
        axis.set_xlabel("hints per photo")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
