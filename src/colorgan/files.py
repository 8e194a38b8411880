"""Input expansion, output naming and atomic writes for the file-based commands (colorize, evaluate).

Rules: inputs are files, folders (searched recursively) or glob patterns; each output keeps its input's
name (and sub-folder, relative to the folder or glob base it was found under); every output stays inside
the output folder; an output never replaces an input, and an existing file only when asked
(``overwrite``); every file is written to a hidden temporary name (``.NAME.PID.RANDOM.tmp``,
`colorgan.atomic`) first and renamed into place, and temporaries left by a killed run are removed by
the next one.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from colorgan import atomic
from colorgan.data import find_images
from colorgan.errors import UserError

FORMATS = ("auto", "png", "jpg")
_JPEG_SUFFIXES = (".jpg", ".jpeg")
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class InputFile:
    """One photo to process and the folder its output name is taken relative to."""

    path: Path
    root: Path

    @property
    def relative(self) -> Path:
        return self.path.relative_to(self.root)


@dataclass(frozen=True)
class Job:
    """An input photo and where its output goes."""

    source: InputFile
    output: Path


def _glob_base(pattern: str) -> Path:
    """The leading folders of a glob pattern that hold no wildcard (UserError for ``..`` after one: its
    matches could not be named inside the output folder)."""
    parts = Path(pattern).parts
    first_magic = next((i for i, part in enumerate(parts) if _GLOB_CHARS & set(part)), len(parts))
    if ".." in parts[first_magic:]:
        raise UserError(f"pattern {pattern!r}: '..' after a wildcard is not supported; "
                        "write the pattern from the folder the photos are in")
    return Path(*parts[:first_magic]) if first_magic else Path(".")


def _is_output(path: Path, root: Path, output_dir: Path | None, suffix: str) -> bool:
    """Whether a file found under ``root`` is (likely) an earlier output: anything in an output folder
    nested inside ``root``; when outputs mirror ``root`` itself, a name that already ends with ``suffix``."""
    if output_dir is None or output_dir not in path.parents:
        return False
    if root in output_dir.parents:
        return True
    return bool(suffix) and path.stem.endswith(suffix)


def expand_inputs(
    inputs: list[str], exclude: Path | None = None, suffix: str = ""
) -> tuple[list[InputFile], list[tuple[str, str]]]:
    """(photos found, [(argument, reason)] for arguments that matched nothing).

    Searching folders and globs skips earlier outputs: files in ``exclude`` (the output folder) or its
    sub-folders, and, in the output folder itself, names ending with ``suffix``. Explicit files are kept.
    """
    exclude = exclude.resolve() if exclude is not None else None
    found: list[InputFile] = []
    problems: list[tuple[str, str]] = []
    seen: set[Path] = set()

    def add(path: Path, root: Path) -> None:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            found.append(InputFile(path, root))

    for argument in inputs:
        path = Path(argument).expanduser()
        if path.is_dir():
            root = path.resolve()
            photos = [p for p in find_images(path) if not _is_output(p.resolve(), root, exclude, suffix)]
            if not photos:
                problems.append((argument, "folder holds no images"))
            for photo in photos:
                add(photo, path)
        elif path.is_file():
            add(path, path.parent)
        elif _GLOB_CHARS & set(argument):
            base = _glob_base(str(path))
            matches = sorted(Path(m) for m in glob.glob(str(path), recursive=True) if Path(m).is_file())
            matches = [m for m in matches if not _is_output(m.resolve(), base.resolve(), exclude, suffix)]
            if not matches:
                problems.append((argument, "no file matches this pattern"))
            for match in matches:
                add(match, base)
        else:
            problems.append((argument, "no such file or folder"))
    return found, problems


def input_folders(inputs: list[str]) -> set[Path]:
    """The folders the inputs live in (folders themselves, files' parents, glob bases), resolved."""
    folders = set()
    for argument in inputs:
        path = Path(argument).expanduser()
        if path.is_dir():
            folders.add(path.resolve())
        elif path.is_file():
            folders.add(path.resolve().parent)
        elif _GLOB_CHARS & set(argument):
            folders.add(_glob_base(str(path)).resolve())
    return folders


def output_suffix(source: Path, fmt: str) -> str:
    """File extension of the output: JPEG inputs stay JPEG under 'auto', everything else becomes PNG."""
    if fmt not in FORMATS:
        raise UserError(f"unknown output format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if fmt == "auto":
        return source.suffix.lower() if source.suffix.lower() in _JPEG_SUFFIXES else ".png"
    return ".jpg" if fmt == "jpg" else ".png"


def check_suffix(suffix: str) -> None:
    """A --suffix is part of a file name: no folder separators, no NUL."""
    if any(char in suffix for char in ("/", "\\", "\0")) or (os.altsep and os.altsep in suffix):
        raise UserError(f"--suffix {suffix!r} must be part of a file name: no '/' or '\\'")


def _inside(path: Path, folder: Path) -> bool:
    resolved = path.resolve()
    return resolved == folder or folder in resolved.parents


def plan_jobs(files: list[InputFile], output_dir: Path, suffix: str = "",
              fmt: str = "auto") -> tuple[list[Job], list[tuple[Path, str]]]:
    """(jobs, [(input, reason)] refused): an output must stay inside ``output_dir`` and may not replace an
    input or another job's output."""
    check_suffix(suffix)
    inputs = {item.path.resolve() for item in files}
    base = output_dir.resolve()
    jobs: list[Job] = []
    refused: list[tuple[Path, str]] = []
    claimed: dict[Path, Path] = {}
    for item in files:
        relative = Path(os.path.normpath(item.relative))
        output = output_dir / relative.parent / f"{relative.stem}{suffix}{output_suffix(item.path, fmt)}"
        resolved = output.resolve()
        if relative.is_absolute() or relative.parts[:1] == ("..",) or not _inside(output, base):
            refused.append((item.path, f"its output {output} would be outside the output folder"))
        elif resolved in inputs:
            refused.append((item.path, f"its output {output} would overwrite an input"))
        elif resolved in claimed:
            refused.append((item.path, f"its output {output} is already the output of {claimed[resolved]}"))
        else:
            claimed[resolved] = item.path
            jobs.append(Job(item, output))
    return jobs, refused


def split_existing(jobs: list[Job]) -> tuple[list[Job], list[Job]]:
    """(jobs whose output does not exist yet, jobs whose output file already exists)."""
    exists = [os.path.lexists(job.output) for job in jobs]
    return ([job for job, there in zip(jobs, exists, strict=True) if not there],
            [job for job, there in zip(jobs, exists, strict=True) if there])


def check_output_dir(output_dir: Path, inputs: list[str], suffix: str) -> None:
    """Refuse writing into an input folder without a suffix (outputs would mix with, or replace, inputs)."""
    if output_dir.exists() and not output_dir.is_dir():
        raise UserError(f"output {output_dir} exists and is not a folder")
    if not suffix and output_dir.resolve() in input_folders(inputs):
        raise UserError(
            f"output folder {output_dir} is an input folder; choose another --output or add --suffix _color"
        )


def remove_stale_temporaries(outputs: Iterable[Path]) -> list[Path]:
    """Delete the temporary files of these outputs that killed processes left behind (each folder is
    listed once; other hidden files are never touched)."""
    names_by_folder: dict[Path, set[str]] = {}
    for output in outputs:
        names_by_folder.setdefault(output.parent, set()).add(output.name)
    removed: list[Path] = []
    for folder, names in names_by_folder.items():
        removed += atomic.remove_stale_temporaries(folder, names)
    return removed


def save_image_atomic(array: np.ndarray, path: Path, quality: int = 95, overwrite: bool = True) -> None:
    """Write an H×W×3 uint8 image to ``path`` atomically (`colorgan.atomic.atomic_file`).

    The temporary file is removed on any error or interrupt; without ``overwrite`` an existing ``path`` is
    kept and FileExistsError raised.
    """
    image = Image.fromarray(array)
    with atomic.atomic_file(path, "wb", overwrite) as handle:
        if path.suffix.lower() in _JPEG_SUFFIXES:
            image.save(handle, format="JPEG", quality=int(quality))
        else:
            image.save(handle, format="PNG", compress_level=1)
