"""Model FLOPs per training image of stage 1 and stage 2 (per discriminator option), and D's share.

Deterministic (counted, not timed): one Lightning training step on random images under the bench's FLOP
counter (`colorgan.bench.training.flop_counter`: forward + backward, depthwise backward corrected), split
by module, so it can run on a busy machine. Timings of the same variants need an idle machine: see
`PAIRED_TIMING`.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from colorgan.bench.training import DISCRIMINATORS, compose_bench_config, flop_counter

#: label -> config overrides; stage 2 variants differ only in the discriminator and how it is run
VARIANTS: dict[str, list[str]] = {
    "stage 1": ["model=unet"],
    "stage 2, pix2pix D (2 passes)": ["model=gan", *DISCRIMINATORS["pix2pix"]],
    "stage 2, light D (default)": ["model=gan", *DISCRIMINATORS["light"]],
    "stage 2, light D, downsample=2": ["model=gan", "model.discriminator.downsample=2"],
}
#: the paired wall-clock timing of stage 1 and both discriminators (run it on an idle machine)
PAIRED_TIMING = ("python -m colorgan.bench --only training --encoders efficientnet_lite0 --sizes 128,256 "
                 "--cpu-batch-size 16 --discriminators light,pix2pix")


class FlopsOfFirstStep(pl.Callback):
    """FLOPs of the first training batch, total and per top-level submodule (generator, discriminator)."""

    def __init__(self) -> None:
        self.counter = flop_counter()
        self.total = 0
        self.by_module: dict[str, int] = {}

    def on_train_batch_start(self, trainer: pl.Trainer, module: pl.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        self.counter.__enter__()

    def on_train_batch_end(self, trainer: pl.Trainer, module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        self.counter.__exit__(None, None, None)
        self.total = self.counter.get_total_flops()
        for name, counts in self.counter.get_flop_counts().items():
            parts = name.split(".")
            if len(parts) == 2:  # "<Module>.generator", "<Module>.discriminator"
                self.by_module[parts[1]] = self.by_module.get(parts[1], 0) + sum(counts.values())


def step_flops(overrides: list[str], image_size: int, batch_size: int = 2) -> dict[str, Any]:
    """FLOPs per image of one training step of the composed config (total, generator, discriminator)."""
    from colorgan.build import build_model

    cfg = compose_bench_config([*overrides, f"image_size={image_size}", "encoder.weights=none",
                                "model.freeze_encoder_steps=0", "channels_last=false", "compile=false"])
    torch.manual_seed(0)
    model = build_model(cfg)
    images = torch.randint(0, 256, (batch_size, 3, image_size, image_size), dtype=torch.uint8)
    counter = FlopsOfFirstStep()
    trainer = pl.Trainer(accelerator="cpu", devices=1, max_steps=1, limit_val_batches=0,
                         num_sanity_val_steps=0, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, callbacks=[counter])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(model, train_dataloaders=DataLoader(TensorDataset(images), batch_size=batch_size))
    discriminator = getattr(model, "discriminator", None)
    return {
        "flops_per_image": counter.total / batch_size,
        "generator_flops_per_image": counter.by_module.get("generator", 0) / batch_size,
        "discriminator_flops_per_image": counter.by_module.get("discriminator", 0) / batch_size,
        "discriminator_parameters_m": (sum(p.numel() for p in discriminator.parameters()) / 1e6
                                       if discriminator is not None else 0.0),
        "receptive_field": getattr(discriminator, "receptive_field", None),
    }


def bench_flops(encoder: str, sizes: list[int], extra: tuple[str, ...] = (),
                variants: dict[str, list[str]] | None = None, progress: Any = None) -> list[dict[str, Any]]:
    """`step_flops` of every variant at every size, with the discriminator's share of the step."""
    rows = []
    for label, overrides in (variants or VARIANTS).items():
        for size in sizes:
            if progress:
                progress(f"FLOPs of {label} at {size}px")
            row = step_flops([f"encoder={encoder}", *overrides, *extra], size)
            row |= {"variant": label, "encoder": encoder, "image_size": size,
                    "discriminator_share": row["discriminator_flops_per_image"] / row["flops_per_image"]}
            rows.append(row)
    return rows
