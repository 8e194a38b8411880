"""Report figures: training curves (matplotlib) and the same photos colorized by every run."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from colorgan.errors import UserError
from colorgan.inference import CheckpointError, Colorizer
from colorgan.report.runs import Run
from colorgan.samples import Sample

log = logging.getLogger("colorgan.compare")

TILE = 128
HEADER = 16
GAP = 3


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
    tile = Image.new("RGB", (size, size), "white")
    tile.paste(image, ((size - image.width) // 2, (size - image.height) // 2))
    return np.asarray(tile)


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
                    tile: int = TILE) -> np.ndarray:
    """Rows: photos; columns: gray | each run's colorization | truth, with a header row of labels."""
    if not samples:
        raise UserError("no photos to show in the comparison grid")
    colorizers = load_colorizers(runs, device)
    titles = ["gray", *[run.label for run in runs], "truth"]
    columns = len(titles)
    width = columns * (tile + GAP) - GAP
    canvas = Image.new("RGB", (width, HEADER + len(samples) * (tile + GAP)), "white")
    draw = ImageDraw.Draw(canvas)
    for column, title in enumerate(titles):
        text = title if len(title) * 6 <= tile else title[: tile // 6 - 1] + "…"
        draw.text((column * (tile + GAP) + 2, 2), text, fill=(0, 0, 0))
    blank = np.full((tile, tile, 3), 235, dtype=np.uint8)
    for row, sample in enumerate(samples):
        truth = sample.load()
        gray = np.asarray(Image.fromarray(truth).convert("L").convert("RGB"))
        outputs = [np.asarray(c.colorize(truth)) if c is not None else None for c in colorizers]
        tiles = [_tile(gray, tile), *[_tile(o, tile) if o is not None else blank for o in outputs],
                 _tile(truth, tile)]
        top = HEADER + row * (tile + GAP)
        for column, image in enumerate(tiles):
            canvas.paste(Image.fromarray(image), (column * (tile + GAP), top))
    return np.asarray(canvas)
