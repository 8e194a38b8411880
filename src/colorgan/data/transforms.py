"""uint8 geometric transforms: PIL image in, uint8 tensor [3,S,S] out. No color conversion here."""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image

from colorgan.data.errors import DataError

_RESAMPLE = Image.Resampling.BICUBIC


def check_image_size(image_size: int) -> int:
    """Validate an output side length; returns it as int."""
    if isinstance(image_size, bool) or not isinstance(image_size, int | np.integer) or image_size < 8:
        raise DataError(f"image_size must be an integer >= 8, got {image_size!r}")
    return int(image_size)


def to_chw_uint8(image: Image.Image) -> torch.Tensor:
    """RGB PIL image -> contiguous uint8 tensor [3,H,W]."""
    array = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return torch.from_numpy(array.transpose(2, 0, 1).copy())


class CenterSquare:
    """Deterministic eval transform: resize the short side to ``size``, then center crop."""

    def __init__(self, size: int) -> None:
        self.size = check_image_size(size)

    @property
    def min_source_side(self) -> int:
        """Shortest source side that needs no upscaling (lets JPEG decode at reduced scale)."""
        return self.size

    def __call__(self, image: Image.Image) -> torch.Tensor:
        width, height = image.size
        side = min(width, height)
        left, top = (width - side) / 2, (height - side) / 2
        box = (left, top, left + side, top + side)
        return to_chw_uint8(image.resize((self.size, self.size), _RESAMPLE, box=box))


class RandomSquareCrop:
    """Train transform: random resized crop to ``size``×``size`` plus optional horizontal flip.

    The crop's aspect ratio is drawn log-uniformly in [1/max_aspect, max_aspect] (then squeezed to a
    square), its side is ``sqrt(scale)`` times the largest crop of that aspect that fits, with scale
    uniform in [min_scale, 1]. Crops always fit, so there is no retry loop; small images are upscaled.
    Randomness comes from torch's global generator (seeded per worker by the DataLoader).
    """

    def __init__(self, size: int, min_scale: float = 0.5, hflip: bool = True,
                 max_aspect: float = 1.2) -> None:
        self.size = check_image_size(size)
        if not 0.0 < float(min_scale) <= 1.0:
            raise DataError(f"min_scale must be in (0, 1], got {min_scale!r}")
        if float(max_aspect) < 1.0:
            raise DataError(f"max_aspect must be >= 1, got {max_aspect!r}")
        self.min_scale = float(min_scale)
        self.hflip = bool(hflip)
        self.max_aspect = float(max_aspect)

    @property
    def min_source_side(self) -> int:
        """Shortest source side that keeps the smallest crop at full resolution."""
        return math.ceil(self.size * self.max_aspect / math.sqrt(self.min_scale))

    def __call__(self, image: Image.Image) -> torch.Tensor:
        width, height = image.size
        scale_draw, aspect_draw, x_draw, y_draw, flip_draw = torch.rand(5).tolist()
        log_aspect = math.log(self.max_aspect)
        aspect = math.exp((2.0 * aspect_draw - 1.0) * log_aspect)  # crop width / crop height
        fit_width = min(float(width), height * aspect)
        side_factor = math.sqrt(self.min_scale + (1.0 - self.min_scale) * scale_draw)
        crop_width = fit_width * side_factor
        crop_height = min(crop_width / aspect, float(height))
        left = x_draw * (width - crop_width)
        top = y_draw * (height - crop_height)
        box = (left, top, left + crop_width, top + crop_height)
        out = image.resize((self.size, self.size), _RESAMPLE, box=box)
        if self.hflip and flip_draw < 0.5:
            out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return to_chw_uint8(out)
