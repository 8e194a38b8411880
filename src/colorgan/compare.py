"""`python -m colorgan.compare RUN_DIR... | SWEEP_DIR --output report/`: compare training runs.

Writes report.html (self-contained: differing config keys, metrics table with the best per column marked,
training curves, the same photos colorized by each run side by side) and report.md plus its PNGs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from colorgan.data import DataError
from colorgan.errors import UserError
from colorgan.report import build_report


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="colorgan-compare",
        description="Compare training runs in one HTML report and a Markdown summary.",
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    parser.add_argument("runs", nargs="+", help="run directories, or a multirun sweep directory")
    parser.add_argument("-o", "--output", type=Path, default=Path("report"),
                        help="report folder (default report/)")
    parser.add_argument("--images", type=Path, default=None,
                        help="photos to colorize with every run (default: the runs' validation images)")
    parser.add_argument("--num-images", type=int, default=6, help="how many photos in the grid (default 6)")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: best available)")
    args = parser.parse_args(argv)
    if args.num_images < 1:
        parser.error("--num-images must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point."""
    args = parse_args(argv)
    try:
        report = build_report(args.runs, args.output, args.images, args.num_images, args.device)
    except (UserError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    keys = ", ".join(report["differing_keys"]) or "none"
    print(f"compared {len(report['runs'])} runs; differing config keys: {keys}")
    print(f"wrote {report['html']} and {report['markdown']}")


if __name__ == "__main__":
    main()
