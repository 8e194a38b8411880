"""Learning-rate schedules built from config (`_target_`), stored as plain data in checkpoints."""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


class _WarmupCosineFactor:
    """lr multiplier: linear warm-up, then cosine decay to `min_lr_ratio` at `total_steps`."""

    def __init__(self, total_steps: float, warmup_steps: int, min_lr_ratio: float) -> None:
        self.total_steps = float(total_steps)
        self.warmup_steps = int(warmup_steps)
        self.min_lr_ratio = float(min_lr_ratio)

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / (self.warmup_steps + 1)
        if not math.isfinite(self.total_steps) or self.total_steps <= self.warmup_steps:
            return 1.0
        progress = min(1.0, (step - self.warmup_steps) / (self.total_steps - self.warmup_steps))
        return self.min_lr_ratio + (1.0 - self.min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


class WarmupCosine(LambdaLR):
    """Linear warm-up then cosine decay, stepped every optimizer step."""

    def __init__(
        self, optimizer: Optimizer, total_steps: float, warmup_steps: int = 100, min_lr_ratio: float = 0.05
    ) -> None:
        super().__init__(optimizer, _WarmupCosineFactor(total_steps, warmup_steps, min_lr_ratio))


class Constant(LambdaLR):
    """Constant learning rate (`model.scheduler._target_=colorgan.modules.schedules.Constant`)."""

    def __init__(self, optimizer: Optimizer, total_steps: float = 0) -> None:
        super().__init__(optimizer, _WarmupCosineFactor(total_steps, 0, 1.0))
