"""`debug=tiny` (conf/debug/): the one shrink of the real config used by the tests and `bench --quick`."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import DictConfig, OmegaConf

from colorgan.config import config_dir
from tests.helpers import TINY, compose_config

CONF = Path(config_dir())
NEEDS_ROOT = {"folder", "prepared", "streaming"}


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def key_paths(node: DictConfig, prefix: str = "") -> set[str]:
    """Every key of a config subtree, dotted, without resolving interpolations."""
    keys = set()
    for key in node:
        path = f"{prefix}{key}"
        keys.add(path)
        child = node._get_node(key)
        if isinstance(child, DictConfig) and not child._is_missing() and not child._is_none():
            keys |= key_paths(child, f"{path}.")
    return keys


def test_tests_use_the_debug_group():
    assert TINY == ["debug=tiny"]


def test_tiny_shrinks_the_model_data_and_run(tmp_path):
    cfg = compose_config(tmp_path, TINY)
    assert cfg.encoder.name == "test_efficientnet" and cfg.encoder.weights == "none"
    assert cfg.image_size == 32 and cfg.data.source.image_size == 32
    assert list(cfg.model.generator.decoder_channels) == [32, 24, 16, 16, 8]
    assert cfg.model.freeze_encoder_steps == 0 and cfg.model.scheduler.warmup_steps == 2
    assert cfg.data.batch_size == 4 and cfg.data.num_workers == 0
    assert OmegaConf.select(cfg, "data.num_train", default=None) in (16, None)  # synthetic: a few images
    assert set(cfg.logger) == {"csv"}
    assert cfg.trainer.max_epochs == 1 and cfg.trainer.log_every_n_steps == 1
    assert not cfg.trainer.enable_progress_bar and not cfg.trainer.enable_model_summary


def test_tiny_gan_gets_a_small_discriminator(tmp_path):
    cfg = compose_config(tmp_path, [*TINY, "model=gan"])
    assert cfg.model.discriminator.base_channels == 8 and cfg.model.discriminator.num_layers == 2
    assert list(cfg.model.generator.decoder_channels) == [32, 24, 16, 16, 8]


def test_tiny_two_stage_gets_a_small_stage2_discriminator(tmp_path):
    cfg = compose_config(tmp_path, [*TINY, "experiment=two_stage"])
    assert cfg.two_stage.model.discriminator.base_channels == 8
    assert cfg.two_stage.model.discriminator.num_layers == 2


def test_command_line_values_win_over_the_debug_config(tmp_path):
    cfg = compose_config(
        tmp_path,
        [
            *TINY,
            "encoder=resnet34",
            "image_size=48",
            "logger=tensorboard",
            "model.generator.decoder_channels=[8,8,8,8,8]",
        ],
    )
    assert cfg.encoder.name == "resnet34" and cfg.image_size == 48 and set(cfg.logger) == {"tensorboard"}
    assert list(cfg.model.generator.decoder_channels) == [8, 8, 8, 8, 8]


@pytest.mark.parametrize("data", options("data"))
@pytest.mark.parametrize("model", options("model"))
def test_tiny_adds_no_key_the_chosen_stage_or_source_lacks(tmp_path, model, data):
    """A key a stage or source does not take would reach its constructor: debug=tiny only sets values."""
    chosen = [f"model={model}", f"data={data}", *([f"data.root={tmp_path}"] if data in NEEDS_ROOT else [])]
    plain = compose_config(tmp_path, chosen)
    tiny = compose_config(tmp_path, [*TINY, *chosen])
    for group in ("model", "data", "trainer", "encoder"):
        assert key_paths(tiny[group]) == key_paths(plain[group]), group


@pytest.mark.parametrize("experiment", options("experiment"))
def test_tiny_adds_no_key_the_chosen_experiment_lacks(tmp_path, experiment):
    plain = compose_config(tmp_path, [f"experiment={experiment}"])
    tiny = compose_config(tmp_path, [*TINY, f"experiment={experiment}"])
    keys = [key for key in plain if key not in ("hydra", "logger", "encoder")]  # those two it selects
    assert set(tiny) == set(plain)
    for key in keys:
        if OmegaConf.is_dict(plain[key]):
            assert key_paths(tiny[key]) == key_paths(plain[key]), key
