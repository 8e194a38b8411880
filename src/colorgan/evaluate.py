"""`python -m colorgan.evaluate CKPT --data PATH_OR_CONFIG`: score a colorizer against two baselines.

--data is a folder of color photos (searched recursively), one photo, a data config name from conf/data
(`synthetic`, or `folder` with `--set root=DIR`) or a YAML file (a data config or a run's
.hydra/config.yaml: its validation images). Writes metrics.json and grid.png (worst, median and best
photos by ΔE00) into --output (default: RUN_DIR/eval/ for a run's checkpoint).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from colorgan.data import DataError
from colorgan.errors import UserError
from colorgan.evaluation import evaluate, format_table, mean_ab
from colorgan.inference import Colorizer, resolve_checkpoint
from colorgan.samples import config_samples, folder_samples


def default_output(checkpoint: Path) -> Path:
    """RUN_DIR/eval for a run's checkpoint, else ./eval-<checkpoint name>."""
    if checkpoint.parent.name == "checkpoints":
        return checkpoint.parent.parent / "eval"
    return Path(f"eval-{checkpoint.stem}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="colorgan-evaluate",
        description="Score a colorizer on color photos against a gray and a mean-chroma baseline.",
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    parser.add_argument("checkpoint", help="checkpoint file (.ckpt) or run directory")
    parser.add_argument("--data", required=True, help="photo folder or file, conf/data name, or YAML config")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a data config key, e.g. --set num_val=32 (repeatable)")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="folder for metrics.json and grid.png")
    parser.add_argument("--mean-from", type=Path, default=None,
                        help="photo folder (e.g. the training set) for the mean-chroma baseline's constant")
    parser.add_argument("--max-side", type=int, default=1024,
                        help="longer photos are downscaled first (default 1024; 0: full resolution)")
    parser.add_argument("--max-images", type=int, default=None, help="evaluate only the first N photos")
    parser.add_argument("--short-side", type=int, default=None, help="working size (default: training size)")
    parser.add_argument("--fid-weights", type=Path, default=None,
                        help="local Inception weights for FID (needs torch-fidelity); skipped otherwise")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: best available)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    checkpoint = resolve_checkpoint(args.checkpoint)
    colorizer = Colorizer.from_checkpoint(checkpoint, device=args.device, short_side=args.short_side)
    data_path = Path(args.data).expanduser()
    if data_path.is_dir() or (data_path.is_file() and data_path.suffix.lower() not in (".yaml", ".yml")):
        samples = folder_samples(data_path, args.max_images)
    else:
        samples = config_samples(args.data, args.overrides, colorizer.image_size, args.max_images)
    ab = source = None
    if args.mean_from is not None:
        ab, source = mean_ab(folder_samples(args.mean_from.expanduser())), f"mean (a, b) of {args.mean_from}"
    output = args.output or default_output(checkpoint)
    results = evaluate(colorizer, samples, output, ab=ab, ab_source=source, max_side=args.max_side or None,
                       fid_weights=args.fid_weights, progress=not args.quiet)
    print(f"{results['num_images']} photos, {checkpoint} ({results['colorspace']})")
    print(format_table(results))
    print(f"FID: {results['fid']:.3f}" if results["fid"] is not None else f"FID {results['fid_note']}")
    skipped = {reason: len(names) for reason, names in results["skipped"].items() if names}
    if skipped:
        print("skipped: " + ", ".join(f"{count} {reason}" for reason, count in skipped.items()))
    print(f"wrote {output / 'metrics.json'} and {output / 'grid.png'}")
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point."""
    args = parse_args(argv)
    try:
        status = run(args)
    except (UserError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        status = 2
    sys.exit(status)


if __name__ == "__main__":
    main()
