"""Normalization layers chosen by name, shared by the decoder and the discriminator."""

from __future__ import annotations

import math

from torch import nn

NORMS = ("batch", "instance", "group", "none")


def check_norm(norm: str) -> str:
    """Return ``norm`` if it names a known normalization, else raise a readable ValueError."""
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}: choose one of {', '.join(NORMS)}")
    return norm


def make_norm(norm: str, channels: int) -> nn.Module:
    """A normalization layer for ``channels`` feature maps (``nn.Identity`` for ``"none"``)."""
    check_norm(norm)
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if norm == "group":
        return nn.GroupNorm(math.gcd(32, channels), channels)
    return nn.Identity()
