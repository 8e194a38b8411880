"""The guard against non-finite training losses: skip the step, count it, stop after too many in a row.

Both stages decide per batch whether every loss is finite (on every process alike); a non-finite batch
updates no weights (its gradients are dropped) and is counted (``train/nonfinite_steps``). After
``max_consecutive`` such batches in a row training stops with `NonFiniteLossError`, one clear line.
"""

from __future__ import annotations

from colorgan.errors import UserError


class NonFiniteLossError(UserError):
    """Training stopped because its loss kept being NaN or infinite."""


class NonFiniteGuard:
    """Counts non-finite training steps; raises after ``max_consecutive`` in a row (None or 0: never).

    Example:
        >>> guard = NonFiniteGuard(2, "model.optimizer.lr")
        >>> guard.record(False, step=3)
        >>> (guard.streak, guard.total)
        (1, 1)
        >>> guard.record(False, step=4)
        Traceback (most recent call last):
        ...
        colorgan.modules.nonfinite.NonFiniteLossError: training stopped at step 4: ... 2 steps in a row ...
    """

    def __init__(
        self, max_consecutive: int | None = 5, learning_rate_keys: str = "the learning rate"
    ) -> None:
        if max_consecutive is not None and (
            isinstance(max_consecutive, bool) or not isinstance(max_consecutive, int) or max_consecutive < 0
        ):
            raise UserError(
                f"model.max_nonfinite_steps must be a whole number >= 0 or null, got {max_consecutive!r}"
            )
        self.max_consecutive = max_consecutive or None
        self.learning_rate_keys = learning_rate_keys
        self.streak = 0
        self.total = 0

    def record(self, finite: bool, step: int) -> None:
        """Count one step; raise `NonFiniteLossError` when the non-finite streak reaches the limit."""
        if finite:
            self.streak = 0
            return
        self.streak += 1
        self.total += 1
        if self.max_consecutive is not None and self.streak >= self.max_consecutive:
            raise NonFiniteLossError(
                f"training stopped at step {step}: the loss was NaN or infinite in {self.streak} steps "
                f"in a row (model.max_nonfinite_steps={self.max_consecutive}); "
                f"lower {self.learning_rate_keys} or check the data"
            )
