"""Writing a prepared cache (format: `colorgan.data.prepared`): once per photo, on every core, incrementally.

Photos are processed in sorted order of their relative path by a process pool; usable ones fill shards of
``shard_images`` images. After each full shard: data and index are written to temporary files, flushed and
renamed into place, and only then the manifest is replaced. So an interrupted run keeps its complete shards,
and running again carries on with exactly the photos a single run would have put in the next shard.
A photo already in the cache with the same size and mtime is not read again; a changed or removed one is
marked stale (no longer served) and a changed one is prepared again. One run at a time writes a cache: it
holds the folder's lock (`colorgan.data.lock`), a second run stops with a clear message, and temporary
files are named per process (``.NAME.PID.RANDOM.tmp``, `colorgan.atomic`), so runs never touch each
other's files.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from colorgan.atomic import atomic_file, remove_stale_temporaries
from colorgan.data.colorfulness import THUMBNAIL_SIDE, image_colorfulness
from colorgan.data.errors import DataError, ImageError
from colorgan.data.folder import GRAYSCALE, NOT_IMAGE, UNREADABLE, unusable_reason
from colorgan.data.images import IMAGE_EXTENSIONS, list_visible_files, open_rgb
from colorgan.data.lock import is_lock_file, output_lock
from colorgan.data.prepared import (
    CROP_MODES,
    FORMAT_NAME,
    FORMAT_VERSION,
    SHARD_FOLDER,
    manifest_path,
    read_manifest,
    read_shard_index,
    shard_files,
    write_json_atomic,
)
from colorgan.data.transforms import CenterSquare, check_image_size

logger = logging.getLogger(__name__)

Signature = tuple[int, int]  # (file size in bytes, mtime in ns): a photo that keeps both is not read again


@dataclass
class PrepareReport:
    """What one run of `prepare_cache` did, and what the cache holds afterwards."""

    added: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    stale: int = 0
    images: int = 0
    shards: int = 0
    bytes: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        skipped = ", ".join(f"{count} {reason}" for reason, count in self.skipped.items() if count)
        notes = (f"; skipped {skipped}" if skipped else "") + (f"; {self.stale} stale" if self.stale else "")
        return (f"added {self.added} photos ({self.unchanged} already in the cache{notes}); "
                f"the cache holds {self.images} images in {self.shards} shards, {self.bytes / 2**20:.1f} MiB")


def resize_for_cache(image: Image.Image, size: int, crop: str) -> np.ndarray:
    """An upright RGB photo -> H×W×3 uint8: its center square at ``size`` px, or short side ``size``."""
    if crop == "center":
        return np.ascontiguousarray(CenterSquare(size)(image).numpy().transpose(1, 2, 0))
    width, height = image.size
    scale = size / min(width, height)
    target = (max(size, round(width * scale)), max(size, round(height * scale)))
    if target != (width, height):
        image = image.resize(target, Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.uint8)


def stored_colorfulness(image: np.ndarray) -> float:
    """The colorfulness a cache stores per image (of a ~64-px subsample, as the folder scan measures it)."""
    step = max(1, max(image.shape[:2]) // THUMBNAIL_SIDE)
    return image_colorfulness(image[::step, ::step])


def prepare_photo(path: str, size: int, crop: str) -> tuple[str | None, np.ndarray | None]:
    """(None, image) for a usable photo, (reason, None) for one the folder source would skip."""
    reason = unusable_reason(Path(path))
    if reason is not None:
        return reason, None
    try:
        image = open_rgb(path, min_side=size)  # the folder dataset's decode, JPEG draft included
    except ImageError:
        return UNREADABLE, None
    return None, resize_for_cache(image, size, crop)


def _prepare_quietly(path: str, size: int, crop: str) -> tuple[str | None, np.ndarray | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PIL's remarks on odd EXIF or palettes
        return prepare_photo(path, size, crop)


def _signature(path: Path) -> Signature:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _new_manifest(source: Path, size: int, crop: str) -> dict[str, Any]:
    return {"format": FORMAT_NAME, "version": FORMAT_VERSION, "size": size, "crop": crop,
            "source": str(source), "images": 0, "bytes": 0, "shards": [],
            "skipped": {}}


def _check_output(output: Path) -> None:
    """Refuse an output folder that holds other things than a prepared cache (before touching it)."""
    if output.exists() and not output.is_dir():
        raise DataError(f"the output {output} is a file, not a folder; choose another --output")
    if manifest_path(output).is_file() or (output / SHARD_FOLDER).is_dir() or not output.is_dir():
        return
    if any(not is_lock_file(path) for path in output.iterdir()):
        raise DataError(f"output folder {output} is not empty and holds no prepared cache; choose another")


def _open_manifest(output: Path, source: Path, size: int, crop: str, rebuild: bool) -> dict[str, Any]:
    """The existing manifest (checked to match the settings), or a new one; ``rebuild`` starts over."""
    if rebuild:
        shutil.rmtree(output / SHARD_FOLDER, ignore_errors=True)
        manifest_path(output).unlink(missing_ok=True)
    if not manifest_path(output).is_file():
        return _new_manifest(source, size, crop)
    manifest = read_manifest(output)
    was = (manifest["source"], manifest["size"], manifest["crop"])
    if was != (str(source), size, crop):
        raise DataError(f"the cache at {output} was prepared from {was[0]} with --size {was[1]} "
                        f"--crop {was[2]}; asked: {source} with --size {size} --crop {crop}. "
                        "Use another --output, or --rebuild")
    return manifest


def _remove_orphans(output: Path, manifest: dict[str, Any]) -> None:
    """Delete shard files (and temporary files) that no manifest entry lists: leftovers of an interruption.

    Only called under the output's lock, so no other writer's files are in flight.
    """
    remove_stale_temporaries(output, locked=True)
    folder = output / SHARD_FOLDER
    if not folder.is_dir():
        return
    listed = {path.name for shard in manifest["shards"] for path in shard_files(output, shard["name"])}
    for path in folder.iterdir():
        if path.name not in listed:
            path.unlink()


def _mark_stale(output: Path, manifest: dict[str, Any],
                current: dict[str, Signature]) -> tuple[set[str], int]:
    """Mark cached photos that changed or disappeared as stale; return (paths still valid, newly stale)."""
    valid: set[str] = set()
    newly_stale = 0
    for shard in manifest["shards"]:
        index = read_shard_index(output, shard)
        stale = set(shard.get("stale", []))
        for position, (path, size, mtime) in enumerate(zip(index["paths"], index["sizes"],
                                                           index["mtimes_ns"], strict=True)):
            if position in stale:
                continue
            if current.get(path) == (size, mtime):
                valid.add(path)
            else:
                stale.add(position)
                newly_stale += 1
        shard["stale"] = sorted(stale)
    return valid, newly_stale


class _ShardWriter:
    """Buffers prepared photos and commits full shards (data, index, then manifest) atomically."""

    def __init__(self, output: Path, manifest: dict[str, Any], shard_images: int) -> None:
        self.output, self.manifest, self.shard_images = output, manifest, shard_images
        self.paths: list[str] = []
        self.signatures: list[Signature] = []
        self.images: list[np.ndarray] = []
        self.pending_skips: list[tuple[str, dict[str, Any]]] = []

    def add(self, path: str, signature: Signature, image: np.ndarray) -> None:
        self.paths.append(path)
        self.signatures.append(signature)
        self.images.append(image)
        if len(self.images) >= self.shard_images:
            self.flush()

    def skip(self, path: str, signature: Signature, reason: str) -> None:
        self.pending_skips.append((reason, {"path": path, "size": signature[0], "mtime_ns": signature[1]}))

    def flush(self) -> None:
        """Commit the buffered photos as a new shard (if any) and the skips seen so far, in the manifest."""
        if self.images:
            name = f"shard-{len(self.manifest['shards']):05d}"
            data_bytes = self.write_shard(name)
            self.manifest["shards"].append({"name": name, "images": len(self.images), "bytes": data_bytes,
                                            "stale": []})
            self.paths, self.signatures, self.images = [], [], []
        for reason, entry in self.pending_skips:
            self.manifest["skipped"].setdefault(reason, []).append(entry)
        self.pending_skips = []
        self.commit_manifest()

    def write_shard(self, name: str) -> int:
        data_path, index_path = shard_files(self.output, name)
        data_path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(data_path, "wb") as handle:
            for image in self.images:
                handle.write(np.ascontiguousarray(image, dtype=np.uint8).data)
        index = {"paths": self.paths, "sizes": [size for size, _ in self.signatures],
                 "mtimes_ns": [mtime for _, mtime in self.signatures],
                 "shapes": [list(image.shape[:2]) for image in self.images],
                 "colorfulness": [round(stored_colorfulness(image), 3) for image in self.images]}
        write_json_atomic(index_path, index)
        return data_path.stat().st_size

    def commit_manifest(self) -> None:
        manifest = self.manifest
        manifest["skipped"] = {reason: sorted(entries, key=lambda entry: entry["path"])
                               for reason, entries in manifest["skipped"].items() if entries}
        manifest["images"] = sum(shard["images"] - len(shard["stale"]) for shard in manifest["shards"])
        manifest["bytes"] = sum(shard["bytes"] for shard in manifest["shards"])
        write_json_atomic(manifest_path(self.output), manifest)


def prepare_cache(source: str | Path, output: str | Path, size: int = 256, crop: str = "full",
                  workers: int | None = None, shard_images: int = 512, rebuild: bool = False,
                  progress: bool = True, on_shard: Callable[[int], None] | None = None) -> PrepareReport:
    """Decode, validate, orient and resize the photos under ``source`` into the cache at ``output``.

    Args:
        size: short side (``crop="full"``) or side of the center square (``crop="center"``), in px.
        workers: processes decoding photos (default: every core).
        shard_images: photos per shard (a shard is buffered in memory before it is written).
        rebuild: delete the cache's shards and start over (else only new or changed photos are read).
        on_shard: called with the number of committed shards after each one (progress hooks, tests).
    """
    size = check_image_size(size)
    if crop not in CROP_MODES:
        raise DataError(f"crop must be one of {CROP_MODES}, got {crop!r}")
    if shard_images < 1:
        raise DataError(f"shard_images must be >= 1, got {shard_images!r}")
    source = Path(source).expanduser().resolve()
    if not source.is_dir():
        raise DataError(f"photo folder {source} does not exist or is not a folder")
    output = Path(output).expanduser().resolve()
    if output == source or source in output.parents:
        raise DataError(f"the cache {output} must not be inside the photo folder {source}")
    _check_output(output)
    with output_lock(output, "prepare"):
        return _prepare_locked(source, output, size, crop, workers, shard_images, rebuild, progress, on_shard)


def _prepare_locked(source: Path, output: Path, size: int, crop: str, workers: int | None, shard_images: int,
                    rebuild: bool, progress: bool, on_shard: Callable[[int], None] | None) -> PrepareReport:
    """`prepare_cache` once the arguments are checked and the output's lock is held."""
    manifest = _open_manifest(output, source, size, crop, rebuild)
    _remove_orphans(output, manifest)

    files = list_visible_files(source)
    current = {path.relative_to(source).as_posix(): _signature(path) for path in files}
    valid, newly_stale = _mark_stale(output, manifest, current)
    wanted = {ext.lower() for ext in IMAGE_EXTENSIONS}
    kept_skips = {reason: [entry for entry in entries
                           if current.get(entry["path"]) == (entry["size"], entry["mtime_ns"])]
                  for reason, entries in manifest["skipped"].items() if reason != NOT_IMAGE}
    manifest["skipped"] = {**kept_skips, NOT_IMAGE: [
        {"path": path, "size": sig[0], "mtime_ns": sig[1]}
        for path, sig in sorted(current.items()) if Path(path).suffix.lower() not in wanted]}
    known = valid | {entry["path"] for entries in kept_skips.values() for entry in entries}
    todo = [path for path in sorted(current) if Path(path).suffix.lower() in wanted and path not in known]

    report = PrepareReport(stale=newly_stale, unchanged=len(valid),
                           skipped={UNREADABLE: 0, GRAYSCALE: 0,
                                    NOT_IMAGE: len(manifest["skipped"][NOT_IMAGE])})
    writer = _ShardWriter(output, manifest, shard_images)
    for path, (reason, image) in _run_pool(source, todo, size, crop, workers, progress):
        if image is None:
            writer.skip(path, current[path], reason or UNREADABLE)
            report.skipped[reason or UNREADABLE] = report.skipped.get(reason or UNREADABLE, 0) + 1
            continue
        shards_before = len(manifest["shards"])
        writer.add(path, current[path], image)
        report.added += 1
        if on_shard is not None and len(manifest["shards"]) > shards_before:
            on_shard(len(manifest["shards"]))
    writer.flush()
    report.images, report.bytes = manifest["images"], manifest["bytes"]
    report.shards = len(manifest["shards"])
    return report


def _run_pool(source: Path, todo: list[str], size: int, crop: str, workers: int | None,
              progress: bool) -> Iterator[tuple[str, tuple[str | None, np.ndarray | None]]]:
    """(relative path, prepare_photo result) in ``todo`` order, computed by a pool of processes."""
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    job = partial(_prepare_quietly, size=size, crop=crop)
    absolute = [str(source / path) for path in todo]
    bar = tqdm(total=len(todo), unit="photo", disable=not progress or None, desc="prepare")
    try:
        if workers == 1:
            for path, result in zip(todo, map(job, absolute), strict=True):
                yield path, result
                bar.update()
            return
        with multiprocessing.get_context().Pool(workers) as pool:
            for path, result in zip(todo, pool.imap(job, absolute, chunksize=4), strict=True):
                yield path, result
                bar.update()
    finally:
        bar.close()
