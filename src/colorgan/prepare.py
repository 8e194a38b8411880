"""`python -m colorgan.prepare SRC --output CACHE --size 256`: decode, validate and resize photos once.

The default format is the memory-mapped cache (`data=prepared data.root=CACHE`): incremental (running it
again on a grown folder reads only the new photos) and safe to interrupt (run it again to carry on).
``--format litdata`` writes a litdata streaming dataset instead (`data=streaming data.root=FOLDER_OR_URI`).
Exit status: 0 on success, 2 for a bad folder or option, 130 when interrupted (complete shards are kept).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from colorgan.data.errors import DataError
from colorgan.errors import UserError


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="colorgan-prepare", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("source", type=Path, help="folder of photos (searched recursively)")
    parser.add_argument("-o", "--output", required=True, type=Path, help="cache folder to create or update")
    parser.add_argument("--size", type=int, default=256, help="short side of the stored images, in px")
    parser.add_argument("--crop", choices=("full", "center"), default="full",
                        help="full: keep the whole photo (short side = size); center: the center square only")
    parser.add_argument("--format", choices=("prepared", "litdata"), default="prepared",
                        help="prepared: memory-mapped shards; litdata: a streaming dataset (train/ and val/)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    parser.add_argument("--shard-images", type=int, default=512, help="prepared: photos per shard")
    parser.add_argument("--rebuild", action="store_true", help="prepared: discard the cache and start over")
    parser.add_argument("--val-fraction", type=float, default=0.1, help="litdata: share of photos in val/")
    parser.add_argument("--split-seed", type=int, default=0, help="litdata: seed of the path-hash split")
    parser.add_argument("--max-val-images", type=int, default=256, help="litdata: cap on val/ photos")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be >= 1")
    return args


def run(args: argparse.Namespace) -> int:
    """The command's logic; returns the exit status."""
    if args.format == "litdata":
        from colorgan.data.streaming import write_streaming

        summary = write_streaming(args.source, args.output, args.size, args.crop, args.val_fraction,
                                  args.split_seed, args.max_val_images, args.workers)
        skipped = {reason: len(paths) for reason, paths in summary["skipped"].items() if paths}
        print(f"wrote {summary['train']} train / {summary['val']} val photos at {args.size} px "
              f"({args.crop}) to {args.output}; skipped: {skipped or 'none'}")
        return 0
    from colorgan.data.prepare_cache import prepare_cache

    report = prepare_cache(args.source, args.output, args.size, args.crop, args.workers, args.shard_images,
                           args.rebuild, progress=not args.quiet)
    print(f"{args.output}: {report.summary()}")
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point."""
    args = parse_args(argv)
    try:
        status = run(args)
    except (DataError, UserError) as error:
        print(f"error: {error}", file=sys.stderr)
        status = 2
    except KeyboardInterrupt:
        print("interrupted: the complete shards are kept; run the same command again to carry on",
              file=sys.stderr)
        status = 130
    sys.exit(status)


if __name__ == "__main__":
    main()
