"""data=torchvision / data=places365 (issue 13, part 1), offline: a tiny tree in torchvision's real Places365
on-disk layout, FakeData, ImageFolder; the min_colorfulness filter on every source; prepare --data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from PIL import Image

from colorgan.config import config_dir
from colorgan.data import (
    ALLOWED_TARGETS,
    LOW_COLORFULNESS,
    PLACES365_LANDSCAPES,
    ColorDataModule,
    DataError,
    FolderSource,
    PreparedSource,
    TorchvisionSource,
    build_datamodule,
    image_colorfulness,
    scan_folder,
)
from colorgan.prepare import main as prepare_main

SIZE = 16
# (Places365 class line, label): two landscape classes and two others, as categories_places365.txt has them
CATEGORIES = [("/a/airfield", 0), ("/c/coast", 1), ("/k/kitchen", 2), ("/m/mountain", 3)]


def vivid(seed: int, size: tuple[int, int] = (40, 30)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (3, 3, 3), dtype=np.uint8)).resize(size,
                                                                                    Image.Resampling.BILINEAR)


def dull(seed: int, size: tuple[int, int] = (40, 30)) -> Image.Image:
    """A colored (not gray) but very dull photo: a gray gradient with a faint warm tint."""
    gray = np.linspace(60, 180, size[0], dtype=np.float64)[None, :].repeat(size[1], 0)
    rgb = np.stack([gray + 16 + seed % 3, gray + 4, gray - 4], -1)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def places365_tree(root: Path, per_class: int = 3) -> Path:
    """torchvision's Places365 layout (small images): categories, file lists, data_256_standard/, val_256/."""
    root.mkdir(parents=True)
    (root / "categories_places365.txt").write_text("".join(f"{name} {label}\n" for name, label in CATEGORIES))
    train_lines, val_lines = [], []
    for name, label in CATEGORIES:
        for number in range(1, per_class + 1):
            relative = f"{name}/{number:08d}.jpg"
            path = root / "data_256_standard" / relative.lstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            vivid(label * 10 + number).save(path)
            train_lines.append(f"{relative} {label}\n")
        val_name = f"Places365_val_{label + 1:08d}.jpg"
        (root / "val_256").mkdir(exist_ok=True)
        vivid(100 + label).save(root / "val_256" / val_name)
        val_lines.append(f"{val_name} {label}\n")
    (root / "places365_train_standard.txt").write_text("".join(train_lines))
    (root / "places365_val.txt").write_text("".join(val_lines))
    return root


@pytest.fixture
def no_md5(monkeypatch):
    """torchvision checks the real Places365 files' md5 sums; the fake tree's cannot match."""
    monkeypatch.setattr("torchvision.datasets.places365.check_integrity", lambda *args, **kwargs: True)


def data_config(name: str, *overrides: str):
    with initialize_config_dir(str(config_dir()), version_base=None):
        cfg = compose("train", overrides=[f"data={name}", f"image_size={SIZE}", "data.num_workers=0",
                                          "data.batch_size=2", *overrides])
    return cfg.data


def test_places365_in_its_real_layout_selects_landscape_categories(tmp_path, no_md5):
    root = places365_tree(tmp_path / "places365")
    module = build_datamodule(data_config("places365", f"data.root={root}"))
    module.setup("fit")
    assert isinstance(module.source, TorchvisionSource)
    train_names = {module.train_dataset.collection.name(i) for i in module.train_dataset.indices}
    assert train_names == {f"data_256_standard/{c}/{n:08d}.jpg" for c in ("c/coast", "m/mountain")
                           for n in (1, 2, 3)}  # airfield and kitchen are not landscapes
    assert len(module.val_dataset) == 2  # Places365's own val split, coast and mountain
    batch = next(iter(module.train_dataloader()))
    assert batch.dtype == torch.uint8 and batch.shape == (2, 3, SIZE, SIZE)
    assert "Places365" in module.describe() and "44 categories" in module.describe()
    assert {"coast", "mountain", "valley"} <= set(PLACES365_LANDSCAPES)


def test_places365_category_spellings_and_every_class(tmp_path, no_md5):
    root = places365_tree(tmp_path / "places365")
    chosen = build_datamodule(data_config("places365", f"data.root={root}", "data.categories=[/k/kitchen]"))
    chosen.setup("fit")
    assert len(chosen.train_dataset) == 3 and len(chosen.val_dataset) == 1
    everything = build_datamodule(data_config("places365", f"data.root={root}", "data.categories=[]"))
    everything.setup("fit")
    assert len(everything.train_dataset) == 12 and len(everything.val_dataset) == 4
    unknown = build_datamodule(data_config("places365", f"data.root={root}", "data.categories=[moon]"))
    with pytest.raises(DataError, match="unknown categories \\['moon'\\]"):
        unknown.setup("fit")


def test_missing_places365_is_one_line_suggesting_download(tmp_path):
    module = build_datamodule(data_config("places365", f"data.root={tmp_path / 'nowhere'}"))
    with pytest.raises(DataError) as error:
        module.setup("fit")
    message = str(error.value)
    assert "Places365" in message and "data.download=true" in message and "\n" not in message


def test_fake_data_samples_are_image_label_pairs_through_folder_transforms():
    source = {"_target_": "colorgan.data.TorchvisionSource", "image_size": SIZE, "val_fraction": 0.25,
              "dataset": {"_target_": "torchvision.datasets.FakeData", "_partial_": True, "size": 12,
                          "image_size": [3, 30, 40], "num_classes": 3}}
    module = build_datamodule({"batch_size": 3, "num_workers": 0, "source": source})
    module.setup("fit")
    assert len(module.train_dataset) + len(module.val_dataset) == 12 and len(module.val_dataset) >= 1
    train, val = next(iter(module.train_dataloader())), next(iter(module.val_dataloader()))
    assert train.dtype == torch.uint8 and train.shape == (3, 3, SIZE, SIZE)
    assert val.shape[1:] == (3, SIZE, SIZE)
    assert torch.equal(next(iter(module.val_dataloader())), val)  # validation is deterministic


def test_image_folder_with_min_colorfulness_counts_dull_photos(tmp_path):
    for index in range(4):
        (tmp_path / "tree" / "vivid").mkdir(parents=True, exist_ok=True)
        (tmp_path / "tree" / "dull").mkdir(parents=True, exist_ok=True)
        vivid(index).save(tmp_path / "tree" / "vivid" / f"v{index}.png")
        dull(index).save(tmp_path / "tree" / "dull" / f"d{index}.png")
    assert image_colorfulness(np.asarray(dull(0))) < 15 < image_colorfulness(np.asarray(vivid(0)))
    module = build_datamodule(data_config("torchvision", f"data.root={tmp_path / 'tree'}",
                                          "data.min_colorfulness=15"))
    module.setup("fit")
    assert len(module.train_dataset) + len(module.val_dataset) == 4
    assert sorted(path.as_posix() for path in module.skipped[LOW_COLORFULNESS]) == [
        f"dull/d{index}.png" for index in range(4)]
    assert "4 low colorfulness" in module.describe()
    kept = build_datamodule(data_config("torchvision", f"data.root={tmp_path / 'tree'}"))
    kept.setup("fit")  # default 0: today's behaviour, every photo kept, nothing decoded at setup
    assert len(kept.train_dataset) + len(kept.val_dataset) == 8 and not kept.skipped


def test_folder_source_min_colorfulness_default_off_and_counted(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for index in range(3):
        vivid(index).save(photos / f"v{index}.png")
        dull(index).save(photos / f"d{index}.png")
    assert not scan_folder(photos).skipped  # default: dull photos are kept
    scan = scan_folder(photos, min_colorfulness=15)
    assert sorted(path.name for path in scan.skipped[LOW_COLORFULNESS]) == ["d0.png", "d1.png", "d2.png"]
    module = ColorDataModule(FolderSource(photos, image_size=SIZE, min_colorfulness=15), batch_size=2,
                             num_workers=0)
    module.setup("fit")
    assert len(module.train_dataset) + len(module.val_dataset) == 3
    assert "3 low colorfulness" in module.describe()
    with pytest.raises(DataError, match="min_colorfulness must be a number >= 0"):
        FolderSource(photos, min_colorfulness=-1)


def test_allow_list_names_dataset_classes_exactly():
    assert {"torchvision.datasets.Places365", "torchvision.datasets.ImageFolder",
            "torchvision.datasets.ImageNet", "torchvision.datasets.FakeData",
            "colorgan.data.TorchvisionSource"} <= ALLOWED_TARGETS
    hostile = {"batch_size": 2, "source": {"_target_": "colorgan.data.TorchvisionSource",
                                           "dataset": {"_target_": "torchvision.datasets.utils.download_url",
                                                       "url": "http://example.invalid/x", "root": "/tmp"}}}
    with pytest.raises(DataError, match=r"refusing data\.source\.dataset\._target_"):
        build_datamodule(hostile)


def test_prepare_data_config_keeps_the_split_and_stores_colorfulness(tmp_path, no_md5, capsys):
    root = places365_tree(tmp_path / "places365")
    dull(0, (48, 36)).save(root / "data_256_standard" / "m" / "mountain" / "00000002.jpg")  # one dull photo
    cache = tmp_path / "cache"
    args = ["--data", "places365", "--set", f"root={root}", "--output", str(cache), "--size", str(SIZE),
            "--quiet", "--workers", "2"]
    with pytest.raises(SystemExit) as done:
        prepare_main(args)
    assert done.value.code == 0, capsys.readouterr().err
    assert "added 8 photos" in capsys.readouterr().out  # 6 landscape train + 2 val
    with pytest.raises(SystemExit) as again:
        prepare_main(args)  # incremental: nothing read again
    assert again.value.code == 0 and "added 0 photos (8 already in the cache" in capsys.readouterr().out
    module = ColorDataModule(PreparedSource(cache, image_size=SIZE), batch_size=2, num_workers=0)
    module.setup("fit")
    assert (len(module.train_dataset), len(module.val_dataset)) == (6, 2)  # Places365's split kept
    filtered = ColorDataModule(PreparedSource(cache, image_size=SIZE, min_colorfulness=15), batch_size=2,
                               num_workers=0)
    filtered.setup("fit")
    assert [path.name for path in filtered.skipped[LOW_COLORFULNESS]] == ["00000002.jpg"]
    assert len(filtered.train_dataset) == 5
    assert OmegaConf.load(cache / "manifest.json")["split"] == "fixed"


def test_prepare_refuses_a_folder_source_config_and_both_inputs(tmp_path, capsys):
    with pytest.raises(SystemExit) as both:
        prepare_main([str(tmp_path), "--data", "places365", "--output", str(tmp_path / "c")])
    assert both.value.code == 2
    with pytest.raises(SystemExit) as folder:
        prepare_main(["--data", "folder", "--set", f"root={tmp_path}", "--output", str(tmp_path / "c")])
    assert folder.value.code == 2 and "prepare a photo folder with" in capsys.readouterr().err
