"""One writer per output folder: an exclusive lock on a hidden file, released when the writer ends.

The operating system drops the lock when the process exits, however it exits (kill -9 included), so
a stale lock never blocks the next run. The file itself stays (removing it would race with the next
writer); it is hidden, so photo scans and readers never see it. Without ``fcntl`` (Windows) no lock
is taken.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from colorgan.data.errors import DataError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".colorgan.lock"


@contextmanager
def output_lock(folder: Path, what: str = "prepare") -> Iterator[None]:
    """Hold the exclusive write lock of ``folder`` (created if needed); DataError when another holds it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / LOCK_FILE, "a+")  # noqa: SIM115 - closed in the finally below
    except OSError as error:
        raise DataError(f"cannot write to the output folder {folder}: {error.strerror or error}") from error
    try:
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                handle.seek(0)
                holder = handle.read().strip()
                raise DataError(f"another {what} is writing to {folder}" + (f" ({holder})" if holder else "")
                                + "; wait for it to finish, or choose another --output") from error
        handle.seek(0)
        handle.truncate()
        handle.write(f"{what}: pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


def is_lock_file(path: Path) -> bool:
    """Whether ``path`` is an output folder's lock file (ignored when deciding if a folder is empty)."""
    return path.name == LOCK_FILE
