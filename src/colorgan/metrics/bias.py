"""Color-bias diagnostics: "everything is blue / brown / sepia" as numbers, in CIE Lab (D65).

Per image (`lab_summary`): the mean a* and b* (a cast shows as a shift of the prediction's mean from the
truth's: b* < 0 bluer, b* > 0 yellower/browner, a* > 0 redder, a* < 0 greener), the mean chroma
C* = sqrt(a*² + b*²) and a chroma-weighted hue histogram (each pixel votes for its hue angle with its
chroma; pixels under `MIN_CHROMA`, whose hue is noise, do not vote). Over a set (`bias_summary`):
- ``delta_a``, ``delta_b``: mean predicted minus mean true a*, b*;
- ``saturation_ratio``: mean chroma predicted / mean chroma true (1 = as saturated as the truth, 0 = gray);
- ``hue_overlap``: the intersection of the two normalized hue histograms, in [0, 1] (1 = the same hues in
  the same proportions; 0 = no shared hue, or a gray prediction).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from colorgan.metrics.colorfulness import check_rgb_batch
from colorgan.metrics.image import _to_lab

#: hue histogram bins: 30 degrees each, about one hue name each (red, orange, yellow, ..., blue, violet,
#: magenta); finer bins make a perceptually small hue shift look like no overlap at all
HUE_BINS = 12
#: pixels of lower chroma C* have no visible hue (about one just-noticeable difference) and do not vote
MIN_CHROMA = 2.0


def lab_summary(rgb: Tensor, bins: int = HUE_BINS) -> dict[str, Tensor]:
    """Per image of ``[B,3,H,W]`` RGB in [0, 1]: ``mean_a``, ``mean_b``, ``chroma`` (``[B]``) and
    ``hue_hist`` (``[B, bins]``: the chroma of pixels with C* >= `MIN_CHROMA` summed per hue bin, shared
    linearly between the two nearest bin centers, and divided by the pixel count)."""
    lab = _to_lab(check_rgb_batch(rgb)).double().flatten(start_dim=2)
    a_star, b_star = lab[:, 1], lab[:, 2]
    chroma = torch.sqrt(a_star**2 + b_star**2)
    weights = torch.where(chroma >= MIN_CHROMA, chroma, torch.zeros_like(chroma))  # NaN votes nothing
    # linear (circular) binning: a pixel's vote is shared by the two nearest bin centers, so a small hue
    # shift lowers the overlap a little instead of jumping at arbitrary bin edges
    position = torch.remainder(torch.atan2(b_star, a_star), 2 * math.pi) / (2 * math.pi) * bins - 0.5
    position = torch.nan_to_num(position, nan=0.0)
    lower = torch.floor(position)
    upper_share = position - lower
    lower = torch.remainder(lower.long(), bins)
    hist = torch.zeros(rgb.shape[0], bins, dtype=torch.float64)
    hist.scatter_add_(1, lower, weights * (1.0 - upper_share))
    hist.scatter_add_(1, torch.remainder(lower + 1, bins), weights * upper_share)
    return {"mean_a": a_star.mean(dim=1), "mean_b": b_star.mean(dim=1), "chroma": chroma.mean(dim=1),
            "hue_hist": hist / a_star.shape[1]}


def hue_overlap(hist_pred: Tensor, hist_true: Tensor) -> float:
    """Histogram intersection of two hue histograms after normalizing each to sum 1; 0 when either is
    empty (a gray image has no hue)."""
    total_pred, total_true = float(hist_pred.sum()), float(hist_true.sum())
    if total_pred <= 1e-9 or total_true <= 1e-9:
        return 0.0
    return float(torch.minimum(hist_pred / total_pred, hist_true / total_true).sum())


def image_entry(summary: dict[str, Tensor], index: int = 0) -> dict[str, Tensor]:
    """Image ``index`` of a `lab_summary` batch: scalars and its ``[bins]`` hue histogram."""
    return {key: value[index] for key, value in summary.items()}


def bias_summary(pred: Sequence[dict[str, Tensor]],
                 true: Sequence[dict[str, Tensor]]) -> dict[str, float | None]:
    """The set's bias figures from per-image entries (`image_entry`; every image weighs the same): mean
    a*, b* and chroma of prediction and truth, their differences, ``saturation_ratio`` and ``hue_overlap``.
    The ratio is None when the truth has no chroma."""
    if len(pred) != len(true) or not pred:
        raise ValueError(f"need as many predictions as truths (and some), got {len(pred)}, {len(true)}")

    def mean(entries: Sequence[dict[str, Tensor]], key: str) -> Tensor:
        return torch.stack([entry[key].double() for entry in entries]).mean(dim=0)

    values = {f"{key}{suffix}": float(mean(entries, key))
              for suffix, entries in (("", pred), ("_true", true)) for key in ("mean_a", "mean_b", "chroma")}
    chroma_true = values["chroma_true"]
    return {
        **values,
        "delta_a": values["mean_a"] - values["mean_a_true"],
        "delta_b": values["mean_b"] - values["mean_b_true"],
        "saturation_ratio": values["chroma"] / chroma_true if chroma_true > 1e-9 else None,
        "hue_overlap": hue_overlap(mean(pred, "hue_hist"), mean(true, "hue_hist")),
    }
