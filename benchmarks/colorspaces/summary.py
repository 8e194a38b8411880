"""The color-space study's summary: RESULTS.md (mean ± half-range over seeds, beside the baselines) and a
figure of the same test photos colorized in every space (called by study.py)."""

from __future__ import annotations

import argparse
import json
import os
import platform
from datetime import datetime
from pathlib import Path
from statistics import mean
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

#: sub-folders of the test split with fewer photos get no table of their own
MIN_GROUP = 5
STAGE_NAMES = {"stage1": "stage 1 (L1)", "stage2": "stage 2 (GAN)"}
#: (title, where in metrics.json, format); "|…|" columns take the absolute value first
COLUMNS = (
    ("ΔE00 ↓", ("model", "deltae00"), "{:.2f}"),
    ("× gray", ("ratio",), "{:.3f}"),
    ("PSNR ↑", ("model", "psnr"), "{:.2f}"),
    ("SSIM ↑", ("model", "ssim"), "{:.3f}"),
    ("AuC ↑", ("model", "ab_auc"), "{:.3f}"),
    ("CF", ("color", "colorfulness_hs"), "{:.1f}"),
    ("\\|ΔCF\\| ↓", ("abs", "color", "delta_colorfulness_hs"), "{:.1f}"),
    ("\\|ΔCF abs\\| ↓", ("abs", "color", "delta_colorfulness_abs"), "{:.1f}"),
    ("Δa*", ("color", "delta_a"), "{:+.2f}"),
    ("Δb*", ("color", "delta_b"), "{:+.2f}"),
    ("sat. ratio", ("color", "saturation_ratio"), "{:.2f}"),
    ("hue overlap ↑", ("color", "hue_overlap"), "{:.3f}"),
)


def _value(metrics: dict[str, Any], path: tuple[str, ...], method: str = "model") -> float | None:
    if path[0] == "abs":
        value = _value(metrics, path[1:], method)
        return None if value is None else abs(value)
    if path == ("ratio",):
        return _value(metrics, ("model", "deltae00"), method) / metrics["baselines"]["gray"]["deltae00"]
    if path[0] == "model":
        node = metrics["model"] if method == "model" else metrics["baselines"][method]
        return node.get(path[1])
    return metrics["color"][method].get(path[1])


def _cell(values: list[float | None], fmt: str) -> str:
    present = [value for value in values if value is not None]
    if not present:
        return "–"
    text = fmt.format(mean(present))
    if len(present) > 1:
        text += " ± " + fmt.format((max(present) - min(present)) / 2).lstrip("+")
    return text


def load_metrics(work: Path, spaces: list[str], seeds: list[int]) -> dict[tuple[str, str], list[dict]]:
    """{(space, stage): [metrics.json of each seed that has one]}."""
    found: dict[tuple[str, str], list[dict]] = {}
    for space in spaces:
        for stage in STAGE_NAMES:
            for seed in seeds:
                path = work / f"{space}-seed{seed}" / stage / "eval_test" / "metrics.json"
                if path.is_file():
                    found.setdefault((space, stage), []).append(json.loads(path.read_text()))
    return found


def table(found: dict[tuple[str, str], list[dict]], group: str | None = None) -> list[str]:
    """Markdown rows: one per (space, stage), then the gray and mean-chroma baselines."""
    header = "| space | stage | seeds | " + " | ".join(title for title, _, _ in COLUMNS) + " |"
    lines = [header, "|" + "---|" * (3 + len(COLUMNS))]

    def scoped(metrics: dict) -> dict:
        return metrics if group is None else metrics["groups"][group]

    reference = None
    for (space, stage), runs in found.items():
        runs = [scoped(run) for run in runs if group is None or group in run.get("groups", {})]
        if not runs:
            continue
        reference = reference or runs[0]
        cells = [_cell([_value(run, path) for run in runs], fmt) for _, path, fmt in COLUMNS]
        lines.append(f"| {space} | {STAGE_NAMES[stage]} | {len(runs)} | " + " | ".join(cells) + " |")
    for method, title in (("gray", "gray (do nothing)"), ("mean_chroma", "mean chroma of train")):
        if reference is not None:
            cells = [_cell([_value(reference, path, method)], fmt) for _, path, fmt in COLUMNS]
            lines.append(f"| {title} | baseline | – | " + " | ".join(cells) + " |")
    return lines


def _train_minutes(work: Path, spaces: list[str], seeds: list[int]) -> list[float]:
    files = [work / f"{space}-seed{seed}" / f"{stage}_train_seconds.txt" for space in spaces for seed in seeds
             for stage in STAGE_NAMES]
    return [float(path.read_text()) / 60 for path in files if path.is_file()]


def _label(canvas: np.ndarray, texts: list[tuple[int, int, str]]) -> np.ndarray:
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    for x, y, text in texts:
        draw.text((x, y), text, fill=(0, 0, 0))
    return np.asarray(image)


def figure(args: argparse.Namespace, path: Path, size: int = 160) -> bool:
    """Test photos (rows: photo × stage) as truth, gray and each space's first-seed model; False if no run."""
    from colorgan.grids import letterbox, tile
    from colorgan.inference import Colorizer, resolve_checkpoint
    from colorgan.samples import folder_samples

    seed = args.seeds[0]
    stages = {}
    for stage in STAGE_NAMES:
        for space in args.spaces:
            run = args.work / f"{space}-seed{seed}" / stage
            if (run / "metrics.json").is_file():
                colorizer = Colorizer.from_checkpoint(resolve_checkpoint(run), device="cpu")
                stages.setdefault(stage, {})[space] = colorizer
    if not stages:
        return False
    samples = folder_samples(args.photos / "test")
    picks = [samples[round(i * (len(samples) - 1) / max(1, args.figure_photos - 1))]
             for i in range(args.figure_photos)]
    rows, captions = [], []
    for sample in picks:
        photo = Image.fromarray(sample.load())
        photo.thumbnail((size * 3 // 2, size), Image.Resampling.LANCZOS)  # fits the tile, aspect kept
        truth = np.asarray(photo)
        gray = np.asarray(Image.fromarray(truth).convert("L").convert("RGB"))
        for stage, colorizers in stages.items():
            blank = np.full_like(truth, 255)
            outputs = [np.asarray(colorizers[space].colorize(gray)) if space in colorizers else blank
                       for space in args.spaces]
            rows.append([letterbox(image, size, size * 3 // 2) for image in (truth, gray, *outputs)])
            captions.append(f"{sample.name}: {STAGE_NAMES[stage]}")
    caption = 14
    canvas = tile(rows, gap=3, top=16, caption_height=caption)
    width = size * 3 // 2 + 3
    texts = [(4 + i * width, 2, name) for i, name in enumerate(["truth", "gray", *args.spaces])]
    y = 16
    for text in captions:
        texts.append((4, y + 1, text))
        y += caption + size + 3
    Image.fromarray(_label(canvas, texts)).save(path)
    return True


def write_summary(args: argparse.Namespace, command: str, seconds: float) -> None:
    """Write args.results (and args.figure) from the run folders under args.work."""
    found = load_metrics(args.work, args.spaces, args.seeds)
    if not found:
        raise SystemExit(f"no evaluated run under {args.work}")
    any_run = next(iter(found.values()))[0]
    minutes = _train_minutes(args.work, args.spaces, args.seeds)
    lines = [
        "# Which color space? The study's figures",
        "",
        f"Written by `{command}` on {datetime.now():%Y-%m-%d %H:%M} (this call: {seconds / 60:.0f} min; "
        f"training {sum(minutes):.0f} min in all, {args.jobs} runs side by side on "
        f"{max(1, (os.cpu_count() or 1) // args.jobs)}-thread slices of this machine: "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}).",
        "",
        f"- **Data**: the photo set of `benchmarks/photoset/build.py` ({args.photos}): trained on train/, "
        f"scored on test/ ({any_run['num_images']} photos, never seen in training, full resolution up to "
        "512 px on the long side).",
        f"- **Training**: per space and seed, stage 1 {args.stage1_steps} steps, then stage 2 (`model=gan "
        f"model.init_from=RUN/stage1`) {args.stage2_steps} steps from stage 1's best checkpoint; "
        f"{args.image_size} px, batch {args.batch_size}, seeds {', '.join(map(str, args.seeds))}; everything "
        "else the defaults"
        + (f", plus `{' '.join(args.overrides)}`" if args.overrides else "") + ".",
        "- **Figures**: mean ± half the range over seeds of each run's best checkpoint (the one `colorize "
        "RUN` uses), scored by `colorgan.evaluate` (README \"Metrics\"); CF = Hasler–Süsstrunk colorfulness "
        f"(truth {any_run['color']['model']['colorfulness_hs_true']:.1f}), ΔCF = predicted − true, "
        "\"abs\" = the variant of CT2/ColorFormer/DDColor; Δa*, Δb* = mean predicted − true (a cast), "
        "saturation ratio = mean predicted ÷ true chroma, hue overlap = overlap of the hue histograms.",
        "",
        "## All test photos",
        "",
        *table(found),
    ]
    groups = sorted(any_run.get("groups", {}))
    for group in groups:
        count = any_run["groups"][group]["num_images"]
        if count >= MIN_GROUP:
            lines += ["", f"## {group} ({count} photos)", "", *table(found, group)]
        else:
            lines += ["", f"({group}: {count} test photos, too few for a table of their own.)"]
    if figure(args, args.figure):
        lines += ["", f"Figure: `{args.figure.name}` (docs/), same test photos, first seed, each stage's "
                  "best checkpoint."]
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text("\n".join(lines) + "\n")
