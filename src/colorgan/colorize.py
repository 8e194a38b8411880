"""`python -m colorgan.colorize CKPT INPUT... --output DIR`: colorize photos of any size with a trained model.

CKPT is a checkpoint file or a run directory (its best checkpoint). INPUTs are files, folders (searched
recursively) or glob patterns. Exit status: 0 when every photo was colorized, 1 when some failed (each is
reported; the others are still done), 2 for a bad checkpoint, output folder or option.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from colorgan.data import DataError
from colorgan.errors import UserError
from colorgan.files import FORMATS, Job, check_output_dir, expand_inputs, plan_jobs, save_image_atomic
from colorgan.inference import Colorizer, PreparedImage, side_by_side

COLOR_NOTE = "note: color photos are converted to gray (Rec.601 luma) first, then colorized"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="colorgan-colorize",
        description="Colorize photos of any size with a trained colorgan model.",
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    parser.add_argument("checkpoint", help="checkpoint file (.ckpt) or run directory")
    parser.add_argument("inputs", nargs="+", help="photo files, folders (recursive) or glob patterns")
    parser.add_argument("-o", "--output", required=True, type=Path, help="folder for the colorized photos")
    parser.add_argument("--suffix", default="", help="added to each output name, e.g. _color")
    parser.add_argument("--format", default="auto", choices=FORMATS,
                        help="output format (default auto: JPEG inputs stay JPEG, others become PNG)")
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality, 1-100 (default 95)")
    parser.add_argument("--short-side", type=int, default=None,
                        help="short side of the working size in px (default: the training size)")
    parser.add_argument("--batch-size", type=int, default=4, help="photos per network batch (default 4)")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: best available)")
    parser.add_argument("--side-by-side", action="store_true", help="write gray | colorized panels")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if not 1 <= args.quality <= 100:
        parser.error("--quality must be in 1..100")
    if args.batch_size < 1:
        parser.error("--batch-size must be >= 1")
    if args.short_side is not None and args.short_side < 8:
        parser.error("--short-side must be >= 8")
    return args


def colorize_jobs(colorizer: Colorizer, jobs: list[Job], batch_size: int = 4, quality: int = 95,
                  panels: bool = False, quiet: bool = False) -> tuple[int, list[tuple[Path, str]]]:
    """Colorize and write every job; returns (number written, [(input, reason)] failures)."""
    failures: list[tuple[Path, str]] = []
    written = 0
    noted = False
    with tqdm(total=len(jobs), unit="photo", disable=True if quiet else None, file=sys.stderr) as bar:
        for start in range(0, len(jobs), batch_size):
            ready: list[tuple[Job, PreparedImage]] = []
            for job in jobs[start : start + batch_size]:
                try:
                    ready.append((job, colorizer.prepare(job.source.path)))
                except (DataError, ValueError, OSError) as error:
                    failures.append((job.source.path, str(error)))
                    bar.update()
            if not ready:
                continue
            if not noted and any(prepared.was_color for _, prepared in ready):
                tqdm.write(COLOR_NOTE, file=sys.stderr)
                noted = True
            predicted = colorizer.predict([prepared.luma for _, prepared in ready], batch_size)
            for (job, prepared), rgb in zip(ready, predicted, strict=True):
                try:
                    image = colorizer.full_resolution(prepared.gray, rgb)
                    if panels:
                        image = side_by_side(prepared.gray, image)
                    save_image_atomic(image, job.output, quality)
                    written += 1
                except (OSError, ValueError) as error:
                    failures.append((job.source.path, f"cannot write {job.output}: {error}"))
                bar.update()
    return written, failures


def run(args: argparse.Namespace) -> int:
    """The command's logic; returns the exit status."""
    output_dir: Path = args.output.expanduser()
    check_output_dir(output_dir, args.inputs, args.suffix)
    files, missing = expand_inputs(args.inputs, exclude=output_dir, suffix=args.suffix)
    jobs, refused = plan_jobs(files, output_dir, args.suffix, args.format)
    failures: list[tuple[Path | str, str]] = [*missing, *refused]
    if not jobs:
        for name, reason in failures:
            print(f"error: {name}: {reason}", file=sys.stderr)
        print("error: nothing to colorize", file=sys.stderr)
        return 2 if not files else 1
    colorizer = Colorizer.from_checkpoint(args.checkpoint, device=args.device, short_side=args.short_side)
    print(f"colorizing {len(jobs)} photos with {colorizer.checkpoint_path} "
          f"({colorizer.colorspace.name}, {colorizer.device})", file=sys.stderr)
    written, errors = colorize_jobs(
        colorizer, jobs, args.batch_size, args.quality, args.side_by_side, args.quiet
    )
    failures += errors
    print(f"colorized {written} of {len(jobs) + len(refused) + len(missing)} inputs into {output_dir}")
    if failures:
        print(f"{len(failures)} failed:", file=sys.stderr)
        for name, reason in failures:
            print(f"  {name}: {reason}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point."""
    args = parse_args(argv)
    try:
        status = run(args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        status = 2
    sys.exit(status)


if __name__ == "__main__":
    main()
