"""colorgan: train, compare and use deep image colorizers."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from types import TracebackType

__version__ = "0.1.0"


_Hook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


def _interrupted_while_starting(hook: _Hook) -> _Hook:
    """``sys.excepthook`` that reports a Ctrl-C reaching the top level as one line instead of a traceback."""

    def excepthook(kind: type[BaseException], value: BaseException, trace: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            print("interrupted (while starting: nothing was written)", file=sys.stderr)
            return  # Python then ends the process as killed by SIGINT (status 130 in a shell)
        hook(kind, value, trace)

    return excepthook


# A command (`python -m colorgan.X` or a `colorgan-X` script) imports torch, Lightning and Hydra for several
# seconds before `colorgan.cli.run_command` takes over; a Ctrl-C then must not print a traceback either.
# Library users (`import colorgan`) keep their own hook.
if sys.argv[:1] == ["-m"] or os.path.basename(sys.argv[0] if sys.argv else "").startswith("colorgan-"):
    sys.excepthook = _interrupted_while_starting(sys.excepthook)
