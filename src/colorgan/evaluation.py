"""Evaluate a colorizer on color photos: make each gray, colorize, compare with the truth on final RGB.

Every metric (`colorgan.metrics.image_metrics`: PSNR, SSIM, ΔE00, ab-error AuC, colorfulness and ΔCF) is
computed identically for the model and for two baselines that set its floor: the gray photo itself and a
constant mean-chroma colorizer. All three are quantized to 8 bit before scoring, as a user would see them.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import kornia.color as kc
import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import Tensor
from tqdm import tqdm

from colorgan.data import DataError, is_grayscale
from colorgan.inference import Colorizer
from colorgan.metrics import METRIC_GOALS, gray_baseline, image_metrics, mean_chroma_baseline
from colorgan.samples import Sample

log = logging.getLogger("colorgan.evaluate")

METHODS = ("model", "gray", "mean_chroma")
ORACLE_NOTE = (
    "mean (a, b) of the evaluated truth images themselves: an oracle-ish constant that knows the test set's "
    "average color; pass --mean-from TRAIN_DIR for an honest one"
)
FID_SKIPPED = "skipped: FID needs local Inception weights (--fid-weights FILE); nothing is downloaded"
GRID_HEIGHT = 160


def to_tensor(rgb: np.ndarray) -> Tensor:
    """H×W×3 uint8 -> [1,3,H,W] float in [0,1]."""
    return torch.tensor(rgb).permute(2, 0, 1)[None].float().div_(255.0)


def to_uint8(rgb: Tensor) -> np.ndarray:
    """[1,3,H,W] float in [0,1] -> H×W×3 uint8."""
    return rgb[0].clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def shrink(rgb: np.ndarray, max_side: int | None) -> np.ndarray:
    """Downscale (antialiased) so the long side is at most ``max_side``; smaller photos are untouched."""
    if not max_side or max(rgb.shape[:2]) <= max_side:
        return rgb
    scale = max_side / max(rgb.shape[:2])
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))


def mean_ab(samples: Sequence[Sample], max_side: int = 256) -> tuple[float, float]:
    """Mean CIE Lab (a*, b*) over every pixel of the samples (thumbnails of at most ``max_side`` px)."""
    total = torch.zeros(2, dtype=torch.float64)
    count = 0
    for sample in samples:
        try:
            rgb = shrink(sample.load(), max_side)
        except (DataError, OSError) as error:
            log.warning("skipping %s for the mean chroma: %s", sample.name, error)
            continue
        if is_grayscale(rgb):
            continue  # a B&W photo says nothing about the average color
        ab = kc.rgb_to_lab(to_tensor(rgb))[0, 1:].double()
        total += ab.sum(dim=(1, 2))
        count += ab.shape[1] * ab.shape[2]
    if count == 0:
        raise DataError("no readable color photo to compute the mean chroma from")
    a, b = (total / count).tolist()
    return a, b


def _scores(pred: np.ndarray, truth: Tensor) -> dict[str, float]:
    return {key: float(value[0]) for key, value in image_metrics(to_tensor(pred), truth).items()}


def colorize_three_ways(colorizer: Colorizer, truth: np.ndarray,
                        ab: tuple[float, float]) -> dict[str, np.ndarray]:
    """The model's, the gray baseline's and the mean-chroma baseline's output for one photo, as uint8."""
    truth_tensor = to_tensor(truth)
    return {
        "model": np.asarray(colorizer.colorize(truth)),
        "gray": to_uint8(gray_baseline(truth_tensor)),
        "mean_chroma": to_uint8(mean_chroma_baseline(truth_tensor, ab)),
    }


def _average(rows: list[dict[str, Any]], method: str) -> dict[str, float]:
    keys = rows[0][method].keys()
    return {key: float(np.mean([row[method][key] for row in rows])) for key in keys}


class FidScore:
    """FID between outputs and truth with local Inception weights (torchmetrics + torch-fidelity)."""

    def __init__(self, weights: Path) -> None:
        from torchmetrics.image.fid import FrechetInceptionDistance

        if not Path(weights).is_file():
            raise FileNotFoundError(f"Inception weights {weights} not found")
        self.metric = FrechetInceptionDistance(feature_extractor_weights_path=str(weights))

    def update(self, pred: np.ndarray, truth: np.ndarray) -> None:
        self.metric.update(torch.from_numpy(truth).permute(2, 0, 1)[None], real=True)
        self.metric.update(torch.from_numpy(pred).permute(2, 0, 1)[None], real=False)

    def compute(self) -> float:
        return float(self.metric.compute())


def _start_fid(weights: str | Path | None) -> tuple[FidScore | None, str]:
    if not weights:
        return None, FID_SKIPPED
    try:
        return FidScore(Path(weights)), "computed"
    except (ImportError, ModuleNotFoundError, OSError, RuntimeError, ValueError) as error:
        return None, f"skipped: {str(error).splitlines()[0]}"


def _finish_fid(fid: FidScore | None, note: str, count: int) -> dict[str, Any]:
    if fid is None:
        return {"fid": None, "fid_note": note}
    if count < 2:
        return {"fid": None, "fid_note": "skipped: FID needs at least 2 images"}
    try:
        return {"fid": fid.compute(), "fid_note": f"computed on {count} images (unreliable below ~1000)"}
    except (RuntimeError, ValueError) as error:
        return {"fid": None, "fid_note": f"skipped: {str(error).splitlines()[0]}"}


def evaluate(colorizer: Colorizer, samples: Sequence[Sample], output_dir: str | Path,
             ab: tuple[float, float] | None = None, ab_source: str | None = None, max_side: int | None = 1024,
             fid_weights: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Score the model and both baselines on every sample; write metrics.json and grid.png into output_dir."""
    output_dir = Path(output_dir)
    if ab is None:
        ab, ab_source = mean_ab(samples), ORACLE_NOTE
    fid, fid_note = _start_fid(fid_weights)
    rows: list[dict[str, Any]] = []
    skipped: dict[str, list[str]] = {"unreadable": [], "grayscale": []}
    for index, sample in enumerate(tqdm(samples, unit="photo", disable=not progress or None)):
        try:
            truth = shrink(sample.load(), max_side)
        except (DataError, OSError) as error:
            skipped["unreadable"].append(f"{sample.name}: {error}")
            continue
        if is_grayscale(shrink(truth, 256)):
            skipped["grayscale"].append(sample.name)
            continue
        outputs = colorize_three_ways(colorizer, truth, ab)
        truth_tensor = to_tensor(truth)
        rows.append({"index": index, "name": sample.name,
                     **{method: _scores(outputs[method], truth_tensor) for method in METHODS}})
        if fid is not None:
            fid.update(outputs["model"], truth)
    if not rows:
        raise DataError(f"no usable color photo to evaluate ({sum(map(len, skipped.values()))} skipped)")
    ranked = sorted(rows, key=lambda row: row["model"]["deltae00"])
    picks = {"best": ranked[0], "median": ranked[len(ranked) // 2], "worst": ranked[-1]}
    results = {
        "checkpoint": str(colorizer.checkpoint_path) if colorizer.checkpoint_path else None,
        "colorspace": colorizer.colorspace.name,
        "num_images": len(rows),
        "max_side": max_side,
        "short_side": colorizer.short_side,
        "skipped": skipped,
        "goals": METRIC_GOALS,
        "model": _average(rows, "model"),
        "baselines": {"gray": _average(rows, "gray"), "mean_chroma": _average(rows, "mean_chroma")},
        "mean_chroma_ab": list(ab),
        "mean_chroma_source": ab_source or "given",
        **_finish_fid(fid, fid_note, len(rows)),
        "grid": "grid.png",
        "grid_rows": {label: row["name"] for label, row in picks.items()},
        "per_image": [{"name": row["name"], **{m: row[m] for m in METHODS}} for row in rows],
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    grid = worst_median_best_grid(colorizer, samples, picks, ab, max_side)
    Image.fromarray(grid).save(output_dir / "grid.png")
    (output_dir / "metrics.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


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
        spacer = np.full((height, gap, 3), 255, dtype=np.uint8)
        strip = np.concatenate([part for tile in tiles for part in (tile, spacer)][:-1], axis=1)
        score = row["model"]["deltae00"]
        caption = f"{label}: {row['name']}  dE00 {score:.2f}  (gray | mean chroma | model | truth)"
        rows.append((caption, strip))
    width = max(strip.shape[1] for _, strip in rows)
    canvas = Image.new("RGB", (width, len(rows) * (height + label_height + gap)), "white")
    draw = ImageDraw.Draw(canvas)
    for index, (caption, strip) in enumerate(rows):
        top = index * (height + label_height + gap)
        draw.text((2, top + 1), caption, fill=(0, 0, 0))
        canvas.paste(Image.fromarray(strip), (0, top + label_height))
    return np.asarray(canvas)


def format_table(results: dict[str, Any]) -> str:
    """A plain-text table: one line per metric, model vs both baselines."""
    columns = {"model": results["model"], **results["baselines"]}
    lines = [f"{'metric':<20}" + "".join(f"{name:>14}" for name in columns)]
    for key in results["model"]:
        cells = "".join(f"{values[key]:>14.4g}" if math.isfinite(values[key]) else f"{'inf':>14}"
                        for values in columns.values())
        lines.append(f"{key:<20}{cells}")
    return "\n".join(lines)
