"""What both training stages share: color space, generator, device-side batch preparation, validation."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from torch import Tensor, nn

from colorgan.color import ColorSpace, get_colorspace
from colorgan.metrics import colorfulness, delta_e00, gray_baseline, psnr

CHECKPOINT_FORMAT = 1


def build_generator(generator: dict[str, Any], colorspace: ColorSpace) -> nn.Module:
    """Instantiate the generator config; its output channels come from the color space."""
    return instantiate(generator, chroma_channels=colorspace.chroma_channels, _convert_="all")


class ColorizationModule(pl.LightningModule):
    """Base LightningModule: uint8 RGB batches in, luma/chroma split on the device, quality metrics out."""

    stage: str = "base"

    def __init__(
        self,
        colorspace: str,
        generator: dict[str, Any],
        image_size: int = 128,
        channels_last: bool | str = "auto",
        compile: bool = False,
    ) -> None:
        super().__init__()
        self.colorspace = get_colorspace(colorspace)
        self.generator = build_generator(generator, self.colorspace)
        self.generator_config = generator
        self.image_size = image_size
        self.channels_last_setting = channels_last
        self.compile_networks = compile
        self.use_channels_last = False

    # ---- device-side preparation -------------------------------------------------------------
    def on_fit_start(self) -> None:
        setting = self.channels_last_setting
        self.use_channels_last = self.device.type == "cuda" if setting == "auto" else bool(setting)
        if self.use_channels_last:
            self.to(memory_format=torch.channels_last)
        if self.compile_networks:
            self.compile_modules()

    def compile_modules(self) -> None:
        """torch.compile the networks in place (state_dict keys stay unchanged)."""
        self.generator.compile()

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> dict[str, Tensor]:
        """uint8 [B,3,H,W] -> float RGB in [0,1], model input luma and target chroma (on the device)."""
        images = batch[0] if isinstance(batch, (list, tuple)) else batch
        rgb = images.float().div_(255.0)
        if self.use_channels_last:
            rgb = rgb.contiguous(memory_format=torch.channels_last)
        _, chroma = self.colorspace.split(rgb)
        luma = self.colorspace.model_input(rgb)  # what a B&W photo of the scene gives, as at inference
        return {"rgb": rgb, "luma": luma, "chroma": chroma}

    def forward(self, luma: Tensor) -> Tensor:
        """Predicted normalized chroma for a luma batch."""
        return self.generator(luma)

    @torch.no_grad()
    def predict_rgb(self, luma: Tensor) -> Tensor:
        """Colorized RGB in [0,1] for a luma batch (eval helper for panels and inference)."""
        chroma = self.generator(luma)
        return self.colorspace.merge(luma.float(), chroma.float())

    # ---- validation ----------------------------------------------------------------------------
    def validation_loss(self, batch: dict[str, Tensor], chroma: Tensor) -> dict[str, Tensor]:
        """Stage-specific validation losses (keys are logged under val/)."""
        return {}

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        chroma = self.generator(batch["luma"]).float()
        rgb_pred = self.colorspace.merge(batch["luma"], chroma)
        rgb = batch["rgb"]
        gray = gray_baseline(rgb)
        values = {
            **self.validation_loss(batch, chroma),
            "psnr": psnr(rgb_pred, rgb).mean(),
            "deltae00": delta_e00(rgb_pred, rgb).mean(),
            "colorfulness": colorfulness(rgb_pred).mean(),
            "colorfulness_true": colorfulness(rgb).mean(),
            "baseline_gray/psnr": psnr(gray, rgb).mean(),
            "baseline_gray/deltae00": delta_e00(gray, rgb).mean(),
        }
        shown = {"deltae00"}
        for prog_bar in (True, False):
            self.log_dict(
                {f"val/{key}": value for key, value in values.items() if (key in shown) == prog_bar},
                batch_size=rgb.shape[0],
                sync_dist=True,
                prog_bar=prog_bar,
            )

    # ---- checkpoints ---------------------------------------------------------------------------
    def inference_record(self) -> dict[str, Any]:
        """Plain data that lets inference rebuild the generator from the checkpoint alone."""
        return {
            "format": CHECKPOINT_FORMAT,
            "stage": self.stage,
            "colorspace": self.colorspace.name,
            "generator": self.generator_config,
            "image_size": int(self.image_size),
        }

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["colorgan"] = self.inference_record()
