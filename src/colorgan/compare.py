"""`python -m colorgan.compare RUN_DIR... | SWEEP_DIR --output report/`: compare training runs.

Writes report.html (self-contained: differing config keys, metrics table with the best per column marked,
training curves, the same photos colorized by each run side by side) and report.md plus its PNGs.
Run folders are read as data: their checkpoints are loaded weights-only and their data config may only
name colorgan's own data sources (anything else is refused, nothing in it is run). Photos that cannot be
read are left out of the grid and listed in the report's notes.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from colorgan.app import study_section
from colorgan.cli import run_command
from colorgan.errors import UserError
from colorgan.files import save_image_atomic
from colorgan.report.baselines import protocol_notes
from colorgan.report.figures import comparison_grid, plot_curves
from colorgan.report.hints import hint_section, plot_hint_curves
from colorgan.report.render import render_html, render_markdown
from colorgan.report.runs import Run, differing_keys, find_run_dirs, label_runs, read_run
from colorgan.samples import Sample, config_samples, folder_samples


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
    parser.add_argument("--study", type=Path, default=None,
                        help="a study folder of the app (python -m colorgan.app --study DIR): adds its "
                             "blind-test results")
    args = parser.parse_args(argv)
    if args.num_images < 1:
        parser.error("--num-images must be >= 1")
    return args


def report_samples(runs: Sequence[Run], images: str | Path | None, count: int) -> list[Sample]:
    """The photos every run colorizes: from ``images`` if given, else the first run's validation set."""
    if images is not None:
        return folder_samples(Path(images).expanduser(), count)
    config = next((run.path / ".hydra" / "config.yaml" for run in runs
                   if (run.path / ".hydra" / "config.yaml").is_file()), None)
    if config is None:
        raise UserError("no run has a .hydra/config.yaml to take validation photos from; pass --images DIR")
    try:
        return config_samples(str(config), [], 128, count)
    except UserError as error:
        raise UserError(f"cannot load the validation photos of {config.parent.parent} ({error}); "
                        "pass --images DIR") from error


def build_report(paths: Sequence[str | Path], output_dir: str | Path, images: str | Path | None = None,
                 num_images: int = 6, device: str | None = None,
                 study: str | Path | None = None) -> dict[str, Any]:
    """Read the runs, draw curves and the comparison grid, write report.html and report.md."""
    output_dir = Path(output_dir)
    sections = [study_section(study)] if study is not None else []  # the app's blind-test results
    runs = [read_run(path) for path in find_run_dirs(list(paths))]
    keys = differing_keys(runs)
    label_runs(runs, keys)
    samples = report_samples(runs, images, num_images)
    output_dir.mkdir(parents=True, exist_ok=True)
    notes = [f"{run.label}: no metrics.json (unfinished run?)" for run in runs if not run.summary]
    notes += protocol_notes(runs)  # which evaluate --protocol the eval columns come from
    curves = plot_curves(runs, output_dir) + plot_hint_curves(runs, output_dir)  # + evaluate --hints
    sections += [section for section in (hint_section(runs),) if section is not None]
    grid_path = output_dir / "grid.png"
    grid, grid_notes = comparison_grid(runs, samples, device)
    notes += grid_notes
    save_image_atomic(grid, grid_path)
    html_path, md_path = output_dir / "report.html", output_dir / "report.md"
    html_path.write_text(render_html(runs, keys, curves, grid_path, notes, sections), encoding="utf-8")
    md_path.write_text(render_markdown(runs, keys, curves, grid_path, notes, sections), encoding="utf-8")
    return {"runs": [str(run.path) for run in runs], "differing_keys": keys, "html": html_path,
            "markdown": md_path, "curves": curves, "grid": grid_path, "notes": notes}


def run(args: argparse.Namespace) -> int:
    """The command's logic; returns the exit status."""
    report = build_report(args.runs, args.output, args.images, args.num_images, args.device, args.study)
    keys = ", ".join(report["differing_keys"]) or "none"
    print(f"compared {len(report['runs'])} runs; differing config keys: {keys}")
    skipped = [note for note in report["notes"] if "skipped" in note]
    if skipped:
        print(f"{len(skipped)} photos skipped:\n  " + "\n  ".join(skipped))
    print(f"wrote {report['html']} and {report['markdown']}")
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point."""
    args = parse_args(argv)
    run_command(lambda: run(args), "compare")


if __name__ == "__main__":
    main()
