"""The data-source interface: what `ColorDataModule` needs from any place images come from.

A source is a class chosen in the config by ``_target_`` (``data.source: {_target_:
colorgan.data.FolderSource, root: ...}``) holding only its own arguments. It builds the two datasets
(uint8 RGB tensors [3,S,S]) once; the DataModule owns the loader settings shared by every source.
A new source (torchvision, Hugging Face, ...) subclasses `DataSource`, implements `splits`, may override
`loader` (litdata brings its own DataLoader), and is added to the allow-list in `colorgan.data.build`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from torch.utils.data import DataLoader, Dataset

from colorgan.data.errors import DataError
from colorgan.data.transforms import check_image_size


@dataclass(frozen=True)
class LoaderSettings:
    """The DataLoader settings every source shares (set once under ``data:`` in the config)."""

    batch_size: int = 16
    num_workers: int = 2
    pin_memory: bool = False
    persistent_workers: bool = True
    drop_last: bool = True

    def __post_init__(self) -> None:
        for name, least in (("batch_size", 1), ("num_workers", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise DataError(f"{name} must be an integer >= {least}, got {value!r}")


@dataclass
class SourceSplits:
    """What a source gives the DataModule: two datasets, one line about them, and what it left out."""

    train: Dataset
    val: Dataset
    description: str
    skipped: dict[str, list[Path]] = field(default_factory=dict)
    """Files the source left out, by reason (e.g. 'unreadable', 'grayscale'); empty reasons omitted."""


def torch_loader(dataset: Dataset, train: bool, settings: LoaderSettings) -> DataLoader:
    """torch's DataLoader: shuffled training batches (last incomplete one dropped if asked), ordered val."""
    drop_last = train and settings.drop_last and len(dataset) >= settings.batch_size
    return DataLoader(dataset, batch_size=settings.batch_size, shuffle=train,
                      num_workers=settings.num_workers, pin_memory=settings.pin_memory, drop_last=drop_last,
                      persistent_workers=settings.persistent_workers and settings.num_workers > 0)


class DataSource(ABC):
    """Where training and validation images come from (uint8 RGB tensors [3,S,S], S = ``image_size``)."""

    def __init__(self, image_size: int) -> None:
        self.image_size = check_image_size(image_size)

    @abstractmethod
    def splits(self) -> SourceSplits:
        """Build (and validate) the train and val datasets; raises DataError on unusable data."""

    def loader(self, dataset: Dataset, train: bool, settings: LoaderSettings) -> DataLoader:
        """The DataLoader of one split (torch's by default; a streaming source brings its own)."""
        return torch_loader(dataset, train, settings)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(image_size={self.image_size})"
