"""Every option of every config group composes, and the objects it names can be built."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from colorgan.config import config_dir
from colorgan.training import build_model, instantiate_group
from tests.conftest import TINY, compose_config

CONF = Path(config_dir())
# what some options need to compose into something usable
REQUIRED = {
    ("data", "folder"): ["data.root=/photos"],
    ("data", "prepared"): ["data.root=/cache"],
    ("data", "streaming"): ["data.root=/cache"],
    ("encoder", "timm"): ["encoder.name=resnet18"],
}


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


ALL = [
    (group, option)
    for group in ("colorspace", "data", "encoder", "model", "trainer", "logger", "callbacks", "experiment")
    for option in options(group)
]


@pytest.mark.parametrize(("group", "option"), ALL, ids=[f"{g}={o}" for g, o in ALL])
def test_every_option_composes(tmp_path, group, option):
    cfg = compose_config(tmp_path, [f"{group}={option}", *REQUIRED.get((group, option), [])])
    resolved = {  # every interpolation resolves
        key: OmegaConf.to_container(cfg[key], resolve=True) if OmegaConf.is_config(cfg[key]) else cfg[key]
        for key in cfg
        if key != "hydra"
    }
    assert resolved["paths"]["output_dir"] == str(tmp_path)
    assert cfg.trainer._target_ == "pytorch_lightning.Trainer"
    assert cfg.model._target_.startswith("colorgan.modules.")
    if group == "colorspace":
        assert cfg.colorspace.name == option
    if group == "encoder" and option != "timm":
        assert cfg.model.generator.encoder.name == cfg.encoder.name


def test_default_config_is_the_documented_default(tmp_path):
    cfg = compose_config(tmp_path)
    assert cfg.colorspace.name == "lab"
    assert cfg.encoder == {"name": "tf_efficientnet_lite0", "weights": "efficientnet_lite"}
    assert cfg.data.source == "synthetic"
    assert cfg.trainer.accelerator == "cpu"
    assert set(cfg.logger) == {"csv", "wandb"}
    assert cfg.logger.wandb.offline is True


@pytest.mark.parametrize("option", options("logger"))
def test_loggers_instantiate_offline(tmp_path, option):
    cfg = compose_config(tmp_path, [f"logger={option}"])
    loggers = instantiate_group(cfg.logger)
    assert len(loggers) == len(cfg.logger)
    assert all(isinstance(logger, pl.loggers.Logger) for logger in loggers)


def test_logger_list_selects_several(tmp_path):
    cfg = compose_config(tmp_path, ["logger=[csv,tensorboard]"])
    assert set(cfg.logger) == {"csv", "tensorboard"}


def test_callbacks_and_cpu_trainer_instantiate(tmp_path):
    cfg = compose_config(tmp_path, TINY)
    callbacks = instantiate_group(cfg.callbacks)
    names = {type(c).__name__ for c in callbacks}
    assert {"ModelCheckpoint", "SamplePanels", "FinalCheckpoint", "LearningRateMonitor"} <= names
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=False)
    assert isinstance(trainer, pl.Trainer)


@pytest.mark.parametrize("option", ["gpu", "ddp"])
def test_gpu_trainers_use_bf16(tmp_path, option):
    cfg = compose_config(tmp_path, [f"trainer={option}"])
    assert cfg.trainer.precision == "bf16-mixed"
    assert cfg.trainer.accelerator == "gpu"
    assert cfg.channels_last == "auto"


@pytest.mark.parametrize("space", options("colorspace"))
def test_model_heads_follow_the_color_space(tmp_path, space):
    cfg = compose_config(tmp_path, [*TINY, f"colorspace={space}"])
    model = build_model(cfg)
    assert model.colorspace.name == space
    chroma = model.generator(torch.zeros(2, 1, 32, 32))
    assert chroma.shape == (2, model.colorspace.chroma_channels, 32, 32)
