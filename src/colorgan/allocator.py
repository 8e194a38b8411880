"""Keep freed memory inside the process (glibc's malloc): big tensors without page faults on every step.

By default glibc serves each allocation above a threshold (128 KiB, raised dynamically up to 32 MiB) with
its own ``mmap`` and hands it back with ``munmap`` when freed. A CPU training step at 256 px allocates and
frees activations of 30-140 MB many times over, so the kernel maps, zero-fills and faults in fresh pages
for each of them on every step: on the 2-core development machine about a quarter of a stage-1 process's
CPU time at 256 px went to the kernel. `keep_freed_memory` tells malloc to serve everything from its heap
(``M_MMAP_MAX = 0``) and never to shrink it (``M_TRIM_THRESHOLD``), so freed blocks are reused by the next
step: both stages train about 1.4x faster at 256 px (`benchmarks/allocator.md`). The cost: the process
keeps its peak memory until it exits (about 20 % more resident memory there). jemalloc or tcmalloc through
``LD_PRELOAD``, the usual advice for CPU training, do the same; this needs nothing installed.

It acts once per process, only on Linux with glibc; elsewhere it does nothing and says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import platform
import sys

log = logging.getLogger(__name__)

# mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_MAX = -4
#: never give the top of the heap back to the kernel (the largest value mallopt takes)
TRIM_THRESHOLD = 2**31 - 1
#: grow the heap in steps of at least this much (fewer brk calls while the first steps reach their peak)
TOP_PAD = 256 * 2**20

_state: dict[str, bool] = {}


def is_supported() -> bool:
    """Whether this process runs on glibc (Linux), whose ``mallopt`` this module calls."""
    return sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def keep_freed_memory() -> bool:
    """Switch glibc's malloc to keep freed memory (once per process); whether it is now on."""
    if "on" in _state:
        return _state["on"]
    if not is_supported():
        log.info("keep_freed_memory: not glibc (%s), left as it is", platform.libc_ver()[0] or sys.platform)
        _state["on"] = False
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    results = [libc.mallopt(M_MMAP_MAX, 0), libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD),
               libc.mallopt(M_TOP_PAD, TOP_PAD)]
    _state["on"] = all(result == 1 for result in results)  # mallopt returns 1 on success
    if _state["on"]:
        log.info("keep_freed_memory: malloc keeps freed memory in the process (no mmap/munmap per tensor)")
    else:
        log.warning("keep_freed_memory: mallopt refused a setting (%s); malloc may be unchanged", results)
    return _state["on"]


def wanted(setting: bool | str, device_type: str) -> bool:
    """What ``keep_freed_memory`` (true, false or auto = on for CPU training) asks for on ``device_type``."""
    if setting == "auto":
        return device_type == "cpu"
    if isinstance(setting, bool):
        return setting
    raise ValueError(f"keep_freed_memory must be true, false or auto, got {setting!r}")
