"""CIE Luv (D65): the lightness L* is the luma, (u*, v*) the chroma.

Normalization (see `LightnessChromaSpace`): ``luma = L*/50 - 1``, ``chroma = (u*, v*) / 180``. The constant
was measured over a 257^3 grid of the sRGB cube (kornia, D65): u in [-83.1, 175.0], v in [-134.1, 107.4],
so the extremes map to +-0.97.
"""

from __future__ import annotations

from typing import ClassVar

import kornia.color as kc
import torch
from torch import Tensor

from colorgan.color.base import LightnessChromaSpace

#: D65 white point (X, Y, Z) used by kornia, and its CIE 1976 (u', v') chromaticity.
_WHITE_XYZ = (0.95047, 1.0, 1.08883)
_WHITE_DENOM = _WHITE_XYZ[0] + 15 * _WHITE_XYZ[1] + 3 * _WHITE_XYZ[2]
_WHITE_U = 4 * _WHITE_XYZ[0] / _WHITE_DENOM
_WHITE_V = 9 * _WHITE_XYZ[1] / _WHITE_DENOM

#: Below this L* the Luv chromaticity u/(13 L) is unbounded; the few darker pixels are ~black anyway.
_LUV_MIN_L = 1e-2
#: sRGB colors have v' >= 0.158 (blue primary); clamping predictions at this keeps X, Z finite.
_LUV_MIN_V_PRIME = 1e-2


class LuvSpace(LightnessChromaSpace):
    """CIE L*u*v* (D65): luma = L*/50 - 1, chroma = (u*, v*) / 180.

    The forward conversion is kornia's. The inverse is written here on top of kornia's XYZ -> sRGB,
    because kornia's ``luv_to_rgb`` divides by ``13 L`` and by ``v'`` with only a 1e-12 guard: a prediction
    with v' near 0 gives values and gradients around 1e15-1e27 (inf in half precision). Here L* is floored
    at 0.01 (a pixel that dark is black to 8-bit precision) and v' at 0.01 (below every sRGB color's
    v' of ~0.158), which keeps gradients bounded.

    Example:
        >>> import torch
        >>> space = LuvSpace()
        >>> red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
        >>> luma, chroma = space.split(red)  # L* 53.2, u* 175.0, v* 37.8
        >>> round(luma.item(), 3), [round(value, 3) for value in chroma.flatten().tolist()]
        (0.065, [0.972, 0.21])
        >>> torch.allclose(space.merge(luma, chroma), red, atol=1e-5)
        True
        >>> wild = space.merge(luma, torch.tensor([0.1, -3.0]).view(1, 2, 1, 1))  # v' < 0: still finite
        >>> bool(torch.isfinite(wild).all())
        True
    """

    name: ClassVar[str] = "luv"
    chroma_channels: ClassVar[int] = 2
    chroma_names: ClassVar[tuple[str, ...]] = ("u", "v")
    chroma_scale: ClassVar[float] = 180.0

    def _from_rgb(self, rgb: Tensor) -> Tensor:
        return kc.rgb_to_luv(rgb)

    def _to_rgb(self, image: Tensor) -> Tensor:
        lightness, u, v = image.unbind(dim=-3)
        lightness = lightness.clamp(0.0, 100.0)
        # CIE Y from L*: the cube branch above L* = 8 (kappa * epsilon), the linear branch below.
        cube_root = ((lightness + 16.0) / 116.0).clamp(min=0.0)
        y = torch.where(lightness > 8.0, cube_root**3, lightness / 903.3)
        safe_lightness = lightness.clamp(min=_LUV_MIN_L)
        u_prime = _WHITE_U + u / (13.0 * safe_lightness)
        v_prime = (_WHITE_V + v / (13.0 * safe_lightness)).clamp(min=_LUV_MIN_V_PRIME)
        x = y * 9.0 * u_prime / (4.0 * v_prime)
        z = y * (12.0 - 3.0 * u_prime - 20.0 * v_prime) / (4.0 * v_prime)
        linear_rgb = kc.xyz_to_rgb(torch.stack([x, y, z], dim=-3))
        return kc.linear_rgb_to_rgb(linear_rgb)
