"""Build colorgan's real-photo set from free Debian packages: no account, no install, same photos for anyone.

    python benchmarks/photoset/build.py                       # -> ~/.cache/colorgan/photoset
    python -m colorgan.train data=folder data.root=~/.cache/colorgan/photoset/train
    python -m colorgan.evaluate RUN --data ~/.cache/colorgan/photoset/test

Each package of `SOURCES` is fetched with ``apt-get download`` (nothing installed; a ``PACKAGE_*.deb``
already in ``--debs`` is used as it is) and unpacked with ``dpkg-deb -x``. The photographs listed for it
(wallpapers and data files hand-picked as real photos; Qt ``.rcc`` resource bundles are opened too) are
checked (no alpha, not gray, short side >= ``--min-side``, 200 px), resized so the long side is
``--long-side`` pixels, and written as JPEG to ``OUT/{train,test}/{landscape,other}/``. The split is
fixed by each original file's sha256 (a photo keeps its split whatever else is added), and
``OUT/manifest.json`` lists every photo: source package, version, path inside it, licence (from the
package's copyright file), sha256 of the original and of the resized copy, sizes, split and category.
Never commit the photos.

Needs only Python's standard library, Pillow, and Debian's apt-get and dpkg-deb.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import io
import json
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageOps

FORMAT = "colorgan-photoset"
VERSION = 1
DEFAULT_OUT = Path("~/.cache/colorgan/photoset")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
GC = "usr/share/gcompris-qt/rcc/"
GC_BUNDLES = (
    "explore_monuments erase explore_world_animals explore_farm_animals explore_world_music clickgame"
)


@dataclass(frozen=True)
class Source:
    """One Debian package: the photos in it (globs on paths inside the package; ``BUNDLE.rcc!INNER`` for
    files inside a Qt resource bundle), and which of them are landscapes (the others are "other")."""

    package: str
    include: tuple[str, ...]
    landscape: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


SOURCES: tuple[Source, ...] = (
    Source(
        "plasma-workspace-wallpapers",
        tuple(
            f"usr/share/wallpapers/{name}/contents/images/*"
            for name in (
                "BytheWater",
                "ColdRipple",
                "ColorfulCups",
                "DarkestHour",
                "EveningGlow",
                "FallenLeaf",
                "Grey",
                "Kite",
                "OneStandsOut",
                "Path",
                "summer_1am",
                "Volna",
            )
        ),
        landscape=tuple(
            f"usr/share/wallpapers/{name}/*"
            for name in (
                "BytheWater",
                "ColdRipple",
                "DarkestHour",
                "EveningGlow",
                "Path",
                "summer_1am",
                "Volna",
            )
        ),
    ),
    Source(
        "mate-backgrounds", ("usr/share/backgrounds/mate/nature/*",), landscape=("*/Dune.jpg", "*/Storm.jpg")
    ),
    Source(
        "lomiri-wallpapers-16.04",
        ("usr/share/backgrounds/*",),
        landscape=("*/aitzgorri_*", "*/life_*", "*/picosdeeuropa_*", "*/sunset_*"),
        exclude=("*/analogpattern_*", "*/greentock_*", "*/umang_*"),
    ),
    Source(
        "lomiri-wallpapers-20.04",
        ("usr/share/backgrounds/Infinite-Sea_*", "usr/share/backgrounds/Kleiber_*"),
        landscape=("*/Infinite-Sea_*",),
    ),
    Source("palapeli-data", ("usr/share/palapeli/collection/*",)),
    Source(
        "python3-skimage",
        tuple(
            f"usr/lib/python3/dist-packages/skimage/data/{name}"
            for name in ("astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg")
        ),
    ),
    Source("python3-sklearn", ("usr/lib/python3/dist-packages/sklearn/datasets/images/*.jpg",)),
    Source(
        "gcompris-qt-data",
        (
            *(f"{GC}{bundle}.rcc!*" for bundle in GC_BUNDLES.split()),
            *(
                f"{GC}categorization.rcc!*/images/{kind}/*"
                for kind in ("fishes", "monuments", "renewable", "tools")
            ),
        ),
        landscape=(f"{GC}explore_monuments.rcc!*/canyon*",),
    ),
)
"""The photo sources, hand-picked from Debian 12's wallpaper and data packages (abstract art left out)."""


@dataclass
class Photo:
    package: str
    version: str
    path: str
    data: bytes
    landscape: bool


@dataclass
class Report:
    photos: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    packages: dict[str, str] = field(default_factory=dict)


def run(command: list[str], cwd: Path | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"error: {' '.join(command)} failed: {(done.stderr or done.stdout).strip()[:300]}")
    return done.stdout


def fetch(package: str, debs: Path, download: bool = True) -> Path:
    """The package's .deb in ``debs`` (downloaded by ``apt-get download`` unless one is there already)."""
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{package}_*.deb"))
    if not found and download:
        run(["apt-get", "download", package], cwd=debs)
        found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        raise SystemExit(f"error: no {package}_*.deb in {debs} (run apt-get update, or drop --no-download)")
    return found[-1]


def rcc_members(blob: bytes) -> Iterator[tuple[str, bytes]]:
    """(path, data) of every file in a Qt resource bundle (``.rcc``, format versions 1-3, zlib or none)."""
    if blob[:4] != b"qres":
        return
    version, tree, data, names = struct.unpack(">IIII", blob[4:20])
    node_size = 22 if version >= 2 else 14

    def name(offset: int) -> str:
        length = struct.unpack(">H", blob[names + offset : names + offset + 2])[0]
        return blob[names + offset + 6 : names + offset + 6 + 2 * length].decode("utf-16-be")

    stack = [(0, "")]
    while stack:
        index, prefix = stack.pop()
        base = tree + index * node_size
        name_offset, flags = struct.unpack(">IH", blob[base : base + 6])
        path = f"{prefix}/{name(name_offset)}" if index else ""
        if flags & 2:  # a directory: (child count, first child)
            count, first = struct.unpack(">II", blob[base + 6 : base + 14])
            stack.extend((child, path) for child in range(first + count - 1, first - 1, -1))
            continue
        offset = struct.unpack(">I", blob[base + 10 : base + 14])[0]
        size = struct.unpack(">I", blob[data + offset : data + offset + 4])[0]
        raw = blob[data + offset + 4 : data + offset + 4 + size]
        if flags & 4:  # zstd: not in the standard library
            continue
        yield path, zlib.decompress(raw[4:]) if flags & 1 else raw


def matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)


def package_photos(source: Source, root: Path, version: str) -> Iterator[Photo]:
    """The listed photos of an unpacked package (sorted, symlinks left out: they are duplicates)."""
    for file in sorted(path for path in root.rglob("*") if path.is_file() and not path.is_symlink()):
        relative = file.relative_to(root).as_posix()
        if relative.endswith(".rcc") and any(
            pattern.startswith(f"{relative}!") for pattern in source.include
        ):
            for inner, data in sorted(rcc_members(file.read_bytes())):
                member = f"{relative}!{inner}"
                if (
                    inner.lower().endswith(PHOTO_SUFFIXES)
                    and matches(member, source.include)
                    and not matches(member, source.exclude)
                ):
                    yield Photo(source.package, version, member, data, matches(member, source.landscape))
        elif (
            relative.lower().endswith(PHOTO_SUFFIXES)
            and matches(relative, source.include)
            and not matches(relative, source.exclude)
        ):
            yield Photo(
                source.package, version, relative, file.read_bytes(), matches(relative, source.landscape)
            )


def copyright_stanzas(text: str) -> list[tuple[list[str], str]]:
    """(Files patterns, first License line) of each stanza of a machine-readable copyright file."""
    stanzas = []
    for block in re.split(r"\n\s*\n", text):
        files = re.search(r"^Files:(.*(?:\n[ \t].*)*)", block, re.M)
        licence = re.search(r"^License:[ \t]*(.+)$", block, re.M)
        if files and licence:
            stanzas.append((files.group(1).split(), licence.group(1).strip()))
    return stanzas


def licence_of(path: str, text: str, package: str) -> str:
    """The licence of ``path`` (a path inside the package; DEP-5 patterns are relative to the source tree,
    so a pattern matches the path's end; the last matching stanza wins, as DEP-5 says)."""
    inner = path.split("!", 1)[-1].lstrip("/")
    found = None
    for patterns, licence in copyright_stanzas(text):
        for pattern in patterns:
            if pattern == "*" or any(
                fnmatch.fnmatchcase(candidate, pattern) or fnmatch.fnmatchcase(candidate, f"*/{pattern}")
                for candidate in (inner, path)
            ):
                found = licence
    if found:
        return found
    first = re.search(r"^License:[ \t]*(.+)$", text, re.M)
    return first.group(1).strip() if first else f"see /usr/share/doc/{package}/copyright"


def problem(image: Image.Image, min_side: int) -> str | None:
    """Why a decoded image is not a usable color photo (alpha, too small, gray), or None."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        return "alpha (a cut-out or drawing)"
    if min(image.size) < min_side:
        return f"short side under {min_side} px"
    small = image.convert("RGB")
    small.thumbnail((64, 64))
    data = small.tobytes()
    pixels = list(zip(data[0::3], data[1::3], data[2::3], strict=True))
    colored = sum(1 for red, green, blue in pixels if max(red, green, blue) - min(red, green, blue) > 12)
    return "grayscale" if colored < 0.01 * len(pixels) else None


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:48]


def add_photo(
    photo: Photo,
    licence: str,
    out: Path,
    long_side: int,
    test_fraction: float,
    min_side: int,
    report: Report,
    seen: set[str],
) -> None:
    digest = hashlib.sha256(photo.data).hexdigest()
    entry = {"package": photo.package, "version": photo.version, "path": photo.path, "sha256": digest}
    if digest in seen:
        report.skipped.append({**entry, "reason": "duplicate"})
        return
    try:
        with Image.open(io.BytesIO(photo.data)) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except (OSError, ValueError, SyntaxError) as error:
        report.skipped.append({**entry, "reason": f"unreadable: {error}"})
        return
    reason = problem(image, min_side)
    if reason:
        report.skipped.append({**entry, "reason": reason})
        return
    seen.add(digest)
    rgb = image.convert("RGB")
    width, height = rgb.size
    scale = min(1.0, long_side / max(width, height))
    if scale < 1.0:
        rgb = rgb.resize(
            (max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.LANCZOS
        )
    split = "test" if int(digest[:8], 16) / 2**32 < test_fraction else "train"
    category = "landscape" if photo.landscape else "other"
    stem = Path(photo.path.split("!")[-1]).stem
    target = out / split / category / f"{slug(photo.package)}--{slug(stem)}-{digest[:8]}.jpg"
    target.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    rgb.save(buffer, "JPEG", quality=92, optimize=True)
    target.write_bytes(buffer.getvalue())
    report.photos.append(
        {
            **entry,
            "licence": licence,
            "file": target.relative_to(out).as_posix(),
            "split": split,
            "category": category,
            "original_size": [width, height],
            "size": list(rgb.size),
            "sha256_resized": hashlib.sha256(buffer.getvalue()).hexdigest(),
        }
    )


def build(
    out: Path,
    debs: Path,
    sources: tuple[Source, ...] = SOURCES,
    long_side: int = 512,
    test_fraction: float = 0.2,
    min_side: int = 200,
    download: bool = True,
) -> dict:
    """Fetch, unpack, select, check, resize and split every source's photos; returns the manifest."""
    out = out.expanduser()
    manifest_file = out / "manifest.json"
    ours = manifest_file.is_file() and FORMAT in manifest_file.read_text(errors="replace")[:200]
    if out.is_dir() and not ours and any(path.name != "debs" for path in out.iterdir()):
        raise SystemExit(f"error: {out} is not empty and holds no photo set: choose another --out")
    for split in ("train", "test"):
        shutil.rmtree(out / split, ignore_errors=True)  # the set is rebuilt whole: no stale photos stay
    report, seen = Report(), set()
    for source in sources:
        deb = fetch(source.package, debs.expanduser(), download)
        version = run(["dpkg-deb", "-f", str(deb), "Version"]).strip()
        report.packages[source.package] = version
        with tempfile.TemporaryDirectory(prefix="photoset-") as folder:
            root = Path(folder)
            run(["dpkg-deb", "-x", str(deb), str(root)])
            copyright_file = root / "usr/share/doc" / source.package / "copyright"
            text = copyright_file.read_text(errors="replace") if copyright_file.is_file() else ""
            for photo in package_photos(source, root, version):
                add_photo(
                    photo,
                    licence_of(photo.path, text, source.package),
                    out,
                    long_side,
                    test_fraction,
                    min_side,
                    report,
                    seen,
                )
    report.photos.sort(key=lambda entry: entry["file"])
    counts = {
        f"{split}/{category}": sum(
            1 for p in report.photos if (p["split"], p["category"]) == (split, category)
        )
        for split in ("train", "test")
        for category in ("landscape", "other")
    }
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "long_side": long_side,
        "test_fraction": test_fraction,
        "min_side": min_side,
        "packages": report.packages,
        "counts": counts,
        "photos": report.photos,
        "skipped": report.skipped,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the photos and manifest go")
    parser.add_argument("--debs", type=Path, default=None, help="where the .deb files go (default OUT/debs)")
    parser.add_argument("--long-side", type=int, default=512, help="long side of the resized photos, px")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="share of photos in test/")
    parser.add_argument("--min-side", type=int, default=200, help="leave out photos with a shorter side")
    parser.add_argument("--no-download", action="store_true", help="use only the .deb files in --debs")
    args = parser.parse_args(argv)
    out = args.out.expanduser()
    manifest = build(
        out,
        args.debs or out / "debs",
        SOURCES,
        args.long_side,
        args.test_fraction,
        args.min_side,
        download=not args.no_download,
    )
    photos = manifest["photos"]
    by_package = {
        package: sum(1 for p in photos if p["package"] == package) for package in manifest["packages"]
    }
    print(
        f"{len(photos)} photos in {out} ({', '.join(f'{k}: {v}' for k, v in manifest['counts'].items())}); "
        f"{len(manifest['skipped'])} files left out; by package: {by_package}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
