"""Color hint maps: what a hint model (``UNetColorizer(hints=True)``) takes besides the luma.

A hint map is ``[B, C + 1, H, W]``: the hint chroma in the model's own color space, normalized like the
target (0 where there is no hint), followed by a 0/1 mask. Hints are square patches of one color each.

- Training (`simulate_hints`, after Zhang et al. 2017): a geometric number of hints per image
  (``P(n) = (1 - p)^n p``; p = 1/8 gives no hint 1/8 of the time, 7 on average), patch sides uniform in
  ``[min_patch, max_patch]``, centers drawn from a Gaussian around the image center (std ``position_std`` of
  the side), value = the mean true chroma of the patch.
- Evaluation (`draw_uniform`): exactly N patches of a fixed side at uniformly random places, fixed seed.
- Inference: `paint` with the patches a user gave (see `colorgan.hints`).

Everything runs on the tensors' device, for every color space alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

#: hints per photo that `evaluate --hints` reports by default, and the side of its patches (the paper's)
EVAL_COUNTS = (0, 1, 2, 5, 10, 20, 50, 100)
EVAL_PATCH = 6


@dataclass(frozen=True)
class HintSettings:
    """The ``model.hints`` block: whether the model takes hints, and how training simulates them."""

    enabled: bool = False
    p: float = 0.125
    max_hints: int = 64
    min_patch: int = 1
    max_patch: int = 9
    position_std: float = 0.25

    def __post_init__(self) -> None:
        if not 0 < self.p <= 1:
            raise ValueError(f"model.hints.p must be in (0, 1], got {self.p!r}")
        if self.max_hints < 0:
            raise ValueError(f"model.hints.max_hints must be >= 0, got {self.max_hints!r}")
        if not 1 <= self.min_patch <= self.max_patch:
            raise ValueError(f"model.hints needs 1 <= min_patch <= max_patch, got {self.min_patch}, "
                             f"{self.max_patch}")
        if self.position_std <= 0:
            raise ValueError(f"model.hints.position_std must be > 0, got {self.position_std!r}")

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | HintSettings | None) -> HintSettings:
        """Settings from a config block (None: disabled); unknown keys are refused."""
        if isinstance(config, HintSettings):
            return config
        config = dict(config or {})
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"unknown model.hints setting(s) {', '.join(unknown)}: "
                             f"use {', '.join(sorted(known))}")
        return cls(**config)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class HintDraw:
    """Where the hints of a batch lie: [B, K] tensors; hint k of image b exists when ``k < counts[b]``."""

    counts: Tensor
    tops: Tensor
    lefts: Tensor
    sizes: Tensor

    @property
    def active(self) -> Tensor:
        """[B, K] bool: which slots hold a hint."""
        slots = torch.arange(self.tops.shape[1], device=self.tops.device)
        return slots[None] < self.counts[:, None]


def _rand(shape: tuple[int, ...], device: torch.device, generator: torch.Generator | None) -> Tensor:
    """Uniform [0, 1) numbers on ``device``, drawn by ``generator`` (on its own device) if given."""
    if generator is None:
        return torch.rand(shape, device=device)
    return torch.rand(shape, generator=generator, device=generator.device).to(device)


def _randn(shape: tuple[int, ...], device: torch.device, generator: torch.Generator | None) -> Tensor:
    if generator is None:
        return torch.randn(shape, device=device)
    return torch.randn(shape, generator=generator, device=generator.device).to(device)


def sample_training_hints(batch: int, height: int, width: int, settings: HintSettings,
                          device: torch.device, generator: torch.Generator | None = None) -> HintDraw:
    """Hint places for training: geometric counts, sides in [min_patch, max_patch], Gaussian centers."""
    uniform = _rand((batch,), device, generator).clamp_min(1e-12)
    if settings.p >= 1:
        counts = torch.zeros(batch, dtype=torch.long, device=device)
    else:  # inverse CDF of the geometric law on {0, 1, 2, ...}: P(n >= k) = (1 - p)^k
        counts = torch.floor(torch.log(uniform) / math.log1p(-settings.p)).long()
    counts = counts.clamp_(0, settings.max_hints)
    slots = max(int(counts.max()) if batch else 0, 1)
    span = settings.max_patch - settings.min_patch + 1
    sizes = settings.min_patch + (_rand((batch, slots), device, generator) * span).long().clamp_(max=span - 1)
    sizes = sizes.clamp_(max=min(height, width))
    centers = _randn((2, batch, slots), device, generator) * settings.position_std
    rows = (0.5 + centers[0]) * height
    cols = (0.5 + centers[1]) * width
    tops = (rows - sizes / 2).round().long()
    lefts = (cols - sizes / 2).round().long()
    tops = torch.minimum(tops.clamp_(min=0), height - sizes)
    lefts = torch.minimum(lefts.clamp_(min=0), width - sizes)
    return HintDraw(counts, tops, lefts, sizes)


def draw_uniform(batch: int, height: int, width: int, count: int, size: int = EVAL_PATCH,
                 device: torch.device | str = "cpu", generator: torch.Generator | None = None) -> HintDraw:
    """Exactly ``count`` patches of side ``size`` per image at uniformly random places (for evaluation)."""
    device = torch.device(device)
    size = max(1, min(size, height, width))
    slots = max(count, 1)
    tops = (_rand((batch, slots), device, generator) * (height - size + 1)).long()
    lefts = (_rand((batch, slots), device, generator) * (width - size + 1)).long()
    sizes = torch.full((batch, slots), size, dtype=torch.long, device=device)
    counts = torch.full((batch,), count, dtype=torch.long, device=device)
    return HintDraw(counts, tops, lefts, sizes)


def patch_means(chroma: Tensor, draw: HintDraw) -> Tensor:
    """[B, K, C]: the mean of ``chroma`` [B, C, H, W] over each patch of ``draw``."""
    batch, channels = chroma.shape[:2]
    values = chroma.new_zeros(batch, draw.tops.shape[1], channels)
    chroma = chroma.float()
    for size in torch.unique(draw.sizes).tolist():
        means = F.avg_pool2d(chroma, int(size), stride=1)  # [B, C, H - s + 1, W - s + 1]: means by top-left
        index = draw.tops.clamp(0, means.shape[-2] - 1) * means.shape[-1] + draw.lefts.clamp(
            0, means.shape[-1] - 1)
        gathered = means.flatten(2).gather(2, index[:, None].expand(-1, channels, -1)).transpose(1, 2)
        values = torch.where((draw.sizes == size)[..., None], gathered.to(values.dtype), values)
    return values


def paint(draw: HintDraw, values: Tensor, height: int, width: int) -> Tensor:
    """The hint map [B, C + 1, H, W] of the patches in ``draw`` with ``values`` [B, K, C] (later patches
    cover earlier ones where they overlap)."""
    batch, slots, channels = values.shape
    device = values.device
    hints = values.new_zeros(batch, channels + 1, height, width)
    rows = torch.arange(height, device=device)
    cols = torch.arange(width, device=device)
    active = draw.active
    for slot in range(min(slots, int(draw.counts.max()) if batch else 0)):
        top, left, size = draw.tops[:, slot, None], draw.lefts[:, slot, None], draw.sizes[:, slot, None]
        in_rows = (rows >= top) & (rows < top + size)  # [B, H]
        in_cols = (cols >= left) & (cols < left + size)  # [B, W]
        patch = (in_rows[:, :, None] & in_cols[:, None, :] & active[:, slot, None, None])[:, None]
        hints[:, :channels] = torch.where(patch, values[:, slot, :, None, None], hints[:, :channels])
        hints[:, channels:] = torch.where(patch, torch.ones_like(hints[:, channels:]), hints[:, channels:])
    return hints


def simulate_hints(chroma: Tensor, settings: HintSettings,
                   generator: torch.Generator | None = None) -> Tensor:
    """Training hints [B, C + 1, H, W] for the true ``chroma`` [B, C, H, W] (see the module docstring)."""
    batch, _, height, width = chroma.shape
    draw = sample_training_hints(batch, height, width, settings, chroma.device, generator)
    return paint(draw, patch_means(chroma, draw), height, width).to(chroma.dtype)


def truth_hints(chroma: Tensor, count: int, size: int = EVAL_PATCH,
                generator: torch.Generator | None = None) -> Tensor:
    """Evaluation hints [B, C + 1, H, W]: ``count`` uniform ``size``-px patches of true mean chroma."""
    batch, _, height, width = chroma.shape
    draw = draw_uniform(batch, height, width, count, size, chroma.device, generator)
    return paint(draw, patch_means(chroma, draw), height, width).to(chroma.dtype)
