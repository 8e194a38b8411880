"""ColorDataModule: setup and real batches from both sources, in-process and with worker processes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from omegaconf.errors import MissingMandatoryValue
from PIL import Image

from colorgan.config import config_dir
from colorgan.data import (
    ColorDataModule,
    DataError,
    DataSource,
    FolderSource,
    SourceSplits,
    SyntheticLandscapes,
    SyntheticSource,
    build_datamodule,
)

SIZE = 32


def first_batches(module: ColorDataModule) -> tuple[torch.Tensor, torch.Tensor]:
    module.setup("fit")
    return next(iter(module.train_dataloader())), next(iter(module.val_dataloader()))


def write_photos(root: Path, count: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        height, width = rng.integers(20, 70, size=2)
        base = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
        photo = Image.fromarray(base).resize((int(width), int(height)), Image.Resampling.BILINEAR)
        photo.save(root / f"photo_{index:02d}.{'jpg' if index % 2 else 'png'}")
    Image.fromarray(np.full((30, 30), 128, np.uint8)).save(root / "gray.png")


def test_synthetic_batches_are_uint8_squares() -> None:
    module = ColorDataModule(SyntheticSource(num_train=10, num_val=6, image_size=SIZE), batch_size=4,
                             num_workers=0)
    train, val = first_batches(module)
    for batch in (train, val):
        assert batch.dtype == torch.uint8 and batch.shape == (4, 3, SIZE, SIZE)
    assert len(module.train_dataset) == 10 and len(module.val_dataset) == 6
    assert len(module.train_dataloader()) == 2  # 10 images, batch 4, incomplete batch dropped
    assert not torch.equal(module.val_dataset[0], module.train_dataset[0])
    assert "synthetic" in module.describe() and "10 train / 6 val" in module.describe()


def test_folder_batches_skips_and_description(tmp_path: Path) -> None:
    write_photos(tmp_path / "photos", 12)
    source = FolderSource(tmp_path / "photos", image_size=SIZE, val_fraction=0.25, max_val_images=2)
    module = ColorDataModule(source, batch_size=3, num_workers=0)
    train, val = first_batches(module)
    assert train.dtype == torch.uint8 and train.shape == (3, 3, SIZE, SIZE)
    assert val.dtype == torch.uint8 and val.shape[1:] == (3, SIZE, SIZE)
    assert len(module.val_dataset) <= 2 and len(module.train_dataset) + len(module.val_dataset) == 12
    assert [path.name for path in module.skipped["grayscale"]] == ["gray.png"]
    line = module.describe()
    assert "folder" in line and "1 grayscale (gray.png)" in line and "\n" not in line
    assert torch.equal(next(iter(module.val_dataloader())), val)  # validation is deterministic


def test_worker_processes_deliver_the_same_kind_of_batch() -> None:
    module = ColorDataModule(SyntheticSource(num_train=8, num_val=4, image_size=SIZE), batch_size=4,
                             num_workers=2, persistent_workers=True)
    train, val = first_batches(module)
    assert train.dtype == torch.uint8 and train.shape == (4, 3, SIZE, SIZE)
    assert val.shape == (4, 3, SIZE, SIZE)
    assert module.train_dataloader().persistent_workers


def test_problems_surface_as_data_errors_at_setup(tmp_path: Path) -> None:
    missing = ColorDataModule(FolderSource(tmp_path / "nowhere"), num_workers=0)
    with pytest.raises(DataError, match="nowhere"):
        missing.setup("fit")
    with pytest.raises(DataError, match="root"):
        ColorDataModule(FolderSource(None), num_workers=0).setup("fit")
    with pytest.raises(DataError, match=r"colorgan\.data\.ImageNet"):
        build_datamodule({"source": {"_target_": "colorgan.data.ImageNet"}})
    with pytest.raises(DataError, match="unknown data source"):  # an old run config's source name
        build_datamodule({"_target_": "colorgan.data.ColorDataModule", "source": "imagenet"})
    with pytest.raises(DataError, match="image_size"):
        SyntheticSource(image_size=0)
    with pytest.raises(DataError, match="batch_size"):
        ColorDataModule(SyntheticSource(), batch_size=0)
    write_photos(tmp_path / "one", 1)
    with pytest.raises(DataError, match="at least 2"):
        ColorDataModule(FolderSource(tmp_path / "one"), num_workers=0).setup("fit")


def test_hydra_can_build_it_from_plain_data() -> None:
    config = {"batch_size": 2, "num_workers": 0,
              "source": {"_target_": "colorgan.data.SyntheticSource", "image_size": SIZE, "num_train": 4,
                         "num_val": 2}}
    module = build_datamodule(config)
    assert isinstance(module, ColorDataModule)
    train, _ = first_batches(module)
    assert train.shape == (2, 3, SIZE, SIZE)
    assert module.train_dataloader().persistent_workers is False  # no workers, nothing to persist
    assert dict(module.hparams) == {"batch_size": 2, "num_workers": 0, "pin_memory": False,
                                    "persistent_workers": True, "drop_last": True}  # no objects saved


@pytest.mark.parametrize("name", ["synthetic", "folder", "prepared", "streaming"])
def test_every_shipped_data_config_builds_with_its_command_line_shortcuts(name: str, tmp_path: Path) -> None:
    config = OmegaConf.create({"image_size": SIZE, "data": OmegaConf.load(Path(config_dir()) / "data" /
                                                                          f"{name}.yaml")})
    overrides = ["data.batch_size=3", "data.num_workers=0"]
    overrides += ["data.num_train=5", "data.num_val=3"] if name == "synthetic" else [f"data.root={tmp_path}"]
    if name in ("folder", "prepared"):
        overrides += ["data.val_fraction=0.3", "data.min_scale=0.8", "data.hflip=false"]
    config = OmegaConf.merge(config, OmegaConf.from_dotlist(overrides))
    module = build_datamodule(config.data)
    assert module.batch_size == 3 and module.num_workers == 0 and module.image_size == SIZE
    source = module.source
    if name == "synthetic":
        assert (source.num_train, source.num_val) == (5, 3)
    else:
        assert str(source.root) == str(tmp_path)
    if name in ("folder", "prepared"):
        assert source.val_fraction == 0.3 and source.crop.min_scale == 0.8 and not source.crop.hflip


def test_missing_root_names_the_key() -> None:
    config = OmegaConf.create({"image_size": SIZE, "data": OmegaConf.load(Path(config_dir()) / "data" /
                                                                          "folder.yaml")})
    with pytest.raises(MissingMandatoryValue) as missing:  # colorgan.cli: "error: data.root must be set, ..."
        build_datamodule(config.data)
    assert missing.value.full_key == "data.root"


def test_a_new_source_plugs_in_without_touching_the_datamodule() -> None:
    class Tiny(DataSource):
        def splits(self) -> SourceSplits:
            size = self.image_size
            return SourceSplits(SyntheticLandscapes(4, size), SyntheticLandscapes(2, size), "tiny",
                                {"unreadable": [Path("x.jpg")]})

    module = ColorDataModule(Tiny(SIZE), batch_size=2, num_workers=0)
    train, _ = first_batches(module)
    assert train.shape == (2, 3, SIZE, SIZE) and module.skipped == {"unreadable": [Path("x.jpg")]}
    assert module.describe().startswith("data: tiny — 4 train / 2 val")


def test_a_small_validation_split_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    from colorgan.data.datamodule import FEW_VAL_IMAGES

    with caplog.at_level("WARNING", logger="colorgan.data.datamodule"):
        ColorDataModule(SyntheticSource(num_train=8, num_val=FEW_VAL_IMAGES, image_size=SIZE),
                        num_workers=0).setup("fit")
        assert not caplog.records
        ColorDataModule(SyntheticSource(num_train=8, num_val=FEW_VAL_IMAGES - 1, image_size=SIZE),
                        num_workers=0).setup("fit")
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert f"only {FEW_VAL_IMAGES - 1} validation images" in caplog.text and "last.ckpt" in caplog.text


def test_only_the_first_process_describes_the_data(caplog: pytest.LogCaptureFixture, monkeypatch) -> None:
    from pytorch_lightning.utilities.rank_zero import rank_zero_only

    monkeypatch.setattr(rank_zero_only, "rank", 1)  # another DDP process: it sets up the same split quietly
    with caplog.at_level("INFO", logger="colorgan.data.datamodule"):
        module = ColorDataModule(SyntheticSource(num_train=8, num_val=2, image_size=SIZE), num_workers=0)
        module.setup("fit")
    assert module.val_dataset is not None and len(module.val_dataset) == 2
    assert not caplog.records
