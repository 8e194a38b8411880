"""Build the run's objects from a composed config and fit them (the logic behind `colorgan.train`)."""

from __future__ import annotations

import json
import logging
import math
import time
import warnings
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from colorgan.stages import load_init_weights, train_two_stage, with_init_from

log = logging.getLogger("colorgan.train")
# by design: batches are split into luma/chroma in the module's on_after_batch_transfer, not the datamodule
warnings.filterwarnings("ignore", message=".*overridden `on_after_batch_transfer`.*")


def instantiate_group(group: DictConfig | None) -> list[Any]:
    """Instantiate every `_target_` entry of a config group (callbacks, loggers); null entries are off."""
    if not group:
        return []
    return [instantiate(entry) for entry in group.values() if entry and "_target_" in entry]


def build_model(cfg: DictConfig, load_init: bool = True) -> pl.LightningModule:
    """The LightningModule from `cfg.model`, with plain-data (checkpoint-safe) arguments.

    Stage 2 (`model.init_from`) takes its generator from a stage-1 checkpoint (see `colorgan.stages`).
    """
    cfg = with_init_from(cfg)
    model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
    model = instantiate(model_cfg, _recursive_=False, _convert_="all")  # plain data in the checkpoint
    if load_init:
        load_init_weights(model, cfg)
    return model


def last_checkpoint(run_dir: Path) -> Path | None:
    path = run_dir / "checkpoints" / "last.ckpt"
    return path if path.is_file() else None


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def summarize(trainer: pl.Trainer, elapsed_s: float) -> dict[str, Any]:
    """Final and best metrics of a fit, as plain JSON data."""
    best = trainer.checkpoint_callback
    metrics = {key: _float(value) for key, value in trainer.callback_metrics.items()}
    return {
        "global_step": trainer.global_step,
        "epochs": trainer.current_epoch,
        "elapsed_s": round(elapsed_s, 1),
        "interrupted": bool(trainer.interrupted),
        "best_checkpoint": str(best.best_model_path) if best and best.best_model_path else None,
        "best_score": _float(best.best_model_score) if best and best.best_model_score is not None else None,
        "monitor": best.monitor if best else None,
        "final": {key: value for key, value in sorted(metrics.items()) if value is not None},
    }


def finish_loggers(loggers: list[Any]) -> None:
    """Close wandb runs so each run of a multirun sweep is its own wandb run."""
    for logger in loggers:
        if type(logger).__name__ == "WandbLogger":
            import wandb

            wandb.finish()


def train(cfg: DictConfig) -> dict[str, Any]:
    """Seed, instantiate data/model/callbacks/loggers/trainer, fit, write metrics.json, return the summary."""
    if cfg.get("two_stage"):
        return train_two_stage(cfg, train)
    cfg = with_init_from(cfg)
    run_dir = Path(cfg.paths.output_dir)
    torch.set_float32_matmul_precision(cfg.matmul_precision)
    pl.seed_everything(cfg.seed, workers=True)

    ckpt_path = last_checkpoint(run_dir) if cfg.get("resume") else None
    datamodule = instantiate(cfg.data)
    model = build_model(cfg, load_init=ckpt_path is None)
    callbacks = instantiate_group(cfg.get("callbacks"))
    loggers = instantiate_group(cfg.get("logger"))
    trainer: pl.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)

    if ckpt_path:
        log.info("resuming from %s", ckpt_path)
    started = time.perf_counter()
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
    finally:
        finish_loggers(loggers)
    summary = summarize(trainer, time.perf_counter() - started)
    if trainer.is_global_zero:
        (run_dir / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
