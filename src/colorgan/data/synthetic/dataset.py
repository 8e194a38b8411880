"""SyntheticLandscapes: the built-in, download-free training data."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from colorgan.data.errors import DataError
from colorgan.data.synthetic.compose import render_landscape
from colorgan.data.transforms import check_image_size


class SyntheticLandscapes(Dataset):
    """Procedural landscapes (sky, sun, clouds, mountains, lakes, fields, forests) as uint8 [3,S,S].

    Item ``i`` is a pure function of ``(seed, first_index + i, image_size)``: the same in every
    worker, epoch and run. Use a different ``first_index`` (or seed) to get a disjoint set.
    """

    def __init__(self, length: int, image_size: int = 128, seed: int = 0, first_index: int = 0) -> None:
        if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 1:
            raise DataError(f"synthetic dataset length must be a positive integer, got {length!r}")
        if first_index < 0 or seed < 0:
            raise DataError(f"seed and first_index must be >= 0, got {seed!r} and {first_index!r}")
        self.length = int(length)
        self.image_size = check_image_size(image_size)
        self.seed = int(seed)
        self.first_index = int(first_index)

    def __len__(self) -> int:
        return self.length

    def render(self, index: int) -> np.ndarray:
        """Item ``index`` as a uint8 numpy array (3, S, S)."""
        if not -self.length <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} synthetic images")
        index %= self.length
        rng = np.random.default_rng([self.seed, self.first_index + index])
        return render_landscape(rng, self.image_size, self.image_size)

    def __getitem__(self, index: int) -> torch.Tensor:
        return torch.from_numpy(self.render(index))
