"""Training throughput (images/s, median step after warm-up) of stage 1 and stage 2, through Lightning."""

from __future__ import annotations

import statistics
import time
import warnings
from typing import Any

import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode, conv_flop_count

from colorgan.config import CONFIG_NAME, config_dir, register_resolvers

STAGES = {"unet": "stage 1 (U-Net, L1)", "gan": "stage 2 (GAN)"}
#: stage-2 discriminators the bench can time (``--discriminators``): name -> config overrides
DISCRIMINATORS = {"light": [], "pix2pix": ["model/discriminator=pix2pix", "model.d_single_pass=false"]}


def compose_bench_config(overrides: list[str]) -> DictConfig:
    """conf/train.yaml composed with ``overrides`` (as the training command would, without a run dir)."""
    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(CONFIG_NAME, overrides=overrides)


def conv_backward_flop(grad_out_shape: list[int], x_shape: list[int], w_shape: list[int], *args: Any,
                       out_shape: Any = None, **kwargs: Any) -> int:
    """FLOPs of a convolution's backward: each gradient asked for (input, weight) costs one forward.

    torch's own formula ignores ``groups`` for the weight gradient, which counts a depthwise convolution's
    backward ``channels`` times over (66× its forward for 64 channels): EfficientNets would look 5× costlier.
    """
    transposed, output_mask = args[4], args[7]
    forward = conv_flop_count(list(x_shape), list(w_shape), list(grad_out_shape), transposed=transposed)
    return forward * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


def flop_counter() -> FlopCounterMode:
    """torch's FLOP counter (matmuls, convolutions, forward and backward), grouped convolutions fixed."""
    fixed = {torch.ops.aten.convolution_backward: conv_backward_flop}
    return FlopCounterMode(display=False, custom_mapping=fixed)


class StepTimer(pl.Callback):
    """Wall time at the end of every training batch (GPU synchronized); FLOPs of the first batch."""

    def __init__(self, count_flops: bool) -> None:
        self.count_flops = count_flops
        self.ends: list[float] = []
        self.flops: int | None = None
        self._counter: FlopCounterMode | None = None

    def on_train_batch_start(self, trainer: pl.Trainer, module: pl.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        if batch_idx == 0 and self.count_flops:
            self._counter = flop_counter()
            self._counter.__enter__()

    def on_train_batch_end(self, trainer: pl.Trainer, module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if module.device.type == "cuda":
            torch.cuda.synchronize()
        if self._counter is not None:
            self._counter.__exit__(None, None, None)
            self.flops = self._counter.get_total_flops()
            self._counter = None
        self.ends.append(time.perf_counter())


def model_overrides(encoder: str, stage: str, image_size: int, cuda: bool, compiled: bool,
                    channels_last: bool | None = None) -> list[str]:
    """Config overrides of one measured model; ``channels_last`` None keeps the config's ``auto`` (on for
    CUDA and the CPU). The encoder is trained (``freeze_encoder_steps=0``) unless an extra override says
    otherwise."""
    memory_format = [] if channels_last is None else [f"channels_last={str(channels_last).lower()}"]
    return [f"encoder={encoder}", f"model={stage}", f"image_size={image_size}", "encoder.weights=none",
            "model.freeze_encoder_steps=0", *memory_format, f"compile={str(compiled).lower()}"]


def train_throughput(encoder: str, stage: str, image_size: int, batch_size: int, warmup: int, repeats: int,
                     cuda: bool, compiled: bool = False, extra: tuple[str, ...] = (),
                     precision: str | None = None, channels_last: bool | None = None) -> dict[str, Any]:
    """Images/s of ``repeats`` timed training steps after ``warmup`` steps, on random uint8 images.

    ``extra``: more config overrides (e.g. smaller networks for a quick run). ``precision`` (Lightning's,
    default bf16-mixed on CUDA, 32-true on the CPU) and ``channels_last`` (default: the config's auto, on for
    CUDA and the CPU) override the device's defaults.
    """
    from colorgan.build import build_model

    cfg = compose_bench_config([*model_overrides(encoder, stage, image_size, cuda, compiled, channels_last),
                                *extra])
    model = build_model(cfg)
    steps = warmup + repeats + 1  # step 0 also counts the FLOPs
    images = torch.randint(0, 256, (batch_size * steps, 3, image_size, image_size), dtype=torch.uint8)
    loader = DataLoader(TensorDataset(images), batch_size=batch_size, shuffle=False, num_workers=0)
    timer = StepTimer(count_flops=not compiled)
    trainer = pl.Trainer(accelerator="gpu" if cuda else "cpu", devices=1,
                         precision=precision or ("bf16-mixed" if cuda else "32-true"), max_steps=steps,
                         limit_val_batches=0, num_sanity_val_steps=0, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         benchmark=cuda or None, callbacks=[timer])
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's remarks on workers, logging intervals
        trainer.fit(model, train_dataloaders=loader)
    intervals = [after - before for before, after in zip(timer.ends, timer.ends[1:], strict=False)][warmup:]
    if not intervals:
        raise RuntimeError("no timed training step: raise --repeats")
    step_s = statistics.median(intervals)
    result: dict[str, Any] = {
        "encoder": encoder, "stage": stage, "image_size": image_size, "batch_size": batch_size,
        "compiled": compiled, "device": "cuda" if cuda else "cpu", "step_s": step_s,
        "images_per_s": batch_size / step_s, "timed_steps": len(intervals),
        "flops_per_image": timer.flops / batch_size if timer.flops else None,
        "parameters_m": sum(p.numel() for p in model.parameters()) / 1e6,
    }
    if cuda:
        result["peak_gpu_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return result


def bench_training(encoders: list[str], sizes: list[int], batch_size: int, warmup: int, repeats: int,
                   cuda: bool, compiled: bool = False, extra: tuple[str, ...] = (),
                   progress: Any = None,
                   discriminators: tuple[str, ...] = ("light",)) -> list[dict[str, Any]]:
    """Every (encoder, stage, size) combination, stage 2 once per discriminator (`DISCRIMINATORS`); FLOPs
    reused from the eager run when compiling."""
    if cuda:
        torch.set_float32_matmul_precision("high")
    rows = []
    runs = [("unet", None), *(("gan", name) for name in discriminators)]
    for encoder in encoders:
        for stage, discriminator in runs:
            more = (*extra, *DISCRIMINATORS[discriminator]) if discriminator else extra
            for size in sizes:
                if progress:
                    progress(f"training {encoder} {stage} {discriminator or ''} {size}px on "
                             f"{'cuda' if cuda else 'cpu'}")
                row = train_throughput(encoder, stage, size, batch_size, warmup, repeats, cuda, extra=more)
                row["discriminator"] = discriminator
                rows.append(row)
                if compiled:
                    compiled_row = train_throughput(encoder, stage, size, batch_size, warmup, repeats, cuda,
                                                    compiled=True, extra=more)
                    compiled_row |= {"flops_per_image": row["flops_per_image"],
                                     "discriminator": discriminator}
                    rows.append(compiled_row)
    return rows
