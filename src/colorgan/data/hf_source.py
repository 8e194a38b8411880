"""`data=huggingface`: a Hugging Face ``datasets`` dataset: from the hub, a ``save_to_disk`` folder, or
``imagefolder`` over local photos; optionally streamed (large sets, nothing downloaded up front).

``pip install 'colorgan[hf]'`` (the ``datasets`` package). Exactly one of ``name`` (a hub dataset such as
``user/photos``, or a packaged builder such as ``imagefolder`` with ``data_dir``) and ``disk`` (a folder
written by ``Dataset.save_to_disk``) is set. The image column (``image_column``, default ``image``) may hold
PIL images (an ``Image`` feature), arrays, or ``{"bytes", "path"}`` records.

Without ``val_split`` the validation photos are held out of ``split`` by the folder source's name-hash
split; streamed, they are the first ``max_val_images`` examples of the stream (skipped by training).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, IterableDataset

from colorgan.data.collection import CollectionSource, PhotoCollection, as_rgb_image, sample_problem
from colorgan.data.errors import DataError, ImageError
from colorgan.data.source import LoaderSettings, SourceSplits, torch_loader
from colorgan.data.transforms import CenterSquare

logger = logging.getLogger(__name__)

INSTALL_HINT = ("data=huggingface needs the datasets package: pip install 'colorgan[hf]' "
                "(or pip install datasets)")


def require_datasets() -> Any:
    """The ``datasets`` module, or a DataError telling how to install it."""
    try:
        import datasets
    except ImportError as error:
        raise DataError(INSTALL_HINT) from error
    return datasets


def decode_cell(value: Any) -> Image.Image:
    """One image cell (PIL image, array, tensor, or a {"bytes", "path"} record) as 8-bit RGB PIL."""
    if isinstance(value, dict) and ("bytes" in value or "path" in value):
        try:
            with Image.open(io.BytesIO(value["bytes"]) if value.get("bytes") else value["path"]) as image:
                image.load()
                return as_rgb_image(image)
        except (OSError, ValueError, SyntaxError, TypeError) as error:
            raise ImageError(f"cannot decode image {value.get('path') or '(bytes)'}: {error}") from error
    return as_rgb_image(value)


class HuggingFacePhotos(PhotoCollection):
    """A (map-style) ``datasets.Dataset`` as a `PhotoCollection`: photo = ``image_column``."""

    def __init__(self, dataset: Any, split: str, image_column: str, label_column: str | None,
                 origin: str) -> None:
        if image_column not in dataset.column_names:
            raise DataError(f"{origin} split {split!r} has no column {image_column!r} (it has "
                            f"{dataset.column_names}): set data.image_column")
        self.label_column = label_column if label_column in dataset.column_names else None
        self.dataset = dataset.select_columns([image_column])
        self.full = dataset
        self.image_column, self.split = image_column, split
        self.description = f"Hugging Face {origin} [{split}]"

    def __len__(self) -> int:
        return len(self.dataset)

    def image(self, index: int) -> Image.Image:
        try:
            return decode_cell(self.dataset[int(index)][self.image_column])
        except ImageError:
            raise
        except (OSError, ValueError, SyntaxError, TypeError, KeyError) as error:
            raise ImageError(f"cannot read {self.name(index)}: {error}") from error

    def name(self, index: int) -> str:
        return f"{self.split}/#{index:08d}"

    def labels(self) -> list[int] | None:
        if self.label_column is None:
            return None
        return [int(label) for label in self.full[self.label_column]]

    def class_index(self) -> dict[str, int]:
        feature = self.full.features.get(self.label_column) if self.label_column else None
        names = getattr(feature, "names", None) or []
        return {str(name): position for position, name in enumerate(names)}


class StreamedPhotos(IterableDataset):
    """A streamed (``IterableDataset``) split -> uint8 tensors [3,S,S]; DataLoader workers each read their own
    shards (datasets splits them). Unreadable and (with ``min_colorfulness``) dull photos are passed over."""

    def __init__(self, stream: Any, image_column: str, transform: Any, min_colorfulness: float,
                 description: str) -> None:
        self.stream, self.image_column, self.transform = stream, image_column, transform
        self.min_colorfulness, self.description = min_colorfulness, description

    def __iter__(self) -> Iterator[torch.Tensor]:
        for example in self.stream:
            try:
                image = decode_cell(example[self.image_column])
            except (ImageError, KeyError) as error:
                logger.warning("passing over a photo of %s: %s", self.description, error)
                continue
            if self.min_colorfulness > 0 and sample_problem(image, self.min_colorfulness) is not None:
                continue
            yield self.transform(image)


class HuggingFaceSource(CollectionSource):
    """Photos of a Hugging Face dataset, with the folder source's checks, split and uint8 transforms.

    Args:
        name: a hub dataset (``user/photos``) or a packaged builder (``imagefolder`` with ``data_dir``).
        disk: a folder written by ``save_to_disk`` (a Dataset, or a DatasetDict holding ``split``).
        data_dir, subset, revision, cache_dir: passed to ``datasets.load_dataset`` (``subset`` is its
            ``name``: the dataset's configuration).
        split: the training split; val_split: a separate validation split (None = hold out).
        image_column: the column holding the photos; label_column: class labels (for ``categories``).
        streaming: read the hub dataset as a stream (large sets): no download up front, no length;
            ``categories`` are not supported then, ``min_colorfulness`` is applied as photos arrive.
        shuffle_buffer: streamed training examples shuffled within a buffer of this many.
        image_size, categories, val_fraction, max_val_images, split_seed, min_scale, hflip,
        min_colorfulness: see `CollectionSource`.
    """

    def __init__(self, name: str | None = None, disk: str | Path | None = None, image_size: int = 128,
                 data_dir: str | None = None, subset: str | None = None, split: str = "train",
                 val_split: str | None = None, image_column: str = "image",
                 label_column: str | None = "label",
                 revision: str | None = None, cache_dir: str | None = None, streaming: bool = False,
                 shuffle_buffer: int = 1000, categories: Sequence[str] | None = None,
                 val_fraction: float = 0.1, max_val_images: int | None = 256, split_seed: int = 0,
                 min_scale: float = 0.5, hflip: bool = True, min_colorfulness: float = 0.0) -> None:
        super().__init__(image_size, categories, val_fraction, max_val_images, split_seed, min_scale, hflip,
                         min_colorfulness)
        if bool(name) == bool(disk):
            raise DataError("data=huggingface needs exactly one of data.name=HUB_DATASET_OR_BUILDER "
                            "(e.g. user/photos, or imagefolder with data.data_dir=FOLDER) and "
                            "data.disk=FOLDER (written by save_to_disk)")
        if streaming and disk:
            raise DataError("data.streaming=true streams a hub dataset (data.name); a save_to_disk folder "
                            "is read from disk as it is: set data.streaming=false")
        if streaming and self.categories:
            raise DataError("data.categories needs the whole label column: set data.streaming=false")
        self.name, self.disk = name, Path(disk).expanduser() if disk else None
        self.data_dir, self.subset, self.revision, self.cache_dir = data_dir, subset, revision, cache_dir
        self.split, self.val_split, self.streaming = split, val_split, bool(streaming)
        self.image_column, self.label_column = image_column, label_column
        self.shuffle_buffer = int(shuffle_buffer)

    @property
    def origin(self) -> str:
        if self.disk is not None:
            return f"dataset at {self.disk}"
        return f"{self.name}" + (f" ({self.data_dir})" if self.data_dir else "")

    def _load(self, split: str) -> Any:
        datasets = require_datasets()
        try:
            if self.disk is not None:
                loaded = datasets.load_from_disk(str(self.disk))
                if isinstance(loaded, datasets.DatasetDict):
                    if split not in loaded:
                        raise DataError(f"{self.origin} has splits {sorted(loaded)}, not {split!r}: "
                                        "set data.split (and data.val_split)")
                    return loaded[split]
                return loaded
            return datasets.load_dataset(self.name, self.subset, data_dir=self.data_dir, split=split,
                                         revision=self.revision, cache_dir=self.cache_dir,
                                         streaming=self.streaming)
        except DataError:
            raise
        except (FileNotFoundError, ValueError, ConnectionError, OSError) as error:
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise DataError(f"cannot load Hugging Face {self.origin} split {split!r}: {first}") from error

    def collections(self) -> tuple[PhotoCollection, PhotoCollection | None]:
        train = HuggingFacePhotos(self._load(self.split), self.split, self.image_column, self.label_column,
                                  self.origin)
        if self.val_split is None:
            return train, None
        return train, HuggingFacePhotos(self._load(self.val_split), self.val_split, self.image_column,
                                        self.label_column, self.origin)

    def splits(self) -> SourceSplits:
        if not self.streaming:
            return super().splits()
        stream = self._load(self.split)
        count = self.max_val_images or 256
        if self.val_split is None:
            val_stream, train_stream = stream.take(count), stream.skip(count)
            where = f"first {count} photos held out"
        else:
            val_stream, train_stream = self._load(self.val_split).take(count), stream
            where = f"val from {self.val_split}"
        train_stream = train_stream.shuffle(seed=self.split_seed, buffer_size=self.shuffle_buffer)
        description = f"Hugging Face {self.origin} [{self.split}], streamed ({where})"
        train = StreamedPhotos(train_stream, self.image_column, self.crop, self.min_colorfulness, description)
        val = StreamedPhotos(val_stream, self.image_column, CenterSquare(self.image_size),
                             self.min_colorfulness, description)
        note = f", min_colorfulness {self.min_colorfulness:g} applied as photos arrive" \
            if self.min_colorfulness > 0 else ""
        return SourceSplits(train, val, description + note, {})

    def loader(self, dataset: Dataset, train: bool, settings: LoaderSettings) -> DataLoader:
        """torch's DataLoader; a stream is not shuffled by the sampler (its buffer shuffles it)."""
        if not isinstance(dataset, StreamedPhotos):
            return torch_loader(dataset, train, settings)
        return DataLoader(dataset, batch_size=settings.batch_size, num_workers=settings.num_workers,
                          pin_memory=settings.pin_memory, drop_last=train and settings.drop_last,
                          persistent_workers=settings.persistent_workers and settings.num_workers > 0)

    def __repr__(self) -> str:
        return f"HuggingFaceSource({self.origin}, image_size={self.image_size})"
