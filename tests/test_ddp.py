"""Two-process DDP on CPU through the real entry point: stage 1 (with a frozen encoder), the GAN stage, and
a bin model's color prior (summed over the processes).

Both need `trainer=ddp`'s find_unused_parameters: the GAN's two manual backward passes each leave one
network without gradients, and a frozen encoder has none.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from colorgan.checkpoints import resolve_checkpoint
from tests.helpers import TINY

# gloo on CPU; SyncBatchNorm is GPU-only
DDP_CPU = [
    "trainer=ddp",
    "trainer.accelerator=cpu",
    "trainer.devices=2",
    "trainer.precision=32-true",
    "trainer.sync_batchnorm=false",
]


def run_ddp(log_dir: Path, *overrides: str) -> Path:
    """Train with 2 CPU processes; return the run directory (16 images / 2 ranks / batch 4 = 2 steps)."""
    env = {**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "colorgan.train", *TINY, *DDP_CPU, f"paths.log_dir={log_dir}"]
    command += overrides
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=400)
    assert result.returncode == 0, result.stderr[-4000:]
    (run_dir,) = (log_dir / "train" / "runs").iterdir()
    return run_dir


@pytest.mark.slow
def test_stage1_ddp_with_encoder_frozen_then_released(tmp_path):
    run_dir = run_ddp(tmp_path, "model.freeze_encoder_steps=1")
    assert json.loads((run_dir / "metrics.json").read_text())["global_step"] == 2


@pytest.mark.slow
def test_gan_ddp_with_warmup_and_r1(tmp_path):
    run_dir = run_ddp(
        tmp_path,
        "model=gan",
        "model.discriminator.base_channels=8",
        "model.discriminator.num_layers=2",
        "model.d_warmup_steps=1",  # step 1: D alone; step 2: D then G
        "model.r1_gamma=1.0",
    )
    summary = json.loads((run_dir / "metrics.json").read_text())
    assert summary["global_step"] == 2
    assert torch.isfinite(torch.tensor(summary["final"]["val/loss"]))
    state = torch.load(resolve_checkpoint(run_dir), weights_only=True)["state_dict"]
    assert any(key.startswith("discriminator.") for key in state)


@pytest.mark.slow
def test_bins_ddp_sums_the_color_prior_over_processes(tmp_path):
    run_dir = run_ddp(tmp_path, "model.loss=bins", "data.batch_size=4", "image_size=32")
    summary = json.loads((run_dir / "metrics.json").read_text())
    last = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    counts = last["state_dict"]["bin_loss.counts"]
    cells = (32 // 4) ** 2  # logits at 1/4 resolution
    # every rank holds every rank's colors: steps x 2 ranks x 4 images x cells, not half of it
    assert counts.sum().item() == summary["global_step"] * 2 * 4 * cells
