"""The color-space study: both stages in every color space, several seeds, scored on held-out real photos.

    python benchmarks/photoset/build.py                 # the real photos (once; ~1 min)
    python benchmarks/colorspaces/study.py              # ~1.5 h on 2 CPU cores -> RESULTS.md here

For each space and seed, `python -m colorgan.train` trains stage 1 into RUN/stage1, and (once every stage 1
is done) `python -m colorgan.train model=gan model.init_from=RUN/stage1` trains stage 2 from stage 1's best
checkpoint into RUN/stage2: same data, steps, batch and seed for every space. `python -m colorgan.evaluate`
then scores each stage's best checkpoint on the test split (full-resolution protocol; the photo set caps the
long side at 512 px), the mean-chroma baseline's constant taken from the training photos. ``--jobs`` runs go
side by side, each with cores/jobs threads. A finished step (a run's metrics.json, an evaluation's
metrics.json) is skipped when the command is repeated, so an interrupted study resumes; ``--summary-only``
rewrites RESULTS.md and the figure from what is there. The summary is written by `summary.py`.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from summary import write_summary  # noqa: E402  (this folder's own module)

SPACES = ("lab", "luv", "yuv", "ycbcr", "hsv", "rgb")
STAGES = ("stage1", "stage2")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--photos", type=Path, default=Path("~/.cache/colorgan/photoset"),
                        help="photo set with train/ and test/ (benchmarks/photoset/build.py)")
    parser.add_argument("--work", type=Path, default=Path("~/.cache/colorgan/colorspace-study"),
                        help="run folders")
    parser.add_argument("--spaces", default=",".join(SPACES))
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--stage1-steps", type=int, default=300)
    parser.add_argument("--stage2-steps", type=int, default=150)
    parser.add_argument("--stages", default="stage1,stage2", help="stages to train and evaluate")
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=2, help="runs side by side")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="more training overrides for every run (repeatable)")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--figure", type=Path, default=HERE.parent.parent / "docs" / "colorspace_study.png")
    parser.add_argument("--figure-photos", type=int, default=4, help="test photos in the figure")
    parser.add_argument("--summary-only", action="store_true", help="only rewrite RESULTS.md and the figure")
    args = parser.parse_args(argv)
    args.photos, args.work = args.photos.expanduser(), args.work.expanduser()
    args.spaces = [space for space in args.spaces.split(",") if space]
    args.seeds = [int(seed) for seed in args.seeds.split(",") if seed]
    args.stages = [stage for stage in args.stages.split(",") if stage]
    if unknown := set(args.stages) - set(STAGES):
        parser.error(f"--stages: unknown {sorted(unknown)}; choose from {', '.join(STAGES)}")
    if unknown := set(args.spaces) - set(SPACES):
        parser.error(f"--spaces: unknown {sorted(unknown)}; choose from {', '.join(SPACES)}")
    for split in ("train", "test"):
        if not (args.photos / split).is_dir():
            parser.error(f"--photos: no {split}/ folder in {args.photos} (run benchmarks/photoset/build.py)")
    return args


def train_command(args: argparse.Namespace, space: str, seed: int, run_dir: Path, stage: str) -> list[str]:
    """The training command of one (space, seed, stage) into run_dir/stage; stage 2 starts from stage 1."""
    steps = args.stage1_steps if stage == "stage1" else args.stage2_steps
    model = [] if stage == "stage1" else ["model=gan", f"model.init_from={run_dir / 'stage1'}"]
    return [
        sys.executable, "-m", "colorgan.train", *model, f"colorspace={space}", f"seed={seed}",
        "data=folder", f"data.root={args.photos / 'train'}", f"data.batch_size={args.batch_size}",
        "data.num_workers=0", f"image_size={args.image_size}", "trainer.max_epochs=-1",
        f"trainer.max_steps={steps}", "logger=csv", "trainer.enable_progress_bar=false",
        f"hydra.run.dir={run_dir / stage}", *args.overrides,
    ]


def evaluate_command(args: argparse.Namespace, stage_dir: Path) -> list[str]:
    return [sys.executable, "-m", "colorgan.evaluate", str(stage_dir), "--data", str(args.photos / "test"),
            "--mean-from", str(args.photos / "train"), "--quiet", "-o", str(stage_dir / "eval_test")]


def run_logged(command: list[str], log: Path, threads: int) -> float:
    """Run a command with ``threads`` intra-op threads, output into ``log``; returns its seconds."""
    env = os.environ | {"OMP_NUM_THREADS": str(threads), "WANDB_MODE": "disabled", "HYDRA_FULL_ERROR": "1"}
    started = time.perf_counter()
    with log.open("a") as out:
        out.write(f"$ {shlex.join(command)}\n")
        out.flush()
        status = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env, check=False)
    status = status.returncode
    if status != 0:
        raise RuntimeError(f"exit {status}: {shlex.join(command)} (log: {log})")
    return time.perf_counter() - started


def one_run(args: argparse.Namespace, space: str, seed: int, stage: str, threads: int) -> str:
    """Train (unless done) and evaluate (unless done) one (space, seed, stage); returns a progress line."""
    run_dir = args.work / f"{space}-seed{seed}"
    run_dir.mkdir(parents=True, exist_ok=True)
    log = run_dir / "study.log"
    timings = []
    if not (run_dir / stage / "metrics.json").is_file():
        seconds = run_logged(train_command(args, space, seed, run_dir, stage), log, threads)
        (run_dir / f"{stage}_train_seconds.txt").write_text(f"{seconds:.0f}\n")
        timings.append(f"trained in {seconds / 60:.1f} min")
    if not (run_dir / stage / "eval_test" / "metrics.json").is_file():
        seconds = run_logged(evaluate_command(args, run_dir / stage), log, threads)
        timings.append(f"evaluated in {seconds:.0f} s")
    return f"{space} seed {seed} {stage}: " + (", ".join(timings) or "already done")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    if not args.summary_only:
        threads = max(1, (os.cpu_count() or 1) // args.jobs)
        for stage in args.stages:  # every stage 1 first: stage 2 starts from them
            with ThreadPoolExecutor(max_workers=args.jobs) as pool:
                futures = [pool.submit(one_run, args, space, seed, stage, threads)
                           for seed in args.seeds for space in args.spaces]
                for future in futures:
                    print(future.result(), flush=True)
    command = "python benchmarks/colorspaces/study.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    write_summary(args, command.strip(), time.perf_counter() - started)
    print(f"wrote {args.results} and {args.figure}")


if __name__ == "__main__":
    main()
