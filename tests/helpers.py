"""Shared test helpers: compose the real Hydra config, shrunk to seconds on a CPU by `debug=tiny`.

Import these from test modules (``from tests.helpers import TINY, compose_config``); ``conftest.py`` only
holds fixtures and is never imported.
"""

from __future__ import annotations

import csv
import os
import signal
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict
from PIL import Image

from colorgan.config import CONFIG_NAME, config_dir, register_resolvers

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")

# the real config, shrunk by conf/debug/tiny.yaml: a 82k-parameter encoder, 32 px images, a handful of
# steps (the same shrink `python -m colorgan.bench --quick` uses)
TINY = ["debug=tiny"]


def default_sigint() -> None:
    """``preexec_fn`` of a child the test will Ctrl-C: SIGINT at its default, whatever the test runner
    inherited (a shell without job control starts background jobs with SIGINT ignored, and an ignored
    SIGINT stays ignored across exec, so the child would never see the test's Ctrl-C)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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


def tiny_config(run_dir: Path, *overrides: str) -> DictConfig:
    """The composed config shrunk by `TINY` plus ``overrides``, writing into ``run_dir``."""
    return compose_config(run_dir, [*TINY, *overrides])


def read_column(path: Path, key: str) -> list[float]:
    """The logged values of ``key`` in a CSV logger's metrics.csv, in order (rows without it skipped)."""
    with path.open() as file:
        return [float(row[key]) for row in csv.DictReader(file) if row.get(key)]


def photo_folder(folder: Path, count: int = 12) -> Path:
    """``count`` random 48×40 color PNG photos in ``folder`` (created), the same ones every call."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(folder / f"p{index}.png")
    return folder
