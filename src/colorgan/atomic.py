"""Atomic file writes: the one owner of temporary names, write-then-rename and leftover cleanup.

Every file colorgan writes for a user (checkpoints, colorized photos, metrics.json, the prepared cache, model
weights) goes through `atomic_file`: the bytes go to a hidden temporary file *in the destination's own
folder* (``.NAME.PID.RANDOM.tmp``, so the final rename never crosses file systems), are flushed to disk,
then renamed over the destination. A kill leaves the old file or the new one, never a partial one; the
temporary file is removed on any error or interrupt, and `remove_stale_temporaries` removes those that a
killed process left behind.

Example:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_text(folder / "a.json", json.dumps({"x": 1}))
    >>> json.loads((folder / "a.json").read_text())
    {'x': 1}
    >>> sorted(path.name for path in folder.iterdir())  # no temporary file left
    ['a.json']
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

TEMPORARY_SUFFIX = ".tmp"
_STALE_WITHOUT_PROBE_S = 86400.0


def temporary_path(path: Path) -> Path:
    """A hidden temporary file beside ``path``, unique to this process and call."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{TEMPORARY_SUFFIX}")


def _parse_temporary(file: Path) -> tuple[str, int] | None:
    """(destination name, writer pid) of a file named by `temporary_path`, else None."""
    name = file.name
    if not (name.startswith(".") and name.endswith(TEMPORARY_SUFFIX)):
        return None
    parts = name[1 : -len(TEMPORARY_SUFFIX)].rsplit(".", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders can't be opened)."""
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _place(temporary: Path, path: Path, overwrite: bool) -> None:
    """Rename ``temporary`` to ``path``; without ``overwrite``, FileExistsError when ``path`` exists."""
    if overwrite:
        os.replace(temporary, path)
        return
    try:
        os.link(temporary, path)  # atomic, and never replaces
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system: check, then rename
        if os.path.lexists(path):
            raise FileExistsError(f"{path} exists") from None
        os.replace(temporary, path)


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: str = "wb", overwrite: bool = True) -> Iterator[IO[Any]]:
    """Open a temporary file to write ``path`` through; on a clean exit flush, fsync and rename it into place.

    ``mode`` is "wb" or "w" (UTF-8). Without ``overwrite`` an existing ``path`` is kept and FileExistsError
    raised. On any error or interrupt the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_path(path)
    try:
        with open(temporary, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _place(temporary, path, overwrite)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    _fsync_folder(path.parent)


def write_bytes(path: str | Path, data: bytes, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_file(path, "wb", overwrite) as handle:
        handle.write(data)


def write_text(path: str | Path, text: str, overwrite: bool = True) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_file(path, "w", overwrite) as handle:
        handle.write(text)


def write_json(path: str | Path, data: Any, indent: int = 2) -> None:
    """Write ``data`` as JSON (plus a final newline) to ``path`` atomically."""
    write_text(path, json.dumps(data, indent=indent) + "\n")


def process_alive(pid: int, file: Path | None = None) -> bool:
    """Whether process ``pid`` (the writer of ``file``) may still be writing: never this process's own
    leftovers; where no harmless liveness probe exists, only files younger than a day count as live."""
    if pid == os.getpid():
        return False
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        try:
            return file is not None and time.time() - file.stat().st_mtime < _STALE_WITHOUT_PROBE_S
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: str | Path, names: Iterable[str] | None = None,
                             locked: bool = False) -> list[Path]:
    """Delete the temporary files in ``folder`` left by processes that are gone (only those meant for
    ``names`` when given); other files, and those of live writers, are never touched. ``locked``: the caller
    holds the folder's write lock, so every temporary file in it is a leftover."""
    folder = Path(folder)
    wanted = None if names is None else set(names)
    removed = []
    if not folder.is_dir():
        return removed
    for file in folder.glob(f".*{TEMPORARY_SUFFIX}"):
        parsed = _parse_temporary(file)
        if parsed is None or (wanted is not None and parsed[0] not in wanted):
            continue
        if not locked and process_alive(parsed[1], file):
            continue
        with contextlib.suppress(OSError):
            file.unlink()
            removed.append(file)
    if removed:
        log.info("removed %d leftover temporary file(s) in %s", len(removed), folder)
    return removed
