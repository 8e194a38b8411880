"""PatchGAN discriminator conditioned on luma by concatenation: pix2pix's 70x70 D and cheaper variants.

The cost of a PatchGAN is almost all in its widest layers (pix2pix: 64 -> 512 channels, the stride-1
256 -> 512 convolution above all). ``max_channels`` caps the width, ``base_channels`` scales every layer
(cost ~ its square), ``downsample`` judges an average-pooled image (cost / downsample², receptive field ×
downsample); ``num_layers`` sets the depth and with it the receptive field (3: 70x70).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as apply_spectral_norm

from .norm import make_norm

DISCRIMINATOR_NORMS = ("batch", "instance", "none")


class PatchDiscriminator(nn.Module):
    """Real/fake logits for overlapping patches of a (luma, color) pair.

    ``in_channels`` is the channel count of ``color``; the luma channel is added internally. With the default
    ``num_layers=3`` each logit sees a 70x70 patch.
    """

    def __init__(
        self,
        in_channels: int,
        base_channels: int = 64,
        num_layers: int = 3,
        norm: str = "batch",
        spectral_norm: bool = False,
        max_channels: int = 512,
        downsample: int = 1,
    ) -> None:
        super().__init__()
        if norm not in DISCRIMINATOR_NORMS:
            choices = ", ".join(DISCRIMINATOR_NORMS)
            raise ValueError(f"unknown discriminator norm {norm!r}: choose one of {choices}")
        sizes = {"in_channels": in_channels, "base_channels": base_channels, "num_layers": num_layers,
                 "max_channels": max_channels, "downsample": downsample}
        for label, value in sizes.items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{label} must be a positive int, got {value!r}")
        self.in_channels = in_channels
        self.spectral_norm = spectral_norm
        self.downsample = downsample

        layers: list[nn.Module] = [
            self._conv(in_channels + 1, base_channels, 2, bias=True),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        channels = base_channels
        for index in range(1, num_layers + 1):
            out_channels = min(base_channels * min(2**index, 8), max(max_channels, base_channels))
            stride = 2 if index < num_layers else 1
            layers += [
                self._conv(channels, out_channels, stride, bias=norm != "batch"),
                make_norm(norm, out_channels),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            channels = out_channels
        layers.append(self._conv(channels, 1, 1, bias=True))
        self.layers = nn.Sequential(*layers)

    def _conv(self, in_channels: int, out_channels: int, stride: int, bias: bool) -> nn.Module:
        conv = nn.Conv2d(in_channels, out_channels, kernel_size=4, stride=stride, padding=1, bias=bias)
        nn.init.normal_(conv.weight, 0.0, 0.02)
        if conv.bias is not None:
            nn.init.zeros_(conv.bias)
        return apply_spectral_norm(conv) if self.spectral_norm else conv

    def _convs(self) -> list[nn.Conv2d]:
        return [module for module in self.layers if isinstance(module, nn.Conv2d)]

    @property
    def receptive_field(self) -> int:
        """Side in pixels of the input patch that one output logit sees."""
        field, jump = 1, 1
        for conv in self._convs():
            field += (conv.kernel_size[0] - 1) * jump
            jump *= conv.stride[0]
        return field * self.downsample

    def output_size(self, size: int) -> int:
        """Side of the logit map for an input side of ``size`` pixels."""
        size //= self.downsample
        for conv in self._convs():
            size = (size + 2 * conv.padding[0] - conv.kernel_size[0]) // conv.stride[0] + 1
        return size

    def forward(self, luma: Tensor, color: Tensor) -> Tensor:
        """Logits [B, 1, h, w] for ``luma`` [B, 1, H, W] and ``color`` [B, in_channels, H, W]."""
        if luma.ndim != 4 or luma.shape[1] != 1:
            raise ValueError(f"PatchDiscriminator expects luma [B, 1, H, W], got {tuple(luma.shape)}")
        if color.ndim != 4 or color.shape[1] != self.in_channels:
            raise ValueError(
                f"PatchDiscriminator expects color [B, {self.in_channels}, H, W], got {tuple(color.shape)}"
            )
        if luma.shape[0] != color.shape[0] or luma.shape[-2:] != color.shape[-2:]:
            raise ValueError(
                f"luma {tuple(luma.shape)} and color {tuple(color.shape)} differ in batch or spatial size"
            )
        if min(self.output_size(luma.shape[-2]), self.output_size(luma.shape[-1])) < 1:
            smallest = next(s for s in range(1, 4096) if self.output_size(s) >= 1)
            raise ValueError(
                f"image {luma.shape[-2]}x{luma.shape[-1]} is too small for this PatchDiscriminator "
                f"(needs at least {smallest} px per side)"
            )
        pair = torch.cat([luma.to(color.dtype), color], dim=1)
        if self.downsample > 1:
            pair = F.avg_pool2d(pair, self.downsample)
        return self.layers(pair)
