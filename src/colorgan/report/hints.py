"""The hints part of the comparison report: runs evaluated with ``evaluate --hints`` side by side.

A table (PSNR and ΔE00 per number of hints, one row per run) as a report section, and one PNG with a curve
per run, drawn from each run's ``eval/metrics.json`` (its ``hints`` entry).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from colorgan.report.render import Section
from colorgan.report.runs import Run

EXPLANATION = ("`evaluate --hints`: the model given N hints per photo drawn from the truth "
               "(squares of the true mean chroma at random places); PSNR in dB / ΔE00.")


def hinted_runs(runs: Sequence[Run]) -> list[Run]:
    """The runs whose evaluation has hint scores."""
    return [run for run in runs if isinstance((run.evaluation or {}).get("hints"), dict)]


def hint_section(runs: Sequence[Run]) -> Section | None:
    """PSNR / ΔE00 per hint count, one row per evaluated hint run; None when no run has hint scores."""
    hinted = hinted_runs(runs)
    if not hinted:
        return None
    counts = sorted({int(n) for run in hinted for n in run.evaluation["hints"]["model"]})
    rows = []
    for run in hinted:
        by_count = run.evaluation["hints"]["model"]
        cells = [f"{by_count[str(n)]['psnr']:.2f} / {by_count[str(n)]['deltae00']:.2f}"
                 if str(n) in by_count else "–" for n in counts]
        rows.append([run.label, *cells])
    return "Quality against the number of hints", EXPLANATION, ["run", *[f"N = {n}" for n in counts]], rows


def plot_hint_curves(runs: Sequence[Run], output_dir: Path) -> list[Path]:
    """hints_curve.png: PSNR and ΔE00 against N, one line per run; [] when no run has hint scores."""
    hinted = hinted_runs(runs)
    if not hinted:
        return []
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(8, 3.2), dpi=100)
    for run in hinted:
        by_count = run.evaluation["hints"]["model"]
        counts = sorted(by_count, key=int)
        for axis, key in zip(axes, ("psnr", "deltae00"), strict=True):
            values = [by_count[n][key] for n in counts]
            axis.plot([int(n) for n in counts], values, marker="o", label=run.label)
    for axis, label in zip(axes, ("PSNR (dB), higher is better", "ΔE00, lower is better"), strict=True):
        axis.set_xscale("symlog", linthresh=1)
        axis.set_xlabel("hints per photo")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    path = output_dir / "hints_curve.png"
    figure.savefig(path)
    plt.close(figure)
    return [path]
