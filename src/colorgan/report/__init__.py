"""Compare training runs: one self-contained HTML report plus a Markdown summary.

    build_report(["outputs/train/multiruns/2024-..."], "report/")
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from colorgan.data import DataError
from colorgan.errors import UserError
from colorgan.report.figures import comparison_grid, plot_curves
from colorgan.report.render import render_html, render_markdown
from colorgan.report.runs import Run, differing_keys, find_run_dirs, label_runs, read_run
from colorgan.samples import Sample, config_samples, folder_samples

__all__ = ["Run", "build_report", "find_run_dirs", "read_run", "report_samples"]


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
    except (DataError, UserError) as error:
        raise UserError(f"cannot load the validation photos of {config.parent.parent} ({error}); "
                        "pass --images DIR") from error


def build_report(paths: Sequence[str | Path], output_dir: str | Path, images: str | Path | None = None,
                 num_images: int = 6, device: str | None = None) -> dict[str, Any]:
    """Read the runs, draw curves and the comparison grid, write report.html and report.md."""
    output_dir = Path(output_dir)
    runs = [read_run(path) for path in find_run_dirs(list(paths))]
    keys = differing_keys(runs)
    label_runs(runs, keys)
    output_dir.mkdir(parents=True, exist_ok=True)
    notes = [f"{run.label}: no metrics.json (unfinished run?)" for run in runs if not run.summary]
    curves = plot_curves(runs, output_dir)
    grid_path: Path | None = output_dir / "grid.png"
    samples = report_samples(runs, images, num_images)
    Image.fromarray(comparison_grid(runs, samples, device)).save(grid_path)
    html_path, md_path = output_dir / "report.html", output_dir / "report.md"
    html_path.write_text(render_html(runs, keys, curves, grid_path, notes), encoding="utf-8")
    md_path.write_text(render_markdown(runs, keys, curves, grid_path, notes), encoding="utf-8")
    return {"runs": [str(run.path) for run in runs], "differing_keys": keys, "html": html_path,
            "markdown": md_path, "curves": curves, "grid": grid_path}
