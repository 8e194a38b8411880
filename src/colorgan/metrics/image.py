"""Per-image metrics on final RGB in [0, 1], identical for every color space so runs compare fairly.

Every function takes ``[B,3,H,W]`` batches and returns one value per image, ``[B]``, so callers can
average, keep per-image tables or find the worst images. Lab values come from kornia (D65).
A NaN (or, for the Lab metrics, infinite) pixel makes that image's score NaN: a diverged model never
scores as a perfect one.
"""

from __future__ import annotations

import kornia.color as kc
import torch
from torch import Tensor
from torchmetrics.functional.image import structural_similarity_index_measure

from colorgan.metrics.ciede2000 import _safe_sqrt, ciede2000
from colorgan.metrics.colorfulness import check_rgb_batch, colorfulness

#: Gaussian window of the standard SSIM (sigma 1.5 -> 11 px); smaller images have no valid window.
SSIM_MIN_SIZE = 11


def _check_pair(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    pred, target = check_rgb_batch(pred, "pred"), check_rgb_batch(target, "target")
    if pred.shape != target.shape:
        raise ValueError(f"pred {list(pred.shape)} and target {list(target.shape)} must have the same shape")
    dtype = torch.promote_types(pred.dtype, target.dtype)
    return pred.to(dtype), target.to(dtype)


def psnr(pred: Tensor, target: Tensor, data_range: float = 1.0, max_db: float = 100.0) -> Tensor:
    """Peak signal-to-noise ratio in dB per image, capped at ``max_db`` (reached by identical images)."""
    if data_range <= 0:
        raise ValueError(f"data_range must be positive, got {data_range}")
    pred, target = _check_pair(pred, target)
    mse = (pred - target).pow(2).flatten(start_dim=1).mean(dim=1)
    floor = data_range**2 * 10.0 ** (-max_db / 10.0)
    return 10.0 * torch.log10(data_range**2 / mse.clamp(min=floor))


def ssim(pred: Tensor, target: Tensor) -> Tensor:
    """Structural similarity per image (torchmetrics, Gaussian 11x11 window, data range 1)."""
    pred, target = _check_pair(pred, target)
    if min(pred.shape[-2:]) < SSIM_MIN_SIZE:
        raise ValueError(
            f"ssim needs images of at least {SSIM_MIN_SIZE}x{SSIM_MIN_SIZE}, got {list(pred.shape)}"
        )
    return structural_similarity_index_measure(pred, target, data_range=1.0, reduction="none")


def _to_lab(rgb: Tensor) -> Tensor:
    """CIE Lab of RGB clipped to [0, 1]; NaN and ±inf become NaN (not a clipped, valid-looking color)."""
    clipped = torch.where(torch.isfinite(rgb), rgb.clamp(0.0, 1.0), torch.full_like(rgb, float("nan")))
    return kc.rgb_to_lab(clipped)


def _lab_pair(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    pred, target = _check_pair(pred, target)
    return _to_lab(pred), _to_lab(target)


def _ab_auc_from_lab(pred_lab: Tensor, target_lab: Tensor, max_threshold: float) -> Tensor:
    ab_error = _safe_sqrt((pred_lab[:, 1:] - target_lab[:, 1:]).pow(2).sum(dim=1))
    return (1.0 - ab_error / max_threshold).clamp(min=0.0).flatten(start_dim=1).mean(dim=1)


def delta_e00(pred_rgb: Tensor, target_rgb: Tensor) -> Tensor:
    """Mean CIEDE2000 ΔE00 per image between two sRGB batches (0 = identical; ~2.3 = just noticeable)."""
    pred_lab, target_lab = _lab_pair(pred_rgb, target_rgb)
    return ciede2000(pred_lab, target_lab).flatten(start_dim=1).mean(dim=1)


def ab_error_auc(pred_rgb: Tensor, target_rgb: Tensor, max_threshold: float = 150.0) -> Tensor:
    """Area under the curve of the ab-error CDF (Zhang, Isola & Efros 2016), in [0, 1], per image.

    The curve is the fraction of pixels whose Euclidean (a, b) error is <= t, for t from 0 to
    ``max_threshold``; its area divided by ``max_threshold``. We integrate it exactly: for a pixel with
    error e, the integral of 1[e <= t] over [0, T] is max(T - e, 0), so AuC = mean(max(1 - e/T, 0)).
    (Zhang et al. sum t = 0, 1, ..., 150, which differs by less than 1/T.)
    """
    if max_threshold <= 0:
        raise ValueError(f"max_threshold must be positive, got {max_threshold}")
    pred_lab, target_lab = _lab_pair(pred_rgb, target_rgb)
    return _ab_auc_from_lab(pred_lab, target_lab, max_threshold)


@torch.no_grad()
def image_metrics(pred_rgb: Tensor, target_rgb: Tensor) -> dict[str, Tensor]:
    """Every evaluation metric per image ``[B]``: psnr, ssim, deltae00, ab_auc, colorfulness (of the
    prediction), colorfulness_true and delta_colorfulness (pred - true). Not differentiable (no_grad).
    """
    pred, target = _check_pair(pred_rgb, target_rgb)
    pred_lab, target_lab = _lab_pair(pred, target)
    colorfulness_pred, colorfulness_true = colorfulness(pred), colorfulness(target)
    return {
        "psnr": psnr(pred, target),
        "ssim": ssim(pred, target),
        "deltae00": ciede2000(pred_lab, target_lab).flatten(start_dim=1).mean(dim=1),
        "ab_auc": _ab_auc_from_lab(pred_lab, target_lab, 150.0),
        "colorfulness": colorfulness_pred,
        "colorfulness_true": colorfulness_true,
        "delta_colorfulness": colorfulness_pred - colorfulness_true,
    }
