"""benchmarks/photoset/kinds.py: the photo set split by kind (scenes to train on; scenes, animals to test)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_kinds():
    spec = importlib.util.spec_from_file_location("photoset_kinds", ROOT / "benchmarks/photoset/kinds.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


kinds = load_kinds()
GC = "usr/share/gcompris-qt/rcc/"
ENTRIES = [  # (package, path inside it, split, expected folder)
    ("mate-backgrounds", "usr/share/backgrounds/mate/nature/Dune.jpg", "train", "scenes-train"),
    ("gcompris-qt-data", GC + "explore_monuments.rcc!/a/usa/canyon.webp", "test", "scenes-test"),
    ("gcompris-qt-data", GC + "categorization.rcc!/c/images/monuments/burj.webp", "train", "scenes-train"),
    ("gcompris-qt-data", GC + "erase.rcc!/e/resource/horse.webp", "train", "animals"),
    ("gcompris-qt-data", GC + "explore_world_animals.rcc!/w/tiger.webp", "test", "animals"),
    ("gcompris-qt-data", GC + "categorization.rcc!/c/images/tools/hammer.webp", "train", "others"),
    ("python3-skimage", "usr/lib/python3/dist-packages/skimage/data/coffee.png", "test", "others"),
]


@pytest.fixture
def photoset(tmp_path: Path) -> Path:
    root = tmp_path / "photoset"
    photos = []
    for index, (package, path, split, _) in enumerate(ENTRIES):
        file = f"{split}/other/{package}--{index}.jpg"
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        (root / file).write_bytes(f"photo {index}".encode())
        photos.append({"package": package, "path": path, "split": split, "file": file})
    (root / "manifest.json").write_text(json.dumps({"format": "colorgan-photoset", "photos": photos}))
    return root


def test_each_photo_lands_in_its_kind_and_split(photoset, tmp_path, capsys):
    out = tmp_path / "kinds"
    assert kinds.main(["--photoset", str(photoset), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for folder in kinds.FOLDERS:
        expected = {f"{e[0]}--{i}.jpg" for i, e in enumerate(ENTRIES) if e[3] == folder}
        assert {p.name for p in (out / folder).iterdir()} == expected
        assert f"{out / folder}: {len(expected)} photos" in printed
    trained = {p.name for p in (out / "scenes-train").iterdir()}
    for other in ("animals", "others"):  # other kinds are never trained on
        assert not trained & {p.name for p in (out / other).iterdir()}
    listing = json.loads((out / "kinds.json").read_text())["folders"]
    assert listing["animals"] == sorted(p.name for p in (out / "animals").iterdir())
    assert (out / "animals" / "gcompris-qt-data--3.jpg").read_bytes() == b"photo 3"  # copies, not links


def test_a_rerun_replaces_its_own_output_but_never_a_foreign_folder(photoset, tmp_path, capsys):
    out = tmp_path / "kinds"
    assert kinds.main(["--photoset", str(photoset), "--out", str(out)]) == 0
    (out / "scenes-train" / "stale.jpg").write_bytes(b"old")
    assert kinds.main(["--photoset", str(photoset), "--out", str(out)]) == 0
    assert not (out / "scenes-train" / "stale.jpg").exists()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("precious")
    capsys.readouterr()
    assert kinds.main(["--photoset", str(photoset), "--out", str(foreign)]) == 2
    assert "not written by this script" in capsys.readouterr().err
    assert (foreign / "keep.txt").read_text() == "precious"


def test_a_missing_set_or_photo_is_one_clear_error(photoset, tmp_path, capsys):
    assert kinds.main(["--photoset", str(tmp_path / "none"), "--out", str(tmp_path / "k")]) == 2
    assert "build the set first" in capsys.readouterr().err
    (photoset / "train" / "other" / "mate-backgrounds--0.jpg").unlink()
    assert kinds.main(["--photoset", str(photoset), "--out", str(tmp_path / "k2")]) == 2
    assert "missing" in capsys.readouterr().err
    assert not (tmp_path / "k2").exists()  # nothing written before the check
