"""YCbCr: Rec.601 luma Y plus two color differences (Cb, Cr) whose ranges are equal by design.

``luma = 2Y - 1``, as in `YuvSpace` (``color/yuv.py``): the input a B&W photo gives, kept exactly by
``merge`` for in-gamut chroma (the transform is linear in gamma-encoded RGB); out-of-gamut predictions are
clipped. Cb and Cr lie in [0, 1] with a 0.5 offset, so ``chroma = 2 (Cb, Cr) - 1`` spans +-0.9996 and both
channels weigh the same in a loss (unlike YUV's U and V).
"""

from __future__ import annotations

from typing import ClassVar

import kornia.color as kc
import torch
from torch import Tensor

from colorgan.color.base import ColorSpace


class YCbCrSpace(ColorSpace):
    """YCbCr (kornia, Rec.601 Y): luma = 2Y - 1, chroma = 2 (Cb, Cr) - 1, neutral 0.

    Example:
        >>> import torch
        >>> space = YCbCrSpace()
        >>> blue = torch.tensor([0.0, 0.0, 1.0]).view(1, 3, 1, 1)
        >>> luma, chroma = space.split(blue)  # Y 0.114, Cb 1.0, Cr 0.419
        >>> round(luma.item(), 3), [round(value, 3) for value in chroma.flatten().tolist()]
        (-0.772, [0.999, -0.163])
        >>> torch.allclose(space.merge(luma, chroma), blue, atol=1e-6)
        True
    """

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
