"""Stage-1 training levers on the CPU, each measured against the fp32 baseline (issue 9).

One stage-1 training step of the default model (`train_throughput`: Lightning's whole step on in-memory
random images), at each size, once per lever: channels_last, bf16-mixed autocast, torch.compile, one
thread instead of torch's default, a narrower and a wider decoder, the encoder frozen (the default's first
500 steps: no backward through it) alone and with channels_last, the chroma-bins loss. The baseline runs
first and again last, so the drift of a busy machine shows. A lever that fails here (torch.compile needs a
C++ compiler, bf16 an able CPU) becomes a row holding its error instead of ending the run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from colorgan.bench.training import train_throughput
from colorgan.errors import first_line

NARROW_DECODER = [64, 32, 24, 16, 8]
WIDE_DECODER = [256, 128, 64, 32, 16]
BASELINE = "baseline (fp32)"
FROZEN = "model.freeze_encoder_steps=-1"
#: every lever runs in the baseline's layout unless it sets its own, whatever the config's default
NCHW = {"channels_last": False}


@dataclass(frozen=True)
class Lever:
    """One variant of the stage-1 step: keyword arguments of `train_throughput`, overrides, threads."""

    name: str
    note: str
    options: dict[str, Any] = field(default_factory=dict)
    overrides: tuple[str, ...] = ()
    threads: int | None = None


def _decoder(channels: list[int]) -> str:
    return "model.generator.decoder_channels=[" + ",".join(map(str, channels)) + "]"


def cpu_bf16_flags() -> list[str]:
    """The CPU's native bf16 instruction sets named in /proc/cpuinfo (empty: none, or not Linux)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = set(text.split())
    return [flag for flag in ("avx512_bf16", "amx_bf16") if flag in flags]


def native_bf16() -> bool:
    """Whether oneDNN runs bf16 natively here; without it (e.g. AVX2-only CPUs) bf16 is emulated, ~20-30×
    slower than fp32 (a 64-channel convolution's step, measured on an AVX2 EPYC)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return bool(cpu_bf16_flags())


def quick_skip() -> dict[str, str]:
    """Levers ``--quick`` leaves out (it must take seconds): lever name -> why."""
    skip = {"torch.compile": "--quick (inductor compiles for minutes, even a tiny network)"}
    if not native_bf16():
        skip["bf16-mixed"] = "--quick (this CPU emulates bf16: tens of times slower)"
    return skip


def levers() -> list[Lever]:
    """The variants, baseline first and last."""
    threads = torch.get_num_threads()
    bf16 = cpu_bf16_flags()
    emulated = "" if native_bf16() else " (emulated here: 1 timed step, no warm-up)"
    baseline = Lever(BASELINE, f"32-true, NCHW, {threads} threads (torch's default)")
    return [
        baseline,
        Lever("channels_last", "NHWC memory format for weights and batches", {"channels_last": True}),
        Lever("bf16-mixed", "Lightning's CPU autocast to bf16; CPU bf16 instructions: "
              + (", ".join(bf16) if bf16 else "none") + emulated, {"precision": "bf16-mixed"}),
        Lever("torch.compile", "inductor; compilation happens in the untimed first step",
              {"compiled": True}),
        Lever("1 thread", f"torch.set_num_threads(1) instead of {threads}", threads=1),
        Lever("narrower decoder", f"decoder_channels={NARROW_DECODER}",
              overrides=(_decoder(NARROW_DECODER),)),
        Lever("wider decoder", f"decoder_channels={WIDE_DECODER}", overrides=(_decoder(WIDE_DECODER),)),
        Lever("encoder frozen", "model.freeze_encoder_steps=-1: the default's first 500 steps (the baseline"
              " fine-tunes the encoder)", overrides=(FROZEN,)),
        Lever("encoder frozen + channels_last", "both", {"channels_last": True}, overrides=(FROZEN,)),
        Lever("chroma bins loss", "model.loss=bins: logits over 484 bins at 1/4 resolution, rebalanced "
              "cross-entropy (a quality lever; its cost)", overrides=("model.loss=bins",)),
        Lever(f"{BASELINE}, again", "the baseline re-run last: the machine's drift during the run"),
    ]


@contextlib.contextmanager
def num_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op threads set to ``threads`` (None: unchanged) for the block, restored after."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def bench_levers(encoder: str, sizes: list[int], batch_size: int, warmup: int, repeats: int,
                 extra: tuple[str, ...] = (), progress: Callable[[str], None] | None = None,
                 skip: dict[str, str] | None = None,
                 measure: Callable[..., dict[str, Any]] = train_throughput) -> list[dict[str, Any]]:
    """One row per (size, lever): images/s, × the baseline at that size, the lever's note or its error.

    ``skip``: lever name -> why it is not run (its row says so); ``measure``: `train_throughput` or a fake.
    """
    skip = skip or {}
    rows: list[dict[str, Any]] = []
    for size in sizes:
        baseline: float | None = None
        for lever in levers():
            row: dict[str, Any] = {"variant": lever.name, "image_size": size, "batch_size": batch_size,
                                   "encoder": encoder, "note": lever.note, "images_per_s": None,
                                   "parameters_m": None, "error": None, "vs_baseline": None}
            if lever.name in skip:
                rows.append(row | {"error": f"not run: {skip[lever.name]}"})
                continue
            if progress:
                progress(f"levers: stage 1 {encoder} {size}px, {lever.name}")
            # emulated bf16 is so slow that one step tells the story (and more would take an hour)
            steps = (0, 1) if lever.options.get("precision") == "bf16-mixed" and not native_bf16() else (
                warmup, repeats)
            try:
                with num_threads(lever.threads):
                    result = measure(encoder, "unet", size, batch_size, *steps, cuda=False,
                                     extra=(*extra, *lever.overrides), **{**NCHW, **lever.options})
                row |= {"images_per_s": result["images_per_s"], "parameters_m": result["parameters_m"]}
            except Exception as error:  # a lever this machine cannot pull is a result, not a crash
                if lever.name == BASELINE:
                    raise
                row["error"] = f"{type(error).__name__}: {first_line(error)}"
            finally:
                if lever.options.get("compiled"):
                    torch.compiler.reset()
            if lever.name == BASELINE:
                baseline = row["images_per_s"]
            rate = row["images_per_s"]
            row["vs_baseline"] = rate / baseline if rate and baseline else None
            rows.append(row)
    return rows
