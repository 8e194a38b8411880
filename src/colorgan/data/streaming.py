"""`data=streaming`: prepared photos written by `litdata.optimize`, read by litdata's StreamingDataset.

Layout (local folder, or the same tree copied to object storage: ``s3://``, ``gs://``, ``azure://``)::

    ROOT/train/   litdata chunks + index.json: {"image": H×W×3 uint8, "path": source relative path}
    ROOT/val/     the same for the validation photos (the folder source's path-hash split)
    ROOT/colorgan.json   size, crop, counts and skipped source files (written next to a local ROOT)

StreamingDataset shards chunks across DDP ranks, nodes and DataLoader workers by itself (a map-style
sampler is not involved), and litdata's StreamingDataLoader reshuffles every epoch. litdata is optional:
``pip install 'colorgan[streaming]'``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import DataLoader, Dataset

from colorgan.data.colorfulness import check_min_colorfulness
from colorgan.data.errors import DataError, ImageError
from colorgan.data.folder import scan_folder, split_files
from colorgan.data.images import open_rgb
from colorgan.data.lock import is_lock_file, output_lock
from colorgan.data.prepare_cache import resize_for_cache
from colorgan.data.prepared import CROP_MODES
from colorgan.data.source import DataSource, LoaderSettings, SourceSplits
from colorgan.data.transforms import CenterSquare, RandomSquareCrop, apply_transform, check_image_size

logger = logging.getLogger(__name__)

META_FILE = "colorgan.json"
SPLITS = ("train", "val")
# fork: litdata's default (spawn) re-imports torch and Lightning in every worker (seconds each)
START_METHOD = "fork" if sys.platform == "linux" else None
INSTALL_HINT = "data=streaming needs litdata: pip install 'colorgan[streaming]' (or pip install litdata)"


def require_litdata() -> Any:
    """The litdata module, or a DataError telling how to install it."""
    try:
        import litdata
    except ImportError as error:
        raise DataError(INSTALL_HINT) from error
    return litdata


def is_remote(location: str) -> bool:
    """Whether ``location`` is an object-store URI (scheme://...) rather than a local folder."""
    return "://" in str(location)


def join(root: str, name: str) -> str:
    return f"{root.rstrip('/')}/{name}" if is_remote(root) else str(Path(root).expanduser() / name)


def photo_items(path: str, root: str, size: int, crop: str) -> Iterator[dict[str, Any]]:
    """litdata ``fn``: one item per readable photo (none for a photo that fails to decode in full)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            image = open_rgb(path, min_side=size)
        except ImageError as error:
            logger.warning("skipping %s: %s", path, error)
            return
    yield {"image": resize_for_cache(image, size, crop), "path": Path(path).relative_to(root).as_posix()}


def write_streaming(source: str | Path, output: str | Path, size: int = 256, crop: str = "full",
                    val_fraction: float = 0.1, split_seed: int = 0, max_val_images: int | None = 256,
                    workers: int | None = None, chunk_bytes: str = "64MB",
                    min_colorfulness: float = 0.0) -> dict[str, Any]:
    """Validate the photos under ``source`` (as the folder source does), split them, write both splits.

    ``min_colorfulness`` > 0 leaves out photos duller than that (recorded; a stream cannot filter later).

    The output is a local folder; copy it to object storage as it is (e.g. ``aws s3 sync``) to stream from
    there. Returns the summary written to ``colorgan.json``.
    """
    litdata = require_litdata()
    size = check_image_size(size)
    if crop not in CROP_MODES:
        raise DataError(f"crop must be one of {CROP_MODES}, got {crop!r}")
    if is_remote(str(output)):
        raise DataError(f"write the streaming dataset to a local folder, then copy it to {output} "
                        "(e.g. aws s3 sync FOLDER URI)")
    source = Path(source).expanduser().resolve()
    output = Path(output).expanduser().resolve()
    if output.is_dir() and not (output / META_FILE).is_file() and any(not is_lock_file(path)
                                                                      for path in output.iterdir()):
        raise DataError(f"output folder {output} is not empty and holds no streaming dataset; choose another")
    with output_lock(output, "prepare"):
        return _write_locked(litdata, source, output, size, crop, val_fraction, split_seed, max_val_images,
                             workers, chunk_bytes, check_min_colorfulness(min_colorfulness))


def _write_locked(litdata: Any, source: Path, output: Path, size: int, crop: str, val_fraction: float,
                  split_seed: int, max_val_images: int | None, workers: int | None,
                  chunk_bytes: str, min_colorfulness: float = 0.0) -> dict[str, Any]:
    """`write_streaming` once the arguments are checked and the output's lock is held."""
    scan = scan_folder(source, min_colorfulness=min_colorfulness)
    train, val = split_files(scan.usable, source, val_fraction, split_seed, max_val_images)
    if not train or not val:
        raise DataError(f"folder {source} has {len(scan.usable)} usable photo(s): need at least 2")
    workers = max(1, min(workers or os.cpu_count() or 1, len(train)))
    fn = partial(photo_items, root=str(source), size=size, crop=crop)
    for name, files in zip(SPLITS, (train, val), strict=True):
        litdata.optimize(fn=fn, inputs=[str(path) for path in files], output_dir=str(output / name),
                         num_workers=min(workers, len(files)), chunk_bytes=chunk_bytes, mode="overwrite",
                         reorder_files=False, verbose=False, start_method=START_METHOD)
    summary = {"format": "colorgan-streaming", "version": 1, "size": size, "crop": crop,
               "source": str(source), "train": len(train), "val": len(val),
               "min_colorfulness": min_colorfulness,
               "skipped": {reason: [path.relative_to(source).as_posix() for path in paths]
                           for reason, paths in scan.skipped.items()}}
    (output / META_FILE).write_text(json.dumps(summary, indent=1) + "\n")
    return summary


class ItemTransform:
    """litdata item {"image": H×W×3 uint8, ...} -> uint8 tensor [3,S,S] through a PIL-image transform."""

    def __init__(self, transform: Any) -> None:
        self.transform = transform

    def __call__(self, item: dict[str, Any]) -> Any:
        return apply_transform(np.asarray(item["image"]), self.transform)


def open_streaming(location: str, transform: Any, shuffle: bool = False, drop_last: bool | None = None,
                   seed: int = 42, cache_dir: str | None = None) -> Dataset:
    """A litdata StreamingDataset over ``location`` (a split folder or URI) yielding uint8 tensors [3,S,S].

    ``drop_last=None`` is litdata's default: equal item counts per rank under DDP, every item otherwise.
    """
    litdata = require_litdata()
    if not is_remote(location) and not (Path(location) / "index.json").is_file():
        raise DataError(f"no litdata dataset at {location} (no index.json): write one with "
                        "python -m colorgan.prepare PHOTOS --output FOLDER --format litdata")
    return litdata.StreamingDataset(location, shuffle=shuffle, drop_last=drop_last, seed=seed,
                                    cache_dir=cache_dir, transform=ItemTransform(transform))


class StreamingSource(DataSource):
    """A litdata streaming dataset under ``root`` (a local folder or an object-store URI): its ``train/``
    and ``val/`` splits, crops and flips on uint8 in the workers, litdata's own DataLoader.

    Args:
        root: folder or URI written by ``python -m colorgan.prepare PHOTOS --output FOLDER --format litdata``.
        image_size, min_scale, hflip: as for `FolderSource`.
        min_colorfulness: a stream is filtered when it is written (``prepare --min-colorfulness``); asking
            for more than it was written with is an error.
    """

    def __init__(self, root: str | None, image_size: int = 128, min_scale: float = 0.5,
                 hflip: bool = True, min_colorfulness: float = 0.0) -> None:
        super().__init__(image_size)
        if not root:
            raise DataError("data=streaming needs data.root=FOLDER_OR_URI (written by "
                            "python -m colorgan.prepare PHOTOS --output FOLDER --format litdata)")
        self.root = str(root)
        self.crop = RandomSquareCrop(self.image_size, min_scale, hflip)
        self.min_colorfulness = check_min_colorfulness(min_colorfulness)

    def splits(self) -> SourceSplits:
        meta_path = None if is_remote(self.root) else Path(self.root).expanduser() / META_FILE
        skipped: dict[str, list[Path]] = {}
        if meta_path is not None and meta_path.is_file():
            meta = json.loads(meta_path.read_text())
            size = meta.get("size", self.image_size)
            if self.image_size > size:
                logger.warning("image_size %d is larger than the streamed images' %d px: crops get upscaled",
                               self.image_size, size)
            written = float(meta.get("min_colorfulness", 0.0))
            if self.min_colorfulness > written:
                raise DataError(f"the stream at {self.root} was written with min_colorfulness {written:g}: "
                                f"write it again with prepare --min-colorfulness {self.min_colorfulness:g}")
            source = Path(meta.get("source", ""))
            skipped = {reason: [source / path for path in paths]
                       for reason, paths in meta.get("skipped", {}).items() if paths}
        train = open_streaming(join(self.root, "train"), self.crop, shuffle=True)
        val = open_streaming(join(self.root, "val"), CenterSquare(self.image_size), shuffle=False,
                             drop_last=False)
        return SourceSplits(train, val, f"litdata stream {self.root}", skipped)

    def loader(self, dataset: Dataset, train: bool, settings: LoaderSettings) -> DataLoader:
        """litdata's StreamingDataLoader (it advances the dataset's epoch, so each epoch is shuffled anew).

        Workers are not persistent: the epoch reaches them only when they are started again.
        """
        litdata = require_litdata()
        return litdata.StreamingDataLoader(dataset, batch_size=settings.batch_size,
                                          num_workers=settings.num_workers, pin_memory=settings.pin_memory)
