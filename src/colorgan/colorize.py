"""`python -m colorgan.colorize CKPT INPUT... --output DIR`: colorize photos of any size with a trained model.

CKPT is a checkpoint file or a run directory (its best checkpoint). INPUTs are files, folders (searched
recursively) or glob patterns. Every output goes inside --output, keeping the input's name and sub-folder;
an existing file there is kept (counted as skipped) unless --overwrite. Exit status: 0 when every photo was
colorized or skipped because its output exists, 1 when some failed (unreadable, an extreme aspect ratio,
an output that would replace an input: each is reported, the others are still done), 2 for a bad
checkpoint, output folder or option (or a model whose output is NaN), 130 when interrupted (finished
photos are kept: run the same command again to carry on).

--hints FILE (one photo, a model trained with model.hints.enabled=true) steers the colors: a JSON file
{"size": 5, "hints": [{"x": 120, "y": 64, "color": "#d03020"}, {"x": 300, "y": 210, "color": [40, 90, 200],
"size": 3}]}: x, y in pixels of the photo (from its top-left corner), colors as "#rrggbb" or [r, g, b]
(0-255; the photo keeps its own brightness), size the side of each hint's square in working-size pixels.
A bad file, a point outside the photo or a model without hint input is an error (status 2).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from colorgan import files
from colorgan.backends import BACKENDS
from colorgan.cli import run_command
from colorgan.errors import UserError
from colorgan.files import FORMATS
from colorgan.hints import DEFAULT_HINT_SIZE, HintError, read_hints_file
from colorgan.inference import Colorizer, colorize_jobs
from colorgan.scales import add_pass_arguments, check_pass_arguments, pass_arguments

INTERRUPTED = "the photos written so far are kept; run the same command again to carry on"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="colorgan-colorize",
        description="Colorize photos of any size with a trained colorgan model.",
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    parser.add_argument("checkpoint", help="checkpoint file (.ckpt), run directory or exported .onnx model")
    parser.add_argument("inputs", nargs="+", help="photo files, folders (recursive) or glob patterns")
    parser.add_argument("-o", "--output", required=True, type=Path, help="folder for the colorized photos")
    parser.add_argument("--suffix", default="", help="added to each output name, e.g. _color")
    parser.add_argument("--format", default="auto", choices=FORMATS,
                        help="output format (default auto: JPEG inputs stay JPEG, others become PNG)")
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality, 1-100 (default 95)")
    add_pass_arguments(parser)
    parser.add_argument("--batch-size", type=int, default=4, help="photos per network batch (default 4)")
    parser.add_argument("--backend", default="torch", choices=BACKENDS,
                        help="what runs the network: torch, or onnxruntime (an .onnx model always does; a "
                             "checkpoint uses its export beside it or is exported on the fly)")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: best available)")
    parser.add_argument("--side-by-side", action="store_true", help="write gray | colorized panels")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing output files (default: keep them and skip those photos)")
    parser.add_argument("--temperature", type=float, default=None,
                        help="a bin model (model.loss=bins): its annealed-mean temperature "
                             "(lower: more vivid; default: the trained one)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--hints", type=Path, default=None, metavar="JSON",
                        help="color hints for one photo (a hint model only; format below)")
    parser.add_argument("--hint-size", type=int, default=None,
                        help=f"side of each hint's square in working-size px (default: the file's size, "
                             f"else {DEFAULT_HINT_SIZE})")
    args = parser.parse_args(argv)
    if not 1 <= args.quality <= 100:
        parser.error("--quality must be in 1..100")
    if args.batch_size < 1:
        parser.error("--batch-size must be >= 1")
    check_pass_arguments(parser, args)
    if args.hint_size is not None and not 1 <= args.hint_size <= 64:
        parser.error("--hint-size must be in 1..64")
    return args


def run(args: argparse.Namespace) -> int:
    """The command's logic; returns the exit status."""
    output_dir: Path = args.output.expanduser()
    hints, hint_size = read_hints_file(args.hints) if args.hints is not None else (None, None)
    hint_size = args.hint_size or hint_size or DEFAULT_HINT_SIZE
    files.check_suffix(args.suffix)
    files.check_output_dir(output_dir, args.inputs, args.suffix)
    found, missing = files.expand_inputs(args.inputs, exclude=output_dir, suffix=args.suffix)
    jobs, refused = files.plan_jobs(found, output_dir, args.suffix, args.format)
    files.remove_stale_temporaries(job.output for job in jobs)
    existing: list = []
    if not args.overwrite:
        jobs, existing = files.split_existing(jobs)
    failures: list[tuple[Path | str, str]] = [*missing, *refused]
    total = len(jobs) + len(existing) + len(refused) + len(missing)
    if not jobs:
        for name, reason in failures:
            print(f"error: {name}: {reason}", file=sys.stderr)
        if existing and not failures:
            print(f"nothing to do: all {len(existing)} outputs exist in {output_dir} "
                  "(kept; --overwrite replaces them)")
            return 0
        print("error: nothing to colorize", file=sys.stderr)
        return 2 if not found else 1
    if hints is not None and total > 1:
        raise UserError(f"--hints applies to one photo, but {total} inputs were given")
    colorizer = Colorizer.load(args.checkpoint, args.device, args.backend, args.temperature,
                               **pass_arguments(args))
    if hints is not None and not colorizer.takes_hints:
        raise HintError(f"--hints: {colorizer.checkpoint_path} takes no color hints (train a model with "
                        "model.hints.enabled=true; its ONNX export takes hints too)")
    print(f"colorizing {len(jobs)} photos with {colorizer.checkpoint_path} "
          f"({colorizer.colorspace.name}, {colorizer.backend.name} on {colorizer.device})", file=sys.stderr)
    written, errors = colorize_jobs(colorizer, jobs, args.batch_size, args.quality, args.side_by_side,
                                    args.quiet, overwrite=args.overwrite, hints=hints, hint_size=hint_size)
    failures += errors
    print(f"colorized {written} of {total} inputs into {output_dir}")
    if existing:
        print(f"{len(existing)} skipped: their output already exists (kept; --overwrite replaces them)")
    if failures:
        print(f"{len(failures)} failed:", file=sys.stderr)
        for name, reason in failures:
            print(f"  {name}: {reason}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point."""
    args = parse_args(argv)
    run_command(lambda: run(args), "colorize", interrupted=INTERRUPTED)


if __name__ == "__main__":
    main()
