"""Shared test helpers: compose the real Hydra config and shrink it to seconds on a CPU."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from colorgan.config import CONFIG_NAME, config_dir, register_resolvers

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")

# the real config, shrunk: a 82k-parameter encoder, 32 px images, a handful of steps
TINY = [
    "encoder=tiny",
    "image_size=32",
    "data.batch_size=4",
    "data.num_workers=0",
    "data.num_train=16",
    "data.num_val=8",
    "logger=csv",
    "trainer.max_epochs=1",
    "trainer.log_every_n_steps=1",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "model.generator.decoder_channels=[32,24,16,16,8]",
    "model.scheduler.warmup_steps=2",
    "model.freeze_encoder_steps=0",
]


def compose_config(run_dir: Path, overrides: list[str] | None = None) -> DictConfig:
    """Compose conf/train.yaml with overrides, as `python -m colorgan.train` would, writing into run_dir."""
    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(CONFIG_NAME, overrides=overrides or [], return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(run_dir)
        cfg.hydra.job.num = 0
    HydraConfig().set_config(cfg)
    with open_dict(cfg):
        cfg.paths.output_dir = str(run_dir)
        cfg.paths.log_dir = str(run_dir.parent)
    return cfg


@pytest.fixture
def tiny_config(tmp_path: Path):
    """A factory: tiny_config(*overrides) -> composed, shrunk config writing into tmp_path/run."""

    def make(*overrides: str) -> DictConfig:
        return compose_config(tmp_path / "run", [*TINY, *overrides])

    return make
