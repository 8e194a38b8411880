"""Issue 8 #5, numerics: a NaN never looks like a good score, and a diverging run stops with one line.

Non-finite training losses skip their update (counted), too many in a row stop training with a
`UserError` (the CLI prints one line and exits 2); every metric gives NaN for NaN input instead of 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate

from colorgan.build import build_model
from colorgan.data import build_datamodule
from colorgan.errors import UserError
from colorgan.metrics import (
    ab_error_auc,
    ciede2000,
    colorfulness,
    delta_e00,
    gray_baseline,
    image_metrics,
    psnr,
    ssim,
)
from colorgan.modules import NonFiniteGuard, NonFiniteLossError
from tests.helpers import TINY

NAN = float("nan")


# ---- metrics ----------------------------------------------------------------------------------------
def poisoned_pair(value: float = NAN) -> tuple[torch.Tensor, torch.Tensor]:
    """(prediction, truth): image 0 of the prediction has one bad pixel, image 1 is clean."""
    torch.manual_seed(0)
    truth = torch.rand(2, 3, 16, 16)
    pred = (truth + 0.05 * torch.randn_like(truth)).clamp(0, 1)
    pred[0, :, 5, 7] = value
    return pred, truth


PAIR_METRICS: dict[str, Callable] = {
    "psnr": psnr,
    "ssim": ssim,
    "deltae00": delta_e00,
    "ab_auc": ab_error_auc,
    "colorfulness": lambda pred, truth: colorfulness(pred),
    **{f"image_metrics/{key}": (lambda pred, truth, key=key: image_metrics(pred, truth)[key])
       for key in ("psnr", "ssim", "deltae00", "ab_auc", "colorfulness", "delta_colorfulness")},
}


@pytest.mark.parametrize("name", list(PAIR_METRICS))
def test_a_nan_pixel_makes_that_images_score_nan(name):
    pred, truth = poisoned_pair()
    scores = PAIR_METRICS[name](pred, truth)
    assert torch.isnan(scores[0]), f"{name} hid a NaN: {scores[0].item()}"
    assert torch.isfinite(scores[1]), name  # the clean image of the same batch keeps its score
    assert torch.isnan(scores.mean())  # what validation logs: never a perfect-looking 0 or 1


@pytest.mark.parametrize("name", ["deltae00", "ab_auc", "colorfulness"])
def test_an_infinite_pixel_is_not_clipped_into_a_valid_score(name):
    pred, truth = poisoned_pair(float("inf"))
    assert torch.isnan(PAIR_METRICS[name](pred, truth)[0]), name


def test_ciede2000_and_the_gray_baseline_propagate_nan():
    lab = torch.tensor([[50.0, 10.0, -10.0], [NAN, 0.0, 0.0], [50.0, NAN, 3.0]])
    distances = ciede2000(lab, torch.tensor([[50.0, 12.0, -9.0]] * 3))
    assert torch.isfinite(distances[0]) and torch.isnan(distances[1:]).all()
    pred, _ = poisoned_pair()
    assert torch.isnan(gray_baseline(pred)[0, :, 5, 7]).all()


def test_gradients_stay_finite_where_the_inputs_are():
    pred, truth = poisoned_pair()
    pred = pred[1:].clone().requires_grad_(True)  # the clean image: the NaN guard must not cost gradients
    delta_e00(pred, truth[1:]).sum().backward()
    assert torch.isfinite(pred.grad).all()


# ---- the guard ----------------------------------------------------------------------------------------
def test_the_guard_counts_resets_and_stops_with_one_line():
    guard = NonFiniteGuard(3, "model.optimizer.lr")
    for step, finite in enumerate([False, False, True, False, False]):
        guard.record(finite, step)
    assert (guard.streak, guard.total) == (2, 4)
    with pytest.raises(NonFiniteLossError) as info:
        guard.record(False, 5)
    assert isinstance(info.value, UserError)
    message = str(info.value)
    assert "\n" not in message and "3 steps in a row" in message and "model.optimizer.lr" in message
    never = NonFiniteGuard(None)
    for step in range(50):
        never.record(False, step)
    assert never.total == 50


@pytest.mark.parametrize("bad", [-1, "five", 2.5, True])
def test_a_bad_max_nonfinite_steps_is_a_user_error(bad):
    with pytest.raises(UserError, match="max_nonfinite_steps"):
        NonFiniteGuard(bad)


# ---- training ---------------------------------------------------------------------------------------
class Snapshots(pl.Callback):
    """The trainable parameters of each network before and after every training batch."""

    def __init__(self, networks: tuple[str, ...]) -> None:
        self.networks = networks
        self.before: list[dict[str, dict[str, torch.Tensor]]] = []
        self.after: list[dict[str, dict[str, torch.Tensor]]] = []

    def _state(self, module: pl.LightningModule) -> dict[str, dict[str, torch.Tensor]]:
        return {name: {key: value.detach().clone() for key, value in getattr(module, name).named_parameters()}
                for name in self.networks}

    def on_train_batch_start(self, trainer, module, *args) -> None:
        self.before.append(self._state(module))

    def on_train_batch_end(self, trainer, module, *args) -> None:
        self.after.append(self._state(module))

    def moved(self, batch: int, network: str) -> bool:
        before, after = self.before[batch][network], self.after[batch][network]
        return any(not torch.equal(before[key], after[key]) for key in before)


def poison(function: Callable, module: pl.LightningModule, steps: set[int] | None) -> Callable:
    """``function`` whose result becomes NaN (still differentiable) at the given global steps (None: all)."""

    def poisoned(*args, **kwargs):
        result = function(*args, **kwargs)
        bad = steps is None or module.global_step in steps
        return tuple(r * NAN for r in result) if bad and isinstance(result, tuple) else result * NAN if bad \
            else result

    return poisoned


def fit(cfg, model: pl.LightningModule, max_steps: int, *callbacks: pl.Callback) -> pl.Trainer:
    trainer = instantiate(cfg.trainer, logger=False, enable_checkpointing=False, callbacks=list(callbacks),
                          max_steps=max_steps, limit_val_batches=0)
    trainer.fit(model, datamodule=build_datamodule(cfg.data))
    return trainer


def test_stage1_skips_a_nan_step_counts_it_and_goes_on(tiny_config):
    pl.seed_everything(0)
    cfg = tiny_config()
    model = build_model(cfg)
    model.chroma_loss = poison(model.chroma_loss, model, steps={1, 2})
    snapshots = Snapshots(("generator",))
    trainer = fit(cfg, model, 4, snapshots)
    assert trainer.global_step == 4  # skipped batches still count as steps
    assert [snapshots.moved(batch, "generator") for batch in range(4)] == [True, False, False, True]
    assert trainer.callback_metrics["train/nonfinite_steps"] == 2
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_stage1_stops_after_max_nonfinite_steps_in_a_row_with_nothing_updated(tiny_config):
    pl.seed_everything(0)
    cfg = tiny_config("model.max_nonfinite_steps=3")
    model = build_model(cfg)
    initial = {key: value.clone() for key, value in model.generator.named_parameters()}
    model.chroma_loss = poison(model.chroma_loss, model, steps=None)
    with pytest.raises(NonFiniteLossError) as info:
        fit(cfg, model, 20)
    assert isinstance(info.value, UserError)
    assert "\n" not in str(info.value) and "3 steps in a row" in str(info.value)
    assert "model.optimizer.lr" in str(info.value)
    assert model.nonfinite.total == 3
    assert all(torch.equal(initial[key], value) for key, value in model.generator.named_parameters())


def test_gan_skips_each_networks_nan_update_and_stops_after_too_many(tiny_config):
    pl.seed_everything(0)
    cfg = tiny_config("model=gan", "model.max_nonfinite_steps=3", "trainer.max_epochs=3")
    model = build_model(cfg)
    model.adversarial.discriminator = poison(model.adversarial.discriminator, model, steps={1})
    model.chroma_loss = poison(model.chroma_loss, model, steps={2, 3})  # G's reconstruction term
    snapshots = Snapshots(("generator", "discriminator"))
    with pytest.raises(NonFiniteLossError, match=r"model\.g_optimizer\.lr"):
        fit(cfg, model, 10, snapshots)
    moved = [(snapshots.moved(b, "generator"), snapshots.moved(b, "discriminator")) for b in range(3)]
    assert moved == [(True, True), (True, False), (False, True)]  # batch 1: D's NaN; batch 2: G's
    assert len(snapshots.before) == 4 and model.nonfinite.total == 3  # batches 1, 2, 3 in a row: stop
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_a_diverging_run_exits_2_with_one_line_not_a_perfect_score(tmp_path):
    """The issue's case: `model.optimizer.lr=1e6` used to exit 0 with `best val/deltae00: 0.000`."""
    env = {**os.environ, "WANDB_MODE": "disabled", "WANDB_SILENT": "true"}
    command = [sys.executable, "-m", "colorgan.train", *TINY, f"paths.log_dir={tmp_path}",
               "model.optimizer.lr=1e6", "trainer.max_epochs=3"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 2, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "in a row" in errors[0] and "model.optimizer.lr" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert "best val/deltae00" not in result.stdout
    assert Path(tmp_path).is_dir()
