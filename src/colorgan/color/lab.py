"""CIE Lab (D65): the lightness L* is the luma, (a*, b*) the chroma.

Normalization (see `LightnessChromaSpace`): ``luma = L*/50 - 1``, ``chroma = (a*, b*) / 110``. The constant
was measured over a 257^3 grid of the sRGB cube (kornia, D65): a in [-86.2, 98.2], b in [-107.9, 94.5], so
the extremes map to +-0.98.
"""

from __future__ import annotations

from typing import ClassVar

import kornia.color as kc
from torch import Tensor

from colorgan.color.base import LightnessChromaSpace


class LabSpace(LightnessChromaSpace):
    """CIE L*a*b* (D65): luma = L*/50 - 1, chroma = (a*, b*) / 110.

    Example:
        >>> import torch
        >>> space = LabSpace()
        >>> red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
        >>> luma, chroma = space.split(red)  # L* 53.2, a* 80.1, b* 67.2
        >>> round(luma.item(), 3), [round(value, 3) for value in chroma.flatten().tolist()]
        (0.065, [0.728, 0.611])
        >>> torch.allclose(space.merge(luma, chroma), red, atol=1e-5)
        True
    """

    name: ClassVar[str] = "lab"
    chroma_channels: ClassVar[int] = 2
    chroma_names: ClassVar[tuple[str, ...]] = ("a", "b")
    chroma_scale: ClassVar[float] = 110.0

    def _from_rgb(self, rgb: Tensor) -> Tensor:
        return kc.rgb_to_lab(rgb)

    def _to_rgb(self, image: Tensor) -> Tensor:
        # kornia clamps f(z) at 0 and its cube / sRGB-gamma branches clamp before the power, so the
        # inverse has finite gradients everywhere; the caller clamps the RGB result.
        return kc.lab_to_rgb(image, clip=False)
