"""Chroma as classes (Zhang et al. 2016, "Colorful Image Colorization"), for any color space.

The normalized chroma cube [-1, 1]^C of the training space is cut into a regular grid of ``n`` bin centers
per channel (``n^C`` classes). The generator's `BinHead` predicts a distribution over the bins for every
pixel (at 1/``stride`` resolution) and decodes it by the *annealed mean*: the mean of the bin centers under
softmax(logits / T). T = 1 is the distribution's mean (cautious, grayer where unsure), T → 0 its mode
(vivid); Zhang et al. use 0.38. The decoded chroma is upsampled bilinearly to the full resolution, so the
generator's output is chroma like a regression model's and inference, export and stage 2 do not change.

`BinLoss` is the training loss: cross-entropy against a soft encoding of the true chroma (multilinear
weights on the 2^C surrounding bin centers: unlike Zhang's 5-nearest-neighbour Gaussian, its mean is
exactly the true chroma), each pixel weighted by *class rebalancing*: w ∝ 1 / ((1 - λ)·p̃ + λ/Q) for
the bin nearest to its true chroma, p̃ the training colors' bin frequencies smoothed by a Gaussian and Q
the number of bins seen, normalized so that E_p̃[w] = 1. λ = 1 turns rebalancing off. The frequencies
are counted on the training batches as they come (summed over processes under DDP) and kept in the
checkpoint, so no separate pass over the data is needed.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: the largest number of classes accepted (bins per channel ** chroma channels)
MAX_CLASSES = 4096
#: the settings of a bin head (``model.bins`` keys that go into the generator's ``head`` config)
HEAD_SETTINGS = ("per_channel", "temperature", "stride")
#: the annealed mean's temperature when none is given (Zhang et al.'s)
DEFAULT_TEMPERATURE = 0.38
#: ``bins_per_channel: auto`` aims at about this many classes (Zhang et al.: 313 in-gamut ab bins of 10 units)
AUTO_CLASSES = 500


def bins_per_channel(setting: int | str, chroma_channels: int) -> int:
    """The grid size per channel: ``auto`` → about `AUTO_CLASSES` classes (22 for two chroma channels,
    8 for three); an int is checked (at least 2, at most `MAX_CLASSES` classes)."""
    if setting == "auto":
        return max(2, round(AUTO_CLASSES ** (1.0 / chroma_channels)))
    if isinstance(setting, bool) or not isinstance(setting, int) or setting < 2:
        raise ValueError(f"bins per_channel must be 'auto' or an int >= 2, got {setting!r}")
    if setting**chroma_channels > MAX_CLASSES:
        largest = int(MAX_CLASSES ** (1.0 / chroma_channels) + 1e-9)
        raise ValueError(
            f"bins per_channel={setting} gives {setting**chroma_channels} classes for {chroma_channels} "
            f"chroma channels (at most {MAX_CLASSES}): use at most {largest}, or 'auto'"
        )
    return setting


def check_temperature(temperature: float) -> float:
    """``temperature`` as a float if it is in (0, 10]; else a ValueError."""
    if isinstance(temperature, bool) or not isinstance(temperature, int | float) or not 0 < temperature <= 10:
        raise ValueError(f"bins temperature must be in (0, 10], got {temperature!r}")
    return float(temperature)


def check_head(
    chroma_channels: int, per_channel: int | str = "auto", temperature: float = DEFAULT_TEMPERATURE,
    stride: int = 4,
) -> int:
    """The grid size per channel once every `BinHead` setting is valid; else a ValueError naming it."""
    check_temperature(temperature)
    if isinstance(stride, bool) or not isinstance(stride, int) or stride not in (1, 2, 4, 8):
        raise ValueError(f"bins stride must be 1, 2, 4 or 8, got {stride!r}")
    return bins_per_channel(per_channel, chroma_channels)


class ChromaGrid:
    """``n`` centers per channel at linspace(-1, 1, n); class index = row-major over the C channels."""

    def __init__(self, per_channel: int, chroma_channels: int) -> None:
        self.n = int(per_channel)
        self.channels = int(chroma_channels)
        self.classes = self.n**self.channels

    def centers(self) -> Tensor:
        """The bin centers, [classes, C], in the class order."""
        axis = torch.linspace(-1.0, 1.0, self.n)
        mesh = torch.meshgrid(*([axis] * self.channels), indexing="ij")
        return torch.stack([m.reshape(-1) for m in mesh], dim=1)

    def _positions(self, chroma: Tensor) -> Tensor:
        """Continuous grid coordinates in [0, n-1] of chroma [B, C, H, W]."""
        return ((chroma.float().clamp(-1.0, 1.0) + 1.0) * 0.5 * (self.n - 1)).clamp(0.0, self.n - 1)

    def _flat(self, per_channel_index: Tensor) -> Tensor:
        """Class index [B, H, W] from per-channel indices [B, C, H, W]."""
        flat = torch.zeros_like(per_channel_index[:, 0])
        for channel in range(self.channels):
            flat = flat * self.n + per_channel_index[:, channel]
        return flat

    def nearest(self, chroma: Tensor) -> Tensor:
        """The class of the nearest center, [B, H, W] (long)."""
        return self._flat(self._positions(chroma).round().long())

    def soft_encode(self, chroma: Tensor) -> tuple[Tensor, Tensor]:
        """(classes [B, 2^C, H, W], weights [B, 2^C, H, W]): multilinear weights on the surrounding centers;
        the weights sum to 1 and their mean of centers is ``chroma`` (clamped to [-1, 1])."""
        position = self._positions(chroma)
        low = position.floor().clamp(max=self.n - 2).long()
        fraction = position - low
        classes, weights = [], []
        for corner in range(2**self.channels):
            bits = [(corner >> (self.channels - 1 - c)) & 1 for c in range(self.channels)]
            offset = torch.tensor(bits, device=chroma.device).view(1, -1, 1, 1)
            classes.append(self._flat(low + offset))
            weight = torch.ones_like(fraction[:, 0])
            for channel, bit in enumerate(bits):
                weight = weight * (fraction[:, channel] if bit else 1.0 - fraction[:, channel])
            weights.append(weight)
        return torch.stack(classes, dim=1), torch.stack(weights, dim=1)

    def smooth(self, distribution: Tensor, sigma: float) -> Tensor:
        """``distribution`` [classes] blurred on the grid by a Gaussian of ``sigma`` bins (per axis)."""
        if sigma <= 0:
            return distribution
        radius = max(1, math.ceil(3 * sigma))
        offsets = torch.arange(-radius, radius + 1, dtype=distribution.dtype, device=distribution.device)
        kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
        kernel = (kernel / kernel.sum()).view(1, 1, -1)
        grid = distribution.view([self.n] * self.channels)
        for axis in range(self.channels):
            moved = grid.movedim(axis, -1)
            shape = moved.shape
            blurred = F.conv1d(moved.reshape(-1, 1, self.n), kernel, padding=radius)
            grid = blurred.reshape(shape).movedim(-1, axis)
        return grid.reshape(-1)


class BinHead(nn.Module):
    """Decoder maps → logits over the chroma bins at 1/``stride`` resolution → annealed-mean chroma."""

    def __init__(
        self, in_channels: int, chroma_channels: int, per_channel: int | str = "auto",
        temperature: float = DEFAULT_TEMPERATURE, stride: int = 4,
    ) -> None:
        super().__init__()
        per_channel = check_head(chroma_channels, per_channel, temperature, stride)
        self.grid = ChromaGrid(per_channel, chroma_channels)
        self.temperature = float(temperature)
        self.stride = stride
        self.logits = nn.Conv2d(in_channels, self.grid.classes, 1)
        # the centers as a 1x1 convolution's weight: decoding is a softmax and a convolution (ONNX-friendly)
        weight = self.grid.centers().t()[:, :, None, None].contiguous()
        self.register_buffer("centers", weight, persistent=False)

    def class_logits(self, maps: Tensor) -> Tensor:
        """Logits [B, classes, H/stride, W/stride] for decoder maps [B, in, H, W] (H, W multiples of the
        stride: the generator pads its input to the encoder's stride, a multiple of 8)."""
        if self.stride > 1:
            maps = F.avg_pool2d(maps, self.stride)
        return self.logits(maps)

    def decode(self, logits: Tensor) -> Tensor:
        """Annealed-mean chroma [B, C, H, W] (in [-1, 1]) from logits at 1/stride of H, W."""
        probabilities = torch.softmax(logits.float() / self.temperature, dim=1)
        chroma = F.conv2d(probabilities, self.centers.float())
        if self.stride > 1:  # an exact scale factor: the same in torch and in ONNX's Resize
            chroma = F.interpolate(chroma, scale_factor=self.stride, mode="bilinear", align_corners=False)
        return chroma.to(logits.dtype)

    def forward(self, maps: Tensor) -> Tensor:
        """Chroma [B, C, H, W] for decoder maps [B, in, H, W]."""
        return self.decode(self.class_logits(maps))


class BinLoss(nn.Module):
    """Class-rebalanced cross-entropy of `BinHead` logits against soft-encoded true chroma.

    ``rebalance`` is λ (1: plain cross-entropy), ``smoothing`` the prior's Gaussian σ in bins. The counts
    buffer is part of the module's state (checkpointed; a resume keeps the prior).
    """

    def __init__(
        self, grid: ChromaGrid, stride: int = 4, rebalance: float = 0.5, smoothing: float = 0.5
    ) -> None:
        super().__init__()
        if not 0.0 <= float(rebalance) <= 1.0:
            raise ValueError(f"bins rebalance (λ) must be in [0, 1], got {rebalance!r}")
        if not float(smoothing) >= 0.0:
            raise ValueError(f"bins smoothing must be >= 0 (bins), got {smoothing!r}")
        self.grid = grid
        self.stride = stride
        self.rebalance = float(rebalance)
        self.smoothing = float(smoothing)
        self.register_buffer("counts", torch.zeros(grid.classes, dtype=torch.float64))

    def target(self, chroma: Tensor, size: tuple[int, int]) -> Tensor:
        """True chroma brought to the logits' resolution the way `BinHead` pools its maps."""
        if self.stride > 1:
            chroma = F.avg_pool2d(chroma.float(), self.stride, ceil_mode=True, count_include_pad=False)
        return chroma[..., : size[0], : size[1]]

    @torch.no_grad()
    def count(self, nearest: Tensor) -> None:
        """Add one batch's nearest-bin classes to the prior (summed over processes under DDP)."""
        batch = torch.bincount(nearest.reshape(-1), minlength=self.grid.classes).to(self.counts)
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(batch)
        self.counts += batch

    def class_weights(self) -> Tensor:
        """Rebalancing weight per class (1 everywhere before any count or with λ = 1)."""
        total = self.counts.sum()
        if total <= 0 or self.rebalance >= 1.0:
            return torch.ones_like(self.counts)
        prior = self.grid.smooth(self.counts / total, self.smoothing)
        seen = max(int((self.counts > 0).sum()), 1)
        weights = 1.0 / ((1.0 - self.rebalance) * prior + self.rebalance / seen)
        return weights / (prior * weights).sum()

    def forward(self, logits: Tensor, chroma: Tensor, update: bool = False) -> Tensor:
        """Mean rebalanced cross-entropy; ``update`` first adds the batch to the prior (training only)."""
        target = self.target(chroma, logits.shape[-2:])
        nearest = self.grid.nearest(target)
        if update:
            self.count(nearest)
        classes, weights = self.grid.soft_encode(target)
        log_probabilities = torch.log_softmax(logits.float(), dim=1)
        cross_entropy = -(log_probabilities.gather(1, classes) * weights).sum(1)
        pixel_weights = self.class_weights().to(cross_entropy)[nearest]
        return (cross_entropy * pixel_weights).mean()

    def extra_repr(self) -> str:
        return f"classes={self.grid.classes}, rebalance={self.rebalance}, smoothing={self.smoothing}"


def head_settings(config: dict[str, Any] | None) -> dict[str, Any]:
    """The generator's ``head`` config as `BinHead` arguments (``kind: bins``), or {} for regression."""
    if not config:
        return {}
    settings = dict(config)
    kind = settings.pop("kind", "regression")
    if kind == "regression":
        return {}
    if kind != "bins":
        raise ValueError(f"generator head kind must be 'regression' or 'bins', got {kind!r}")
    unknown = set(settings) - set(HEAD_SETTINGS)
    if unknown:
        raise ValueError(f"unknown bins head settings: {', '.join(sorted(unknown))}")
    return settings
