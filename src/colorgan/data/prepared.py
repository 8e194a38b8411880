"""The prepared cache: every photo decoded, validated, oriented and resized once, stored as uint8 in shards.

Layout of a cache folder (written by `colorgan.data.prepare_cache`, `python -m colorgan.prepare`)::

    CACHE/manifest.json            settings, counts, the shards, the skipped source files (JSON)
    CACHE/shards/shard-00000.bin   the shard's images, H×W×3 uint8 each, one after the other, no header
    CACHE/shards/shard-00000.json  its index: source relative path, size, mtime_ns and [H, W] of each image

Only shards listed in the manifest exist for readers; the manifest is replaced (atomically) after each
shard is complete, so an interrupted run never leaves a half-written shard in it. Shards are opened with
``np.memmap`` lazily in each DataLoader worker: reading an image is a slice of the page cache, no decode.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import Dataset

from colorgan.data.datamodule import ColorDataModule, SourceSplits, register_source
from colorgan.data.errors import DataError
from colorgan.data.folder import split_files
from colorgan.data.transforms import CenterSquare, RandomSquareCrop

logger = logging.getLogger("colorgan.data")

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
    """Write JSON to a temporary file, flush it to disk, then rename it over ``path`` (all or nothing)."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w") as handle:
        json.dump(data, handle, indent=1)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


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
        for shard_id, shard in enumerate(self.manifest["shards"]):
            index = read_shard_index(self.root, shard)
            stale = set(shard.get("stale", []))
            offset = 0
            for position, (path, (height, width)) in enumerate(zip(index["paths"], index["shapes"],
                                                                   strict=True)):
                if position not in stale:
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

    def split(self, val_fraction: float, split_seed: int = 0,
              max_val_images: int | None = None) -> tuple[list[int], list[int]]:
        """(train, val) image indices: the same path-hash split as the folder source gives the photos."""
        by_path = {self.source / path: index for index, path in enumerate(self.paths)}
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


def to_chw(array: np.ndarray) -> torch.Tensor:
    """H×W×3 uint8 array -> contiguous uint8 tensor [3,H,W]."""
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


class ArrayRandomSquareCrop(RandomSquareCrop):
    """``RandomSquareCrop``'s crop distribution and flips, on H×W×3 uint8 arrays, resized by torch.

    The crop box is rounded to whole pixels and resized with torch's antialiased bicubic on uint8, which
    matches PIL's bicubic within a few levels and runs about 3× faster. PIL images still go the PIL way.
    """

    def __call__(self, image: Image.Image | np.ndarray) -> torch.Tensor:
        if isinstance(image, Image.Image):
            return super().__call__(image)
        height, width = image.shape[:2]
        scale_draw, aspect_draw, x_draw, y_draw, flip_draw = torch.rand(5).tolist()  # same draws as PIL's
        aspect = math.exp((2.0 * aspect_draw - 1.0) * math.log(self.max_aspect))  # crop width / height
        side_factor = math.sqrt(self.min_scale + (1.0 - self.min_scale) * scale_draw)
        crop_width = min(float(width), height * aspect) * side_factor
        crop_height = min(crop_width / aspect, float(height))
        box_width, box_height = max(1, round(crop_width)), max(1, round(crop_height))
        left = round(x_draw * (width - box_width))
        top = round(y_draw * (height - box_height))
        patch = np.ascontiguousarray(image[top : top + box_height, left : left + box_width])
        channels_last = torch.from_numpy(patch).permute(2, 0, 1).unsqueeze(0)  # torch's fast uint8 layout
        out = F.interpolate(channels_last, size=(self.size, self.size), mode="bicubic", antialias=True)[0]
        if self.hflip and flip_draw < 0.5:
            out = out.flip(-1)
        return out.contiguous()


def apply_transform(array: np.ndarray, transform: Any) -> torch.Tensor:
    """A PIL-image transform on an H×W×3 uint8 array (an eval ``CenterSquare`` at its size is a no-op)."""
    if isinstance(transform, ArrayRandomSquareCrop):
        return transform(array)
    if isinstance(transform, CenterSquare) and array.shape[:2] == (transform.size, transform.size):
        return to_chw(array)
    return transform(Image.fromarray(array))


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


@register_source("prepared")
def build_prepared(module: ColorDataModule) -> SourceSplits:
    """A prepared cache at ``root``: the folder source's split; crops and flips on uint8 in the workers."""
    if not module.root:
        raise DataError("data source 'prepared' needs the cache folder: set data.root=/path/to/cache")
    cache = PreparedCache(module.root)
    if module.image_size > cache.size:
        logger.warning("image_size %d is larger than the cache's %d px: training crops get upscaled; "
                       "prepare the photos again with --size %d", module.image_size, cache.size,
                       module.image_size)
    train_indices, val_indices = cache.split(module.val_fraction, module.split_seed, module.max_val_images)
    if not train_indices or not val_indices:
        raise DataError(f"{cache.summary()}: need at least 2 images to make a training and a validation set")
    train = PreparedDataset(cache, train_indices, ArrayRandomSquareCrop(module.image_size, module.min_scale,
                                                                        module.hflip))
    val = PreparedDataset(cache, val_indices, CenterSquare(module.image_size))
    module.skipped = cache.skipped()
    return SourceSplits(train, val, cache.summary())
