"""A folder tree of photos: validation at setup, a stable train/val split, and the Dataset."""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from colorgan.data.colorfulness import LOW_COLORFULNESS, check_min_colorfulness, too_dull
from colorgan.data.errors import DataError, ImageError
from colorgan.data.images import (
    EXTREME_ASPECT,
    IMAGE_EXTENSIONS,
    TOO_MANY_PIXELS,
    decode_rgb,
    is_grayscale,
    list_visible_files,
    open_rgb,
    read_size,
    shape_problem,
)
from colorgan.data.source import DataSource, SourceSplits
from colorgan.data.transforms import CenterSquare, RandomSquareCrop

logger = logging.getLogger(__name__)

UNREADABLE, GRAYSCALE, NOT_IMAGE = "unreadable", "grayscale", "not an image"
SKIP_REASONS = (UNREADABLE, GRAYSCALE, LOW_COLORFULNESS, EXTREME_ASPECT, TOO_MANY_PIXELS, NOT_IMAGE)
"""Why a file under a photo folder is left out, in the order skip summaries list them."""
_THUMBNAIL_SIDE = 64
_NAMES_SHOWN = 3


@dataclass
class FolderScan:
    """Outcome of validating a folder: the usable photos and, per reason, the skipped files."""

    root: Path
    usable: list[Path]
    skipped: dict[str, list[Path]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.usable) + sum(len(paths) for paths in self.skipped.values())

    def summary(self) -> str:
        """One line such as 'skipped 3 of 120 files: 2 unreadable (a.jpg, b.jpg), 1 grayscale (c.png)'."""
        parts = [f"{len(paths)} {reason} ({self._names(paths)})"
                 for reason, paths in self.skipped.items() if paths]
        count = sum(len(paths) for paths in self.skipped.values())
        if not parts:
            return f"all {self.total} files in {self.root} usable"
        return f"skipped {count} of {self.total} files in {self.root}: " + ", ".join(parts)

    def _names(self, paths: list[Path]) -> str:
        names = [_relative(path, self.root) for path in paths[:_NAMES_SHOWN]]
        return ", ".join(names) + (", …" if len(paths) > _NAMES_SHOWN else "")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def unusable_reason(path: Path, gray_tolerance: int | None = None,
                    min_colorfulness: float = 0.0) -> str | None:
    """Why the file at ``path`` is unusable for training (one of SKIP_REASONS), or None when it is fine.

    ``min_colorfulness`` > 0 also rejects color photos duller than that (`colorgan.data.colorfulness`).
    """
    try:
        problem = shape_problem(*read_size(path))
        if problem is not None:
            return problem
        image = decode_rgb(path, min_side=_THUMBNAIL_SIDE)
    except ImageError:
        return UNREADABLE
    image.thumbnail((_THUMBNAIL_SIDE, _THUMBNAIL_SIDE), Image.Resampling.BILINEAR)
    thumbnail = np.asarray(image)
    gray = is_grayscale(thumbnail) if gray_tolerance is None else is_grayscale(thumbnail, gray_tolerance)
    if gray:
        return GRAYSCALE
    return LOW_COLORFULNESS if too_dull(thumbnail, min_colorfulness) else None


def scan_folder(root: str | Path, extensions: Iterable[str] = IMAGE_EXTENSIONS,
                gray_tolerance: int | None = None, threads: int | None = None,
                min_colorfulness: float = 0.0) -> FolderScan:
    """Find and validate every photo under ``root``; logs one summary line when files are skipped.

    ``min_colorfulness`` > 0 also leaves out photos duller than that (counted as "low colorfulness").

    Raises DataError when the folder is missing, holds no photos, or none of them is usable.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise DataError(f"image folder {root.resolve()} does not exist")
    if not root.is_dir():
        raise DataError(f"image folder {root.resolve()} is not a folder")
    wanted = {ext.lower() if ext.startswith(".") else f".{ext.lower()}" for ext in extensions}
    files = list_visible_files(root)
    images = [path for path in files if path.suffix.lower() in wanted]
    others = [path for path in files if path.suffix.lower() not in wanted]
    if not images:
        found = f"; it holds {len(others)} other files, e.g. {_relative(others[0], root)}" if others else ""
        raise DataError(f"no images ({', '.join(sorted(wanted))}) found in folder {root.resolve()}{found}")
    min_colorfulness = check_min_colorfulness(min_colorfulness)
    workers = threads or min(16, (os.cpu_count() or 1) + 4)
    with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=workers) as pool:
        warnings.simplefilter("ignore")  # PIL's remarks on odd EXIF or palettes; set once for all threads
        reasons = list(pool.map(lambda path: unusable_reason(path, gray_tolerance, min_colorfulness), images))
    outcomes = list(zip(images, reasons, strict=True))
    scan = FolderScan(root=root, usable=[path for path, reason in outcomes if reason is None])
    for reason in SKIP_REASONS:
        skipped = others if reason == NOT_IMAGE else [path for path, why in outcomes if why == reason]
        if skipped:
            scan.skipped[reason] = skipped
    if not scan.usable:
        raise DataError(f"no usable color photo in folder {root.resolve()}: {scan.summary()}")
    if any(scan.skipped.values()):
        logger.warning(scan.summary())
    return scan


def _split_key(relative_path: str, split_seed: int) -> float:
    """A stable number in [0, 1) per (path, seed): adding files never moves the existing ones."""
    digest = hashlib.blake2b(f"{split_seed}\0{relative_path}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def split_files(files: Sequence[Path], root: str | Path, val_fraction: float, split_seed: int = 0,
                max_val_images: int | None = None) -> tuple[list[Path], list[Path]]:
    """Deterministic, disjoint (train, val) split by a hash of each relative path and ``split_seed``.

    A file goes to val when its hash falls under ``val_fraction``; past ``max_val_images`` the
    surplus (largest hashes) goes back to train. With two or more files val gets at least one.
    """
    if not 0.0 < float(val_fraction) < 1.0:
        raise DataError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    if max_val_images is not None and max_val_images < 1:
        raise DataError(f"max_val_images must be >= 1 or null, got {max_val_images!r}")
    root = Path(root)
    keyed = sorted((_split_key(_relative(path, root), split_seed), path) for path in files)
    val_count = sum(1 for key, _ in keyed if key < val_fraction)
    if len(keyed) >= 2:
        val_count = min(max(val_count, 1), len(keyed) - 1)
    if max_val_images is not None:
        val_count = min(val_count, max_val_images)
    val = sorted(path for _, path in keyed[:val_count])
    train = sorted(path for _, path in keyed[val_count:])
    return train, val


class FolderDataset(Dataset):
    """Photo files -> uint8 RGB tensors [3,S,S] through ``transform`` (decoding happens in the worker).

    A file that became unreadable after validation is logged once, counted in ``failed`` (per
    worker process) and replaced by another file, so one bad file never kills a training run.
    ``skipped`` holds what the folder validation left out, by reason.
    """

    def __init__(self, files: Sequence[Path], transform: Callable[[Image.Image], torch.Tensor],
                 skipped: dict[str, list[Path]] | None = None, max_substitutes: int = 16) -> None:
        if not files:
            raise DataError("FolderDataset needs at least one image file")
        self.files = [Path(path) for path in files]
        self.transform = transform
        self.skipped = skipped if skipped is not None else {}
        self.failed: list[Path] = []
        self.max_substitutes = max_substitutes
        self._decode_side: int | None = getattr(transform, "min_source_side", None)

    @classmethod
    def from_folder(cls, root: str | Path, image_size: int = 128, train: bool = False,
                    min_scale: float = 0.5, hflip: bool = True) -> FolderDataset:
        """Every usable photo under ``root`` (validated, skips counted), with the train or eval transform."""
        scan = scan_folder(root)
        transform = RandomSquareCrop(image_size, min_scale, hflip) if train else CenterSquare(image_size)
        return cls(scan.usable, transform, skipped=scan.skipped)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> torch.Tensor:
        count = len(self.files)
        if not -count <= index < count:
            raise IndexError(f"index {index} out of range for {count} images")
        image = first_readable(index, count, self.max_substitutes,
                               lambda i: open_rgb(self.files[i], min_side=self._decode_side),
                               lambda i, error: self._record_failure(self.files[i], error))
        if image is not None:
            return self.transform(image)
        raise DataError(f"could not read {min(self.max_substitutes, count)} image files in a row "
                        f"(first: {self.files[index % count]}); is the folder still there?")

    def _record_failure(self, path: Path, error: ImageError) -> None:
        if path not in self.failed:
            self.failed.append(path)
            logger.warning("substituting another photo for %s (%d unreadable so far in this process): %s",
                           path, len(self.failed), error)


def first_readable(index: int, count: int, limit: int, load: Callable[[int], Image.Image],
                   failed: Callable[[int, ImageError], None]) -> Image.Image | None:
    """``load(index)``, or when that image can't be read the next ones in turn (wrapping, at most ``limit``
    tries, each failure reported to ``failed``): the substitution every photo dataset does; None if all
    fail."""
    for attempt in range(min(limit, count)):
        position = (index + attempt) % count
        try:
            return load(position)
        except ImageError as error:
            failed(position, error)
    return None


class FolderSource(DataSource):
    """Any folder tree of photos: validated once at setup, split by path hash into train and val.

    Args:
        root: the photo folder (searched recursively; jpg/jpeg/png/webp/bmp/tif/tiff).
        image_size: side S of the square training and validation images, in pixels (>= 8).
        val_fraction: share of photos held out for validation, in (0, 1).
        max_val_images: cap on validation photos (surplus goes to training); None = no cap.
        split_seed: seed of the path-hash split; the split is stable when photos are added.
        min_scale: training crops keep [min_scale, 1] of the largest square's area.
        hflip: random horizontal flips of the training crops.
        min_colorfulness: leave out photos duller than this (0 = keep all; BigColor used 15).
    """

    missing_root = "data=folder needs a root folder: set data.root=/path/to/photos"

    def __init__(self, root: str | Path | None, image_size: int = 128, val_fraction: float = 0.1,
                 max_val_images: int | None = 256, split_seed: int = 0, min_scale: float = 0.5,
                 hflip: bool = True, min_colorfulness: float = 0.0) -> None:
        super().__init__(image_size)
        if not root:
            raise DataError(self.missing_root)
        self.root = Path(root).expanduser()
        self.val_fraction, self.max_val_images, self.split_seed = val_fraction, max_val_images, split_seed
        self.crop = RandomSquareCrop(self.image_size, min_scale, hflip)
        self.min_colorfulness = check_min_colorfulness(min_colorfulness)

    def splits(self) -> SourceSplits:
        scan = scan_folder(self.root, min_colorfulness=self.min_colorfulness)
        train_files, val_files = split_files(scan.usable, self.root, self.val_fraction, self.split_seed,
                                             self.max_val_images)
        if not train_files or not val_files:
            raise DataError(f"folder {self.root.resolve()} has {len(scan.usable)} usable photo(s): need at "
                            "least 2 to make a training and a validation set")
        train = FolderDataset(train_files, self.crop, skipped=scan.skipped)
        val = FolderDataset(val_files, CenterSquare(self.image_size), skipped=scan.skipped)
        note = f"; {scan.summary()}" if scan.skipped else ""
        return SourceSplits(train, val, f"folder {self.root}{note}", scan.skipped)
