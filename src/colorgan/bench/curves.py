"""How cost grows: training images/s against image size, inference time and memory against megapixels.

`bench_curves` times stage 1 and stage 2 (light D) of the default model at several sizes (`bench_training`)
and colorizes gray photos from 0.06 to 48 MP file in → file out (`bench_inference`, torch and onnxruntime);
`fit_slope` gives each curve's exponent on log-log axes, `plot_curves` draws them, `curves_section` is the
report's part.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from colorgan.bench import _size_pair, int_list

TRAIN_SIZES = [64, 128, 256, 384, 512]
#: 4:3 photos (so the network's working size is the same for all) from 0.06 to 48 MP
PHOTO_SIZES = [(288, 216), (640, 480), (1600, 1200), (4000, 3000), (5656, 4242), (8000, 6000)]
QUICK_TRAIN_SIZES = [32, 48]
QUICK_PHOTO_SIZES = [(64, 64), (160, 120)]
BACKENDS = ("torch", "onnxruntime")
WARMUP = 1
DEFAULT_PLOT = Path("docs/cost_curves.png")
STAGE_LABELS = {"unet": "stage 1", "gan": "stage 2 (light D)"}


def _size_list(text: str) -> list[tuple[int, int]]:
    return [_size_pair(part) for part in text.split(",") if part]


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The curves section's options (defaults resolved in `bench_curves`, so --quick can shrink them)."""
    parser.add_argument("--curve-sizes", type=int_list, default=None,
                        help=f"curves: training sizes, px (default {','.join(map(str, TRAIN_SIZES))})")
    parser.add_argument("--curve-photos", type=_size_list, default=None,
                        help="curves: photo sizes WxH,… (default 288x216 … 8000x6000: 0.06–48 MP)")
    parser.add_argument("--curve-repeats", type=_positive, default=3,
                        help="curves: timed training steps per size")
    parser.add_argument("--curves-plot", type=Path, default=None,
                        help=f"curves: the figure (default {DEFAULT_PLOT}; --quick: beside --output)")


def fit_slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares exponent k of y ∝ x^k (slope on log-log axes); None with fewer than 2 usable points."""
    points = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y and y > 0]
    if len({x for x, _ in points}) < 2:
        return None
    logx, logy = np.array(points).T
    return float(np.polyfit(logx, logy, 1)[0])


def slopes(xs: Sequence[float], ys: Sequence[float]) -> dict[str, Any]:
    """Exponent over every point, and over the larger half (where fixed costs weigh least)."""
    tail = max(2, (len(xs) + 1) // 2)
    return {"exponent": fit_slope(xs, ys), "tail_exponent": fit_slope(xs[-tail:], ys[-tail:]),
            "tail_points": min(tail, len(xs)), "points": len(xs)}


def _by(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row)
    return groups


def fit_all(training: list[dict[str, Any]], inference: list[dict[str, Any]]) -> dict[str, Any]:
    """Exponents of images/s and GFLOP/img against px per stage; of seconds and peak RSS against MP per
    backend, with the peak RSS's linear growth in MiB per MP."""
    fits: dict[str, Any] = {"images_per_s": {}, "flops": {}, "seconds": {}, "peak_rss": {}, "mib_per_mp": {}}
    for stage, rows in _by(training, "stage").items():
        px = [row["image_size"] for row in rows]
        fits["images_per_s"][stage] = slopes(px, [row["images_per_s"] for row in rows])
        fits["flops"][stage] = fit_slope(px, [row["flops_per_image"] for row in rows])
    for backend, rows in _by(inference, "backend").items():
        mp = [row["megapixels"] for row in rows]
        fits["seconds"][backend] = slopes(mp, [row["seconds"] for row in rows])
        fits["peak_rss"][backend] = slopes(mp, [row["peak_rss_mib"] for row in rows])
        if len(set(mp)) >= 2:
            fits["mib_per_mp"][backend] = float(np.polyfit(mp, [row["peak_rss_mib"] for row in rows], 1)[0])
    return fits


def plot_curves(training: list[dict[str, Any]], inference: list[dict[str, Any]], fits: dict[str, Any],
                path: Path) -> Path:
    """Three log-log panels: training images/s vs px, inference seconds vs MP, peak RSS vs MP (a PNG)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    from colorgan.atomic import atomic_file

    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8), dpi=100)
    panels = [(axes[0], _by(training, "stage"), "image_size", "images_per_s", "images_per_s", "px",
               "training image size, px", "training images/s"),
              (axes[1], _by(inference, "backend"), "megapixels", "seconds", "seconds", "MP",
               "photo, megapixels", "seconds per photo, file → file"),
              (axes[2], _by(inference, "backend"), "megapixels", "peak_rss_mib", "peak_rss", "MP",
               "photo, megapixels", "process peak RSS, MiB")]
    plain = ticker.FuncFormatter(lambda value, _: f"{value:g}")
    for axis, groups, x_key, y_key, fit_key, unit, x_label, y_label in panels:
        xs = sorted({row[x_key] for rows in groups.values() for row in rows})
        for name, rows in groups.items():
            exponent = fits[fit_key].get(name, {}).get("exponent")
            label = STAGE_LABELS.get(name, name) + ("" if exponent is None else f" (∝ {unit}^{exponent:.2f})")
            axis.plot([row[x_key] for row in rows], [row[y_key] for row in rows], marker="o", markersize=4,
                      label=label)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xticks(xs, [f"{value:.0f}" if value >= 10 else f"{value:.2g}" for value in xs], fontsize=8)
        axis.xaxis.set_minor_formatter(ticker.NullFormatter())
        axis.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.yaxis.set_major_formatter(plain)
        axis.yaxis.set_minor_formatter(ticker.NullFormatter())
        axis.set_xlabel(x_label)
        axis.set_ylabel(y_label)
        axis.grid(alpha=0.3, which="both")
        axis.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, "wb") as handle:
        figure.savefig(handle, format="png")
    plt.close(figure)
    return path


def bench_curves(args: argparse.Namespace, work: Path, extra: tuple[str, ...],
                 progress: Callable[[str], None]) -> dict[str, Any]:
    """Both curves, their fitted exponents and the figure (written to --curves-plot)."""
    from colorgan.bench.inference import bench_inference
    from colorgan.bench.training import bench_training

    cuda = torch.cuda.is_available()
    sizes = args.curve_sizes or (QUICK_TRAIN_SIZES if args.quick else TRAIN_SIZES)
    photos = args.curve_photos or (QUICK_PHOTO_SIZES if args.quick else PHOTO_SIZES)
    batch = args.gpu_batch_size if cuda else args.cpu_batch_size
    repeats = 1 if args.quick else args.curve_repeats
    training = bench_training(args.encoders[0:1], sorted(sizes), batch, WARMUP, repeats, cuda=cuda,
                              extra=extra, progress=progress, discriminators=("light",))
    progress(f"inference curve: {len(photos)} photo sizes, {', '.join(BACKENDS)}")
    inference = bench_inference(work / "curves-inference", args.encoders[0], args.inference_size,
                                sorted(photos, key=lambda size: size[0] * size[1]),
                                repeats=1 if args.quick else 3, device="cpu", extra=list(extra),
                                fresh_process=not args.quick, backends=BACKENDS)
    for row in inference["rows"]:
        row["megapixels"] = row["width"] * row["height"] / 1e6
    fits = fit_all(training, inference["rows"])
    plot = args.curves_plot or (args.output.parent / DEFAULT_PLOT.name if args.quick else DEFAULT_PLOT)
    plot_curves(training, inference["rows"], fits, plot)
    for line in fit_lines(fits):
        progress(line)
    return {"device": "cuda" if cuda else "cpu", "encoder": args.encoders[0], "batch_size": batch,
            "warmup": WARMUP, "repeats": repeats, "training": training, "inference": inference,
            "fits": fits, "plot": str(plot),
            "plot_link": Path(os.path.relpath(plot.resolve(), args.output.parent.resolve())).as_posix()}


def _exponent(fit: dict[str, Any] | None) -> str:
    if not fit or fit["exponent"] is None:
        return "–"
    tail = fit["tail_exponent"]
    more = f" (^{tail:.2f} over the largest {fit['tail_points']})" if tail is not None and fit[
        "tail_points"] < fit["points"] else ""
    return f"^{fit['exponent']:.2f}{more}"


def fit_lines(fits: dict[str, Any]) -> list[str]:
    """The fitted exponents in words, one line per curve."""
    lines = [f"{STAGE_LABELS.get(stage, stage)} training images/s ∝ px{_exponent(fit)}"
             + (f"; GFLOP/img ∝ px^{fits['flops'][stage]:.2f}" if fits["flops"].get(stage) else "")
             for stage, fit in fits["images_per_s"].items()]
    for backend, fit in fits["seconds"].items():
        per_mp = fits["mib_per_mp"].get(backend)
        lines.append(f"{backend}: inference seconds ∝ MP{_exponent(fit)}; peak RSS ∝ MP"
                     f"{_exponent(fits['peak_rss'].get(backend))}"
                     + ("" if per_mp is None else f", {per_mp:+,.0f} MiB per MP ({per_mp * 2**20 / 1e6:+.1f} "
                        "bytes per pixel)"))
    return lines


def curves_section(curves: dict[str, Any]) -> list[str]:
    """The report's cost-curves heading, figure, the two tables and their fitted exponents."""
    from colorgan.bench.report import _number, pass_text, table

    fits, inference = curves["fits"], curves["inference"]
    train_rows = [[STAGE_LABELS.get(row["stage"], row["stage"]), row["image_size"],
                   _number(row["images_per_s"], 2), _number(row["step_s"], 2),
                   _number((row["flops_per_image"] or 0) / 1e9, 2)] for row in curves["training"]]
    photo_rows = [[row["backend"], f"{row['width']}×{row['height']}", f"{row['megapixels']:.2g}",
                   f"{row['seconds']:.3f}",
                   _number(row["peak_rss_mib"], 0) + ("" if row.get("peak_rss_exact") else " (since start)"),
                   _number(row["peak_rss_mib"] - row["loaded_rss_mib"], 0)
                   if row.get("loaded_rss_mib") is not None else "–"] for row in inference["rows"]]
    lines = fit_lines(fits)
    stages = len(fits["images_per_s"])
    backends = sorted({row["backend"] for row in inference["rows"]})
    missing = [name for name in BACKENDS if name not in backends]
    return ["## Cost curves", "",
            f"How cost grows with size (`--only curves`). ![cost curves]({curves['plot_link']})", "",
            f"Training: {curves['device']}, {curves['encoder']}, batch {curves['batch_size']}, median of "
            f"{curves['repeats']} step{'s' * (curves['repeats'] != 1)} after {curves['warmup']} warm-up, as "
            "in the training table. Exponents are least-squares slopes on log-log axes: "
            + "; ".join(lines[:stages]) + ".", "",
            table(["stage", "px", "images/s", "step s", "GFLOP/img"], train_rows), "",
            f"Inference: one gray JPEG in, one colorized JPEG out, per photo size, {inference['process']}, "
            f"{pass_text(inference)} (photos of one aspect ratio give the "
            "network the same input: what grows is decoding, the full-resolution merge and encoding); median "
            f"of {inference['rows'][0]['repeats']} after a warm-up, process peak RSS. "
            + "; ".join(lines[stages:]) + "."
            + (f" Not measured: {', '.join(missing)} (not installed)." if missing else ""), "",
            table(["backend", "photo", "MP", "seconds", "peak RSS MiB", "above loaded model MiB"],
                  photo_rows), ""]
