"""`prepare` for any data config: decode the photos of a torchvision or Hugging Face source once into a
prepared cache (`colorgan.data.prepared`), then train on it with ``data=prepared data.root=CACHE``.

    python -m colorgan.prepare --data places365 --set root=/data/places365 --output CACHE --size 256

The cache keeps the source's split: its images are named ``train/NAME`` and ``val/NAME`` (manifest
``"split": "fixed"``). Photos are checked as the folder source checks them (unreadable, grayscale,
extreme shapes are skipped and listed in the manifest); each image's colorfulness is stored, so
``data.min_colorfulness`` on the cache costs nothing. Running it again on the same source adds only the
photos not yet in the cache; an interrupted run keeps its complete shards.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from tqdm import tqdm

from colorgan.data.build import build_datamodule, load_data_config
from colorgan.data.collection import CollectionSource, PhotoCollection, sample_problem
from colorgan.data.errors import DataError, ImageError
from colorgan.data.folder import UNREADABLE
from colorgan.data.lock import output_lock
from colorgan.data.prepare_cache import (
    PrepareReport,
    _check_output,
    _mark_stale,
    _open_manifest,
    _remove_orphans,
    _ShardWriter,
    resize_for_cache,
)
from colorgan.data.prepared import CROP_MODES
from colorgan.data.source import DataSource
from colorgan.data.transforms import check_image_size

logger = logging.getLogger(__name__)

_NO_SIGNATURE = (0, 0)  # dataset photos have no file size or mtime: a name in the cache is not read again


def source_from_config(spec: str | Path, overrides: Sequence[str] = (), image_size: int = 256) -> DataSource:
    """The source of a data config, built through the allow-list (`build_datamodule`)."""
    return build_datamodule(load_data_config(spec, overrides, image_size)).source


def prepare_collection(source: CollectionSource, output: str | Path, size: int = 256, crop: str = "full",
                       threads: int | None = None, shard_images: int = 512, rebuild: bool = False,
                       progress: bool = True) -> PrepareReport:
    """Decode, check and resize the photos of ``source`` (its train and val split) into the cache at
    ``output``; ``threads`` decode in parallel (default 4)."""
    size = check_image_size(size)
    if crop not in CROP_MODES:
        raise DataError(f"crop must be one of {CROP_MODES}, got {crop!r}")
    if shard_images < 1:
        raise DataError(f"shard_images must be >= 1, got {shard_images!r}")
    if not isinstance(source, CollectionSource):
        raise DataError(f"{type(source).__name__} is not a dataset source (torchvision, huggingface); "
                        "prepare a photo folder with: python -m colorgan.prepare FOLDER --output CACHE")
    output = Path(output).expanduser().resolve()
    _check_output(output)
    (train_set, train_indices), (val_set, val_indices), _, _ = source.photo_splits(scan=False)
    chosen = f" ({', '.join(source.categories)})" if source.categories else ""
    described = f"{train_set.description}{chosen}"
    jobs = [(f"train/{train_set.name(index)}", train_set, index) for index in train_indices]
    jobs += [(f"val/{val_set.name(index)}", val_set, index) for index in val_indices]
    with output_lock(output, "prepare"):
        manifest = _open_manifest(output, Path(described), size, crop, rebuild)
        manifest["split"] = "fixed"
        _remove_orphans(output, manifest)
        current = {name: _NO_SIGNATURE for name, _, _ in jobs}
        valid, newly_stale = _mark_stale(output, manifest, current)
        known = valid | {entry["path"] for entries in manifest["skipped"].values() for entry in entries}
        todo = [job for job in jobs if job[0] not in known]
        report = PrepareReport(stale=newly_stale, unchanged=len(valid))
        writer = _ShardWriter(output, manifest, shard_images)
        for name, reason, image in _decode_all(todo, size, crop, threads, progress):
            if image is None:
                writer.skip(name, _NO_SIGNATURE, reason or UNREADABLE)
                report.skipped[reason or UNREADABLE] = report.skipped.get(reason or UNREADABLE, 0) + 1
            else:
                writer.add(name, _NO_SIGNATURE, image)
                report.added += 1
        writer.flush()
        report.images, report.bytes = manifest["images"], manifest["bytes"]
        report.shards = len(manifest["shards"])
    return report


def _prepare_one(collection: PhotoCollection, index: int, size: int, crop: str) -> tuple[str | None,
                                                                                          np.ndarray | None]:
    try:
        image = collection.image(index)
    except ImageError:
        return UNREADABLE, None
    reason = sample_problem(image, 0.0)
    return (reason, None) if reason is not None else (None, resize_for_cache(image, size, crop))


def _decode_all(jobs: list[tuple[str, PhotoCollection, int]], size: int, crop: str, threads: int | None,
                progress: bool) -> Iterator[tuple[str, str | None, np.ndarray | None]]:
    """(name, skip reason, image) per job, in order, decoded by a pool of threads in chunks."""
    bar = tqdm(total=len(jobs), unit="photo", disable=not progress or None, desc="prepare")
    chunk = 64
    try:
        with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=max(1, threads or 4)) as pool:
            warnings.simplefilter("ignore")
            for start in range(0, len(jobs), chunk):
                part = jobs[start : start + chunk]
                results = pool.map(lambda job: _prepare_one(job[1], job[2], size, crop), part)
                for (name, _, _), (reason, image) in zip(part, results, strict=True):
                    yield name, reason, image
                    bar.update()
    finally:
        bar.close()
