"""uint8 geometric transforms: PIL image or H×W×3 uint8 array in, uint8 tensor [3,S,S] out. No color here."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from colorgan.data.errors import DataError

_RESAMPLE = Image.Resampling.BICUBIC


def check_image_size(image_size: int) -> int:
    """Validate an output side length; returns it as int."""
    if isinstance(image_size, bool) or not isinstance(image_size, int | np.integer) or image_size < 8:
        raise DataError(f"image_size must be an integer >= 8, got {image_size!r}")
    return int(image_size)


class CropDraw(NamedTuple):
    """A random crop: its size in source pixels, its position as fractions of the slack, a flip."""

    width: float
    height: float
    x: float
    y: float
    flip: bool


def to_chw(array: np.ndarray) -> torch.Tensor:
    """H×W×3 uint8 array -> contiguous uint8 tensor [3,H,W]."""
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


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

    A PIL image is resized by PIL (bicubic); an H×W×3 uint8 array (prepared cache, stream) by torch's
    antialiased bicubic on uint8 with the box rounded to whole pixels: within a few levels of PIL's and
    about 3× faster. Both draw the same crop from the same random numbers (`draw`).
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

    def draw(self, width: int, height: int) -> CropDraw:
        """One random crop of a ``width``×``height`` image: its size, where it sits, whether to flip."""
        scale_draw, aspect_draw, x_draw, y_draw, flip_draw = torch.rand(5).tolist()
        aspect = math.exp((2.0 * aspect_draw - 1.0) * math.log(self.max_aspect))  # crop width / height
        side_factor = math.sqrt(self.min_scale + (1.0 - self.min_scale) * scale_draw)
        crop_width = min(float(width), height * aspect) * side_factor
        crop_height = min(crop_width / aspect, float(height))
        return CropDraw(crop_width, crop_height, x_draw, y_draw, self.hflip and flip_draw < 0.5)

    def __call__(self, image: Image.Image | np.ndarray) -> torch.Tensor:
        if not isinstance(image, Image.Image):
            return self._crop_array(np.asarray(image))
        width, height = image.size
        crop = self.draw(width, height)
        left = crop.x * (width - crop.width)
        top = crop.y * (height - crop.height)
        box = (left, top, left + crop.width, top + crop.height)
        out = image.resize((self.size, self.size), _RESAMPLE, box=box)
        if crop.flip:
            out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return to_chw_uint8(out)

    def _crop_array(self, image: np.ndarray) -> torch.Tensor:
        height, width = image.shape[:2]
        crop = self.draw(width, height)
        box_width, box_height = max(1, round(crop.width)), max(1, round(crop.height))
        left = round(crop.x * (width - box_width))
        top = round(crop.y * (height - box_height))
        patch = np.ascontiguousarray(image[top : top + box_height, left : left + box_width])
        channels_last = torch.from_numpy(patch).permute(2, 0, 1).unsqueeze(0)  # torch's fast uint8 layout
        out = F.interpolate(channels_last, size=(self.size, self.size), mode="bicubic", antialias=True)[0]
        if crop.flip:
            out = out.flip(-1)
        return out.contiguous()


def apply_transform(array: np.ndarray, transform: Any) -> torch.Tensor:
    """A transform on an H×W×3 uint8 array (an eval ``CenterSquare`` at its size is a no-op)."""
    if isinstance(transform, RandomSquareCrop):
        return transform(array)
    if isinstance(transform, CenterSquare) and array.shape[:2] == (transform.size, transform.size):
        return to_chw(array)
    return transform(Image.fromarray(array))
