"""The one failure policy of every `python -m colorgan.<verb>` command.

    def main(argv=None) -> None:
        args = parse_args(argv)
        run_command(lambda: run(args), "colorize")

Exit status: what the task returns (0 when it returns None); 2 with ``error: <one line>`` for a problem
the user can fix (a `UserError`, also when Hydra's `instantiate` wrapped it, at any depth; a missing
mandatory config value; any other OmegaConf or Hydra config error); 130 with ``interrupted ...`` on
Ctrl-C (also when something failed because of it, e.g. a write it cut short); 1 with ``error: <Type>:
<first line> (full traceback: PATH)`` for anything else, the full traceback written to PATH. The same
whatever ``HYDRA_FULL_ERROR`` says.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from hydra.errors import HydraException, InstantiationException, OverrideParseException
from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

from colorgan.errors import UserError, first_line

log = logging.getLogger(__name__)

#: where tracebacks of unexpected errors go (one file per failure), unless run_command is given a folder
TRACEBACK_DIR_ENV = "COLORGAN_TRACEBACK_DIR"


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error``, then its causes and contexts, outermost first (each exception once)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def caused_by_interrupt(error: BaseException) -> bool:
    """Whether ``error`` is a Ctrl-C or was raised while one was being handled (e.g. a checkpoint write that
    the interrupt cut short fails on closing): either way the user stopped the command."""
    return any(isinstance(link, KeyboardInterrupt) for link in _chain(error))


def hydra_one_line(text: str) -> str:
    """Hydra's multi-line message on one line: indented option lists joined by commas, no search path,
    no pointer to HYDRA_FULL_ERROR."""
    parts: list[str] = []
    for raw in text.replace(", set env var HYDRA_FULL_ERROR=1 to see chained exception", "").splitlines():
        line = raw.strip()
        if line.startswith(("Config search path", "Set the environment variable HYDRA_FULL_ERROR")):
            break
        if line and raw[:1].isspace() and parts:
            parts[-1] += (" " if parts[-1].endswith(":") else ", ") + line
        elif line:
            parts.append(line)
    return " ".join(parts) or "invalid configuration"


def _missing_message(error: MissingMandatoryValue) -> str:
    key = error.full_key or error.key or "a config value"
    return f"{key} must be set, e.g. {key}=VALUE on the command line"


def user_message(error: BaseException) -> str | None:
    """The one-line message for an error that is the user's to fix, or None for anything else (a bug)."""
    chain = list(_chain(error))
    for link in chain:
        if isinstance(link, UserError):
            return first_line(link)
    for link in chain:
        if isinstance(link, MissingMandatoryValue):
            return _missing_message(link)
    if isinstance(error, InstantiationException):
        # a constructor refusing its config value (ValueError), or a config Hydra could not use
        inner = next((link for link in chain if not isinstance(link, HydraException)), None)
        if isinstance(inner, ValueError):
            return first_line(inner)
        if inner is None or isinstance(inner, ImportError | OmegaConfBaseException):
            return first_line(error).replace(", set env var HYDRA_FULL_ERROR=1 to see chained exception", "")
        return None
    if isinstance(error, OverrideParseException):
        return f"cannot parse the override {error.override!r}: {first_line(error)}"
    if isinstance(error, HydraException):
        return hydra_one_line(str(error))
    if isinstance(error, OmegaConfBaseException):
        return first_line(error)
    return None


def traceback_dir() -> Path:
    """The folder for traceback files: $COLORGAN_TRACEBACK_DIR, else <tmp>/colorgan-tracebacks."""
    return Path(os.environ.get(TRACEBACK_DIR_ENV) or Path(tempfile.gettempdir()) / "colorgan-tracebacks")


def write_traceback(error: BaseException, name: str, folder: Path | None = None) -> Path | None:
    """Write the full traceback to a new file; returns its path (None when nothing could be written)."""
    folder = folder or traceback_dir()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = folder / f"{name}-{stamp}-{os.getpid()}.txt"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        path.write_text(f"colorgan {name}: {' '.join(sys.argv)}\n\n{text}", encoding="utf-8")
    except OSError:
        return None
    return path


def _exit(status: int, message: str | None = None) -> NoReturn:
    with contextlib.suppress(OSError, ValueError):  # a closed or broken stdout
        sys.stdout.flush()
    if message is not None:
        print(message, file=sys.stderr)
    sys.exit(status)


def run_command(task: Callable[[], int | None], name: str, interrupted: str = "",
                traceback_folder: Path | None = None) -> NoReturn:
    """Run a command's task and exit with its status, turning every failure into one line (see module).

    ``interrupted`` is added to the Ctrl-C line (e.g. what was kept and how to carry on).
    """
    try:
        status = task()
    except KeyboardInterrupt:
        _exit(130, f"interrupted{': ' + interrupted if interrupted else ''}")
    except Exception as error:  # the policy: one line, the traceback in a file
        if caused_by_interrupt(error):
            _exit(130, f"interrupted{': ' + interrupted if interrupted else ''}")
        message = user_message(error)
        if message is not None:
            _exit(2, f"error: {message}")
        path = write_traceback(error, name, traceback_folder)
        where = f"full traceback: {path}" if path else "the traceback could not be written"
        log.debug("unexpected error in %s", name, exc_info=error)
        shown = next((link for link in _chain(error) if not isinstance(link, HydraException)), error)
        _exit(1, f"error: {type(shown).__name__}: {first_line(shown)} ({where})")
    _exit(int(status or 0))
