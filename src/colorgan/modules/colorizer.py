"""Stage 1: the U-Net generator alone, regressing normalized chroma with L1 or Huber."""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from hydra.utils import instantiate
from torch import Tensor

from colorgan.modules.base import ColorizationModule

LOSSES = ("l1", "huber")


class ColorizerModule(ColorizationModule):
    """Regression stage: generator(luma) ≈ chroma, AdamW + per-step scheduler, optional frozen encoder."""

    stage = "unet"

    def __init__(
        self,
        colorspace: str,
        generator: dict[str, Any],
        image_size: int = 128,
        loss: str = "l1",
        huber_delta: float = 0.05,
        optimizer: dict[str, Any] | None = None,
        scheduler: dict[str, Any] | None = None,
        freeze_encoder_steps: int = 0,
        channels_last: bool | str = "auto",
        compile: bool = False,
    ) -> None:
        if loss not in LOSSES:
            raise ValueError(f"model.loss must be one of {LOSSES}, got {loss!r}")
        super().__init__(colorspace, generator, image_size, channels_last, compile)
        self.save_hyperparameters()
        self.encoder_frozen: bool | None = None

    def chroma_loss(self, pred: Tensor, target: Tensor) -> Tensor:
        """L1 or Huber on normalized chroma, in float32."""
        pred, target = pred.float(), target.float()
        if self.hparams.loss == "huber":
            return F.smooth_l1_loss(pred, target, beta=self.hparams.huber_delta)
        return F.l1_loss(pred, target)

    def encoder_should_be_frozen(self) -> bool:
        steps = self.hparams.freeze_encoder_steps
        return steps < 0 or self.global_step < steps

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        frozen = self.encoder_should_be_frozen()
        if frozen != self.encoder_frozen:
            self.generator.set_encoder_frozen(frozen)
            self.encoder_frozen = frozen
            self.log("train/encoder_frozen", float(frozen))

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        pred = self.generator(batch["luma"])
        loss = self.chroma_loss(pred, batch["chroma"])
        self.log("train/loss", loss, prog_bar=True, batch_size=pred.shape[0])
        return loss

    def validation_loss(self, batch: dict[str, Tensor], chroma: Tensor) -> dict[str, Tensor]:
        return {"loss": self.chroma_loss(chroma, batch["chroma"])}

    def configure_optimizers(self) -> dict[str, Any]:
        optimizer_cfg = self.hparams.optimizer or {"_target_": "torch.optim.AdamW", "lr": 1e-3}
        optimizer = instantiate(optimizer_cfg, params=self.generator.parameters(), _convert_="all")
        if not self.hparams.scheduler:
            return {"optimizer": optimizer}
        scheduler = instantiate(
            self.hparams.scheduler, optimizer=optimizer, total_steps=self.trainer.estimated_stepping_batches
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
