"""Stage 1: the U-Net generator alone, regressing normalized chroma with the chroma loss (L1 or Huber), or
classifying it into chroma bins with the rebalanced bin loss (``loss: bins``, `colorgan.models.bins`)."""

from __future__ import annotations

from typing import Any

from hydra.utils import instantiate
from torch import Tensor
from torch.optim import Optimizer

from colorgan.modules.base import ColorizationModule


class RegressionModule(ColorizationModule):
    """Regression stage: generator(luma) ≈ chroma, AdamW + per-step scheduler, optional frozen encoder."""

    stage = "unet"
    learning_rate_keys = "model.optimizer.lr"

    def __init__(
        self,
        colorspace: str,
        generator: dict[str, Any],
        image_size: int = 128,
        init_from: str | None = None,
        loss: str = "l1",
        huber_delta: float = 0.05,
        optimizer: dict[str, Any] | None = None,
        scheduler: dict[str, Any] | None = None,
        freeze_encoder_steps: int = 0,
        max_nonfinite_steps: int | None = 5,
        channels_last: bool | str = "auto",
        compile: bool = False,
        hints: dict[str, Any] | None = None,
        ema_decay: float | None = None,
        keep_freed_memory: bool | str = "auto",
        bins: dict[str, Any] | None = None,
        colorfulness_weight: float = 0.0,
        colorfulness_match: str = "image",
    ) -> None:
        super().__init__(
            colorspace, generator, image_size, loss, huber_delta, freeze_encoder_steps, max_nonfinite_steps,
            channels_last, compile, hints=hints, ema_decay=ema_decay,
            keep_freed_memory=keep_freed_memory, bins=bins, colorfulness_weight=colorfulness_weight,
            colorfulness_match=colorfulness_match,
        )
        self.save_hyperparameters()
        self.skip_step = False  # a non-finite loss since the last optimizer step: drop its gradients

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        # a bin model needs no decoding here, unless the colorfulness term looks at its colors
        decoded = self.bin_loss is None or self.colorfulness_weight > 0
        pred, logits = self(batch["luma"], batch.get("hints"), output="both" if decoded else "logits")
        loss = self.reconstruction_loss(pred, logits, batch["chroma"], update=True)
        size = batch["luma"].shape[0]
        colorful = self.colorfulness_term(batch["luma"], pred, batch["rgb"])  # None at weight 0
        if colorful is not None:
            self.log("train/colorfulness_loss", colorful, batch_size=size)
            loss = loss + colorful
        self.log("train/loss", loss, prog_bar=True, batch_size=size)
        finite = self.all_finite(loss)
        self.skip_step |= not finite
        self.record_step(finite)
        return loss  # always backpropagated (DDP needs every process to), dropped below if non-finite

    def on_before_optimizer_step(self, optimizer: Optimizer) -> None:
        """Skip the step of a non-finite loss: without gradients the optimizer changes no weight."""
        if self.skip_step:
            optimizer.zero_grad(set_to_none=True)
            self.skip_step = False

    def configure_optimizers(self) -> dict[str, Any]:
        optimizer_cfg = self.hparams.optimizer or {"_target_": "torch.optim.AdamW", "lr": 1e-3}
        optimizer = instantiate(optimizer_cfg, params=self.generator.parameters(), _convert_="all")
        if not self.hparams.scheduler:
            return {"optimizer": optimizer}
        scheduler = instantiate(
            self.hparams.scheduler, optimizer=optimizer, total_steps=self.trainer.estimated_stepping_batches
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
