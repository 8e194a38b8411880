"""Training end to end on the real (shrunk) config: every color space, overfitting, checkpoints."""

from __future__ import annotations

import json

import pytest
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate

from colorgan.build import build_model
from colorgan.color import available_colorspaces
from colorgan.data import build_datamodule
from colorgan.train import train

SPACES = ["lab", "yuv", "ycbcr", "luv", "hsv", "rgb"]


def test_every_space_is_configured():
    assert sorted(SPACES) == sorted(available_colorspaces())


@pytest.mark.parametrize("space", SPACES)
def test_fast_dev_run_every_space(tiny_config, space):
    cfg = tiny_config(f"colorspace={space}", "+trainer.fast_dev_run=2")
    summary = train(cfg)
    assert summary["global_step"] == 2
    final = summary["final"]
    assert torch.isfinite(torch.tensor(final["train/loss"]))
    assert 0.0 <= final["val/deltae00"] < 100.0
    assert final["val/psnr"] > 5.0


def test_run_dir_has_checkpoints_samples_and_logs(tiny_config, tmp_path):
    cfg = tiny_config("trainer.max_epochs=2")
    summary = train(cfg)
    run_dir = tmp_path / "run"
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert summary["best_checkpoint"] and (run_dir / "checkpoints").glob("best-*.ckpt")
    panels = sorted((run_dir / "samples").glob("step*.png"))
    assert len(panels) == 2  # one per validation epoch
    header = (run_dir / "csv" / "metrics.csv").read_text().splitlines()[0]
    assert "val/deltae00" in header and "train/loss" in header
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["global_step"] == summary["global_step"] == 8
    assert metrics["monitor"] == "val/deltae00"


def test_checkpoint_is_plain_data_with_inference_record(tiny_config, tmp_path):
    cfg = tiny_config("colorspace=yuv", "trainer.max_steps=2")
    train(cfg)
    checkpoint = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    record = checkpoint["colorgan"]
    assert record["colorspace"] == "yuv"
    assert record["image_size"] == 32
    assert record["generator"]["encoder"] == {"name": "test_efficientnet", "weights": "none"}
    assert record["stage"] == "unet"


def test_overfit_four_images_halves_the_loss(tiny_config):
    """A few dozen steps on 4 fixed images cut the training L1 by more than half."""
    cfg = tiny_config("model.freeze_encoder_steps=0", "model.optimizer.lr=3e-3", "model.scheduler=null")
    pl.seed_everything(0)
    datamodule = build_datamodule(cfg.data)
    datamodule.setup("fit")
    images = torch.stack([datamodule.val_dataset[i] for i in range(4)])
    model = build_model(cfg)
    optimizer = model.configure_optimizers()["optimizer"]
    model.train()
    batch = model.on_after_batch_transfer(images, 0)
    losses = []
    for _ in range(40):
        loss = model.chroma_loss(model(batch["luma"]), batch["chroma"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert min(losses[-5:]) < 0.5 * losses[0], losses


def test_frozen_encoder_does_not_move(tiny_config):
    cfg = tiny_config("model.freeze_encoder_steps=-1", "trainer.max_steps=3")
    pl.seed_everything(0)
    model = build_model(cfg)
    before = {k: v.clone() for k, v in model.generator.encoder.state_dict().items()}
    decoder_before = [p.clone() for p in model.generator.decoder.parameters()]
    trainer = instantiate(cfg.trainer, logger=False, enable_checkpointing=False)
    trainer.fit(model, datamodule=build_datamodule(cfg.data))
    after = model.generator.encoder.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    decoder_after = list(model.generator.decoder.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(decoder_before, decoder_after, strict=True))
