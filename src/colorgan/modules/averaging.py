"""Weight averaging (EMA): validation and every checkpoint use an exponential moving average of the
weights instead of the last step's.

Built on Lightning's `WeightAveraging` callback, which keeps the averaged copy, swaps it in for validation
and writes it as every checkpoint's ``state_dict`` (the raw weights go to ``current_model_state``, so that a
resume continues exactly where training was). Two changes:
- the model keeps its raw weights when training ends (Lightning copies the average in, and the final
  ``last.ckpt``, written after that, then held the average twice and lost the raw weights a resume needs);
- the decay warms up: with a fixed 0.99, the initial weights would still make up 0.99^100 = 37 % of the
  average after 100 steps. Step ``n`` uses ``min(decay, (1 + n) / (10 + n))`` instead, so the average
  follows the weights closely at first and settles to ``decay`` later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytorch_lightning.callbacks import WeightAveraging
from torch import Tensor


def checked_decay(decay: float) -> float:
    """``model.ema_decay`` as a float, or a `ValueError` naming the option when it is not in (0, 1)."""
    if not 0.0 < float(decay) < 1.0:
        raise ValueError(f"model.ema_decay must be in (0, 1) or null, got {decay!r}")
    return float(decay)


def warmed_up_decay(decay: float, updates: int) -> float:
    """The EMA decay of update number ``updates`` (0 = the first average after the initial copy)."""
    return min(decay, (1.0 + updates) / (10.0 + updates))


def ema_average(decay: float) -> Callable[[Tensor, Tensor, Tensor | int], Tensor]:
    """``avg_fn`` for `torch.optim.swa_utils.AveragedModel`: an EMA whose decay warms up to ``decay``."""

    def average(averaged: Tensor, current: Tensor, num_averaged: Tensor | int) -> Tensor:
        step_decay = warmed_up_decay(decay, int(num_averaged))
        return averaged * step_decay + current * (1.0 - step_decay)

    return average


class EMAWeights(WeightAveraging):
    """Exponential moving average of every weight and buffer, updated after each optimizer step.

    ``decay``: the settled decay (0.99 averages over about the last 100 steps; must be in (0, 1)). Stage 2
    (GAN) averages its discriminator too, harmlessly: only the generator is validated and exported.
    """

    def __init__(self, decay: float = 0.99, **kwargs: Any) -> None:
        self.decay = checked_decay(decay)
        super().__init__(avg_fn=ema_average(self.decay), **kwargs)

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        """Leave the raw weights in the model: the checkpoints already hold the average."""

    def should_update(self, step_idx: int | None = None, epoch_idx: int | None = None) -> bool:
        """After every optimizer step; never at epoch ends."""
        return step_idx is not None
