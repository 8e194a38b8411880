"""SyntheticLandscapes: the built-in, download-free training data."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from colorgan.data.errors import DataError
from colorgan.data.source import DataSource, SourceSplits
from colorgan.data.synthetic.compose import render_landscape
from colorgan.data.transforms import check_image_size

VAL_OFFSET = 1_000_000_000
"""Validation landscapes use indices from here on, so they never repeat a training image."""


class SyntheticLandscapes(Dataset):
    """Procedural landscapes (sky, sun, clouds, mountains, lakes, fields, forests) as uint8 [3,S,S].

    Item ``i`` is a pure function of ``(seed, first_index + i, image_size)``: the same in every
    worker, epoch and run. Use a different ``first_index`` (or seed) to get a disjoint set.
    """

    def __init__(self, length: int, image_size: int = 128, seed: int = 0, first_index: int = 0) -> None:
        if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 1:
            raise DataError(f"synthetic dataset length must be a positive integer, got {length!r}")
        for name, value in (("seed", seed), ("first_index", first_index)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise DataError(f"synthetic {name} must be an integer >= 0, got {value!r}")
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


class SyntheticSource(DataSource):
    """Procedural landscapes, no files needed: ``num_train`` for training, ``num_val`` disjoint ones for val.

    Images are rendered at ``image_size`` directly (no crops or flips).
    """

    def __init__(self, num_train: int = 4000, num_val: int = 128, image_size: int = 128,
                 seed: int = 0) -> None:
        super().__init__(image_size)
        self.num_train, self.num_val, self.seed = num_train, num_val, seed
        SyntheticLandscapes(num_train, self.image_size, seed)  # checks the arguments now, not at setup
        SyntheticLandscapes(num_val, self.image_size, seed)

    def splits(self) -> SourceSplits:
        train = SyntheticLandscapes(self.num_train, self.image_size, seed=self.seed)
        val = SyntheticLandscapes(self.num_val, self.image_size, seed=self.seed, first_index=VAL_OFFSET)
        return SourceSplits(train, val, f"synthetic landscapes (seed {self.seed})")
