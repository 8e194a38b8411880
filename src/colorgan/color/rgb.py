"""RGB as the target: the model sees Rec.601 luma and predicts all three channels.

``luma = 2Y - 1`` (Rec.601, as ``rgb_to_gray``), ``chroma = 2 rgb - 1``. ``merge`` ignores the luma, so
like HSV it cannot keep the input's luminance by construction (``keeps_luma`` is False).
"""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from colorgan.color.base import ColorSpace, rgb_to_gray


class RgbSpace(ColorSpace):
    """sRGB: luma = 2Y - 1 (Rec.601), chroma = 2 (R, G, B) - 1.

    Example:
        >>> import torch
        >>> space = RgbSpace()
        >>> red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
        >>> luma, chroma = space.split(red)
        >>> round(luma.item(), 3), chroma.flatten().tolist()
        (-0.402, [1.0, -1.0, -1.0])
        >>> space.merge(torch.ones(1, 1, 1, 1), chroma).flatten().tolist()  # luma unused
        [1.0, 0.0, 0.0]
    """

    name: ClassVar[str] = "rgb"
    chroma_channels: ClassVar[int] = 3
    chroma_names: ClassVar[tuple[str, ...]] = ("r", "g", "b")
    keeps_luma: ClassVar[bool] = False

    def _split(self, rgb: Tensor) -> tuple[Tensor, Tensor]:
        return 2.0 * rgb_to_gray(rgb) - 1.0, 2.0 * rgb - 1.0

    def _merge(self, luma: Tensor, chroma: Tensor) -> Tensor:
        return (chroma + 1.0) / 2.0
