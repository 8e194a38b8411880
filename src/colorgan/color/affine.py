"""The affine merge of a linear color space, which lets a small prediction become full-resolution output."""

from __future__ import annotations

import torch
from torch import Tensor

from colorgan.color.base import ColorSpace


def affine_merge_matrix(space: ColorSpace, step: float = 0.05) -> Tensor:
    """M [3, C] with ``space.merge(space.luma_from_gray(g), c) == g + M c`` for in-gamut colors.

    Probed from the space itself and verified, so only a space that really is affine (YCbCr, YUV) passes.

    Example:
        >>> from colorgan.color import get_colorspace
        >>> matrix = affine_merge_matrix(get_colorspace("ycbcr"))  # red, green, blue per (Cb, Cr)
        >>> tuple(matrix.shape), [round(value, 3) + 0.0 for value in matrix[:, 1].tolist()]
        ((3, 2), [0.701, -0.357, 0.0])
        >>> affine_merge_matrix(get_colorspace("lab"))
        Traceback (most recent call last):
        ...
        ValueError: color space 'lab' is not affine in its chroma: not usable as reference
    """
    gray = torch.full((1, 1, 1, 1), 0.5, dtype=torch.float64)
    luma = space.luma_from_gray(gray)
    zero = torch.zeros(1, space.chroma_channels, 1, 1, dtype=torch.float64)
    columns = []
    for channel in range(space.chroma_channels):
        probe = zero.clone()
        probe[0, channel] = step
        columns.append((space.merge(luma, probe) - 0.5).flatten() / step)
    matrix = torch.stack(columns, dim=1)
    generator = torch.Generator().manual_seed(0)
    grays = torch.rand(1, 1, 4, 4, generator=generator, dtype=torch.float64) * 0.5 + 0.25
    chroma = torch.rand(1, space.chroma_channels, 4, 4, generator=generator, dtype=torch.float64) * 0.2 - 0.1
    expected = space.merge(space.luma_from_gray(grays), chroma)
    predicted = grays + torch.einsum("kc,bchw->bkhw", matrix, chroma)
    if not torch.allclose(expected, predicted, atol=1e-6):
        raise ValueError(f"color space {space.name!r} is not affine in its chroma: not usable as reference")
    return matrix.float()
