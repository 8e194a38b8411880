"""The `ColorSpace` contract: split an RGB batch into (luma, chroma) in [-1, 1] and merge it back.

Every space shares the same conventions, so models, losses and metrics never special-case one:

- ``split(rgb)``: ``rgb`` ``[B,3,H,W]`` in [0, 1] -> ``luma`` ``[B,1,H,W]`` and ``chroma`` ``[B,C,H,W]``,
  both normalized to [-1, 1] with a neutral (gray) chroma of 0 where the space has one.
- ``merge(luma, chroma)``: the inverse, differentiable, returning RGB clamped to [0, 1]. Predictions a bit
  outside [-1, 1] are accepted; chroma is clamped to ``[-CHROMA_LIMIT, CHROMA_LIMIT]`` first, only to keep
  the arithmetic finite (no real color lies out there).
- ``luma_from_gray(gray)``: what the model sees for a black-and-white photo; by construction equal to the
  luma ``split`` gives for a gray RGB image, so training and inference inputs agree.

Precision: float16/bfloat16 inputs are computed (and returned) in float32, float64 stays float64, and
autocast is switched off inside, because the conversions (cube roots, powers, divisions) are not safe in
half precision. Leading dimensions other than the batch are allowed: ``[..., C, H, W]``.

Adding a space: a module ``color/<name>.py`` with one `ColorSpace` subclass (``_split``/``_merge``), its
entry in ``colorgan.color``'s registry, and ``conf/colorspace/<name>.yaml``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import torch
from torch import Tensor

#: Rec.601 luma weights: what ``PIL.Image.convert("L")`` and most B&W conversions record.
REC601_WEIGHTS: tuple[float, float, float] = (0.299, 0.587, 0.114)

#: Chroma predictions are clamped to this magnitude in ``merge`` (real colors lie within [-1, 1]).
CHROMA_LIMIT: float = 3.0


def check_image_tensor(tensor: Tensor, channels: int, what: str) -> Tensor:
    """Validate a ``[..., channels, H, W]`` floating tensor; return it, half precision promoted to float32.

    Raises TypeError/ValueError naming ``what`` and the expected shape or dtype.

    Example:
        >>> import torch
        >>> check_image_tensor(torch.zeros(2, 3, 4, 4, dtype=torch.bfloat16), 3, "rgb").dtype
        torch.float32
        >>> check_image_tensor(torch.zeros(2, 4, 4, 4), 3, "rgb")
        Traceback (most recent call last):
        ...
        ValueError: rgb must have shape [B, 3, H, W], got [2, 4, 4, 4]
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.ndim < 3 or tensor.shape[-3] != channels:
        raise ValueError(f"{what} must have shape [B, {channels}, H, W], got {list(tensor.shape)}")
    if not tensor.is_floating_point():
        raise ValueError(
            f"{what} must be a floating point tensor (RGB/gray in [0, 1], luma/chroma in [-1, 1]), "
            f"got {tensor.dtype}; convert uint8 images with .float() / 255"
        )
    if tensor.dtype in (torch.float16, torch.bfloat16):
        tensor = tensor.float()
    return tensor


def rgb_to_gray(rgb: Tensor) -> Tensor:
    """Rec.601 luma ``Y = 0.299 R + 0.587 G + 0.114 B`` of sRGB in [0, 1]: ``[B,3,H,W] -> [B,1,H,W]``.

    This is what a black-and-white photo (or ``PIL.Image.convert("L")``) records, hence the model input
    at inference time.

    Example:
        >>> import torch
        >>> red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
        >>> gray = rgb_to_gray(red)
        >>> gray.shape, round(gray.item(), 3)
        (torch.Size([1, 1, 1, 1]), 0.299)
    """
    rgb = check_image_tensor(rgb, 3, "rgb")
    weights = torch.tensor(REC601_WEIGHTS, dtype=rgb.dtype, device=rgb.device).view(3, 1, 1)
    return (rgb * weights).sum(dim=-3, keepdim=True)


class ColorSpace(ABC):
    """One color space: a differentiable, normalized split of RGB into luma and chroma, and its inverse.

    Subclasses set ``name``, ``chroma_channels``, ``chroma_names`` and ``keeps_luma`` (whether ``merge``
    preserves the given luma for in-gamut chroma) and implement ``_split`` / ``_merge`` on validated,
    float32-or-wider tensors with RGB already clamped to [0, 1].

    Example:
        >>> from colorgan.color import get_colorspace
        >>> space = get_colorspace("yuv")
        >>> space.name, space.chroma_channels, space.chroma_names, space.keeps_luma
        ('yuv', 2, ('u', 'v'), True)
    """

    name: ClassVar[str]
    chroma_channels: ClassVar[int]
    chroma_names: ClassVar[tuple[str, ...]]
    keeps_luma: ClassVar[bool]

    def split(self, rgb: Tensor) -> tuple[Tensor, Tensor]:
        """``rgb`` [B,3,H,W] in [0,1] -> (luma [B,1,H,W], chroma [B,C,H,W]), both in [-1, 1].

        Example:
            >>> import torch
            >>> from colorgan.color import get_colorspace
            >>> luma, chroma = get_colorspace("lab").split(torch.rand(2, 3, 8, 8))
            >>> luma.shape, chroma.shape
            (torch.Size([2, 1, 8, 8]), torch.Size([2, 2, 8, 8]))
            >>> bool(luma.abs().max() <= 1 and chroma.abs().max() <= 1)
            True
        """
        rgb = check_image_tensor(rgb, 3, "rgb").clamp(0.0, 1.0)
        with torch.autocast(device_type=rgb.device.type, enabled=False):
            return self._split(rgb)

    def merge(self, luma: Tensor, chroma: Tensor) -> Tensor:
        """(luma [B,1,H,W], chroma [B,C,H,W]) in about [-1, 1] -> RGB [B,3,H,W] clamped to [0, 1].

        Example:
            >>> import torch
            >>> from colorgan.color import get_colorspace
            >>> space = get_colorspace("lab")
            >>> rgb = torch.rand(2, 3, 8, 8)
            >>> restored = space.merge(*space.split(rgb))
            >>> restored.shape, bool((restored - rgb).abs().max() < 1 / 255)
            (torch.Size([2, 3, 8, 8]), True)
            >>> luma = torch.zeros(1, 1, 4, 4)
            >>> gray = space.merge(luma, torch.zeros(1, 2, 4, 4))  # neutral chroma: a gray image
            >>> bool((gray.amax(dim=1) - gray.amin(dim=1)).max() < 1e-3)
            True
        """
        luma = check_image_tensor(luma, 1, "luma")
        chroma = check_image_tensor(chroma, self.chroma_channels, f"{self.name} chroma")
        if luma.shape[:-3] != chroma.shape[:-3] or luma.shape[-2:] != chroma.shape[-2:]:
            raise ValueError(
                f"luma {list(luma.shape)} and chroma {list(chroma.shape)} must share batch and spatial size"
            )
        dtype = torch.promote_types(luma.dtype, chroma.dtype)
        luma = luma.to(dtype).clamp(-1.0, 1.0)
        chroma = chroma.to(dtype).clamp(-CHROMA_LIMIT, CHROMA_LIMIT)
        with torch.autocast(device_type=luma.device.type, enabled=False):
            return self._merge(luma, chroma).clamp(0.0, 1.0)

    def luma_from_gray(self, gray: Tensor) -> Tensor:
        """A B&W photo [B,1,H,W] in [0,1] -> the luma the model sees: ``split`` of the gray RGB image.

        Example:
            >>> import torch
            >>> from colorgan.color import get_colorspace
            >>> space = get_colorspace("ycbcr")
            >>> gray = torch.rand(1, 1, 4, 4)
            >>> torch.allclose(space.luma_from_gray(gray), space.split(gray.expand(1, 3, 4, 4))[0])
            True
        """
        gray = check_image_tensor(gray, 1, "gray")
        rgb = gray.expand(*gray.shape[:-3], 3, *gray.shape[-2:])
        return self.split(rgb)[0]

    def model_input(self, rgb: Tensor) -> Tensor:
        """The luma a B&W photo of this RGB scene gives the model: ``luma_from_gray(rgb_to_gray(rgb))``.

        Training feeds the model exactly this (not ``split(rgb)[0]``), so the training input and what a
        user's grayscale photo (Rec.601, as ``PIL.Image.convert("L")`` records) gives at inference are the
        same for every space. For yuv/ycbcr/hsv/rgb it equals ``split(rgb)[0]``; for lab/luv it differs
        slightly on saturated colors (L* follows CIE luminance, not Rec.601 luma).

        Example:
            >>> import torch
            >>> from colorgan.color import get_colorspace, rgb_to_gray
            >>> space = get_colorspace("lab")
            >>> rgb = torch.rand(2, 3, 4, 4)
            >>> torch.allclose(space.model_input(rgb), space.luma_from_gray(rgb_to_gray(rgb)))
            True
            >>> blue = torch.tensor([0.0, 0.0, 1.0]).view(1, 3, 1, 1)  # L* 32, but a dark Rec.601 gray
            >>> round(space.split(blue)[0].item(), 2), round(space.model_input(blue).item(), 2)
            (-0.35, -0.78)
        """
        return self.luma_from_gray(rgb_to_gray(rgb))

    def encode(self, rgb: Tensor) -> Tensor:
        """Every channel of this space for an RGB batch, normalized to [-1, 1]: ``[B,3,H,W]``.

        Where the luma is a channel of its own (lab, luv, yuv, ycbcr) that is luma + chroma; the chroma of
        hsv and rgb already holds the whole color (their luma is only the model input). Used where a whole
        image is judged in a space, e.g. by the GAN's discriminator.

        Example:
            >>> import torch
            >>> from colorgan.color import get_colorspace
            >>> rgb = torch.rand(2, 3, 4, 4)
            >>> get_colorspace("lab").encode(rgb).shape, get_colorspace("rgb").encode(rgb).shape
            (torch.Size([2, 3, 4, 4]), torch.Size([2, 3, 4, 4]))
            >>> torch.allclose(get_colorspace("rgb").encode(rgb), 2 * rgb - 1)
            True
        """
        luma, chroma = self.split(rgb)
        return torch.cat([luma, chroma], dim=-3) if self.keeps_luma else chroma

    @abstractmethod
    def _split(self, rgb: Tensor) -> tuple[Tensor, Tensor]:
        """Split validated RGB in [0, 1]."""

    @abstractmethod
    def _merge(self, luma: Tensor, chroma: Tensor) -> Tensor:
        """Merge validated luma/chroma; the result is clamped by the caller."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, chroma_channels={self.chroma_channels})"


class LightnessChromaSpace(ColorSpace):
    """Shared normalization of the CIE spaces whose first channel is the lightness L* in 0..100 (lab, luv).

    ``luma = L*/50 - 1`` and ``chroma = (c1, c2) / chroma_scale`` with ONE symmetric constant per space, so
    neutral gray is 0 and Euclidean distances keep the space's perceptual isotropy. ``merge`` keeps the
    given L* for in-gamut chroma (the colorizer changes color, not light); out-of-gamut predictions are
    clipped to the sRGB cube, which can move the lightness a little.

    Consistency with black-and-white input: L* of a color photo equals ``luma_from_gray`` of the photo's
    *luminance* grayscale (sRGB-encoded CIE Y), not of its Rec.601 grayscale (``rgb_to_gray``); for
    saturated colors the two differ (pure blue: L* = 32 vs 11 for its Rec.601 gray of 0.114), see
    ``ColorSpace.model_input``.

    Subclasses set ``chroma_scale`` and implement ``_from_rgb`` / ``_to_rgb`` in the space's own units.

    Example:
        >>> import torch
        >>> from colorgan.color import get_colorspace
        >>> white = torch.ones(1, 3, 1, 1)
        >>> luma, chroma = get_colorspace("lab").split(white)  # L* = 100, no chroma
        >>> round(luma.item(), 3), bool(chroma.abs().max() < 1e-3)
        (1.0, True)
    """

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

    @abstractmethod
    def _from_rgb(self, rgb: Tensor) -> Tensor:
        """RGB in [0, 1] -> (L* in 0..100, c1, c2) in the space's own units."""

    @abstractmethod
    def _to_rgb(self, image: Tensor) -> Tensor:
        """(L*, c1, c2) in the space's own units -> RGB (clamped by the caller)."""
