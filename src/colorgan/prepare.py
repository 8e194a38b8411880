"""`python -m colorgan.prepare SRC --output CACHE --size 256`: decode, validate and resize photos once.

The default format is the memory-mapped cache (`data=prepared data.root=CACHE`): incremental (running it
again on a grown folder reads only the new photos) and safe to interrupt (run it again to carry on).
``--format litdata`` writes a litdata streaming dataset instead (`data=streaming data.root=FOLDER_OR_URI`).
Exit status: 0 on success, 2 for a bad folder or option, 130 when interrupted (complete shards are kept),
1 for an unexpected error (its traceback is written to a file, named on stderr).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from colorgan.cli import run_command

INTERRUPTED = "the complete shards are kept; run the same command again to carry on"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="colorgan-prepare", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("source", type=Path, nargs="?", help="folder of photos (searched recursively)")
    parser.add_argument("--data", help="instead of a folder: a data config (conf/data name such as "
                        "places365, torchvision, huggingface, or a YAML file) whose photos to prepare")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="with --data: override a data config key (e.g. --set root=/data/places365)")
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
    parser.add_argument("--min-colorfulness", type=float, default=0.0,
                        help="litdata: leave out photos duller than this (the prepared cache stores each "
                        "photo's colorfulness instead: filter with data.min_colorfulness)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be >= 1")
    if (args.source is None) == (args.data is None):
        parser.error("give a photo folder or --data CONFIG (not both)")
    if args.data is not None and args.format != "prepared":
        parser.error("--data writes a prepared cache (--format prepared)")
    return args


def run(args: argparse.Namespace) -> int:
    """The command's logic; returns the exit status."""
    if args.format == "litdata":
        from colorgan.data.streaming import write_streaming

        summary = write_streaming(args.source, args.output, args.size, args.crop, args.val_fraction,
                                  args.split_seed, args.max_val_images, args.workers,
                                  min_colorfulness=args.min_colorfulness)
        skipped = {reason: len(paths) for reason, paths in summary["skipped"].items() if paths}
        print(f"wrote {summary['train']} train / {summary['val']} val photos at {args.size} px "
              f"({args.crop}) to {args.output}; skipped: {skipped or 'none'}")
        return 0
    if args.data is not None:
        from colorgan.data.prepare_collection import prepare_collection, source_from_config

        source = source_from_config(args.data, args.set, args.size)
        report = prepare_collection(source, args.output, args.size, args.crop, args.workers,
                                    args.shard_images, args.rebuild, progress=not args.quiet)
        print(f"{args.output}: {report.summary()}")
        return 0
    from colorgan.data.prepare_cache import prepare_cache

    report = prepare_cache(args.source, args.output, args.size, args.crop, args.workers, args.shard_images,
                           args.rebuild, progress=not args.quiet)
    print(f"{args.output}: {report.summary()}")
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point."""
    args = parse_args(argv)
    run_command(lambda: run(args), "prepare", interrupted=INTERRUPTED)


if __name__ == "__main__":
    main()
