"""CIE Lab and CIE Luv: the lightness L* is the luma, the two opponent channels are the chroma.

Normalization: ``luma = L/50 - 1`` (L in 0..100) and ``chroma = (a, b) / scale`` with ONE symmetric
constant per space, so neutral gray is 0 and Euclidean distances keep the space's perceptual isotropy.
The constants were measured over a 257^3 grid of the sRGB cube (kornia, D65):

- Lab: a in [-86.2, 98.2], b in [-107.9, 94.5]  -> scale 110 (extremes map to +-0.98)
- Luv: u in [-83.1, 175.0], v in [-134.1, 107.4] -> scale 180 (extremes map to +-0.97)

``merge`` keeps the given L* for in-gamut chroma (the colorizer changes color, not light); out-of-gamut
predictions are clipped to the sRGB cube, which can move the lightness a little.

Consistency with black-and-white input: L* of a color photo equals ``luma_from_gray`` of the photo's
*luminance* grayscale (sRGB-encoded CIE Y), not of its Rec.601 grayscale (``rgb_to_gray``); for
saturated colors the two differ (pure blue: L* = 32 vs 11 for its Rec.601 gray of 0.114).
"""

from __future__ import annotations

from typing import ClassVar

import kornia.color as kc
import torch
from torch import Tensor

from colorgan.color.base import ColorSpace

#: D65 white point (X, Y, Z) used by kornia, and its CIE 1976 (u', v') chromaticity.
_WHITE_XYZ = (0.95047, 1.0, 1.08883)
_WHITE_DENOM = _WHITE_XYZ[0] + 15 * _WHITE_XYZ[1] + 3 * _WHITE_XYZ[2]
_WHITE_U = 4 * _WHITE_XYZ[0] / _WHITE_DENOM
_WHITE_V = 9 * _WHITE_XYZ[1] / _WHITE_DENOM

#: Below this L* the Luv chromaticity u/(13 L) is unbounded; the few darker pixels are ~black anyway.
_LUV_MIN_L = 1e-2
#: sRGB colors have v' >= 0.158 (blue primary); clamping predictions at this keeps X, Z finite.
_LUV_MIN_V_PRIME = 1e-2


class _LightnessChromaSpace(ColorSpace):
    """Shared normalization of spaces whose first channel is CIE L* in 0..100."""

    chroma_scale: ClassVar[float]
    keeps_luma: ClassVar[bool] = True

    def _split(self, rgb: Tensor) -> tuple[Tensor, Tensor]:
        lightness_chroma = self._from_rgb(rgb)
        luma = lightness_chroma[..., :1, :, :] / 50.0 - 1.0
        chroma = lightness_chroma[..., 1:, :, :] / self.chroma_scale
        return luma, chroma

    def _merge(self, luma: Tensor, chroma: Tensor) -> Tensor:
        lightness = (luma + 1.0) * 50.0
        return self._to_rgb(torch.cat([lightness, chroma * self.chroma_scale], dim=-3))

    def _from_rgb(self, rgb: Tensor) -> Tensor:
        raise NotImplementedError

    def _to_rgb(self, image: Tensor) -> Tensor:
        raise NotImplementedError


class LabSpace(_LightnessChromaSpace):
    """CIE L*a*b* (D65): luma = L*/50 - 1, chroma = (a*, b*) / 110."""

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


class LuvSpace(_LightnessChromaSpace):
    """CIE L*u*v* (D65): luma = L*/50 - 1, chroma = (u*, v*) / 180.

    The forward conversion is kornia's. The inverse is written here on top of kornia's XYZ -> sRGB,
    because kornia's ``luv_to_rgb`` divides by ``13 L`` and by ``v'`` with only a 1e-12 guard: a prediction
    with v' near 0 gives values and gradients around 1e15-1e27 (inf in half precision). Here L* is floored
    at 0.01 (a pixel that dark is black to 8-bit precision) and v' at 0.01 (below every sRGB color's
    v' of ~0.158), which keeps gradients bounded.
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
