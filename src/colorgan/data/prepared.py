"""The prepared cache: every photo decoded, validated, oriented and resized once, stored as uint8 in shards.

Layout of a cache folder (written by `colorgan.data.prepare_cache`, `python -m colorgan.prepare`)::

    CACHE/manifest.json            settings, counts, the shards, the skipped source files (JSON)
    CACHE/shards/shard-00000.bin   the shard's images, H×W×3 uint8 each, one after the other, no header
    CACHE/shards/shard-00000.json  its index: source relative path, size, mtime_ns and [H, W] of each image
    CACHE/.colorgan.lock           held by the one `prepare` writing the cache (see `colorgan.data.lock`)

Only shards listed in the manifest exist for readers; the manifest is replaced (atomically) after each
shard is complete, so an interrupted run never leaves a half-written shard in it. Shards are opened with
``np.memmap`` lazily in each DataLoader worker: reading an image is a slice of the page cache, no decode.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from colorgan import atomic
from colorgan.data.colorfulness import (
    LOW_COLORFULNESS,
    THUMBNAIL_SIDE,
    image_colorfulness,
)
from colorgan.data.errors import DataError
from colorgan.data.folder import FolderSource, split_files
from colorgan.data.source import SourceSplits
from colorgan.data.transforms import CenterSquare, apply_transform

logger = logging.getLogger(__name__)

FORMAT_NAME = "colorgan-prepared"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SHARD_FOLDER = "shards"
CROP_MODES = ("full", "center")
"""full: short side resized to ``size``, aspect kept; center: the center square, ``size``×``size``."""


def manifest_path(root: str | Path) -> Path:
    return Path(root).expanduser() / MANIFEST


def read_manifest(root: str | Path) -> dict[str, Any]:
    """The cache's manifest; DataError when the folder holds no (readable, known) prepared cache."""
    path = manifest_path(root)
    if not path.is_file():
        raise DataError(f"no prepared cache at {Path(root).expanduser().resolve()} (no {MANIFEST}): "
                        "make one with python -m colorgan.prepare PHOTOS --output CACHE --size 256")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read {path}: {error}; run prepare again with --rebuild") from error
    if manifest.get("format") != FORMAT_NAME or manifest.get("version") != FORMAT_VERSION:
        raise DataError(f"{path} is not a colorgan prepared cache of version {FORMAT_VERSION} "
                        f"(format {manifest.get('format')!r}, version {manifest.get('version')!r})")
    return manifest


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to ``path`` all or nothing (`colorgan.atomic`)."""
    atomic.write_json(path, data, indent=1)


def shard_files(root: Path, name: str) -> tuple[Path, Path]:
    """(data .bin, index .json) of shard ``name``."""
    folder = root / SHARD_FOLDER
    return folder / f"{name}.bin", folder / f"{name}.json"


def read_shard_index(root: Path, shard: dict[str, Any]) -> dict[str, list]:
    """The index of a manifest shard entry, checked against the data file's size."""
    data_path, index_path = shard_files(root, shard["name"])
    try:
        index = json.loads(index_path.read_text())
        data_bytes = data_path.stat().st_size
    except (OSError, ValueError) as error:
        raise DataError(f"prepared cache {root}: shard {shard['name']} is missing or damaged ({error}); "
                        "run prepare again with --rebuild") from error
    if data_bytes != shard["bytes"] or len(index["paths"]) != len(index["shapes"]):
        raise DataError(f"prepared cache {root}: shard {shard['name']} holds {data_bytes} bytes, the "
                        f"manifest says {shard['bytes']}; run prepare again with --rebuild")
    return index


class PreparedCache:
    """Read access to a prepared cache: ``len(cache)`` images, ``cache.image(i)`` -> H×W×3 uint8 view."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()
        self.manifest = read_manifest(self.root)
        self.size = int(self.manifest["size"])
        self.crop = str(self.manifest["crop"])
        self.source = Path(self.manifest["source"])
        self.shard_names: list[str] = [shard["name"] for shard in self.manifest["shards"]]
        paths: list[str] = []
        shard_ids, offsets, heights, widths = [], [], [], []
        scores: list[float] = []
        for shard_id, shard in enumerate(self.manifest["shards"]):
            index = read_shard_index(self.root, shard)
            stale = set(shard.get("stale", []))
            stored = index.get("colorfulness") or [float("nan")] * len(index["paths"])
            offset = 0
            for position, (path, (height, width)) in enumerate(zip(index["paths"], index["shapes"],
                                                                   strict=True)):
                if position not in stale:
                    scores.append(float(stored[position]))
                    paths.append(path)
                    shard_ids.append(shard_id)
                    offsets.append(offset)
                    heights.append(height)
                    widths.append(width)
                offset += height * width * 3
        self.paths = paths
        self.shard_ids = np.asarray(shard_ids, dtype=np.int32)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.shapes = np.stack([np.asarray(heights, dtype=np.int32), np.asarray(widths, dtype=np.int32)], 1) \
            if paths else np.zeros((0, 2), dtype=np.int32)
        self.scores = np.asarray(scores, dtype=np.float64)
        self._maps: dict[int, np.memmap] = {}

    def __len__(self) -> int:
        return len(self.paths)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_maps"] = {}  # each worker process maps the shards itself
        return state

    def _shard(self, shard_id: int) -> np.memmap:
        mapped = self._maps.get(shard_id)
        if mapped is None:
            data_path, _ = shard_files(self.root, self.shard_names[shard_id])
            mapped = self._maps[shard_id] = np.memmap(data_path, dtype=np.uint8, mode="r")
        return mapped

    def image(self, index: int) -> np.ndarray:
        """Image ``index`` as a read-only H×W×3 uint8 array (a view into the mapped shard)."""
        height, width = (int(side) for side in self.shapes[index])
        start = int(self.offsets[index])
        flat = self._shard(int(self.shard_ids[index]))[start : start + height * width * 3]
        return np.asarray(flat).reshape(height, width, 3)

    def colorfulness(self, index: int) -> float:
        """Colorfulness of image ``index`` (stored by prepare; computed from the image for older caches)."""
        score = float(self.scores[index])
        if np.isnan(score):
            image = self.image(index)
            step = max(1, max(image.shape[:2]) // THUMBNAIL_SIDE)
            score = self.scores[index] = image_colorfulness(image[::step, ::step])  # as prepare stores it
        return score

    def split(self, val_fraction: float, split_seed: int = 0,
              max_val_images: int | None = None) -> tuple[list[int], list[int]]:
        """(train, val) image indices: the same path-hash split as the folder source gives the photos."""
        return self.split_indices(range(len(self)), val_fraction, split_seed, max_val_images)

    def split_indices(self, indices: Iterable[int], val_fraction: float, split_seed: int = 0,
                      max_val_images: int | None = None) -> tuple[list[int], list[int]]:
        """`split` of some of the images. A cache prepared from a dataset with its own validation photos
        (their paths start with ``val/``; manifest ``"split": "fixed"``) keeps that split."""
        if self.manifest.get("split") == "fixed":
            train = [index for index in indices if not self.paths[index].startswith("val/")]
            val = [index for index in indices if self.paths[index].startswith("val/")]
            if max_val_images is not None and len(val) > max_val_images:
                kept = set(split_files([Path(self.paths[index]) for index in val], Path(), 1.0 - 1e-12,
                                       split_seed, max_val_images)[1])
                val = [index for index in val if Path(self.paths[index]) in kept]
            return train, val
        by_path = {self.source / self.paths[index]: index for index in indices}
        train, val = split_files(list(by_path), self.source, val_fraction, split_seed, max_val_images)
        return [by_path[path] for path in train], [by_path[path] for path in val]

    def skipped(self) -> dict[str, list[Path]]:
        """Source files the preparation left out, by reason (as absolute paths under the source)."""
        return {reason: [self.source / entry["path"] for entry in entries]
                for reason, entries in self.manifest.get("skipped", {}).items()}

    def summary(self) -> str:
        skipped = sum(len(entries) for entries in self.manifest.get("skipped", {}).values())
        note = f", {skipped} source files skipped" if skipped else ""
        return (f"prepared cache {self.root} ({len(self)} images, {self.crop} at {self.size} px, "
                f"from {self.source}{note})")


class PreparedDataset(Dataset):
    """Images of a prepared cache -> uint8 tensors [3,S,S] through a uint8 ``transform`` (run in the worker).

    ``transform`` takes a PIL image (``RandomSquareCrop`` / ``CenterSquare``); an image already at the
    output size skips an eval ``CenterSquare`` (so a center-cropped cache is read back unchanged).
    """

    def __init__(self, cache: PreparedCache, indices: list[int] | None = None,
                 transform: Any | None = None) -> None:
        self.cache = cache
        self.indices = list(range(len(cache))) if indices is None else list(indices)
        if not self.indices:
            raise DataError(f"{cache.summary()} gives this dataset no images")
        self.transform = transform if transform is not None else CenterSquare(cache.size)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> torch.Tensor:
        return apply_transform(self.cache.image(self.indices[index]), self.transform)


class PreparedSource(FolderSource):
    """A prepared cache (``python -m colorgan.prepare``): the folder source's split of the same photos, with
    random crops and flips on uint8 in the workers.

    Args:
        root: the cache folder.
        image_size, val_fraction, max_val_images, split_seed, min_scale, hflip, min_colorfulness:
            as for `FolderSource` (colorfulness is stored per image by prepare: filtering costs nothing).
    """

    missing_root = "data=prepared needs the cache folder: set data.root=/path/to/cache"

    def splits(self) -> SourceSplits:
        cache = PreparedCache(self.root)
        skipped = cache.skipped()
        kept = list(range(len(cache)))
        if self.min_colorfulness > 0:
            dull = [index for index in kept if cache.colorfulness(index) < self.min_colorfulness]
            if dull:
                skipped[LOW_COLORFULNESS] = [cache.source / cache.paths[index] for index in dull]
                logger.warning("leaving out %d of %d cached images of colorfulness under %g", len(dull),
                               len(kept), self.min_colorfulness)
                kept = sorted(set(kept) - set(dull))
        if self.image_size > cache.size:
            logger.warning("image_size %d is larger than the cache's %d px: training crops get upscaled; "
                           "prepare the photos again with --size %d", self.image_size, cache.size,
                           self.image_size)
        train_indices, val_indices = cache.split_indices(kept, self.val_fraction, self.split_seed,
                                                         self.max_val_images)
        if not train_indices or not val_indices:
            raise DataError(f"{cache.summary()}: need at least 2 images to make a training and a validation "
                            "set")
        train = PreparedDataset(cache, train_indices, self.crop)
        val = PreparedDataset(cache, val_indices, CenterSquare(self.image_size))
        return SourceSplits(train, val, cache.summary(), skipped)
