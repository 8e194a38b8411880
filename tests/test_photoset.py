"""benchmarks/photoset/build.py (issue 13, part 2), offline: a fake .deb built here (dpkg-deb --build) with
photos, rejects, a Qt resource bundle and a DEP-5 copyright file. No network: download=False."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs Debian's dpkg-deb")


def load_builder():
    spec = importlib.util.spec_from_file_location("photoset_build", ROOT / "benchmarks/photoset/build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


build = load_builder()

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: fake

Files: *
Copyright: 2020 Someone
License: GPL-2+

Files: backgrounds/fake/special.jpg
Copyright: 2021 Someone Else
License: CC-BY-SA-4.0

Files: src/rcc/*
Copyright: 2022 A Photographer
License: CC0-1.0

License: GPL-2+
 The GPL text.
"""


def encoded(array: np.ndarray, kind: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, kind)
    return buffer.getvalue()


def photo(seed: int, width: int = 400, height: int = 300) -> bytes:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    return encoded(np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR)))


def rcc(files: dict[str, bytes], compress: set[str]) -> bytes:
    """A Qt resource bundle (format version 1): one root folder holding ``files``."""
    names, data, nodes = b"", b"", []
    for name, content in files.items():
        encoded_name = name.encode("utf-16-be")
        name_offset = len(names)
        names += struct.pack(">HI", len(name), 0) + encoded_name
        flags = 1 if name in compress else 0
        payload = struct.pack(">I", len(content)) + zlib.compress(content) if flags else content
        nodes.append(struct.pack(">IHHHI", name_offset, flags, 0, 0, len(data)))
        data += struct.pack(">I", len(payload)) + payload
    tree = struct.pack(">IHII", 0, 2, len(files), 1) + b"".join(nodes)
    header_size = 20
    tree_offset, data_offset = header_size, header_size + len(tree)
    names_offset = data_offset + len(data)
    return b"qres" + struct.pack(">IIII", 1, tree_offset, data_offset, names_offset) + tree + data + names


def make_deb(folder: Path, package: str, files: dict[str, bytes]) -> Path:
    root = folder / "pkgroot"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(f"Package: {package}\nVersion: 1.0-1\nArchitecture: all\n"
                                             "Maintainer: Test <test@example.invalid>\nDescription: test\n")
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    (root / "usr/share/backgrounds/fake/link.jpg").symlink_to("mountain_1.jpg")  # a duplicate: left out
    debs = folder / "debs"
    debs.mkdir()
    deb = debs / f"{package}_1.0-1_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(deb)], check=True,
                   capture_output=True)
    return debs


@pytest.fixture
def debs(tmp_path) -> Path:
    gray = np.repeat(np.linspace(0, 255, 400, dtype=np.uint8)[None, :, None], 300, 0).repeat(3, -1)
    cutout = np.zeros((300, 400, 4), np.uint8)
    cutout[..., 0], cutout[..., 3] = 200, 255
    bundle = rcc({"a.jpg": photo(20), "b.jpg": photo(21), "readme.qml": b"Item {}"}, compress={"b.jpg"})
    files = {
        "usr/share/backgrounds/fake/mountain_1.jpg": photo(1),
        "usr/share/backgrounds/fake/mountain_2.jpg": photo(2, 300, 500),
        "usr/share/backgrounds/fake/cup.jpg": photo(3),
        "usr/share/backgrounds/fake/special.jpg": photo(4),
        "usr/share/backgrounds/fake/zz_copy_of_cup.jpg": photo(3),
        "usr/share/backgrounds/fake/gray.jpg": encoded(gray),
        "usr/share/backgrounds/fake/tiny.jpg": photo(5, 60, 40),
        "usr/share/backgrounds/fake/cutout.png": encoded(cutout, "PNG"),
        "usr/share/backgrounds/fake/abstract.png": encoded(np.full((300, 400, 3), 90, np.uint8), "PNG"),
        "usr/share/fake/src/rcc/bundle.rcc": bundle,
        "usr/share/doc/fake-wallpapers/copyright": COPYRIGHT.encode(),
    }
    return make_deb(tmp_path, "fake-wallpapers", files)


SOURCE = build.Source("fake-wallpapers",
                      include=("usr/share/backgrounds/fake/*", "usr/share/fake/src/rcc/bundle.rcc!*"),
                      landscape=("*/mountain*",), exclude=("*/abstract*",))


def test_build_selects_checks_resizes_splits_and_records(debs, tmp_path):
    out = tmp_path / "photoset"
    manifest = build.build(out, debs, (SOURCE,), long_side=128, test_fraction=0.5, min_side=64,
                           download=False)
    photos = {Path(entry["path"].split("!")[-1]).name: entry for entry in manifest["photos"]}
    assert sorted(photos) == ["a.jpg", "b.jpg", "cup.jpg", "mountain_1.jpg", "mountain_2.jpg", "special.jpg"]
    reasons = {Path(entry["path"]).name: entry["reason"] for entry in manifest["skipped"]}
    assert reasons["gray.jpg"] == "grayscale" and reasons["tiny.jpg"].startswith("short side under 64")
    assert reasons["cutout.png"].startswith("alpha") and "abstract.png" not in reasons
    assert reasons["zz_copy_of_cup.jpg"] == "duplicate" and "link.jpg" not in photos
    assert manifest["packages"] == {"fake-wallpapers": "1.0-1"}
    assert photos["special.jpg"]["licence"] == "CC-BY-SA-4.0" and photos["cup.jpg"]["licence"] == "GPL-2+"
    assert photos["a.jpg"]["licence"] == "CC0-1.0"
    assert photos["a.jpg"]["path"] == "usr/share/fake/src/rcc/bundle.rcc!/a.jpg"
    assert {photos[name]["category"] for name in ("mountain_1.jpg", "mountain_2.jpg")} == {"landscape"}
    assert photos["cup.jpg"]["category"] == "other"
    for entry in manifest["photos"]:
        expected = "test" if int(entry["sha256"][:8], 16) / 2**32 < 0.5 else "train"
        assert entry["split"] == expected and entry["file"].startswith(f"{expected}/{entry['category']}/")
        with Image.open(out / entry["file"]) as image:
            assert max(image.size) == 128 and list(image.size) == entry["size"] and image.mode == "RGB"
    assert photos["mountain_2.jpg"]["original_size"] == [300, 500]
    assert json.loads((out / "manifest.json").read_text()) == manifest
    again = build.build(out, debs, (SOURCE,), long_side=128, test_fraction=0.5, min_side=64, download=False)
    assert again == manifest  # deterministic: same photos, names, hashes and split


def test_a_folder_that_is_not_a_photo_set_is_left_alone(debs, tmp_path):
    (tmp_path / "mine" / "train").mkdir(parents=True)
    (tmp_path / "mine" / "train" / "keep.txt").write_text("mine")
    with pytest.raises(SystemExit, match="holds no photo set"):
        build.build(tmp_path / "mine", debs, (SOURCE,), download=False)
    assert (tmp_path / "mine" / "train" / "keep.txt").read_text() == "mine"


def test_missing_package_without_download_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match=r"no nothing-here_\*\.deb"):
        build.build(tmp_path / "out", tmp_path / "debs", (build.Source("nothing-here", ("*",)),),
                    download=False)


def test_rcc_reader_and_licence_matching():
    bundle = rcc({"x.jpg": b"plain", "y.jpg": b"packed" * 10}, compress={"y.jpg"})
    assert dict(build.rcc_members(bundle)) == {"/x.jpg": b"plain", "/y.jpg": b"packed" * 10}
    assert list(build.rcc_members(b"not a bundle")) == []
    assert build.licence_of("usr/share/x/backgrounds/fake/special.jpg", COPYRIGHT, "p") == "CC-BY-SA-4.0"
    assert build.licence_of("anything.png", "License: MIT\n", "p") == "MIT"
    assert build.licence_of("anything.png", "", "pkg") == "see /usr/share/doc/pkg/copyright"
