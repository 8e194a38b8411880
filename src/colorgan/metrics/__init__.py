"""Colorization metrics, computed on final RGB in [0, 1] the same way for every color space.

All image metrics take ``[B,3,H,W]`` batches and return one value per image (``[B]``). A NaN in an image
gives that image a NaN score (never 0 or a perfect value), so a diverged model cannot look good.
"""

from __future__ import annotations

from colorgan.metrics.baselines import gray_baseline, mean_chroma_baseline
from colorgan.metrics.ciede2000 import ciede2000
from colorgan.metrics.colorfulness import colorfulness
from colorgan.metrics.image import ab_error_auc, delta_e00, image_metrics, psnr, ssim

#: What "better" means for each key of `image_metrics` (for reports): "max", "min", "zero" (closest to
#: zero wins) or None (descriptive only).
METRIC_GOALS: dict[str, str | None] = {
    "psnr": "max",
    "ssim": "max",
    "deltae00": "min",
    "ab_auc": "max",
    "colorfulness": None,
    "colorfulness_true": None,
    "delta_colorfulness": "zero",
}

__all__ = [
    "METRIC_GOALS",
    "ab_error_auc",
    "ciede2000",
    "colorfulness",
    "delta_e00",
    "gray_baseline",
    "image_metrics",
    "mean_chroma_baseline",
    "psnr",
    "ssim",
]
