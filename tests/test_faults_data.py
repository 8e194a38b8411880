"""Issue 8, data side: concurrent prepare runs (#4), hostile data configs in run folders (#6), thin and huge
photos (#10). Each case: nothing lost, nothing run, one clear line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf
from PIL import Image

from colorgan.data import DataError, FolderSource, PreparedCache, build_datamodule, images, scan_folder
from colorgan.data import prepare_cache as writer
from colorgan.data import prepared as cache_format
from colorgan.data.images import EXTREME_ASPECT, TOO_MANY_PIXELS
from colorgan.data.lock import LOCK_FILE
from colorgan.data.prepare_cache import prepare_cache
from colorgan.errors import UserError
from colorgan.prepare import main as prepare_main
from colorgan.samples import config_samples

SIZE = 16


def color_photo(path: Path, width: int, height: int, seed: int = 0) -> None:
    """A smooth, clearly colored photo of width×height pixels."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(3, 3, 3), dtype=np.uint8)
    Image.fromarray(base).resize((width, height), Image.Resampling.BILINEAR).save(path)


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for index in range(6):
        color_photo(folder / f"p{index}.png", 24 + index, 20, seed=index)
    return folder


# -- #4: two prepare runs into one output ------------------------------------------------------------------


def test_second_prepare_into_the_same_cache_is_refused_and_the_first_completes(photos, tmp_path, capsys):
    cache = tmp_path / "cache"
    second: dict[str, object] = {}

    def start_another_run(shards: int) -> None:
        if shards == 1:  # the first run holds the cache: a second one must not touch it
            with pytest.raises(SystemExit) as done:
                prepare_main([str(photos), "--output", str(cache), "--size", str(SIZE), "--workers", "1",
                              "--shard-images", "2", "--quiet"])
            second["code"] = done.value.code
            second["err"] = capsys.readouterr().err

    report = prepare_cache(photos, cache, size=SIZE, workers=1, shard_images=2, progress=False,
                           on_shard=start_another_run)
    assert second["code"] == 2
    lines = str(second["err"]).strip().splitlines()
    assert len(lines) == 1 and "another prepare is writing to" in lines[0] and str(cache) in lines[0]
    assert report.added == 6 and report.shards == 3
    prepared = PreparedCache(cache)  # nothing lost: every photo readable, nothing left half-written
    assert len(prepared) == 6 and all(prepared.image(i).shape[2] == 3 for i in range(6))
    assert sorted(path.name for path in (cache / "shards").iterdir()) == [
        f"shard-0000{i}.{ext}" for i in range(3) for ext in ("bin", "json")]
    # the lock is released when the run ends: the next run goes ahead (and finds nothing new to add)
    assert prepare_cache(photos, cache, size=SIZE, workers=1, shard_images=2, progress=False).unchanged == 6


def test_temporary_names_are_per_process_and_leftovers_are_cleaned(photos, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    prepare_cache(photos, cache, size=SIZE, workers=1, shard_images=4, progress=False)
    leftovers = [cache / ".manifest.json.4242.deadbeef.tmp", cache / "shards" / ".shard-00001.bin.4242.x.tmp"]
    for path in leftovers:
        path.write_bytes(b"from a killed run")
    renamed: list[str] = []
    real_replace = os.replace

    def recording_replace(source, target):
        renamed.append(Path(source).name)
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", recording_replace)
    color_photo(photos / "new.png", 30, 20, seed=9)
    prepare_cache(photos, cache, size=SIZE, workers=1, shard_images=4, progress=False)
    assert not any(path.exists() for path in leftovers)
    assert renamed and len(set(renamed)) == len(renamed)  # never the same temporary name twice
    assert all(f".{os.getpid()}." in name for name in renamed)
    assert len(PreparedCache(cache)) == 7


def test_lock_file_is_hidden_from_the_empty_folder_check(photos, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / LOCK_FILE).write_text("prepare: pid 1\n")  # left by an earlier run: not a reason to refuse
    assert prepare_cache(photos, cache, size=SIZE, workers=1, progress=False).added == 6


# -- #6: a run's config must never run code ----------------------------------------------------------------


def hostile(target_file: Path) -> dict:
    """A node that writes ``target_file`` when Hydra instantiates it."""
    return {"_target_": "pathlib.Path.write_text",
            "_args_": [{"_target_": "pathlib.Path", "_args_": [str(target_file)]}, "pwned"]}


def write_run_config(run: Path, data: dict) -> Path:
    (run / ".hydra").mkdir(parents=True)
    path = run / ".hydra" / "config.yaml"
    path.write_text(OmegaConf.to_yaml(OmegaConf.create({"image_size": SIZE, "data": data})))
    return path


OLD_STYLE = {"_target_": "colorgan.data.ColorDataModule", "source": "synthetic",
             "image_size": "${image_size}", "batch_size": 2, "num_workers": 0, "num_train": 4, "num_val": 3,
             "synthetic_seed": 0}
NEW_STYLE = {"batch_size": 2, "num_workers": 0,
             "source": {"_target_": "colorgan.data.SyntheticSource", "num_train": 4, "num_val": 3,
                        "image_size": "${image_size}"}}


@pytest.mark.parametrize("where", ["old-style, nested", "new-style, in the source", "new-style, top",
                                   "new-style, as the source"])
def test_run_config_with_a_foreign_target_is_refused_before_anything_runs(tmp_path, where):
    victim = tmp_path / "victim.txt"
    if where == "old-style, nested":
        data = {**OLD_STYLE, "root": hostile(victim)}
    elif where == "new-style, in the source":
        data = {**NEW_STYLE, "source": {**NEW_STYLE["source"], "seed": {"deep": [hostile(victim)]}}}
    elif where == "new-style, top":
        data = {**NEW_STYLE, "_target_": "pathlib.Path.write_text"}
    else:
        data = {**NEW_STYLE, "source": hostile(victim)}
    config = write_run_config(tmp_path / "run", data)
    with pytest.raises(UserError) as refused:
        config_samples(str(config), [], SIZE)  # what evaluate --data RUN/.hydra/config.yaml and compare do
    message = str(refused.value)
    assert "pathlib.Path" in message and "refusing" in message and "\n" not in message
    assert not victim.exists()


def test_escaped_interpolation_cannot_smuggle_a_target(tmp_path):
    victim = tmp_path / "victim.txt"
    smuggled = "\\${oc.decode:'{_target_: pathlib.Path.write_text, _args_: [" + str(victim) + ", x]}'}"
    config = write_run_config(tmp_path / "run", {**NEW_STYLE, "source": {**NEW_STYLE["source"],
                                                                          "seed": smuggled}})
    with pytest.raises(UserError, match="seed must be an integer"):  # read as the text it is, never resolved
        config_samples(str(config), [], SIZE)
    assert not victim.exists()


def test_old_and_new_run_configs_still_give_their_validation_images(tmp_path):
    for name, data in (("old", OLD_STYLE), ("new", NEW_STYLE)):
        config = write_run_config(tmp_path / name, data)
        samples = config_samples(str(config), ["num_val=2"] if name == "old" else [], SIZE)
        assert len(samples) == (2 if name == "old" else 3)
        assert samples[0].load().shape == (SIZE, SIZE, 3)


def test_build_datamodule_checks_every_depth_of_a_plain_mapping(tmp_path):
    victim = tmp_path / "victim.txt"
    with pytest.raises(DataError, match=r"data\.source\.seed\[0\]\._target_"):
        build_datamodule({**NEW_STYLE, "source": {**NEW_STYLE["source"], "image_size": SIZE,
                                                  "seed": [hostile(victim)]}})
    assert not victim.exists()


# -- #10: thin and huge photos -----------------------------------------------------------------------------


def test_thin_photos_are_counted_as_skipped_in_the_folder_source(photos):
    color_photo(photos / "thin.png", 1, 2000)
    color_photo(photos / "wide.png", 2000, 1)
    scan = scan_folder(photos)
    assert sorted(path.name for path in scan.skipped[EXTREME_ASPECT]) == ["thin.png", "wide.png"]
    assert "2 extreme aspect ratio" in scan.summary() and len(scan.usable) == 6
    splits = FolderSource(photos, image_size=SIZE, val_fraction=0.3).splits()
    assert len(splits.skipped[EXTREME_ASPECT]) == 2 and "extreme aspect ratio" in splits.description


def test_thin_photos_never_become_a_huge_cache_entry(photos, tmp_path):
    color_photo(photos / "thin.png", 1, 2000)
    cache = tmp_path / "cache"
    report = prepare_cache(photos, cache, size=SIZE, workers=1, progress=False)
    assert report.added == 6 and report.skipped[EXTREME_ASPECT] == 1
    manifest = json.loads((cache / cache_format.MANIFEST).read_text())
    assert [entry["path"] for entry in manifest["skipped"][EXTREME_ASPECT]] == ["thin.png"]
    prepared = PreparedCache(cache)
    assert max(int(side) for shape in prepared.shapes for side in shape) <= SIZE * images.MAX_ASPECT
    assert manifest["bytes"] < 6 * SIZE * SIZE * 3 * 2  # six small photos, nothing else


def test_photos_over_the_pixel_cap_are_skipped_not_decoded(photos, tmp_path, monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 1000)  # 24×20 photos fit, a 40×40 one does not
    color_photo(photos / "huge.png", 40, 40)
    scan = scan_folder(photos)
    assert [path.name for path in scan.skipped[TOO_MANY_PIXELS]] == ["huge.png"]
    report = prepare_cache(photos, tmp_path / "cache", size=SIZE, workers=1, progress=False)
    assert report.skipped[TOO_MANY_PIXELS] == 1 and report.added == 6
    assert writer.prepare_photo(str(photos / "huge.png"), SIZE, "full") == (TOO_MANY_PIXELS, None)
