"""What a training run builds, decided in one place and handed down once: `build_run(cfg) -> Run`.

In order, before anything big is allocated:

1. the config is checked (a trainer that trains nothing, a GPU trainer without a GPU, non-numeric
   learning rates);
2. ``model.init_from`` (stage 2 from a stage-1 run) is resolved to one checkpoint, read once (safely),
   its weights checked against its record, its color space and encoder checked against what the user set
   on the command line; the generator config, color space and encoder then come from it;
3. a resumed run (``resume=RUN``) gets a checkpoint that loads (``last.ckpt``, else the newest good
   ``best-*.ckpt``, with a warning), leftover temporary files of killed saves removed;
4. data module, model (with the init weights), callbacks, loggers and trainer are instantiated.
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict
from torch import Tensor

from colorgan.atomic import remove_stale_temporaries
from colorgan.checkpoints import (
    CheckpointError,
    best_checkpoints,
    check_weights_fit,
    load_safely,
    read_checkpoint,
    resolve_checkpoint,
)
from colorgan.config import override_key
from colorgan.data import build_datamodule
from colorgan.errors import UserError, first_line
from colorgan.modules.callbacks import AtomicCheckpointIO

log = logging.getLogger(__name__)

# command-line keys that choose the color space / the encoder
COLORSPACE_KEYS = {"colorspace", "colorspace.name", "model.colorspace"}
ENCODER_KEYS = {"encoder", "encoder.name", "model.generator.encoder", "model.generator.encoder.name"}
OPTIMIZERS = ("optimizer", "g_optimizer", "d_optimizer")


@dataclass
class InitWeights:
    """The stage-1 checkpoint a model starts from (``model.init_from``)."""

    path: Path
    record: dict[str, Any]
    weights: dict[str, Tensor]


@dataclass
class Run:
    """Everything one training run needs, built once."""

    cfg: DictConfig
    run_dir: Path
    datamodule: pl.LightningDataModule
    model: pl.LightningModule
    callbacks: list[Any]
    loggers: list[Any]
    trainer: pl.Trainer
    ckpt_path: Path | None = None
    resumed_step: int | None = None


# ---- checks ------------------------------------------------------------------------------------------
def check_config(cfg: DictConfig) -> None:
    """Refuse, in one line, configs that would train nothing or fail deep inside Lightning or torch."""
    check_trainer(cfg)
    check_model(cfg)


def check_trainer(cfg: DictConfig) -> None:
    """A trainer that trains something, on a device that exists."""
    for key in ("max_epochs", "max_steps"):
        if OmegaConf.select(cfg, f"trainer.{key}") == 0 and not OmegaConf.select(cfg, "trainer.fast_dev_run"):
            raise UserError(f"trainer.{key}=0 trains nothing and writes no checkpoint: give a positive "
                            "number")
    accelerator = str(OmegaConf.select(cfg, "trainer.accelerator") or "").lower()
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise UserError(
            f"trainer.accelerator={accelerator} but no CUDA GPU is visible to this process: use trainer=cpu, "
            "or check the driver and CUDA_VISIBLE_DEVICES"
        )


def check_model(cfg: DictConfig) -> None:
    """Numbers where the optimizers need numbers."""
    for name in OPTIMIZERS:
        for setting in ("lr", "weight_decay"):
            value = OmegaConf.select(cfg, f"model.{name}.{setting}", default=None)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise UserError(f"model.{name}.{setting} must be a number, got {value!r}")


def command_line_keys() -> set[str] | None:
    """The keys the user set on the command line, or None outside Hydra (then every value counts as set)."""
    try:
        from hydra.core.hydra_config import HydraConfig

        overrides = HydraConfig.get().overrides.task
    except (ImportError, ValueError):
        return None
    return {override_key(override) for override in overrides}


def _check_matches(cfg: DictConfig, record: dict[str, Any], path: Path) -> None:
    explicit = command_line_keys()
    wanted = {
        "color space": (COLORSPACE_KEYS, "model.colorspace", record["colorspace"], "colorspace"),
        "encoder": (ENCODER_KEYS, "model.generator.encoder.name", record["generator"]["encoder"]["name"],
                    "encoder"),
    }
    for what, (keys, config_key, saved, option) in wanted.items():
        if explicit is not None and not keys & explicit:
            continue  # not chosen by the user: the checkpoint's is used
        asked = OmegaConf.select(cfg, config_key, throw_on_missing=False)
        if asked is not None and str(asked) != str(saved):
            raise UserError(
                f"model.init_from={path} was trained with {what} {saved!r}, but {asked!r} was asked for; "
                f"stage 2 keeps the stage-1 {what}: drop the {option} override or set {option}={saved}"
            )


# ---- stage 2 from a stage-1 checkpoint -------------------------------------------------------------
def resolve_init_from(cfg: DictConfig) -> tuple[DictConfig, InitWeights | None]:
    """``cfg`` with model.init_from resolved to one .ckpt whose generator/color space/encoder replace the
    composed ones, and that checkpoint's weights (read once, checked against its record); (cfg, None)
    without init_from."""
    init_from = OmegaConf.select(cfg, "model.init_from")
    if not init_from:
        return cfg, None
    try:
        path = resolve_checkpoint(init_from).resolve()
        record, weights = read_checkpoint(path)
        check_weights_fit(record, weights)
    except CheckpointError as error:
        raise CheckpointError(f"model.init_from: {error}") from error
    _check_matches(cfg, record, path)
    encoder = {**record["generator"]["encoder"], "weights": "none"}  # the checkpoint holds the weights
    cfg = copy.deepcopy(cfg)
    with open_dict(cfg):
        cfg.colorspace.name = record["colorspace"]
        cfg.encoder = encoder
        cfg.model.colorspace = record["colorspace"]
        cfg.model.generator = {**record["generator"], "encoder": encoder}
        cfg.model.init_from = str(path)
        if record.get("hints") and not OmegaConf.select(cfg, "model.hints.enabled"):
            cfg.model.hints = record["hints"]  # a hint model's hint input is kept in the next stage
    return cfg, InitWeights(path, record, weights)


def _instantiate_model(cfg: DictConfig, init: InitWeights | None) -> pl.LightningModule:
    model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
    model = instantiate(model_cfg, _recursive_=False, _convert_="all")  # plain data in the checkpoint
    if init is not None:
        try:
            # a hint model from a hint-free run: its hint inputs are added as zero filters
            model.generator.load_state_dict(model.generator.adapt_state_dict(init.weights))
        except RuntimeError as error:
            raise UserError(f"model.init_from={init.path}: its generator does not fit this model: "
                            f"{first_line(error)}") from None
        log.info("generator from %s (%s, stage %s)", init.path, init.record["colorspace"],
                 init.record.get("stage"))
    return model


def build_model(cfg: DictConfig, load_init: bool = True) -> pl.LightningModule:
    """The LightningModule from `cfg.model` (plain-data arguments); with ``model.init_from``, its generator
    (architecture, color space, encoder and, if ``load_init``, weights) from that stage-1 checkpoint."""
    check_model(cfg)
    cfg, init = resolve_init_from(cfg)
    return _instantiate_model(cfg, init if load_init else None)


def instantiate_group(group: DictConfig | None) -> list[Any]:
    """Instantiate every `_target_` entry of a config group (callbacks, loggers); null entries are off."""
    if not group:
        return []
    return [instantiate(entry) for entry in group.values() if entry and "_target_" in entry]


# ---- resume ------------------------------------------------------------------------------------------
def resume_checkpoint(run_dir: Path) -> tuple[Path, int]:
    """(checkpoint to resume from, its global step): ``last.ckpt`` if it loads safely, else the newest
    ``best-*.ckpt`` that does (with a warning), else a CheckpointError naming what was wrong."""
    folder = run_dir / "checkpoints"
    remove_stale_temporaries(folder)
    candidates = [folder / "last.ckpt", *best_checkpoints(folder)]
    problems: list[str] = []
    for path in candidates:
        if not path.is_file():
            continue
        try:
            checkpoint = load_safely(path, mmap=True)
            if "loops" not in checkpoint or "state_dict" not in checkpoint:
                raise CheckpointError(f"{path} holds no training state (not written by training)")
        except CheckpointError as error:
            problems.append(str(error))
            log.warning("resume: %s", error)
            continue
        if problems:
            log.warning("resume: continuing from %s instead (later steps are trained again)", path.name)
        return path, int(checkpoint.get("global_step", 0))
    if problems:
        raise CheckpointError(f"resume={run_dir}: no checkpoint in {folder} can be used: {problems[0]}")
    raise UserError(f"resume={run_dir}: no checkpoints/last.ckpt yet, nothing to resume from")


# ---- the run -----------------------------------------------------------------------------------------
def _root_cause(error: BaseException) -> BaseException:
    while error.__cause__ is not None:
        error = error.__cause__
    return error


def build_trainer(cfg: DictConfig, callbacks: list[Any], loggers: list[Any]) -> pl.Trainer:
    """The Trainer of `cfg.trainer` with atomic, weights-only checkpoint IO; Lightning's refusals
    (e.g. more devices than exist) as one-line UserErrors."""
    from lightning_fabric.utilities.exceptions import MisconfigurationException

    try:
        return instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False,
                           plugins=[AtomicCheckpointIO()])
    except InstantiationException as error:
        cause = _root_cause(error)
        if isinstance(cause, MisconfigurationException | ValueError):
            raise UserError(f"trainer: {first_line(cause)}") from error
        raise


def fit_length(cfg: DictConfig, datamodule: Any) -> DictConfig:
    """The run's length fitted to the data: with no ``trainer.max_steps``, ``trainer.max_epochs`` is raised
    until the run has at least ``min_steps`` optimizer steps (a small photo folder's 20 epochs are only a
    few dozen steps), and validation then runs every few epochs, as many times as the given epochs would
    have (when ``trainer.check_val_every_n_epoch`` is 1, the default). Data of unknown length (streaming) and
    max_epochs=-1 are left alone."""
    min_steps = int(cfg.get("min_steps") or 0)
    epochs = OmegaConf.select(cfg, "trainer.max_epochs")
    if min_steps <= 0 or OmegaConf.select(cfg, "trainer.max_steps") not in (None, -1) or epochs in (None, -1):
        return cfg
    datamodule.setup("fit")
    try:
        per_epoch = len(datamodule.train_dataloader())
    except TypeError:  # an iterable dataset: no length
        return cfg
    devices = OmegaConf.select(cfg, "trainer.devices")
    per_epoch //= devices if isinstance(devices, int) and devices > 1 else 1
    per_epoch //= int(OmegaConf.select(cfg, "trainer.accumulate_grad_batches") or 1)
    needed = math.ceil(min_steps / max(1, per_epoch))
    if needed <= epochs:
        return cfg
    log.info("%d epochs of %d steps are %d steps, under min_steps=%d: training %d epochs (set "
             "trainer.max_steps or min_steps=0 to choose yourself)", epochs, per_epoch, epochs * per_epoch,
             min_steps, needed)
    cfg = copy.deepcopy(cfg)
    with open_dict(cfg):
        cfg.trainer.max_epochs = needed
        if OmegaConf.select(cfg, "trainer.check_val_every_n_epoch") in (None, 1):
            cfg.trainer.check_val_every_n_epoch = math.ceil(needed / epochs)
    return cfg


def build_run(cfg: DictConfig) -> Run:
    """Check, resolve (init_from, resume) and instantiate everything one run needs."""
    check_config(cfg)
    cfg, init = resolve_init_from(cfg)
    run_dir = Path(cfg.paths.output_dir)
    ckpt_path, resumed_step = resume_checkpoint(run_dir) if cfg.get("resume") else (None, None)
    if ckpt_path is None and (run_dir / "checkpoints").is_dir():
        remove_stale_temporaries(run_dir / "checkpoints")
    torch.set_float32_matmul_precision(cfg.matmul_precision)
    pl.seed_everything(cfg.seed, workers=True)

    datamodule = build_datamodule(cfg.data)
    cfg = fit_length(cfg, datamodule)
    model = _instantiate_model(cfg, None if ckpt_path else init)  # a resumed run has its own weights
    callbacks = instantiate_group(cfg.get("callbacks"))
    loggers = instantiate_group(cfg.get("logger"))
    trainer = build_trainer(cfg, callbacks, loggers)
    return Run(cfg, run_dir, datamodule, model, callbacks, loggers, trainer, ckpt_path, resumed_step)
