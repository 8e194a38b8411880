"""`keep_freed_memory` off against on for both stages' CPU training step, each measurement its own process.

    python benchmarks/allocator.py --sizes 128,256 --rounds 3

The setting changes glibc's malloc for the whole process (`colorgan.allocator`), so every measurement runs
in a fresh Python process (this script with ``--one STAGE SIZE SETTING``, printing JSON): colorgan's bench
step (`colorgan.bench.training.train_throughput`, batch 16, encoder trained, median of --repeats steps
after --warmup), the process's user and system CPU seconds and its peak resident memory. Off and on
alternate within each round, so a drifting machine affects both alike. Prints a Markdown table of every
round and the on/off ratio of the medians; ``--output`` also writes it to a file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from colorgan.bench import int_list, json_from_process

STAGES = ("unet", "gan")
SETTINGS = ("false", "true")
LABELS = {"unet": "stage 1", "gan": "stage 2"}


def measure_here(stage: str, size: int, setting: str, batch_size: int, warmup: int,
                 repeats: int) -> dict[str, Any]:
    """One measurement in this process: images/s, CPU seconds and peak RSS."""
    import logging
    import warnings

    from colorgan.bench.training import train_throughput

    logging.disable(logging.WARNING)  # this process prints JSON only and then exits
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("ignore")
        row = train_throughput("efficientnet_lite0", stage, size, batch_size, warmup, repeats, cuda=False,
                               extra=(f"keep_freed_memory={setting}",))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"images_per_s": row["images_per_s"], "user_s": usage.ru_utime, "system_s": usage.ru_stime,
            "peak_rss_mib": usage.ru_maxrss / 1024}


def measure_in_subprocess(stage: str, size: int, setting: str, args: argparse.Namespace) -> dict[str, Any]:
    """One measurement in a fresh process (this script with ``--one``)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--one", stage, str(size), setting,
               "--batch-size", str(args.batch_size), "--warmup", str(args.warmup), "--repeats",
               str(args.repeats)]
    return json_from_process(command, f"{stage} at {size} px, keep_freed_memory={setting}")


def measure(sizes: list[int], rounds: int,
            one: Callable[[str, int, str], dict[str, Any]]) -> dict[tuple[str, int, str], list[dict]]:
    """(stage, size, setting) -> one result per round; off and on alternate."""
    results: dict[tuple[str, int, str], list[dict]] = {}
    for _ in range(rounds):
        for stage in STAGES:
            for size in sizes:
                for setting in SETTINGS:
                    results.setdefault((stage, size, setting), []).append(one(stage, size, setting))
    return results


def render(results: dict[tuple[str, int, str], list[dict]], sizes: list[int]) -> str:
    """Markdown: per stage and size, both settings' rounds, the ratio of medians, CPU time and memory."""
    lines = ["| stage | px | off: img/s (rounds) | on: img/s (rounds) | on ÷ off (medians) | system CPU s "
             "off → on (medians) | peak RSS MiB off → on (medians) |", "|---|---|---|---|---|---|---|"]
    for stage in STAGES:
        for size in sizes:
            off, on = results[(stage, size, "false")], results[(stage, size, "true")]

            def median(runs: list[dict], key: str) -> float:
                return statistics.median(run[key] for run in runs)

            cells = [", ".join(f"{run['images_per_s']:.2f}" for run in runs) for runs in (off, on)]
            ratio = median(on, "images_per_s") / median(off, "images_per_s")
            lines.append(f"| {LABELS[stage]} | {size} | {cells[0]} | {cells[1]} | {ratio:.2f}× | "
                         f"{median(off, 'system_s'):.1f} → {median(on, 'system_s'):.1f} | "
                         f"{median(off, 'peak_rss_mib'):,.0f} → {median(on, 'peak_rss_mib'):,.0f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int_list, default=[128, 256], help="comma-separated image sizes, px")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None, help="also write the table here")
    parser.add_argument("--one", nargs=3, metavar=("STAGE", "SIZE", "SETTING"), default=None,
                        help="internal: one measurement, JSON on stdout")
    args = parser.parse_args(argv)
    if min(args.rounds, args.repeats, args.batch_size) < 1 or args.warmup < 0:
        parser.error("--rounds, --repeats and --batch-size must be >= 1, --warmup >= 0")
    if args.one:
        stage, size, setting = args.one
        if stage not in STAGES or setting not in SETTINGS:
            parser.error(f"--one: STAGE in {STAGES}, SETTING in {SETTINGS}")
        print(json.dumps(measure_here(stage, int(size), setting, args.batch_size, args.warmup, args.repeats)))
        return 0
    started, load_before = time.perf_counter(), os.getloadavg()
    try:
        results = measure(args.sizes, args.rounds,
                          lambda stage, size, setting: measure_in_subprocess(stage, size, setting, args))
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    command = shlex.join(["python", "benchmarks/allocator.py", *(sys.argv[1:] if argv is None else argv)])
    elapsed = time.perf_counter() - started
    loads = [[round(value, 2) for value in load] for load in (load_before, os.getloadavg())]
    header = (f"Made by `{command}` on {datetime.now():%Y-%m-%d %H:%M} in {elapsed:.0f} s; "
              f"load average {loads[0]} → {loads[1]}, "
              f"{os.cpu_count()} CPUs. Batch {args.batch_size}, encoder trained, median of {args.repeats} "
              f"step(s) after {args.warmup} warm-up step(s); off and on alternate, one process each.")
    report = header + "\n\n" + render(results, args.sizes)
    print(report)
    if args.output:
        args.output.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
