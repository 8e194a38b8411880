"""Sources whose photos sit in a dataset object (torchvision, Hugging Face), not a folder of files.

A `PhotoCollection` gives photo ``i`` as an RGB PIL image and a stable name (a relative path, or
``SPLIT/#INDEX``). `CollectionSource` turns one or two collections into the train and val datasets the way
the folder source does: an optional category selection, the same checks and ``min_colorfulness`` filter
with the same skip summary, the same path-hash split (when no separate val collection is given), and the
same uint8 transforms (`RandomSquareCrop` / `CenterSquare`).
"""

from __future__ import annotations

import logging
import os
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from colorgan.data.colorfulness import LOW_COLORFULNESS, check_min_colorfulness, thumbnail, too_dull
from colorgan.data.errors import DataError, ImageError
from colorgan.data.folder import GRAYSCALE, SKIP_REASONS, UNREADABLE, first_readable, split_files
from colorgan.data.images import _to_rgb, is_grayscale, shape_problem
from colorgan.data.source import DataSource, SourceSplits
from colorgan.data.transforms import CenterSquare, RandomSquareCrop

logger = logging.getLogger(__name__)

_NAMES_SHOWN = 3
_MAX_SUBSTITUTES = 16


def as_rgb_image(value: Any) -> Image.Image:
    """A sample's image (PIL image, H×W[×C] array, or [C,H,W] uint8/float tensor) as 8-bit RGB PIL."""
    if isinstance(value, Image.Image):
        return _to_rgb(value)
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu()
        if tensor.is_floating_point():
            tensor = (tensor.clamp(0, 1) * 255).round().to(torch.uint8)
        value = tensor.permute(1, 2, 0).numpy() if tensor.ndim == 3 else tensor.numpy()
    if isinstance(value, np.ndarray):
        array = value[..., 0] if value.ndim == 3 and value.shape[-1] == 1 else value
        return _to_rgb(Image.fromarray(np.ascontiguousarray(array)))
    raise ImageError(f"a sample's image is a {type(value).__name__}, not an image")


class PhotoCollection(ABC):
    """Photos by index: ``len``, ``image(i)`` (RGB PIL; ImageError) and ``name(i)`` (stable, unique)."""

    description: str = "photos"

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def image(self, index: int) -> Image.Image:
        """Photo ``index`` decoded as 8-bit RGB; ImageError when it cannot be read."""

    def name(self, index: int) -> str:
        """A stable name of photo ``index`` (used by the split and the skip summary)."""
        return f"#{index:08d}"

    def labels(self) -> list[int] | None:
        """Each photo's class index, when the collection has classes (read without decoding images)."""
        return None

    def class_index(self) -> dict[str, int]:
        """Class name -> class index (every spelling a user may write), empty without classes."""
        return {}


def select_categories(collection: PhotoCollection, categories: Sequence[str] | None,
                      optional: Sequence[str] = ()) -> list[int]:
    """Indices of the photos in the named classes (all photos when ``categories`` is empty or None).

    Names in ``optional`` (those a preset such as ``landscapes`` brought) may be missing from the
    collection. Raises DataError naming an unknown class, when no named class is there, or when the
    collection has no classes to select from.
    """
    if not categories:
        return list(range(len(collection)))
    index, labels = collection.class_index(), collection.labels()
    if not index or labels is None:
        raise DataError(f"{collection.description} has no classes to select categories from; "
                        "leave data.categories empty")
    unknown = [name for name in categories if name not in index and name not in optional]
    wanted = {index[name] for name in categories if name in index}
    if unknown or not wanted:
        examples = ", ".join(sorted(index)[:6])
        named = unknown or list(categories)
        shown = f"{named[:5]}" + (f" and {len(named) - 5} more" if len(named) > 5 else "")
        raise DataError(f"unknown categories {shown} in {collection.description} (it has e.g. {examples})")
    return [position for position, label in enumerate(labels) if label in wanted]


def sample_problem(image: Image.Image, min_colorfulness: float) -> str | None:
    """Why a decoded photo is unfit for training (a skip reason, as the folder scan gives it), or None."""
    problem = shape_problem(*image.size)
    if problem is not None:
        return problem
    small = thumbnail(image)
    if is_grayscale(small):
        return GRAYSCALE
    return LOW_COLORFULNESS if too_dull(small, min_colorfulness) else None


def scan_collection(collection: PhotoCollection, indices: Sequence[int], min_colorfulness: float,
                    threads: int | None = None) -> tuple[list[int], dict[str, list[Path]]]:
    """Decode every listed photo once: (usable indices, skipped names by reason) as the folder scan does."""
    def check(index: int) -> str | None:
        try:
            return sample_problem(collection.image(index), min_colorfulness)
        except ImageError:
            return UNREADABLE

    workers = threads or min(8, (os.cpu_count() or 1) + 2)
    with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=workers) as pool:
        warnings.simplefilter("ignore")
        reasons = list(pool.map(check, indices))
    usable = [index for index, reason in zip(indices, reasons, strict=True) if reason is None]
    skipped = {reason: [Path(collection.name(index)) for index, why in zip(indices, reasons, strict=True)
                        if why == reason] for reason in SKIP_REASONS}
    return usable, {reason: names for reason, names in skipped.items() if names}


def skip_summary(skipped: dict[str, list[Path]], total: int) -> str:
    """One line such as 'skipped 2 of 40 photos: 2 low colorfulness (a.jpg, b.jpg)' ('' when none)."""
    count = sum(len(names) for names in skipped.values())
    if not count:
        return ""
    parts = [f"{len(names)} {reason} ({', '.join(str(name) for name in names[:_NAMES_SHOWN])}"
             f"{', …' if len(names) > _NAMES_SHOWN else ''})" for reason, names in skipped.items()]
    return f"skipped {count} of {total} photos: " + ", ".join(parts)


class CollectionDataset(Dataset):
    """Photos of a collection -> uint8 tensors [3,S,S] through ``transform``; an unreadable photo is
    logged once and replaced by the next one, as the folder dataset does."""

    def __init__(self, collection: PhotoCollection, indices: Sequence[int],
                 transform: Callable[[Image.Image], torch.Tensor]) -> None:
        if not indices:
            raise DataError(f"{collection.description} gives this dataset no photos")
        self.collection, self.indices, self.transform = collection, list(indices), transform
        self.failed: list[int] = []

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> torch.Tensor:
        count = len(self.indices)
        if not -count <= index < count:
            raise IndexError(f"index {index} out of range for {count} photos")
        image = first_readable(index, count, _MAX_SUBSTITUTES,
                               lambda i: self.collection.image(self.indices[i]),
                               lambda i, error: self._record_failure(self.indices[i], error))
        if image is not None:
            return self.transform(image)
        raise DataError(f"could not read {min(_MAX_SUBSTITUTES, count)} photos of "
                        f"{self.collection.description} in a row")

    def _record_failure(self, position: int, error: ImageError) -> None:
        if position not in self.failed:
            self.failed.append(position)
            logger.warning("substituting another photo for %s: %s", self.collection.name(position), error)


class CollectionSource(DataSource):
    """Base of the dataset-object sources: subclasses open the collections, this class does the rest.

    Args:
        image_size: side S of the square training and validation images (>= 8).
        categories: class names to keep (e.g. Places365's ``mountain``, ``/c/coast``); empty = all.
        val_fraction, max_val_images, split_seed: the folder source's path-hash split, used when there is
            no separate validation collection; with one, ``max_val_images`` caps it (by the same hash).
        min_scale, hflip: the training crops, as for `FolderSource`.
        min_colorfulness: leave out photos duller than this (0 = off). When > 0 every photo is decoded
            once at setup (like a folder scan); for a large set, ``prepare`` it once instead.
    """

    def __init__(self, image_size: int = 128, categories: Sequence[str] | None = None,
                 val_fraction: float = 0.1, max_val_images: int | None = 256, split_seed: int = 0,
                 min_scale: float = 0.5, hflip: bool = True, min_colorfulness: float = 0.0) -> None:
        super().__init__(image_size)
        if isinstance(categories, str):
            categories = [categories]
        self.categories = [str(name) for name in categories or []]
        self.optional_categories: list[str] = []  # names a preset brought: may be missing from a dataset
        self.val_fraction, self.max_val_images, self.split_seed = val_fraction, max_val_images, split_seed
        self.crop = RandomSquareCrop(self.image_size, min_scale, hflip)
        self.min_colorfulness = check_min_colorfulness(min_colorfulness)

    @abstractmethod
    def collections(self) -> tuple[PhotoCollection, PhotoCollection | None]:
        """(training collection, separate validation collection or None); raises DataError."""

    def photo_splits(self, scan: bool = True) -> tuple[tuple[PhotoCollection, list[int]],
                                                       tuple[PhotoCollection, list[int]],
                                                       dict[str, list[Path]], int]:
        """((train collection, indices), (val collection, indices), skipped by reason, photos looked at).

        ``scan=False`` leaves out the ``min_colorfulness`` check (prepare checks each photo as it writes).
        """
        train_set, val_set = self.collections()
        train_indices = select_categories(train_set, self.categories, self.optional_categories)
        val_indices = (select_categories(val_set, self.categories, self.optional_categories)
                       if val_set is not None else [])
        total = len(train_indices) + len(val_indices)
        skipped: dict[str, list[Path]] = {}
        if scan and self.min_colorfulness > 0:
            logger.info("checking %d photos of %s (min_colorfulness %g)", total, train_set.description,
                        self.min_colorfulness)
            train_indices, skipped = scan_collection(train_set, train_indices, self.min_colorfulness)
            if val_set is not None:
                val_indices, val_skipped = scan_collection(val_set, val_indices, self.min_colorfulness)
                for reason, names in val_skipped.items():
                    skipped.setdefault(reason, []).extend(names)
        if val_set is None:
            train_indices, val_indices = self._hash_split(train_set, train_indices)
            val_set = train_set
        elif self.max_val_images is not None and len(val_indices) > self.max_val_images:
            _, val_indices = self._hash_split(val_set, val_indices, cap_only=True)
        if not train_indices or not val_indices:
            raise DataError(f"{train_set.description} has {len(train_indices) + len(val_indices)} usable "
                            "photo(s) here: need at least 2 to make a training and a validation set")
        return (train_set, train_indices), (val_set, val_indices), skipped, total

    def _hash_split(self, collection: PhotoCollection, indices: list[int],
                    cap_only: bool = False) -> tuple[list[int], list[int]]:
        by_name = {Path(collection.name(index)): index for index in indices}
        if cap_only:  # every photo is validation: keep the max_val_images of smallest hash
            fraction = 1.0 - 1e-12
            _, kept = split_files(list(by_name), Path(), fraction, self.split_seed, self.max_val_images)
            return [], sorted(by_name[name] for name in kept)
        train, val = split_files(list(by_name), Path(), self.val_fraction, self.split_seed,
                                 self.max_val_images)
        return sorted(by_name[name] for name in train), sorted(by_name[name] for name in val)

    def splits(self) -> SourceSplits:
        (train_set, train_indices), (val_set, val_indices), skipped, total = self.photo_splits()
        train = CollectionDataset(train_set, train_indices, self.crop)
        val = CollectionDataset(val_set, val_indices, CenterSquare(self.image_size))
        summary = skip_summary(skipped, total)
        if summary:
            logger.warning(summary)
        chosen = f" ({len(self.categories)} categories)" if self.categories else ""
        return SourceSplits(train, val, f"{train_set.description}{chosen}{f'; {summary}' if summary else ''}",
                            skipped)
