"""Colorfulness of Hasler & Süsstrunk (2003), metric M3, on the 0..255 scale, and the variant the
colorization papers compute (`colorfulness_abs`).

With opponent channels ``rg = R - G`` and ``yb = (R + G) / 2 - B`` over all pixels of an image,
``M3 = sqrt(σ_rg² + σ_yb²) + 0.3 · sqrt(μ_rg² + μ_yb²)`` (population standard deviations).
A gray image scores 0; the paper calls ~33 "moderately", ~59 "quite" and ~82+ "highly" colorful.
Colorizers that play safe (sepia, desaturated) score low, so ΔCF = CF(pred) - CF(true) exposes them.
A NaN or infinite pixel makes the image's colorfulness NaN.
"""

from __future__ import annotations

import torch
from torch import Tensor

from colorgan.metrics.ciede2000 import _safe_sqrt


def check_rgb_batch(rgb: Tensor, what: str = "rgb") -> Tensor:
    """Validate ``[B,3,H,W]`` floating RGB in [0, 1]; returned as float32 (float64 kept)."""
    if not isinstance(rgb, Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(rgb).__name__}")
    if rgb.ndim != 4 or rgb.shape[1] != 3:
        raise ValueError(f"{what} must have shape [B, 3, H, W], got {list(rgb.shape)}")
    if not rgb.is_floating_point():
        raise ValueError(f"{what} must be floating point RGB in [0, 1], got {rgb.dtype}")
    return rgb.double() if rgb.dtype == torch.float64 else rgb.float()


def colorfulness(rgb: Tensor) -> Tensor:
    """Hasler & Süsstrunk M3 colorfulness per image: ``[B,3,H,W]`` in [0, 1] -> ``[B]``."""
    rgb = check_rgb_batch(rgb) * 255.0
    red, green, blue = rgb.flatten(start_dim=2).unbind(dim=1)
    red_green = red - green
    yellow_blue = 0.5 * (red + green) - blue
    spread = _safe_sqrt(red_green.var(dim=-1, correction=0) + yellow_blue.var(dim=-1, correction=0))
    offset = _safe_sqrt(red_green.mean(dim=-1) ** 2 + yellow_blue.mean(dim=-1) ** 2)
    return spread + 0.3 * offset


def colorfulness_abs(rgb: Tensor) -> Tensor:
    """The absolute-value variant of M3 per image, ``[B,3,H,W]`` in [0, 1] -> ``[B]`` (0..255 scale).

    Same formula on ``rg = |R - G|`` and ``yb = |(R + G) / 2 - B|``: the widely copied OpenCV recipe that
    CT2, ColorFormer and DDColor report as "CF". It is not Hasler & Süsstrunk's M3 (the absolute values
    shrink the spread and grow the mean term), so only compare it with the same variant.
    """
    rgb = check_rgb_batch(rgb) * 255.0
    red, green, blue = rgb.flatten(start_dim=2).unbind(dim=1)
    red_green = (red - green).abs()
    yellow_blue = (0.5 * (red + green) - blue).abs()
    spread = _safe_sqrt(red_green.var(dim=-1, correction=0) + yellow_blue.var(dim=-1, correction=0))
    offset = _safe_sqrt(red_green.mean(dim=-1) ** 2 + yellow_blue.mean(dim=-1) ** 2)
    return spread + 0.3 * offset
