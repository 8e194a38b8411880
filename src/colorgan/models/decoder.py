"""Plain U-Net decoder: upsample, concatenate the skip, two 3x3 conv-norm-ReLU; last stage joins the input."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .norm import check_norm, make_norm

UPSAMPLE_MODES = ("nearest", "bilinear")


class ConvNormReLU(nn.Sequential):
    """3x3 convolution, normalization, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, norm: str) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=norm == "none"),
            make_norm(norm, out_channels),
            nn.ReLU(inplace=True),
        )


class DecoderBlock(nn.Module):
    """Upsample ``x`` to the skip's size, concatenate the skip, then two ConvNormReLU."""

    def __init__(
        self, in_channels: int, skip_channels: int, out_channels: int, norm: str, upsample: str
    ) -> None:
        super().__init__()
        self.upsample = upsample
        self.conv1 = ConvNormReLU(in_channels + skip_channels, out_channels, norm)
        self.conv2 = ConvNormReLU(out_channels, out_channels, norm)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        align = False if self.upsample == "bilinear" else None
        x = F.interpolate(x, size=skip.shape[-2:], mode=self.upsample, align_corners=align)
        x = torch.cat([x, skip.to(x.dtype)], dim=1)  # under autocast x is bf16 while the luma skip is fp32
        return self.conv2(self.conv1(x))


class UNetDecoder(nn.Module):
    """One block per encoder stage, coarse to fine; the last block works at input resolution on the input.

    With encoder features at reductions (2, 4, 8, 16, 32) and five decoder channels, blocks 1-4 upsample
    to the /16 ... /2 features and block 5 upsamples to full resolution and concatenates the input image.
    """

    def __init__(
        self,
        encoder_channels: Sequence[int],
        decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
        input_channels: int = 1,
        norm: str = "batch",
        upsample: str = "nearest",
    ) -> None:
        super().__init__()
        check_norm(norm)
        if upsample not in UPSAMPLE_MODES:
            raise ValueError(f"unknown upsample mode {upsample!r}: choose one of {', '.join(UPSAMPLE_MODES)}")
        if len(decoder_channels) > len(encoder_channels):
            # encoders with fewer stages (e.g. ConvNeXt: /4 ... /32) use the finest widths of the list
            decoder_channels = list(decoder_channels)[-len(encoder_channels) :]
        if len(decoder_channels) != len(encoder_channels):
            raise ValueError(
                f"decoder_channels needs one entry per encoder stage ({len(encoder_channels)}: "
                f"{list(encoder_channels)}), got {len(decoder_channels)}: {list(decoder_channels)}"
            )
        if any(int(c) < 1 for c in decoder_channels):
            raise ValueError(f"decoder_channels must be positive, got {list(decoder_channels)}")
        skip_channels = [*reversed(encoder_channels[:-1]), input_channels]
        in_channels = [encoder_channels[-1], *decoder_channels[:-1]]
        self.blocks = nn.ModuleList(
            DecoderBlock(cin, cskip, cout, norm, upsample)
            for cin, cskip, cout in zip(in_channels, skip_channels, decoder_channels, strict=True)
        )
        self.out_channels = int(decoder_channels[-1])

    def forward(self, features: Sequence[Tensor], image: Tensor) -> Tensor:
        """Decode ``features`` (fine to coarse) into maps at ``image``'s resolution."""
        skips = [*reversed(features[:-1]), image]
        x = features[-1]
        for block, skip in zip(self.blocks, skips, strict=True):
            x = block(x, skip)
        return x
