"""data=streaming: litdata writing and reading, sharded across 2 ranks, and a training run from it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from colorgan.data import CenterSquare, ColorDataModule, DataError, StreamingSource, open_streaming
from colorgan.data.streaming import write_streaming
from tests.helpers import TINY, compose_config
from tests.test_prepared import add_photos

litdata = pytest.importorskip("litdata")

SIZE = 32


def digest(image: torch.Tensor) -> str:
    return hashlib.sha1(image.numpy().tobytes()).hexdigest()


@pytest.fixture(scope="module")
def stream(tmp_path_factory) -> Path:
    """17 photos (+ 1 gray one, skipped) written as a center-cropped litdata dataset."""
    root = tmp_path_factory.mktemp("streaming")
    photos = root / "photos"
    photos.mkdir()
    add_photos(photos, 17)
    Image.fromarray(np.full((40, 40, 3), 128, dtype=np.uint8)).save(photos / "gray.png")
    write_streaming(photos, root / "stream", size=SIZE, crop="center", val_fraction=0.25, workers=2)
    return root / "stream"


def rank_items(location: str, rank: int, monkeypatch, epochs: int = 1) -> list[list[str]]:
    """What rank ``rank`` of 2 sees per epoch (litdata reads the rank from WORLD_SIZE / GLOBAL_RANK)."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("GLOBAL_RANK", str(rank))
    dataset = open_streaming(location, CenterSquare(SIZE), shuffle=True, drop_last=False)
    loader = litdata.StreamingDataLoader(dataset, batch_size=3, num_workers=0)
    return [[digest(image) for batch in loader for image in batch] for _ in range(epochs)]


def test_every_item_exactly_once_per_epoch_across_two_ranks(stream, monkeypatch):
    meta = json.loads((stream / "colorgan.json").read_text())
    assert meta["skipped"]["grayscale"] == ["gray.png"]
    location = str(stream / "train")
    single = litdata.StreamingDataset(location)
    expected = sorted(digest(torch.from_numpy(item["image"].transpose(2, 0, 1).copy())) for item in single)
    assert len(expected) == meta["train"] == len(set(expected))

    ranks = [rank_items(location, rank, monkeypatch, epochs=2) for rank in (0, 1)]
    for epoch in range(2):
        seen = ranks[0][epoch] + ranks[1][epoch]
        assert sorted(seen) == expected  # all of them, none twice
        assert set(ranks[0][epoch]).isdisjoint(ranks[1][epoch])
        assert ranks[0][epoch] and ranks[1][epoch]


def test_streaming_source_trains(stream, tmp_path):
    from colorgan.train import train

    tiny = [override for override in TINY if not override.startswith(("data.num_train", "data.num_val"))]
    cfg = compose_config(tmp_path / "run", [*tiny, "data=streaming", f"data.root={stream}"])
    summary = train(cfg)
    assert summary["global_step"] >= 2
    assert np.isfinite(summary["final"]["val/loss"])


def test_val_images_are_the_folder_split_at_full_size(stream):
    module = ColorDataModule(StreamingSource(str(stream), image_size=SIZE), batch_size=4, num_workers=0)
    module.setup()
    batch = next(iter(module.val_dataloader()))
    assert batch.dtype == torch.uint8 and batch.shape[1:] == (3, SIZE, SIZE)
    assert len(module.val_dataset) == json.loads((stream / "colorgan.json").read_text())["val"]


def test_missing_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no litdata dataset"):
        open_streaming(str(tmp_path / "nowhere"), CenterSquare(SIZE))
