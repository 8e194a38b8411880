"""data=huggingface (issue 13, part 1), offline: tiny datasets the tests build (save_to_disk, imagefolder,
streamed imagefolder); nothing reaches the hub."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from PIL import Image

from colorgan.config import config_dir
from colorgan.data import LOW_COLORFULNESS, DataError, HuggingFaceSource, build_datamodule

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
datasets = pytest.importorskip("datasets")

SIZE = 16
CLASSES = ["forest", "kitchen", "sea"]


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))


def photo(seed: int, dull: bool = False) -> Image.Image:
    if dull:  # colored but very dull: a gray gradient with a faint tint
        gray = np.linspace(60, 180, 36)[None, :].repeat(28, 0)
        return Image.fromarray(np.stack([gray + 16, gray + 4, gray - 4], -1).astype(np.uint8))
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (3, 3, 3), dtype=np.uint8)).resize((36, 28))


@pytest.fixture
def saved(tmp_path) -> Path:
    """A DatasetDict (train 9 photos, one dull; validation 3) with an Image and a ClassLabel column."""
    features = datasets.Features({"picture": datasets.Image(), "label": datasets.ClassLabel(names=CLASSES)})
    train = datasets.Dataset.from_dict({"picture": [photo(i, dull=i == 4) for i in range(9)],
                                        "label": [i % 3 for i in range(9)]}, features=features)
    val = datasets.Dataset.from_dict({"picture": [photo(20 + i) for i in range(3)], "label": [0, 1, 2]},
                                     features=features)
    folder = tmp_path / "saved"
    datasets.DatasetDict({"train": train, "validation": val}).save_to_disk(str(folder))
    return folder


@pytest.fixture
def image_folder(tmp_path) -> Path:
    folder = tmp_path / "photos" / "train"
    folder.mkdir(parents=True)
    for index in range(8):
        photo(index).save(folder / f"p{index}.png")
    return tmp_path / "photos"


def data_config(*overrides: str):
    with initialize_config_dir(str(config_dir()), version_base=None):
        cfg = compose("train", overrides=["data=huggingface", f"image_size={SIZE}", "data.num_workers=0",
                                          "data.batch_size=2", *overrides])
    return cfg.data


def test_save_to_disk_folder_with_its_own_val_split_column_and_categories(saved):
    module = build_datamodule(data_config(f"data.disk={saved}", "data.val_split=validation",
                                          "data.image_column=picture"))
    module.setup("fit")
    assert isinstance(module.source, HuggingFaceSource)
    assert (len(module.train_dataset), len(module.val_dataset)) == (9, 3)
    batch = next(iter(module.train_dataloader()))
    assert batch.dtype == torch.uint8 and batch.shape == (2, 3, SIZE, SIZE)
    chosen = build_datamodule(data_config(f"data.disk={saved}", "data.val_split=validation",
                                          "data.image_column=picture", "data.categories=[forest,sea]"))
    chosen.setup("fit")
    assert (len(chosen.train_dataset), len(chosen.val_dataset)) == (6, 2)


def test_min_colorfulness_counts_dull_rows_in_the_skip_summary(saved):
    module = build_datamodule(data_config(f"data.disk={saved}", "data.image_column=picture",
                                          "data.min_colorfulness=15"))
    module.setup("fit")
    assert [path.as_posix() for path in module.skipped[LOW_COLORFULNESS]] == ["train/#00000004"]
    assert len(module.train_dataset) + len(module.val_dataset) == 8  # held out of train by name hash
    assert "1 low colorfulness" in module.describe()


def test_imagefolder_offline_and_streamed(image_folder, tmp_path):
    common = ["data.name=imagefolder", f"data.data_dir={image_folder}",
              f"data.source.cache_dir={tmp_path / 'cache'}"]
    module = build_datamodule(data_config(*common, "data.val_fraction=0.25"))
    module.setup("fit")
    assert len(module.train_dataset) + len(module.val_dataset) == 8
    assert next(iter(module.val_dataloader())).shape == (2, 3, SIZE, SIZE)
    streamed = build_datamodule(data_config(*common, "data.streaming=true", "data.source.max_val_images=2"))
    streamed.setup("fit")
    val = list(streamed.val_dataloader())
    train = list(streamed.train_dataloader())
    assert sum(len(batch) for batch in val) == 2 and sum(len(batch) for batch in train) == 6
    assert train[0].dtype == torch.uint8 and train[0].shape == (2, 3, SIZE, SIZE)
    assert "streamed" in streamed.describe()


def test_configuration_problems_are_one_line_data_errors(saved, tmp_path, monkeypatch):
    with pytest.raises(DataError, match=r"exactly one of data\.name"):
        HuggingFaceSource(image_size=SIZE)
    with pytest.raises(DataError, match=r"exactly one of data\.name"):
        HuggingFaceSource(name="imagefolder", disk=saved, image_size=SIZE)
    no_column = build_datamodule(data_config(f"data.disk={saved}"))
    with pytest.raises(DataError, match=r"no column 'image'.*data\.image_column"):
        no_column.setup("fit")
    no_split = build_datamodule(data_config(f"data.disk={saved}", "data.split=test"))
    with pytest.raises(DataError, match="not 'test'"):
        no_split.setup("fit")
    missing = build_datamodule(data_config(f"data.disk={tmp_path / 'nowhere'}"))
    with pytest.raises(DataError, match="cannot load Hugging Face"):
        missing.setup("fit")
    monkeypatch.setitem(sys.modules, "datasets", None)
    without = build_datamodule(data_config(f"data.disk={saved}"))
    with pytest.raises(DataError, match=r"pip install 'colorgan\[hf\]'"):
        without.setup("fit")


def test_prepare_decodes_a_hugging_face_dataset_once_into_the_cache(saved, tmp_path, capsys):
    from colorgan.data import ColorDataModule, PreparedSource
    from colorgan.prepare import main as prepare_main

    cache = tmp_path / "cache"
    with pytest.raises(SystemExit) as done:
        prepare_main(["--data", "huggingface", "--set", f"disk={saved}", "--set", "image_column=picture",
                      "--set", "val_split=validation", "--output", str(cache), "--size", str(SIZE),
                      "--quiet"])
    assert done.value.code == 0, capsys.readouterr().err
    assert "added 12 photos" in capsys.readouterr().out
    module = ColorDataModule(PreparedSource(cache, image_size=SIZE, min_colorfulness=15), batch_size=2,
                             num_workers=0)
    module.setup("fit")
    assert (len(module.train_dataset), len(module.val_dataset)) == (8, 3)  # the dull row left out
    assert [path.name for path in module.skipped[LOW_COLORFULNESS]] == ["#00000004"]
