"""Synthetic landscapes: deterministic, the right shape, and colored the way landscapes are."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from colorgan.data import DataError, SyntheticLandscapes, is_grayscale


def test_item_is_a_pure_function_of_seed_and_index() -> None:
    first, again = SyntheticLandscapes(20, 48, seed=3), SyntheticLandscapes(20, 48, seed=3)
    for index in (0, 7, 19):
        assert torch.equal(first[index], again[index])
    assert torch.equal(first[-1], first[19])
    assert not torch.equal(first[0], first[1])
    assert not torch.equal(first[0], SyntheticLandscapes(20, 48, seed=4)[0])
    shifted = SyntheticLandscapes(20, 48, seed=3, first_index=5)
    assert torch.equal(shifted[0], first[5]) and not torch.equal(shifted[0], first[0])


@pytest.mark.parametrize("size", [32, 64, 96])
def test_items_are_uint8_chw_squares(size: int) -> None:
    dataset = SyntheticLandscapes(4, size, seed=0)
    for index in range(len(dataset)):
        image = dataset[index]
        assert image.dtype == torch.uint8 and image.shape == (3, size, size)
        assert image.is_contiguous()
    with pytest.raises(IndexError):
        dataset[4]


def test_landscapes_are_colorful_with_a_colored_sky_on_top() -> None:
    dataset = SyntheticLandscapes(24, 64, seed=11)
    images = [dataset[i].numpy().astype(np.float32) for i in range(len(dataset))]
    assert not any(is_grayscale(image.transpose(1, 2, 0).astype(np.uint8)) for image in images)
    spreads = [float((image.max(axis=0) - image.min(axis=0)).mean()) for image in images]
    assert np.median(spreads) > 25  # channel spread in 8-bit levels: clearly colored, not washed out

    def sky_tint(rows: np.ndarray) -> float:
        red, green, blue = rows.reshape(3, -1).mean(axis=1)
        return max(blue - (red + green) / 2, red - blue)  # blue, or warm as in a sunset

    top = np.array([sky_tint(image[:, :8]) for image in images])
    bottom = np.array([sky_tint(image[:, -8:]) for image in images])
    assert (top > 20).mean() >= 0.9  # the top rows of almost every image are sky colored
    assert (top - bottom).mean() > 15  # ground is less sky-tinted than the sky


def test_landscapes_vary_between_times_of_day() -> None:
    dataset = SyntheticLandscapes(40, 32, seed=0)
    top_colors = np.stack([dataset[i][:, :6].float().mean(dim=(1, 2)).numpy() for i in range(40)])
    warm = top_colors[:, 0] > top_colors[:, 2]  # sunsets have warm zeniths or horizons; days blue
    brightness = top_colors.mean(axis=1)
    assert brightness.max() - brightness.min() > 60  # day and dusk skies differ in light
    assert (~warm).sum() >= 20


def test_bad_arguments_raise_data_errors() -> None:
    with pytest.raises(DataError, match="image_size"):
        SyntheticLandscapes(4, 4)
    with pytest.raises(DataError, match="length"):
        SyntheticLandscapes(0, 32)
