"""Weight averaging (``model.ema_decay``): what validation, checkpoints and a resume get."""

from __future__ import annotations

import itertools

import pytest
import pytorch_lightning as pl
import torch

from colorgan.build import build_model, build_run
from colorgan.checkpoints import read_checkpoint
from colorgan.modules.averaging import EMAWeights, ema_average, warmed_up_decay
from colorgan.train import fit

WATCHED = "generator.head.0.weight"


class WeightLog(pl.Callback):
    """The watched weight after every optimizer step, and the weights validation saw."""

    def __init__(self) -> None:
        self.after_step: list[torch.Tensor] = []
        self.validated: list[torch.Tensor] = []

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        self.after_step.append(pl_module.state_dict()[WATCHED].detach().clone())

    def on_validation_batch_start(self, trainer, pl_module, *args) -> None:
        if not trainer.sanity_checking:
            self.validated.append(pl_module.state_dict()[WATCHED].detach().clone())


def expected_average(weights: list[torch.Tensor], decay: float) -> torch.Tensor:
    """The average `EMAWeights` should hold after these per-step weights (the first one is copied)."""
    average = weights[0].clone()
    for updates, weight in enumerate(weights[1:], start=1):
        step_decay = warmed_up_decay(decay, updates)
        average = average * step_decay + weight * (1 - step_decay)
    return average


def test_the_decay_warms_up_and_settles():
    decays = [warmed_up_decay(0.99, n) for n in range(2000)]
    assert decays[0] == pytest.approx(0.1)
    assert all(a <= b for a, b in itertools.pairwise(decays))
    assert decays[-1] == 0.99 and decays[100] < 0.99


def test_one_update_moves_the_average_toward_the_weights():
    average, current = torch.zeros(3), torch.ones(3)
    updated = ema_average(0.9)(average, current, torch.tensor(1000))
    assert torch.allclose(updated, torch.full((3,), 0.1))


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5, 2.0])
def test_a_decay_outside_zero_one_is_refused(tiny_config, decay):
    with pytest.raises(Exception, match="ema_decay must be in"):  # wrapped by hydra.utils.instantiate
        build_model(tiny_config(f"model.ema_decay={decay}"))
    with pytest.raises(ValueError, match="decay must be in"):
        EMAWeights(decay)


def test_without_ema_decay_there_is_no_averaging(tiny_config):
    model = build_model(tiny_config())
    assert model.configure_callbacks() == []


@pytest.mark.parametrize("stage", ["unet", "gan"])
def test_validation_and_checkpoints_use_the_average_and_resume_gets_the_raw_weights(tiny_config, tmp_path,
                                                                                   stage):
    decay = 0.6
    run = build_run(tiny_config(f"model={stage}", f"model.ema_decay={decay}", "trainer.max_epochs=2"))
    weights = WeightLog()
    run.trainer.callbacks.append(weights)
    fit(run)

    steps = len(weights.after_step)
    assert steps == 8  # two epochs of four batches, validated after each
    average = expected_average(weights.after_step, decay)
    raw = weights.after_step[-1]
    assert not torch.allclose(average, raw, atol=1e-6)  # the test can tell them apart
    assert torch.allclose(weights.validated[-1], average, atol=1e-6)  # validation judged the average

    checkpoints = tmp_path / "run" / "checkpoints"
    last = torch.load(checkpoints / "last.ckpt", weights_only=True)
    assert torch.allclose(last["state_dict"][WATCHED], average, atol=1e-6)
    assert torch.allclose(last["current_model_state"][WATCHED], raw, atol=1e-6)
    best = next(checkpoints.glob("best-*.ckpt"))
    best_step = int(best.stem.removeprefix("best-step"))
    _, generator_weights = read_checkpoint(best)
    best_average = expected_average(weights.after_step[:best_step], decay)
    assert torch.allclose(generator_weights[WATCHED.removeprefix("generator.")], best_average, atol=1e-6)

    resumed = build_run(tiny_config(f"model={stage}", f"model.ema_decay={decay}", "trainer.max_epochs=3",
                                    f"resume={tmp_path / 'run'}"))
    before = {}
    resumed.trainer.callbacks.append(pl.callbacks.LambdaCallback(
        on_train_start=lambda trainer, module: before.setdefault("w", module.state_dict()[WATCHED].clone())))
    fit(resumed)
    assert torch.allclose(before["w"], raw, atol=1e-6)  # training goes on from the raw weights
