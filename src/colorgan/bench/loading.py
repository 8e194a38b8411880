"""Data loader throughput: JPEG photos decoded per sample vs the prepared uint8 cache."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from colorgan.data import FolderDataset, PreparedCache, PreparedDataset, RandomSquareCrop, render_landscape
from colorgan.data.prepare_cache import prepare_cache


def make_photo_folder(folder: Path, count: int, width: int, height: int, seed: int = 0) -> Path:
    """``count`` photo-like JPEGs (q90): landscapes rendered at 1/4 size, upscaled, with sensor-like noise."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        path = folder / f"photo{index:04d}.jpg"
        if path.is_file():
            continue
        small = render_landscape(rng, max(8, height // 4), max(8, width // 4)).transpose(1, 2, 0)
        image = np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC))
        noisy = image.astype(np.int16) + rng.normal(0.0, 4.0, image.shape).astype(np.int16)
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(path, quality=90)
    return folder


class Repeated(Dataset):
    """``dataset`` repeated to ``length`` items, so that an epoch is long enough to time."""

    def __init__(self, dataset: Dataset, length: int) -> None:
        self.dataset, self.length = dataset, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Any:
        return self.dataset[index % len(self.dataset)]  # type: ignore[arg-type]


def loader_throughput(dataset: Dataset, batch_size: int, workers: int, items: int,
                      min_seconds: float) -> dict[str, float]:
    """Images/s of a shuffled DataLoader: one warm-up pass, then whole passes for >= ``min_seconds``."""
    repeated = Repeated(dataset, max(items, batch_size))
    loader = DataLoader(repeated, batch_size=batch_size, shuffle=True, num_workers=workers,
                        persistent_workers=workers > 0, drop_last=False)
    for _ in loader:  # workers start, files reach the page cache
        pass
    images, started = 0, time.perf_counter()
    while True:
        for batch in loader:
            images += batch.shape[0]
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            break
    return {"images_per_s": images / elapsed, "images": images, "seconds": elapsed}


def sample_cost_ms(dataset: Dataset, samples: int) -> float:
    """Milliseconds per item in this process on one thread (no DataLoader, no IPC), after one warm-up item."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in a DataLoader worker
    try:
        dataset[0]
        started = time.perf_counter()
        for index in range(samples):
            dataset[index % len(dataset)]  # type: ignore[arg-type]
        return (time.perf_counter() - started) * 1000 / samples
    finally:
        torch.set_num_threads(threads)


def bench_loaders(work: Path, sizes: list[int], photos: int, photo_size: tuple[int, int], cache_size: int,
                  batch_size: int, workers: int, items: int, min_seconds: float) -> dict[str, Any]:
    """Folder (decode per sample) vs prepared cache, each at every training size; plus the prepare time."""
    folder = make_photo_folder(work / "photos", photos, *photo_size)
    cache_dir = work / "cache"
    started = time.perf_counter()
    report = prepare_cache(folder, cache_dir, size=cache_size, crop="full", workers=workers, rebuild=True,
                           progress=False)
    prepare_seconds = time.perf_counter() - started
    cache = PreparedCache(cache_dir)
    files = sorted(folder.glob("*.jpg"))
    rows = []
    for size in sizes:
        datasets = (("folder (JPEG decode)", FolderDataset(files, RandomSquareCrop(size))),
                    ("prepared cache", PreparedDataset(cache, None, RandomSquareCrop(size))))
        for source, dataset in datasets:
            result = loader_throughput(dataset, batch_size, workers, items, min_seconds)
            cost = sample_cost_ms(dataset, max(photos, 8))
            rows.append({"source": source, "image_size": size, "sample_ms": cost, **result})
    return {
        "photos": photos, "photo_size": f"{photo_size[0]}×{photo_size[1]}", "cache_size": cache_size,
        "batch_size": batch_size, "workers": workers,
        "prepare_seconds": prepare_seconds, "prepare_images_per_s": report.added / max(prepare_seconds, 1e-9),
        "cache_mib": report.bytes / 2**20, "rows": rows,
    }
