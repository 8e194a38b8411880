"""What both training stages share: color space, generator, device-side batch preparation, the chroma loss,
the encoder-freeze schedule, the guard against non-finite losses, validation and the inference record."""

from __future__ import annotations

import logging
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from torch import Tensor

from colorgan import allocator, checkpoints
from colorgan.color import get_colorspace
from colorgan.errors import UserError, checked_number
from colorgan.metrics import colorfulness, delta_e00, gray_baseline, psnr
from colorgan.models.bins import HEAD_SETTINGS, BinLoss, check_head
from colorgan.models.hints import EVAL_PATCH, HintSettings, simulate_hints, truth_hints
from colorgan.models.losses import CHROMA_LOSSES, ChromaLoss, ColorfulnessLoss
from colorgan.modules.averaging import EMAWeights, checked_decay
from colorgan.modules.nonfinite import NonFiniteGuard

log = logging.getLogger(__name__)

#: true-color hints per validation image for the ``val/hints_*`` metrics of a hint model
VAL_HINTS = 10
#: devices where ``channels_last: auto`` turns NHWC on: both train faster in it (CPU: 1.24-1.3x at 256 px,
#: never slower; benchmarks/levers.md, RESULTS.md); MPS and others stay NCHW
CHANNELS_LAST_DEVICES = ("cuda", "cpu")


class ColorizationModule(pl.LightningModule):
    """Base LightningModule: uint8 RGB batches in, luma/chroma split on the device, quality metrics out.

    Shared by both stages: ``chroma_loss`` (l1 | huber), with ``colorfulness_weight`` > 0 the
    colorfulness-matching term added to it in training (`colorfulness_term`), the encoder-freeze schedule
    (the generator keeps whether its encoder is frozen; ``train/encoder_frozen`` is logged every step), the
    non-finite guard (``train/nonfinite_steps``; see `colorgan.modules.nonfinite`), with ``ema_decay`` an
    exponential moving average of the weights for validation and checkpoints (`colorgan.modules.averaging`),
    and ``keep_freed_memory`` (auto: on for CPU training; `colorgan.allocator`).

    With ``hints.enabled`` the generator also takes color hints (`colorgan.models.hints`): training batches
    get simulated hints from their own truth; validation scores the automatic colorization (no hints,
    ``val/psnr``...) and, with `VAL_HINTS` true-color hints drawn with a fixed seed, ``val/hints_psnr``...
    """

    stage: str = "base"
    #: what picks the best checkpoint (lower is better; `BestCheckpoint` with ``monitor: auto`` reads it)
    best_metric: str = "val/deltae00"
    #: the learning-rate settings to name when training stops on non-finite losses
    learning_rate_keys: str = "the learning rate"

    def __init__(
        self,
        colorspace: str,
        generator: dict[str, Any],
        image_size: int = 128,
        loss: str = "l1",
        huber_delta: float = 0.05,
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
        super().__init__()
        self.colorspace = get_colorspace(colorspace)
        if check_loss(loss) == BINS_LOSS:  # the generator gets a bin head; val/loss is the bin loss too
            generator = {**generator, "head": bin_head_config(bins, self.colorspace.chroma_channels)}
        self.chroma_loss = ChromaLoss("l1" if loss == BINS_LOSS else loss, huber_delta)
        self.colorfulness_weight = checked_number("model.colorfulness_weight", colorfulness_weight)
        self.colorfulness_loss = ColorfulnessLoss(colorfulness_match)
        self.hint_settings = HintSettings.from_config(hints)
        channels = self.colorspace.chroma_channels  # the generator's outputs come from the color space
        extra = {"hints": True} if self.hint_settings.enabled else {}
        self.generator = instantiate(generator, chroma_channels=channels, **extra, _convert_="all")
        self.generator_config = generator
        self.bin_loss = build_bin_loss(self.generator, bins) if loss == BINS_LOSS else None
        self.image_size = image_size
        self.freeze_encoder_steps = int(freeze_encoder_steps)
        self.nonfinite = NonFiniteGuard(max_nonfinite_steps, self.learning_rate_keys)
        self.channels_last_setting = channels_last
        self.compile_networks = compile
        self.use_channels_last = False
        self.ema_decay = None if ema_decay is None else checked_decay(ema_decay)
        allocator.wanted(keep_freed_memory, "cpu")  # a bad value fails here, not at the start of fit
        self.keep_freed_memory = keep_freed_memory

    def configure_callbacks(self) -> list[pl.Callback]:
        """With ``ema_decay``, the weight average (`EMAWeights`) that validation and checkpoints use."""
        return [EMAWeights(self.ema_decay)] if self.ema_decay is not None else []

    # ---- device-side preparation -------------------------------------------------------------
    def on_fit_start(self) -> None:
        setting = self.channels_last_setting
        auto = self.device.type in CHANNELS_LAST_DEVICES
        self.use_channels_last = auto if setting == "auto" else bool(setting)
        if allocator.wanted(self.keep_freed_memory, self.device.type):
            allocator.keep_freed_memory()
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
        prepared = {"rgb": rgb, "luma": luma, "chroma": chroma}
        if self.hint_settings.enabled and self.training:  # simulated from the truth, on the device
            prepared["hints"] = simulate_hints(chroma, self.hint_settings)
        return prepared

    def forward(
        self, luma: Tensor, hints: Tensor | None = None, output: str = "chroma"
    ) -> Tensor | tuple[Tensor | None, Tensor | None]:
        """Predicted normalized chroma for a luma batch (and hint maps, for a hint model); ``output`` as in
        `UNetColorizer.forward` (a bin model's logits too)."""
        if output != "chroma":
            return self.generator(luma, hints, output=output)
        return self.generator(luma, hints) if hints is not None else self.generator(luma)

    @torch.no_grad()
    def predict_rgb(self, luma: Tensor) -> Tensor:
        """Colorized RGB in [0,1] for a luma batch (eval helper for panels and inference)."""
        chroma = self.generator(luma)
        return self.colorspace.merge(luma.float(), chroma.float())

    # ---- shared training rules ---------------------------------------------------------------
    def encoder_should_be_frozen(self) -> bool:
        """The schedule: frozen for the first ``freeze_encoder_steps`` global steps (-1: always)."""
        steps = self.freeze_encoder_steps
        return steps < 0 or self.global_step < steps

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        frozen = self.encoder_should_be_frozen()
        if frozen != self.generator.encoder_frozen:
            self.generator.set_encoder_frozen(frozen)
        self.log("train/encoder_frozen", float(self.generator.encoder_frozen))

    def all_finite(self, *losses: Tensor) -> bool:
        """Whether every loss is finite on every process (so that all processes take the same branch)."""
        finite = all(bool(torch.isfinite(loss.detach()).all()) for loss in losses)
        return self.trainer.strategy.reduce_boolean_decision(finite, all=True)

    def record_step(self, finite: bool) -> None:
        """Count one training batch as finite or not; warn on a skipped step, stop after too many in a row."""
        self.nonfinite.record(finite, self.global_step)  # raises NonFiniteLossError at the limit
        if not finite and self.trainer.is_global_zero:
            log.warning(
                "non-finite training loss at step %d: optimizer step skipped (%d in a row, %d in all)",
                self.global_step, self.nonfinite.streak, self.nonfinite.total,
            )
        self.log("train/nonfinite_steps", float(self.nonfinite.total))

    # ---- validation ----------------------------------------------------------------------------
    def reconstruction_loss(
        self, chroma: Tensor | None, logits: Tensor | None, target: Tensor, update: bool = False
    ) -> Tensor:
        """The chroma loss (l1 | huber) or, with ``loss: bins``, the rebalanced bin loss on ``logits``
        (``update``: count this batch's colors into its prior first, training only)."""
        if self.bin_loss is not None and logits is not None:
            return self.bin_loss(logits, target, update=update)
        return self.chroma_loss(chroma, target)

    def colorfulness_term(self, luma: Tensor, chroma: Tensor, rgb: Tensor) -> Tensor | None:
        """``colorfulness_weight`` x `ColorfulnessLoss` of the predicted image against the true one; None
        when the weight is 0 (the term then costs nothing)."""
        if self.colorfulness_weight == 0:
            return None
        with torch.autocast(self.device.type, enabled=False):  # the color conversion in float32 under AMP
            rgb_pred = self.colorspace.merge(luma.float(), chroma.float())
            return self.colorfulness_weight * self.colorfulness_loss(rgb_pred, rgb.float())

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        chroma, logits = self.generator(batch["luma"], output="both")
        chroma = chroma.float()
        rgb_pred = self.colorspace.merge(batch["luma"], chroma)
        rgb = batch["rgb"]
        gray = gray_baseline(rgb)
        deltae, colors, colors_true = delta_e00(rgb_pred, rgb), colorfulness(rgb_pred), colorfulness(rgb)
        self.record_validation(deltae, colors, colors_true)
        values = {
            "loss": self.reconstruction_loss(chroma, logits, batch["chroma"]),
            "psnr": psnr(rgb_pred, rgb).mean(),
            "deltae00": deltae.mean(),
            "colorfulness": colors.mean(),
            "colorfulness_true": colors_true.mean(),
            "baseline_gray/psnr": psnr(gray, rgb).mean(),
            "baseline_gray/deltae00": delta_e00(gray, rgb).mean(),
            **self.validation_with_hints(batch, batch_idx),
        }
        shown = {"deltae00"}
        for prog_bar in (True, False):
            self.log_dict(
                {f"val/{key}": value for key, value in values.items() if (key in shown) == prog_bar},
                batch_size=rgb.shape[0],
                sync_dist=True,
                prog_bar=prog_bar,
            )

    def record_validation(self, deltae00: Tensor, colorfulness: Tensor, colorfulness_true: Tensor) -> None:
        """Per-image ΔE00 and colorfulness of one validation batch, for a stage's own selection rule."""

    def validation_with_hints(self, batch: dict[str, Tensor], batch_idx: int) -> dict[str, Tensor]:
        """PSNR and ΔE00 with `VAL_HINTS` true-color hints (same places every epoch); {} without hints."""
        if not self.hint_settings.enabled:
            return {}
        generator = torch.Generator().manual_seed(batch_idx)
        hints = truth_hints(batch["chroma"].float(), VAL_HINTS, EVAL_PATCH, generator)
        rgb_pred = self.colorspace.merge(batch["luma"], self.generator(batch["luma"], hints).float())
        rgb = batch["rgb"]
        return {"hints_psnr": psnr(rgb_pred, rgb).mean(), "hints_deltae00": delta_e00(rgb_pred, rgb).mean()}

    # ---- checkpoints ---------------------------------------------------------------------------
    def inference_record(self) -> dict[str, Any]:
        """Plain data that lets inference rebuild the generator from the checkpoint alone."""
        hints = self.hint_settings.as_dict() if self.hint_settings.enabled else None
        return checkpoints.inference_record(self.stage, self.colorspace.name, self.generator_config,
                                            self.image_size, hints=hints)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["colorgan"] = self.inference_record()


#: ``model.loss`` value that makes stage 1 a classification over chroma bins (`colorgan.models.bins`)
BINS_LOSS = "bins"
_LOSS_KEYS = ("rebalance", "smoothing")


def bin_head_config(bins: dict[str, Any] | None, chroma_channels: int) -> dict[str, Any]:
    """The generator's ``head`` config (plain data, kept in the checkpoint record) from ``model.bins``,
    checked: a bad setting is one UserError naming it."""
    settings = dict(bins or {})
    unknown = set(settings) - set(HEAD_SETTINGS) - set(_LOSS_KEYS)
    if unknown:
        raise UserError(f"unknown model.bins settings: {', '.join(sorted(unknown))} "
                        f"(known: {', '.join(HEAD_SETTINGS + _LOSS_KEYS)})")
    head = {key: settings[key] for key in HEAD_SETTINGS if key in settings}
    try:
        check_head(chroma_channels, **head)
    except ValueError as error:
        raise UserError(f"model.bins: {error}") from error
    return {"kind": "bins", **head}


def build_bin_loss(generator: Any, bins: dict[str, Any] | None) -> BinLoss:
    """The rebalanced bin loss for ``generator``'s bin head and the ``model.bins`` loss settings."""
    settings = {key: value for key, value in (bins or {}).items() if key in _LOSS_KEYS}
    try:
        return BinLoss(generator.head.grid, generator.head.stride, **settings)
    except ValueError as error:
        raise UserError(f"model.bins: {error}") from error


def check_loss(loss: str) -> str:
    """``loss`` if it is a stage-1 loss name, else a one-line UserError."""
    if loss not in (*CHROMA_LOSSES, BINS_LOSS):
        raise UserError(f"model.loss must be one of {', '.join((*CHROMA_LOSSES, BINS_LOSS))}, got {loss!r}")
    return loss
