"""Which stage-2 checkpoint is "best": colors closest to the truth's colorfulness, within a ΔE00 budget.

ΔE00 alone rewards dull colors: a GAN's lowest-ΔE00 checkpoint is usually its first, i.e. stage 1 again.
`ColorSelection` scores each validation instead as ``val/selection``:

- ``|ΔCF|`` (|mean predicted − mean true Hasler–Süsstrunk colorfulness| over the validation photos) when the
  validation ΔE00 is at most ``(1 + max_deltae00_increase)`` × the reference ΔE00;
- ``OUT_OF_REACH + |ΔCF|`` when it is over that budget but within the same budget of the lowest ΔE00 the run
  has validated so far: while no validation reaches the first budget, the most colorful of the near-best wins;
- ``OVER_BUDGET + ΔE00`` otherwise, so that such a checkpoint only wins while no other is near the best.

The reference is the generator's ΔE00 before the first step (stage 1's weights, with ``init_from``), or a
lower ΔE00 seen since (a GAN trained from scratch starts far off). Lower is better, like ``val/deltae00``.

Why the second tier: stage 1's best checkpoint is the one with the lowest ΔE00 on these same validation
photos, so its ΔE00 there is a lucky low (on real photos 1–8 % under the validations around it), and
every stage-2 validation can end up over a 5 % budget that new photos would have met. Ranking those by ΔE00
alone picked the dullest checkpoint, the opposite of what stage 2 is for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

#: added to |ΔCF| for validations over the budget of the reference but near the run's best ΔE00
OUT_OF_REACH = 500.0
#: added to ΔE00 for validations outside both budgets (above any |ΔCF| of a real photo set + OUT_OF_REACH)
OVER_BUDGET = 1000.0


@dataclass
class ValidationSums:
    """Running sums of one validation pass (weighted by batch size)."""

    deltae00: float = 0.0
    colorfulness: float = 0.0
    colorfulness_true: float = 0.0
    count: int = 0

    def add(self, deltae00: Tensor, colorfulness: Tensor, colorfulness_true: Tensor) -> None:
        """Per-image values ``[B]`` of one batch."""
        self.deltae00 += float(deltae00.double().sum())
        self.colorfulness += float(colorfulness.double().sum())
        self.colorfulness_true += float(colorfulness_true.double().sum())
        self.count += int(deltae00.numel())

    def means(self) -> tuple[float, float]:
        """(mean ΔE00, |ΔCF|) of the pass."""
        if not self.count:
            return math.nan, math.nan
        delta_cf = (self.colorfulness - self.colorfulness_true) / self.count
        return self.deltae00 / self.count, abs(delta_cf)


class ColorSelection(torch.nn.Module):
    """The ``val/selection`` score; its reference ΔE00 is a buffer, so a resumed run keeps it."""

    def __init__(self, max_deltae00_increase: float = 0.05) -> None:
        super().__init__()
        if not max_deltae00_increase >= 0:
            raise ValueError("model.selection.max_deltae00_increase must be >= 0, got "
                             f"{max_deltae00_increase}")
        self.max_increase = float(max_deltae00_increase)
        self.register_buffer("reference", torch.tensor(math.nan, dtype=torch.float64))
        self.register_buffer("lowest", torch.tensor(math.inf, dtype=torch.float64))

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        """A checkpoint from before the second tier has no ``lowest``: it starts at infinity, as new."""
        state_dict.setdefault(prefix + "lowest", torch.tensor(math.inf, dtype=torch.float64))
        super()._load_from_state_dict(state_dict, prefix, *args)

    @property
    def has_reference(self) -> bool:
        return bool(torch.isfinite(self.reference))

    def set_reference(self, deltae00: float) -> None:
        self.reference.fill_(deltae00)

    def score(self, deltae00: float, delta_colorfulness: float) -> float:
        """``val/selection`` of one validation (see the module docstring); NaN in, NaN out."""
        if not (math.isfinite(deltae00) and math.isfinite(delta_colorfulness)):
            return math.nan
        if not self.has_reference or deltae00 < float(self.reference):
            self.set_reference(deltae00)
        self.lowest.fill_(min(float(self.lowest), deltae00))
        if deltae00 <= float(self.reference) * (1.0 + self.max_increase):
            return delta_colorfulness
        if deltae00 <= float(self.lowest) * (1.0 + self.max_increase):
            return OUT_OF_REACH + delta_colorfulness
        return OVER_BUDGET + deltae00
