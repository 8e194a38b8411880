"""`python -m colorgan.evaluate CKPT --data PATH_OR_CONFIG`: score a colorizer against two baselines.

CKPT is a checkpoint, a run directory or an ONNX export (`python -m colorgan.export`, fp32 or int8), which
runs on onnxruntime; `--backend onnxruntime` scores a checkpoint through its export, so a deployed model is
judged by the same protocol as the PyTorch one.

--data is a folder of color photos (searched recursively), one photo, a data config name from conf/data
(`synthetic`, or `folder` with `--set root=DIR`) or a YAML file (a data config or a run's
.hydra/config.yaml: its validation images; only colorgan's own data sources are accepted from it, nothing
else in it is run). Writes metrics.json and grid.png (worst, median and best photos by ΔE00) into
--output (default: RUN_DIR/eval/ for a run's checkpoint). Photos that cannot be scored (unreadable, gray,
a side under 11 px, an extreme aspect ratio) are skipped and counted. Exit status: 0 when done, 2 for a
bad checkpoint, data or option, 130 when interrupted, 1 for an unexpected error.

--hints 0,1,2,5,10,20,50,100 (a model trained with model.hints.enabled=true) also scores the model given N
hints per photo drawn from the truth (--hint-patch px squares, default 6, at uniformly random places of the
working size, nested, fixed --hint-seed; each holds the true mean chroma of its square): every metric per N
under "hints" in metrics.json, and hints_curve.png (PSNR and ΔE00 against N).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from colorgan.atomic import write_json
from colorgan.backends import BACKENDS
from colorgan.cli import run_command
from colorgan.data import DataError
from colorgan.files import save_image_atomic
from colorgan.hints import HintError
from colorgan.inference import Colorizer, UnsupportedSize, resolve_checkpoint
from colorgan.metrics import METRIC_GOALS
from colorgan.models.hints import EVAL_PATCH
from colorgan.report import protocols, scores
from colorgan.report.fid import finish_fid, start_fid
from colorgan.report.figures import plot_hint_curve, worst_median_best_grid
from colorgan.samples import Sample, config_samples, folder_samples
from colorgan.scales import add_pass_arguments, check_pass_arguments, pass_arguments


def default_output(checkpoint: Path, backend: str = "torch", temperature: float | None = None) -> Path:
    """RUN_DIR/eval for a run's checkpoint (RUN_DIR/eval-onnxruntime through its export, RUN_DIR/eval-NAME for
    an ONNX file NAME.onnx, RUN_DIR/eval-t0.5 at ``--temperature 0.5``), else ./eval-<checkpoint name>."""
    onnx = checkpoint.suffix.lower() == ".onnx"
    suffix = f"-{checkpoint.stem}" if onnx else ("" if backend == "torch" else f"-{backend}")
    suffix += "" if temperature is None else f"-t{temperature:g}"
    if checkpoint.parent.name == "checkpoints":
        return checkpoint.parent.parent / f"eval{suffix}"
    return Path(f"eval-{checkpoint.stem}" + ("" if onnx else suffix))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="colorgan-evaluate",
        description="Score a colorizer on color photos against a gray and a mean-chroma baseline.",
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    parser.add_argument("checkpoint", help="checkpoint file (.ckpt), run directory or ONNX export (.onnx)")
    parser.add_argument("--data", required=True, help="photo folder or file, conf/data name, or YAML config")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a data config key, e.g. --set num_val=32 (repeatable)")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="folder for metrics.json and grid.png")
    parser.add_argument("--mean-from", type=Path, default=None,
                        help="photo folder (e.g. the training set) for the mean-chroma baseline's constant")
    parser.add_argument("--max-side", type=int, default=1024,
                        help="longer photos are downscaled first (default 1024; 0: full resolution)")
    parser.add_argument("--protocol", choices=list(protocols.PROTOCOLS), default="full",
                        help="full (default): each photo at full resolution; center256: short side to 256, "
                             "center crop 256x256 (CT2/DDColor val5k); resize256: resized to 256x256 "
                             "(ColorFormer/DDColor val50k)")
    parser.add_argument("--max-images", type=int, default=None, help="evaluate only the first N photos")
    add_pass_arguments(parser)
    parser.add_argument("--fid-weights", type=Path, default=None,
                        help="local Inception weights for FID (needs torch-fidelity); skipped otherwise")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: best available)")
    parser.add_argument("--backend", default="torch", choices=BACKENDS,
                        help="what runs the network: torch, or onnxruntime (through the checkpoint's export; "
                             "an .onnx model always runs on onnxruntime)")
    parser.add_argument("--temperature", type=float, default=None,
                        help="a bin model (model.loss=bins): decode at this annealed-mean temperature "
                             "instead of its trained one (lower: more vivid)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--hints", default=None, metavar="N,N,...",
                        help="also score with N true-color hints per photo, e.g. 0,1,2,5,10,20,50,100")
    parser.add_argument("--hint-patch", type=int, default=EVAL_PATCH,
                        help=f"side of each hint's square in working-size px (default {EVAL_PATCH})")
    parser.add_argument("--hint-seed", type=int, default=0, help="seed of the hint places (default 0)")
    args = parser.parse_args(argv)
    if args.hints is not None:
        try:
            args.hints = scores.parse_counts(args.hints)
        except ValueError as error:
            parser.error(str(error))
    if args.hint_patch < 1:
        parser.error("--hint-patch must be >= 1")
    check_pass_arguments(parser, args)
    return args


def evaluate(colorizer: Colorizer, samples: Sequence[Sample], output_dir: str | Path,
             ab: tuple[float, float] | None = None, ab_source: str | None = None, max_side: int | None = 1024,
             fid_weights: str | Path | None = None, progress: bool = True,
             hint_counts: Sequence[int] | None = None, hint_patch: int = EVAL_PATCH,
             hint_seed: int = 0, protocol: str = "full") -> dict[str, Any]:
    """Score the model and both baselines on every sample; write metrics.json and grid.png into output_dir.

    Photos that cannot be scored are listed by reason under ``skipped`` (see `load_truth`). With
    ``hint_counts`` the model is also scored given that many true-color hints per photo
    (`scores.score_with_truth_hints`, seeded by ``hint_seed`` + the photo's index) and hints_curve.png drawn.
    """
    output_dir = Path(output_dir)
    samples, max_side = protocols.apply_protocol(samples, protocol, max_side)  # --protocol
    if hint_counts and not colorizer.takes_hints:
        raise HintError(f"--hints: {colorizer.checkpoint_path or 'the model'} takes no color hints (train "
                        "one with model.hints.enabled=true)")
    if ab is None:
        ab, ab_source = scores.mean_ab(samples), scores.ORACLE_NOTE
    fid, fid_note = start_fid(fid_weights)
    rows: list[dict[str, Any]] = []
    skipped: dict[str, list[str]] = {reason: [] for reason in scores.SKIP_REASONS}
    for index, sample in enumerate(tqdm(samples, unit="photo", disable=not progress or None)):
        truth, reason, detail = scores.load_truth(sample, max_side)
        if truth is None:
            skipped[reason].append(detail)
            continue
        try:
            outputs = scores.colorize_three_ways(colorizer, truth, ab)
        except UnsupportedSize as error:
            skipped["unsupported_size"].append(f"{sample.name}: {error}")
            continue
        rows.append({"index": index, "name": sample.name, **scores.score_three_ways(outputs, truth)})
        rows[-1]["color"] = protocols.color_scores(outputs, truth)  # colorfulness both ways, bias
        if hint_counts:
            rows[-1]["hints"] = scores.score_with_truth_hints(colorizer, truth, hint_counts, hint_patch,
                                                              hint_seed + index)
        if fid is not None:
            fid.update(outputs["model"], truth)
    if not rows:
        counts = ", ".join(f"{len(names)} {reason}" for reason, names in skipped.items() if names)
        raise DataError(f"no usable color photo to evaluate ({counts or 'none given'})")
    ranked = sorted(rows, key=lambda row: row["model"]["deltae00"])
    picks = {"best": ranked[0], "median": ranked[len(ranked) // 2], "worst": ranked[-1]}
    results = {
        "checkpoint": str(colorizer.checkpoint_path) if colorizer.checkpoint_path else None,
        "backend": colorizer.backend.name,
        "colorspace": colorizer.colorspace.name,
        "temperature": colorizer.temperature,
        "num_images": len(rows),
        "max_side": max_side,
        "short_side": colorizer.short_side,
        "pass_sides": colorizer.pass_sides,
        "caution": colorizer.caution if len(colorizer.pass_sides) > 1 or colorizer.mirror else None,
        "saturation": colorizer.saturation,
        "mirror": colorizer.mirror,
        "skipped": skipped,
        "goals": METRIC_GOALS,
        "model": scores.average(rows, "model"),
        "baselines": {method: scores.average(rows, method) for method in ("gray", "mean_chroma")},
        "mean_chroma_ab": list(ab),
        "mean_chroma_source": ab_source or "given",
        **protocols.summarize(rows, protocol),  # protocol, color, groups
        **finish_fid(fid, fid_note, len(rows)),
        "grid": "grid.png",
        "grid_rows": {label: row["name"] for label, row in picks.items()},
        "per_image": [{"name": row["name"], **{m: row[m] for m in scores.METHODS}} for row in rows],
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    if hint_counts:
        by_count = {str(n): scores.average([row["hints"] for row in rows], n) for n in hint_counts}
        results["hints"] = {"counts": list(hint_counts), "patch": hint_patch, "seed": hint_seed,
                            "positions": "uniform", "model": by_count, "curve": "hints_curve.png"}
        for entry, row in zip(results["per_image"], rows, strict=True):
            entry["hints"] = {str(n): values for n, values in row["hints"].items()}
        title = f"{colorizer.colorspace.name}: {len(rows)} photos, {hint_patch}x{hint_patch} px hints"
        plot_hint_curve(by_count, output_dir / "hints_curve.png", title)
    grid = worst_median_best_grid(colorizer, samples, picks, ab, max_side)
    save_image_atomic(grid, output_dir / "grid.png")
    write_json(output_dir / "metrics.json", results)
    return results


def format_table(results: dict[str, Any]) -> str:
    """A plain-text table: one line per metric, model vs both baselines."""
    columns = {"model": results["model"], **results["baselines"]}
    lines = [f"{'metric':<20}" + "".join(f"{name:>14}" for name in columns)]
    for key in results["model"]:
        cells = "".join(f"{values[key]:>14.4g}" if math.isfinite(values[key]) else f"{'inf':>14}"
                        for values in columns.values())
        lines.append(f"{key:<20}{cells}")
    return "\n".join(lines)


def format_hint_table(hints: dict[str, Any]) -> str:
    """A plain-text table: one line per hint count, one column per metric."""
    by_count = hints["model"]
    keys = list(next(iter(by_count.values())))
    widths = [max(12, len(key) + 2) for key in keys]
    lines = [f"{'hints':>6}" + "".join(f"{key:>{width}}" for key, width in zip(keys, widths, strict=True))]
    for count, values in by_count.items():
        cells = (f"{values[key]:>{width}.4g}" for key, width in zip(keys, widths, strict=True))
        lines.append(f"{count:>6}" + "".join(cells))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """The command's logic; returns the exit status."""
    given = Path(args.checkpoint).expanduser()
    onnx = given.suffix.lower() == ".onnx"
    checkpoint = given if onnx else resolve_checkpoint(given)
    colorizer = Colorizer.load(checkpoint, args.device, args.backend, args.temperature,
                               **pass_arguments(args))
    backend = colorizer.backend.name  # an .onnx file runs on onnxruntime whatever --backend says
    data_path = Path(args.data).expanduser()
    if data_path.is_dir() or (data_path.is_file() and data_path.suffix.lower() not in (".yaml", ".yml")):
        samples = folder_samples(data_path, args.max_images)
    else:
        samples = config_samples(args.data, args.overrides, colorizer.image_size, args.max_images)
    ab = source = None
    if args.mean_from is not None:
        ab = scores.mean_ab(folder_samples(args.mean_from.expanduser()))
        source = f"mean (a, b) of {args.mean_from}"
    output = args.output or default_output(checkpoint, backend, args.temperature)
    results = evaluate(colorizer, samples, output, ab=ab, ab_source=source, max_side=args.max_side or None,
                       fid_weights=args.fid_weights, progress=not args.quiet, hint_counts=args.hints,
                       hint_patch=args.hint_patch, hint_seed=args.hint_seed, protocol=args.protocol)
    decoding = "" if colorizer.temperature is None else f", bins decoded at T={colorizer.temperature:g}"
    print(f"{results['num_images']} photos, {checkpoint} ({results['colorspace']}, {backend}{decoding})")
    print(protocols.describe(results))
    print(format_table(results))
    print(protocols.format_color_table(results))
    if "groups" in results:
        print(protocols.format_group_table(results))
    print(f"FID: {results['fid']:.3f}" if results["fid"] is not None else f"FID {results['fid_note']}")
    skipped = {reason: len(names) for reason, names in results["skipped"].items() if names}
    if skipped:
        counts = (f"{count} {reason.replace('_', ' ')}" for reason, count in skipped.items())
        print("skipped: " + ", ".join(counts))
    if "hints" in results:
        print(format_hint_table(results["hints"]))
        print(f"wrote {output / 'hints_curve.png'}")
    print(f"wrote {output / 'metrics.json'} and {output / 'grid.png'}")
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point."""
    args = parse_args(argv)
    run_command(lambda: run(args), "evaluate")


if __name__ == "__main__":
    main()
