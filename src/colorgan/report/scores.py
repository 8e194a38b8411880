"""Scoring one photo the way evaluate and compare do: read it, make it gray, colorize it three ways.

Every metric (`colorgan.metrics.image_metrics`: PSNR, SSIM, ΔE00, ab-error AuC, colorfulness and ΔCF) is
computed identically for the model and for two baselines that set its floor: the gray photo itself and a
constant mean-chroma colorizer. All three are quantized to 8 bit before scoring, as a user would see them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import kornia.color as kc
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from colorgan.data import DataError, is_grayscale
from colorgan.inference import Colorizer
from colorgan.metrics import gray_baseline, image_metrics, mean_chroma_baseline
from colorgan.metrics.image import SSIM_MIN_SIZE
from colorgan.models.hints import EVAL_PATCH, HintDraw, draw_uniform, paint, patch_means
from colorgan.samples import Sample

log = logging.getLogger(__name__)

METHODS = ("model", "gray", "mean_chroma")
#: why a photo is left out of the scores (the keys of an evaluation's "skipped")
SKIP_REASONS = ("unreadable", "grayscale", "too_small", "unsupported_size")
ORACLE_NOTE = (
    "mean (a, b) of the evaluated truth images themselves: an oracle-ish constant that knows the test set's "
    "average color; pass --mean-from TRAIN_DIR for an honest one"
)


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


def load_truth(sample: Sample, max_side: int | None) -> tuple[np.ndarray | None, str, str]:
    """(photo as uint8 RGB, "", "") when it can be scored, else (None, reason key, detail).

    Reasons: unreadable; too_small (a side under SSIM's 11 px window, also after ``max_side``); grayscale
    (no truth color to score against).
    """
    try:
        truth = sample.load()
    except (DataError, OSError) as error:
        return None, "unreadable", f"{sample.name}: {error}"
    shrunk = shrink(truth, max_side)
    if min(shrunk.shape[:2]) < SSIM_MIN_SIZE:
        height, width = shrunk.shape[:2]
        detail = f"{sample.name}: {width}x{height} px, under SSIM's {SSIM_MIN_SIZE} px window"
        return None, "too_small", detail
    if is_grayscale(shrink(shrunk, 256)):
        return None, "grayscale", sample.name
    return shrunk, "", ""


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


def scores(pred: np.ndarray, truth: Tensor) -> dict[str, float]:
    """Every image metric of one uint8 prediction against its truth [1,3,H,W]."""
    return {key: float(value[0]) for key, value in image_metrics(to_tensor(pred), truth).items()}


def gray_of_truth(truth: np.ndarray) -> np.ndarray:
    """The gray baseline of a photo (the same gray the scores use), as H×W×3 uint8."""
    return to_uint8(gray_baseline(to_tensor(truth)))


def colorize_three_ways(colorizer: Colorizer, truth: np.ndarray,
                        ab: tuple[float, float]) -> dict[str, np.ndarray]:
    """The model's, the gray baseline's and the mean-chroma baseline's output for one photo, as uint8."""
    truth_tensor = to_tensor(truth)
    return {
        "model": np.asarray(colorizer.colorize(truth)),
        "gray": to_uint8(gray_baseline(truth_tensor)),
        "mean_chroma": to_uint8(mean_chroma_baseline(truth_tensor, ab)),
    }


def score_three_ways(outputs: dict[str, np.ndarray], truth: np.ndarray) -> dict[str, dict[str, float]]:
    """{method: scores} for the outputs of `colorize_three_ways`."""
    truth_tensor = to_tensor(truth)
    return {method: scores(outputs[method], truth_tensor) for method in METHODS}


def average(rows: list[dict[str, Any]], method: str) -> dict[str, float]:
    """Mean of every metric of ``method`` over the rows."""
    keys = rows[0][method].keys()
    return {key: float(np.mean([row[method][key] for row in rows])) for key in keys}


# ---- hints drawn from the truth (evaluate --hints) ---------------------------------------------------
def score_with_truth_hints(colorizer: Colorizer, truth: np.ndarray, counts: Sequence[int],
                           patch: int = EVAL_PATCH, seed: int = 0) -> dict[int, dict[str, float]]:
    """{N: every metric} of the model's output for ``truth`` given N hints drawn from the truth itself.

    The hints are ``patch``-px squares at uniformly random places of the working size (nested: the N = 10
    hints are the N = 5 ones and 5 more; seeded by ``seed``), each holding the true chroma averaged over its
    square, in the model's own space, exactly as training simulates them.
    """
    prepared = colorizer.prepare(truth)
    height, width = prepared.luma.shape[-2:]
    small = F.interpolate(to_tensor(truth), size=(height, width), mode="bicubic", antialias=True)
    chroma = colorizer.colorspace.split(small.clamp(0.0, 1.0))[1]
    generator = torch.Generator().manual_seed(seed)
    draw = draw_uniform(1, height, width, max(max(counts), 1), patch, generator=generator)
    values = patch_means(chroma, draw)
    truth_tensor = to_tensor(truth)
    results = {}
    for count in counts:
        subset = HintDraw(torch.tensor([count]), draw.tops, draw.lefts, draw.sizes)
        hints = paint(subset, values, height, width)[0]
        results[count] = scores(np.asarray(colorizer.colorize(truth, hints=hints)), truth_tensor)
    return results


def parse_counts(text: str) -> list[int]:
    """``"0,1,2,5"`` -> [0, 1, 2, 5] (sorted, unique, each >= 0); a ValueError otherwise."""
    try:
        counts = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        counts = []
    if not counts or counts[0] < 0:
        raise ValueError(f"--hints takes hint counts like 0,1,2,5,10, got {text!r}")
    return counts
