"""The colorizer: luma in, chroma out, through a timm encoder and a U-Net decoder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from .decoder import UNetDecoder
from .encoder import Encoder

FINAL_ACTIVATIONS = ("tanh", "identity")


class UNetColorizer(nn.Module):
    """Predict ``chroma_channels`` maps in [-1, 1] from a luma image [B, 1, H, W] in [-1, 1], any H and W."""

    def __init__(
        self,
        chroma_channels: int,
        encoder: Mapping[str, Any],
        decoder_channels: tuple[int, ...] = (256, 128, 64, 32, 16),
        decoder_norm: str = "batch",
        final_activation: str = "tanh",
        decoder_upsample: str = "nearest",
    ) -> None:
        super().__init__()
        if not isinstance(chroma_channels, int) or chroma_channels < 1:
            raise ValueError(f"chroma_channels must be a positive int, got {chroma_channels!r}")
        if final_activation not in FINAL_ACTIVATIONS:
            raise ValueError(
                f"unknown final_activation {final_activation!r}: choose one of {', '.join(FINAL_ACTIVATIONS)}"
            )
        self.chroma_channels = chroma_channels
        self.encoder = Encoder(**dict(encoder))
        self.decoder = UNetDecoder(
            self.encoder.channels,
            decoder_channels,
            input_channels=1,
            norm=decoder_norm,
            upsample=decoder_upsample,
        )
        self.head = nn.Sequential(
            nn.Conv2d(self.decoder.out_channels, chroma_channels, 3, padding=1),
            nn.Tanh() if final_activation == "tanh" else nn.Identity(),
        )
        self.encoder_frozen = False

    def forward(self, luma: Tensor) -> Tensor:
        """Chroma [B, C, H, W] for ``luma`` [B, 1, H, W]; pads to the encoder stride and crops back."""
        if luma.ndim != 4 or luma.shape[1] != 1:
            raise ValueError(f"UNetColorizer expects luma of shape [B, 1, H, W], got {tuple(luma.shape)}")
        height, width = luma.shape[-2:]
        padded = _pad_to_multiple(luma, self.encoder.stride)
        features = self.encoder(padded)
        chroma = self.head(self.decoder(features, padded))
        return chroma[..., :height, :width]

    def set_encoder_frozen(self, frozen: bool) -> None:
        """Stop (or resume) training the encoder: no gradients, and its BatchNorm statistics stay fixed."""
        self.encoder_frozen = bool(frozen)
        for parameter in self.encoder.parameters():
            parameter.requires_grad_(not self.encoder_frozen)
        self.train(self.training)

    def train(self, mode: bool = True) -> UNetColorizer:
        """Set train/eval mode; a frozen encoder always stays in eval mode."""
        super().train(mode)
        if self.encoder_frozen:
            self.encoder.eval()
        return self


def _pad_to_multiple(image: Tensor, multiple: int) -> Tensor:
    """Pad bottom/right to a multiple of ``multiple``: reflect if the image is big enough, else replicate."""
    height, width = image.shape[-2:]
    pad_h, pad_w = (-height) % multiple, (-width) % multiple
    if pad_h == 0 and pad_w == 0:
        return image
    mode = "reflect" if pad_h < height and pad_w < width else "replicate"
    return F.pad(image, (0, pad_w, 0, pad_h), mode=mode)
