"""Reference "colorizers" every model must beat: they set the floor of each metric.

- ``gray_baseline``: do nothing; show the B&W photo (Rec.601 Y repeated over R, G, B).
- ``mean_chroma_baseline``: paint every pixel with one constant (a, b), e.g. the training set's mean,
  at the lightness of the B&W photo: the best a colorizer can do knowing nothing about the image.
"""

from __future__ import annotations

import kornia.color as kc
import torch
from torch import Tensor

from colorgan.color import rgb_to_gray
from colorgan.metrics.colorfulness import check_rgb_batch


def gray_baseline(rgb: Tensor) -> Tensor:
    """The B&W photo as RGB: ``[B,3,H,W]`` -> ``[B,3,H,W]`` with R = G = B = Rec.601 Y."""
    rgb = check_rgb_batch(rgb)
    return rgb_to_gray(rgb).repeat(1, 3, 1, 1)


def mean_chroma_baseline(rgb: Tensor, mean_ab: tuple[float, float]) -> Tensor:
    """The B&W photo's Lab L* with the constant ``mean_ab`` = (a*, b*) everywhere, as RGB in [0, 1].

    The lightness is that of the gray photo (what a colorizer gets), not of the color original;
    colors outside the sRGB gamut are clipped.
    """
    if len(mean_ab) != 2:
        raise ValueError(f"mean_ab must be a pair (a, b), got {mean_ab!r}")
    lightness = kc.rgb_to_lab(gray_baseline(rgb))[:, :1]
    a_channel = torch.full_like(lightness, float(mean_ab[0]))
    b_channel = torch.full_like(lightness, float(mean_ab[1]))
    return kc.lab_to_rgb(torch.cat([lightness, a_channel, b_channel], dim=1), clip=True)
