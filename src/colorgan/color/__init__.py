"""Color spaces: one `ColorSpace` per space owns every conversion and normalization (see `base`).

Usage: ``space = get_colorspace("lab")``; ``luma, chroma = space.split(rgb)`` gives the model input and
the regression target, both in [-1, 1]; ``space.merge(luma, predicted_chroma)`` gives RGB in [0, 1],
differentiably.
"""

from __future__ import annotations

from colorgan.color.base import CHROMA_LIMIT, REC601_WEIGHTS, ColorSpace, rgb_to_gray
from colorgan.color.hsv import HsvSpace
from colorgan.color.lightness import LabSpace, LuvSpace
from colorgan.color.rgb import RgbSpace
from colorgan.color.ycc import YCbCrSpace, YuvSpace
from colorgan.errors import UserError

_SPACES: dict[str, type[ColorSpace]] = {
    space.name: space for space in (LabSpace, YuvSpace, YCbCrSpace, LuvSpace, HsvSpace, RgbSpace)
}


def available_colorspaces() -> list[str]:
    """Names accepted by `get_colorspace`, in a stable order."""
    return list(_SPACES)


def get_colorspace(name: str) -> ColorSpace:
    """The color space called ``name`` (case-insensitive); unknown names raise a ValueError listing all."""
    key = str(name).strip().lower()
    if key not in _SPACES:
        raise UserError(f"unknown color space {name!r}; available: {', '.join(available_colorspaces())}")
    return _SPACES[key]()


__all__ = [
    "CHROMA_LIMIT",
    "REC601_WEIGHTS",
    "ColorSpace",
    "HsvSpace",
    "LabSpace",
    "LuvSpace",
    "RgbSpace",
    "YCbCrSpace",
    "YuvSpace",
    "available_colorspaces",
    "get_colorspace",
    "rgb_to_gray",
]
