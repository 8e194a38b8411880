"""Stage 2's best checkpoint: the smallest |ΔCF| within a ΔE00 budget (`colorgan.modules.selection`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch

from colorgan.modules.callbacks import BestCheckpoint
from colorgan.modules.selection import OUT_OF_REACH, OVER_BUDGET, ColorSelection, ValidationSums
from colorgan.train import train
from tests.helpers import TINY, compose_config, read_column


def test_within_the_budget_the_closest_colorfulness_wins():
    rule = ColorSelection(max_deltae00_increase=0.05)
    rule.set_reference(10.0)
    dull, colorful, too_far = rule.score(10.0, 15.0), rule.score(10.4, 6.0), rule.score(10.6, 1.0)
    assert colorful < dull < too_far  # 10.4 is within 5 %, 10.6 is not
    assert too_far == pytest.approx(OVER_BUDGET + 10.6)


def test_over_budget_checkpoints_rank_by_deltae_and_a_lower_deltae_tightens_the_budget():
    rule = ColorSelection(max_deltae00_increase=0.0)
    rule.set_reference(20.0)
    assert rule.score(25.0, 1.0) == OUT_OF_REACH + 1.0  # the run's lowest so far: second tier
    assert rule.score(24.0, 9.0) == OUT_OF_REACH + 9.0
    assert rule.score(26.0, 0.0) > rule.score(25.0, 1.0) > OVER_BUDGET  # over both: lower ΔE00 first
    assert rule.score(8.0, 3.0) == 3.0  # a better ΔE00 than the start: within budget, and the new reference
    assert float(rule.reference) == 8.0 and rule.score(8.5, 0.0) > OVER_BUDGET


def test_without_a_reference_the_first_validation_sets_it_and_nan_stays_nan():
    rule = ColorSelection()
    assert not rule.has_reference
    assert rule.score(12.0, 4.0) == 4.0 and float(rule.reference) == 12.0
    assert math.isnan(rule.score(float("nan"), 1.0))
    with pytest.raises(ValueError, match="max_deltae00_increase"):
        ColorSelection(max_deltae00_increase=-0.1)


def test_validation_sums_weigh_every_image_alike():
    sums = ValidationSums()
    sums.add(torch.tensor([1.0, 3.0]), torch.tensor([10.0, 20.0]), torch.tensor([30.0, 30.0]))
    sums.add(torch.tensor([5.0]), torch.tensor([60.0]), torch.tensor([30.0]))
    deltae, delta_cf = sums.means()
    assert deltae == pytest.approx(3.0) and delta_cf == pytest.approx(0.0)
    assert all(math.isnan(value) for value in ValidationSums().means())


def test_auto_monitor_follows_the_module(tmp_path: Path):
    class Stage:
        best_metric = "val/selection"

    trainer = pl.Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False)
    callback = BestCheckpoint(dirpath=tmp_path, mode="min", save_top_k=1)
    callback.setup(trainer, Stage(), "fit")  # type: ignore[arg-type]
    assert callback.monitor == "val/selection"
    fixed = BestCheckpoint(dirpath=tmp_path, monitor="val/psnr", mode="max", save_top_k=1)
    fixed.setup(trainer, Stage(), "fit")  # type: ignore[arg-type]
    assert fixed.monitor == "val/psnr"


def test_a_gan_run_picks_its_best_by_selection_from_the_stage1_reference(tmp_path: Path):
    stage1 = tmp_path / "s1"
    train(compose_config(stage1, [*TINY, "data.num_train=8", "callbacks.sample_panels=null"]))
    stage1_metrics = json.loads((stage1 / "metrics.json").read_text())
    assert stage1_metrics["monitor"] == "val/deltae00"
    gan = tmp_path / "gan"
    overrides = [o for o in TINY if not o.startswith("encoder=")]
    train(compose_config(gan, [*overrides, "model=gan", f"model.init_from={stage1}", "data.num_train=8",
                               "model.discriminator.base_channels=8", "model.discriminator.num_layers=2",
                               "trainer.max_epochs=2", "callbacks.sample_panels=null"]))
    metrics = json.loads((gan / "metrics.json").read_text())
    assert metrics["monitor"] == "val/selection"
    assert metrics["best_score"] == pytest.approx(min(
        row for row in read_column(gan / "csv" / "metrics.csv", "val/selection")))
    state = torch.load(next((gan / "checkpoints").glob("best-*.ckpt")), weights_only=True)["state_dict"]
    # the reference is the stage-1 generator's ΔE00 on the same validation photos, before any GAN step
    reference = float(state["selection.reference"])
    assert math.isfinite(reference) and reference <= stage1_metrics["final"]["val/deltae00"] * 1.5




def test_when_no_validation_reaches_the_budget_the_most_colorful_near_the_runs_best_wins():
    rule = ColorSelection(max_deltae00_increase=0.05)
    rule.set_reference(9.7)  # a lucky low: every validation below is over 9.7 x 1.05 = 10.185
    first, dull_best, colorful_near = rule.score(10.4, 11.0), rule.score(10.2, 15.0), rule.score(10.6, 6.0)
    far = rule.score(10.8, 2.0)  # over 10.2 x 1.05 = 10.71 too
    assert OUT_OF_REACH < colorful_near < first < dull_best < OVER_BUDGET < far
    assert rule.score(10.1, 14.0) == 14.0  # within the first budget: beats every second-tier score
    assert float(rule.lowest) == 10.1


def test_a_checkpoint_saved_before_the_second_tier_loads_with_an_empty_lowest():
    rule = ColorSelection()
    rule.set_reference(9.0)
    old = {key: value for key, value in rule.state_dict().items() if key != "lowest"}
    restored = ColorSelection()
    restored.load_state_dict(old)
    assert float(restored.reference) == 9.0 and math.isinf(float(restored.lowest))
