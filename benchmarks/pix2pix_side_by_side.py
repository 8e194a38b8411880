"""pix2pix's colorization mode (its own model code) against colorgan's stage 1 and stage 2, side by side.

    python benchmarks/pix2pix_side_by_side.py --pix2pix-dir ~/src/pytorch-CycleGAN-and-pix2pix

pix2pix (https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix) is not part of colorgan: clone it and
point --pix2pix-dir at the checkout (its requirements: torch, torchvision, scikit-image, which colorgan's
environment has). Its model is built the way its train.py builds ``--model colorization`` (its own option
classes and defaults: U-Net G with batch norm, 70×70 PatchGAN D, vanilla GAN loss, λ_L1 = 100, L -> ab),
on the CPU, and fed in-memory batches in its colorization dataset's format (L/50 - 1, ab/110 of random RGB
images); one step is ``set_input`` + ``optimize_parameters``. colorgan's steps come from its bench
(`colorgan.bench.training.train_throughput`: Lightning's whole step, default model, random encoder
weights). pix2pix's U-Nets fix the input size: ``unet_256`` (8 halvings) needs a multiple of 256 px,
``unet_128`` (7) a multiple of 128, so sizes that are multiples of 256 use unet_256 (its default) and the
other multiples of 128 use unet_128 (as the 128-px figures of issue 9 did: G+D 44.6 M parameters).

Every measurement runs in a fresh Python process (this script with ``--one KIND SIZE``, printing JSON);
kinds alternate run by run (pix2pix, stage 1, stage 2, then again, ``--rounds`` times), each measurement
is the median of ``--repeats`` steps after ``--warmup`` steps, and the table shows the median over rounds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from colorgan.bench import int_list, json_from_process

KINDS = ("pix2pix", "pix2pix-kept", "stage1", "stage1-frozen", "stage2")
LABELS = {"pix2pix": "pix2pix", "pix2pix-kept": "pix2pix, malloc keeping freed memory",
          "stage1": "colorgan stage 1",
          "stage1-frozen": "colorgan stage 1, encoder frozen", "stage2": "colorgan stage 2"}
STAGES = {"stage1": "unet", "stage1-frozen": "unet", "stage2": "gan"}
#: config overrides of a kind: stage 1 as its config runs its first 500 steps (`model.freeze_encoder_steps`)
EXTRA = {"stage1-frozen": ("model.freeze_encoder_steps=-1",)}
ENCODER = "efficientnet_lite0"
#: files a pix2pix checkout must hold for this script (its colorization model, options and dataset)
PIX2PIX_FILES = ("models/colorization_model.py", "models/pix2pix_model.py", "models/networks.py",
                 "options/train_options.py", "data/colorization_dataset.py")
#: issue 9's targets: (label, kind, against, least ratio of images/s)
TARGETS = (("stage 1 ≥ 3× pix2pix", "stage1", "pix2pix", 3.0),
           ("stage 1 ≥ 3× pix2pix, encoder frozen", "stage1-frozen", "pix2pix", 3.0),
           ("stage 2 ≥ 2× pix2pix", "stage2", "pix2pix", 2.0),
           ("stage 2 ≥ 0.5× stage 1", "stage2", "stage1", 0.5))


class UsageError(ValueError):
    """A problem the user can fix; reported as one ``error:`` line, exit status 2."""


class MeasurementError(RuntimeError):
    """A measurement's process failed; reported as one ``error:`` line (its last stderr line), exit 1."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--pix2pix-dir", type=Path, required=True, help="a checkout of pix2pix's repository")
    parser.add_argument("--sizes", type=int_list, default=[128, 256], help="image sizes, px")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median reported)")
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per measurement (median)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/pix2pix_side_by_side.md"))
    parser.add_argument("--one", nargs=2, metavar=("KIND", "SIZE"), default=None,
                        help=f"internal: one measurement ({', '.join(KINDS)}), JSON on stdout")
    args = parser.parse_args(argv)
    if min(args.rounds, args.repeats, args.batch_size) < 1 or args.warmup < 0:
        parser.error("--rounds, --repeats and --batch-size must be >= 1, --warmup >= 0")
    if args.one and args.one[0] not in KINDS:
        parser.error(f"--one: KIND must be one of {', '.join(KINDS)}")
    return args


def check_pix2pix_dir(folder: Path) -> Path:
    """The checkout's absolute path, or a `UsageError` naming what is missing."""
    missing = [name for name in PIX2PIX_FILES if not (folder / name).is_file()]
    if missing:
        raise UsageError(f"--pix2pix-dir {folder} does not hold pix2pix's code (no {missing[0]}): clone "
                         "https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix and pass its folder")
    return folder.resolve()


def pix2pix_netg(size: int) -> str:
    """pix2pix's U-Net for ``size`` px: unet_256 for multiples of 256, unet_128 for other multiples of 128."""
    if size % 256 == 0:
        return "unet_256"
    if size % 128 == 0:
        return "unet_128"
    raise UsageError(f"{size} px: pix2pix's U-Nets need a multiple of 128 px (unet_128) or 256 px (unet_256)")


def pix2pix_model(folder: Path, size: int, batch_size: int) -> tuple[Any, Any]:
    """(model, options) of pix2pix's ``--model colorization``, as its train.py builds them, on the CPU."""
    sys.path.insert(0, str(folder))
    import models  # pix2pix's packages, from the checkout
    from options.train_options import TrainOptions

    argv = ["train.py", "--dataroot", "unused", "--model", "colorization", "--gpu_ids", "-1",
            "--netG", pix2pix_netg(size), "--batch_size", str(batch_size), "--crop_size", str(size),
            "--load_size", str(size)]
    saved, sys.argv = sys.argv, argv
    try:  # its own option classes: the model's and the dataset's defaults, as TrainOptions().parse() sets
        opt = TrainOptions().gather_options()
    finally:
        sys.argv = saved
    opt.isTrain, opt.gpu_ids = True, []  # what parse() does, without writing train_opt.txt
    model = models.create_model(opt)
    model.setup(opt)
    return model, opt


def pix2pix_batches(count: int, batch_size: int, size: int, seed: int = 0) -> list[dict[str, Any]]:
    """Random RGB images as pix2pix's colorization dataset returns them, collated (A = L/50 - 1,
    B = ab/110)."""
    import numpy as np
    import torch
    from skimage import color

    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(count):
        rgb = rng.integers(0, 256, (batch_size, size, size, 3), dtype=np.uint8)
        lab = torch.from_numpy(np.stack([color.rgb2lab(image) for image in rgb]).astype(np.float32))
        lab = lab.permute(0, 3, 1, 2).contiguous()
        paths = [f"random-{index}.png" for index in range(batch_size)]
        batches.append({"A": lab[:, :1] / 50.0 - 1.0, "B": lab[:, 1:] / 110.0, "A_paths": paths,
                        "B_paths": paths})
    return batches


def time_pix2pix(folder: Path, size: int, batch_size: int, warmup: int, repeats: int) -> dict[str, Any]:
    """Images/s of pix2pix's training step (median of ``repeats`` after ``warmup``), G+D parameters."""
    with contextlib.redirect_stdout(sys.stderr):  # its model printouts; stdout carries the JSON only
        model, opt = pix2pix_model(folder, size, batch_size)
        batches = pix2pix_batches(warmup + repeats, batch_size, size)
        seconds = []
        for batch in batches:
            started = time.perf_counter()
            model.set_input(batch)
            model.optimize_parameters()
            seconds.append(time.perf_counter() - started)
    params = sum(p.numel() for net in (model.netG, model.netD) for p in net.parameters()) / 1e6
    step_s = statistics.median(seconds[warmup:])
    return {"images_per_s": batch_size / step_s, "step_s": step_s, "parameters_m": params,
            "net": f"{opt.netG} + {opt.netD} D"}


def time_colorgan(kind: str, size: int, batch_size: int, warmup: int, repeats: int) -> dict[str, Any]:
    """Images/s of colorgan's training step, from its bench (default model and settings, random encoder
    weights, the encoder trained unless ``kind`` freezes it)."""
    import logging

    from colorgan.bench.training import train_throughput

    logging.getLogger("pytorch_lightning").setLevel(logging.WARNING)
    with contextlib.redirect_stdout(sys.stderr):
        row = train_throughput(ENCODER, STAGES[kind], size, batch_size, warmup, repeats, cuda=False,
                               extra=EXTRA.get(kind, ()))
    return {"images_per_s": row["images_per_s"], "step_s": row["step_s"],
            "parameters_m": row["parameters_m"], "net": f"{ENCODER} U-Net"}


def run_one(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--one KIND SIZE`` measurement of this process."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    kind, size = args.one[0], int(args.one[1])
    if kind == "pix2pix-kept":  # colorgan's CPU default (`keep_freed_memory: auto`) given to pix2pix too
        from colorgan.allocator import keep_freed_memory

        keep_freed_memory()
    if kind.startswith("pix2pix"):
        result = time_pix2pix(check_pix2pix_dir(args.pix2pix_dir), size, args.batch_size, args.warmup,
                              args.repeats)
    else:
        result = time_colorgan(kind, size, args.batch_size, args.warmup, args.repeats)
    return {"kind": kind, "size": size, "threads": torch.get_num_threads(), **result}


def measure_in_subprocess(args: argparse.Namespace, kind: str, size: int) -> dict[str, Any]:
    """One measurement in a fresh Python process (this script with ``--one``); its JSON line."""
    command = [sys.executable, str(Path(__file__).resolve()), "--one", kind, str(size),
               "--pix2pix-dir", str(args.pix2pix_dir), "--batch-size", str(args.batch_size),
               "--repeats", str(args.repeats), "--warmup", str(args.warmup)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    try:
        return json_from_process(command, f"{kind} at {size} px")
    except RuntimeError as error:
        raise MeasurementError(str(error)) from None


def run_rounds(args: argparse.Namespace,
               measure: Callable[[str, int], dict[str, Any]]) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """size -> kind -> one result per round; kinds alternate within each round."""
    results: dict[int, dict[str, list[dict[str, Any]]]] = {}
    for size in args.sizes:
        results[size] = {kind: [] for kind in KINDS}
        for round_index in range(args.rounds):
            for kind in KINDS:
                result = measure(kind, size)
                results[size][kind].append(result)
                print(f"[{time.strftime('%H:%M:%S')}] {size} px, round {round_index + 1}/{args.rounds}, "
                      f"{kind}: {result['images_per_s']:.2f} img/s", file=sys.stderr, flush=True)
    return results


def _median_rate(runs: list[dict[str, Any]]) -> float:
    return statistics.median(run["images_per_s"] for run in runs)


def render(results: dict[int, dict[str, list[dict[str, Any]]]], info: dict[str, Any]) -> str:
    """The Markdown report: machine and command, the side-by-side table, targets, every round."""
    from colorgan.bench.report import table

    main_rows, target_rows, round_rows = [], [], []
    for size, kinds in results.items():
        rate = {kind: _median_rate(runs) for kind, runs in kinds.items()}
        params = " / ".join(f"{kinds[kind][0]['parameters_m']:.1f}"
                            for kind in ("pix2pix", "stage1", "stage2"))
        main_rows.append([size, f"{rate['pix2pix']:.2f}",
                          f"{rate['pix2pix-kept']:.2f} ({rate['stage1'] / rate['pix2pix-kept']:.2f}×)",
                          f"{rate['stage1']:.2f} ({rate['stage1'] / rate['pix2pix']:.2f}×)",
                          f"{rate['stage1-frozen']:.2f} ({rate['stage1-frozen'] / rate['pix2pix']:.2f}×)",
                          f"{rate['stage2']:.2f} ({rate['stage2'] / rate['pix2pix']:.2f}×, "
                          f"{rate['stage2'] / rate['stage1']:.2f}×)",
                          f"{params} ({kinds['pix2pix'][0]['net']})"])
        for label, kind, against, ratio in TARGETS:
            measured = rate[kind] / rate[against]
            target_rows.append([f"{label}, {size} px", f"{measured:.2f}×",
                                "met" if measured >= ratio else "**not met**"])
        round_rows += [[size, LABELS[kind], *(f"{run['images_per_s']:.2f}" for run in runs)]
                       for kind, runs in kinds.items()]
    rounds = len(next(iter(results.values()))["pix2pix"])
    return "\n".join([
        "# pix2pix's colorization mode vs colorgan, side by side", "",
        f"Made by `{info['command']}` on {info['date']} in {info['elapsed_s']:.0f} s.", "",
        table(["CPU", "cores", "torch threads", "load avg before → after (1/5/15 min)", "torch", "pix2pix"],
              [[info["cpu"], info["cores"], info["threads"], f"{info['load_before']} → {info['load_after']}",
                info["torch"], info["pix2pix"]]]), "",
        f"Batch {info['batch_size']}, CPU, in-memory random images; each figure is the median over "
        f"{rounds} round(s) of the median of {info['repeats']} step(s) after {info['warmup']} warm-up "
        "step(s), "
        "each measurement in a fresh process, the kinds alternating. pix2pix: its own `--model "
        "colorization` (`set_input` + `optimize_parameters`, batches already in its Lab format); colorgan: "
        f"Lightning's whole step ({ENCODER}, its RGB→Lab conversion included) with its default settings "
        "(channels_last on), the encoder trained as pix2pix trains its whole G; \"encoder frozen\": stage 1 "
        "as its config runs the first 500 steps (`model.freeze_encoder_steps`); stage 2 with its default D. "
        "colorgan's CPU default `keep_freed_memory: auto` (glibc's malloc keeps freed memory instead of "
        "unmapping every large tensor) is on in its runs; pix2pix as it ships does not have it, so the "
        "\"pix2pix, malloc keeping freed memory\" column gives pix2pix the same setting, for the ratio "
        "of the two networks alone.",
        "",
        table(["px", "pix2pix img/s", "pix2pix, malloc keeping freed memory (stage 1 × it)",
               "stage 1 img/s (× pix2pix)", "stage 1, encoder frozen (× pix2pix)",
               "stage 2 img/s (× pix2pix, × stage 1)",
               "params M (pix2pix G+D / stage 1 / stage 2)"], main_rows), "",
        "## Issue 9's targets", "", table(["target", "measured", ""], target_rows), "",
        "## Every round (img/s)", "",
        table(["px", "kind", *(f"round {index + 1}" for index in range(rounds))], round_rows), ""])


def checkout_version(folder: Path) -> str:
    """The checkout's commit, or a note that it is not a git checkout."""
    done = subprocess.run(["git", "-C", str(folder), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else "not a git checkout"


def run(args: argparse.Namespace, argv: Sequence[str]) -> None:
    """Check the checkout and sizes, run every round, write and print the report."""
    import torch

    from colorgan.bench.machine import machine_info

    args.pix2pix_dir = check_pix2pix_dir(args.pix2pix_dir)
    for size in args.sizes:
        pix2pix_netg(size)
    started, machine = time.perf_counter(), machine_info()
    results = run_rounds(args, lambda kind, size: measure_in_subprocess(args, kind, size))
    info = {"command": "python benchmarks/pix2pix_side_by_side.py " + shlex.join(argv),
            "date": datetime.now().strftime("%Y-%m-%d %H:%M"), "elapsed_s": time.perf_counter() - started,
            "cpu": machine["cpu"], "cores": machine["cores"], "torch": torch.__version__,
            "threads": f"{results[args.sizes[0]]['pix2pix'][0]['threads']}"
                       + ("" if args.threads else " (torch's default)"),
            "load_before": machine.get("load_average"),
            "load_after": [round(value, 2) for value in os.getloadavg()] if hasattr(os, "getloadavg")
            else None,
            "pix2pix": checkout_version(args.pix2pix_dir), "batch_size": args.batch_size,
            "repeats": args.repeats, "warmup": args.warmup}
    report = render(results, info)
    print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 when done, 2 with one ``error:`` line for a problem the user can fix."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    try:
        if args.one:
            print(json.dumps(run_one(args)), flush=True)
        else:
            run(args, argv)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except MeasurementError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
