"""The one near-gray filter every source shares: ``data.min_colorfulness`` (0 = off, the default).

Colorization papers train without the dullest photos (BigColor drops ImageNet images of colorfulness
below 15): a photo with almost no color teaches a colorizer to desaturate. The score is
`colorgan.metrics.colorfulness` (Hasler & Süsstrunk M3, 0..255 scale) of a small thumbnail, so the check
costs one decode at reduced size; a thumbnail scores a little lower than the full image (fine detail
averages out): by 1.2 points (median; 90th percentile 3.2) on the real-photo set at 512 px, where the
median photo scores 45.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from colorgan.data.errors import DataError

LOW_COLORFULNESS = "low colorfulness"
"""Skip reason of a photo whose colorfulness is under ``min_colorfulness``."""

THUMBNAIL_SIDE = 64
"""Longest side of the thumbnail the folder scan (and this filter) looks at."""


def check_min_colorfulness(value: float | int | None) -> float:
    """Validate a ``min_colorfulness`` setting (a number >= 0; None means 0); returns it as float."""
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise DataError(f"min_colorfulness must be a number >= 0 (0 = keep every photo), got {value!r}")
    return float(value)


def image_colorfulness(rgb: np.ndarray | Image.Image) -> float:
    """Hasler–Süsstrunk colorfulness (0..255 scale) of one H×W×3 uint8 RGB image (colorgan.metrics')."""
    import torch

    from colorgan.metrics.colorfulness import colorfulness  # imported here: colorgan.data stays light

    array = np.asarray(rgb)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(f"expected an H×W×3 RGB image, got shape {tuple(array.shape)}")
    batch = torch.from_numpy(np.array(array, dtype=np.float32)).permute(2, 0, 1)[None] / 255.0
    return float(colorfulness(batch)[0])


def thumbnail(image: Image.Image, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    """An RGB PIL image shrunk (aspect kept) so its longest side is at most ``side``, as a uint8 array."""
    small = image.copy() if max(image.size) > side else image
    small.thumbnail((side, side), Image.Resampling.BILINEAR)
    return np.asarray(small.convert("RGB") if small.mode != "RGB" else small)


def too_dull(rgb_thumbnail: np.ndarray, min_colorfulness: float) -> bool:
    """Whether a (thumbnail) image falls under ``min_colorfulness`` (always False when the filter is off)."""
    return min_colorfulness > 0 and image_colorfulness(rgb_thumbnail) < min_colorfulness
