"""The benchmark's results as a Markdown report, with the issue's targets checked against them."""

from __future__ import annotations

from typing import Any

EPOCH_IMAGES = 20_000
TARGET_EPOCH_S = 10.0
TARGET_LOADER_VS_DECODE = 10.0
TARGET_LOADER_VS_TRAINING = 5.0
TARGET_PHOTO_S = 2.0
TARGET_PHOTO_BYTES = 2e9
BIG_PHOTO = (4000, 3000)


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _number(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def achieved_share(row: dict[str, Any], peak_tflops: float | None) -> tuple[float | None, float | None]:
    """(achieved TFLOP/s, share of the bf16 peak) of a training row: model FLOPs × images/s ÷ peak."""
    if not row.get("flops_per_image"):
        return None, None
    tflops = row["flops_per_image"] * row["images_per_s"] / 1e12
    return tflops, (tflops / peak_tflops if peak_tflops and row["device"] == "cuda" else None)


def _loader_rate(loaders: dict[str, Any], source: str, size: int) -> float | None:
    for row in loaders.get("rows", []):
        if row["source"].startswith(source) and row["image_size"] == size:
            return row["images_per_s"]
    return None


def _train_rate(rows: list[dict[str, Any]], device: str, encoder: str, stage: str, size: int) -> float | None:
    for row in rows:
        if (row["device"], row["encoder"], row["stage"], row["image_size"], row["compiled"]) == (
                device, encoder, stage, size, False):
            return row["images_per_s"]
    return None


def targets(results: dict[str, Any]) -> list[list[str]]:
    """[target, measured, verdict] rows for the targets the run could measure."""
    loaders, training = results.get("loaders") or {}, results.get("training") or []
    settings = results["settings"]
    rows: list[list[str]] = []
    for size in settings["sizes"]:
        folder, cache = _loader_rate(loaders, "folder", size), _loader_rate(loaders, "prepared", size)
        if folder and cache:
            ratio = cache / folder
            rows.append([f"cache loader ≥ {TARGET_LOADER_VS_DECODE:.0f}× JPEG decoding, {size} px",
                         f"{cache:,.0f} vs {folder:,.0f} img/s = {ratio:.1f}×",
                         _verdict(ratio >= TARGET_LOADER_VS_DECODE)])
    size = settings["target_size"]
    cache = _loader_rate(loaders, "prepared", size)
    consumed = _train_rate(training, "cpu", settings["encoders"][0], "unet", size)
    if cache and consumed:
        ratio = cache / consumed
        rows.append([f"cache loader ≥ {TARGET_LOADER_VS_TRAINING:.0f}× CPU stage-1 training, {size} px",
                     f"{cache:,.0f} vs {consumed:,.1f} img/s = {ratio:,.0f}×",
                     _verdict(ratio >= TARGET_LOADER_VS_TRAINING)])
    gpu = _train_rate(training, "cuda", settings["encoders"][0], "unet", size)
    if gpu:
        epoch = EPOCH_IMAGES / gpu
        rows.append([f"GPU epoch of {EPOCH_IMAGES:,} images at {size} px < {TARGET_EPOCH_S:.0f} s (stage 1)",
                     f"{epoch:.1f} s ({gpu:,.0f} img/s, from the median step)",
                     _verdict(epoch < TARGET_EPOCH_S)])
    else:
        rows.append([f"GPU epoch of {EPOCH_IMAGES:,} images at {size} px < {TARGET_EPOCH_S:.0f} s",
                     "not measured: no GPU on this machine", "–"])
    inference = results.get("inference") or {}
    for row in inference.get("rows", []):
        if ((row["width"], row["height"]) == BIG_PHOTO and inference["device"] == "cpu"
                and row.get("backend", "torch") == "torch"):
            rows.append(["4000×3000 photo on the CPU < 2 s, file in → file out", f"{row['seconds']:.2f} s",
                         _verdict(row["seconds"] < TARGET_PHOTO_S)])
            rows.append(["… with peak memory < 2 GB", f"{row['peak_rss_mib'] * 2**20 / 1e9:.2f} GB "
                         f"(process peak RSS)", _verdict(row["peak_rss_mib"] * 2**20 < TARGET_PHOTO_BYTES)])
    return rows


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def render(results: dict[str, Any]) -> str:
    """The whole report as Markdown."""
    machine, settings = results["machine"], results["settings"]
    parts = ["# colorgan benchmarks", "",
             f"Made by `{results['command']}` on {results['date']} in {results['elapsed_s']:.0f} s"
             f"{' (quick mode: tiny sizes, figures meaningless)' if settings['quick'] else ''}.", "",
             "## Machine", "",
             table(["CPU", "cores", "memory", "load avg at start → end (1/5/15 min)", "python", "torch",
                    "device"],
                   [[machine["cpu"], machine["cores"], f"{machine.get('memory_gib', '?')} GiB",
                     f"{machine.get('load_average')} → {results.get('load_average_end')}", machine["python"],
                     machine["torch"], machine["device"]]]), "",
             "## Targets", "", table(["target", "measured", ""], targets(results)), ""]
    loaders = results.get("loaders")
    if loaders:
        parts += ["## Data loading", "",
                  f"{loaders['photos']} JPEG photos of {loaders['photo_size']} (q90), random resized crops + "
                  f"flips, batch {loaders['batch_size']}, {loaders['workers']} workers; the cache was "
                  f"prepared at {loaders['cache_size']} px (short side) in "
                  f"{loaders['prepare_seconds']:.1f} s "
                  f"({loaders['prepare_images_per_s']:.1f} photos/s, {loaders['cache_mib']:.1f} MiB). Files "
                  "are in the page cache after the warm-up pass: this measures decoding, not the disk.", "",
                  table(["source", "image size", "loader images/s", "one item, one thread (ms)"],
                        [[row["source"], row["image_size"], _number(row["images_per_s"]),
                          _number(row["sample_ms"], 2)] for row in loaders["rows"]]), ""]
    training = results.get("training")
    if training:
        peak = machine.get("bf16_peak_tflops")
        rows = []
        for row in training:
            tflops, share = achieved_share(row, peak)
            stage = row["stage"] + (f" ({row['discriminator']} D)" if row.get("discriminator") else "")
            rows.append([row["device"] + (" (compiled)" if row["compiled"] else ""), row["encoder"],
                         _number(row["parameters_m"]), stage, row["image_size"], row["batch_size"],
                         _number(row["images_per_s"]),
                         _number(row["step_s"] * 1000, 0), _number((row["flops_per_image"] or 0) / 1e9),
                         _number(tflops, 2), "–" if share is None else f"{100 * share:.1f} %",
                         _number(row.get("peak_gpu_mib"), 0)])
        parts += ["## Training throughput", "",
                  f"Median of {settings['repeats']} steps after {settings['warmup']} warm-up steps, random "
                  "uint8 images already in memory (no loader cost), Lightning's full training step (color "
                  "conversion, forward, losses, backward, optimizer), encoder trained. CPU: fp32, "
                  "channels_last, `keep_freed_memory` (glibc); GPU: bf16-mixed, channels_last, "
                  "cudnn.benchmark. GFLOP/img: model FLOPs of one training step per image "
                  "(torch.utils.flop_counter, with its depthwise-convolution backward corrected; forward + "
                  "backward, stage 2 with the discriminator's passes; params M: generator + discriminator). "
                  f"Share of peak: TFLOP/s ÷ the GPU's dense bf16 peak ({peak or '–'} TFLOP/s).", "",
                  table(["device", "encoder", "params M", "stage", "px", "batch", "images/s", "step ms",
                         "GFLOP/img", "TFLOP/s", "share of bf16 peak", "peak GPU MiB"], rows), ""]
    if results.get("flops"):
        parts += flops_section(results["flops"])
    if results.get("levers"):
        parts += levers_section(results["levers"], settings)
    for key in ("inference", "inference_cuda"):
        if results.get(key):
            parts += inference_section(results[key])
    if results.get("curves"):
        from colorgan.bench.curves import curves_section

        parts += curves_section(results["curves"])
    return "\n".join(parts)


def inference_section(inference: dict[str, Any]) -> list[str]:
    """The inference heading, what was measured, and the latency/memory table."""
    rows = [[row.get("backend", "torch"), f"{row['width']}×{row['height']}", f"{row['seconds']:.3f}",
             _number(row["peak_rss_mib"], 0) + ("" if row["peak_rss_exact"] else " (since start)"),
             _number(row.get("loaded_rss_mib"), 0), _number(row.get("peak_gpu_mib"), 0)]
            for row in inference["rows"]]
    return [f"## Inference on {inference['device']} (file in → file out)", "",
            "Gray JPEG in, colorized JPEG out, through `colorgan.colorize`'s per-photo path on a "
            f"loaded `Colorizer` ({inference['encoder']}, {pass_text(inference)}, "
            f"{inference['process']}; loading the checkpoint took "
            f"{inference['load_seconds']:.2f} s): "
            "JPEG decode, gray, network, full-resolution merge, JPEG encode, atomic write. Median of "
            f"{inference['rows'][0]['repeats']} after a warm-up. Peak RSS is the whole process "
            "(Python, torch, colorgan, the model and the photo's buffers); "
            f"{_number(inference.get('loaded_rss_mib'), 0)} MiB of it are resident once the model is "
            "loaded, before any photo (torch backend). Backends: PyTorch, and onnxruntime on the "
            "checkpoint's ONNX export (python -m colorgan.export), fp32 and dynamically quantized int8, "
            "each measured the same way.", "",
            table(["backend", "photo", "seconds", "peak RSS MiB", "RSS once loaded MiB", "peak GPU MiB"],
                  rows), ""]


def levers_section(rows: list[dict[str, Any]], settings: dict[str, Any]) -> list[str]:
    """Stage 1 on the CPU with each lever against the fp32 baseline of the same size (`bench.levers`)."""
    table_rows = [[row["variant"], row["image_size"], _number(row["images_per_s"], 2),
                   "–" if row["vs_baseline"] is None else f"{row['vs_baseline']:.2f}×",
                   _number(row["parameters_m"], 2), row["error"] or row["note"]] for row in rows]
    return ["## Stage-1 levers on the CPU", "",
            f"Stage 1 of {rows[0]['encoder']}, batch {rows[0]['batch_size']}, the same Lightning step as "
            f"above (median of {settings['repeats']} after {settings['warmup']} warm-up steps), one lever "
            "changed at a time; × baseline divides by the first fp32 row of that size, and the baseline's "
            "re-run at the end shows how much the machine drifted meanwhile.", "",
            table(["variant", "px", "images/s", "× baseline", "params M", "note"], table_rows), ""]


def flops_section(rows: list[dict[str, Any]]) -> list[str]:
    """Training FLOPs per image of each stage / discriminator option, with D's share of the step."""
    from colorgan.bench.flops import PAIRED_TIMING

    stage1 = {row["image_size"]: row["flops_per_image"] for row in rows if row["variant"] == "stage 1"}
    table_rows = [[row["variant"], row["image_size"], _number(row["flops_per_image"] / 1e9, 2),
                   _number(row["discriminator_flops_per_image"] / 1e9, 2),
                   f"{100 * row['discriminator_share']:.0f} %",
                   _number(row["flops_per_image"] / stage1[row["image_size"]], 2)
                   if row["image_size"] in stage1 else "–",
                   _number(row["discriminator_parameters_m"], 2), row.get("receptive_field") or "–"]
                  for row in rows]
    return ["## Training FLOPs per image", "",
            "Counted, not timed (deterministic): one training step of the default model "
            f"({rows[0]['encoder']}) under the FLOP counter above, forward + backward, per image, split by "
            "module. Stage 2 runs D on real and fake (one pass on both stacked, or one each: same FLOPs) "
            "and once more on the fakes for G. Wall-clock images/s of the same variants need an idle "
            f"machine: `{PAIRED_TIMING}`.", "",
            table(["variant", "px", "GFLOP/img", "of which D", "D share", "× stage 1", "D params M",
                   "D patch px"], table_rows), ""]


def pass_text(inference: dict) -> str:
    """"network passes at short sides 512 + 256 px" (or one working short side, as older results hold)."""
    sides = inference.get("pass_sides") or [inference["working_short_side"]]
    if len(sides) == 1:
        return f"working short side {sides[0]} px"
    return f"network passes at short sides {' + '.join(str(side) for side in sides)} px, chroma averaged"
