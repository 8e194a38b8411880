"""ColorDataModule: uint8 RGB batches [B,3,S,S] from any `DataSource`, with the loader settings set once.

Build it from a config with `colorgan.data.build_datamodule` (which checks every ``_target_`` first).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.utilities.rank_zero import rank_zero_only
from torch.utils.data import DataLoader, Dataset

from colorgan.data.errors import DataError
from colorgan.data.source import DataSource, LoaderSettings

logger = logging.getLogger(__name__)

#: fewer validation images than this: the lowest validation score (the best checkpoint) is partly luck; on
#: real photos, 25 and 11 were measured to mislead (README, "Small validation splits")
FEW_VAL_IMAGES = 50


def _count(dataset: Dataset) -> str:
    """The number of images of a dataset, or 'streamed' for one without a length."""
    try:
        return str(len(dataset))  # type: ignore[arg-type]
    except TypeError:
        return "streamed"


class ColorDataModule(pl.LightningDataModule):
    """Batches of uint8 RGB images [B,3,S,S] for colorization (color conversion happens on the device).

    Args:
        source: where the images come from (`FolderSource`, `SyntheticSource`, `PreparedSource`,
            `StreamingSource`, ...): builds the train and val datasets at its ``image_size``.
        batch_size: images per batch (per device under DDP).
        num_workers: DataLoader worker processes (0 = load in the main process).
        pin_memory: page-lock batches for faster host-to-GPU copies (useful on CUDA).
        persistent_workers: keep workers alive between epochs (only used when num_workers > 0).
        drop_last: drop the last incomplete training batch (ignored when it would leave no batch).
    """

    def __init__(self, source: DataSource, batch_size: int = 16, num_workers: int = 2,
                 pin_memory: bool = False, persistent_workers: bool = True, drop_last: bool = True) -> None:
        super().__init__()
        if not isinstance(source, DataSource):
            raise DataError(f"ColorDataModule needs a DataSource (e.g. colorgan.data.FolderSource), "
                            f"got {type(source).__name__}")
        self.settings = LoaderSettings(batch_size, num_workers, bool(pin_memory), bool(persistent_workers),
                                       bool(drop_last))
        self.save_hyperparameters(ignore=["source"])  # plain values only: checkpoints stay weights-only
        self.source = source
        self.train_dataset: Dataset | None = None
        self.val_dataset: Dataset | None = None
        self.skipped: dict[str, list[Path]] = {}
        self._description = ""

    @property
    def image_size(self) -> int:
        return self.source.image_size

    @property
    def batch_size(self) -> int:
        return self.settings.batch_size

    @property
    def num_workers(self) -> int:
        return self.settings.num_workers

    def setup(self, stage: str | None = None) -> None:
        """Build (and, for folders, validate) the datasets once; raises DataError on unusable data."""
        if self.train_dataset is not None:
            return
        splits = self.source.splits()
        self.train_dataset, self.val_dataset = splits.train, splits.val
        self.skipped = splits.skipped
        self._description = splits.description
        if rank_zero_only.rank == 0:  # under DDP every process sets up its data; one says so
            logger.info(self.describe())
            self._warn_if_few_val_images()

    def _warn_if_few_val_images(self) -> None:
        try:
            count = len(self.val_dataset)  # type: ignore[arg-type]
        except TypeError:  # streamed: no length
            return
        if count < FEW_VAL_IMAGES:
            logger.warning("only %d validation images: the best checkpoint (the lowest validation score) is "
                           "partly luck with so few; score checkpoints/last.ckpt too (README, \"Small "
                           "validation splits\") or hold out more photos", count)

    def describe(self) -> str:
        """One line for the run log: source, image counts and size."""
        if self.train_dataset is None or self.val_dataset is None:
            return f"data: {type(self.source).__name__} (not set up yet), {self.image_size} px"
        train, val = _count(self.train_dataset), _count(self.val_dataset)
        side = self.image_size
        return (f"data: {self._description} — {train} train / {val} val images at {side}×{side} px, "
                f"batch {self.batch_size}")

    def _loader(self, dataset: Dataset | None, train: bool) -> DataLoader:
        if dataset is None:
            raise DataError("ColorDataModule.setup() must run before asking for a dataloader")
        return self.source.loader(dataset, train, self.settings)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_dataset, train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_dataset, train=False)

    def test_dataloader(self) -> DataLoader:
        """The validation images (there is no separate test split)."""
        return self._loader(self.val_dataset, train=False)
