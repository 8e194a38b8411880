"""The prepared cache: same pixels as the folder source, incremental, interruption-safe, trainable."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from colorgan.data import (
    CenterSquare,
    ColorDataModule,
    DataError,
    FolderSource,
    PreparedCache,
    PreparedSource,
    load_rgb,
)
from colorgan.data import prepare_cache as writer
from colorgan.data.folder import GRAYSCALE, NOT_IMAGE, UNREADABLE
from colorgan.data.prepare_cache import prepare_cache
from colorgan.prepare import main as prepare_main
from tests.helpers import TINY, compose_config

SIZE = 32


def color_photo(height: int, width: int, seed: int) -> np.ndarray:
    """A distinct, clearly colored picture per seed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    red = 255 * x / (width - 1)
    green = 255 * y / (height - 1)
    blue = 128 + 100 * np.sin(x / rng.uniform(2, 6) + rng.uniform(0, 6)) * np.cos(y / rng.uniform(2, 6))
    return np.clip(np.stack([red, green, blue], axis=-1), 0, 255).astype(np.uint8)


def add_photos(folder: Path, count: int, first: int = 0) -> list[str]:
    """Write ``count`` JPEG/PNG photos of varied sizes (and orientations); return their relative paths."""
    names = []
    for seed in range(first, first + count):
        height, width = (40 + 7 * (seed % 5), 56 + 5 * (seed % 3)) if seed % 2 else (70, 48)
        name = f"{'sub/' if seed % 3 == 0 else ''}photo{seed:03d}.{'png' if seed % 4 == 0 else 'jpg'}"
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(color_photo(height, width, seed)).save(folder / name, quality=92)
        names.append(name)
    return names


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """12 color photos, one corrupt, one gray, one text file."""
    folder = tmp_path / "photos"
    folder.mkdir()
    add_photos(folder, 12)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    gray = np.repeat(color_photo(50, 50, 99)[..., :1], 3, axis=-1)
    Image.fromarray(gray).save(folder / "gray.png")
    (folder / "notes.txt").write_text("not a photo")
    return folder


def manifest(cache: Path) -> dict:
    return json.loads((cache / "manifest.json").read_text())


def test_center_cache_gives_the_folder_datasets_validation_pixels(photos, tmp_path):
    cache = tmp_path / "cache"
    report = prepare_cache(photos, cache, size=SIZE, crop="center", workers=2, shard_images=5, progress=False)
    assert report.added == 12 and report.shards == 3
    assert report.skipped == {UNREADABLE: 1, GRAYSCALE: 1, NOT_IMAGE: 1}
    skipped = {reason: [entry["path"] for entry in entries]
               for reason, entries in manifest(cache)["skipped"].items()}
    assert skipped == {UNREADABLE: ["broken.jpg"], GRAYSCALE: ["gray.png"], NOT_IMAGE: ["notes.txt"]}

    kwargs = {"image_size": SIZE, "val_fraction": 0.3}
    from_folder = ColorDataModule(FolderSource(photos, **kwargs), batch_size=2, num_workers=0)
    from_cache = ColorDataModule(PreparedSource(cache, **kwargs), batch_size=2, num_workers=0)
    from_folder.setup()
    from_cache.setup()
    assert len(from_cache.train_dataset) == len(from_folder.train_dataset)
    assert len(from_cache.val_dataset) == len(from_folder.val_dataset) >= 3
    for index in range(len(from_folder.val_dataset)):
        assert torch.equal(from_cache.val_dataset[index], from_folder.val_dataset[index])
    assert sorted(from_cache.skipped) == sorted(from_folder.skipped)
    batch = next(iter(from_cache.train_dataloader()))
    assert batch.dtype == torch.uint8 and batch.shape == (2, 3, SIZE, SIZE)


def test_full_cache_keeps_the_aspect_with_the_short_side_at_size(photos, tmp_path):
    cache = tmp_path / "cache"
    prepare_cache(photos, cache, size=SIZE, crop="full", workers=1, progress=False)
    prepared = PreparedCache(cache)
    for index, path in enumerate(prepared.paths):
        source = load_rgb(photos / path)
        image = prepared.image(index)
        assert min(image.shape[:2]) == SIZE
        assert abs(image.shape[0] / image.shape[1] - source.shape[0] / source.shape[1]) < 0.05
        # the eval crop of the stored image is close to the folder's (both resample the same photo)
        from_cache = CenterSquare(SIZE)(Image.fromarray(image)).float()
        from_photo = CenterSquare(SIZE)(Image.fromarray(source)).float()
        assert (from_cache - from_photo).abs().mean() < 6.0


def test_rerun_adds_only_new_photos_and_retires_changed_ones(photos, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    prepare_cache(photos, cache, size=SIZE, workers=1, shard_images=4, progress=False)
    before = manifest(cache)
    decoded: list[str] = []
    original = writer.prepare_photo
    monkeypatch.setattr(writer, "prepare_photo",
                        lambda path, *args: decoded.append(Path(path).name) or original(path, *args))

    added = add_photos(photos, 3, first=50)
    report = prepare_cache(photos, cache, size=SIZE, workers=1, shard_images=4, progress=False)
    assert sorted(decoded) == sorted(Path(name).name for name in added)
    assert report.added == 3 and report.unchanged == 12
    after = manifest(cache)
    assert after["shards"][: len(before["shards"])] == before["shards"]
    assert after["images"] == 15

    decoded.clear()
    changed = photos / "photo001.jpg"
    Image.fromarray(color_photo(45, 61, 7)).save(changed)
    os.utime(changed, ns=(1, 1))
    (photos / "photo002.jpg").unlink()
    report = prepare_cache(photos, cache, size=SIZE, workers=1, shard_images=4, progress=False)
    assert decoded == ["photo001.jpg"] and report.stale == 2
    prepared = PreparedCache(cache)
    assert len(prepared) == 14 and prepared.paths.count("photo001.jpg") == 1
    assert "photo002.jpg" not in prepared.paths
    assert prepared.image(prepared.paths.index("photo001.jpg")).shape[:2] == (SIZE, round(61 * SIZE / 45))


def test_interrupted_prepare_resumes_to_the_same_manifest(photos, tmp_path, monkeypatch):
    reference = tmp_path / "reference"
    prepare_cache(photos, reference, size=SIZE, workers=2, shard_images=3, progress=False)

    cache = tmp_path / "cache"
    original = writer._ShardWriter.write_shard
    calls = []

    def interrupted_in_the_third_shard(self, name):
        calls.append(name)
        if len(calls) == 3:  # die half-way through writing the shard's data
            data_path = cache / "shards" / f"{name}.bin.tmp"
            data_path.write_bytes(b"\x00" * 100)
            raise KeyboardInterrupt
        return original(self, name)

    monkeypatch.setattr(writer._ShardWriter, "write_shard", interrupted_in_the_third_shard)
    with pytest.raises(KeyboardInterrupt):
        prepare_cache(photos, cache, size=SIZE, workers=2, shard_images=3, progress=False)
    interrupted = manifest(cache)
    assert [shard["name"] for shard in interrupted["shards"]] == ["shard-00000", "shard-00001"]
    assert len(PreparedCache(cache)) == 6  # readable as it is: only complete shards are listed
    monkeypatch.undo()

    report = prepare_cache(photos, cache, size=SIZE, workers=2, shard_images=3, progress=False)
    assert report.added == 6
    assert manifest(cache) == manifest(reference)
    assert sorted(path.name for path in (cache / "shards").iterdir()) == sorted(
        path.name for path in (reference / "shards").iterdir())
    for name in manifest(cache)["shards"]:
        shard = f"shards/{name['name']}.bin"
        assert (cache / shard).read_bytes() == (reference / shard).read_bytes()


def test_cli_reports_and_refuses_mismatched_settings(photos, tmp_path, capsys):
    cache = tmp_path / "cache"
    with pytest.raises(SystemExit) as done:
        prepare_main([str(photos), "--output", str(cache), "--size", str(SIZE), "--workers", "1", "--quiet"])
    assert done.value.code == 0
    assert "added 12 photos" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        prepare_main([str(photos), "--output", str(cache), "--size", "64", "--quiet"])
    assert done.value.code == 2
    assert "--rebuild" in capsys.readouterr().err
    with pytest.raises(DataError, match="no prepared cache"):
        PreparedCache(tmp_path / "nowhere")


def test_training_runs_from_the_cache(photos, tmp_path):
    from colorgan.train import train

    cache = tmp_path / "cache"
    prepare_cache(photos, cache, size=SIZE, workers=1, progress=False)
    tiny = [override for override in TINY if not override.startswith(("data.num_train", "data.num_val"))]
    overrides = [*tiny, "data=prepared", f"data.root={cache}", "data.val_fraction=0.3"]
    cfg = compose_config(tmp_path / "run", overrides)
    summary = train(cfg)
    assert summary["global_step"] >= 2
    assert np.isfinite(summary["final"]["val/loss"])
