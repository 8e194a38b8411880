"""Every option of every config group composes, and the objects it names can be built."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from colorgan.build import build_model, instantiate_group
from colorgan.config import config_dir
from tests.helpers import TINY, compose_config

CONF = Path(config_dir())
# what some options need to compose into something usable
REQUIRED = {
    ("data", "folder"): ["data.root=/photos"],
    ("data", "prepared"): ["data.root=/cache"],
    ("data", "streaming"): ["data.root=/cache"],
    ("data", "places365"): ["data.root=/places365"],
    ("data", "torchvision"): ["data.root=/photos"],
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
    assert cfg.data.source._target_ == "colorgan.data.SyntheticSource"
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


@pytest.mark.parametrize(("setting", "expected"), [("auto", True), ("false", False), ("true", True)])
def test_channels_last_auto_is_on_for_the_cpu(tmp_path, setting, expected):
    model = build_model(compose_config(tmp_path, [*TINY, f"channels_last={setting}"]))
    model.on_fit_start()  # what Lightning calls once the module is on its device (here the CPU)
    assert model.use_channels_last is expected
    weight = next(p for p in model.generator.parameters() if p.ndim == 4 and min(p.shape[1:]) > 1)
    assert weight.is_contiguous(memory_format=torch.channels_last) is expected
    batch = model.on_after_batch_transfer(torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8), 0)
    assert batch["rgb"].is_contiguous(memory_format=torch.channels_last) is expected


@pytest.mark.parametrize("space", options("colorspace"))
def test_model_heads_follow_the_color_space(tmp_path, space):
    cfg = compose_config(tmp_path, [*TINY, f"colorspace={space}"])
    model = build_model(cfg)
    assert model.colorspace.name == space
    chroma = model.generator(torch.zeros(2, 1, 32, 32))
    assert chroma.shape == (2, model.colorspace.chroma_channels, 32, 32)


@pytest.mark.parametrize(
    ("text", "key"),
    [("data.batch_size=8", "data.batch_size"), ("+data.extra=1", "data.extra"), ("~logger", "logger"),
     ("data=folder", "data"), ("model.name='a=b,c'", "model.name"),
     ("hydra/launcher=basic", "hydra/launcher")],
)
def test_override_key_is_hydras_reading(text, key):
    from colorgan.config import override_key

    assert override_key(text) == key


def test_bad_override_is_a_user_error():
    from colorgan.config import override_key
    from colorgan.errors import UserError

    with pytest.raises(UserError, match="cannot parse"):
        override_key("x.y=[1,2")


def test_swept_keys_are_the_sweeps_only():
    from colorgan.config import swept_keys

    argv = ["-m", "--config-name", "train", "colorspace=lab,hsv", "data.crop=[1,2]", "model.lr=range(1,3)",
            "+tag=choice(a,b)", "model.name='x,y'", "encoder.name={a:1,b:2}", "image_size=32", "broken=[1"]
    assert swept_keys(argv) == ["colorspace", "model.lr", "tag"]


def test_resolvers_are_registered_on_import():
    import subprocess
    import sys

    code = ("import colorgan.config as c; from omegaconf import OmegaConf; "
            "assert OmegaConf.has_resolver('colorgan_run_dir'); "
            "c.register_resolvers(); c.register_resolvers()")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
