"""Inference latency and peak memory: one photo file in, one colorized file out, model already loaded.

Runs the `colorgan.colorize` command's own per-photo path (`colorize_jobs`: decode, gray, network at the
working size, full-resolution merge, JPEG encode, atomic write) on a `Colorizer` loaded from a checkpoint,
once per backend: PyTorch, and onnxruntime on the checkpoint's ONNX export (fp32 and int8) when installed.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from colorgan.bench.machine import current_rss_mib, peak_rss_mib, reset_peak_rss


def write_checkpoint(path: Path, encoder: str, image_size: int, extra: list[str]) -> Path:
    """A stage-1 checkpoint of the default model (random decoder, encoder weights as configured)."""
    from colorgan.bench.training import compose_bench_config
    from colorgan.build import build_model
    from colorgan.checkpoints import save_generator

    overrides = [f"encoder={encoder}", f"image_size={image_size}", "model=unet", *extra]
    cfg = compose_bench_config(overrides)
    module = build_model(cfg)
    return save_generator(path, module.generator, module.inference_record())


def write_gray_photo(path: Path, width: int, height: int, seed: int = 0) -> Path:
    """A black-and-white photo-like JPEG (q90, 8-bit gray) of the given size: what a colorizer gets."""
    from colorgan.bench.loading import make_photo_folder

    folder = make_photo_folder(path.parent / f".render-{width}x{height}", 1, width, height, seed)
    Image.open(folder / "photo0000.jpg").convert("L").save(path, quality=90)
    return path


def onnx_exports(checkpoint: Path, labels: Collection[str] | None = None) -> dict[str, Path]:
    """backend label -> ONNX export of ``checkpoint`` (fp32 and int8, or those in ``labels``), or {} without
    onnx/onnxruntime."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return {}
    from colorgan.backends import write_onnx
    from colorgan.checkpoints import build_generator, read_checkpoint

    record, weights = read_checkpoint(checkpoint)
    generator = build_generator(record, weights)
    return {label: write_onnx(generator, record, checkpoint.with_suffix(suffix), quantize=quantize)
            for label, suffix, quantize in (("onnxruntime", ".onnx", "none"),
                                            ("onnxruntime int8", ".int8.onnx", "int8"))
            if labels is None or label in labels}


def measure(work: Path, checkpoint: Path, sizes: list[tuple[int, int]], repeats: int,
            device: str, backend: str = "torch") -> dict[str, Any]:
    """Latency (median of ``repeats`` after one warm-up) and peak memory per photo size.

    ``checkpoint``: a checkpoint (``backend`` torch) or an ONNX export (run by onnxruntime).
    """
    from colorgan.files import InputFile, Job
    from colorgan.inference import Colorizer, colorize_jobs

    started = time.perf_counter()
    colorizer = Colorizer.load(checkpoint, device=device)
    load_seconds = time.perf_counter() - started
    cuda = colorizer.device.type == "cuda"
    loaded_rss = current_rss_mib()  # interpreter, torch, colorgan and the model, before any photo
    rows = []
    for width, height in sizes:
        source = work / f"in_{width}x{height}.jpg"
        job = Job(InputFile(source, work), work / "out" / source.name)
        written, failures = colorize_jobs(colorizer, [job], batch_size=1, quiet=True)  # warm-up
        if failures or written != 1:
            raise RuntimeError(f"colorizing {source} failed: {failures}")
        exact_peak = reset_peak_rss()
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        times = []
        for _ in range(repeats):
            begin = time.perf_counter()
            colorize_jobs(colorizer, [job], batch_size=1, quiet=True)
            if cuda:
                torch.cuda.synchronize()
            times.append(time.perf_counter() - begin)
        output = np.asarray(Image.open(job.output))
        row = {"backend": backend, "width": width, "height": height,
               "seconds": statistics.median(times), "repeats": repeats,
               "peak_rss_mib": peak_rss_mib(), "peak_rss_exact": exact_peak,
               "output_matches": output.shape == (height, width, 3)}
        if cuda:
            row["peak_gpu_mib"] = torch.cuda.max_memory_allocated() / 2**20
        rows.append(row)
    for row in rows:
        row |= {"loaded_rss_mib": loaded_rss, "load_seconds": load_seconds}
    return {"loaded_rss_mib": loaded_rss, "working_short_side": colorizer.short_side,
            "pass_sides": colorizer.pass_sides,
            "device": str(colorizer.device), "load_seconds": load_seconds, "rows": rows}


def bench_inference(work: Path, encoder: str, image_size: int, sizes: list[tuple[int, int]], repeats: int,
                    device: str, extra: list[str], fresh_process: bool = True,
                    backends: Collection[str] | None = None) -> dict[str, Any]:
    """`measure` in a fresh interpreter (so peak memory is what the colorize command itself needs).

    ``backends``: the backend labels to run (torch, onnxruntime, onnxruntime int8); default every one.
    """
    work.mkdir(parents=True, exist_ok=True)
    checkpoint = write_checkpoint(work / "bench.ckpt", encoder, image_size, extra)
    for width, height in sizes:
        write_gray_photo(work / f"in_{width}x{height}.jpg", width, height)
    models = {"torch": checkpoint, **(onnx_exports(checkpoint, backends) if device == "cpu" else {})}
    models = {label: model for label, model in models.items() if backends is None or label in backends}
    result: dict[str, Any] = {}
    for backend, model in models.items():
        args = (work, model, sizes, repeats, device, backend)
        if fresh_process:
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                measured = pool.apply(measure, args)
        else:
            measured = measure(*args)
        if not result:
            result = measured
        else:
            result["rows"] += measured["rows"]
    result["process"] = "fresh process" if fresh_process else "in the benchmark process"
    result["encoder"] = encoder
    return result
