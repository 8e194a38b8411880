"""Split the real-photo set by kind, to score a model on photos unlike the ones it was trained on.

    python benchmarks/photoset/kinds.py                      # ~/.cache/colorgan/photoset -> ...-kinds
    python -m colorgan.train data=folder data.root=~/.cache/colorgan/photoset-kinds/scenes-train \\
        trainer.max_steps=300 trainer.max_epochs=-1
    python -m colorgan.evaluate RUN --data ~/.cache/colorgan/photoset-kinds/scenes-test   # same kind
    python -m colorgan.evaluate RUN --data ~/.cache/colorgan/photoset-kinds/animals        # other kind

Each photo of `benchmarks/photoset/build.py`'s manifest gets a kind from where it came from (`KINDS`:
globs on ``PACKAGE/PATH``): *scenes* (wallpapers, monuments, sea views: landscapes and outdoor scenes)
or *animals* (animal photos and close-ups); the rest (tools, renewable energy, music, ...) is a third
kind, *others*. Four folders are written, copies of the set's resized photos:

- ``scenes-train``: the scenes of the set's train split (a model trained on scenes only);
- ``scenes-test``: the scenes of its test split (the same kind, never trained on);
- ``animals``: the animals of both splits (another kind; none of them is in ``scenes-train``);
- ``others``: every other photo of both splits (objects, tools, people, ...: a third kind).

``OUT/kinds.json`` lists every file per folder. OUT is replaced only when it holds an earlier
``kinds.json``; any other existing folder is refused. Needs only Python's standard library.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

DEFAULT_SET = Path("~/.cache/colorgan/photoset")
#: kind -> globs on "PACKAGE/PATH" (PATH as in the manifest, ``BUNDLE.rcc!INNER`` inside Qt bundles)
KINDS: dict[str, tuple[str, ...]] = {
    "scenes": ("plasma-workspace-wallpapers/*", "mate-backgrounds/*", "lomiri-wallpapers-*/*",
               "*/explore_monuments.rcc!*", "*/categorization.rcc!*/monuments/*", "*/clickgame.rcc!*"),
    "animals": ("*/erase.rcc!*", "*/explore_world_animals.rcc!*", "*/explore_farm_animals.rcc!*",
                "*/categorization.rcc!*/fishes/*"),
}
#: folder -> (kind, splits it takes photos from)
FOLDERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "scenes-train": ("scenes", ("train",)),
    "scenes-test": ("scenes", ("test",)),
    "animals": ("animals", ("train", "test")),
    "others": (None, ("train", "test")),
}


class KindsError(ValueError):
    """A problem the user can fix: one ``error:`` line, exit status 2."""


def kind_of(photo: dict) -> str | None:
    """The photo's kind by `KINDS` (the first that matches), or None."""
    where = f"{photo['package']}/{photo['path']}"
    matching = (kind for kind, globs in KINDS.items() if any(fnmatch.fnmatch(where, g) for g in globs))
    return next(matching, None)


def read_manifest(photoset: Path) -> list[dict]:
    path = photoset / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
        return list(manifest["photos"])
    except FileNotFoundError:
        raise KindsError(f"{path} not found: build the set first (python benchmarks/photoset/build.py)"
                         ) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise KindsError(f"{path} is not a photo-set manifest: {error}") from None


def plan(photos: list[dict]) -> dict[str, list[dict]]:
    """folder -> the manifest entries it takes (kind None: matched by no glob of `KINDS`)."""
    chosen: dict[str, list[dict]] = {folder: [] for folder in FOLDERS}
    for photo in photos:
        kind = kind_of(photo)
        for folder, (wanted, splits) in FOLDERS.items():
            if kind == wanted and photo.get("split") in splits:
                chosen[folder].append(photo)
    return chosen


def prepare_output(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        if not (out / "kinds.json").is_file():
            raise KindsError(f"{out} exists and was not written by this script: choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def split_by_kind(photoset: Path, out: Path) -> dict[str, list[str]]:
    """Write the folders of `FOLDERS`; return folder -> file names."""
    chosen = plan(read_manifest(photoset))
    files = [photo["file"] for photos in chosen.values() for photo in photos]
    missing = [file for file in files if not (photoset / file).is_file()]
    if missing:
        raise KindsError(f"{len(missing)} photo(s) of the manifest are missing, e.g. {missing[0]}: "
                         "rebuild the set")
    prepare_output(out)
    listing: dict[str, list[str]] = {}
    for folder, photos in chosen.items():
        (out / folder).mkdir()
        for photo in photos:
            shutil.copy2(photoset / photo["file"], out / folder / Path(photo["file"]).name)
        listing[folder] = sorted(Path(photo["file"]).name for photo in photos)
    (out / "kinds.json").write_text(json.dumps({"photoset": str(photoset), "kinds": KINDS,
                                                "folders": listing}, indent=1) + "\n")
    return listing


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photoset", type=Path, default=DEFAULT_SET,
                        help=f"the built set (default {DEFAULT_SET})")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: PHOTOSET-kinds)")
    args = parser.parse_args(argv)
    photoset = args.photoset.expanduser()
    out = (args.out or photoset.with_name(photoset.name + "-kinds")).expanduser()
    try:
        listing = split_by_kind(photoset, out)
    except KindsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for folder, names in listing.items():
        print(f"{out / folder}: {len(names)} photos")
    return 0


if __name__ == "__main__":
    sys.exit(main())
