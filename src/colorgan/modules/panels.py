"""Sample panels: gray | predicted | truth for fixed validation images, saved and sent to the loggers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from PIL import Image
from torch import Tensor

from colorgan.grids import tile
from colorgan.metrics import gray_baseline


def colorization_panel(rgb: Tensor, predicted: Tensor) -> np.ndarray:
    """One row per image: the gray input, the colorized prediction, the truth (2 px apart)."""
    gray = gray_baseline(rgb)
    return tile([[g, p, t] for g, p, t in zip(gray, predicted, rgb, strict=False)], gap=2)


class SamplePanels(pl.Callback):
    """After each validation epoch, colorize the first validation images and save the panel."""

    def __init__(self, dirpath: str, num_images: int = 8) -> None:
        self.dirpath = Path(dirpath)
        self.num_images = num_images
        self._batch: dict[str, Tensor] | None = None
        self.last_path: Path | None = None

    def on_validation_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if batch_idx == 0 and dataloader_idx == 0 and isinstance(batch, dict):
            self._batch = {key: value[: self.num_images].detach() for key, value in batch.items()}

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        batch, self._batch = self._batch, None
        if batch is None or trainer.sanity_checking or not trainer.is_global_zero:
            return
        with torch.no_grad():
            predicted = pl_module.predict_rgb(batch["luma"])
        panel = colorization_panel(batch["rgb"], predicted)
        self.dirpath.mkdir(parents=True, exist_ok=True)
        path = self.dirpath / f"step{trainer.global_step:06d}.png"
        Image.fromarray(panel).save(path)
        Image.fromarray(panel).save(self.dirpath / "latest.png")
        self.last_path = path
        self._send_to_loggers(trainer, panel)

    @staticmethod
    def _send_to_loggers(trainer: pl.Trainer, panel: np.ndarray) -> None:
        caption = "gray | predicted | truth"
        for logger in trainer.loggers:
            if hasattr(logger, "log_image"):  # wandb
                logger.log_image(key="samples", images=[panel], caption=[caption], step=trainer.global_step)
            elif hasattr(getattr(logger, "experiment", None), "add_image"):  # tensorboard
                logger.experiment.add_image("samples", panel, trainer.global_step, dataformats="HWC")
