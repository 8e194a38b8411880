"""ColorDataModule: setup and real batches from both sources, in-process and with worker processes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from PIL import Image

from colorgan.data import ColorDataModule, DataError

SIZE = 32


def first_batches(module: ColorDataModule) -> tuple[torch.Tensor, torch.Tensor]:
    module.setup("fit")
    return next(iter(module.train_dataloader())), next(iter(module.val_dataloader()))


def write_photos(root: Path, count: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        height, width = rng.integers(20, 70, size=2)
        base = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
        photo = Image.fromarray(base).resize((int(width), int(height)), Image.Resampling.BILINEAR)
        photo.save(root / f"photo_{index:02d}.{'jpg' if index % 2 else 'png'}")
    Image.fromarray(np.full((30, 30), 128, np.uint8)).save(root / "gray.png")


def test_synthetic_batches_are_uint8_squares() -> None:
    module = ColorDataModule("synthetic", image_size=SIZE, batch_size=4, num_workers=0, num_train=10,
                             num_val=6)
    train, val = first_batches(module)
    for batch in (train, val):
        assert batch.dtype == torch.uint8 and batch.shape == (4, 3, SIZE, SIZE)
    assert len(module.train_dataset) == 10 and len(module.val_dataset) == 6
    assert len(module.train_dataloader()) == 2  # 10 images, batch 4, incomplete batch dropped
    assert not torch.equal(module.val_dataset[0], module.train_dataset[0])
    assert "synthetic" in module.describe() and "10 train / 6 val" in module.describe()


def test_folder_batches_skips_and_description(tmp_path: Path) -> None:
    write_photos(tmp_path / "photos", 12)
    module = ColorDataModule("folder", root=str(tmp_path / "photos"), image_size=SIZE, batch_size=3,
                             num_workers=0, val_fraction=0.25, max_val_images=2)
    train, val = first_batches(module)
    assert train.dtype == torch.uint8 and train.shape == (3, 3, SIZE, SIZE)
    assert val.dtype == torch.uint8 and val.shape[1:] == (3, SIZE, SIZE)
    assert len(module.val_dataset) <= 2 and len(module.train_dataset) + len(module.val_dataset) == 12
    assert [path.name for path in module.skipped["grayscale"]] == ["gray.png"]
    line = module.describe()
    assert "folder" in line and "1 grayscale (gray.png)" in line and "\n" not in line
    assert torch.equal(next(iter(module.val_dataloader())), val)  # validation is deterministic


def test_worker_processes_deliver_the_same_kind_of_batch() -> None:
    module = ColorDataModule("synthetic", image_size=SIZE, batch_size=4, num_workers=2, num_train=8,
                             num_val=4, persistent_workers=True)
    train, val = first_batches(module)
    assert train.dtype == torch.uint8 and train.shape == (4, 3, SIZE, SIZE)
    assert val.shape == (4, 3, SIZE, SIZE)
    assert module.train_dataloader().persistent_workers


def test_problems_surface_as_data_errors_at_setup(tmp_path: Path) -> None:
    missing = ColorDataModule("folder", root=str(tmp_path / "nowhere"), num_workers=0)
    with pytest.raises(DataError, match="nowhere"):
        missing.setup("fit")
    with pytest.raises(DataError, match="root"):
        ColorDataModule("folder", root=None, num_workers=0).setup("fit")
    with pytest.raises(DataError, match="unknown data source"):
        ColorDataModule("imagenet")
    with pytest.raises(DataError, match="image_size"):
        ColorDataModule("synthetic", image_size=0)
    write_photos(tmp_path / "one", 1)
    with pytest.raises(DataError, match="at least 2"):
        ColorDataModule("folder", root=str(tmp_path / "one"), num_workers=0).setup("fit")


def test_hydra_can_build_it_from_plain_data() -> None:
    config = {"_target_": "colorgan.data.ColorDataModule", "source": "synthetic", "image_size": SIZE,
              "batch_size": 2, "num_workers": 0, "num_train": 4, "num_val": 2, "max_val_images": None}
    module = instantiate(config)
    assert isinstance(module, ColorDataModule)
    train, _ = first_batches(module)
    assert train.shape == (2, 3, SIZE, SIZE)
    assert module.train_dataloader().persistent_workers is False  # no workers, nothing to persist
