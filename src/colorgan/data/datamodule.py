"""ColorDataModule: uint8 RGB batches [B,3,S,S] from a named source (synthetic landscapes, a photo folder)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytorch_lightning as pl
from torch.utils.data import DataLoader, Dataset

from colorgan.data.errors import DataError
from colorgan.data.folder import FolderDataset, FolderScan, scan_folder, split_files
from colorgan.data.synthetic import SyntheticLandscapes
from colorgan.data.transforms import CenterSquare, RandomSquareCrop, check_image_size

logger = logging.getLogger("colorgan.data")

SYNTHETIC_VAL_OFFSET = 1_000_000_000
"""Validation landscapes use indices from here on, so they never repeat a training image."""


@dataclass
class SourceSplits:
    """What a source builder returns: the two datasets and one line about where they came from."""

    train: Dataset
    val: Dataset
    description: str
    loader: Callable[[ColorDataModule, Dataset, bool], DataLoader] | None = None
    """Builds the DataLoader of (module, dataset, train?) instead of torch's (e.g. litdata's)."""


SourceBuilder = Callable[["ColorDataModule"], SourceSplits]
SOURCES: dict[str, SourceBuilder] = {}


def register_source(name: str) -> Callable[[SourceBuilder], SourceBuilder]:
    """Decorator adding a source builder (reads the DataModule's settings, returns SourceSplits)."""

    def add(builder: SourceBuilder) -> SourceBuilder:
        SOURCES[name] = builder
        return builder

    return add


@register_source("synthetic")
def build_synthetic(module: ColorDataModule) -> SourceSplits:
    """Procedural landscapes: ``num_train`` for training, ``num_val`` disjoint ones for validation."""
    train = SyntheticLandscapes(module.num_train, module.image_size, seed=module.synthetic_seed)
    val = SyntheticLandscapes(module.num_val, module.image_size, seed=module.synthetic_seed,
                              first_index=SYNTHETIC_VAL_OFFSET)
    return SourceSplits(train, val, f"synthetic landscapes (seed {module.synthetic_seed})")


@register_source("folder")
def build_folder(module: ColorDataModule) -> SourceSplits:
    """Photos under ``root``: validated once, then split by path hash into train and val."""
    if not module.root:
        raise DataError("data source 'folder' needs a root folder: set data.root=/path/to/photos")
    root = Path(module.root).expanduser()
    scan: FolderScan = scan_folder(root)
    train_files, val_files = split_files(scan.usable, root, module.val_fraction, module.split_seed,
                                         module.max_val_images)
    if not train_files or not val_files:
        raise DataError(f"folder {root.resolve()} has {len(scan.usable)} usable photo(s): need at least 2 to "
                        "make a training and a validation set")
    train = FolderDataset(train_files, RandomSquareCrop(module.image_size, module.min_scale, module.hflip),
                          skipped=scan.skipped)
    val = FolderDataset(val_files, CenterSquare(module.image_size), skipped=scan.skipped)
    module.skipped = scan.skipped
    skipped = sum(len(paths) for paths in scan.skipped.values())
    note = f"; {scan.summary()}" if skipped else ""
    return SourceSplits(train, val, f"folder {root}{note}")


class ColorDataModule(pl.LightningDataModule):
    """Batches of uint8 RGB images [B,3,S,S] for colorization (color conversion happens on the device).

    Args:
        source: where images come from: "synthetic" (procedural landscapes, no files needed) or
            "folder" (any tree of photos under ``root``). More sources register via ``register_source``.
        root: photo folder for source "folder" (searched recursively; jpg/jpeg/png/webp/bmp/tif/tiff).
        image_size: side S of the square training and validation images, in pixels (>= 8).
        batch_size: images per batch (per device under DDP).
        num_workers: DataLoader worker processes (0 = load in the main process).
        pin_memory: page-lock batches for faster host-to-GPU copies (useful on CUDA).
        persistent_workers: keep workers alive between epochs (only used when num_workers > 0).
        val_fraction: folder: share of photos held out for validation, in (0, 1).
        max_val_images: folder: cap on validation photos (surplus goes to training); null = no cap.
        split_seed: folder: seed of the path-hash split; the split is stable when photos are added.
        num_train: synthetic: number of training landscapes (item i is always the same image).
        num_val: synthetic: number of validation landscapes (disjoint from the training ones).
        synthetic_seed: synthetic: seed of the landscape generator.
        min_scale: folder train crops: smallest crop area as a fraction of the largest square, in (0, 1].
        hflip: folder train crops: random horizontal flips.
        drop_last: drop the last incomplete training batch (ignored when it would leave no batch).
    """

    def __init__(self, source: str = "synthetic", root: str | None = None, image_size: int = 128,
                 batch_size: int = 16, num_workers: int = 2, pin_memory: bool = False,
                 persistent_workers: bool = True, val_fraction: float = 0.1, max_val_images: int | None = 256,
                 split_seed: int = 0, num_train: int = 4000, num_val: int = 128, synthetic_seed: int = 0,
                 min_scale: float = 0.5, hflip: bool = True, drop_last: bool = True) -> None:
        super().__init__()
        if source not in SOURCES:
            raise DataError(f"unknown data source {source!r}; choose one of {sorted(SOURCES)}")
        if batch_size < 1:
            raise DataError(f"batch_size must be >= 1, got {batch_size!r}")
        if num_workers < 0:
            raise DataError(f"num_workers must be >= 0, got {num_workers!r}")
        self.save_hyperparameters()
        self.source = source
        self.root = str(root) if root is not None else None
        self.image_size = check_image_size(image_size)
        self.batch_size = int(batch_size)
        self.num_workers = int(num_workers)
        self.pin_memory = bool(pin_memory)
        self.persistent_workers = bool(persistent_workers)
        self.val_fraction = float(val_fraction)
        self.max_val_images = max_val_images
        self.split_seed = int(split_seed)
        self.num_train = int(num_train)
        self.num_val = int(num_val)
        self.synthetic_seed = int(synthetic_seed)
        self.min_scale = float(min_scale)
        self.hflip = bool(hflip)
        self.drop_last = bool(drop_last)
        self.train_dataset: Dataset | None = None
        self.val_dataset: Dataset | None = None
        self.skipped: dict[str, list[Path]] = {}
        self._description = ""
        self._make_loader: Callable[[ColorDataModule, Dataset, bool], DataLoader] | None = None

    def setup(self, stage: str | None = None) -> None:
        """Build (and, for folders, validate) the datasets once; raises DataError on unusable data."""
        if self.train_dataset is not None:
            return
        splits = SOURCES[self.source](self)
        self.train_dataset, self.val_dataset = splits.train, splits.val
        self._make_loader = splits.loader
        self._description = splits.description
        logger.info(self.describe())

    def describe(self) -> str:
        """One line for the run log: source, image counts and size."""
        if self.train_dataset is None or self.val_dataset is None:
            return f"data: {self.source} (not set up yet), {self.image_size} px"
        return (f"data: {self._description} — {len(self.train_dataset)} train / {len(self.val_dataset)} val "
                f"images at {self.image_size}×{self.image_size} px, batch {self.batch_size}")

    def _loader(self, dataset: Dataset | None, train: bool) -> DataLoader:
        if dataset is None:
            raise DataError("ColorDataModule.setup() must run before asking for a dataloader")
        if self._make_loader is not None:
            return self._make_loader(self, dataset, train)
        drop_last = train and self.drop_last and len(dataset) >= self.batch_size
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=train, num_workers=self.num_workers,
                          pin_memory=self.pin_memory, drop_last=drop_last,
                          persistent_workers=self.persistent_workers and self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_dataset, train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_dataset, train=False)

    def test_dataloader(self) -> DataLoader:
        """The validation images (there is no separate test split)."""
        return self._loader(self.val_dataset, train=False)
