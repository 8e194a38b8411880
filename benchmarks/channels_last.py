"""channels_last (NHWC) against NCHW for both stages' training step on this machine, A/B in one process.

    python benchmarks/channels_last.py --sizes 128,256 --rounds 2

Each round times stage 1 and stage 2 at every size in NCHW and then NHWC (colorgan's bench step:
`colorgan.bench.training.train_throughput`, batch 16, encoder trained, median of --repeats steps after
--warmup), so a drifting machine affects both layouts alike. Prints a Markdown table of every round and the
NHWC/NCHW ratio of the medians. This is the measurement behind `channels_last: auto` being on for the CPU.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import warnings
from collections.abc import Sequence

from colorgan.bench import int_list

STAGES = ("unet", "gan")


def measure(sizes: list[int], rounds: int, batch_size: int, warmup: int, repeats: int) -> dict:
    """(stage, size, layout) -> images/s of each round."""
    from colorgan.bench.training import train_throughput

    rates: dict[tuple[str, int, str], list[float]] = {}
    for _ in range(rounds):
        for stage in STAGES:
            for size in sizes:
                for layout, on in (("NCHW", False), ("NHWC", True)):
                    row = train_throughput("efficientnet_lite0", stage, size, batch_size, warmup, repeats,
                                           cuda=False, channels_last=on)
                    rates.setdefault((stage, size, layout), []).append(row["images_per_s"])
    return rates


def render(rates: dict, sizes: list[int]) -> str:
    lines = ["| stage | px | NCHW img/s (rounds) | NHWC img/s (rounds) | NHWC ÷ NCHW (medians) |",
             "|---|---|---|---|---|"]
    for stage in STAGES:
        for size in sizes:
            nchw, nhwc = rates[(stage, size, "NCHW")], rates[(stage, size, "NHWC")]
            cells = [", ".join(f"{rate:.2f}" for rate in values) for values in (nchw, nhwc)]
            ratio = statistics.median(nhwc) / statistics.median(nchw)
            lines.append(f"| {stage} | {size} | {cells[0]} | {cells[1]} | {ratio:.2f}× |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int_list, default=[128, 256], help="comma-separated image sizes, px")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args(argv)
    sizes = args.sizes
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # Lightning's remarks on every fit; restored for the caller after
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rates = measure(sizes, args.rounds, args.batch_size, args.warmup, args.repeats)
    finally:
        logging.disable(previous)
    print(render(rates, sizes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
