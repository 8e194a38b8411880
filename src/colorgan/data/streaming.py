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

from colorgan.data.datamodule import ColorDataModule, SourceSplits, register_source
from colorgan.data.errors import DataError, ImageError
from colorgan.data.folder import scan_folder, split_files
from colorgan.data.images import open_rgb
from colorgan.data.prepare_cache import resize_for_cache
from colorgan.data.prepared import CROP_MODES, ArrayRandomSquareCrop, apply_transform
from colorgan.data.transforms import CenterSquare, check_image_size

logger = logging.getLogger("colorgan.data")

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
                    workers: int | None = None, chunk_bytes: str = "64MB") -> dict[str, Any]:
    """Validate the photos under ``source`` (as the folder source does), split them, write both splits.

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
    if output.exists() and any(output.iterdir()) and not (output / META_FILE).is_file():
        raise DataError(f"output folder {output} is not empty and holds no streaming dataset; choose another")
    scan = scan_folder(source)
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


def streaming_loader(module: ColorDataModule, dataset: Dataset, train: bool) -> DataLoader:
    """litdata's StreamingDataLoader (it advances the dataset's epoch, so each epoch is shuffled anew).

    Workers are not persistent: the epoch reaches them only when they are started again.
    """
    litdata = require_litdata()
    return litdata.StreamingDataLoader(dataset, batch_size=module.batch_size, num_workers=module.num_workers,
                                      pin_memory=module.pin_memory)


@register_source("streaming")
def build_streaming(module: ColorDataModule) -> SourceSplits:
    """Train/val litdata datasets under ``root`` (local folder or object-store URI)."""
    if not module.root:
        raise DataError("data source 'streaming' needs data.root=FOLDER_OR_URI (written by "
                        "python -m colorgan.prepare PHOTOS --output FOLDER --format litdata)")
    root = str(module.root)
    meta_path = None if is_remote(root) else Path(root).expanduser() / META_FILE
    if meta_path is not None and meta_path.is_file():
        size = json.loads(meta_path.read_text()).get("size", module.image_size)
        if module.image_size > size:
            logger.warning("image_size %d is larger than the streamed images' %d px: crops get upscaled",
                           module.image_size, size)
    crop = ArrayRandomSquareCrop(module.image_size, module.min_scale, module.hflip)
    train = open_streaming(join(root, "train"), crop, shuffle=True)
    val = open_streaming(join(root, "val"), CenterSquare(module.image_size), shuffle=False, drop_last=False)
    return SourceSplits(train, val, f"litdata stream {root}", loader=streaming_loader)
