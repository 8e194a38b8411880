"""YUV and YCbCr: Rec.601 luma Y plus two color-difference channels, linear in gamma-encoded RGB.

Both take ``luma = 2Y - 1``, which is exactly what ``luma_from_gray`` gives for the photo's Rec.601
grayscale (``rgb_to_gray``): a color photo and its B&W version show the model the same input.
Because the transforms are linear, ``merge`` keeps Y exactly for in-gamut chroma (the segment between a
color and the gray of the same Y stays inside the RGB cube); out-of-gamut predictions are clipped.
The two spaces differ only in how the chroma channels are weighted, which is the point of comparing them:

- YUV keeps the analog-TV weighting (U in +-0.436, V in +-0.615) and divides both by ONE constant, 0.63,
  so V spans +-0.98 and U +-0.69: errors in V (red-cyan) weigh more in a loss than errors in U.
- YCbCr equalizes the ranges by design (Cb, Cr in [0, 1], offset 0.5): chroma = 2 (Cb, Cr) - 1 spans
  +-0.9996, so both channels weigh the same.
"""

from __future__ import annotations

from typing import ClassVar

import kornia.color as kc
import torch
from torch import Tensor

from colorgan.color.base import ColorSpace


class YuvSpace(ColorSpace):
    """YUV (kornia, Rec.601 Y): luma = 2Y - 1, chroma = (U, V) / 0.63."""

    name: ClassVar[str] = "yuv"
    chroma_channels: ClassVar[int] = 2
    chroma_names: ClassVar[tuple[str, ...]] = ("u", "v")
    keeps_luma: ClassVar[bool] = True
    chroma_scale: ClassVar[float] = 0.63

    def _split(self, rgb: Tensor) -> tuple[Tensor, Tensor]:
        yuv = kc.rgb_to_yuv(rgb)
        return 2.0 * yuv[..., :1, :, :] - 1.0, yuv[..., 1:, :, :] / self.chroma_scale

    def _merge(self, luma: Tensor, chroma: Tensor) -> Tensor:
        yuv = torch.cat([(luma + 1.0) / 2.0, chroma * self.chroma_scale], dim=-3)
        return kc.yuv_to_rgb(yuv)


class YCbCrSpace(ColorSpace):
    """YCbCr (kornia, Rec.601 Y): luma = 2Y - 1, chroma = 2 (Cb, Cr) - 1, neutral 0."""

    name: ClassVar[str] = "ycbcr"
    chroma_channels: ClassVar[int] = 2
    chroma_names: ClassVar[tuple[str, ...]] = ("cb", "cr")
    keeps_luma: ClassVar[bool] = True

    def _split(self, rgb: Tensor) -> tuple[Tensor, Tensor]:
        ycbcr = kc.rgb_to_ycbcr(rgb)
        return 2.0 * ycbcr[..., :1, :, :] - 1.0, 2.0 * ycbcr[..., 1:, :, :] - 1.0

    def _merge(self, luma: Tensor, chroma: Tensor) -> Tensor:
        ycbcr = torch.cat([luma + 1.0, chroma + 1.0], dim=-3) / 2.0
        return kc.ycbcr_to_rgb(ycbcr)
