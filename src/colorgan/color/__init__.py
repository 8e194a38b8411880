"""Color spaces: one `ColorSpace` per space owns every conversion and normalization (see `base`).

One module per space: ``lab``, ``luv`` (both on `LightnessChromaSpace`, CIE L*), ``yuv``, ``ycbcr``,
``hsv``, ``rgb``. Everything a caller needs is imported from here.

Example:
    >>> import torch
    >>> from colorgan.color import available_colorspaces, get_colorspace
    >>> available_colorspaces()
    ['lab', 'yuv', 'ycbcr', 'luv', 'hsv', 'rgb']
    >>> space = get_colorspace("lab")
    >>> rgb = torch.rand(1, 3, 8, 8)
    >>> luma, chroma = space.split(rgb)  # the model input and the regression target, in [-1, 1]
    >>> space.merge(luma, chroma).shape  # back to RGB in [0, 1], differentiably
    torch.Size([1, 3, 8, 8])
"""

from __future__ import annotations

from colorgan.color.base import (
    CHROMA_LIMIT,
    REC601_WEIGHTS,
    ColorSpace,
    LightnessChromaSpace,
    rgb_to_gray,
)
from colorgan.color.hsv import HsvSpace
from colorgan.color.lab import LabSpace
from colorgan.color.luv import LuvSpace
from colorgan.color.rgb import RgbSpace
from colorgan.color.ycbcr import YCbCrSpace
from colorgan.color.yuv import YuvSpace
from colorgan.errors import UserError

_SPACES: dict[str, type[ColorSpace]] = {
    space.name: space for space in (LabSpace, YuvSpace, YCbCrSpace, LuvSpace, HsvSpace, RgbSpace)
}


def available_colorspaces() -> list[str]:
    """Names accepted by `get_colorspace`, in a stable order.

    Example:
        >>> "lab" in available_colorspaces() and "hsv" in available_colorspaces()
        True
    """
    return list(_SPACES)


def get_colorspace(name: str) -> ColorSpace:
    """The color space called ``name`` (case-insensitive); unknown names raise a `UserError` (a ValueError)
    listing all.

    Example:
        >>> get_colorspace("YCbCr")
        YCbCrSpace(name='ycbcr', chroma_channels=2)
        >>> get_colorspace("cmyk")
        Traceback (most recent call last):
        ...
        colorgan.errors.UserError: unknown color space 'cmyk'; available: lab, yuv, ycbcr, luv, hsv, rgb
    """
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
    "LightnessChromaSpace",
    "LuvSpace",
    "RgbSpace",
    "YCbCrSpace",
    "YuvSpace",
    "available_colorspaces",
    "get_colorspace",
    "rgb_to_gray",
]
