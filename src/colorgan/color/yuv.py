"""YUV: Rec.601 luma Y plus the analog-TV color differences (U, V), linear in gamma-encoded RGB.

``luma = 2Y - 1``, exactly what ``luma_from_gray`` gives for the photo's Rec.601 grayscale
(``rgb_to_gray``): a color photo and its B&W version show the model the same input. Because the transform
is linear, ``merge`` keeps Y exactly for in-gamut chroma (the segment between a color and the gray of the
same Y stays inside the RGB cube); out-of-gamut predictions are clipped.

YUV keeps the analog-TV weighting (U in +-0.436, V in +-0.615) and divides both by ONE constant, 0.63, so
V spans +-0.98 and U +-0.69: errors in V (red-cyan) weigh more in a loss than errors in U. `YCbCrSpace`
(``color/ycbcr.py``) is the same luma with equalized chroma ranges, which is the point of comparing them.
"""

from __future__ import annotations

from typing import ClassVar

import kornia.color as kc
import torch
from torch import Tensor

from colorgan.color.base import ColorSpace


class YuvSpace(ColorSpace):
    """YUV (kornia, Rec.601 Y): luma = 2Y - 1, chroma = (U, V) / 0.63.

    Example:
        >>> import torch
        >>> space = YuvSpace()
        >>> red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
        >>> luma, chroma = space.split(red)  # Y 0.299, U -0.147, V 0.615
        >>> round(luma.item(), 3), [round(value, 3) for value in chroma.flatten().tolist()]
        (-0.402, [-0.233, 0.976])
        >>> relit, _ = space.split(space.merge(luma, chroma / 2))  # half the color, same luma
        >>> torch.allclose(relit, luma, atol=1e-6)
        True
    """

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
