"""Stage 2 starts from a stage-1 checkpoint; `experiment=two_stage` runs both stages into one run directory.

- `with_init_from(cfg)`: ``model.init_from`` (a run directory or a .ckpt) resolved to one checkpoint, whose
  color space, encoder and generator config replace the composed ones. A color space or encoder given on
  the command line that differs from the checkpoint's is a `UserError`, never a silent mix.
- `load_init_weights(model, cfg)`: copy that checkpoint's generator weights into the new model.
- `train_two_stage(cfg, train_stage)`: RUN_DIR/stage1 (``model``: stage 1) then RUN_DIR/stage2
  (``two_stage.model``: the ``model=gan`` config), stage 2 initialized from stage 1's best checkpoint.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict
from pytorch_lightning.utilities.rank_zero import rank_zero_only
from torch import nn

from colorgan.checkpoints import read_checkpoint, resolve_checkpoint
from colorgan.errors import UserError

log = logging.getLogger("colorgan.stages")

# command-line keys that choose the color space / the encoder
COLORSPACE_KEYS = {"colorspace", "colorspace.name", "model.colorspace"}
ENCODER_KEYS = {"encoder", "encoder.name", "model.generator.encoder", "model.generator.encoder.name"}


# ---- stage 2 from a stage-1 checkpoint -------------------------------------------------------------
def command_line_keys() -> set[str] | None:
    """The keys the user set on the command line, or None outside Hydra (then every value counts as set)."""
    try:
        from hydra.core.hydra_config import HydraConfig

        overrides = HydraConfig.get().overrides.task
    except (ImportError, ValueError):
        return None
    return {override.split("=", 1)[0].lstrip("+~") for override in overrides}


def _check_matches(cfg: DictConfig, record: dict[str, Any], path: Path) -> None:
    explicit = command_line_keys()
    wanted = {
        "color space": (COLORSPACE_KEYS, "model.colorspace", record["colorspace"], "colorspace"),
        "encoder": (
            ENCODER_KEYS,
            "model.generator.encoder.name",
            record["generator"]["encoder"]["name"],
            "encoder",
        ),
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


def with_init_from(cfg: DictConfig) -> DictConfig:
    """``cfg`` with model.init_from resolved to a .ckpt and generator/color space/encoder read from it."""
    init_from = OmegaConf.select(cfg, "model.init_from")
    if not init_from:
        return cfg
    path = resolve_checkpoint(init_from).resolve()
    record, _ = read_checkpoint(path)
    _check_matches(cfg, record, path)
    encoder = {**record["generator"]["encoder"], "weights": "none"}  # the checkpoint holds the weights
    cfg = copy.deepcopy(cfg)
    with open_dict(cfg):
        cfg.colorspace.name = record["colorspace"]
        cfg.encoder = encoder
        cfg.model.colorspace = record["colorspace"]
        cfg.model.generator = {**record["generator"], "encoder": encoder}
        cfg.model.init_from = str(path)
    return cfg


def load_init_weights(model: nn.Module, cfg: DictConfig) -> None:
    """Copy the generator weights of ``model.init_from`` (already resolved by `with_init_from`)."""
    init_from = OmegaConf.select(cfg, "model.init_from")
    if not init_from:
        return
    record, state = read_checkpoint(init_from)
    try:
        model.generator.load_state_dict(state)
    except RuntimeError as error:
        raise UserError(
            f"model.init_from={init_from}: its generator does not fit this model: {error}"
        ) from None
    log.info("generator from %s (%s, stage %s)", init_from, record["colorspace"], record.get("stage"))


# ---- both stages in one command ----------------------------------------------------------------------
def stage_config(
    cfg: DictConfig, stage_dir: Path, model: DictConfig, trainer: DictConfig | None
) -> DictConfig:
    """One stage's plain config: its own output dir, model and (non-null) trainer changes; no `two_stage`."""
    stage = copy.deepcopy(cfg)
    with open_dict(stage):
        stage.run_name = f"{cfg.run_name}-{stage_dir.name}"
        stage.paths.output_dir = str(stage_dir)
        stage.model = model
        changes = {key: value for key, value in (trainer or {}).items() if value is not None}
        stage.trainer = OmegaConf.merge(stage.trainer, changes)
        del stage["two_stage"]
    if rank_zero_only.rank == 0:  # `resume=RUN_DIR/stageN` resumes one stage with this config
        saved = {key: value for key, value in stage.items() if key != "hydra"}
        (stage_dir / ".hydra").mkdir(parents=True, exist_ok=True)
        OmegaConf.save(OmegaConf.create(saved), stage_dir / ".hydra" / "config.yaml")
    return stage


def train_two_stage(cfg: DictConfig, train_stage: Callable[[DictConfig], dict[str, Any]]) -> dict[str, Any]:
    """Stage 1 into RUN_DIR/stage1, then stage 2 from its best checkpoint into RUN_DIR/stage2."""
    if cfg.get("resume"):
        raise UserError(
            "a two-stage run resumes stage by stage: resume=RUN_DIR/stage1 or resume=RUN_DIR/stage2"
        )
    run_dir = Path(cfg.paths.output_dir)
    first = train_stage(stage_config(cfg, run_dir / "stage1", cfg.model, None))
    init_from = first["best_checkpoint"] or str(run_dir / "stage1" / "checkpoints" / "last.ckpt")
    second_model = copy.deepcopy(cfg.two_stage.model)
    with open_dict(second_model):
        second_model.init_from = init_from
    second = train_stage(stage_config(cfg, run_dir / "stage2", second_model, cfg.two_stage.get("trainer")))
    summary = {**second, "stages": {"stage1": first, "stage2": second}}
    if rank_zero_only.rank == 0:
        (run_dir / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
