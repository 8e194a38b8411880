"""The base of every error that is the user's to fix (bad path, bad option): printed, not traced."""

from __future__ import annotations

import math


class UserError(ValueError):
    """A problem with the user's input or configuration, reported as one clear message."""


def first_line(error: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none): for one-line reports."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def checked_number(name: str, value: float | str, most: float = math.inf) -> float:
    """``value`` as a float if it is a finite number in [0, ``most``], else a one-line UserError naming
    ``name`` (loss weights, the inference caution and saturation)."""
    bounds = ">= 0" if math.isinf(most) else f"in [0, {most:g}]"
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{name} must be a number {bounds}, got {value!r}") from None
    if not (math.isfinite(number) and 0 <= number <= most):
        raise UserError(f"{name} must be a number {bounds}, got {value!r}")
    return number
