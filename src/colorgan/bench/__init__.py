"""`python -m colorgan.bench`: loader, training and inference benchmarks -> a table and benchmarks/RESULTS.md.

Measures, on this machine: data loader images/s from JPEG photos vs the prepared cache; training images/s
of stage 1 and stage 2 for two encoders at two sizes, on the CPU and (when present) the GPU, with model
FLOPs and the share of the GPU's bf16 peak; latency and peak memory of colorizing a 256×256 and a
4000×3000 photo file. ``--only curves`` (not in the default set) measures how cost grows: training images/s
from 64 to 512 px and inference seconds and peak memory from 0.06 to 48 MP, with fitted log-log exponents
and a figure (docs/cost_curves.png). ``--only levers`` (not in the default set either) times stage 1 on
the CPU with each lever of issue 9 against the fp32 baseline: channels_last, bf16-mixed, torch.compile, one
thread, a narrower and a wider decoder. ``--quick`` runs everything at tiny sizes in seconds (for CI; figures
meaningless).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from colorgan.bench.machine import machine_info
from colorgan.bench.report import render

# --quick shrinks the networks with the tests' config shrink (conf/debug/tiny.yaml: decoder widths, and the
# discriminator for stage 2); the bench's own encoder/size/batch overrides still apply
QUICK_OVERRIDES = ("debug=tiny",)


def _size_pair(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, e.g. 1600x1200, got {text!r}") from error
    return width, height


def int_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from error


def json_from_process(command: list[str], what: str) -> dict[str, Any]:
    """The last JSON line a measurement printed in its own process (``command``); a `RuntimeError` naming
    ``what``, the exit status and the process's last stderr line when it failed."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {tail}")
    return json.loads(lines[-1])


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="colorgan-bench", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds (CI smoke run)")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/RESULTS.md"), help="Markdown report")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw results as JSON here")
    parser.add_argument("--work-dir", type=Path, default=None, help="scratch folder (default: a temp dir)")
    parser.add_argument("--only", default="loaders,training,flops,inference",
                        help="comma-separated sections to run: loaders, training, flops, inference, curves, "
                             "levers")
    parser.add_argument("--sizes", type=int_list, default=[128, 256], help="training image sizes, px")
    parser.add_argument("--encoders", default="efficientnet_lite0,resnet34",
                        help="encoder configs to train (the first is the default model)")
    parser.add_argument("--cpu-batch-size", type=int, default=4, help="training batch on the CPU")
    parser.add_argument("--gpu-batch-size", type=int, default=128, help="training batch on the GPU")
    parser.add_argument("--discriminators", default="light",
                        help="stage-2 discriminators to time, comma-separated: light (default), pix2pix")
    parser.add_argument("--warmup", type=int, default=2, help="untimed training steps first")
    parser.add_argument("--repeats", type=int, default=5, help="timed training steps (median reported)")
    parser.add_argument("--no-cpu-training", action="store_true", help="train on the GPU only (if present)")
    parser.add_argument("--compile", action="store_true", help="GPU: also time torch.compile'd networks")
    parser.add_argument("--photos", type=int, default=48, help="photos in the loader benchmark folder")
    parser.add_argument("--photo-size", type=_size_pair, default=(1600, 1200), help="their size, WxH")
    parser.add_argument("--cache-size", type=int, default=256, help="short side of the prepared cache")
    parser.add_argument("--workers", type=int, default=None, help="loader workers (default: every core)")
    parser.add_argument("--loader-seconds", type=float, default=4.0, help="timed seconds per loader")
    parser.add_argument("--inference-size", type=int, default=256, help="model's working short side, px")
    from colorgan.bench.curves import add_arguments as add_curve_arguments

    add_curve_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.encoders, args.cpu_batch_size, args.gpu_batch_size = [32], "tiny", 2, 4
        args.warmup, args.repeats, args.photos, args.photo_size = 1, 1, 6, (160, 120)
        args.cache_size, args.workers, args.loader_seconds, args.inference_size = 48, 0, 0.0, 32
    args.encoders = [name for name in args.encoders.split(",") if name]
    args.only = {name for name in args.only.split(",") if name}
    if unknown := args.only - {"loaders", "training", "flops", "inference", "curves", "levers"}:
        parser.error(f"--only: unknown sections {sorted(unknown)}")
    from colorgan.bench.training import DISCRIMINATORS

    args.discriminators = tuple(name for name in args.discriminators.split(",") if name)
    if unknown := set(args.discriminators) - set(DISCRIMINATORS):
        parser.error(f"--discriminators: unknown {sorted(unknown)}; choose from {', '.join(DISCRIMINATORS)}")
    if args.repeats < 1 or args.warmup < 0:
        parser.error("--repeats must be >= 1 and --warmup >= 0")
    return args


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Run the chosen sections; returns the results (plain data)."""
    from colorgan.bench.inference import bench_inference
    from colorgan.bench.loading import bench_loaders
    from colorgan.bench.training import bench_training

    def progress(message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    logging.getLogger("pytorch_lightning").setLevel(logging.WARNING)  # one Trainer per measurement
    cuda = torch.cuda.is_available()
    workers = os.cpu_count() or 1 if args.workers is None else args.workers
    extra = QUICK_OVERRIDES if args.quick else ()
    results: dict[str, Any] = {"machine": machine_info(), "settings": {
        "quick": args.quick, "sizes": args.sizes, "encoders": args.encoders, "warmup": args.warmup,
        "repeats": args.repeats, "target_size": 128 if 128 in args.sizes else args.sizes[0]}}
    if "loaders" in args.only:
        progress("data loaders: photo folder vs prepared cache")
        results["loaders"] = bench_loaders(work / "loaders", args.sizes, args.photos, args.photo_size,
                                           args.cache_size, batch_size=32 if not args.quick else 4,
                                           workers=workers, items=512 if not args.quick else 8,
                                           min_seconds=args.loader_seconds)
    if "training" in args.only:
        rows = []
        if not (args.no_cpu_training and cuda):
            rows += bench_training(args.encoders, args.sizes, args.cpu_batch_size, args.warmup, args.repeats,
                                   cuda=False, extra=extra, progress=progress,
                                   discriminators=args.discriminators)
        if cuda:
            rows += bench_training(args.encoders, args.sizes, args.gpu_batch_size, args.warmup, args.repeats,
                                   cuda=True, compiled=args.compile, extra=extra, progress=progress,
                                   discriminators=args.discriminators)
        results["training"] = rows
    if "flops" in args.only:
        from colorgan.bench.flops import bench_flops

        results["flops"] = bench_flops(args.encoders[0], args.sizes, extra, progress=progress)
    if "inference" in args.only:
        sizes = [(64, 64), (400, 300)] if args.quick else [(256, 256), (4000, 3000)]
        devices = ["cpu", "cuda"] if cuda else ["cpu"]
        for device in devices:
            progress(f"inference on {device}")
            key = "inference" if device == "cpu" else "inference_cuda"
            results[key] = bench_inference(work / f"inference-{device}", args.encoders[0],
                                           args.inference_size, sizes, repeats=1 if args.quick else 3,
                                           device=device, extra=list(extra), fresh_process=not args.quick)
    if "curves" in args.only:
        from colorgan.bench.curves import bench_curves

        results["curves"] = bench_curves(args, work, extra, progress)
    if "levers" in args.only:
        from colorgan.bench.levers import bench_levers, quick_skip

        results["levers"] = bench_levers(args.encoders[0], args.sizes, args.cpu_batch_size, args.warmup,
                                         args.repeats, extra, progress,
                                         skip=quick_skip() if args.quick else None)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: run, print the report, write it to --output (and --json)."""
    args = parse_args(argv)
    started = time.perf_counter()
    command = "python -m colorgan.bench " + shlex.join(sys.argv[1:] if argv is None else list(argv))
    with tempfile.TemporaryDirectory(prefix="colorgan-bench-") as scratch:
        work = args.work_dir or Path(scratch)
        results = run(args, work)
    results["command"] = command.strip()
    results["date"] = datetime.now().strftime("%Y-%m-%d %H:%M")
    results["elapsed_s"] = time.perf_counter() - started
    if hasattr(os, "getloadavg"):
        results["load_average_end"] = [round(value, 2) for value in os.getloadavg()]
    report = render(results)
    print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report + "\n")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str) + "\n")
