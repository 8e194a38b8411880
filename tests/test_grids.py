"""colorgan.grids, the one owner of tiling: conversions, layouts and the Example: blocks of H2's modules."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest
import torch

from colorgan.grids import WHITE, letterbox, tile, to_rgb_uint8


@pytest.mark.parametrize("name", ["colorgan.grids", "colorgan.models.losses", "colorgan.modules.nonfinite"])
def test_docstring_examples_run(name):
    results = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert results.attempted > 0 and results.failed == 0, name


def test_every_layout_becomes_the_same_rgb_uint8():
    torch.manual_seed(0)
    rgb = torch.rand(3, 5, 6)
    expected = (rgb.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    assert np.array_equal(to_rgb_uint8(rgb), expected)
    assert np.array_equal(to_rgb_uint8(rgb.permute(1, 2, 0).numpy()), expected)
    assert np.array_equal(to_rgb_uint8(expected), expected)
    gray = to_rgb_uint8(torch.full((1, 2, 2), 0.5))
    assert gray.shape == (2, 2, 3) and (gray == 128).all()
    assert np.array_equal(to_rgb_uint8(np.full((2, 2), 128, np.uint8)), gray)
    assert (to_rgb_uint8(torch.full((2, 2), float("nan"))) == 0).all()  # a diverged output shows black
    with pytest.raises(ValueError, match="gray or RGB"):
        to_rgb_uint8(np.zeros((2, 2, 4)))


def test_tile_places_rows_with_gaps_bands_and_white_background():
    red = np.zeros((2, 3, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((4, 1, 3), np.uint8)
    blue[..., 2] = 255
    canvas = tile([[red, blue], [blue]], gap=2, top=3, bottom=1, caption_height=5)
    # top 3 | caption 5 | row 0: 4 tall | gap 2 | caption 5 | row 1: 4 tall | bottom 1
    assert canvas.shape == (3 + 5 + 4 + 2 + 5 + 4 + 1, 3 + 2 + 1, 3)
    assert (canvas[8:10, 0:3] == red).all() and (canvas[8:12, 5:6] == blue).all()
    assert (canvas[19:23, 0:1] == blue).all()
    assert (canvas[10:12, 0:3] == WHITE).all()  # below the shorter picture of row 0
    assert (canvas[:8] == WHITE).all() and (canvas[-1] == WHITE).all()
    with pytest.raises(ValueError, match="at least one picture"):
        tile([[red], []])


def test_letterbox_centers_and_refuses_what_does_not_fit():
    boxed = letterbox(np.zeros((2, 4, 3), np.uint8), 6, 4)
    assert boxed.shape == (6, 4, 3) and (boxed[2:4] == 0).all() and (boxed[:2] == WHITE).all()
    with pytest.raises(ValueError, match="does not fit"):
        letterbox(np.zeros((8, 4, 3), np.uint8), 6, 4)
