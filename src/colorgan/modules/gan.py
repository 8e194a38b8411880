"""Stage 2: the U-Net refined against a PatchGAN discriminator (pix2pix: adversarial loss + λ·L1).

One training batch is one global step: first the discriminator, on detached fakes; then the generator, to
fool the (toggled-off) discriminator while staying close to the truth in the chroma loss (L1 or Huber,
shared with stage 1). During the optional warm-up (``d_warmup_steps``, DeOldify's "NoGAN" recipe) only
the discriminator learns, on the frozen generator. A non-finite loss skips that network's update (the
batch still counts as one global step) and is counted by the shared guard.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from hydra.utils import instantiate
from lightning_fabric.utilities.apply_func import move_data_to_device
from pytorch_lightning.core.optimizer import LightningOptimizer
from torch import Tensor, nn

from colorgan.color import available_colorspaces, get_colorspace
from colorgan.errors import UserError, checked_number
from colorgan.metrics import colorfulness, delta_e00
from colorgan.models.losses import CHROMA_LOSSES, AdversarialLoss, r1_penalty
from colorgan.modules.base import ColorizationModule
from colorgan.modules.selection import ColorSelection, ValidationSums

#: What the discriminator judges: the training space's chroma, or the whole image in any color space
#: (reached differentiably through `merge`, then `ColorSpace.encode`), e.g. rgb or lab.
DISCRIMINATOR_SPACES = ("chroma", *available_colorspaces())

log = logging.getLogger(__name__)


@contextmanager
def uncounted(optimizer: LightningOptimizer) -> Iterator[None]:
    """Step ``optimizer`` without advancing ``trainer.global_step``, so that one batch is one global step.

    Lightning counts every manual ``optimizer.step()`` (Lightning-AI/pytorch-lightning#17958), which would
    make max_steps, checkpoint intervals and the warm-up count half-batches.
    """
    before, after = optimizer._on_before_step, optimizer._on_after_step
    optimizer._on_before_step = optimizer._on_after_step = lambda: None
    try:
        yield
    finally:
        optimizer._on_before_step, optimizer._on_after_step = before, after


def count_skipped_step(optimizer: LightningOptimizer) -> None:
    """Advance ``trainer.global_step`` as ``optimizer.step()`` would, without updating any weight."""
    optimizer._on_before_step()
    optimizer._on_after_step()


class GANModule(ColorizationModule):
    """Generator + PatchGAN discriminator conditioned on luma; manual optimization (works under DDP/bf16)."""

    stage = "gan"
    best_metric = "val/selection"
    learning_rate_keys = "model.g_optimizer.lr and model.d_optimizer.lr"

    def __init__(
        self,
        colorspace: str,
        generator: dict[str, Any],
        discriminator: dict[str, Any],
        image_size: int = 128,
        init_from: str | None = None,
        d_space: str = "chroma",
        adversarial_loss: str = "vanilla",
        adversarial_weight: float = 1.0,
        l1_weight: float = 100.0,
        loss: str = "l1",
        huber_delta: float = 0.05,
        real_label: float = 1.0,
        r1_gamma: float = 0.0,
        g_optimizer: dict[str, Any] | None = None,
        d_optimizer: dict[str, Any] | None = None,
        scheduler: dict[str, Any] | None = None,
        d_warmup_steps: int = 0,
        d_single_pass: bool = False,
        freeze_encoder_steps: int = 0,
        max_nonfinite_steps: int | None = 5,
        gradient_clip_val: float | None = None,
        channels_last: bool | str = "auto",
        compile: bool = False,
        hints: dict[str, Any] | None = None,
        selection: dict[str, Any] | None = None,
        ema_decay: float | None = None,
        keep_freed_memory: bool | str = "auto",
        colorfulness_weight: float = 0.0,
        colorfulness_match: str = "image",
    ) -> None:
        if d_space not in DISCRIMINATOR_SPACES:
            raise ValueError(f"model.d_space must be one of {DISCRIMINATOR_SPACES}, got {d_space!r}")
        if loss not in CHROMA_LOSSES:
            raise UserError(
                f"model.loss={loss!r} is not a stage-2 loss: stage 2 fine-tunes the decoded chroma with "
                f"{' or '.join(CHROMA_LOSSES)} (a bin model from model.init_from keeps its bin head)"
            )
        for name, weight in (("r1_gamma", r1_gamma), ("l1_weight", l1_weight),
                             ("adversarial_weight", adversarial_weight)):
            checked_number(f"model.{name}", weight)
        if d_warmup_steps < 0:
            raise ValueError(f"model.d_warmup_steps must be >= 0, got {d_warmup_steps!r}")
        super().__init__(
            colorspace, generator, image_size, loss, huber_delta, freeze_encoder_steps, max_nonfinite_steps,
            channels_last, compile, hints=hints, ema_decay=ema_decay,
            keep_freed_memory=keep_freed_memory, colorfulness_weight=colorfulness_weight,
            colorfulness_match=colorfulness_match,
        )
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.adversarial = AdversarialLoss(adversarial_loss, real_label)
        self.judge_space = None if d_space == "chroma" else get_colorspace(d_space)
        d_channels = self.colorspace.chroma_channels if self.judge_space is None else 3
        d_channels += self.generator.hint_channels  # a hint model's D is conditioned on the hints too
        self.discriminator: nn.Module = instantiate(discriminator, in_channels=d_channels, _convert_="all")
        self.batch_finite = True  # whether every update of the current batch had a finite loss
        self.selection = ColorSelection(**(selection or {}))
        self.validation_sums = ValidationSums()

    def compile_modules(self) -> None:
        super().compile_modules()
        self.discriminator.compile()

    # ---- what the discriminator sees ---------------------------------------------------------
    def judged(self, luma: Tensor, chroma: Tensor, hints: Tensor | None = None) -> Tensor:
        """The color image the discriminator judges, in ``d_space``, differentiable w.r.t. ``chroma``;
        followed by the hint map (hint chroma + mask) for a hint model, so that D is conditioned on it."""
        color = chroma
        if self.judge_space is not None:
            color = self.judge_space.encode(self.colorspace.merge(luma, chroma))
        return color if hints is None else torch.cat([color, hints.to(color.dtype)], dim=1)

    def in_warmup(self) -> bool:
        """Whether this step trains the discriminator alone on the frozen generator."""
        return self.global_step < self.hparams.d_warmup_steps

    def frozen_generator_output(self, luma: Tensor, hints: Tensor | None = None) -> Tensor:
        """G(luma) with G untouched: eval mode (BatchNorm statistics fixed), no graph."""
        was_training = self.generator.training
        self.generator.eval()
        with torch.no_grad():
            chroma = self(luma, hints)
        self.generator.train(was_training)
        return chroma

    # ---- training ----------------------------------------------------------------------------
    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        g_opt, d_opt = self.optimizers()
        g_sched, d_sched = self.schedulers()
        luma, chroma_true, hints = batch["luma"], batch["chroma"], batch.get("hints")
        self.batch_finite = True
        warmup = self.in_warmup()
        fake_chroma = self.frozen_generator_output(luma, hints) if warmup else self(luma, hints)
        real = self.judged(luma, chroma_true, hints).detach()
        fake = self.judged(luma, fake_chroma.detach(), hints)
        logs = self.discriminator_step(d_opt, luma, real, fake, warmup)
        if d_sched is not None:
            d_sched.step()
        if not warmup:
            logs |= self.generator_step(g_opt, luma, fake_chroma, chroma_true, batch["rgb"], hints)
            if g_sched is not None:
                g_sched.step()
        else:
            logs["g_l1"] = self.chroma_loss(fake_chroma, chroma_true)
        logs["warmup"] = torch.tensor(float(warmup))
        self.record_step(self.batch_finite)
        for prog_bar in (True, False):
            shown = {f"train/{k}": v for k, v in logs.items() if (k in ("g_l1", "d_loss")) == prog_bar}
            self.log_dict(shown, batch_size=luma.shape[0], prog_bar=prog_bar)

    def discriminator_step(
        self, d_opt: LightningOptimizer, luma: Tensor, real: Tensor, fake: Tensor, counted: bool
    ) -> dict[str, Tensor]:
        """One D update on real and (detached) fake pairs; counted as the global step only in warm-up."""
        gamma = self.hparams.r1_gamma
        with self.toggled_optimizer(d_opt):
            if gamma > 0:
                real = real.requires_grad_(True)
            real_logits, fake_logits = self.judge_pair(luma, real, fake)
            d_real, d_fake = self.adversarial.discriminator(real_logits, fake_logits)
            d_loss = d_real + d_fake
            logs: dict[str, Tensor] = {}
            if gamma > 0:
                penalty = r1_penalty(real_logits, real)
                d_loss = d_loss + 0.5 * gamma * penalty
                logs["r1"] = penalty.detach()
            self.optimize(d_opt, d_loss, counted)
        acc_real, acc_fake = self.adversarial.accuracy(real_logits, fake_logits)
        return {
            **logs,
            "d_real": d_real.detach(),
            "d_fake": d_fake.detach(),
            "d_loss": d_loss.detach(),
            "d_acc_real": acc_real,
            "d_acc_fake": acc_fake,
        }

    def judge_pair(self, luma: Tensor, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:
        """D's logits for the real and the fake pairs: one pass on both stacked along the batch
        (``d_single_pass``: fewer, larger kernels; a BatchNorm D then normalizes real and fake together),
        else one pass each (pix2pix)."""
        if not self.hparams.d_single_pass:
            return self.discriminator(luma, real), self.discriminator(luma, fake)
        logits = self.discriminator(torch.cat([luma, luma]), torch.cat([real, fake]))
        real_logits, fake_logits = logits.split(luma.shape[0])
        return real_logits, fake_logits

    def generator_step(
        self, g_opt: LightningOptimizer, luma: Tensor, fake_chroma: Tensor, chroma_true: Tensor,
        rgb_true: Tensor, hints: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """One G update: fool the discriminator (whose parameters get no gradient) + λ·reconstruction,
        the chroma loss plus, with ``colorfulness_weight`` > 0, the colorfulness term against ``rgb_true``."""
        logs: dict[str, Tensor] = {}
        with self.toggled_optimizer(g_opt):
            judged = self.judged(luma, fake_chroma, hints)
            g_adv = self.adversarial.generator(self.discriminator(luma, judged))
            g_l1 = self.chroma_loss(fake_chroma, chroma_true)
            reconstruction = g_l1
            colorful = self.colorfulness_term(luma, fake_chroma, rgb_true)
            if colorful is not None:
                reconstruction = reconstruction + colorful
                logs["g_colorfulness"] = colorful.detach()
            g_loss = self.hparams.adversarial_weight * g_adv + self.hparams.l1_weight * reconstruction
            self.optimize(g_opt, g_loss, counted=True)
        return {**logs, "g_adv": g_adv.detach(), "g_l1": g_l1.detach(), "g_loss": g_loss.detach()}

    def optimize(self, optimizer: LightningOptimizer, loss: Tensor, counted: bool) -> None:
        """Backward, optional norm clipping, step; then free the gradients so none leak into the next step.

        A loss that is not finite on some process is still backpropagated (DDP needs every process to) but
        updates nothing; a counted step still advances the global step, so one batch stays one step.
        """
        finite = self.all_finite(loss)
        self.batch_finite &= finite
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        if not finite:
            if counted:
                count_skipped_step(optimizer)
        else:
            if clip := self.hparams.gradient_clip_val:
                self.clip_gradients(optimizer, gradient_clip_val=clip, gradient_clip_algorithm="norm")
            if counted:
                optimizer.step()
            else:
                with uncounted(optimizer):
                    optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def schedulers(self) -> tuple[Any, Any]:
        """(G's, D's) learning-rate schedulers, or (None, None)."""
        schedulers = self.lr_schedulers()
        return tuple(schedulers) if isinstance(schedulers, list) else (None, None)

    # ---- which checkpoint is best (`colorgan.modules.selection`) --------------------------------
    def on_train_start(self) -> None:
        """Score the starting generator on the validation photos once: the ΔE00 budget's reference."""
        datamodule = getattr(self.trainer, "datamodule", None)
        if self.selection.has_reference or datamodule is None:
            return
        sums = ValidationSums()
        was_training = self.generator.training
        self.generator.eval()
        with torch.no_grad():
            for batch in datamodule.val_dataloader():
                prepared = self.on_after_batch_transfer(move_data_to_device(batch, self.device), 0)
                rgb_pred = self.colorspace.merge(prepared["luma"], self.generator(prepared["luma"]).float())
                sums.add(delta_e00(rgb_pred, prepared["rgb"]), colorfulness(rgb_pred),
                         colorfulness(prepared["rgb"]))
        self.generator.train(was_training)
        deltae00, delta_cf = sums.means()
        if math.isfinite(deltae00):
            self.selection.set_reference(deltae00)
            log.info("stage 2 starts at validation ΔE00 %.3f, |ΔCF| %.2f: its best checkpoint will be the "
                     "one with the smallest |ΔCF| within ΔE00 %.3f (if none is, within the same budget of "
                     "the run's lowest ΔE00)", deltae00, delta_cf,
                     deltae00 * (1 + self.selection.max_increase))

    def on_validation_epoch_start(self) -> None:
        self.validation_sums = ValidationSums()

    def record_validation(self, deltae00: Tensor, colorfulness: Tensor, colorfulness_true: Tensor) -> None:
        self.validation_sums.add(deltae00, colorfulness, colorfulness_true)

    def on_validation_epoch_end(self) -> None:
        if self.validation_sums.count and not self.trainer.sanity_checking:
            score = self.selection.score(*self.validation_sums.means())
            self.log("val/selection", score, sync_dist=True)

    # ---- optimizers ----------------------------------------------------------------------------
    def configure_optimizers(self) -> Any:
        adam = {"_target_": "torch.optim.Adam", "lr": 2e-4, "betas": [0.5, 0.999]}
        g_opt = instantiate(
            self.hparams.g_optimizer or adam, params=self.generator.parameters(), _convert_="all"
        )
        d_opt = instantiate(
            self.hparams.d_optimizer or adam, params=self.discriminator.parameters(), _convert_="all"
        )
        if not self.hparams.scheduler:
            return [g_opt, d_opt]
        # stepped by hand once per optimizer step (G's only after the discriminator warm-up)
        total = self.trainer.estimated_stepping_batches
        schedulers = [
            instantiate(self.hparams.scheduler, optimizer=optimizer, total_steps=max(steps, 1))
            for optimizer, steps in ((g_opt, total - self.hparams.d_warmup_steps), (d_opt, total))
        ]
        return [g_opt, d_opt], schedulers
