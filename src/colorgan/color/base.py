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


def check_image(tensor: Tensor, channels: int, what: str) -> Tensor:
    """Validate a ``[..., channels, H, W]`` floating tensor; half precision is promoted to float32."""
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
    """
    rgb = check_image(rgb, 3, "rgb")
    weights = torch.tensor(REC601_WEIGHTS, dtype=rgb.dtype, device=rgb.device).view(3, 1, 1)
    return (rgb * weights).sum(dim=-3, keepdim=True)


class ColorSpace(ABC):
    """One color space: a differentiable, normalized split of RGB into luma and chroma, and its inverse.

    Subclasses set ``name``, ``chroma_channels``, ``chroma_names`` and ``keeps_luma`` (whether ``merge``
    preserves the given luma for in-gamut chroma) and implement ``_split`` / ``_merge`` on validated,
    float32-or-wider tensors with RGB already clamped to [0, 1].
    """

    name: ClassVar[str]
    chroma_channels: ClassVar[int]
    chroma_names: ClassVar[tuple[str, ...]]
    keeps_luma: ClassVar[bool]

    def split(self, rgb: Tensor) -> tuple[Tensor, Tensor]:
        """``rgb`` [B,3,H,W] in [0,1] -> (luma [B,1,H,W], chroma [B,C,H,W]), both in [-1, 1]."""
        rgb = check_image(rgb, 3, "rgb").clamp(0.0, 1.0)
        with torch.autocast(device_type=rgb.device.type, enabled=False):
            return self._split(rgb)

    def merge(self, luma: Tensor, chroma: Tensor) -> Tensor:
        """(luma [B,1,H,W], chroma [B,C,H,W]) in about [-1, 1] -> RGB [B,3,H,W] clamped to [0, 1]."""
        luma = check_image(luma, 1, "luma")
        chroma = check_image(chroma, self.chroma_channels, f"{self.name} chroma")
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
        """A B&W photo [B,1,H,W] in [0,1] -> the luma the model sees: ``split`` of the gray RGB image."""
        gray = check_image(gray, 1, "gray")
        rgb = gray.expand(*gray.shape[:-3], 3, *gray.shape[-2:])
        return self.split(rgb)[0]

    def model_input(self, rgb: Tensor) -> Tensor:
        """The luma a B&W photo of this RGB scene gives the model: ``luma_from_gray(rgb_to_gray(rgb))``.

        Training feeds the model exactly this (not ``split(rgb)[0]``), so the training input and what a
        user's grayscale photo (Rec.601, as ``PIL.Image.convert("L")`` records) gives at inference are the
        same for every space. For yuv/ycbcr/hsv/rgb it equals ``split(rgb)[0]``; for lab/luv it differs
        slightly on saturated colors (L* follows CIE luminance, not Rec.601 luma).
        """
        return self.luma_from_gray(rgb_to_gray(rgb))

    def encode(self, rgb: Tensor) -> Tensor:
        """Every channel of this space for an RGB batch, normalized to [-1, 1]: ``[B,3,H,W]``.

        Where the luma is a channel of its own (lab, luv, yuv, ycbcr) that is luma + chroma; the chroma of
        hsv and rgb already holds the whole color (their luma is only the model input). Used where a whole
        image is judged in a space, e.g. by the GAN's discriminator.
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
