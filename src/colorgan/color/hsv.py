"""HSV with hue as a vector: the model input is Rec.601 luma, the target is (S cos H, S sin H, 2V - 1).

Why not HSV's own V as input: V = max(R, G, B) is not what a black-and-white photo records (pure blue and
white share V = 1), so ``luma = 2Y - 1`` with Rec.601 Y, exactly like ``rgb_to_gray``.

Why a vector: hue is an angle, so an L1 loss on raw H would call 359 deg and 1 deg far apart; and a gray
pixel has no hue at all. ``S (cos H, sin H)`` is continuous in RGB, 0 for every gray, and in [-1, 1].

``merge``: H = atan2, S = |(x, y)| clamped to [0, 1], V = (third channel + 1) / 2, then kornia
``hsv_to_rgb``. The luma passed to ``merge`` is ignored: HSV cannot keep the input's luminance by
construction (V, S and H together decide it), so ``keeps_luma`` is False.

Gradient safety: kornia's ``rgb_to_hsv`` guards its divisions; the inverse here replaces atan2's
argument at the origin (hue is irrelevant when S = 0) and takes ``sqrt(x^2 + y^2 + eps)``, so gradients
stay finite for grays and for any prediction.
"""

from __future__ import annotations

import math
from typing import ClassVar

import kornia.color as kc
import torch
from torch import Tensor

from colorgan.color.base import ColorSpace, rgb_to_gray

_EPS = 1e-12


class HsvSpace(ColorSpace):
    """HSV: luma = 2Y - 1 (Rec.601), chroma = (S cos H, S sin H, 2V - 1).

    Example:
        >>> import torch
        >>> space = HsvSpace()
        >>> blue = torch.tensor([0.0, 0.0, 1.0]).view(1, 3, 1, 1)
        >>> luma, chroma = space.split(blue)  # H 240 deg, S 1, V 1
        >>> round(luma.item(), 3), [round(value, 3) for value in chroma.flatten().tolist()]
        (-0.772, [-0.5, -0.866, 1.0])
        >>> torch.allclose(space.merge(torch.zeros(1, 1, 1, 1), chroma), blue, atol=1e-5)  # luma unused
        True
    """

    name: ClassVar[str] = "hsv"
    chroma_channels: ClassVar[int] = 3
    chroma_names: ClassVar[tuple[str, ...]] = ("s·cos h", "s·sin h", "v")
    keeps_luma: ClassVar[bool] = False

    def _split(self, rgb: Tensor) -> tuple[Tensor, Tensor]:
        hue, saturation, value = kc.rgb_to_hsv(rgb).unbind(dim=-3)
        chroma = torch.stack(
            [saturation * torch.cos(hue), saturation * torch.sin(hue), 2.0 * value - 1.0], dim=-3
        )
        return 2.0 * rgb_to_gray(rgb) - 1.0, chroma

    def _merge(self, luma: Tensor, chroma: Tensor) -> Tensor:
        x, y, value_channel = chroma.unbind(dim=-3)
        radius_sq = x * x + y * y
        at_origin = radius_sq < _EPS
        safe_x = torch.where(at_origin, torch.ones_like(x), x)
        safe_y = torch.where(at_origin, torch.zeros_like(y), y)
        hue = torch.remainder(torch.atan2(safe_y, safe_x), 2.0 * math.pi)
        saturation = torch.sqrt(radius_sq + _EPS).clamp(max=1.0)
        value = ((value_channel + 1.0) / 2.0).clamp(0.0, 1.0)
        return kc.hsv_to_rgb(torch.stack([hue, saturation, value], dim=-3))
